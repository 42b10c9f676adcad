#!/usr/bin/env python3
"""The executed instructions of a run's hottest function, and the floor
they put under its time on the vector ports.

    python3 scripts/hot_path.py [IMPL SHAPE CALLS]
        (default: constgrad_batch seed 300000000, about two seconds)

Runs `examples/bench_single IMPL SHAPE CALLS` under `perf record -e
cpu-clock` (a software clock: no hardware counters needed, which these
virtual machines do not expose), annotates the hottest function, and keeps
the basic blocks in which any instruction was sampled: the path that runs.
For the batch that is one 16-sample block of `input_grad_batch`, a
straight line of about 750 instructions (some 35 000 samples); a block
the run never enters (the mixed-target or maximum-shift paths) collects
none. A short block that collected none still counts when it falls
through into one that did and nothing that ran jumps there. A sample's
skid only moves it within the path. A loop on the path is counted once
(the script warns): the counts are per pass through straight-line code.

Each executed instruction is then charged to the ports an Intel core with
AVX-512 (Ice Lake, Sapphire/Emerald Rapids) gives it: a 512-bit ALU or FMA
operation runs on port 5 or on ports 0 and 1 together, a narrower one on
any of ports 0, 1 and 5; shuffles (inserts and expands included),
compares into a mask register and moves into mask registers on port 5
alone; a 512-bit `vdivps` is three operations, two on port 0 and one
on port 5 (on the Emerald Rapids of sessions 30-33: 17 cycles latency,
one per 10 cycles);
loads, stores, register-to-register moves and zeroing idioms (`vpxor` of
a register with itself), both done at register renaming, on none. (Until
session 35 the zeroing idioms and `vpinsrd` counted as ALU operations on
any port: the 5→3→5 batch's floor read 233 cycles where this model reads
225, `input_grad`'s 68 where it reads 63.) The floor is
the fewest cycles in which the three ports can issue them all, which no
schedule can beat; the time measured against it says how much the ports
leave to something else (dependency chains, the schedulers; perf on a
software clock cannot tell which). The model is an estimate (some
scalar operations share ports 0 and 5 as well; Zen 4 has four
floating-point pipes and splits 512-bit operations in two), and
instruction counts do not depend on machine load.

Build flags come from the environment as for cargo (`.cargo/config.toml`
gives `-C target-cpu=native`); `CARGO_TARGET_DIR` is honoured.
"""

import collections
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, cwd=ROOT, **kw).stdout


def hottest(perf_data):
    """The symbol with the most samples."""
    report = run(["perf", "report", "-i", perf_data, "--stdio", "--sort", "symbol"])
    for line in report.splitlines():
        m = re.match(r"\s*([0-9.]+)%\s+\[\.\]\s+(\S+(?: \S+)*)", line)
        if m:
            return float(m.group(1)), m.group(2)
    sys.exit("hot_path.py: no user-space samples in the run")


def jump_target(op, args):
    """The address a direct jump goes to; None for other instructions and
    for indirect jumps (`jmp *%rax`)."""
    if not op.startswith("j"):
        return None
    m = re.match(r"([0-9a-f]+)\b", args)
    return int(m.group(1), 16) if m else None


def executed(annotation):
    """The instructions of the basic blocks that ran: those that collected
    samples, and those that fall through into them."""
    ins = []
    for line in annotation.splitlines():
        m = re.match(r"\s*([0-9.]+)\s*:\s+([0-9a-f]+):\s+(\S+)\s*(.*)", line)
        if m:
            ins.append((float(m.group(1)), int(m.group(2), 16), m.group(3), m.group(4)))
    targets = {jump_target(op, args) for _, _, op, args in ins} - {None}
    blocks, cur = [], []
    for x in ins:
        if x[1] in targets and cur:
            blocks.append(cur)
            cur = []
        cur.append(x)
        if x[2].startswith(("j", "ret")):
            blocks.append(cur)
            cur = []
    if cur:
        blocks.append(cur)
    hot = [sum(p for p, _, _, _ in b) > 0 for b in blocks]
    # A block that collected no sample still ran if it falls through into
    # a block that did, and nothing that ran jumps to that one (short
    # blocks, such as one label's conversion, can go unsampled).
    changed = True
    while changed:
        changed = False
        jumped_to = {jump_target(op, args) for b, h in zip(blocks, hot) if h
                     for _, _, op, args in b}
        for i in range(len(blocks) - 1):
            last = blocks[i][-1][2]
            if (not hot[i] and hot[i + 1] and not last.startswith(("jmp", "ret"))
                    and blocks[i + 1][0][1] not in jumped_to):
                hot[i] = changed = True
    path = [x for b, h in zip(blocks, hot) if h for x in b]
    return path, sum(hot), len(blocks)


SHUFFLES = ("vperm", "vpexpand", "vexpand", "vinsert", "vpinsr", "vextract", "vshuf", "vunpck", "vbroadcast", "vpbroadcast",
            "vmovshdup", "vmovsldup")

# `vpxor %xmm1,%xmm1,%xmm1` and the like: a zero, set at register renaming.
ZERO_IDIOMS = ("vpxor", "vpxord", "vpxorq", "vxorps", "vxorpd")


def port_class(op, args):
    """(class, ops on ports 0/1/5, of which 512-bit, ops on port 5 only,
    ops on port 0 only)."""
    vector = any(r in args for r in ("zmm", "ymm", "xmm"))
    wide = "zmm" in args
    operands = [o.strip() for o in re.split(r",(?![^(]*\))", args)] if args else [""]
    memory = "(" in args
    if op.startswith("kmov"):
        return "mask move (port 5)", 0, 0, 1, 0
    if op.startswith("k"):
        return "mask logic (port 0)", 0, 0, 0, 1
    if not vector:
        return "scalar", 0, 0, 0, 0
    if "(" in operands[-1]:
        return "store", 0, 0, 0, 0
    if op.startswith("vdiv"):
        return ("divide, 512-bit (3 ops)", 0, 0, 1, 2) if wide else ("divide", 0, 0, 0, 1)
    if op.startswith("vcvtsi2"):
        return "int to float (2 ops)", 1, 0, 1, 0
    if op.startswith(("vcmp", "vpcmp", "vptest")) or (op.startswith("vpmov") and "%k" in operands[-1]):
        return "compare into a mask (port 5)", 0, 0, 1, 0
    if op in ZERO_IDIOMS and len(set(operands)) == 1 and len(operands) == 3:
        return "zeroing idiom (eliminated)", 0, 0, 0, 0
    if op.startswith(("vmov", "vbroadcast", "vpbroadcast")) and memory:
        if "{%k" in args:
            return "masked load (+1 ALU op)", 1, int(wide), 0, 0
        return "load", 0, 0, 0, 0
    if op.startswith("vmov") and op not in ("vmovshdup", "vmovsldup"):
        if "{%k" in args:
            return "masked move (blend)", 1, int(wide), 0, 0
        return "register move (eliminated)", 0, 0, 0, 0
    if op.startswith(SHUFFLES):
        return "shuffle (port 5)", 0, 0, 1, 0
    return "ALU/FMA (ports 0, 1, 5; 512-bit: 0+1 or 5)", 1, int(wide), 0, 0


def floor_cycles(any_port, wide, five, zero):
    """The fewest cycles in which ports 0, 1 and 5 can issue the path's
    vector operations: a 512-bit one takes port 5 or ports 0 and 1
    together, a narrower one any of the three."""
    narrow = any_port - wide
    t = max(five, zero)
    while True:
        on_five = min(wide, t - five)  # cheaper there: one port, not two
        on_01 = wide - on_five
        room = (t - on_01 - zero) + (t - on_01) + (t - five - on_five)
        if on_01 + zero <= t and room >= narrow:
            return t
        t += 1


def main():
    args = sys.argv[1:] or ["constgrad_batch", "seed", "300000000"]
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    subprocess.run(["cargo", "build", "--release", "--example", "bench_single"], check=True, cwd=ROOT)
    binary = os.path.join(target, "release", "examples", "bench_single")
    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "perf.data")
        run(["perf", "record", "-q", "-e", "cpu-clock", "-F", "20000", "-o", data, binary, *args])
        share, symbol = hottest(data)
        annotation = run(["perf", "annotate", "-i", data, "--stdio", "-s", symbol])
    samples = re.search(r"\((\d+) samples", annotation)
    path, hot_blocks, all_blocks = executed(annotation)
    hot = {a for _, a, _, _ in path}
    loops = [(a, t) for _, a, op, args in path
             for t in [jump_target(op, args)] if t is not None and t <= a and t in hot]
    classes = collections.Counter()
    either = wide = five = zero = 0
    for _, _, op, a in path:
        name, e, w, f, z = port_class(op, a)
        classes[name] += 1
        either, wide, five, zero = either + e, wide + w, five + f, zero + z
    total = either + five + zero
    floor = floor_cycles(either, wide, five, zero)
    print(f"{symbol}: {share:.1f}% of the samples ({samples.group(1) if samples else '?'})")
    print(f"executed path: {len(path)} instructions in {hot_blocks} of {all_blocks} basic blocks")
    for name, count in classes.most_common():
        print(f"  {count:5d}  {name}")
    print(f"vector-port operations: {total} ({either} on any of ports 0, 1, 5, {wide} of them "
          f"512-bit; {five} on port 5 only, {zero} on port 0 only)")
    print(f"floor: {floor} cycles per pass through the path")
    for a, t in loops:
        print(f"warning: a loop ({a:x} jumps back to {t:x}): the counts take its body once, "
              "not once per iteration")


if __name__ == "__main__":
    main()
