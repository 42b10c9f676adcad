//! `e^x`, vectorized.
//!
//! # Derivation
//!
//! Write `x = n·ln2 + r` with `n = round(x/ln2)` and `|r| ≤ ln2/2`, so that
//! `e^x = 2^n · e^r`. The reduction `r = (x − n·LN2_HI) − n·LN2_LO` is exact in
//! its first step (`LN2_HI` has few enough significant bits that `n·LN2_HI` is
//! exact and the subtraction cancels exactly), so `r` carries one rounding.
//! `e^r = 1 + r + r²·Q(r)`. For f32, `Q` is a degree-4 polynomial fitted for
//! the least maximum relative error of `e^r` over `|r| ≤ ln2/2`
//! (`scripts/exp_minimax.py`): 3.6e-9 with its coefficients rounded to f32,
//! at most 0.061 ulp, where the Taylor series `1/2! + r/3! + …` needs two
//! more terms for the same. For f64, `Q` is that Taylor series, truncated
//! where its remainder drops below 2^-57 (degree 13 in `e^r`; see
//! `real.rs`). The sum is ordered so that only one rounding is large:
//! `1 + r_hi` is rounded and its exact error recovered (Fast2Sum, valid
//! since `|r_hi| < 1`), and that error, `−n·LN2_LO` and `r²·Q(r)` (all below
//! 0.07) are summed before the final addition. The remaining error is the
//! last rounding (0.5 ulp), the rounding of `r` and of the polynomial's
//! evaluation (each a few percent of an ulp at the bottom of a binade), and
//! the polynomial's own error (f32: ≤ 0.061 ulp; f64: < 2^-57): measured
//! exhaustively over every f32, at most 0.72 ulp for normal results and 0.79
//! ulp for subnormal ones (ACCURACY.md).
//!
//! # The table route (f32 on AVX-512 builds)
//!
//! Where a 16-entry table lookup takes one or two permutes and FMA is
//! available (`Kernel::EXP_TABLE`: f32 on AVX-512 builds), `exp` takes a
//! finer reduction: `16·m + j = round(16·x/ln 2)` with `0 ≤ j < 16`, `r =
//! x − (16·m + j)·ln2/16`, `|r| ≤ ln2/32`, and `e^x = 2^m · 2^(j/16) ·
//! e^r`. `2^(j/16)` comes from a table as `hi + lo` (`hi` rounded, `lo` the
//! rest, together within `2^-48`), and `e^r − 1 = r + r²·(q_0 + q_1·r)`, a
//! minimax fit of relative error 1.6e-9 (0.013 ulp; `python3
//! scripts/exp_minimax.py 1 16`). `head = hi` and `tail = hi·(e^r − 1) +
//! lo` (one FMA, below 2.3% of `head`) then take the place of the
//! polynomial route's `head` and `tail` below, and `2^m` of its `2^n`, so
//! the scalings, the guarded and non-positive routes and their proofs are
//! unchanged.
//!
//! The reduction's first step is exact here too, by another argument: `x −
//! n·LN2_HI/16` (`n = 16·m + j`, `|n| < 2^12`) is below 2^-5 in magnitude
//! and a multiple of the smaller of `x`'s ulp (at least 2^-29 where `n ≠
//! 0`) and `LN2_HI/16`'s last bit (2^-19), so 24 bits hold it, and the
//! fused product-difference, which rounds only its result, gives it
//! exactly. The index `j` is the low 4 bits of the rounding shifter's sum,
//! and `2^(m + k)` is that sum shifted ([`Vector::pow2_of_shifted`]).
//!
//! Errors: the last rounding (0.5 ulp), `r`'s rounding, `tail`'s and the
//! fit's (each at most 0.02–0.03 ulp): measured over every f32, at most
//! 0.568 ulp for normal results (against 0.724 by the polynomial route)
//! and 0.762 for subnormal ones (0.792). An exponential is 14 vector
//! operations, two of them the lookups, against the polynomial route's 19.
//! In the 5→3→5 batch, whose eight exponentials per sample took 30% of its
//! time (knocked out, 5.61 → 3.93 ns per sample), a block executes 42
//! arithmetic operations fewer and 16 permutes more, and the table route
//! took 5.61 → 5.24 ns per sample, and one `input_grad` 39.8 → 38.7–38.9
//! ns (Intel Xeon, best of 51, alternating). Builds without AVX-512 keep
//! the polynomial route: on AVX2 a 16-entry lookup is two `vpermps` and a
//! blend, and on AMD Zen 3 the table route made the 5→3→5 batch 1–2%
//! slower (10.6–10.7 → 10.8–10.9 ns per sample) for 2% off one
//! `input_grad` (52.5 → 51.3 ns; best of 51, session 38; over every f32 it
//! measured 0.762 ulp there, as on AVX-512); on SSE2 a lookup is a lane at
//! a time. f64 keeps it too.
//!
//! `exp_v_guarded_plus` evaluates `e^(x + t)` for a correction `t` below
//! half an ulp of `x` (the exact rounding error of a difference
//! `x = θ − m`, which the softmax recovers): `t` joins `−n·LN2_LO` in the
//! small terms, so it adds no rounding, and `e^(x + t)` is within the same
//! bound of the exact value as `e^x` is of its own.
//!
//! The scaling by `2^n` is split as `2^n1 · 2^n2` with `n1 = round(n/2)`: the
//! first product is exact, the second rounds once, so results in the
//! subnormal range are rounded once (not twice), and overflow gives `+∞`.
//!
//! Arguments that are never positive (the softmax's `θ − max θ`, the
//! sigmoid's `−|x|`) need less: `exp_v_nonpositive` scales by
//! `2^(n + 96) · 2^−96`. On `[EXP_ARG_MIN, 0]`, `n + 96` stays within the
//! normal exponents of f32 and f64 alike (f32: `n ≥ −159`; f64: `n ≥
//! −1096`), so the first product is exact and the second, by a constant,
//! rounds once: the same correctly rounded product as the split, so the
//! same bits (a release test runs every non-positive f32 through both),
//! with one exponent built instead of two and no `n1`, `n2` to form.
//!
//! # Results below the normal range
//!
//! A product whose result underflows (is subnormal, or rounds to 0) takes a
//! microcode assist on some CPUs: on Zen 4, the `−∞` padding lanes of the
//! 5→3→5 softmax, whose `e^−∞` came out of such a product, cost the
//! one-sample kernel about 60 cycles per call (271 against 209 cycles,
//! `docs/benchmarks-history.md`). So `exp_v_guarded`, which the one-sample
//! kernels use for their sigmoids and softmax, first tests its lanes.
//! Arguments below `EXP_ZERO_BELOW` (f32 −104, f64 −746; their results
//! round to 0) get 0 by a select, and the rest are evaluated from an
//! argument clamped at `EXP_NORMAL_MIN` (f32 −87, f64 −708), where every
//! result is normal, so that one product by a normal `2^n` scales them
//! exactly (one product fewer on the chain than `2^n1·2^n2`: 209 → 200
//! cycles). Only when some
//! lane lies between the two (a subnormal result), or above
//! `EXP_NORMAL_MAX` (f32 88, f64 709; `2^n` would pass the largest
//! exponent), does a branch evaluate every lane as `exp_v` does. The values
//! are `exp_v`'s, bit for bit (a release test in this module holds every
//! f32 to it). The batch kernels do not use it: their lanes are samples, not
//! padding, and the test cost them about 10% (9.3 against 10.3 ns per
//! 5→3→5 sample); they use `exp_v_nonpositive` (above), and where a
//! network bounds its logits, the guarded route's own scaling without the
//! guard, `exp_v_normal`, whose arguments then stay inside the normal range.
//!
//! # Special values
//!
//! The argument is clamped to `[EXP_ARG_MIN, EXP_ARG_MAX]` (f32: `[−110, 90]`,
//! f64: `[−760, 720]`), outside of which the result is 0 or `+∞` anyway; the
//! clamp's operand order lets NaN through, and NaN propagates to the result.
//! So `exp(−∞) = 0`, `exp(+∞) = +∞`, `exp(NaN) = NaN`, `exp(±0) = 1`.

use crate::real::{ExpTable, Real};
use crate::simd::Vector;

/// `e^x` on every lane. See the module docs for the method and bounds.
///
/// Lanes whose result is subnormal or 0 go through a product that
/// underflows; where such lanes are routine (the `−∞` tail padding of a
/// row), [`exp_v_guarded`] avoids that.
#[inline(always)]
pub(crate) fn exp_v<T: Real, V: Vector<Elem = T>>(x: V) -> V {
    exp_v_with(x, None)
}

/// [`exp_v`]'s values (the same bits) for arguments `x ≤ 0` and NaN, with a
/// shorter scaling (see the module docs). The batch kernels' exponentials,
/// whose lanes are samples, have such arguments: `θ − max θ` in the
/// softmax, `−|x|` in the sigmoid. A positive `x` gives an unspecified
/// value: `θ − max θ` is positive only in a lane whose `θ` holds a NaN
/// (a raw `max` may drop it), and that lane's sum, and so its results, are
/// NaN whatever the value. (Clamping at 0 as well, which it did until
/// session 32, put a `min` on the chain: the 5→3→5 batch 6.00 → 5.94 ns
/// per sample without it, best of 51, and `math::sigmoid` on 1024 values
/// 406 → 390 ns.)
#[inline(always)]
pub(crate) fn exp_v_nonpositive<T: Real, V: Vector<Elem = T>>(x: V) -> V {
    exp_v_nonpositive_scaled::<T, V>(x) * V::splat(T::from_f64(EXP_SCALED_BACK))
}

/// `E = e^x·2^96`, rounded once and normal, for [`exp_v_nonpositive`]'s
/// arguments: `e^x` is `E·EXP_SCALED_BACK`, rounded once more (the only
/// rounding of a subnormal result). A caller that needs `1 + e^x` as well
/// can form it from `E` in one fused step beside `e^x`, as the sigmoid
/// does: `fma(E, EXP_SCALED_BACK, 1)` is the rounded `1 + e^x`, bit for
/// bit, since where `e^x` is normal `E·2^-96` is `e^x` exactly, and where it
/// is subnormal both sums round to 1.
#[inline(always)]
pub(crate) fn exp_v_nonpositive_scaled<T: Real, V: Vector<Elem = T>>(x: V) -> V {
    // Raw max returns its second operand on NaN: keep x second.
    let x = V::splat(T::EXP_ARG_MIN).max(x);
    let shift = T::from_f64(f64::from(SCALE_SHIFT));
    let (head, tail, _, scale) = exp_parts::<T, V>(x, None, shift);
    scaled_sum(head, tail, scale)
}

/// The exponent offset of [`exp_v_nonpositive`]'s exact first product.
const SCALE_SHIFT: i32 = 96;
/// `2^−96`, the factor from [`exp_v_nonpositive_scaled`]'s `E` to `e^x`,
/// exactly: an f64 built from its biased exponent (normal in f32 too).
pub(crate) const EXP_SCALED_BACK: f64 = f64::from_bits(((1023 - SCALE_SHIFT) as u64) << 52);

/// `e^x` (`t = None`) or `e^(x + t)` (`Some(t)`, a correction below half an
/// ulp of `x`: see [`exp_v_guarded_plus`]) on every lane: one method, with
/// no correction term at all in the plain `e^x`. Lanes whose result is 0
/// (`x < EXP_ZERO_BELOW`, such as `x = −∞`) ignore `t`, which may be NaN
/// there.
#[inline(always)]
fn exp_v_with<T: Real, V: Vector<Elem = T>>(x: V, t: Option<V>) -> V {
    let s = V::splat;
    let t = t.map(|t| V::select(x.simd_lt(s(T::EXP_ZERO_BELOW)), s(T::ZERO), t));
    // Raw max/min return their second operand on NaN: keep x second.
    let x = s(T::EXP_ARG_MAX).min(s(T::EXP_ARG_MIN).max(x));
    let (head, tail, n, _) = exp_parts::<T, V>(x, t, T::ZERO);
    // 2^n1·2^n2 with n1 = round(n/2): the first product is exact, the
    // second rounds once.
    let shifter = s(T::ROUND_SHIFTER);
    let n1 = n.mul_add(s(T::from_f64(0.5)), shifter) - shifter;
    let n2 = n - n1;
    (head + tail) * V::pow2(n1) * V::pow2(n2)
}

/// [`exp_v`]'s values (the same bits), by a route on which arguments whose
/// result rounds to 0 (such as `−∞`) do not underflow, and whose chain is
/// one product shorter: see "Results below the normal range" in the module
/// docs. It costs three compares, a select and a predictable branch, so the
/// one-sample kernels use it (their rows' tails are padded with `−∞`, and
/// their latency is what counts) and the batch kernels, whose every lane is
/// a sample, use [`exp_v_nonpositive`] and [`exp_v_normal`].
#[inline(always)]
pub(crate) fn exp_v_guarded<T: Real, V: Vector<Elem = T>>(x: V) -> V {
    exp_v_guarded_with(x, None)
}

/// `e^(x + t)` by [`exp_v_guarded`]'s route, for a correction `t` below half
/// an ulp of `x` (the rounding error of a difference `x`, recovered
/// exactly): `t` joins the reduced argument's low part, so it costs no
/// extra rounding and, on the chain, nothing. Lanes whose result is 0 (such
/// as `x = −∞`) ignore `t`, which may be NaN there.
#[inline(always)]
pub(crate) fn exp_v_guarded_plus<T: Real, V: Vector<Elem = T>>(x: V, t: V) -> V {
    exp_v_guarded_with(x, Some(t))
}

/// [`exp_v_guarded`] and [`exp_v_guarded_plus`], as [`exp_v_with`].
#[inline(always)]
fn exp_v_guarded_with<T: Real, V: Vector<Elem = T>>(x: V, t: Option<V>) -> V {
    let s = V::splat;
    let deep = x.simd_lt(s(T::EXP_NORMAL_MIN));
    let subnormal = deep & s(T::EXP_ZERO_BELOW).simd_lt(x);
    let high = s(T::EXP_NORMAL_MAX).simd_lt(x);
    if subnormal.any() | high.any() {
        // A subnormal result (the scaling underflows on purpose), or one
        // that needs 2^n past the largest exponent (or overflows).
        return exp_v_rare(x, t);
    }
    // Every result is 0 or normal, and 2^n is normal: one exact product.
    // (Deep lanes get 0 by the select, whatever `t` made of them.)
    let e = exp_v_normal_with(s(T::EXP_NORMAL_MIN).max(x), t);
    V::select(deep, s(T::ZERO), e)
}

/// [`exp_v`]'s values (the same bits) for arguments in `[EXP_NORMAL_MIN,
/// EXP_NORMAL_MAX]` and NaN, whose results and `2^n` are normal, with no
/// clamp, select or branch: [`exp_v_guarded`]'s route once its guard has
/// passed. The batch kernels' softmax, shifted by each lane's label logit
/// on a network whose weights bound the logits, has such arguments.
#[inline(always)]
pub(crate) fn exp_v_normal<T: Real, V: Vector<Elem = T>>(x: V) -> V {
    exp_v_normal_with(x, None)
}

/// [`exp_v_normal`] of `x + t` ([`exp_v_guarded_plus`]'s correction).
#[inline(always)]
fn exp_v_normal_with<T: Real, V: Vector<Elem = T>>(x: V, t: Option<V>) -> V {
    let (head, tail, _, scale) = exp_parts::<T, V>(x, t, T::ZERO);
    scaled_sum(head, tail, scale)
}

/// `(head + tail)·scale` rounded once, for a power of two `scale` that
/// keeps `head·scale` and the result normal: [`exp_parts`]' sum, scaled.
///
/// With FMA, `tail·scale + head·scale`, fused: `head·scale` waits only for
/// `head`, so the one rounding comes an add earlier on the chain (6 cycles
/// of a 5→3→5 call; in [`exp_v_nonpositive_scaled`], the 5→3→5 batch
/// 5.94 → 5.85 ns per sample, best of 51). `head·scale` is exact (normal,
/// and `head` is within 10% of `head + tail`), and the sum is normal, so
/// rounding it commutes with the scaling: the bits are those of
/// `(head + tail)·scale`, which rounds the sum and scales it exactly
/// (release tests check every f32 of both callers' domains against
/// `exp_v`). Without FMA, `tail·scale` would round on its own wherever it
/// falls below the normal range (for a small `tail`, from `scale ≈ 2^-100`
/// down).
#[inline(always)]
fn scaled_sum<T: Real, V: Vector<Elem = T>>(head: V, tail: V, scale: V) -> V {
    if cfg!(target_feature = "fma") {
        tail.mul_add(scale, head * scale)
    } else {
        (head + tail) * scale
    }
}

/// [`exp_v_with`] out of line, for [`exp_v_guarded`]'s rare lanes: one copy of
/// the method per kernel instead of two, which keeps the hot code short and
/// the unoptimised builds' frames small (inlined twice into the one-sample
/// kernels' sigmoids, it overflowed the 256 KiB stack that
/// `tests/stack_safety.rs` gives an f64 784→128→10 `input_grad` in a debug
/// build).
#[cold]
#[inline(never)]
fn exp_v_rare<T: Real, V: Vector<Elem = T>>(x: V, t: Option<V>) -> V {
    exp_v_with(x, t)
}

/// `(head, tail, n, 2^(n + k))` with `e^(x + t) ≈ (head + tail)·2^n` (the
/// method of the module docs: `head` is `1 + r_hi` rounded, `tail`
/// everything small, and their sum rounds once), for `x` in `[EXP_ARG_MIN,
/// EXP_ARG_MAX]` or NaN and a `t` below half an ulp of `x` (`None` for
/// `e^x`; any value on lanes whose result the caller discards). The scale
/// `2^(n + k)` is for callers whose `n + k` stays in the normal exponent
/// range (the others drop it unused).
///
/// With FMA, `n` is rounded by a shifter that also holds `2^(n + k)`'s
/// exponent bias ([`Vector::pow2_shifter`]): the sum `x·log2(e) + c` rounds
/// once, and `x·log2(e)` is never a half-integer here, so any integer
/// offset in `c` gives the same `n`. (A product of two floats that is a
/// half-integer is an odd multiple of half the odd part of `log2(e)`'s
/// significand, which exceeds 2^23 in f32 and 2^51 in f64; here
/// `|x·log2(e)| < 1100`.) The scale is then one shift of that sum, instead
/// of an addition and a shift of `n`: one instruction fewer per
/// exponential, and off the chain (`math::sigmoid` on 1024 values: 420 →
/// 406 ns, criterion, three alternating rounds). Without FMA the product
/// rounds first and may land on a half-integer, where the offset's parity
/// would decide the tie; those builds keep `ROUND_SHIFTER` and
/// [`Vector::pow2_plus`].
#[inline(always)]
fn exp_parts<T: Real, V: Vector<Elem = T>>(x: V, t: Option<V>, k: T) -> (V, V, V, V) {
    if let Some(table) = T::EXP_TABLE {
        return exp_parts_by_table(x, t, k, &table);
    }
    let s = V::splat;
    let fused = cfg!(target_feature = "fma");
    let shifter = s(if fused {
        V::pow2_shifter(k, 0)
    } else {
        T::ROUND_SHIFTER
    });
    let shifted = x.mul_add(s(T::LOG2E), shifter);
    let n = shifted - shifter;
    let scale = if fused {
        V::pow2_of_shifted(shifted, 0)
    } else {
        V::pow2_plus(n, k)
    };
    // x − n·LN2_HI is exact; t − n·LN2_LO is tiny and kept apart.
    let r_hi = (-n).mul_add(s(T::LN2_HI), x);
    let r_lo = match t {
        Some(t) => (-n).mul_add(s(T::LN2_LO), t),
        None => -n * s(T::LN2_LO),
    };
    let r = r_hi + r_lo;
    // 1 + r_hi rounded, and its exact rounding error (Fast2Sum, |1| ≥ |r_hi|).
    let one = s(T::ONE);
    let head = one + r_hi;
    let head_err = r_hi - (head - one);
    // Everything small is summed first, so the only large rounding is the last.
    let tail = (r * r).mul_add(estrin::<T, V>(r, T::EXP_POLY), head_err + r_lo);
    (head, tail, n, scale)
}

/// The bits of the table route's index `j`: [`Vector::lookup16`]'s 16
/// entries, `2^(j/16)`.
const TABLE_BITS: u32 = 4;

/// [`exp_parts`] by the table route (module docs, "The table route"):
/// `head = 2^(j/16)` rounded, from the table, `tail` the rest of
/// `2^(j/16)·e^r` (the table's low part and `head·(e^r − 1)`), and `n = m`,
/// for `16·m + j = round(16·x/ln 2)`.
#[inline(always)]
fn exp_parts_by_table<T: Real, V: Vector<Elem = T>>(
    x: V,
    t: Option<V>,
    k: T,
    table: &ExpTable<T>,
) -> (V, V, V, V) {
    let s = V::splat;
    let c = |v: f64| s(T::from_f64(v));
    let steps = f64::from(1u32 << TABLE_BITS);
    let shifter = s(V::pow2_shifter(k, TABLE_BITS));
    // 16·LOG2E, LN2_HI/16 and LN2_LO/16 scale exactly.
    let shifted = x.mul_add(c(steps * T::LOG2E.to_f64()), shifter);
    let n = shifted - shifter;
    // x − n·LN2_HI/16 is exact (fused, and LN2_HI has few significant
    // bits: module docs); n·LN2_LO/16 and t join it in one rounding.
    let r_hi = (-n).mul_add(c(T::LN2_HI.to_f64() / steps), x);
    let ln2_lo = c(T::LN2_LO.to_f64() / steps);
    let r = match t {
        Some(t) => r_hi + (-n).mul_add(ln2_lo, t),
        None => (-n).mul_add(ln2_lo, r_hi),
    };
    let [q0, q1] = table.poly;
    let expm1_r = (r * r).mul_add(r.mul_add(s(q1), s(q0)), r);
    let head = V::lookup16(&table.hi, shifted);
    let tail = head.mul_add(expm1_r, V::lookup16(&table.lo, shifted));
    // m = floor(n/16) = round(n/16 − 15/32), every step exact (n/16 − 15/32
    // has 5 fraction bits and is never a half-integer); only `exp_v`'s
    // split scaling reads it.
    let round = s(T::ROUND_SHIFTER);
    let below_half = (steps - 1.0) / (2.0 * steps);
    let m = (n.mul_add(c(1.0 / steps), c(-below_half)) + round) - round;
    (head, tail, m, V::pow2_of_shifted(shifted, TABLE_BITS))
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

#[cfg(test)]
mod tests {
    use super::{exp_v, exp_v_guarded, exp_v_nonpositive, exp_v_normal};
    use crate::real::{sealed::Kernel, Real};
    use crate::simd::Vector;

    /// The build's widest vector of `T`.
    type S<T> = <T as Kernel>::Simd;

    /// An `exp` kernel under test, by name.
    type Named<V> = (&'static str, fn(V) -> V);

    /// The f32 `Q` (fitted by `scripts/exp_minimax.py`) against std's f64
    /// `exp` on the reduced range with its margin: `1 + r + r²·Q(r)`,
    /// evaluated in f64 from the f32 coefficients, stays within 3.7e-9 of
    /// `e^r`, relative (the script's 3.63e-9, 0.061 ulp of f32). A Taylor `Q`
    /// of degree 5, one coefficient more than the fit, would fail it
    /// (7.3e-9); the degree-6 one that the fit replaced gives 9.9e-11.
    #[test]
    fn f32_polynomial_within_its_fitted_bound() {
        let q = <f32 as Kernel>::EXP_POLY;
        let half = core::f64::consts::LN_2 / 2.0 * 1.0005;
        let steps = 100_000;
        let mut worst = 0.0f64;
        for k in 0..=steps {
            let r = -half + 2.0 * half * f64::from(k) / f64::from(steps);
            let poly = q.iter().rev().fold(0.0, |acc, &c| acc * r + f64::from(c));
            let exact = r.exp();
            worst = worst.max(((1.0 + r + r * r * poly - exact) / exact).abs());
        }
        assert!(worst < 3.7e-9, "max relative error {worst:e}");
    }

    /// The table route's `2^(j/16)` against std's f64 `exp2` (within an ulp
    /// of f64): `hi` is the f32 nearest to it (never within 2^-40 of a
    /// midpoint, so the f64 value decides), and `hi + lo` is within 2^-47
    /// of it, relative (2^-48 by construction, plus the reference's error).
    #[test]
    fn f32_table_holds_the_sixteenths_of_an_octave() {
        let table = crate::real::EXP_TABLE_F32;
        for j in 0..16 {
            let exact = (f64::from(j) / 16.0).exp2();
            let (hi, lo) = (
                f64::from(table.hi[j as usize]),
                f64::from(table.lo[j as usize]),
            );
            let ulp = f64::from(f32::EPSILON) * if exact < 2.0 { 1.0 } else { 2.0 };
            let from_hi = (exact - hi) / ulp;
            assert!(
                from_hi.abs() < 0.5 - 1e-4,
                "j = {j}: hi is {from_hi} ulp off"
            );
            let rel = (hi + lo - exact).abs() / exact;
            assert!(rel <= 2f64.powi(-47), "j = {j}: hi + lo is {rel:e} off");
        }
    }

    /// The table route's polynomial (`scripts/exp_minimax.py 1 16`) against
    /// std's f64 `exp` on `|r| ≤ ln2/32` with the script's margin: `1 + r +
    /// r²·(q_0 + q_1·r)`, evaluated in f64 from the f32 coefficients, stays
    /// within 1.7e-9 of `e^r`, relative (the script's 1.604e-9, 0.013 ulp of
    /// f32). The Taylor coefficients `1/2`, `1/6` give 9.4e-9 and fail it.
    #[test]
    fn f32_table_polynomial_within_its_fitted_bound() {
        let [q0, q1] = crate::real::EXP_TABLE_F32.poly.map(f64::from);
        let half = core::f64::consts::LN_2 / 32.0 * 1.0005;
        let steps = 100_000;
        let mut worst = 0.0f64;
        for k in 0..=steps {
            let r = -half + 2.0 * half * f64::from(k) / f64::from(steps);
            let exact = r.exp();
            worst = worst.max(((1.0 + r + r * r * (q0 + q1 * r) - exact) / exact).abs());
        }
        assert!(worst < 1.7e-9, "max relative error {worst:e}");
    }

    /// Lane by lane, `exp_v_guarded` and `exp_v` agree: the same value, or
    /// both NaN (`exp` never returns `−0`, so equal values are equal bits).
    fn check<T: Real, V: Vector<Elem = T>>(x: V) {
        agree(x, ("guarded", exp_v_guarded::<T, V>));
    }

    /// Lane by lane, `other` and `exp_v` agree, as in [`check`].
    fn agree<T: Real, V: Vector<Elem = T>>(x: V, (name, other): Named<V>) {
        let (g, p) = (other(x).to_array(), exp_v::<T, V>(x).to_array());
        for ((&xi, &gi), &pi) in x.to_array().as_ref().iter().zip(g.as_ref()).zip(p.as_ref()) {
            let (xi, gi, pi) = (xi.to_f64(), gi.to_f64(), pi.to_f64());
            assert!(
                gi == pi || (gi.is_nan() && pi.is_nan()),
                "{}: exp({xi:e}): {name} {gi:e}, plain {pi:e}",
                T::NAME
            );
        }
    }

    /// [`agree`] on `args`, each in a vector of its neighbours (the last
    /// vector's tail lanes 0).
    fn agree_on_args<T: Real>(args: impl IntoIterator<Item = f64>, other: Named<S<T>>) {
        let all: std::vec::Vec<f64> = args.into_iter().collect();
        for chunk in all.chunks(<S<T> as Vector>::LANES) {
            let mut v = S::<T>::splat(T::ZERO).to_array();
            for (d, &a) in v.as_mut().iter_mut().zip(chunk) {
                *d = T::from_f64(a);
            }
            agree(S::<T>::from_array(v), other);
        }
    }

    /// [`agree`] on every f32 bit pattern from `from` to `to` (inclusive), in
    /// vectors of consecutive patterns; a vector's tail past `to` repeats it.
    fn agree_on_bits(from: u32, to: u32, other: Named<S<f32>>) {
        let lanes = <S<f32> as Vector>::LANES;
        for base in (from..=to).step_by(lanes) {
            let x = core::array::from_fn(|i| f32::from_bits(base.saturating_add(i as u32).min(to)));
            agree(S::<f32>::from_array(x), other);
        }
    }

    /// `exp_v_nonpositive` against `exp_v` on `args`, on the special
    /// non-positive values, and on `2^20` arguments spread evenly over
    /// `[lo, 0]` (each in a vector of its neighbours).
    fn nonpositive<T: Real>(args: &[f64], lo: f64) {
        let edges = [f64::NEG_INFINITY, -1e30, -0.0, 0.0, f64::NAN, -f64::NAN];
        let steps = 1 << 20;
        let spread = (0..=steps).map(|k| lo * f64::from(k) / f64::from(steps));
        agree_on_args::<T>(
            edges.iter().chain(args).copied().chain(spread),
            ("nonpositive", exp_v_nonpositive::<T, S<T>>),
        );
    }

    #[test]
    fn nonpositive_exp_agrees_with_exp_on_chosen_and_spread_arguments() {
        // Where the result turns subnormal, rounds to 0, the clamp, and the
        // smallest normal and subnormal magnitudes.
        let f32_args = [
            -110.0, -104.0, -103.97, -87.34, -87.0, -1.0, -1.2e-38, -1e-45,
        ];
        let f64_args = [
            -760.0, -746.0, -745.1, -708.4, -708.0, -1.0, -2.3e-308, -5e-324,
        ];
        nonpositive::<f32>(&f32_args, -120.0);
        nonpositive::<f64>(&f64_args, -800.0);
    }

    /// Every f32 with its sign bit set (every negative number, `−0`, `−∞`
    /// and the negative NaNs), and `+0`.
    #[test]
    #[ignore = "2^31 evaluations: run in release (see .ci/run)"]
    fn nonpositive_exp_agrees_with_exp_on_every_nonpositive_f32() {
        let nonpositive = (
            "nonpositive",
            exp_v_nonpositive::<f32, S<f32>> as fn(_) -> _,
        );
        agree(S::<f32>::splat(0.0), nonpositive);
        agree_on_bits(1 << 31, u32::MAX, nonpositive);
    }

    /// `exp_v_normal` against `exp_v` at the ends of its domain
    /// `[EXP_NORMAL_MIN, EXP_NORMAL_MAX]`, on `±0`, NaN and `2^20` arguments
    /// spread evenly over it (each in a vector of its neighbours).
    fn normal<T: Real>() {
        let (lo, hi) = (T::EXP_NORMAL_MIN.to_f64(), T::EXP_NORMAL_MAX.to_f64());
        let steps = 1 << 20;
        // (The spread's ends may round outside the domain: clamped.)
        let spread =
            (0..=steps).map(|k| (lo + (hi - lo) * f64::from(k) / f64::from(steps)).clamp(lo, hi));
        let normal = ("normal", exp_v_normal::<T, S<T>> as fn(_) -> _);
        agree_on_args::<T>([lo, hi, 0.0, -0.0].into_iter().chain(spread), normal);
        agree(S::<T>::splat(T::NAN), normal);
    }

    #[test]
    fn normal_exp_agrees_with_exp_on_chosen_and_spread_arguments() {
        normal::<f32>();
        normal::<f64>();
    }

    /// Every f32 in `[EXP_NORMAL_MIN, EXP_NORMAL_MAX]`, in vectors of
    /// consecutive inputs.
    #[test]
    #[ignore = "2^31 evaluations: run in release (see .ci/run)"]
    fn normal_exp_agrees_with_exp_on_every_f32_of_its_domain() {
        let normal = ("normal", exp_v_normal::<f32, S<f32>> as fn(_) -> _);
        // Every bit pattern from +0 up to EXP_NORMAL_MAX, and from −0 up to
        // (in magnitude) −EXP_NORMAL_MIN.
        agree_on_bits(0, f32::EXP_NORMAL_MAX.to_bits(), normal);
        agree_on_bits((-0.0f32).to_bits(), f32::EXP_NORMAL_MIN.to_bits(), normal);
    }

    /// Every pair of argument kinds (`args` and the special values) in one
    /// vector, so the branch sees mixed lanes; and lanes whose result rounds to 0 give exactly 0.
    fn kinds<T: Real>(args: &[f64]) {
        let edges = [
            f64::NEG_INFINITY,
            -1e30,
            0.0,
            -0.0,
            1.0,
            -1.0,
            f64::INFINITY,
            f64::NAN,
        ];
        for &a in edges.iter().chain(args) {
            for &b in edges.iter().chain(args) {
                let mut lanes = S::<T>::splat(T::from_f64(a)).to_array();
                for v in lanes.as_mut().iter_mut().skip(1).step_by(2) {
                    *v = T::from_f64(b);
                }
                check(S::<T>::from_array(lanes));
            }
        }
        for x in [f64::NEG_INFINITY, -1e30, T::EXP_ZERO_BELOW.to_f64()] {
            let e = exp_v_guarded::<T, S<T>>(S::<T>::splat(T::from_f64(x))).to_array();
            assert!(
                e.as_ref().iter().all(|&v| v.to_f64() == 0.0),
                "{}: exp({x:e})",
                T::NAME
            );
        }
    }

    #[test]
    fn guarded_exp_agrees_with_exp_on_every_kind_of_lane() {
        let f32_args = [
            -110.0, -104.0, -103.98, -103.97, -100.0, -87.34, -87.0, -86.99, 88.0, 88.01, 88.7,
            88.8,
        ];
        let f64_args = [
            -760.0, -746.0, -745.2, -745.1, -720.0, -708.4, -708.0, -707.99, 709.0, 709.01, 709.7,
            709.8,
        ];
        kinds::<f32>(&f32_args);
        kinds::<f64>(&f64_args);
    }

    /// Every f32, in vectors of consecutive inputs (each region boundary)
    /// and in vectors whose lanes lie 2^28 apart (every region mixed).
    #[test]
    #[ignore = "2^33 evaluations: run in release (see .ci/run)"]
    fn guarded_exp_agrees_with_exp_on_every_f32() {
        type V = <f32 as crate::real::sealed::Kernel>::Simd;
        crate::math::for_every_f32::<V>(check::<f32, V>);
        let lanes = <V as Vector>::LANES as u32;
        let stride = (1u64 << 32) / u64::from(lanes);
        for base in 0..stride {
            check(V::from_array(core::array::from_fn(|i| {
                f32::from_bits((base + i as u64 * stride) as u32)
            })));
        }
    }
}
