#!/usr/bin/env python3
"""Runs a command that must fail cleanly on bad input, for lit tests.

  expect_error.py CMD [ARGS...]

Succeeds only if the command exits with status 1 (not a signal, not another
code), printed an "error:" diagnostic, and did not create or change its
output file (the argument after -o, if any). Prints the command's standard
error to standard output, for FileCheck.
"""
import hashlib
import os
import subprocess
import sys


def digest(path):
    if not os.path.exists(path):
        return None
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def main():
    cmd = sys.argv[1:]
    out = cmd[cmd.index("-o") + 1] if "-o" in cmd[:-1] else None
    before = digest(out) if out else None
    leftovers_before = set(os.listdir(os.path.dirname(os.path.abspath(out)))) if out else set()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    sys.stdout.write(p.stderr)
    problems = []
    if p.returncode != 1:
        problems.append(f"exit status {p.returncode}, expected 1")
    if "error:" not in p.stderr:
        problems.append("no 'error:' diagnostic")
    if out:
        if digest(out) != before:
            problems.append(f"the output file {out} was created or changed")
        new = set(os.listdir(os.path.dirname(os.path.abspath(out)))) - leftovers_before
        if new:
            problems.append(f"files were left behind: {sorted(new)}")
    for line in problems:
        print("EXPECT-ERROR FAILED: " + line)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
