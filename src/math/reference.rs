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
#[must_use]
pub fn logsumexp(theta: &[f64]) -> f64 {
    let (m, ln_s) = max_and_ln_sum(theta);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + ln_s
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

/// `Σ_j y_j·((m − θ_j) + ln s)`, skipping `y_j = 0` (every term `≥ 0`, and
/// `ln s = ln_1p(ρ)`, so tiny losses keep their digits).
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
