//! The logistic sigmoid `σ(x) = 1/(1 + e^(−x))` and its slope, vectorized.
//!
//! # Derivation
//!
//! With `e = e^(−|x|) ∈ (0, 1]` and `d = 1 + e`: `σ(x) = 1/d` for `x ≥ 0` and
//! `σ(x) = e/d` for `x < 0`. Only one exponential is evaluated, its argument is
//! never positive (no overflow), and the negative side never forms `1 − tiny`:
//! for `x → −∞`, `σ(x) = e/(1+e)` keeps full relative precision down into the
//! subnormals, where the naive `1/(1 + e^(−x))` is off by millions of ulp.
//!
//! The slope `σ'(x) = σ(x)·(1 − σ(x)) = σ(x)·σ(−x) = e/d²`. The form
//! `σ(x)·(1 − σ(x))` loses every digit once `σ(x)` rounds to 1 (x ≳ 17 in f32),
//! so the kernel multiplies the two sides `e/d` and `1/d = 1 − e/d` instead,
//! each accurate to about an ulp.
//!
//! # Special values
//!
//! `σ(+∞) = 1`, `σ(−∞) = 0`, `σ(±0) = ½`, `σ(NaN) = NaN`; `σ'(±∞) = 0`.

use crate::math::exp::{exp_v_guarded, exp_v_nonpositive_scaled, EXP_SCALED_BACK};
use crate::real::Real;
use crate::simd::Vector;

/// `(x < 0, σ(−|x|), σ(|x|))`: the mask and the small and large sides.
///
/// `d = 1 + e` is rounded; its exact error `d_lo = e − (d − 1)` (Fast2Sum,
/// `e ≤ 1`) is folded back in as `e/(d + d_lo) ≈ e/d − (e/d)·(d_lo/d)`.
/// Without this correction `e/(1 + e)` reaches 2.3 ulp in f32.
///
/// One divide serves both sides: `1/d = 1 − e/d`, so the correction's
/// `d_lo/d` is `d_lo − d_lo·(e/d)` (one fused multiply-add; it only scales
/// a term already below an ulp of the result), and the large side is
/// `σ(|x|) = 1 − σ(−|x|)`, whose subtraction rounds once more: the small
/// side's error is unchanged, the large side's grows from 1.16 to 1.19 ulp
/// in f32 (every f32, against the `f64` reference). A zmm divide occupies
/// the divider for several cycles, and the second one waited for the
/// first: on an Intel Xeon (Emerald Rapids) the 5→3→5 batch went from 25.2
/// to 23.6 cycles per sample and one `input_grad` from 163 to 159–160
/// cycles (best of 51, alternating).
///
/// Below `e = ε/8` (`2^-26` in f32, `2^-55` in f64) the correction changes
/// no bit: `d` is 1 and `d_lo = e`, so it subtracts `e·e` from `e` twice
/// (in the correction and in the small side), each time under half the
/// spacing below `e`, and each rounds back (the large side is `1 − e`,
/// which rounds to 1, either way). There `d_lo` is taken as 0, because
/// `e·e` underflows once `|x| ≳ 44` (f32), and on Zen 4 a product that
/// underflows takes a microcode assist (see `math::exp`): saturated hidden
/// units cost the 5→3→5 batch about 15% before. A release test in this
/// module checks every f32 against the form without the cut, bit for bit.
///
/// `−|x|` is `x` with its sign bit set, one bitwise instruction on the
/// chain. (Until session 32 the batch kernels took it by a select on the
/// sign mask, which shared the compare with the final select but put the
/// compare's mask move on the chain. The sign bit took the 5→3→5 batch
/// from 5.81 to 5.61 ns per sample, best of 51, in three builds of
/// different function alignment (5.75–5.76 ns in a first build that
/// changed the batch's sigmoid alone: code placement moves this kernel
/// by about 2%), and criterion's `seed_batch4096` from 23.34–23.47 to
/// 23.02–23.20 µs. On an earlier kernel the same change had made LLVM
/// spill more, 8.61 → 8.78 ns.)
///
/// `exp` gives `E` with `e = E·back`, rounded once: `back = 1`, or `E`
/// scaled up into the normal range by `exp_v_nonpositive_scaled` and
/// `back = EXP_SCALED_BACK`. `d = 1 + e` is `fma(E, back, 1)`, the rounded
/// `1 + e` bit for bit (see `exp_v_nonpositive_scaled`; without FMA it is
/// the product and the sum, the same operations as `1 + e`). Fused, it
/// runs beside `e` rather than after it, so the divide, which waits for
/// `d`, starts one rounding step earlier: the 5→3→5 batch went from 5.86
/// to 5.81 ns per sample (best of 51, Intel Xeon, the same in four builds
/// with different function alignments). With `back = 1` the compiler
/// folds the product and the fused step back into `e` and `1 + e`.
#[inline(always)]
fn sides<T: Real, V: Vector<Elem = T>>(x: V, exp: impl Fn(V) -> V, back: T) -> (V, V, V) {
    sides_exact_below(x, exp, back, T::from_f64(T::EPSILON.to_f64() / 8.0))
}

/// [`sides`] with the correction dropped below `e = exact_below`.
#[inline(always)]
fn sides_exact_below<T: Real, V: Vector<Elem = T>>(
    x: V,
    exp: impl Fn(V) -> V,
    back: T,
    exact_below: T,
) -> (V, V, V) {
    let one = V::splat(T::ONE);
    let zero = V::splat(T::ZERO);
    let neg = x.simd_lt(zero);
    let (big_e, back) = (exp(x.neg_abs()), V::splat(back));
    let e = big_e * back;
    let d = big_e.mul_add(back, one);
    let d_lo = V::select(e.simd_lt(V::splat(exact_below)), zero, e - (d - one));
    let small = e / d;
    let corr = (-d_lo).mul_add(small, d_lo);
    let small = (-small).mul_add(corr, small);
    (neg, small, one - small)
}

/// [`sides`] by the batch kernels' exponential of `−|x|`, scaled.
#[inline(always)]
fn sides_by_scaled_exp<T: Real, V: Vector<Elem = T>>(x: V) -> (V, V, V) {
    let back = T::from_f64(EXP_SCALED_BACK);
    sides::<T, V>(x, exp_v_nonpositive_scaled::<T, V>, back)
}

/// `σ(x)` on every lane.
#[inline(always)]
pub(crate) fn sigmoid_v<T: Real, V: Vector<Elem = T>>(x: V) -> V {
    let (neg, small, big) = sides_by_scaled_exp::<T, V>(x);
    V::select(neg, small, big)
}

/// `(σ(x), σ(x)·σ(−x))` on every lane: the activation and its slope.
#[inline(always)]
pub(crate) fn sigmoid_and_slope_v<T: Real, V: Vector<Elem = T>>(x: V) -> (V, V) {
    let (neg, small, big) = sides_by_scaled_exp::<T, V>(x);
    (V::select(neg, small, big), small * big)
}

/// [`sigmoid_and_slope_v`] through `exp_v_guarded`, for the latency-bound
/// one-sample kernels. (`−|x|` by the sign bit, rather than by a compare,
/// a mask move and a select, took their 5→3→5 `input_grad` from 179 to
/// 173 cycles, best of 51.)
#[inline(always)]
pub(crate) fn sigmoid_and_slope_guarded_v<T: Real, V: Vector<Elem = T>>(x: V) -> (V, V) {
    let (neg, small, big) = sides::<T, V>(x, exp_v_guarded::<T, V>, T::ONE);
    (V::select(neg, small, big), small * big)
}

#[cfg(test)]
mod tests {
    use super::{sides, sides_exact_below, sigmoid_and_slope_guarded_v, sigmoid_and_slope_v};
    use crate::math::exp::exp_v;
    use crate::simd::Vector;

    /// Asserts, lane by lane, that each pair `(what, a, b)` holds the same
    /// bits, or NaN in both; `how` names the two forms compared.
    fn assert_same_bits<V: Vector<Elem = f32>>(x: V, pairs: [(&str, V, V); 2], how: (&str, &str)) {
        for (i, &xi) in x.to_array().as_ref().iter().enumerate() {
            for (what, a, b) in pairs {
                let (a, b) = (a.to_array().as_ref()[i], b.to_array().as_ref()[i]);
                assert!(
                    a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                    "{what}({xi:e}): {a:e} {}, {b:e} {}",
                    how.0,
                    how.1
                );
            }
        }
    }

    /// Both sides, lane by lane, with and without the correction dropped
    /// for tiny `e`: the same bits, or both NaN.
    fn check<V: Vector<Elem = f32>>(x: V) {
        let (_, small, big) = sides::<f32, V>(x, exp_v::<f32, V>, 1.0);
        let (_, small0, big0) = sides_exact_below::<f32, V>(x, exp_v::<f32, V>, 1.0, 0.0);
        assert_same_bits(
            x,
            [("σ side small", small, small0), ("σ side big", big, big0)],
            ("with the cut", "without"),
        );
    }

    #[test]
    fn dropping_the_correction_for_tiny_e_changes_no_bit_at_chosen_inputs() {
        type V = <f32 as crate::real::sealed::Kernel>::Simd;
        for x in [
            0.0f32, 1.0, 17.0, 18.0, 18.02, 18.03, 30.0, 44.0, 80.0, 100.0, 200.0,
        ] {
            check(V::splat(x));
            check(V::splat(-x));
        }
    }

    #[test]
    #[ignore = "2^32 inputs: run in release (see .ci/run)"]
    fn dropping_the_correction_for_tiny_e_changes_no_bit_on_every_f32() {
        type V = <f32 as crate::real::sealed::Kernel>::Simd;
        crate::math::for_every_f32::<V>(check);
    }

    /// The one-sample kernels' sigmoid and slope (the guarded `exp`, and
    /// `1 + e` from `e`) against the batch kernels' (the scaled
    /// non-positive `exp`, and `1 + e` fused from it): the same bits, or
    /// both NaN.
    fn check_guarded<V: Vector<Elem = f32>>(x: V) {
        let (h, slope) = sigmoid_and_slope_guarded_v::<f32, V>(x);
        let (h0, slope0) = sigmoid_and_slope_v::<f32, V>(x);
        assert_same_bits(
            x,
            [("σ", h, h0), ("σ'", slope, slope0)],
            ("one-sample", "batch"),
        );
    }

    #[test]
    fn one_sample_and_batch_sigmoids_agree_at_chosen_inputs() {
        type V = <f32 as crate::real::sealed::Kernel>::Simd;
        for x in [
            0.0f32,
            1e-45,
            1.0,
            17.0,
            44.0,
            87.0,
            88.0,
            104.0,
            f32::MAX,
            f32::INFINITY,
            f32::NAN,
        ] {
            check_guarded(V::splat(x));
            check_guarded(V::splat(-x));
        }
    }

    #[test]
    #[ignore = "2^32 inputs: run in release (see .ci/run)"]
    fn one_sample_and_batch_sigmoids_agree_on_every_f32() {
        type V = <f32 as crate::real::sealed::Kernel>::Simd;
        crate::math::for_every_f32::<V>(check_guarded);
    }
}
