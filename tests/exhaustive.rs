//! Accuracy of the math kernels: exhaustive over all 2³² `f32` inputs for
//! `exp` and `sigmoid`, ≥ 10⁹ inputs for their `f64` versions, 10⁸ random
//! rows for the softmax family in each precision, plus the special values
//! of each kernel.
//!
//! The full sweeps are `#[ignore]`d (run them with
//! `cargo test --release --test exhaustive -- --ignored --nocapture`); each
//! has a small non-ignored sibling so that plain `cargo test` checks the same
//! property on a sample. The bounds below are the ones `ACCURACY.md` states.
//!
//! Metric (see `accuracy_support`): ulps of the binade of the *exact* value,
//! floored at the smallest subnormal, so subnormal results count in
//! subnormal ulps.

#[path = "accuracy_support/mod.rs"]
mod support;

use constgrad::math::{
    cross_entropy, exp_in_place, log_softmax, logsumexp, sigmoid_in_place, softmax,
};
use constgrad::{RowVec, Target};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::{
    dd_exp, dd_ln_1p, dd_rel_diff, dd_sigmoid, exp_f32_err, exp_f64_err, mpmath_values, par_chunks,
    sigmoid_f32_err, sigmoid_f64_err, sweep_all_f32, two_sum, ulp_err_f32, ulp_err_f64_dd,
    ulp_f32_of, ulp_f64_of, Dd, MpKind, Sweep,
};

// The tolerance table: ACCURACY.md quotes these numbers.

/// `exp` (f32 and f64): ulps, wherever the exact result is finite in the format.
const EXP_ULP: f64 = 1.0;
/// `sigmoid` (f32 and f64): ulps, everywhere.
const SIGMOID_ULP: f64 = 2.0;
/// The softmax family's bounds, f32 and f64 alike, for any row length
/// (tested: 2 to 4096). `θ_j − m` is recovered exactly (TwoSum) and its
/// rounding error joins `exp`'s reduced argument, so each `e_j` is within
/// about an ulp of `e^(θ_j − m)`; rows longer than one vector sum `ρ` (and
/// the soft-target loss) with compensation, and take `s = 1 + ρ`; what is
/// left is the last steps' rounding. Before that recovery the rounding of
/// `θ_j − m` cost up to 64 f32 ulps (68 was the bound) and 512 f64 ulps;
/// before the compensation, plain sums cost up to 38 ulps of `softmax` and
/// 129 of the soft-target loss at N = 4096. `log_softmax` and the class
/// loss are measured net of [`subnormal_allowance`].
///
/// `softmax`: ulps of each output.
const SOFTMAX_ULP: f64 = 10.0;
/// `log_softmax`: ulps of each output (every output is a sum of two
/// non-positive terms, so its own magnitude is the natural scale). The
/// maximum's output is `−ln s ≈ −ρ`, which inherits `ρ`'s summation.
const LOG_SOFTMAX_ULP: f64 = 10.0;
/// `logsumexp = m + ln s`: ulps of the natural scale `|m| + ln s`.
const LOGSUMEXP_ULP: f64 = 4.0;
/// `cross_entropy` with a class label: ulps of the loss (a confident row's
/// loss is `ln s ≈ ρ`, as `log_softmax`'s maximum).
const XENT_CLASS_ULP: f64 = 10.0;
/// `cross_entropy` with a probability row: ulps of the loss.
const XENT_PROBS_ULP: f64 = 8.0;

/// The bounds in the order of `ROW_KERNELS` (the sum's is `N`, per row
/// length).
const ROW_BOUNDS: [f64; 6] = [
    SOFTMAX_ULP,
    f64::INFINITY,
    LOG_SOFTMAX_ULP,
    LOGSUMEXP_ULP,
    XENT_CLASS_ULP,
    XENT_PROBS_ULP,
];

fn describe<X: std::fmt::Debug + Copy>(name: &str, s: &Sweep<X>) -> String {
    format!(
        "{name}: {} inputs, max {:.4} ulp at {:?}, {} failures, first: {:?}",
        s.count, s.max_err, s.argmax, s.failures, s.first_failures
    )
}

// ---------------------------------------------------------------------------
// f32 exp and sigmoid: every input.

fn exp_f32_kernel(xs: &mut [f32]) {
    exp_in_place(xs);
}

fn sigmoid_f32_kernel(xs: &mut [f32]) {
    sigmoid_in_place(xs);
}

#[test]
#[ignore = "exhaustive: 2^32 inputs, about a minute in release"]
fn exp_f32_within_1_ulp_on_every_input() {
    let s = sweep_all_f32(exp_f32_kernel, exp_f32_err, EXP_ULP);
    println!("{}", describe("exp f32 (all 2^32)", &s));
    assert_eq!(s.count, 1 << 32);
    assert_eq!(s.failures, 0, "{}", describe("exp f32", &s));
}

#[test]
#[ignore = "exhaustive: 2^32 inputs, about a minute in release"]
fn sigmoid_f32_within_2_ulp_on_every_input() {
    let s = sweep_all_f32(sigmoid_f32_kernel, sigmoid_f32_err, SIGMOID_ULP);
    println!("{}", describe("sigmoid f32 (all 2^32)", &s));
    assert_eq!(s.count, 1 << 32);
    assert_eq!(s.failures, 0, "{}", describe("sigmoid f32", &s));
}

/// Every 4093rd bit pattern (≈ 10⁶ inputs, all binades and NaNs; 16× fewer
/// in debug builds).
fn sample_f32(kernel: fn(&mut [f32]), err: fn(f32, f32) -> (f64, bool), bound: f64) -> Sweep<f32> {
    let stride: u64 = 4093 << QUICK_SHIFT;
    const CHUNK: u64 = 1 << 12;
    let total = (1u64 << 32) / stride;
    par_chunks(total.div_ceil(CHUNK), |c, sweep| {
        let xs: Vec<f32> = (c * CHUNK..((c + 1) * CHUNK).min(total))
            .map(|i| f32::from_bits((i * stride) as u32))
            .collect();
        let mut ys = xs.clone();
        kernel(&mut ys);
        for (&x, &y) in xs.iter().zip(&ys) {
            sweep.record(x, y, err(x, y), bound);
        }
    })
}

#[test]
fn exp_f32_within_1_ulp_on_a_sample_of_all_binades() {
    let s = sample_f32(exp_f32_kernel, exp_f32_err, EXP_ULP);
    assert_eq!(s.failures, 0, "{}", describe("exp f32 sample", &s));
}

#[test]
fn sigmoid_f32_within_2_ulp_on_a_sample_of_all_binades() {
    let s = sample_f32(sigmoid_f32_kernel, sigmoid_f32_err, SIGMOID_ULP);
    assert_eq!(s.failures, 0, "{}", describe("sigmoid f32 sample", &s));
}

#[test]
fn exp_f32_within_1_ulp_on_every_input_near_the_thresholds() {
    // Overflow (88.72…), the normal/subnormal boundary (−87.34…), the
    // underflow to 0 (−103.97…) and ±1e-6 (where e^x is within an ulp of 1):
    // every f32 there.
    let mut xs = Vec::new();
    for (lo, hi) in [
        (88.70f32, 88.75f32),
        (-87.40, -87.30),
        (-104.0, -103.9),
        (-1.001e-6, -0.999e-6),
        (0.999e-6, 1.001e-6),
    ] {
        xs.extend(support::f32s_between(lo, hi, 1));
    }
    let mut ys = xs.clone();
    exp_in_place(&mut ys);
    for (&x, &y) in xs.iter().zip(&ys) {
        let (e, ok) = exp_f32_err(x, y);
        assert!(ok && e <= EXP_ULP, "exp({x:e}) = {y:e}: {e} ulp");
    }
}

#[test]
fn no_f32_input_lands_between_f32_max_and_the_overflow_threshold() {
    // So "+∞ wherever the exact value rounds to +∞" and "≤ 1 ulp below
    // f32::MAX" together cover every finite input.
    let xs = support::f32s_between(88.72f32, 88.73, 1);
    let between = xs
        .iter()
        .filter(|&&x| {
            let e = f64::from(x).exp();
            e > f64::from(f32::MAX) && e < support::F32_OVERFLOW
        })
        .count();
    assert_eq!(between, 0);
}

#[test]
fn exp_special_values_are_exact() {
    let cases: [(f32, f32); 8] = [
        (f32::NEG_INFINITY, 0.0),
        (f32::INFINITY, f32::INFINITY),
        (0.0, 1.0),
        (-0.0, 1.0),
        (f32::from_bits(1), 1.0),
        (f32::MAX, f32::INFINITY),
        (f32::MIN, 0.0),
        (89.0, f32::INFINITY),
    ];
    let mut xs = cases.map(|c| c.0);
    exp_in_place(&mut xs);
    for ((x, want), got) in cases.iter().zip(xs) {
        assert_eq!(got.to_bits(), want.to_bits(), "exp({x})");
    }
    let mut nans = [
        f32::NAN,
        -f32::NAN,
        f32::from_bits(0x7f80_0001),
        f32::from_bits(0xffc0_1234),
    ];
    exp_in_place(&mut nans);
    assert!(nans.iter().all(|v| v.is_nan()), "{nans:?}");

    let cases64: [(f64, f64); 6] = [
        (f64::NEG_INFINITY, 0.0),
        (f64::INFINITY, f64::INFINITY),
        (0.0, 1.0),
        (-0.0, 1.0),
        (f64::MAX, f64::INFINITY),
        (f64::MIN, 0.0),
    ];
    let mut xs = cases64.map(|c| c.0);
    exp_in_place(&mut xs);
    for ((x, want), got) in cases64.iter().zip(xs) {
        assert_eq!(got.to_bits(), want.to_bits(), "exp({x})");
    }
    let mut nans = [f64::NAN, -f64::NAN];
    exp_in_place(&mut nans);
    assert!(nans.iter().all(|v| v.is_nan()));
}

#[test]
fn sigmoid_special_values_are_exact() {
    let cases: [(f32, f32); 6] = [
        (f32::NEG_INFINITY, 0.0),
        (f32::INFINITY, 1.0),
        (0.0, 0.5),
        (-0.0, 0.5),
        (f32::MAX, 1.0),
        (f32::MIN, 0.0),
    ];
    let mut xs = cases.map(|c| c.0);
    sigmoid_in_place(&mut xs);
    for ((x, want), got) in cases.iter().zip(xs) {
        assert_eq!(got, *want, "sigmoid({x})");
    }
    let mut nans = [f32::NAN, -f32::NAN];
    sigmoid_in_place(&mut nans);
    assert!(nans.iter().all(|v| v.is_nan()));

    let cases64: [(f64, f64); 4] = [
        (f64::NEG_INFINITY, 0.0),
        (f64::INFINITY, 1.0),
        (0.0, 0.5),
        (-0.0, 0.5),
    ];
    let mut xs = cases64.map(|c| c.0);
    sigmoid_in_place(&mut xs);
    for ((x, want), got) in cases64.iter().zip(xs) {
        assert_eq!(got, *want, "sigmoid({x})");
    }
    let mut nans = [f64::NAN];
    sigmoid_in_place(&mut nans);
    assert!(nans[0].is_nan());
}

#[test]
fn sigmoid_f32_keeps_subnormal_results_in_the_far_negative_tail() {
    // σ(x) ≈ e^x is subnormal for x < −87.3; the naive 1/(1 + e^-x) gives 0
    // (e^-x overflows). Every f32 in [−104, −87] (every 16th in debug builds).
    let xs = support::f32s_between(-104.0, -87.0, 1 << QUICK_SHIFT);
    let mut ys = xs.clone();
    sigmoid_in_place(&mut ys);
    for (&x, &y) in xs.iter().zip(&ys) {
        let (e, ok) = sigmoid_f32_err(x, y);
        assert!(ok && e <= SIGMOID_ULP, "sigmoid({x:e}) = {y:e}: {e} ulp");
    }
}

// ---------------------------------------------------------------------------
// The double-double references against mpmath.

#[test]
fn double_double_references_match_mpmath_to_2_pow_minus_80() {
    let values = mpmath_values();
    let count = |k| values.iter().filter(|v| v.kind == k).count();
    assert!(
        count(MpKind::Exp) >= 400,
        "{} exp values",
        count(MpKind::Exp)
    );
    assert!(
        count(MpKind::Ln1p) >= 300,
        "{} ln_1p values",
        count(MpKind::Ln1p)
    );
    for v in values {
        let (m, n) = match v.kind {
            MpKind::Exp => dd_exp(Dd::from(v.x)),
            MpKind::Sigmoid => dd_sigmoid(v.x),
            MpKind::Ln1p => (dd_ln_1p(v.x), 0),
        };
        let d = dd_rel_diff(m, n, v.m, v.e);
        assert!(
            d < 2f64.powi(-80),
            "{:?} at x = {:e} ({:#x}): relative difference {d:e}",
            v.kind,
            v.x,
            v.x.to_bits()
        );
    }
}

#[test]
fn ulp_metric_counts_subnormal_results_in_subnormal_ulps() {
    // Facts about the metric the bounds are stated in.
    let tiny = 2f64.powi(-149);
    assert_eq!(ulp_f32_of(1.0), f64::from(f32::EPSILON));
    assert_eq!(ulp_f32_of(0.75), f64::from(f32::EPSILON) / 2.0);
    assert_eq!(ulp_f32_of(1e-40), tiny);
    assert_eq!(ulp_err_f32(0.0, 3.0 * tiny), 3.0);
    assert_eq!(ulp_err_f32(1.0, 1.0 - 2f64.powi(-24)), 1.0);
    assert_eq!(ulp_err_f32(f32::NAN, 1.0), f64::INFINITY);
    let (m, n) = (Dd::from(0.75), -1073); // 1.5·2^-1074
    assert_eq!(support::ulp_err_f64_dd(support::pow2(-1074), m, n), 0.5);
    assert_eq!(
        support::ulp_err_f64_dd(-support::pow2(-1074), m.neg(), n),
        0.5
    );
}

// ---------------------------------------------------------------------------
// f64 exp and sigmoid: random bit patterns plus a dense sweep of [−750, 710].

const CHUNK64: u64 = 1 << 16;

/// The quick (non-ignored) sweeps are 16× smaller in debug builds, where the
/// double-double reference is slow; release builds run them at full size.
const QUICK_SHIFT: u32 = if cfg!(debug_assertions) { 4 } else { 0 };

/// `random` random bit patterns, then `dense` stratified points of
/// `[−750, 710]` (one uniform point per cell of a regular grid).
fn sweep_f64(
    kernel: fn(&mut [f64]),
    err: fn(f64, f64) -> (f64, bool),
    bound: f64,
    random: u64,
    dense: u64,
    seed: u64,
) -> Sweep<f64> {
    let random_chunks = random.div_ceil(CHUNK64);
    let dense_chunks = dense.div_ceil(CHUNK64);
    let (lo, hi) = (-750.0f64, 710.0f64);
    let step = (hi - lo) / (dense_chunks * CHUNK64) as f64;
    par_chunks(random_chunks + dense_chunks, |c, sweep| {
        let mut rng = StdRng::seed_from_u64(seed ^ c.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let xs: Vec<f64> = if c < random_chunks {
            (0..CHUNK64).map(|_| f64::from_bits(rng.gen())).collect()
        } else {
            let base = (c - random_chunks) * CHUNK64;
            (0..CHUNK64)
                .map(|i| lo + ((base + i) as f64 + rng.gen::<f64>()) * step)
                .collect()
        };
        let mut ys = xs.clone();
        kernel(&mut ys);
        for (&x, &y) in xs.iter().zip(&ys) {
            sweep.record(x, y, err(x, y), bound);
        }
    })
}

fn exp_f64_kernel(xs: &mut [f64]) {
    exp_in_place(xs);
}

fn sigmoid_f64_kernel(xs: &mut [f64]) {
    sigmoid_in_place(xs);
}

const SEED64: u64 = 0x5eed_0064;

#[test]
#[ignore = "1.34·10⁹ inputs against a double-double reference, a few minutes in release"]
fn exp_f64_within_1_ulp_on_over_a_billion_inputs() {
    let s = sweep_f64(
        exp_f64_kernel,
        exp_f64_err,
        EXP_ULP,
        1 << 28,
        1 << 30,
        SEED64,
    );
    println!(
        "{}",
        describe("exp f64 (2^28 random bits + 2^30 in [-750, 710])", &s)
    );
    assert!(s.count >= 1_000_000_000);
    assert_eq!(
        s.failures,
        0,
        "seed {SEED64:#x}: {}",
        describe("exp f64", &s)
    );
}

#[test]
#[ignore = "1.34·10⁹ inputs against a double-double reference, a few minutes in release"]
fn sigmoid_f64_within_2_ulp_on_over_a_billion_inputs() {
    let s = sweep_f64(
        sigmoid_f64_kernel,
        sigmoid_f64_err,
        SIGMOID_ULP,
        1 << 28,
        1 << 30,
        SEED64,
    );
    println!(
        "{}",
        describe("sigmoid f64 (2^28 random bits + 2^30 in [-750, 710])", &s)
    );
    assert!(s.count >= 1_000_000_000);
    assert_eq!(
        s.failures,
        0,
        "seed {SEED64:#x}: {}",
        describe("sigmoid f64", &s)
    );
}

#[test]
fn exp_f64_within_1_ulp_on_a_million_inputs() {
    let s = sweep_f64(
        exp_f64_kernel,
        exp_f64_err,
        EXP_ULP,
        1 << 17,
        1 << 20,
        SEED64 + 1,
    );
    assert!(s.count >= 1_000_000);
    assert_eq!(
        s.failures,
        0,
        "seed {:#x}: {}",
        SEED64 + 1,
        describe("exp f64", &s)
    );
}

#[test]
fn sigmoid_f64_within_2_ulp_on_a_million_inputs() {
    let s = sweep_f64(
        sigmoid_f64_kernel,
        sigmoid_f64_err,
        SIGMOID_ULP,
        1 << 17,
        1 << 20,
        SEED64 + 1,
    );
    assert!(s.count >= 1_000_000);
    assert_eq!(
        s.failures,
        0,
        "seed {:#x}: {}",
        SEED64 + 1,
        describe("sigmoid f64", &s)
    );
}

// ---------------------------------------------------------------------------
// softmax, log_softmax, logsumexp, cross_entropy on random rows (f32).

/// The exact values of a row of f32 logits, in f64 (relative error ~2^-50,
/// far below an f32 ulp): `m`, `e_j = e^(θ_j − m)`, `s`, `ln s` (via
/// `ln_1p` of `ρ = s − 1`, summed without the maxima so a confident row keeps
/// its precision).
struct RowRef {
    m: f64,
    e: Vec<f64>,
    s: f64,
    ln_s: f64,
}

fn row_ref(theta: &[f32]) -> RowRef {
    let m = theta
        .iter()
        .map(|&t| f64::from(t))
        .fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = theta.iter().map(|&t| (f64::from(t) - m).exp()).collect();
    let ties = theta.iter().filter(|&&t| f64::from(t) == m).count() as f64;
    let rho: f64 = theta
        .iter()
        .zip(&e)
        .filter(|(&t, _)| f64::from(t) != m)
        .map(|(_, &e)| e)
        .sum::<f64>()
        + (ties - 1.0);
    RowRef {
        m,
        s: 1.0 + rho,
        ln_s: rho.ln_1p(),
        e,
    }
}

/// The worst row seen for one kernel (logits of type `X`).
#[derive(Clone, Debug, Default)]
struct WorstRow<X> {
    err: f64,
    theta: Vec<X>,
    target: Vec<X>,
    index: usize,
    seed: u64,
}

impl<X: Copy> WorstRow<X> {
    fn see(&mut self, err: f64, theta: &[X], target: &[X], index: usize, seed: u64) {
        if err > self.err || err.is_nan() && !self.err.is_nan() {
            *self = Self {
                err,
                theta: theta.to_vec(),
                target: target.to_vec(),
                index,
                seed,
            };
        }
    }
    fn merge(&mut self, o: &Self) {
        if o.err > self.err || o.err.is_nan() && !self.err.is_nan() {
            *self = o.clone();
        }
    }
}

const ROW_KERNELS: [&str; 6] = [
    "softmax",
    "softmax sum (ulps of ε/2)",
    "log_softmax",
    "logsumexp",
    "cross_entropy class",
    "cross_entropy probs",
];

#[derive(Clone, Debug)]
struct RowReport<X> {
    rows: u64,
    worst: [WorstRow<X>; 6],
}

impl<X: Copy + Default> Default for RowReport<X> {
    fn default() -> Self {
        Self {
            rows: 0,
            worst: Default::default(),
        }
    }
}

impl<X: Copy> RowReport<X> {
    fn merge(&mut self, o: &Self) {
        self.rows += o.rows;
        for (a, b) in self.worst.iter_mut().zip(&o.worst) {
            a.merge(b);
        }
    }
}

/// A random row of one of eight kinds, a class label and a probability row.
fn gen_row<const N: usize>(rng: &mut StdRng) -> ([f32; N], usize, [f32; N]) {
    let mut t = [0.0f32; N];
    let mut label = rng.gen_range(0..N);
    let pow10 = |rng: &mut StdRng, lo: f64, hi: f64| 10f64.powf(rng.gen_range(lo..hi));
    match rng.gen_range(0..8) {
        0 => {
            // One scale, up to 1e30.
            let s = pow10(rng, -3.0, 30.0);
            t.iter_mut().for_each(|v| *v = rng.gen_range(-s..s) as f32);
        }
        1 => t.iter_mut().for_each(|v| *v = rng.gen_range(-20.0..20.0)),
        2 => {
            // Ties, at the maximum too.
            let s = pow10(rng, -3.0, 30.0);
            t.iter_mut()
                .for_each(|v| *v = (s * f64::from(rng.gen_range(0..3u8))) as f32);
        }
        3 => {
            // One huge logit.
            t.iter_mut().for_each(|v| *v = rng.gen_range(-10.0..10.0));
            t[rng.gen_range(0..N)] = pow10(rng, 1.0, 30.0) as f32;
        }
        4 => {
            // All equal.
            let c = pow10(rng, -3.0, 30.0) * if rng.gen() { 1.0 } else { -1.0 };
            t.iter_mut().for_each(|v| *v = c as f32);
        }
        5 => {
            // Confident: the label leads by 10–100 (tiny loss).
            t.iter_mut().for_each(|v| *v = rng.gen_range(-5.0..5.0));
            t[label] = 5.0 + rng.gen_range(10.0..100.0);
        }
        6 => {
            // Mixed scales and signs.
            t.iter_mut().for_each(|v| {
                let s = pow10(rng, -3.0, 30.0);
                *v = if rng.gen() { s } else { -s } as f32;
            });
        }
        _ => {
            // logsumexp near 0: θ ≈ −ln N.
            let c = -(N as f64).ln();
            t.iter_mut()
                .for_each(|v| *v = (c + rng.gen_range(-1e-3..1e-3)) as f32);
            label = rng.gen_range(0..N);
        }
    }
    let mut y = [0.0f32; N];
    if rng.gen_bool(0.5) {
        // Label smoothing.
        let eps = rng.gen_range(0.0..0.2f32);
        y.iter_mut().for_each(|v| *v = eps / N as f32);
        y[label] += 1.0 - eps;
    } else {
        // Random probabilities, some exactly 0.
        y.iter_mut()
            .for_each(|v| *v = if rng.gen_bool(0.25) { 0.0 } else { rng.gen() });
        let s: f32 = y.iter().sum();
        if s > 0.0 {
            y.iter_mut().for_each(|v| *v /= s);
        }
    }
    (t, label, y)
}

/// The smallest positive subnormal `f32` and `f64`.
const SUB32: f64 = f32::MIN_POSITIVE as f64 * f32::EPSILON as f64;
const SUB64: f64 = f64::MIN_POSITIVE * f64::EPSILON;

/// What no kernel avoids in `ρ = Σ_{j≠max} e_j` where its terms are
/// subnormal: each `e_j` rounds to the subnormal grid, to within half of
/// `sub`, so `ρ`, and `ln s ≈ ρ` with it (the maximum's `log_softmax`, a
/// confident row's class loss), may be `N/2` subnormal ulps off; in ulps of
/// `exact`, `(N/2)·sub/ulp(exact)`, which vanishes unless `exact` is itself
/// tiny. (A row of 1000 logits whose maximum leads by 94 has a `ρ` of
/// 3.4e-41 and lost 60 subnormal ulps of it.) The measured `log_softmax` and
/// class-loss errors are net of it.
fn subnormal_allowance(n: usize, sub: f64, ulp: f64) -> f64 {
    n as f64 / 2.0 * sub / ulp
}

/// The row kernels measured in one precision: the logits' type and the
/// measurement of one generated row (both precisions share `ROW_BOUNDS`).
trait RowPrecision {
    type X: Copy + Default + Send + std::fmt::Debug;
    fn measure<const N: usize>(
        t: &[f32; N],
        label: usize,
        y: &[f32; N],
        rep: &mut RowReport<Self::X>,
        index: usize,
        seed: u64,
    );
}

/// Measures every row kernel on `rows` rows of length `N`.
fn row_sweep<P: RowPrecision, const N: usize>(rows: u64, seed: u64) -> RowReport<P::X> {
    const CHUNK: u64 = 1 << 14;
    let chunks = rows.div_ceil(CHUNK);
    let total = std::sync::Mutex::new(RowReport::default());
    let next = std::sync::atomic::AtomicU64::new(0);
    std::thread::scope(|sc| {
        for _ in 0..support::threads() {
            sc.spawn(|| {
                let mut rep = RowReport::default();
                loop {
                    let c = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if c >= chunks {
                        break;
                    }
                    let chunk_seed = seed ^ (c << 20) ^ (N as u64);
                    let mut rng = StdRng::seed_from_u64(chunk_seed);
                    let n = CHUNK.min(rows - c * CHUNK);
                    for i in 0..n {
                        let (t, l, y) = gen_row::<N>(&mut rng);
                        P::measure(&t, l, &y, &mut rep, i as usize, chunk_seed);
                    }
                    rep.rows += n;
                }
                total.lock().unwrap().merge(&rep);
            });
        }
    });
    total.into_inner().unwrap()
}

/// The f32 row kernels against [`row_ref`].
struct RowsF32;

impl RowPrecision for RowsF32 {
    type X = f32;

    fn measure<const N: usize>(
        t: &[f32; N],
        label: usize,
        y: &[f32; N],
        rep: &mut RowReport<f32>,
        index: usize,
        seed: u64,
    ) {
        let r = row_ref(t);
        let theta = RowVec::from_row(*t);
        let w = &mut rep.worst;

        let p = softmax(&theta);
        let mut err = 0.0f64;
        let mut sum = 0.0f64;
        for (j, &pj) in p.row().iter().enumerate() {
            err = err.max(ulp_err_f32(pj, r.e[j] / r.s));
            sum += f64::from(pj);
        }
        w[0].see(err, t, y, index, seed);
        w[1].see((sum - 1.0).abs() / 2f64.powi(-24), t, y, index, seed);

        let ls = log_softmax(&theta);
        let mut err = 0.0f64;
        for (j, &v) in ls.row().iter().enumerate() {
            let exact = (f64::from(t[j]) - r.m) - r.ln_s;
            err = err.max(ulp_err_f32(v, exact) - subnormal_allowance(N, SUB32, ulp_f32_of(exact)));
        }
        w[2].see(err, t, y, index, seed);

        let lse = logsumexp(&theta);
        let exact = r.m + r.ln_s;
        w[3].see(
            (f64::from(lse) - exact).abs() / ulp_f32_of(r.m.abs() + r.ln_s),
            t,
            y,
            index,
            seed,
        );

        let lc = cross_entropy(&theta, &Target::class(label).expect("label < N"));
        let exact = (r.m - f64::from(t[label])) + r.ln_s;
        let err = ulp_err_f32(lc, exact) - subnormal_allowance(N, SUB32, ulp_f32_of(exact));
        w[4].see(err, t, &[label as f32], index, seed);

        let lp = cross_entropy(&theta, &Target::probs(*y));
        let exact: f64 = t
            .iter()
            .zip(y)
            .filter(|(_, &yj)| yj != 0.0)
            .map(|(&tj, &yj)| f64::from(yj) * ((r.m - f64::from(tj)) + r.ln_s))
            .sum();
        w[5].see(ulp_err_f32(lp, exact), t, y, index, seed);
    }
}

/// A generated f32 row as f64 logits with their low bits filled: each
/// logit times `1 + δ`, `|δ| < 2^-30`, `δ` a hash of the f32's bits, so
/// equal logits (ties) stay equal.
fn widen_row<const N: usize>(t: &[f32; N]) -> [f64; N] {
    t.map(|v| {
        let h = u64::from(v.to_bits()).wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
        f64::from(v) * (1.0 + (h as f64 - 8_388_608.0) * 2f64.powi(-53))
    })
}

/// The exact values of a row of f64 logits, in double-double: `m`, each
/// `θ_j − m` (exact), `e_j = e^(θ_j − m)` as `(mantissa, exponent)` (0 where
/// `θ_j − m < −800`: below 2^-1154, no f64 result can see it), `s` and
/// `ln s = ln(1 + ρ)`, `ρ` summed without the maxima.
struct RowRefDd {
    m: f64,
    d: Vec<Dd>,
    e: Vec<(Dd, i32)>,
    s: Dd,
    ln_s: Dd,
}

fn row_ref_dd(theta: &[f64]) -> RowRefDd {
    let m = theta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let d: Vec<Dd> = theta.iter().map(|&t| two_sum(t, -m)).collect();
    let e: Vec<(Dd, i32)> = d
        .iter()
        .map(|&dj| {
            if dj.hi < -800.0 {
                (Dd::from(0.0), 0)
            } else {
                dd_exp(dj)
            }
        })
        .collect();
    let ties = theta.iter().filter(|&&t| t == m).count() as f64;
    let rho = theta
        .iter()
        .zip(&e)
        .filter(|(&t, _)| t != m)
        .fold(Dd::from(ties - 1.0), |acc, (_, &(ej, n))| {
            acc.add(ej.scale(n))
        });
    // ln(1 + ρ_hi + ρ_lo) = ln(1 + ρ_hi) + ρ_lo/(1 + ρ_hi), to 2^-106.
    let ln_s = dd_ln_1p(rho.hi).add_f64(rho.lo / (1.0 + rho.hi));
    RowRefDd {
        m,
        d,
        e,
        s: rho.add_f64(1.0),
        ln_s,
    }
}

/// The f64 row kernels against [`row_ref_dd`], on [`widen_row`]'s logits.
struct RowsF64;

impl RowPrecision for RowsF64 {
    type X = f64;

    fn measure<const N: usize>(
        t32: &[f32; N],
        label: usize,
        y32: &[f32; N],
        rep: &mut RowReport<f64>,
        index: usize,
        seed: u64,
    ) {
        let t = widen_row(t32);
        let y = y32.map(f64::from);
        let r = row_ref_dd(&t);
        let theta = RowVec::from_row(t);
        let w = &mut rep.worst;

        let p = softmax(&theta);
        let mut err = 0.0f64;
        let mut sum = Dd::from(0.0);
        for (j, &pj) in p.row().iter().enumerate() {
            let (ej, n) = r.e[j];
            err = err.max(ulp_err_f64_dd(pj, ej.div(r.s), n));
            sum = sum.add_f64(pj);
        }
        w[0].see(err, &t, &y, index, seed);
        w[1].see(
            sum.add_f64(-1.0).to_f64().abs() / 2f64.powi(-53),
            &t,
            &y,
            index,
            seed,
        );

        let ls = log_softmax(&theta);
        let mut err = 0.0f64;
        for (j, &v) in ls.row().iter().enumerate() {
            let exact = r.d[j].sub(r.ln_s);
            let allowance = subnormal_allowance(N, SUB64, ulp_f64_of(exact.hi));
            err = err.max(ulp_err_f64_dd(v, exact, 0) - allowance);
        }
        w[2].see(err, &t, &y, index, seed);

        let lse = logsumexp(&theta);
        let exact = r.ln_s.add_f64(r.m);
        let scale = r.ln_s.add_f64(r.m.abs());
        let err = (lse - exact.hi - exact.lo).abs() / ulp_f64_of(scale.hi);
        w[3].see(err, &t, &y, index, seed);

        let lc = cross_entropy(&theta, &Target::class(label).expect("label < N"));
        let exact = r.d[label].neg().add(r.ln_s);
        w[4].see(
            ulp_err_f64_dd(lc, exact, 0) - subnormal_allowance(N, SUB64, ulp_f64_of(exact.hi)),
            &t,
            &[label as f64],
            index,
            seed,
        );

        let lp = cross_entropy(&theta, &Target::probs(y));
        let exact = t
            .iter()
            .zip(&y)
            .enumerate()
            .filter(|(_, (_, &yj))| yj != 0.0)
            .fold(Dd::from(0.0), |acc, (j, (_, &yj))| {
                acc.add(r.d[j].neg().add(r.ln_s).mul_f64(yj))
            });
        w[5].see(ulp_err_f64_dd(lp, exact, 0), &t, &y, index, seed);
    }
}

fn check_rows<P: RowPrecision>(rows_per_n: u64, seed: u64) {
    let reports = [
        (2, row_sweep::<P, 2>(rows_per_n, seed)),
        (5, row_sweep::<P, 5>(rows_per_n, seed)),
        (10, row_sweep::<P, 10>(rows_per_n, seed)),
        (33, row_sweep::<P, 33>(rows_per_n, seed)),
    ];
    assert_row_reports(&reports, seed);
}

/// As [`check_rows`] for long rows (N = 100, 1000, 4096), `rows_per_n`
/// rows of 1000 logits and proportionally fewer or more of the others.
fn check_long_rows<P: RowPrecision>(rows_per_n: u64, seed: u64) {
    let reports = [
        (100, row_sweep::<P, 100>(rows_per_n * 10, seed)),
        (1000, row_sweep::<P, 1000>(rows_per_n, seed)),
        (4096, row_sweep::<P, 4096>(rows_per_n / 4, seed)),
    ];
    assert_row_reports(&reports, seed);
}

fn assert_row_reports<X: std::fmt::Debug>(reports: &[(usize, RowReport<X>)], seed: u64) {
    let mut failures = Vec::new();
    for (n, rep) in reports {
        for (k, w) in rep.worst.iter().enumerate() {
            println!(
                "N = {n:2} {:28} {} rows: max {:.3} (chunk seed {:#x}, row {}: θ = {:?}, target {:?})",
                ROW_KERNELS[k], rep.rows, w.err, w.seed, w.index, w.theta, w.target
            );
            let bound = if k == 1 { *n as f64 } else { ROW_BOUNDS[k] };
            if w.err > bound || w.err.is_nan() {
                failures.push(format!(
                    "N = {n}, {}: {} > {bound}: {w:?}",
                    ROW_KERNELS[k], w.err
                ));
            }
        }
    }
    assert!(failures.is_empty(), "seed {seed:#x}: {failures:#?}");
}

#[test]
#[ignore = "10⁸ random rows (N = 2, 5, 10, 33), a few minutes in release"]
fn softmax_family_within_bounds_on_a_hundred_million_rows() {
    check_rows::<RowsF32>(25_000_000, 0x5eed_50f7);
}

#[test]
#[ignore = "long random rows (N = 100, 1000, 4096), about a minute in release"]
fn softmax_family_within_bounds_on_long_rows() {
    check_long_rows::<RowsF32>(100_000, 0x5eed_50fb);
}

#[test]
#[ignore = "long random f64 rows (N = 100, 1000, 4096) against double-double, minutes in release"]
fn softmax_family_f64_within_bounds_on_long_rows() {
    check_long_rows::<RowsF64>(20_000, 0x5eed_50fc);
}

#[test]
fn softmax_family_within_bounds_on_random_rows() {
    check_rows::<RowsF32>(20_000 >> QUICK_SHIFT, 0x5eed_50f8);
}

#[test]
#[ignore = "10⁸ random f64 rows (N = 2, 5, 10, 33) against double-double, minutes in release"]
fn softmax_family_f64_within_bounds_on_a_hundred_million_rows() {
    check_rows::<RowsF64>(25_000_000, 0x5eed_50f9);
}

#[test]
fn softmax_family_f64_within_bounds_on_random_rows() {
    check_rows::<RowsF64>(4_000 >> QUICK_SHIFT, 0x5eed_50fa);
}

// ---------------------------------------------------------------------------
// Special values of the row kernels (see `src/math/mod.rs`).

/// `(logsumexp, softmax, class losses)` of a row of finite logits, in f64.
fn finite_reference(theta: &[f32]) -> (f64, Vec<f64>, Vec<f64>) {
    let r = row_ref(theta);
    let losses = theta
        .iter()
        .map(|&t| (r.m - f64::from(t)) + r.ln_s)
        .collect();
    (r.m + r.ln_s, r.e.iter().map(|e| e / r.s).collect(), losses)
}

#[test]
fn neg_infinite_logit_is_a_probability_of_exactly_zero() {
    // Lengths 3 and 11 (a SIMD tail either way); the −∞ sits at different lanes.
    let t3 = [1.5f32, f32::NEG_INFINITY, -0.25];
    let mut t11 = [0.0f32; 11];
    t11.iter_mut()
        .enumerate()
        .for_each(|(i, v)| *v = i as f32 * 0.3 - 1.0);
    t11[9] = f32::NEG_INFINITY;
    t11[2] = f32::NEG_INFINITY;
    fn check<const N: usize>(t: [f32; N]) {
        let finite: Vec<f32> = t.iter().copied().filter(|v| v.is_finite()).collect();
        let (lse, p_finite, losses) = finite_reference(&finite);
        let theta = RowVec::from_row(t);
        let p = softmax(&theta);
        let ls = log_softmax(&theta);
        let mut k = 0;
        for j in 0..N {
            if t[j] == f32::NEG_INFINITY {
                assert_eq!(p[(0, j)].to_bits(), 0, "softmax at −∞ must be +0");
                assert_eq!(ls[(0, j)], f32::NEG_INFINITY);
            } else {
                assert!(ulp_err_f32(p[(0, j)], p_finite[k]) <= SOFTMAX_ULP, "{t:?}");
                k += 1;
            }
        }
        assert!(
            ulp_err_f32(logsumexp(&theta), lse) <= LOGSUMEXP_ULP,
            "{t:?}"
        );
        let label = t
            .iter()
            .position(|v| v.is_finite())
            .expect("a finite logit");
        let l = cross_entropy(&theta, &Target::class(label).expect("label < N"));
        assert!(ulp_err_f32(l, losses[0]) <= XENT_CLASS_ULP, "{t:?}");
        // Zero target mass on the −∞ logits: finite; any mass there: +∞.
        let mut y = [0.0f32; N];
        y[label] = 1.0;
        assert!(cross_entropy(&theta, &Target::probs(y)).is_finite());
        let ninf = t
            .iter()
            .position(|v| *v == f32::NEG_INFINITY)
            .expect("a −∞");
        y[ninf] = 0.5;
        assert_eq!(cross_entropy(&theta, &Target::probs(y)), f32::INFINITY);
    }
    check(t3);
    check(t11);
}

fn pos_infinite_rows() -> ([f32; 3], [f32; 1], [f32; 10]) {
    let mut t = [1.0f32; 10];
    t[8] = f32::INFINITY;
    ([0.0f32, f32::INFINITY, -3.0], [f32::INFINITY], t)
}

#[test]
fn pos_infinite_logit_gives_infinite_logsumexp_and_nan_softmax() {
    fn check<const N: usize>(t: [f32; N]) {
        let theta = RowVec::from_row(t);
        assert_eq!(logsumexp(&theta), f32::INFINITY, "{t:?}");
        assert!(softmax(&theta).row().iter().all(|v| v.is_nan()), "{t:?}");
    }
    let (a, b, c) = pos_infinite_rows();
    check(a);
    check(b);
    check(c);
}

#[test]
fn pos_infinite_logit_gives_neg_infinite_log_softmax_at_the_finite_logits() {
    // The limit: the finite logits' probabilities tend to 0; NaN at the +∞.
    fn check<const N: usize>(t: [f32; N]) {
        let ls = log_softmax(&RowVec::from_row(t));
        for (x, v) in t.iter().zip(ls.row()) {
            if x.is_finite() {
                assert_eq!(*v, f32::NEG_INFINITY, "{t:?}: {ls:?}");
            } else {
                assert!(v.is_nan(), "{t:?}: {ls:?}");
            }
        }
    }
    let (a, b, c) = pos_infinite_rows();
    check(a);
    check(b);
    check(c);
}

#[test]
fn all_neg_infinite_row_gives_neg_infinite_logsumexp_and_nan_softmax() {
    fn check<const N: usize>() {
        let theta = RowVec::from_row([f32::NEG_INFINITY; N]);
        assert_eq!(logsumexp(&theta), f32::NEG_INFINITY, "N = {N}");
        assert!(softmax(&theta).row().iter().all(|v| v.is_nan()), "N = {N}");
        assert!(
            log_softmax(&theta).row().iter().all(|v| v.is_nan()),
            "N = {N}"
        );
    }
    check::<1>();
    check::<3>();
    check::<9>();
    assert_eq!(logsumexp(&RowVec::<0, f32>::zeros()), f32::NEG_INFINITY);
}

#[test]
fn nan_logit_makes_every_row_output_nan() {
    fn check<const N: usize>(t: [f32; N]) {
        let theta = RowVec::from_row(t);
        assert!(logsumexp(&theta).is_nan(), "{t:?}");
        assert!(softmax(&theta).row().iter().all(|v| v.is_nan()), "{t:?}");
        assert!(
            log_softmax(&theta).row().iter().all(|v| v.is_nan()),
            "{t:?}"
        );
        assert!(
            cross_entropy(&theta, &Target::class(0).expect("N > 0")).is_nan(),
            "{t:?}"
        );
        let mut y = [0.0f32; N];
        y[0] = 1.0;
        assert!(cross_entropy(&theta, &Target::probs(y)).is_nan(), "{t:?}");
    }
    check([f32::NAN, 1.0, 2.0]);
    check([1.0, 2.0, f32::NAN]);
    check([f32::INFINITY, f32::NAN]);
    check([f32::NEG_INFINITY, f32::NAN]);
    let mut t = [0.5f32; 12];
    t[11] = f32::NAN;
    check(t);
}

#[test]
fn row_kernels_never_overflow_at_extreme_finite_scales() {
    let cases: [[f32; 4]; 4] = [
        [1e30, -1e30, 0.0, 1e30],
        [-1e30; 4],
        [3e38, 3e38, 3e38, 2e38],
        [1e30, 1e29, -5.0, 7.0],
    ];
    for t in cases {
        let theta = RowVec::from_row(t);
        let (lse, p, losses) = finite_reference(&t);
        assert!(
            ulp_err_f32(logsumexp(&theta), lse) <= LOGSUMEXP_ULP,
            "{t:?}"
        );
        for (got, want) in softmax(&theta).row().iter().zip(&p) {
            assert!(ulp_err_f32(*got, *want) <= SOFTMAX_ULP, "{t:?}");
        }
        let l = cross_entropy(&theta, &Target::class(1).expect("label < 4"));
        assert!(ulp_err_f32(l, losses[1]) <= XENT_CLASS_ULP, "{t:?}");
    }
}

#[test]
fn confident_row_loss_within_4_ulp() {
    // Two logits whose difference is not an f32: the loss ln(1 + e^(θ1 − θ0))
    // ≈ e^(θ1 − θ0) inherits the rounding of θ1 − θ0 unless it is recovered.
    let mut rng = StdRng::seed_from_u64(0x5eed_c0f1);
    let mut worst = (0.0f64, [0.0f32; 2]);
    for _ in 0..100_000 {
        let t = [rng.gen_range(40.0f32..80.0), rng.gen_range(-20.0f32..-1.0)];
        let theta = RowVec::from_row(t);
        let r = row_ref(&t);
        let l = cross_entropy(&theta, &Target::class(0).expect("label < 2"));
        let e = ulp_err_f32(l, (r.m - f64::from(t[0])) + r.ln_s);
        if e > worst.0 {
            worst = (e, t);
        }
    }
    println!("confident rows: worst {} ulp at θ = {:?}", worst.0, worst.1);
    assert!(worst.0 <= 4.0, "worst {} ulp at θ = {:?}", worst.0, worst.1);
}
