#!/usr/bin/env python3
"""Writes tests/data/mpmath_exp_sigmoid_f64.txt: e^x and sigmoid(x) at a few
hundred f64 inputs, evaluated with mpmath at 256 bits, to validate the
double-double references in tests/accuracy_support/mod.rs.

Each line: `x_bits kind m_hi_bits m_lo_bits e` (hex bits of f64s), meaning
f(x) = (m_hi + m_lo) * 2^e with m_hi + m_lo in [0.5, 1) to ~2^-106 relative.
`kind` is `exp` or `sig`. Deterministic (fixed seed): rerun to regenerate.
"""
import random
import struct
import sys

import mpmath

mpmath.mp.prec = 256


def bits(v):
    return struct.unpack("<Q", struct.pack("<d", v))[0]


def split(v):
    m, e = mpmath.frexp(v)
    hi = float(m)
    lo = float(m - mpmath.mpf(hi))
    return hi, lo, int(e)


def inputs():
    rng = random.Random(20240607)
    xs = [0.0, -0.0, 1.0, -1.0, 0.5, 1e-300, -1e-300, 5e-324, 2.0**-30,
          709.782712893384, 709.7827128933, -708.3964185322641, -708.4,
          -745.1332191019411, -745.0, -744.44, -720.5, 700.0, -700.0, 88.72283,
          -103.97, -87.33655, 36.7, -36.7, 17.0, -17.0, 1e-8, -1e-8]
    ln2 = float(mpmath.log(2))
    for k in range(-60, 61):
        xs.append(k * ln2 / 2)          # near the range-reduction boundaries
        xs.append(k * ln2 / 2 + 1e-9)
    for _ in range(120):
        xs.append(rng.uniform(-745.0, 709.7))
    for _ in range(60):
        xs.append(rng.uniform(-1.0, 1.0) * 10.0 ** rng.uniform(-20, 0))
    for _ in range(40):
        xs.append(rng.uniform(-40.0, 40.0))
    return xs


def main():
    out = sys.stdout
    for x in inputs():
        xm = mpmath.mpf(x)
        e = mpmath.exp(xm)
        s = 1 / (1 + mpmath.exp(-xm))
        for kind, v in (("exp", e), ("sig", s)):
            hi, lo, ex = split(v)
            out.write(f"{bits(x):016x} {kind} {bits(hi):016x} {bits(lo):016x} {ex}\n")


if __name__ == "__main__":
    main()
