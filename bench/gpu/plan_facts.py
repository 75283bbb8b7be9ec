#!/usr/bin/env python3
"""The facts of a memory report that the GPU benchmark prints beside its
measurements: planned peak (arena plus parameters, optimizer state and
constants), LOAD and, where -mlg-recompute ran, its policy, recomputed ops
and predicted overhead. Reads the report (JSON) and prints a small JSON
object, so that a GPU bundle carries kilobytes instead of the report.

  plan_facts.py REPORT.json
"""
import json
import sys

fn = json.load(open(sys.argv[1]))["functions"][0]
facts = {"peak_bytes": (fn["arena_bytes"] or fn["load_bytes"]) + fn["parameter_bytes"]
         + fn["constant_bytes"],
         "load_bytes": fn["load_bytes"], "steps": fn["steps"]}
r = fn.get("recompute")
if r:
    facts.update({k: r[k] for k in ("policy", "cloned", "saved_bytes", "extra_flops",
                                    "extra_seconds", "step_seconds", "predicted_overhead",
                                    "device") if k in r})
print(json.dumps(facts))
