#!/usr/bin/env python3
"""The f32 coefficients of `Q` in constgrad's `exp` (`src/real.rs`).

    python3 -m pip install mpmath   # once
    python3 scripts/exp_minimax.py [DEGREE [TABLE]]

`math::exp` evaluates `e^r = 1 + r + r²·Q(r)` for `|r| ≤ ln2/2` (the
reduction `x = n·ln2 + r`; see `src/math/exp.rs`). This fits `Q` of degree
DEGREE (default 4) for the least maximum *relative* error of `e^r`:
minimise `max |r²·(Q(r) − q(r))| / e^r` with `q(r) = (e^r − 1 − r)/r²`.

Method: Lawson's iteration (iteratively reweighted least squares, which
converges to the minimax fit) on 1500 Chebyshev points of
`|r| ≤ 1.0005·ln2/2`, the margin covering the rounding of the reduction.
`Q` is fitted in the Chebyshev basis (well conditioned in binary64) and
converted to powers of `r` at the end; `q` and the weight come from
mpmath at 40 digits, since `e^r − 1 − r` cancels near 0. The coefficients
are then rounded to f32, and the error of the rounded polynomial is
measured on 6001 evenly spaced points in mpmath.

Output (DEGREE 4): relative error 3.1e-9 (2^-28.3) with exact
coefficients, 3.6e-9 (2^-28.0) with the f32 ones, which is at most 0.06
ulp of `e^r`. The Taylor series needs degree 6 in `Q` for that accuracy.

With TABLE (default 1), the range is `|r| ≤ ln2/(2·TABLE)`: the table
route of AVX-512 builds (`x = (16·m + j)·ln2/16 + r`, `2^(j/16)` from a
table) takes DEGREE 1 and TABLE 16, relative error 1.60e-9 (2^-29.2)
with f32 coefficients, 0.013 ulp.
"""

import math
import struct
import sys

import mpmath as mp

mp.mp.dps = 40


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def f32_bits(x):
    return struct.unpack("I", struct.pack("f", x))[0]


def solve(m, b):
    """Gaussian elimination with partial pivoting (n is tiny)."""
    n = len(b)
    a = [row[:] + [bb] for row, bb in zip(m, b)]
    for i in range(n):
        p = max(range(i, n), key=lambda r: abs(a[r][i]))
        a[i], a[p] = a[p], a[i]
        for r in range(i + 1, n):
            f = a[r][i] / a[i][i]
            for c in range(i, n + 1):
                a[r][c] -= f * a[i][c]
    x = [0.0] * n
    for i in reversed(range(n)):
        x[i] = (a[i][n] - sum(a[i][c] * x[c] for c in range(i + 1, n))) / a[i][i]
    return x


def chebyshev_in_powers(j):
    """The coefficients of T_j(t) in powers of t."""
    p0, p1 = [1.0], [0.0, 1.0]
    if j == 0:
        return p0
    for _ in range(j - 1):
        p2 = [0.0] + [2 * c for c in p1]
        for i, c in enumerate(p0):
            p2[i] -= c
        p0, p1 = p1, p2
    return p1


def main():
    degree = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    table = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    n = degree + 1
    half = float(mp.log(2) / (2 * table)) * 1.0005
    points = 1500
    rs = [half * math.cos(math.pi * (k + 0.5) / points) for k in range(points)]
    q = [float((mp.exp(mp.mpf(r)) - 1 - r) / mp.mpf(r) ** 2) for r in rs]
    weight = [float(mp.mpf(r) ** 2 / mp.exp(r)) for r in rs]
    basis = [[math.cos(j * math.acos(r / half)) for j in range(n)] for r in rs]

    # Lawson: weighted least squares, each point's weight multiplied by
    # its error after every fit.
    u = [1.0 / points] * points
    for _ in range(400):
        m = [
            [sum(u[k] * weight[k] ** 2 * basis[k][i] * basis[k][j] for k in range(points)) for j in range(n)]
            for i in range(n)
        ]
        b = [sum(u[k] * weight[k] ** 2 * basis[k][i] * q[k] for k in range(points)) for i in range(n)]
        a = solve(m, b)
        err = [weight[k] * (sum(a[j] * basis[k][j] for j in range(n)) - q[k]) for k in range(points)]
        u = [uk * abs(ek) for uk, ek in zip(u, err)]
        total = sum(u)
        u = [uk / total for uk in u]
    fit_err = max(abs(e) for e in err)

    coeffs = [0.0] * n
    for j in range(n):
        for i, c in enumerate(chebyshev_in_powers(j)):
            coeffs[i] += a[j] * c / half**i
    rounded = [f32(c) for c in coeffs]

    def rel_err(cs, r):
        r = mp.mpf(r)
        p = 1 + r + r**2 * sum(mp.mpf(c) * r**i for i, c in enumerate(cs))
        return abs(p - mp.exp(r)) / mp.exp(r)

    grid = [-half + 2 * half * k / 6000 for k in range(6001)]
    rounded_err = float(max(rel_err(rounded, r) for r in grid))
    print(f"degree {degree} in Q, |r| <= {half:.6f}")
    print(f"max relative error: {fit_err:.3e} (2^{math.log2(fit_err):.2f}) fitted,")
    print(f"                    {rounded_err:.3e} (2^{math.log2(rounded_err):.2f}) with f32 coefficients")
    for k, (c, r) in enumerate(zip(coeffs, rounded)):
        print(f"q{k} = {c:.17g}  f32 {r!r}  bits 0x{f32_bits(r):08x}")


if __name__ == "__main__":
    main()
