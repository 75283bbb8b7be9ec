#!/usr/bin/env python3
"""Checks that `mlg-run train` lowered the loss.

  check_loss.py LOG RATIO

LOG is mlg-run train's output; its summary line "loss: first A, final B (...)"
gives the mean loss of the first and the last steps. Succeeds, printing
"loss fell", if B < RATIO * A and every loss is finite; fails otherwise.
"""
import math
import re
import sys

text = open(sys.argv[1]).read()
ratio = float(sys.argv[2])
m = re.search(r"^loss: first ([-0-9.e+naninf]+), final ([-0-9.e+naninf]+)", text, re.M)
if not m:
    sys.exit("no 'loss: first A, final B' line in the log")
first, final = float(m.group(1)), float(m.group(2))
if not (math.isfinite(first) and math.isfinite(final)):
    sys.exit(f"the loss is not finite: first {first}, final {final}")
if not final < ratio * first:
    sys.exit(f"the loss did not fall enough: first {first}, final {final} "
             f"(needs final < {ratio} * first)")
print(f"loss fell: first {first:.4f}, final {final:.4f} (< {ratio} x first)")
