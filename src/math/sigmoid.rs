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
//! so the kernel multiplies the two sides `e/d` and `1/d` instead, each
//! accurate to an ulp.
//!
//! # Special values
//!
//! `σ(+∞) = 1`, `σ(−∞) = 0`, `σ(±0) = ½`, `σ(NaN) = NaN`; `σ'(±∞) = 0`.

use crate::math::exp::{exp_v, exp_v_guarded};
use crate::real::Real;
use crate::simd::Vector;

/// `(x < 0, σ(−|x|), σ(|x|))`: the mask and the small and large sides.
///
/// `d = 1 + e` is rounded; its exact error `d_lo = e − (d − 1)` (Fast2Sum,
/// `e ≤ 1`) is folded back in as `v/(d + d_lo) ≈ v − v·(d_lo/d)`, so the
/// only remaining roundings are those of `e` and the two quotients. Without
/// this correction `e/(1 + e)` reaches 2.3 ulp in f32.
#[inline(always)]
fn sides<T: Real, V: Vector<Elem = T>>(x: V, exp: impl Fn(V) -> V) -> (V, V, V) {
    let one = V::splat(T::ONE);
    let neg = x.simd_lt(V::splat(T::ZERO));
    let minus_abs = V::select(neg, x, -x);
    let e = exp(minus_abs);
    let d = one + e;
    let d_lo = e - (d - one);
    let big = one / d;
    let small = e / d;
    let corr = d_lo * big;
    (neg, small - small * corr, big - big * corr)
}

/// `σ(x)` on every lane.
#[inline(always)]
pub(crate) fn sigmoid_v<T: Real, V: Vector<Elem = T>>(x: V) -> V {
    let (neg, small, big) = sides::<T, V>(x, exp_v::<T, V>);
    V::select(neg, small, big)
}

/// `(σ(x), σ(x)·σ(−x))` on every lane: the activation and its slope.
#[inline(always)]
pub(crate) fn sigmoid_and_slope_v<T: Real, V: Vector<Elem = T>>(x: V) -> (V, V) {
    let (neg, small, big) = sides::<T, V>(x, exp_v::<T, V>);
    (V::select(neg, small, big), small * big)
}

/// [`sigmoid_and_slope_v`] through `exp_v_guarded`.
#[inline(always)]
pub(crate) fn sigmoid_and_slope_guarded_v<T: Real, V: Vector<Elem = T>>(x: V) -> (V, V) {
    let (neg, small, big) = sides::<T, V>(x, exp_v_guarded::<T, V>);
    (V::select(neg, small, big), small * big)
}
