#!/usr/bin/env python3
"""Lowers the eight benchmark models to .mlgp programs and reads them back.

  models_round_trip.py MLG_OPT MLG_TRANSLATE MODELS_DIR PROTO_DIR WORK_DIR

For each model (eval export, the foundation issue's shape flags): plan and
lower (--mlg-lower-pipeline), write the program, decode it with Python's
protobuf (independently of mlg) and check its fields against the lowered
MLIR (arena size, step kernels in order, input and output names, tensor
count), then read it back to MLIR and write it again: the bytes must match.
A model's files (WORK_DIR/NAME.*) are removed once it round-trips and kept,
named, if not.
"""
import os
import re
import subprocess
import sys

MODELS = [("resnet18", ["--batch-size=128"]), ("resnet50", ["--batch-size=128"]),
          ("vgg16", ["--batch-size=128"]), ("mobilenet_v2", ["--batch-size=128"]),
          ("densenet121", ["--batch-size=128"]), ("inception_v3", ["--batch-size=128"]),
          ("lstm", ["--input-shape=input:1000x64"]),
          ("bert_encoder", ["--input-shape=input:32x512"])]


def main():
    opt, translate, models, proto_dir, work = sys.argv[1:6]
    os.makedirs(work, exist_ok=True)
    subprocess.run(["protoc", f"--proto_path={proto_dir}", f"--python_out={work}",
                    os.path.join(proto_dir, "program.proto")], check=True)
    sys.path.insert(0, work)
    import program_pb2  # noqa: E402

    failed = 0
    for name, flags in MODELS:
        rt = os.path.join(work, name + ".rt.mlir")
        a = os.path.join(work, name + ".mlgp")
        back = os.path.join(work, name + ".back.mlir")
        b = os.path.join(work, name + ".again.mlgp")
        subprocess.run([opt, os.path.join(models, name + ".onnx"), *flags,
                        "--mlg-lower-pipeline", "-o", rt], check=True)
        subprocess.run([translate, "--mlg-to-program", rt, "-o", a], check=True)
        subprocess.run([translate, "--mlg-program-to-mlir", a, "-o", back], check=True)
        subprocess.run([translate, "--mlg-to-program", back, "-o", b], check=True)
        text = open(rt).read()
        data = open(a, "rb").read()
        p = program_pb2.Program()
        p.ParseFromString(data[24:])
        problems = []
        if data[:8] != b"MLGPROG\n":
            problems.append("bad magic")
        if open(b, "rb").read() != data:
            problems.append("writing what was read back gives other bytes")
        arena = int(re.search(r"arena_size = (\d+)", text).group(1))
        if p.arena_bytes != arena:
            problems.append(f"arena {p.arena_bytes} != {arena}")
        kernels = re.findall(r'mlgrt\.step "(\w+)"', text)
        if [s.kernel for s in p.steps] != kernels:
            problems.append("steps differ from the lowered MLIR")
        if [i.name for i in p.inputs] != re.findall(r'mlgrt\.input "([^"]+)"', text):
            problems.append("inputs differ")
        if [o.name for o in p.outputs] != re.findall(r'mlgrt\.output "([^"]+)"', text):
            problems.append("outputs differ")
        views = len(re.findall(r"= mlgrt\.(buffer|persistent|constant) ", text))
        if len(p.tensors) != views:
            problems.append(f"{len(p.tensors)} tensors for {views} buffers")
        for s in p.steps:
            for t in list(s.inputs) + list(s.outputs):
                if t >= len(p.tensors):
                    problems.append("a step refers to a missing tensor")
        if problems:
            failed += 1
            print(f"FAIL {name}: {'; '.join(problems)} (files kept: {work}/{name}.*)")
        else:
            print(f"ok {name}: {len(p.steps)} steps, {len(p.tensors)} tensors, "
                  f"{len(p.persistents)} persistent, arena {p.arena_bytes}, {len(data)} bytes")
            for path in (rt, a, back, b):
                os.remove(path)
    print(f"{len(MODELS) - failed} of {len(MODELS)} programs round-trip")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
