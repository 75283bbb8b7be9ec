"""Runs `MLG_RUN run FILE --random-inputs` on every program in a folder and
prints "NAME: exit STATUS: FIRST LINE OF STDERR" for each, sorted by name,
or "NAME: CRASHED (signal N)" for a run killed by a signal: for the tests of
broken programs, which must each exit 1 with a message.
"""
import os
import subprocess


def run_each(mlg_run, folder, timeout=120):
    for name in sorted(os.listdir(folder)):
        r = subprocess.run([mlg_run, "run", os.path.join(folder, name), "--random-inputs"],
                           capture_output=True, text=True, timeout=timeout)
        if r.returncode < 0:
            print(f"{name}: CRASHED (signal {-r.returncode})")
        else:
            first = (r.stderr.splitlines() or [""])[0].replace(folder + "/", "")
            print(f"{name}: exit {r.returncode}: {first}")
