#!/usr/bin/env python3
"""Markdown tables of one criterion run of constgrad's benches.

    python3 scripts/bench_table.py [CRITERION_DIR]

CRITERION_DIR defaults to $CARGO_TARGET_DIR/criterion (or target/criterion).
Reads every `<group>/<entry>/new/estimates.json` and prints, per group, the
median time per call and per sample (or element), each entry's time divided
by constgrad's in the same group, and for the network groups the flop rate
and its fraction of the measured FMA peak (the fastest `peak_fma_f32x8`
entry of the same run).
"""

import json
import os
import sys
from pathlib import Path

# Arithmetic flops per sample of input_grad (class target), transcendental
# calls not counted: 4·IN·HID + 4·HID·OUT + 6·HID + 4·OUT + 1 (BENCHMARKS.md).
def input_grad_flops(i, h, o):
    return 4 * i * h + 4 * h * o + 6 * h + 4 * o + 1

# Batch sums of every gradient: input_grad, then a multiply-add per entry of
# dL/dW1 and dL/dW2 and an add per entry of dL/db1, dL/db2, dL/dx and the loss.
def grads_sum_flops(i, h, o):
    return input_grad_flops(i, h, o) + 2 * (i * h + h * o) + h + o + i + 1

# Soft targets add Σy (OUT), y·θ (2·OUT) and ŷ·Σy − y (2·OUT).
def soft_flops(i, h, o):
    return input_grad_flops(i, h, o) + 5 * o

# Loss only: 2·IN·HID + 2·HID·OUT + 3·HID + 3·OUT (max, shift, sum, ln/loss
# adds); soft targets add Σy and y·θ (3·OUT).
def loss_flops(i, h, o):
    return 2 * i * h + 2 * h * o + 3 * h + 3 * o

FLOPS = {
    "seed_input_grad": input_grad_flops(5, 3, 5),
    "seed_batch4096": input_grad_flops(5, 3, 5),
    "seed_input_grad_soft": soft_flops(5, 3, 5),
    "seed_batch4096_soft": soft_flops(5, 3, 5),
    "seed_loss_soft": loss_flops(5, 3, 5) + 3 * 5,
    "seed_grads_soft": soft_flops(5, 3, 5) + 5 * 3 + 3 * 5,
    "seed_grads_batch4096_soft": grads_sum_flops(5, 3, 5) + 5 * 5,
    "seed_loss": loss_flops(5, 3, 5),
    # plus the two outer products xᵀ·dL/da and hᵀ·dL/dθ
    "seed_grads": input_grad_flops(5, 3, 5) + 5 * 3 + 3 * 5,
    "mnist_input_grad": input_grad_flops(784, 128, 10),
    "mnist_batch256": input_grad_flops(784, 128, 10),
    "seed_grads_batch4096": grads_sum_flops(5, 3, 5),
    "mnist_grads_batch256": grads_sum_flops(784, 128, 10),
    "seed_loss_batch4096": loss_flops(5, 3, 5),
    "mnist_loss_batch256": loss_flops(784, 128, 10),
}
ORDER = [
    "seed_input_grad", "seed_loss", "seed_grads",
    "seed_input_grad_soft", "seed_loss_soft", "seed_grads_soft",
    "seed_batch4096", "seed_grads_batch4096", "seed_loss_batch4096",
    "seed_batch4096_soft", "seed_grads_batch4096_soft",
    "mnist_input_grad", "mnist_batch256",
    "mnist_grads_batch256", "mnist_loss_batch256",
    "math_exp_1024", "math_sigmoid_1024", "math_softmax_10", "math_xent_10",
    "math_softmax_1000", "math_xent_1000", "peak_fma_f32x8",
]


def fmt_time(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g} {unit}"
    return f"{ns:.3g} ns"


def load(root):
    groups = {}
    for est in sorted(root.glob("*/*/new/estimates.json")):
        bench = json.loads((est.parent / "benchmark.json").read_text())
        median = json.loads(est.read_text())["median"]["point_estimate"]
        elems = (bench.get("throughput") or {}).get("Elements", 1)
        groups.setdefault(bench["group_id"], {})[bench["function_id"]] = (median, elems)
    return groups


def main():
    default = Path(os.environ.get("CARGO_TARGET_DIR", "target")) / "criterion"
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else default
    groups = load(root)
    peak = None
    if "peak_fma_f32x8" in groups:
        peak = max(e / t for t, e in groups["peak_fma_f32x8"].values())  # flops per ns
    for name in ORDER + sorted(set(groups) - set(ORDER)):
        if name not in groups:
            continue
        entries = groups[name]
        base = entries.get("constgrad")
        print(f"\n### {name}\n")
        if name == "peak_fma_f32x8":
            print("| entry | median per call | GFLOP/s |\n|---|---:|---:|")
            by_chains = sorted(entries.items(), key=lambda kv: int(kv[0].split("_")[0]))
            for fn, (t, e) in by_chains:
                print(f"| {fn} | {fmt_time(t)} | {e / t:.1f} |")
            continue
        flops = FLOPS.get(name)
        head = "| entry | median per call | per sample | time ÷ constgrad's |"
        rule = "|---|---:|---:|---:|"
        if flops and peak:
            head += " GFLOP/s | % of FMA peak |"
            rule += "---:|---:|"
        print(head + "\n" + rule)
        for fn, (t, e) in sorted(entries.items(), key=lambda kv: kv[1][0]):
            row = f"| {fn} | {fmt_time(t)} | {fmt_time(t / e)} | "
            row += f"{t / base[0]:.2f} |" if base else "– |"
            if flops and peak:
                rate = flops * e / t
                row += f" {rate:.2f} | {100 * rate / peak:.1f}% |"
            print(row)
    if peak:
        print(f"\nMeasured FMA peak (best peak_fma_f32x8 entry): {peak:.1f} GFLOP/s.")


if __name__ == "__main__":
    main()
