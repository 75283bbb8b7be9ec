#!/usr/bin/env python3
"""PyTorch with activation checkpointing: the baseline mlg's recomputation
rows are compared with.

  pytorch_checkpoint.py BASELINE.py [--models a,b] [--steps 20] [--json OUT]

Loads ../shared/bench/pytorch_baseline.py (its models, data and timing, so
the numbers are measured exactly as the eager ones are) and adds two cases
beside its ResNet-50 stage checkpointing (resnet50_ckpt_stages):

- lstm_ckpt: the LSTM language model with its sequence cut into chunks of 32
  time steps (about the square root of 1000), each run under
  torch.utils.checkpoint with the hidden and cell states carried across;
- bert_encoder_ckpt: the Transformer encoder with each of its 12 layers
  under torch.utils.checkpoint.

One process per model, as the baseline does. Prints one JSON line per model
and writes them all with --json.
"""
import argparse
import importlib.util
import json
import subprocess
import sys


def load_baseline(path):
    spec = importlib.util.spec_from_file_location("pytorch_baseline", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def add_cases(mod):
    from torch.utils.checkpoint import checkpoint
    torch = mod.torch

    def ckpt_lstm(m, x, chunk=32):
        e = m.emb(x)
        state, outs = None, []
        for i in range(0, e.shape[0], chunk):
            seg = e[i:i + chunk]
            if state is None:
                y, state = checkpoint(lambda s: m.rnn(s), seg, use_reentrant=False)
            else:
                y, state = checkpoint(lambda s, h, c: m.rnn(s, (h, c)), seg, *state,
                                      use_reentrant=False)
            outs.append(y)
        return m.out(torch.cat(outs))

    def ckpt_encoder(m, x):
        h = m.emb(x)
        for layer in m.enc.layers:
            h = checkpoint(layer, h, use_reentrant=False)
        return m.out(h)

    mod.CASES["lstm_ckpt"] = (mod.LM, mod.CASES["lstm"][1], ckpt_lstm)
    mod.CASES["bert_encoder_ckpt"] = (mod.Enc, mod.CASES["bert_encoder"][1], ckpt_encoder)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("baseline")
    ap.add_argument("--models", default="resnet50_ckpt_stages,lstm_ckpt,bert_encoder_ckpt")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--json")
    a = ap.parse_args()
    names = a.models.split(",")
    res = {}
    if len(names) > 1:
        for name in names:
            cmd = [sys.executable, __file__, a.baseline, "--models", name,
                   "--batch", str(a.batch), "--steps", str(a.steps)]
            out = subprocess.run(cmd, capture_output=True, text=True)
            lines = out.stdout.strip().splitlines()
            try:
                res[name] = json.loads(lines[-1])[name]
            except (IndexError, ValueError, KeyError):
                res[name] = {"error": (out.stderr or "no output").strip()[-300:]}
            print(json.dumps({name: res[name]}), flush=True)
    else:
        mod = load_baseline(a.baseline)
        add_cases(mod)
        mod.torch.backends.cudnn.benchmark = True
        try:
            res[names[0]] = mod.train_step_stats(names[0], a.batch, a.steps)
        except mod.torch.cuda.OutOfMemoryError:
            res[names[0]] = {"error": "out of memory"}
        print(json.dumps({names[0]: res[names[0]]}), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
