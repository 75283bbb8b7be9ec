#!/usr/bin/env python3
"""Writes broken variants of a program with streams, events and a host
pool, and runs mlg-run on each: the loader must refuse every one with a
message (exit 1), never crash or run it.

  bad_stream_programs.py GOOD.mlgp PROTO_DIR OUT_DIR MLG_RUN

Prints "NAME: exit STATUS: FIRST LINE OF STDERR" per variant, or
"NAME: CRASHED".
"""
import os
import struct
import subprocess
import sys
import tempfile
import zlib


def main():
    good, proto_dir, out, mlg_run = sys.argv[1:5]
    gen = tempfile.mkdtemp()
    subprocess.run(["protoc", f"--proto_path={proto_dir}", f"--python_out={gen}",
                    os.path.join(proto_dir, "program.proto")], check=True)
    sys.path.insert(0, gen)
    import program_pb2  # noqa: E402

    data = open(good, "rb").read()
    version = struct.unpack("<I", data[8:12])[0]
    base = program_pb2.Program()
    base.ParseFromString(data[24:])
    kernels = [s.kernel for s in base.steps]
    relu, offload, prefetch = (kernels.index(k) for k in ("relu", "offload", "prefetch"))
    host = base.steps[offload].outputs[0]

    def variant(name, edit):
        p = program_pb2.Program()
        p.CopyFrom(base)
        edit(p)
        payload = p.SerializeToString()
        with open(os.path.join(out, name + ".mlgp"), "wb") as f:
            f.write(b"MLGPROG\n" + struct.pack("<IIQ", version, zlib.crc32(payload),
                                               len(payload)) + payload)

    os.makedirs(out, exist_ok=True)
    variant("compute-reads-host", lambda p: p.steps[relu].outputs.__setitem__(0, host))
    variant("offload-backwards", lambda p: (
        p.steps[offload].inputs.__setitem__(0, host),
        p.steps[offload].outputs.__setitem__(0, base.steps[relu].inputs[0])))
    variant("prefetch-from-arena", lambda p: p.steps[prefetch].inputs.__setitem__(
        0, base.steps[relu].inputs[0]))
    variant("wait-before-record", lambda p: p.steps[relu].wait_events.append(1))
    variant("host-outside-pool", lambda p: setattr(p.tensors[host], "host_offset", 8))
    variant("output-in-host-pool", lambda p: setattr(p.outputs[0], "tensor", host))
    variant("huge-host-pool", lambda p: setattr(p, "host_bytes", 1 << 60))
    variant("missing-event", lambda p: p.steps[prefetch].wait_events.append(7))

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "Inputs"))
    from run_programs import run_each  # noqa: E402
    run_each(mlg_run, out)


if __name__ == "__main__":
    main()
