#!/usr/bin/env python3
"""Writes the small checked-in seed corpora fuzz/seeds/TARGET/*.

Each seed is a byte stream for constgrad_fuzz::F32 / F64 decoding (one tag
byte, then the payload; see fuzz/src/lib.rs), preceded by the target's leading
selector byte (row length, matrix shape, ...). Deterministic: re-running this
script reproduces the same files.
"""
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def stream(kind, rng, count):
    out = bytearray()
    for i in range(count):
        if kind == "specials":
            out += bytes([12, i % 30])
        elif kind == "neighbours":
            out += bytes([14, rng.randrange(30)]) + struct.pack("<b", rng.randrange(-20, 21))
        elif kind == "moderate":
            out += bytes([0]) + struct.pack("<h", rng.randrange(-1024, 1025))
        elif kind == "small":
            out += bytes([6]) + struct.pack("<b", rng.randrange(-64, 65))
        elif kind == "bits":
            out += bytes([8]) + struct.pack("<I", rng.getrandbits(32))
        else:  # mixed
            out += stream(rng.choice(["specials", "neighbours", "moderate", "small", "bits"]), rng, 1)
    return bytes(out)


def main():
    rng = random.Random(20261127)
    kinds = ["specials", "neighbours", "moderate", "small", "bits", "mixed"]
    plans = {
        # target: (selector bytes to prefix, number of floats per seed)
        "exp_sigmoid": ([0, 5, 17], 80),
        "softmax_family": (list(range(8)), 40),
        "input_grad": ([None], 60),
        "grads": ([None], 200),
        "batch_vs_single": ([None], 200),
        "mat_algebra": (list(range(9)), 120),
    }
    for target, (selectors, count) in plans.items():
        d = os.path.join(HERE, target)
        os.makedirs(d, exist_ok=True)
        for sel in selectors:
            for kind in kinds:
                data = (bytes([sel]) if sel is not None else b"") + stream(kind, rng, count)
                name = f"{kind}-{sel}" if sel is not None else kind
                with open(os.path.join(d, name), "wb") as f:
                    f.write(data)


if __name__ == "__main__":
    main()
