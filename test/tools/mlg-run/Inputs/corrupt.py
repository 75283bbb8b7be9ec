#!/usr/bin/env python3
"""Writes damaged copies of a .mlgp program, for mlg-run's error tests.

  corrupt.py PROGRAM.mlgp OUT_DIR [MLG_RUN]

Writes into OUT_DIR: truncated.mlgp (the first half), short-header.mlgp (12
bytes), flipped-*.mlgp (one bit flipped at 16 positions spread over the
payload and one in the version field), extended.mlgp (the program twice),
huge-arena.mlgp (arena_bytes set to 2^60, with a header made valid again, so
that only the loader's memory check stands between it and the allocation).
With MLG_RUN, runs `MLG_RUN run FILE --random-inputs` on each and prints
"NAME: exit STATUS: FIRST LINE OF STDERR", sorted by name; a run that is
killed by a signal prints "NAME: CRASHED".
"""
import os
import struct
import sys
import zlib


def header(payload, version=2):
    return b"MLGPROG\n" + struct.pack("<IIQ", version, zlib.crc32(payload), len(payload))


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def main():
    src, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    data = open(src, "rb").read()
    payload = data[24:]

    def write(name, blob):
        with open(os.path.join(out, name), "wb") as f:
            f.write(blob)

    write("truncated.mlgp", data[: len(data) // 2])
    write("short-header.mlgp", data[:12])
    for i in range(16):
        d = bytearray(data)
        d[24 + i * (len(payload) - 1) // 15] ^= 1 << (i % 8)
        write(f"flipped-{i}.mlgp", bytes(d))
    d = bytearray(data)
    d[8] ^= 0x40
    write("flipped-version.mlgp", bytes(d))
    write("extended.mlgp", data + data)
    # arena_bytes is field 2 (varint) of mlg.program.Program; a later
    # occurrence of a field overrides an earlier one in protobuf.
    big = payload + bytes([2 << 3 | 0]) + varint(1 << 60)
    write("huge-arena.mlgp", header(big) + big)

    if len(sys.argv) > 3:
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "Inputs"))
        from run_programs import run_each  # noqa: E402
        run_each(sys.argv[3], out)


if __name__ == "__main__":
    main()
