//! `e^x`, vectorized.
//!
//! # Derivation
//!
//! Write `x = n·ln2 + r` with `n = round(x/ln2)` and `|r| ≤ ln2/2`, so that
//! `e^x = 2^n · e^r`. The reduction `r = (x − n·LN2_HI) − n·LN2_LO` is exact in
//! its first step (`LN2_HI` has few enough significant bits that `n·LN2_HI` is
//! exact and the subtraction cancels exactly), so `r` carries one rounding.
//! `e^r = 1 + r + r²·Q(r)`, where `Q` is the Taylor series
//! `1/2! + r/3! + … ` truncated where its remainder drops below the format's
//! precision (degree 8 for f32, 13 for f64; see `real.rs`). The sum is
//! ordered so that only one rounding is large: `1 + r_hi` is rounded and its
//! exact error recovered (Fast2Sum, valid since `|r_hi| < 1`), and that error,
//! `−n·LN2_LO` and `r²·Q(r)` (all below 0.07) are summed before the final
//! addition. The remaining error is the last rounding (0.5 ulp), the
//! rounding of `r` and of the polynomial's evaluation (each a few percent of
//! an ulp at the bottom of a binade), and the truncation (< 2^-32): measured
//! exhaustively over every f32, at most 0.78 ulp with or without FMA
//! (ACCURACY.md).
//!
//! The scaling by `2^n` is split as `2^n1 · 2^n2` with `n1 = round(n/2)`: the
//! first product is exact, the second rounds once, so results in the
//! subnormal range are rounded once (not twice), and overflow gives `+∞`.
//!
//! # Special values
//!
//! The argument is clamped to `[EXP_ARG_MIN, EXP_ARG_MAX]` (f32: `[−110, 90]`,
//! f64: `[−760, 720]`), outside of which the result is 0 or `+∞` anyway; the
//! clamp's operand order lets NaN through, and NaN propagates to the result.
//! So `exp(−∞) = 0`, `exp(+∞) = +∞`, `exp(NaN) = NaN`, `exp(±0) = 1`.

use crate::real::Real;
use crate::simd::Vector;

/// `e^x` on every lane. See the module docs for the method and bounds.
#[inline(always)]
pub(crate) fn exp_v<T: Real, V: Vector<Elem = T>>(x: V) -> V {
    let s = V::splat;
    // Raw max/min return their second operand on NaN: keep x second.
    let x = s(T::EXP_ARG_MIN).max(x);
    let x = s(T::EXP_ARG_MAX).min(x);
    let shifter = s(T::ROUND_SHIFTER);
    let n = x.mul_add(s(T::LOG2E), shifter) - shifter;
    // x − n·LN2_HI is exact; n·LN2_LO is tiny and kept apart.
    let r_hi = (-n).mul_add(s(T::LN2_HI), x);
    let r_lo = -n * s(T::LN2_LO);
    let r = r_hi + r_lo;
    // 1 + r_hi rounded, and its exact rounding error (Fast2Sum, |1| ≥ |r_hi|).
    let one = s(T::ONE);
    let head = one + r_hi;
    let head_err = r_hi - (head - one);
    // Everything small is summed first, so the only large rounding is the last.
    let tail = (r * r).mul_add(estrin::<T, V>(r, T::EXP_TAYLOR), head_err + r_lo);
    let one_plus_p = head + tail;
    let n1 = n.mul_add(s(T::from_f64(0.5)), shifter) - shifter;
    let n2 = n - n1;
    one_plus_p * V::pow2(n1) * V::pow2(n2)
}

/// `c[0] + c[1]·z + c[2]·z² + …` by Estrin's scheme: pairs `c[2i] + c[2i+1]·z`
/// first, then pairs of pairs with `z²`, `z⁴`, …, so a polynomial of degree
/// `d` has a dependency chain of about `log2(d)` FMAs instead of Horner's
/// `d`. The kernels are latency-bound on small networks, so this matters;
/// the rounding error is of the same order as Horner's (every partial sum
/// is dominated by its constant term for `|z| ≤ 0.35`). At most 16
/// coefficients.
#[inline(always)]
pub(crate) fn estrin<T: Real, V: Vector<Elem = T>>(z: V, coeffs: &[T]) -> V {
    let s = V::splat;
    let mut level = [s(T::ZERO); 8];
    let mut n = 0;
    for (dst, pair) in level.iter_mut().zip(coeffs.chunks(2)) {
        *dst = match pair {
            [c0, c1] => s(*c1).mul_add(z, s(*c0)),
            [c0] => s(*c0),
            _ => s(T::ZERO),
        };
        n += 1;
    }
    let mut power = z * z;
    while n > 1 {
        let mut next = 0;
        let mut i = 0;
        while i < n {
            level[next] = if i + 1 < n {
                level[i + 1].mul_add(power, level[i])
            } else {
                level[i]
            };
            next += 1;
            i += 2;
        }
        n = next;
        power = power * power;
    }
    level[0]
}
