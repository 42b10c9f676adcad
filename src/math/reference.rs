//! Plain scalar references in `f64`, built on std's libm (feature `std`).
//!
//! These are the textbook formulas, evaluated in double precision one element
//! at a time. They are slow and they are not the crate's kernels: tests use
//! them as an independent route to the expected values, and users can do the
//! same.

use std::vec::Vec;

/// `e^x`.
///
/// # Examples
///
/// ```
/// use constgrad::math::reference::exp;
/// assert_eq!(exp(0.0), 1.0);
/// // ln 2 is rounded to f64 (half an ulp, 5.6e-17), exp adds about one more
/// // ulp: 1e-15 is a few ulps of 2.
/// assert!((exp(2f64.ln()) - 2.0).abs() < 1e-15);
/// ```
#[must_use]
pub fn exp(x: f64) -> f64 {
    x.exp()
}

/// `σ(x)`, as `1/(1+e^(−x))` for `x ≥ 0` and `e^x/(1+e^x)` for `x < 0`.
///
/// # Examples
///
/// ```
/// use constgrad::math::reference::sigmoid;
/// assert_eq!(sigmoid(0.0), 0.5); // 1/(1 + 1), exact
/// // Far left, σ(x) = e^x/(1 + e^x) = e^x·(1 − 4e-18) at x = −40: the x < 0
/// // form keeps full relative precision (1 − σ(40) would give 0).
/// let x = -40.0f64;
/// assert!((sigmoid(x) / x.exp() - 1.0).abs() < 1e-15);
/// ```
#[must_use]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `(m, ln s)`: the maximum and `ln Σ e^(θ_j − m)`, the latter as
/// `ln_1p(ρ)` with `ρ = Σ_{j ≠ first argmax} e^(θ_j − m)`, so a confident row
/// keeps the digits of its tiny `ln s`. NaN anywhere gives `(NaN, NaN)`.
fn max_and_ln_sum(theta: &[f64]) -> (f64, f64) {
    if theta.iter().any(|t| t.is_nan()) {
        return (f64::NAN, f64::NAN);
    }
    let (arg, m) = theta.iter().copied().enumerate().fold(
        (usize::MAX, f64::NEG_INFINITY),
        |(i, m), (j, t)| if t > m { (j, t) } else { (i, m) },
    );
    let rho: f64 = theta
        .iter()
        .enumerate()
        .filter(|&(j, _)| j != arg)
        .map(|(_, t)| (t - m).exp())
        .sum();
    (m, rho.ln_1p())
}

/// `ln Σ e^(θ_j)`, as `m + ln s` (see `max_and_ln_sum`); `−∞` for a row of
/// only `−∞`.
///
/// # Examples
///
/// ```
/// use constgrad::math::reference::logsumexp;
/// // n equal values c give c + ln n, and the shift by the maximum keeps
/// // e^1000 from overflowing. Tolerance: an ulp of 1000 is 1.1e-13.
/// assert!((logsumexp(&[1000.0; 3]) - (1000.0 + 3f64.ln())).abs() < 1e-12);
/// assert_eq!(logsumexp(&[f64::NEG_INFINITY; 2]), f64::NEG_INFINITY);
/// ```
#[must_use]
pub fn logsumexp(theta: &[f64]) -> f64 {
    let (m, ln_s) = max_and_ln_sum(theta);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + ln_s
}

/// `softmax(θ)`.
///
/// # Examples
///
/// ```
/// use constgrad::math::reference::softmax;
/// // e^θ_j / Σ e^θ, to a few ulps of each route's rounding (1e-14).
/// let p = softmax(&[1.0, 2.0, 3.0]);
/// let s: f64 = [1f64, 2.0, 3.0].iter().map(|t| t.exp()).sum();
/// assert!((0..3).all(|j| (p[j] - (j as f64 + 1.0).exp() / s).abs() < 1e-14));
/// // Shift invariant, and e^1003 does not overflow. Tolerance: θ_j − logsumexp(θ)
/// // near 1000 rounds to an ulp of 1000 (1.1e-13), which e^(…) carries.
/// let q = softmax(&[1001.0, 1002.0, 1003.0]);
/// assert!((0..3).all(|j| (q[j] - p[j]).abs() < 1e-12));
/// ```
#[must_use]
pub fn softmax(theta: &[f64]) -> Vec<f64> {
    let lse = logsumexp(theta);
    theta.iter().map(|t| (t - lse).exp()).collect()
}

/// `log_softmax(θ)`.
///
/// # Examples
///
/// ```
/// use constgrad::math::reference::{log_softmax, softmax};
/// // θ − logsumexp(θ). Here e^−1000 underflows to 0, so logsumexp is 1000
/// // and both outputs are exact; ln of softmax would give −∞ for class 0.
/// assert_eq!(log_softmax(&[0.0, 1000.0]), [-1000.0, 0.0]);
/// assert_eq!(softmax(&[0.0, 1000.0])[0].ln(), f64::NEG_INFINITY);
/// ```
#[must_use]
pub fn log_softmax(theta: &[f64]) -> Vec<f64> {
    let lse = logsumexp(theta);
    theta.iter().map(|t| t - lse).collect()
}

/// `Σ_j y_j·((m − θ_j) + ln s)`, skipping `y_j = 0` (every term `≥ 0`, and
/// `ln s = ln_1p(ρ)`, so tiny losses keep their digits).
///
/// # Examples
///
/// ```
/// use constgrad::math::reference::cross_entropy;
/// // A one-hot target costs −ln ŷ_label: ln 4 on four equal logits.
/// assert!((cross_entropy(&[0.0; 4], &[0.0, 0.0, 1.0, 0.0]) - 4f64.ln()).abs() < 1e-15);
/// // A confident row: L = ln(1 + e^−40) = e^−40·(1 − 2e-18), kept to full
/// // relative precision (−ln ŷ_0 would give 0, since ŷ_0 rounds to 1).
/// let loss = cross_entropy(&[40.0, 0.0], &[1.0, 0.0]);
/// assert!((loss / (-40f64).exp() - 1.0).abs() < 1e-15);
/// ```
#[must_use]
pub fn cross_entropy(theta: &[f64], y: &[f64]) -> f64 {
    let (m, ln_s) = max_and_ln_sum(theta);
    theta
        .iter()
        .zip(y)
        .filter(|(_, &yj)| yj != 0.0)
        .map(|(t, yj)| yj * ((m - t) + ln_s))
        .sum()
}
