//! Vectorized elementwise and row kernels: `exp`, `sigmoid`, `softmax`,
//! `log_softmax`, `logsumexp` and `cross_entropy`.
//!
//! Each kernel is written once, generic over the element type ([`Real`]), on
//! the SIMD lane type that `simd.rs` picks for the build. Its derivation
//! lives in the submodule that implements it; its accuracy is stated on the
//! public function below and tabulated, with how it was verified, in
//! `ACCURACY.md`. Plain scalar f64 references (built on std's libm) are in
//! the module `reference` when the `std` feature (a default) is on.
#![cfg_attr(feature = "std", doc = "")]
#![cfg_attr(feature = "std", doc = "See [`reference`](mod@reference).")]
//!
//! Rows are [`RowVec`]s; the elementwise kernels also work on slices of any
//! length (`*_in_place`).

pub(crate) mod exp;
pub(crate) mod ln;
#[cfg(feature = "std")]
pub mod reference;
pub(crate) mod sigmoid;
pub(crate) mod softmax;

use crate::mat::RowVec;
use crate::real::Real;
use crate::simd::{self, Vector};
use crate::target::Target;

#[inline(always)]
fn map_in_place<T: Real>(xs: &mut [T], f: impl Fn(T::Simd) -> T::Simd) {
    let lanes = <T::Simd as Vector>::LANES;
    let mut chunks = xs.chunks_exact_mut(lanes);
    for chunk in &mut chunks {
        let v = simd::load::<T::Simd>(chunk, T::ZERO);
        simd::store(f(v), chunk);
    }
    let tail = chunks.into_remainder();
    if !tail.is_empty() {
        let v = simd::load::<T::Simd>(tail, T::ZERO);
        simd::store(f(v), tail);
    }
}

/// `e^x` for every element of a slice, in place.
///
/// # Accuracy
///
/// f32: at most 1 ulp over every finite input whose result is a normal f32
/// (measured exhaustively over all 2³² inputs; see `ACCURACY.md` for the
/// measured maximum), results in the subnormal range rounded once.
/// f64: at most 1 ulp (measured on ≥ 10⁹ inputs).
/// `exp(−∞) = 0`, `exp(+∞) = +∞`, `exp(NaN) = NaN`, `+∞` above the overflow
/// threshold (f32: 88.72283…), 0 or a subnormal below the normal range.
///
/// # Examples
///
/// ```
/// let mut xs = [0.0f32, 1.0, -1.0, f32::NEG_INFINITY, 100.0];
/// constgrad::math::exp_in_place(&mut xs);
/// assert_eq!(xs[0], 1.0);
/// assert!((xs[1] - core::f32::consts::E).abs() <= f32::EPSILON * 3.0);
/// assert_eq!(xs[3], 0.0);
/// assert_eq!(xs[4], f32::INFINITY);
/// ```
pub fn exp_in_place<T: Real>(xs: &mut [T]) {
    map_in_place(xs, exp::exp_v::<T, T::Simd>);
}

/// `σ(x) = 1/(1 + e^(−x))` for every element of a slice, in place.
///
/// Derivative: `σ'(x) = σ(x)·σ(−x)`.
///
/// # Accuracy
///
/// f32: at most 2 ulp over all 2³² inputs (subnormal results counted in
/// subnormal ulps; measured exhaustively, see `ACCURACY.md`). f64: at most 2
/// ulp. `σ(+∞) = 1`, `σ(−∞) = 0`, `σ(±0) = 0.5`, `σ(NaN) = NaN`.
///
/// # Examples
///
/// ```
/// let mut xs = [0.0f32, 100.0, -100.0];
/// constgrad::math::sigmoid_in_place(&mut xs);
/// assert_eq!(xs[0], 0.5);
/// assert_eq!(xs[1], 1.0);
/// assert!(xs[2] > 0.0 && xs[2] < 1e-43); // e^-100, subnormal, not 0
/// ```
pub fn sigmoid_in_place<T: Real>(xs: &mut [T]) {
    map_in_place(xs, sigmoid::sigmoid_v::<T, T::Simd>);
}

/// `e^x`, elementwise. See [`exp_in_place`] for accuracy and special values.
///
/// # Examples
///
/// ```
/// use constgrad::{math, RowVec};
/// let y = math::exp(&RowVec::from_row([0.0f32, f32::NEG_INFINITY]));
/// assert_eq!(y.row(), &[1.0, 0.0]);
/// ```
#[must_use]
pub fn exp<const N: usize, T: Real>(x: &RowVec<N, T>) -> RowVec<N, T> {
    let mut y = *x;
    exp_in_place(y.row_mut());
    y
}

/// `σ(x)`, elementwise. See [`sigmoid_in_place`] for accuracy and special values.
///
/// # Examples
///
/// ```
/// use constgrad::{math, RowVec};
/// let y = math::sigmoid(&RowVec::from_row([0.0f32, f32::INFINITY]));
/// assert_eq!(y.row(), &[0.5, 1.0]);
/// ```
#[must_use]
pub fn sigmoid<const N: usize, T: Real>(x: &RowVec<N, T>) -> RowVec<N, T> {
    let mut y = *x;
    sigmoid_in_place(y.row_mut());
    y
}

/// `softmax(θ)_j = e^(θ_j) / Σ_k e^(θ_k)`, computed as `e^(θ_j − m)/Σ e^(θ_k − m)`
/// with `m = max θ`.
///
/// Derivative: `∂softmax_j/∂θ_k = softmax_j·(δ_jk − softmax_k)`.
///
/// # Accuracy
///
/// Each output within 10 ulp of the exact softmax of the given logits, f32
/// and f64 alike, whatever the row's length, and the outputs sum to 1 within
/// `N` ulp of `ε/2` (measured on 10⁸ random rows of 2 to 33 logits and 10⁶
/// of 100 to 4096 per precision, `ACCURACY.md`). The rounding of `θ_j − m`
/// is recovered exactly and passed to `exp`, which would otherwise turn half
/// an ulp of `|θ_j − m|` into the same relative error (up to 64 f32 ulps),
/// and a row of more than 16 f32 (8 f64) logits sums with compensation, so
/// its sum does not drift with `N` (plain sums cost 38 f32 ulps at
/// N = 4096); a shorter row is one vector, one term per lane, on every
/// build.
/// No overflow for any finite logits. A `−∞` logit gives exactly 0. A NaN or
/// `+∞` logit, or a row of only `−∞`, gives NaN everywhere.
///
/// # Examples
///
/// ```
/// use constgrad::{math, RowVec};
/// let p = math::softmax(&RowVec::from_row([1000.0f32, 1000.0, f32::NEG_INFINITY]));
/// assert_eq!(p.row(), &[0.5, 0.5, 0.0]);
/// ```
#[must_use]
pub fn softmax<const N: usize, T: Real>(theta: &RowVec<N, T>) -> RowVec<N, T> {
    let mut e = RowVec::<N, T>::zeros();
    let stats = softmax::exp_shifted(theta.row(), e.row_mut());
    softmax::div_row(e.row_mut(), stats.sum);
    e
}

/// `log_softmax(θ)_j = θ_j − logsumexp(θ)`, computed as `(θ_j − m) − ln s`.
///
/// Derivative: `∂log_softmax_j/∂θ_k = δ_jk − softmax_k`.
///
/// # Accuracy
///
/// Within 10 ulp of the exact value, as [`softmax()`] (see `ACCURACY.md`).
/// Every output is `≤ 0`. A NaN logit or a row of only `−∞` gives NaN
/// everywhere; a `+∞` logit gives `−∞` at the finite logits (their
/// probabilities tend to 0) and NaN at the `+∞` ones.
///
/// # Examples
///
/// ```
/// use constgrad::{math, RowVec};
/// let l = math::log_softmax(&RowVec::from_row([0.0f32, 0.0]));
/// assert!((l[(0, 0)] + core::f32::consts::LN_2).abs() < 1e-7);
/// ```
#[must_use]
pub fn log_softmax<const N: usize, T: Real>(theta: &RowVec<N, T>) -> RowVec<N, T> {
    let mut e = RowVec::<N, T>::zeros();
    let stats = softmax::exp_shifted(theta.row(), e.row_mut());
    let ln_s = stats.ln_sum();
    theta.map(|t| (t - stats.shift) - ln_s)
}

/// `logsumexp(θ) = ln Σ_j e^(θ_j)`, computed as `m + ln(1 + ρ)`.
///
/// Derivative: `∂logsumexp/∂θ = softmax(θ)`.
///
/// # Accuracy
///
/// Within 4 ulp of `|m| + ln s`, f32 and f64 (see `ACCURACY.md`). Never
/// overflows for finite logits.
/// `+∞` if any logit is `+∞`; `−∞` for a row of only `−∞` and for `N = 0`;
/// NaN if any logit is NaN.
///
/// # Examples
///
/// ```
/// use constgrad::{math, RowVec};
/// let l = math::logsumexp(&RowVec::from_row([1e30f32, 0.0]));
/// assert_eq!(l, 1e30);
/// ```
#[must_use]
pub fn logsumexp<const N: usize, T: Real>(theta: &RowVec<N, T>) -> T {
    if N == 0 {
        return T::NEG_INFINITY;
    }
    let mut e = RowVec::<N, T>::zeros();
    let stats = softmax::exp_shifted(theta.row(), e.row_mut());
    stats.shift + stats.ln_sum()
}

/// Cross-entropy from logits: `L = logsumexp(θ)·Σy − y·θ = −Σ_j y_j·log softmax(θ)_j`.
///
/// Derivative: `∂L/∂θ = softmax(θ)·Σy − y` (`= ŷ − y` when `Σy = 1`).
///
/// Computed as `Σ_j y_j·(m − θ_j) + Σy·ln s` with `m = max θ`, both parts
/// `≥ 0` for `y ≥ 0`, never as `log(softmax)`. For a class label `l` that
/// is `(m − θ_l) + ln(1 + ρ)`.
///
/// # Accuracy
///
/// Within 10 ulp (class label) or 8 ulp (probabilities) of the exact loss
/// of the given logits, as [`softmax()`] (see `ACCURACY.md`); `≥ 0` and finite for finite
/// logits when `y ≥ 0`. A target entry of exactly 0 contributes 0 even at a
/// `−∞` logit; positive target mass at a `−∞` logit gives `+∞`. NaN
/// propagates.
///
/// # Examples
///
/// ```
/// use constgrad::{math, RowVec, Target};
/// let theta = RowVec::from_row([2.0f32, 0.0, 0.0]);
/// let l = math::cross_entropy(&theta, &Target::class(0)?);
/// let exact = (1.0f64 + 2.0 * (-2.0f64).exp()).ln();
/// assert!((l as f64 - exact).abs() < 1e-7);
/// # Ok::<(), constgrad::Error>(())
/// ```
#[must_use]
pub fn cross_entropy<const N: usize, T: Real>(theta: &RowVec<N, T>, target: &Target<N, T>) -> T {
    if N == 0 {
        return T::ZERO;
    }
    let mut e = RowVec::<N, T>::zeros();
    let stats = softmax::exp_shifted(theta.row(), e.row_mut());
    match target {
        Target::Class(l) => stats.class_loss(theta.row().get(l.get()).copied().unwrap_or(T::NAN)),
        Target::Probs(y) => softmax::soft_xent(theta.row(), y.row(), &stats),
    }
}

/// Calls `f` on every f32 bit pattern, `V::LANES` consecutive patterns per
/// vector: the exhaustive tests' loop.
#[cfg(test)]
pub(crate) fn for_every_f32<V: Vector<Elem = f32>>(mut f: impl FnMut(V)) {
    for base in (0..=u32::MAX).step_by(V::LANES) {
        let mut a = V::splat(0.0).to_array();
        for (i, v) in a.as_mut().iter_mut().enumerate() {
            *v = f32::from_bits(base + i as u32);
        }
        f(V::from_array(a));
    }
}
