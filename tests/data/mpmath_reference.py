#!/usr/bin/env python3
"""Writes tests/data/mpmath_f64.txt: e^x and sigmoid(x) at a few hundred f64
inputs and ln(1 + u) at a few hundred u >= 0, evaluated with mpmath at 256
bits, to validate the double-double references in tests/accuracy_support/.

Each line: `x_bits kind m_hi_bits m_lo_bits e` (hex bits of f64s), meaning
f(x) = (m_hi + m_lo) * 2^e with m_hi + m_lo in [0.5, 1) to ~2^-106 relative.
`kind` is `exp`, `sig` or `l1p`. Deterministic (fixed seed): rerun to regenerate.
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


def ln_1p_inputs():
    """u >= 0 (0 itself has no binade to split): subnormal and tiny u, the
    reference's switch to its series at 2^-60, each side of the binade
    boundaries of 1 + u and of its sqrt(2) split, the range of the softmax
    kernels' rho, and log-uniform points up to f64::MAX."""
    rng = random.Random(20261205)
    us = [5e-324, 1e-310, 2.2250738585072014e-308, 1e-300, 1e-100, 2.0**-61,
          2.0**-60, 2.0**-59, 1e-17, 2.0**-53, 1e-8, 0.5, 1.0, 1.5, 2.0, 3.0,
          16.0, 1e8, 2.0**53, 2.0**53 + 2, 1e300, 1.7976931348623157e308]
    r2 = float(mpmath.sqrt(2))
    for k in range(-3, 40):
        for b in (2.0**k - 1, r2 * 2.0**k - 1):
            if b > 0:
                us += [b, b * (1 - 2.0**-52), b * (1 + 2.0**-52)]
    for _ in range(80):
        us.append(rng.uniform(0.0, 16.0))
    for _ in range(120):
        us.append(10.0 ** rng.uniform(-320, 308))
    return us


def write(out, x, kind, v):
    hi, lo, ex = split(v)
    out.write(f"{bits(x):016x} {kind} {bits(hi):016x} {bits(lo):016x} {ex}\n")


def main():
    out = sys.stdout
    for x in inputs():
        xm = mpmath.mpf(x)
        write(out, x, "exp", mpmath.exp(xm))
        write(out, x, "sig", 1 / (1 + mpmath.exp(-xm)))
    for u in ln_1p_inputs():
        write(out, u, "l1p", mpmath.log1p(mpmath.mpf(u)))


if __name__ == "__main__":
    main()
