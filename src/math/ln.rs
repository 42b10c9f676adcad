//! Natural logarithm kernels, used by `logsumexp`, `log_softmax` and
//! `cross_entropy`.
//!
//! # Derivation
//!
//! For positive normal `x`, split `x = 2^k · m` with `m ∈ [√½, √2)` (by
//! integer work on the bits alone: see `Vector::split_exponent`), and let
//! `f = m − 1` (exact). With `s = f/(2 + f)`, `ln(1 + f) = 2·atanh(s) =
//! 2s + s·R(s²)`, `R(z) = Σ_{k≥1} 2 z^k/(2k+1)`, and since `2s = f − s·f`,
//! `ln(1 + f) = f − s·(f − R)`: the leading term `f` is exact and the
//! correction is at most 7% of it. `|s| ≤ 0.1716`, so few terms of `R` are
//! needed (4 for f32, 10 for f64). Then `ln x = k·LN2_HI + (f − (s·(f − R)
//! − k·LN2_LO))`: the low part of `k·ln 2` joins the small correction, so
//! the result is rounded twice at its own scale. Rounding `ln(1 + f)` first
//! and adding `k·LN2_LO` to it (before session 19) rounded three times,
//! which cost up to 1.19 ulp in f64 where `ln m` (about `−ln 2/2`, for
//! `1 + u` just above `√2`) is as large as the result; now 0.86.
//!
//! `ln(1 + u)` for `u ≥ 0`: `v = 1 + u` rounds, but its rounding error
//! `c = u − (v − 1)` is exact, and `ln(1 + u) = ln v + ln(1 + c/v)`, where
//! `|c/v| ≤ 2^-24` (f32), so `ln(1 + c/v) = c/v` to far below an ulp. The
//! correction joins `ln v`'s small terms before its last rounding. `c/v`
//! needs only `v`, so its divide runs beside `ln v` instead of after it.
//! Every finite f32 `u ≥ 0` is within 0.92 ulp, and 2^28 f64 `u ≥ 0`
//! spread over every binade within 0.91 ulp (`ACCURACY.md`). The
//! classical `ln(v)·u/(v − 1)`, used before session 17, over-corrects as
//! `u` grows (2.47 ulp at `u ≈ 1.7·10⁷`) and overflows `ln(v)·u` near
//! `f32::MAX`; it also cost a compare and a select for `v = 1`, which the
//! correction handles by itself (`ln 1 = 0`, `c = u`).

use crate::math::exp::estrin;
use crate::real::Real;
use crate::simd::Vector;

/// `ln x + t` for lanes holding positive, normal, finite `x` and a small
/// correction `t` (`ln_1p_v`'s is at most half an ulp of `x`, over `x`;
/// other lanes: unspecified, never a trap). `t` joins the small terms
/// before the last two roundings, so it costs no rounding of its own.
#[inline(always)]
fn ln_plus_v<T: Real, V: Vector<Elem = T>>(x: V, t: V) -> V {
    let s = V::splat;
    let (k, m) = V::split_exponent(x);
    let f = m - s(T::ONE);
    let q = f / (f + s(T::from_f64(2.0)));
    let z = q * q;
    let r = z * estrin::<T, V>(z, T::LN_TAYLOR);
    // k·LN2_LO + ln m + t = f − (q·(f − R) − (t + k·LN2_LO)), f exact: the
    // low part of k·ln 2 joins the small terms too, so the sum is rounded
    // only twice at its own scale (once for f − …, once for k·LN2_HI + …).
    let t = k.mul_add(s(T::LN2_LO), t);
    let ln_m = f - q.mul_add(f - r, -t);
    k.mul_add(s(T::LN2_HI), ln_m)
}

/// `ln(1 + u)` for lanes holding `u ≥ 0` (NaN propagates).
#[inline(always)]
pub(crate) fn ln_1p_v<T: Real, V: Vector<Elem = T>>(u: V) -> V {
    let one = V::splat(T::ONE);
    let v = u + one;
    // v's rounding error, exactly (v − 1 is exact below 2^mant_bits, and
    // above it the error is below ln v's last bit), and ln(1 + u) =
    // ln v + ln(1 + c/v) = ln v + c/v to far below an ulp (|c/v| ≤ ε/2).
    // The divide waits only for v, so it runs beside ln v.
    let c = u - (v - one);
    ln_plus_v::<T, V>(v, c / v)
}

// The ulp metrics, double-double arithmetic and the `ln(1 + u)` reference
// the tests measure against, shared with the integration tests.
#[cfg(test)]
#[path = "../../tests/accuracy_support/dd.rs"]
mod dd;

#[cfg(test)]
mod tests {
    use super::dd::{dd_ln_1p, ulp_err_f32, ulp_err_f64_dd};
    use super::ln_1p_v;
    use crate::real::Real;
    use crate::simd::Vector;

    /// The bounds `ACCURACY.md` states for `ln(1 + u)`, `u ≥ 0`: f32, f64.
    const LN_1P_ULP: f64 = 1.0;
    const LN_1P_ULP_F64: f64 = 1.0;

    /// The f32 error against std's f64 `ln_1p` (within 2^-52 relative, far
    /// below an f32 ulp).
    fn err_f32(u: f32, got: f32) -> f64 {
        ulp_err_f32(got, f64::from(u).ln_1p())
    }

    /// The f64 error against the double-double reference (~2^-100
    /// relative).
    fn err_f64(u: f64, got: f64) -> f64 {
        ulp_err_f64_dd(got, dd_ln_1p(u), 0)
    }

    /// The largest error of `ln_1p_v` over the bit patterns `from, from +
    /// step, …` below `to`: `(ulps, at u)`.
    fn sweep<T: Real>(
        from: u64,
        to: u64,
        step: u64,
        of_bits: fn(u64) -> T,
        err: fn(T, T) -> f64,
    ) -> (f64, T) {
        let lanes = <T::Simd as Vector>::LANES as u64;
        let mut worst = (0.0, T::ZERO);
        let mut base = from;
        while base < to {
            let mut a = T::Simd::splat(T::ZERO).to_array();
            for (i, v) in a.as_mut().iter_mut().enumerate() {
                *v = of_bits((base + i as u64 * step).min(to - 1));
            }
            let got = ln_1p_v::<T, T::Simd>(T::Simd::from_array(a)).to_array();
            for (&u, &g) in a.as_ref().iter().zip(got.as_ref()) {
                let e = err(u, g);
                if e > worst.0 || e.is_nan() {
                    worst = (e, u);
                }
            }
            base = base.saturating_add(lanes * step);
        }
        worst
    }

    /// `ln_1p_v` of four values (each repeated across the lanes).
    fn ln_1p_of<T: Real>(u: [T; 4]) -> [T; 4] {
        let mut a = T::Simd::splat(T::ZERO).to_array();
        for (i, v) in a.as_mut().iter_mut().enumerate() {
            *v = u[i % 4];
        }
        let got = ln_1p_v::<T, T::Simd>(T::Simd::from_array(a)).to_array();
        core::array::from_fn(|i| got.as_ref()[i])
    }

    fn sweep_f32(from: u32, to: u32, step: u32) -> (f64, f32) {
        let of_bits = |b: u64| f32::from_bits(b as u32);
        sweep(
            u64::from(from),
            u64::from(to),
            u64::from(step),
            of_bits,
            err_f32,
        )
    }

    fn sweep_f64(from: u64, to: u64, step: u64) -> (f64, f64) {
        sweep(from, to, step, f64::from_bits, err_f64)
    }

    #[test]
    fn ln_1p_f32_within_1_ulp_on_a_sample_of_every_binade() {
        // Every finite u ≥ 0 (bit patterns below +∞'s), 9973 patterns apart.
        let (err, at) = sweep_f32(0, 0x7f80_0000, 9973);
        assert!(err <= LN_1P_ULP, "ln_1p: {err} ulp at u = {at:e}");
        // Every u in [0, 16], where the kernels' `ρ` lies for rows of up
        // to 17 logits, 97 patterns apart.
        let (err, at) = sweep_f32(0, 16f32.to_bits() + 1, 97);
        assert!(err <= LN_1P_ULP, "ln_1p: {err} ulp at u = {at:e}");
        // Exact cases.
        assert_eq!(
            ln_1p_of([0.0f32, 1e-40, 1e-30, 1.0]),
            [0.0, 1e-40, 1e-30, core::f32::consts::LN_2]
        );
    }

    /// Every finite f32 `u ≥ 0`, two threads.
    #[test]
    #[ignore = "2^31 inputs: run in release (see .ci/run)"]
    fn ln_1p_f32_within_1_ulp_on_every_nonnegative_f32() {
        let half = 0x7f80_0000u32 / 2;
        let (a, b) = std::thread::scope(|s| {
            let low = s.spawn(|| sweep_f32(0, half, 1));
            let high = sweep_f32(half, 0x7f80_0000, 1);
            (low.join().unwrap(), high)
        });
        let (err, at) = if a.0 >= b.0 { a } else { b };
        std::println!(
            "ln_1p f32, every finite u ≥ 0: max {err:.4} ulp at u = {at:e} ({:#010x})",
            at.to_bits()
        );
        assert!(err <= LN_1P_ULP, "ln_1p: {err} ulp at u = {at:e}");
    }

    /// f64 bit patterns of every finite `u ≥ 0`, and of `[0, 16]`.
    const F64_ALL: u64 = 0x7ff0_0000_0000_0000;
    const F64_TO_16: u64 = 0x4030_0000_0000_0001;

    /// `n` points: the patterns `[0, to)` in `n` equal steps (odd, so the
    /// low bits vary too).
    fn f64_step(to: u64, n: u64) -> u64 {
        (to / n) | 1
    }

    #[test]
    fn ln_1p_f64_within_1_ulp_on_a_sample_of_every_binade() {
        let n = if cfg!(debug_assertions) {
            1 << 14
        } else {
            1 << 18
        };
        let (err, at) = sweep_f64(0, F64_ALL, f64_step(F64_ALL, n));
        assert!(err <= LN_1P_ULP_F64, "ln_1p: {err} ulp at u = {at:e}");
        let (err, at) = sweep_f64(0, F64_TO_16, f64_step(F64_TO_16, n));
        assert!(err <= LN_1P_ULP_F64, "ln_1p: {err} ulp at u = {at:e}");
        // And [0.25, 0.5], where `ln m` is as large as the result.
        let (from, to) = (0.25f64.to_bits(), 0.5f64.to_bits());
        let (err, at) = sweep_f64(from, to, f64_step(to - from, n));
        assert!(err <= LN_1P_ULP_F64, "ln_1p: {err} ulp at u = {at:e}");
        // Exact cases: subnormal and tiny u are returned as they are.
        assert_eq!(
            ln_1p_of([0.0f64, 5e-324, 1e-300, 1.0]),
            [0.0, 5e-324, 1e-300, core::f64::consts::LN_2]
        );
    }

    /// 2^27 f64 patterns spread over every finite `u ≥ 0` and 2^27 over
    /// `[0, 16]`, one per thread.
    #[test]
    #[ignore = "2^28 inputs against a double-double reference: run in release (see .ci/run)"]
    fn ln_1p_f64_within_1_ulp_on_2_pow_28_inputs() {
        let n = 1 << 27;
        let (a, b) = std::thread::scope(|s| {
            let all = s.spawn(|| sweep_f64(0, F64_ALL, f64_step(F64_ALL, n)));
            let low = sweep_f64(0, F64_TO_16, f64_step(F64_TO_16, n));
            (all.join().unwrap(), low)
        });
        for ((err, at), over) in [(a, "every finite u ≥ 0"), (b, "[0, 16]")] {
            std::println!(
                "ln_1p f64, 2^27 points of {over}: max {err:.4} ulp at u = {at:e} ({:#018x})",
                at.to_bits()
            );
            assert!(err <= LN_1P_ULP_F64, "ln_1p: {err} ulp at u = {at:e}");
        }
    }
}
