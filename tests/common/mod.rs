//! Shared test support: an independent `f64` reference network, seeded
//! generators, and tolerance checks.
//!
//! Everything here is plain scalar `f64` code written from the textbook
//! formulas (see `DESIGN.md`): it does not call any of constgrad's kernels,
//! so it is an independent route to the expected values. Only the crate's
//! types are used to move numbers in and out.
//!
//! - [`RefNet`]: the network `x → σ(x·W1 + b1)·W2 + b2 → softmax → xent` in
//!   `f64`, with its loss, its analytic gradients (the same chain rule as the
//!   crate, evaluated in `f64` with cancellation-free forms so that it stays
//!   accurate on confident and saturated networks), and central finite
//!   differences of its loss.
//! - [`RefNet::rounding_magnitudes`]: for every quantity, the size `M` of
//!   the rounding errors any floating-point evaluation of it makes (a
//!   running error bound through the same chain rule), from which
//!   [`natural_scale`] says how precisely a quantity can be known at all.
//! - [`Regime`] and [`random_case`]: seeded random networks, inputs and
//!   targets, from well-scaled ones to large-logit, extreme and tiny ones.
//! - [`natural_scale`], [`strict_grad_scale`], [`strict_loss_scale`] and
//!   [`assert_close`]: an `approx`-based elementwise check against a scale
//!   that prints the case on failure.
//!
//! Used by `gradients.rs`, `jacobian.rs` and other test binaries; keep it
//! independent of any one test's tolerances.
//!
//! Each integration test binary compiles this module on its own and uses a
//! different part of it, hence the `dead_code` allowance.
#![allow(dead_code)]

use constgrad::{Label, Mat, Mlp, Real, RowVec, Target};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// A seeded generator: every random test draws from one of these, and prints
/// the seed when it fails.
#[must_use]
pub fn rng(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

/// A matrix with entries uniform in `[−scale, scale]`, rounded to `T`.
pub fn uniform_mat<const R: usize, const C: usize, T: Real>(
    rng: &mut StdRng,
    scale: f64,
) -> Mat<R, C, T> {
    let mut m = Mat::<R, C, T>::zeros();
    for v in m.as_mut_slice() {
        *v = T::from_f64(rng.gen_range(-scale..=scale));
    }
    m
}

/// A soft target: `OUT` non-negative entries summing to `total` (before
/// rounding to `T`). `total ≠ 1` exercises `dL/dθ = ŷ·Σy − y`.
pub fn soft_target<const OUT: usize, T: Real>(rng: &mut StdRng, total: f64) -> Target<OUT, T> {
    let raw: Vec<f64> = (0..OUT).map(|_| rng.gen_range(0.0..1.0)).collect();
    let sum: f64 = raw.iter().sum::<f64>().max(f64::MIN_POSITIVE);
    let mut y = [T::ZERO; OUT];
    for (d, r) in y.iter_mut().zip(&raw) {
        *d = T::from_f64(r / sum * total);
    }
    Target::probs(y)
}

/// A uniformly random class-label target.
pub fn class_target<const OUT: usize, T: Real>(rng: &mut StdRng) -> Target<OUT, T> {
    let l = rng.gen_range(0..OUT);
    Target::Class(Label::new(l).expect("label drawn below OUT"))
}

/// The target as a dense `f64` row (one-hot for a class label).
#[must_use]
pub fn target_row<const OUT: usize, T: Real>(t: &Target<OUT, T>) -> Vec<f64> {
    to_f64(t.to_row().as_slice())
}

/// Exact widening of a slice of `T` to `f64`.
#[must_use]
pub fn to_f64<T: Real>(xs: &[T]) -> Vec<f64> {
    xs.iter().map(|v| v.to_f64()).collect()
}

/// The scale of the random parameters of a test network, and what it does
/// to the network.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Regime {
    /// Weights, biases and inputs uniform in `[−1, 1]`.
    Normal,
    /// As `Normal`, with `W2` scaled ×50: logits in the tens to hundreds,
    /// a confident softmax.
    LargeLogit,
    /// Inputs and `W1`, `W2` scaled ×1e3: every hidden unit saturated, logits
    /// in the thousands.
    Extreme,
    /// Every weight and bias scaled ×1e-6 (inputs `[−1, 1]`): a near-uniform
    /// softmax and gradients of order 1e-6…1e-12.
    Tiny,
    /// As `Normal`, with `W2` and `b2` uniform in `±0.95·B/(HID + 1)`, where
    /// `B` is the bound on `|θ_j|` under which the one-sample kernels shift a
    /// class-label row by the label's own logit instead of the maximum (22
    /// in `f32`, 177.25 in `f64`; `Mlp::logit_bound_limit` in `src/mlp.rs`).
    /// The logits spread over tens (`f32`) or hundreds (`f64`) of nats, the
    /// widest that path meets: labels far below the leading logit, and
    /// losses up to about 2B.
    WideLogit,
}

impl Regime {
    /// Every regime, for loops over cases.
    pub const ALL: [Regime; 5] = [
        Regime::Normal,
        Regime::LargeLogit,
        Regime::Extreme,
        Regime::Tiny,
        Regime::WideLogit,
    ];

    /// `(input scale, W1/b1 scale, W2 scale, b2 scale)` for a network with
    /// `hid` hidden units in `T`.
    #[must_use]
    pub fn scales<T: Real>(self, hid: usize) -> (f64, f64, f64, f64) {
        match self {
            Regime::Normal => (1.0, 1.0, 1.0, 1.0),
            Regime::LargeLogit => (1.0, 1.0, 50.0, 1.0),
            Regime::Extreme => (1e3, 1e3, 1e3, 1e3),
            Regime::Tiny => (1.0, 1e-6, 1e-6, 1e-6),
            Regime::WideLogit => {
                let bound = if T::NAME == "f32" { 22.0 } else { 177.25 };
                let s = 0.95 * bound / (hid as f64 + 1.0);
                (1.0, 1.0, s, s)
            }
        }
    }
}

/// A random network and input of shape `IN → HID → OUT` in regime `regime`.
pub fn random_case<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    rng: &mut StdRng,
    regime: Regime,
) -> (Mlp<IN, HID, OUT, T>, RowVec<IN, T>) {
    let (sx, s1, s2, sb2) = regime.scales::<T>(HID);
    let w1 = uniform_mat(rng, s1);
    let b1 = uniform_mat(rng, s1);
    let w2 = uniform_mat(rng, s2);
    let b2 = uniform_mat(rng, sb2);
    let x = uniform_mat(rng, sx);
    (Mlp::new(w1, b1, w2, b2), x)
}

/// `σ(t)` in `f64`, never forming `1 − tiny`.
#[must_use]
pub fn sigmoid(t: f64) -> f64 {
    if t >= 0.0 {
        1.0 / (1.0 + (-t).exp())
    } else {
        let e = t.exp();
        e / (1.0 + e)
    }
}

/// The network in plain `f64`, row-major `Vec`s.
#[derive(Clone, Debug)]
pub struct RefNet {
    /// Input width.
    pub n_in: usize,
    /// Hidden width.
    pub n_hid: usize,
    /// Output width.
    pub n_out: usize,
    /// `W1`, `n_in × n_hid`, row-major.
    pub w1: Vec<f64>,
    /// `b1`, `n_hid`.
    pub b1: Vec<f64>,
    /// `W2`, `n_hid × n_out`, row-major.
    pub w2: Vec<f64>,
    /// `b2`, `n_out`.
    pub b2: Vec<f64>,
}

/// Forward intermediates of [`RefNet`].
#[derive(Clone, Debug)]
pub struct RefForward {
    /// `a = x·W1 + b1`.
    pub a: Vec<f64>,
    /// `h = σ(a)`.
    pub h: Vec<f64>,
    /// `θ = h·W2 + b2`.
    pub theta: Vec<f64>,
    /// `softmax(θ)`.
    pub y_hat: Vec<f64>,
}

/// The loss and every gradient of [`RefNet`], flattened row-major.
#[derive(Clone, Debug)]
pub struct RefGrads {
    /// `L`.
    pub loss: f64,
    /// `dL/dx`.
    pub x: Vec<f64>,
    /// `dL/dW1`.
    pub w1: Vec<f64>,
    /// `dL/db1`.
    pub b1: Vec<f64>,
    /// `dL/dW2`.
    pub w2: Vec<f64>,
    /// `dL/db2`.
    pub b2: Vec<f64>,
}

impl RefGrads {
    /// `(name, values)` for each gradient (not the loss).
    #[must_use]
    pub fn parts(&self) -> [(&'static str, &[f64]); 5] {
        [
            ("dL/dx", &self.x),
            ("dL/dW1", &self.w1),
            ("dL/db1", &self.b1),
            ("dL/dW2", &self.w2),
            ("dL/db2", &self.b2),
        ]
    }
}

/// The crate's [`constgrad::Grads`] widened to `f64`, for comparison.
#[must_use]
pub fn widen_grads<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    g: &constgrad::Grads<IN, HID, OUT, T>,
) -> RefGrads {
    RefGrads {
        loss: g.loss.to_f64(),
        x: to_f64(g.x.as_slice()),
        w1: to_f64(g.w1.as_slice()),
        b1: to_f64(g.b1.as_slice()),
        w2: to_f64(g.w2.as_slice()),
        b2: to_f64(g.b2.as_slice()),
    }
}

/// Rounding-error magnitudes `M(v)` of every quantity of [`RefNet`], see
/// [`RefNet::rounding_magnitudes`].
#[derive(Clone, Debug)]
pub struct Magnitudes {
    /// `M(a)`.
    pub a: Vec<f64>,
    /// `M(h)`.
    pub h: Vec<f64>,
    /// `M(θ)`.
    pub theta: Vec<f64>,
    /// `M(ŷ)`.
    pub y_hat: Vec<f64>,
    /// `M(L)` and `M` of every gradient.
    pub grads: RefGrads,
}

/// `Some(l)` when `y` is exactly the one-hot row of class `l`.
#[must_use]
pub fn one_hot_label(y: &[f64]) -> Option<usize> {
    let l = y.iter().position(|&v| v == 1.0)?;
    let rest_zero = y.iter().enumerate().all(|(j, &v)| j == l || v == 0.0);
    rest_zero.then_some(l)
}

impl RefNet {
    /// The `f64` twin of a crate network (exact widening of its parameters).
    #[must_use]
    pub fn from_mlp<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
        mlp: &Mlp<IN, HID, OUT, T>,
    ) -> Self {
        Self {
            n_in: IN,
            n_hid: HID,
            n_out: OUT,
            w1: to_f64(mlp.w1().as_slice()),
            b1: to_f64(mlp.b1().as_slice()),
            w2: to_f64(mlp.w2().as_slice()),
            b2: to_f64(mlp.b2().as_slice()),
        }
    }

    /// `a`, `h`, `θ`, `ŷ` in `f64`, one element at a time.
    #[must_use]
    pub fn forward(&self, x: &[f64]) -> RefForward {
        assert_eq!(x.len(), self.n_in);
        let a: Vec<f64> = (0..self.n_hid)
            .map(|k| {
                self.b1[k]
                    + (0..self.n_in)
                        .map(|i| x[i] * self.w1[i * self.n_hid + k])
                        .sum::<f64>()
            })
            .collect();
        let h: Vec<f64> = a.iter().map(|&t| sigmoid(t)).collect();
        let theta: Vec<f64> = (0..self.n_out)
            .map(|j| {
                self.b2[j]
                    + (0..self.n_hid)
                        .map(|k| h[k] * self.w2[k * self.n_out + j])
                        .sum::<f64>()
            })
            .collect();
        let m = theta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = theta.iter().map(|t| (t - m).exp()).collect();
        let s: f64 = e.iter().sum();
        let y_hat = e.iter().map(|v| v / s).collect();
        RefForward { a, h, theta, y_hat }
    }

    /// `ln Σ_j e^(θ_j − m)` computed as `ln_1p(ρ)`, with `ρ` the sum over the
    /// non-maximal logits plus (number of maxima − 1), so that a confident row
    /// keeps its relative precision.
    fn ln_s(theta: &[f64]) -> f64 {
        let m = theta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let ties = theta.iter().filter(|&&t| t == m).count();
        let rest: f64 = theta
            .iter()
            .filter(|&&t| t != m)
            .map(|t| (t - m).exp())
            .sum();
        (rest + (ties as f64 - 1.0)).ln_1p()
    }

    /// `L = Σ_j y_j·(logsumexp(θ) − θ_j)`, terms with `y_j = 0` skipped.
    #[must_use]
    pub fn loss(&self, x: &[f64], y: &[f64]) -> f64 {
        let f = self.forward(x);
        Self::xent(&f.theta, y)
    }

    fn xent(theta: &[f64], y: &[f64]) -> f64 {
        let m = theta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let ln_s = Self::ln_s(theta);
        theta
            .iter()
            .zip(y)
            .filter(|(_, &yj)| yj != 0.0)
            .map(|(t, yj)| yj * ((m - t) + ln_s))
            .sum()
    }

    /// The analytic loss and gradients in `f64`:
    ///
    /// ```text
    /// dL/dθ = ŷ·Σy − y     (one-hot: ŷ_j off the label, −Σ_{j≠l} ŷ_j at it)
    /// dL/dh = dL/dθ·W2ᵀ,  dL/da = dL/dh ∘ σ(a)σ(−a),  dL/dx = dL/da·W1ᵀ
    /// dL/dW1 = xᵀ·dL/da,  dL/db1 = dL/da,  dL/dW2 = hᵀ·dL/dθ,  dL/db2 = dL/dθ
    /// ```
    ///
    /// For a one-hot `y` (exactly one entry 1, the rest 0), `dL/dθ` and
    /// `dL/dh` are formed without the cancellation of `ŷ_l − 1`.
    #[must_use]
    pub fn grads(&self, x: &[f64], y: &[f64]) -> RefGrads {
        let f = self.forward(x);
        let (n_in, n_hid, n_out) = (self.n_in, self.n_hid, self.n_out);
        let mut d_theta = vec![0.0; n_out];
        let mut d_h = vec![0.0; n_hid];
        if let Some(l) = one_hot_label(y) {
            let mut rest = 0.0;
            for j in (0..n_out).filter(|&j| j != l) {
                d_theta[j] = f.y_hat[j];
                rest += f.y_hat[j];
            }
            d_theta[l] = -rest;
            for (k, dh) in d_h.iter_mut().enumerate() {
                let wl = self.w2[k * n_out + l];
                *dh = (0..n_out)
                    .filter(|&j| j != l)
                    .map(|j| f.y_hat[j] * (self.w2[k * n_out + j] - wl))
                    .sum();
            }
        } else {
            let sum_y: f64 = y.iter().sum();
            for j in 0..n_out {
                d_theta[j] = f.y_hat[j] * sum_y - y[j];
            }
            for (k, dh) in d_h.iter_mut().enumerate() {
                *dh = (0..n_out)
                    .map(|j| d_theta[j] * self.w2[k * n_out + j])
                    .sum();
            }
        }
        let d_a: Vec<f64> = (0..n_hid)
            .map(|k| d_h[k] * sigmoid(f.a[k]) * sigmoid(-f.a[k]))
            .collect();
        let dx = (0..n_in)
            .map(|i| (0..n_hid).map(|k| d_a[k] * self.w1[i * n_hid + k]).sum())
            .collect();
        let mut dw1 = vec![0.0; n_in * n_hid];
        for i in 0..n_in {
            for k in 0..n_hid {
                dw1[i * n_hid + k] = x[i] * d_a[k];
            }
        }
        let mut dw2 = vec![0.0; n_hid * n_out];
        for k in 0..n_hid {
            for j in 0..n_out {
                dw2[k * n_out + j] = f.h[k] * d_theta[j];
            }
        }
        RefGrads {
            loss: Self::xent(&f.theta, y),
            x: dx,
            w1: dw1,
            b1: d_a,
            w2: dw2,
            b2: d_theta,
        }
    }

    /// Rounding-error magnitudes of every forward intermediate, the loss and
    /// every gradient (see [`Magnitudes`]).
    ///
    /// For every computed quantity `v`, `M(v) ≥ 0` is such that evaluating
    /// the network in a format with unit roundoff `u` (inputs exact, each
    /// operation rounded once) perturbs `v` by about `u·M(v)` to first order,
    /// in any reasonable operation order. It is Wilkinson's running error
    /// bound, propagated through the same chain rule with absolute values
    /// (`m = max θ`, `e_j = e^(θ_j − m)`, `s = Σ e_j = 1 + ρ`):
    ///
    /// ```text
    /// M(a_k)    = |b1_k| + Σ_i |x_i·W1_ik|
    /// M(h_k)    = h_k + σ'(a_k)·M(a_k)
    /// M(θ_j)    = |b2_j| + Σ_k (h_k + M(h_k))·|W2_kj|
    /// q_j       = 1 + |θ_j − m| + M(θ_j) + M(θ_max)      (relative error of e_j; 0 at the max)
    /// M(ρ)      = Σ_{j≠max} e_j·(q_j + OUT)
    /// M(ŷ_j)    = ŷ_j·(q_j + M(ρ)/s + 2)
    /// M(L)      = OUT·Σ_j y_j·(gap_j + ln s + M(ρ)/s),
    ///             gap_j = 2|m − θ_j| + M(θ_j) + M(θ_max)  (0 at the max)
    /// M(dθ_j)   = |dθ_j| + M(ŷ_j)·|Σy| + OUT·ŷ_j·Σ|y| + |y_j|
    ///             (class l: M(ŷ_j), and Σ_{j≠l}(M(ŷ_j) + ŷ_j) at l)
    /// M(dh_k)   = Σ_j (M(dθ_j) + |dθ_j|)·|W2_kj|
    ///             (class l: Σ_{j≠l} (M(ŷ_j) + ŷ_j)·(|W2_kj| + |W2_kl|))
    /// M(σ'_k)   = σ'_k + |σ''(a_k)|·M(a_k)
    /// M(dA_k)   = M(dh_k)·σ'_k + |dh_k|·M(σ'_k)
    /// M(dx_i)   = Σ_k (M(dA_k) + |dA_k|)·|W1_ik|
    /// M(dW1_ik) = |x_i|·(M(dA_k) + |dA_k|)
    /// M(dW2_kj) = M(h_k)·|dθ_j| + h_k·(M(dθ_j) + |dθ_j|)
    /// ```
    ///
    /// `M(v)` is close to `|v|` for a well-conditioned `v` and far above it
    /// exactly where no implementation in that format can resolve `v`:
    /// cancelling terms (a soft target close to the prediction), logits much
    /// larger than their gaps (large-logit and extreme networks), hidden
    /// pre-activations that are small differences of huge products.
    #[must_use]
    pub fn rounding_magnitudes(&self, x: &[f64], y: &[f64]) -> Magnitudes {
        let f = self.forward(x);
        let g = self.grads(x, y);
        let (n_in, n_hid, n_out) = (self.n_in, self.n_hid, self.n_out);
        let n = n_out as f64;
        let m_a: Vec<f64> = (0..n_hid)
            .map(|k| {
                self.b1[k].abs()
                    + (0..n_in)
                        .map(|i| (x[i] * self.w1[i * n_hid + k]).abs())
                        .sum::<f64>()
            })
            .collect();
        let slope: Vec<f64> = f.a.iter().map(|&t| sigmoid(t) * sigmoid(-t)).collect();
        let m_h: Vec<f64> = (0..n_hid).map(|k| f.h[k] + slope[k] * m_a[k]).collect();
        let m_theta: Vec<f64> = (0..n_out)
            .map(|j| {
                self.b2[j].abs()
                    + (0..n_hid)
                        .map(|k| (f.h[k] + m_h[k]) * self.w2[k * n_out + j].abs())
                        .sum::<f64>()
            })
            .collect();
        let m = f.theta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let jmax = f.theta.iter().position(|&t| t == m).unwrap_or(0);
        let q: Vec<f64> = (0..n_out)
            .map(|j| {
                if j == jmax {
                    0.0
                } else {
                    1.0 + (f.theta[j] - m).abs() + m_theta[j] + m_theta[jmax]
                }
            })
            .collect();
        let e: Vec<f64> = f.theta.iter().map(|t| (t - m).exp()).collect();
        let s: f64 = e.iter().sum();
        let m_rho: f64 = (0..n_out)
            .filter(|&j| j != jmax)
            .map(|j| e[j] * (q[j] + n))
            .sum();
        let ln_s = Self::ln_s(&f.theta);
        let m_yhat: Vec<f64> = (0..n_out)
            .map(|j| f.y_hat[j] * (q[j] + m_rho / s + 2.0))
            .collect();
        let gap = |j: usize| -> f64 {
            if j == jmax {
                0.0
            } else {
                2.0 * (m - f.theta[j]).abs() + m_theta[j] + m_theta[jmax]
            }
        };
        let m_loss = (0..n_out)
            .map(|j| y[j].abs() * (gap(j) + ln_s + m_rho / s))
            .sum::<f64>()
            * n;
        let d_theta = &g.b2;
        let (m_dtheta, m_dh) = if let Some(l) = one_hot_label(y) {
            let mut m_dt = m_yhat.clone();
            m_dt[l] = (0..n_out)
                .filter(|&j| j != l)
                .map(|j| m_yhat[j] + f.y_hat[j])
                .sum();
            let m_dh: Vec<f64> = (0..n_hid)
                .map(|k| {
                    let wl = self.w2[k * n_out + l].abs();
                    (0..n_out)
                        .filter(|&j| j != l)
                        .map(|j| (m_yhat[j] + f.y_hat[j]) * (self.w2[k * n_out + j].abs() + wl))
                        .sum()
                })
                .collect();
            (m_dt, m_dh)
        } else {
            let sum_y: f64 = y.iter().sum();
            let sum_abs_y: f64 = y.iter().map(|v| v.abs()).sum();
            let m_dt: Vec<f64> = (0..n_out)
                .map(|j| {
                    d_theta[j].abs()
                        + m_yhat[j] * sum_y.abs()
                        + n * f.y_hat[j] * sum_abs_y
                        + y[j].abs()
                })
                .collect();
            let m_dh: Vec<f64> = (0..n_hid)
                .map(|k| {
                    (0..n_out)
                        .map(|j| (m_dt[j] + d_theta[j].abs()) * self.w2[k * n_out + j].abs())
                        .sum()
                })
                .collect();
            (m_dt, m_dh)
        };
        let d_h: Vec<f64> = (0..n_hid)
            .map(|k| {
                (0..n_out)
                    .map(|j| d_theta[j] * self.w2[k * n_out + j])
                    .sum::<f64>()
            })
            .collect();
        let m_slope: Vec<f64> = (0..n_hid)
            .map(|k| {
                let curvature = slope[k] * (sigmoid(-f.a[k]) - sigmoid(f.a[k])).abs();
                slope[k] + curvature * m_a[k]
            })
            .collect();
        let m_da: Vec<f64> = (0..n_hid)
            .map(|k| m_dh[k] * slope[k] + d_h[k].abs() * m_slope[k])
            .collect();
        let d_a = &g.b1;
        let m_dx = (0..n_in)
            .map(|i| {
                (0..n_hid)
                    .map(|k| (m_da[k] + d_a[k].abs()) * self.w1[i * n_hid + k].abs())
                    .sum()
            })
            .collect();
        let mut m_dw1 = vec![0.0; n_in * n_hid];
        for i in 0..n_in {
            for k in 0..n_hid {
                m_dw1[i * n_hid + k] = x[i].abs() * (m_da[k] + d_a[k].abs());
            }
        }
        let mut m_dw2 = vec![0.0; n_hid * n_out];
        for k in 0..n_hid {
            for j in 0..n_out {
                m_dw2[k * n_out + j] =
                    m_h[k] * d_theta[j].abs() + f.h[k] * (m_dtheta[j] + d_theta[j].abs());
            }
        }
        Magnitudes {
            a: m_a,
            h: m_h,
            theta: m_theta,
            y_hat: m_yhat,
            grads: RefGrads {
                loss: m_loss,
                x: m_dx,
                w1: m_dw1,
                b1: m_da,
                w2: m_dw2,
                b2: m_dtheta,
            },
        }
    }

    /// Central finite differences of [`RefNet::loss`] with respect to `x` and
    /// every parameter: `(L(p + h) − L(p − h)) / 2h` with
    /// `h = rel_step · max(1, |p|)` (the difference of the two perturbed
    /// values is used as `2h`, so the step is exact).
    #[must_use]
    pub fn fd_grads(&self, x: &[f64], y: &[f64], rel_step: f64) -> RefGrads {
        let central = |eval: &mut dyn FnMut(f64) -> f64, p: f64| -> f64 {
            let h = rel_step * p.abs().max(1.0);
            let (hi, lo) = (p + h, p - h);
            (eval(hi) - eval(lo)) / (hi - lo)
        };
        let dx = (0..self.n_in)
            .map(|i| {
                let mut xp = x.to_vec();
                central(
                    &mut |v| {
                        xp[i] = v;
                        self.loss(&xp, y)
                    },
                    x[i],
                )
            })
            .collect();
        let param = |pick: fn(&mut RefNet) -> &mut Vec<f64>| -> Vec<f64> {
            let mut net = self.clone();
            let n = pick(&mut net).len();
            (0..n)
                .map(|idx| {
                    let p = pick(&mut net)[idx];
                    let d = central(
                        &mut |v| {
                            pick(&mut net)[idx] = v;
                            net.loss(x, y)
                        },
                        p,
                    );
                    pick(&mut net)[idx] = p;
                    d
                })
                .collect()
        };
        RefGrads {
            loss: self.loss(x, y),
            x: dx,
            w1: param(|n| &mut n.w1),
            b1: param(|n| &mut n.b1),
            w2: param(|n| &mut n.w2),
            b2: param(|n| &mut n.b2),
        }
    }
}

/// `‖v‖∞`.
#[must_use]
pub fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |m, x| m.max(x.abs()))
}

/// The natural scale of a computed quantity (a gradient, a row of
/// activations, or the loss as a 1-element slice):
/// `max(1e-30, ‖exact‖∞, ‖M‖∞)` with `M` its rounding-error magnitudes
/// ([`RefNet::rounding_magnitudes`]).
///
/// For a well-conditioned quantity `‖M‖∞` is a small multiple of
/// `‖exact‖∞`, so this is the quantity's own size; where the quantity is
/// ill-conditioned (cancellation, huge logits, saturated units fed by huge
/// products) it is the size of the terms that cancel, the resolution limit
/// of any implementation in a given precision. 1e-30 keeps the bound
/// meaningful when everything underflows to 0.
#[must_use]
pub fn natural_scale(exact: &[f64], magnitudes: &[f64]) -> f64 {
    max_abs(exact).max(max_abs(magnitudes)).max(1e-30)
}

/// The strict scale of a gradient: `max(1e-30, ‖exact‖∞)`, its own largest
/// entry, with no allowance for ill-conditioning.
#[must_use]
pub fn strict_grad_scale(exact: &[f64]) -> f64 {
    max_abs(exact).max(1e-30)
}

/// The strict scale of a loss: `max(1, |L|)` (absolute below 1, relative
/// above).
#[must_use]
pub fn strict_loss_scale(exact: f64) -> f64 {
    exact.abs().max(1.0)
}

/// Asserts `|got_i − exact_i| ≤ rel · scale` for every `i` with
/// `approx::abs_diff_eq!`, and returns the largest `|got_i − exact_i| / scale`
/// (for reporting). `what` names the quantity and the case (seed, shape) in
/// the panic message.
#[track_caller]
pub fn assert_close(what: &str, got: &[f64], exact: &[f64], scale: f64, rel: f64) -> f64 {
    assert_eq!(got.len(), exact.len(), "{what}: length");
    let mut worst = 0.0f64;
    for (i, (&g, &e)) in got.iter().zip(exact).enumerate() {
        let ok = approx::abs_diff_eq!(g, e, epsilon = rel * scale);
        assert!(
            ok,
            "{what}[{i}]: got {g:e}, expected {e:e}, |diff| = {:e} > {rel:e} × scale {scale:e}\n got:      {got:?}\n expected: {exact:?}",
            (g - e).abs()
        );
        worst = worst.max((g - e).abs() / scale);
    }
    worst
}
