//! Plain scalar references in `f64`, built on std's libm (feature `std`).
//!
//! These are the textbook formulas, evaluated in double precision one element
//! at a time. They are slow and they are not the crate's kernels: tests use
//! them as an independent route to the expected values, and users can do the
//! same.

use std::vec::Vec;

/// `e^x`.
#[must_use]
pub fn exp(x: f64) -> f64 {
    x.exp()
}

/// `σ(x)`, as `1/(1+e^(−x))` for `x ≥ 0` and `e^x/(1+e^x)` for `x < 0`.
#[must_use]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `ln Σ e^(θ_j)` with the max subtracted first.
#[must_use]
pub fn logsumexp(theta: &[f64]) -> f64 {
    let m = theta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + theta.iter().map(|t| (t - m).exp()).sum::<f64>().ln()
}

/// `softmax(θ)`.
#[must_use]
pub fn softmax(theta: &[f64]) -> Vec<f64> {
    let lse = logsumexp(theta);
    theta.iter().map(|t| (t - lse).exp()).collect()
}

/// `log_softmax(θ)`.
#[must_use]
pub fn log_softmax(theta: &[f64]) -> Vec<f64> {
    let lse = logsumexp(theta);
    theta.iter().map(|t| t - lse).collect()
}

/// `Σ_j y_j·(logsumexp(θ) − θ_j)`, skipping `y_j = 0`.
#[must_use]
pub fn cross_entropy(theta: &[f64], y: &[f64]) -> f64 {
    let lse = logsumexp(theta);
    theta
        .iter()
        .zip(y)
        .filter(|(_, &yj)| yj != 0.0)
        .map(|(t, yj)| yj * (lse - t))
        .sum()
}
