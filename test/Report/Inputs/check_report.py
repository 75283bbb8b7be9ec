#!/usr/bin/env python3
"""Checks a memory report (JSON) against itself, independently of mlg's code.

  check_report.py REPORT.json

For each function: recomputes live bytes per step from the buffers' intervals
and checks live_bytes, load_bytes, peak_step and peak_bytes; checks that every
tensor lies in its buffer's interval, that the arena is at least LOAD, that
no two buffers live at a common step overlap in the arena, and that
largest_at_peak lists buffers live at the peak, largest first. Prints one
summary line per function and the sorted field names.
"""
import json
import sys


def check(fn):
    problems = []
    steps = fn["steps"]
    live = [0] * steps
    for b in fn["buffers"]:
        for s in range(b["start"], b["end"] + 1):
            live[s] += b["bytes"]
    if live != fn["live_bytes"]:
        problems.append("live_bytes differ from the buffers' intervals")
    if max(live, default=0) != fn["load_bytes"]:
        problems.append(f"LOAD {fn['load_bytes']} but the intervals peak at {max(live)}")
    if live and live.index(max(live)) != fn["peak_step"]:
        problems.append("peak_step is not the first step at LOAD")
    arena = fn["arena_bytes"]
    if arena is not None:
        if arena < fn["load_bytes"]:
            problems.append("arena below LOAD")
        expected_peak = arena + fn["parameter_bytes"] + fn["constant_bytes"]
        if fn["peak_bytes"] != expected_peak:
            problems.append("peak_bytes is not arena + parameters + constants")
        bufs = [b for b in fn["buffers"] if b["bytes"]]
        for i, a in enumerate(bufs):
            if "offset" not in a or a["offset"] + a["bytes"] > arena:
                problems.append(f"buffer {a['id']} has no offset or leaves the arena")
                continue
            for b in bufs[i + 1:]:
                time = a["start"] <= b["end"] and b["start"] <= a["end"]
                mem = a["offset"] < b.get("offset", -10**18) + b["bytes"] and \
                    b.get("offset", -10**18) < a["offset"] + a["bytes"]
                if time and mem:
                    problems.append(f"buffers {a['id']} and {b['id']} overlap")
    byid = {b["id"]: b for b in fn["buffers"]}
    for t in fn["tensors"]:
        if "buffer" in t:
            b = byid[t["buffer"]]
            if not (b["start"] <= t["start"] and t["end"] <= b["end"]):
                problems.append(f"tensor {t['id']} outside its buffer's interval")
            if t["id"] not in b["values"] and not b.get("workspace_of"):
                problems.append(f"tensor {t['id']} missing from its buffer's values")
    sizes = [e["bytes"] for e in fn["largest_at_peak"]]
    if sizes != sorted(sizes, reverse=True):
        problems.append("largest_at_peak is not largest first")
    for e in fn["largest_at_peak"]:
        if not (e["start"] <= fn["peak_step"] <= e["end"]):
            problems.append(f"{e['name']} is not live at the peak")
    return problems


def main():
    report = json.load(open(sys.argv[1]))
    assert report["version"] == 1
    failed = False
    for fn in report["functions"]:
        problems = check(fn)
        failed |= bool(problems)
        print(f"function {fn['name']}: LOAD matches the intervals, arena >= LOAD, "
              f"no overlap, {len(problems)} problems")
        for p in problems:
            print("  PROBLEM " + p)
        print("fields: " + " ".join(sorted(fn)))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
