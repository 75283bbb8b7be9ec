#!/usr/bin/env python3
"""Prints every field of a .mlgp program, decoded independently of mlg.

  dump_program.py PROGRAM.mlgp PROTO_DIR

Compiles runtime/proto/program.proto with protoc into a Python module (in a
temporary folder), checks the file's header (magic, version, size, zlib's
CRC-32) by hand, decodes the message with Python's protobuf and prints it
field by field, one per line, for FileCheck.
"""
import os
import struct
import subprocess
import sys
import tempfile
import zlib


def main():
    path, proto_dir = sys.argv[1], sys.argv[2]
    out = tempfile.mkdtemp()
    subprocess.run(["protoc", f"--proto_path={proto_dir}", f"--python_out={out}",
                    os.path.join(proto_dir, "program.proto")], check=True)
    sys.path.insert(0, out)
    import program_pb2  # noqa: E402

    data = open(path, "rb").read()
    assert data[:8] == b"MLGPROG\n", "bad magic"
    version, crc, size = struct.unpack("<IIQ", data[8:24])
    payload = data[24:]
    assert size == len(payload), f"header says {size} payload bytes, file has {len(payload)}"
    assert crc == zlib.crc32(payload), "checksum mismatch"
    print(f"version {version}")
    p = program_pb2.Program()
    p.ParseFromString(payload)
    dtype = program_pb2.DataType.Name
    print(f"program {p.name} arena {p.arena_bytes} host {p.host_bytes} budget {p.memory_budget} streams {p.num_streams} "
          f"events {p.num_events} producer {p.producer} source {os.path.basename(p.source)}")
    for i, t in enumerate(p.tensors):
        where = t.WhichOneof("storage")
        print(f"tensor {i} {dtype(t.dtype)} {list(t.shape)} {where} {getattr(t, where)}")
    for i, q in enumerate(p.persistents):
        kind = program_pb2.Persistent.Kind.Name(q.kind)
        init = program_pb2.Persistent.Init.Name(q.init)
        print(f"persistent {i} {q.name} {kind} {dtype(q.dtype)} {list(q.shape)} {init}")
    for i, c in enumerate(p.constants):
        print(f"constant {i} {dtype(c.dtype)} {list(c.shape)} splat {c.splat} "
              f"data {c.data.hex()}")
    for s in p.steps:
        attrs = []
        for a in s.attributes:
            kind = a.WhichOneof("value")
            value = getattr(a, kind)
            if kind in ("ints", "floats"):
                value = list(value.values)
            attrs.append(f"{a.name}={value}")
        ws = f" workspace {s.workspace_offset}+{s.workspace_bytes}" if s.has_workspace else ""
        print(f"step {s.kernel} in {list(s.inputs)} out {list(s.outputs)} "
              f"stream {s.stream} wait {list(s.wait_events)} record {s.record_event}"
              f"{ws} name {s.name} release {list(s.release)} attrs {' '.join(attrs)}")
    for b in p.inputs:
        print(f"input {b.name} tensor {b.tensor}")
    for b in p.outputs:
        print(f"output {b.name} tensor {b.tensor}")


if __name__ == "__main__":
    main()
