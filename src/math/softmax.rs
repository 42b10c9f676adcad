//! Softmax, log-softmax, logsumexp and cross-entropy, from one pass over the
//! logits.
//!
//! # Derivation
//!
//! With `m = max_j θ_j` and `e_j = e^(θ_j − m) ∈ [0, 1]`, `s = Σ_j e_j ≥ 1`:
//!
//! - `softmax(θ)_j = e_j / s` (no overflow: every `e_j ≤ 1`);
//! - `logsumexp(θ) = m + ln s`;
//! - `log_softmax(θ)_j = (θ_j − m) − ln s`, never `ln(softmax)`, so no `ln 0`;
//! - `xent(y, θ) = Σ_j y_j·(logsumexp(θ) − θ_j) = Σ_j y_j·((m − θ_j) + ln s)`.
//!
//! Every term of the last sum is `≥ 0` when `y ≥ 0`, so the loss is `≥ 0`
//! without cancellation. `ln s` is computed as `ln(1 + ρ)` where
//! `ρ = s − 1 = Σ_{j: θ_j ≠ m} e_j + (number of maxima − 1)` is summed
//! directly (the maxima contribute exactly 1 each), so a confident row with a
//! tiny loss keeps its relative precision instead of rounding `1 + ρ` first.
//!
//! Lanes past the end of the row are padded with `−∞` before the max and the
//! exponentials (so they contribute `e = 0`), never with 0.
//!
//! # Special values
//!
//! A `−∞` logit is a probability of exactly 0 (fine as long as some logit is
//! finite). NaN anywhere makes every output NaN. A `+∞` logit gives
//! `logsumexp = +∞`, NaN softmax everywhere, and a log-softmax of `−∞` at
//! the finite logits (the limit: their probabilities tend to 0) and NaN at
//! the `+∞` ones; the cross-entropy is `+∞` if the target puts mass on a
//! finite logit only, NaN if on a `+∞` one. A row of all `−∞` gives
//! `logsumexp = −∞` and NaN softmax / log-softmax. An empty row (`N = 0`)
//! has `logsumexp = −∞` and cross-entropy 0.

use crate::math::exp::exp_v;
use crate::math::ln::ln_1p_v;
use crate::real::Real;
use crate::simd::{self, Vector};

/// `m`, `s` and `ρ = s − 1` of a row of logits; see the module docs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowStats<T> {
    /// `max_j θ_j`.
    pub max: T,
    /// `s = Σ_j e^(θ_j − m)`.
    pub sum: T,
    /// `ρ = s − 1`, summed without cancellation.
    pub rest: T,
}

impl<T: Real> RowStats<T> {
    /// `ln s`, accurately.
    #[inline(always)]
    pub fn ln_sum(&self) -> T {
        simd::lane(ln_1p_v::<T>(<T::Simd as Vector>::splat(self.rest)), 0)
    }
}

/// Writes `e_j = e^(θ_j − m)` into `e` and returns the row's statistics.
#[inline(always)]
pub(crate) fn exp_shifted<T: Real, const N: usize>(theta: &[T; N], e: &mut [T; N]) -> RowStats<T> {
    let lanes = <T::Simd as Vector>::LANES;
    let splat = <T::Simd as Vector>::splat;
    let ninf = T::NEG_INFINITY;
    // Pass 1: the maximum, lanes past the end padded with −∞.
    let mut vmax = splat(ninf);
    let mut start = 0;
    while start < N {
        let v = simd::load::<T::Simd>(&theta[start..], ninf);
        vmax = vmax.max(v);
        start += lanes;
    }
    let max = vmax.reduce_max();
    let m = splat(max);
    // Pass 2: the exponentials, their sum, and the sum without the maxima.
    let zero = splat(T::ZERO);
    let one = splat(T::ONE);
    let mut sum = zero;
    let mut rest = zero;
    let mut ties = zero;
    let mut start = 0;
    while start < N {
        let v = simd::load::<T::Simd>(&theta[start..], ninf);
        let ev = exp_v::<T>(v - m);
        let at_max = v.simd_eq(m);
        sum = sum + ev;
        rest = rest + <T::Simd as Vector>::select(at_max, zero, ev);
        ties = ties + (at_max & one);
        simd::store(ev, &mut e[start..]);
        start += lanes;
    }
    RowStats {
        max,
        sum: sum.reduce_add(),
        rest: rest.reduce_add() + (ties.reduce_add() - T::ONE),
    }
}

/// `out_j = num_j / den` over a row, vectorized (a true division).
#[inline(always)]
pub(crate) fn div_row<T: Real, const N: usize>(num: &[T; N], den: T, out: &mut [T; N]) {
    let lanes = <T::Simd as Vector>::LANES;
    let d = <T::Simd as Vector>::splat(den);
    let mut start = 0;
    while start < N {
        let v = simd::load::<T::Simd>(&num[start..], T::ZERO);
        simd::store(v / d, &mut out[start..]);
        start += lanes;
    }
}

/// `Σ_j y_j·((m − θ_j) + ln s)` with terms where `y_j = 0` counted as 0 (so a
/// `−∞` logit with zero target mass costs nothing).
#[inline(always)]
pub(crate) fn soft_xent<T: Real, const N: usize>(
    theta: &[T; N],
    y: &[T; N],
    stats: &RowStats<T>,
) -> T {
    let lanes = <T::Simd as Vector>::LANES;
    let splat = <T::Simd as Vector>::splat;
    let zero = splat(T::ZERO);
    let m = splat(stats.max);
    let ln_s = splat(stats.ln_sum());
    let mut acc = zero;
    let mut start = 0;
    while start < N {
        let t = simd::load::<T::Simd>(&theta[start..], T::ZERO);
        let yv = simd::load::<T::Simd>(&y[start..], T::ZERO);
        let term = yv * ((m - t) + ln_s);
        acc = acc + <T::Simd as Vector>::select(yv.simd_eq(zero), zero, term);
        start += lanes;
    }
    acc.reduce_add()
}
