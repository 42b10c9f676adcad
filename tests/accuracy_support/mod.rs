//! Measurement tools shared by `tests/exhaustive.rs`,
//! `examples/accuracy_report.rs` and `examples/accuracy_plot.rs` (included
//! with `#[path]`): ulp metrics, parallel sweeps over every `f32`, and
//! double-double references for `e^x` and `σ(x)` in `f64`.
//!
//! # Ulp metric
//!
//! The error of a result is `|got − exact|` divided by the ulp of the binade
//! of the *exact* value (for `f32`: `2^(⌊log2|exact|⌋ − 23)`), floored at the
//! smallest subnormal (`2^-149` for `f32`, `2^-1074` for `f64`), so results in
//! the subnormal range count in subnormal ulps.
//!
//! # Double-double references
//!
//! `f64` kernels are measured against values carried to ~2^-100 relative
//! precision, written here from scratch and independently of the crate:
//! `e^x = 2^n · (e^(r/16))^16` with `r = x − n·ln2` reduced in double-double
//! against a three-part `ln 2`, `e^t` by its Taylor series (degree 14,
//! remainder < 2^-120 for `|t| ≤ ln2/32`; terms up to `t^4` in double-double,
//! the rest, below 4e-11, in plain `f64`), then four squarings: ~2^-85
//! relative in all, 2^-32 of an `f64` ulp. `σ` is `1/(1 + e^-x)` or `e^x/(1 + e^x)`
//! in double-double. The arithmetic and the `ln(1 + u)` reference are in
//! `dd.rs`. Every reference is checked against mpmath values
//! (`tests/data/mpmath_f64.txt`).
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

// The ulp metrics, double-double arithmetic and the `ln(1 + u)` reference:
// shared with the crate's unit tests.
#[path = "dd.rs"]
mod dd;
pub use dd::*;

// ---------------------------------------------------------------------------
// The exp and sigmoid contracts (the ulp metrics are in dd.rs).

/// The overflow threshold of round-to-nearest `f32`: exact values at or
/// above `2^128·(1 − 2^-25)` round to `+∞`.
pub const F32_OVERFLOW: f64 = 3.402_823_567_797_336_6e38;

/// Error in ulps of `got = exp(x)` (f32), following the contract: NaN for
/// NaN; `+∞` required where the exact value rounds to `+∞`; otherwise the
/// ulp metric above. Returns `(error, NaN/overflow rule respected)`.
#[must_use]
pub fn exp_f32_err(x: f32, got: f32) -> (f64, bool) {
    if x.is_nan() {
        return if got.is_nan() {
            (0.0, true)
        } else {
            (f64::INFINITY, false)
        };
    }
    let exact = f64::from(x).exp();
    if exact >= F32_OVERFLOW {
        return if got == f32::INFINITY {
            (0.0, true)
        } else {
            (f64::INFINITY, false)
        };
    }
    let e = ulp_err_f32(got, exact);
    (e, e.is_finite())
}

/// The `f64` reference `σ(x)`: constgrad's plain std-based reference
/// (`1/(1 + e^-x)` for `x ≥ 0`, `e^x/(1 + e^x)` below; ~2^-52 relative, far
/// below an `f32` ulp). It shares no code with the kernels.
pub use constgrad::math::reference::sigmoid as sigmoid_f64;

/// Error in ulps of `got = σ(x)` (f32); NaN must give NaN.
#[must_use]
pub fn sigmoid_f32_err(x: f32, got: f32) -> (f64, bool) {
    if x.is_nan() {
        return if got.is_nan() {
            (0.0, true)
        } else {
            (f64::INFINITY, false)
        };
    }
    let e = ulp_err_f32(got, sigmoid_f64(f64::from(x)));
    (e, e.is_finite())
}

// ---------------------------------------------------------------------------
// Sweeps.

/// One failing or worst-case input of a sweep.
#[derive(Clone, Copy, Debug)]
pub struct Sample<X> {
    /// The input.
    pub x: X,
    /// The kernel's result.
    pub got: X,
    /// Its error in ulps.
    pub err: f64,
}

/// What a sweep found.
#[derive(Clone, Debug)]
pub struct Sweep<X> {
    /// Inputs evaluated.
    pub count: u64,
    /// Largest error seen (over inputs whose special-value rule held).
    pub max_err: f64,
    /// The input of `max_err` and the result there.
    pub argmax: Option<Sample<X>>,
    /// Inputs whose error exceeded the bound or broke a special-value rule.
    pub failures: u64,
    /// The first few failures (at most 16), for the message.
    pub first_failures: Vec<Sample<X>>,
}

impl<X: Copy> Sweep<X> {
    fn new() -> Self {
        Self {
            count: 0,
            max_err: 0.0,
            argmax: None,
            failures: 0,
            first_failures: Vec::new(),
        }
    }

    /// Records one result.
    pub fn record(&mut self, x: X, got: X, (err, rule_ok): (f64, bool), bound: f64) {
        self.count += 1;
        if rule_ok && err > self.max_err {
            self.max_err = err;
            self.argmax = Some(Sample { x, got, err });
        }
        if !rule_ok || err > bound {
            self.failures += 1;
            if self.first_failures.len() < 16 {
                self.first_failures.push(Sample { x, got, err });
            }
        }
    }

    fn merge(&mut self, o: Self) {
        self.count += o.count;
        if o.max_err > self.max_err {
            self.max_err = o.max_err;
            self.argmax = o.argmax;
        }
        self.failures += o.failures;
        for s in o.first_failures {
            if self.first_failures.len() < 16 {
                self.first_failures.push(s);
            }
        }
    }
}

/// Number of worker threads: the machine's parallelism (at least 1).
#[must_use]
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Runs `work(chunk_index, &mut Sweep)` for every chunk in `0..chunks`,
/// spread over [`threads`] scoped threads that take chunks in turn.
pub fn par_chunks<X: Copy + Send>(
    chunks: u64,
    work: impl Fn(u64, &mut Sweep<X>) + Sync,
) -> Sweep<X> {
    let next = AtomicU64::new(0);
    let total = Mutex::new(Sweep::new());
    std::thread::scope(|s| {
        for _ in 0..threads() {
            s.spawn(|| {
                let mut local = Sweep::new();
                loop {
                    let c = next.fetch_add(1, Ordering::Relaxed);
                    if c >= chunks {
                        break;
                    }
                    work(c, &mut local);
                }
                total.lock().unwrap().merge(local);
            });
        }
    });
    total.into_inner().unwrap()
}

/// Runs `kernel` on every one of the 2³² `f32` bit patterns (chunks of
/// 2¹⁶ inputs) and measures each result with `err`.
pub fn sweep_all_f32(
    kernel: impl Fn(&mut [f32]) + Sync,
    err: impl Fn(f32, f32) -> (f64, bool) + Sync,
    bound: f64,
) -> Sweep<f32> {
    const CHUNK: u64 = 1 << 16;
    par_chunks(1 << 16, |c, sweep| {
        let base = (c * CHUNK) as u32;
        let xs: Vec<f32> = (0..CHUNK as u32)
            .map(|i| f32::from_bits(base + i))
            .collect();
        let mut ys = xs.clone();
        kernel(&mut ys);
        for (&x, &y) in xs.iter().zip(&ys) {
            sweep.record(x, y, err(x, y), bound);
        }
    })
}

/// Every `f32` in `[lo, hi]` with bit-pattern stride `stride` (all of them
/// for `stride = 1`), in ascending order.
#[must_use]
pub fn f32s_between(lo: f32, hi: f32, stride: u32) -> Vec<f32> {
    // Map to a monotone integer key and back.
    fn key(x: f32) -> i64 {
        let b = x.to_bits();
        if b >> 31 == 1 {
            -i64::from(b & 0x7fff_ffff)
        } else {
            i64::from(b)
        }
    }
    fn unkey(k: i64) -> f32 {
        if k < 0 {
            f32::from_bits(0x8000_0000 | (-k) as u32)
        } else {
            f32::from_bits(k as u32)
        }
    }
    (key(lo)..=key(hi))
        .step_by(stride as usize)
        .map(unkey)
        .collect()
}

// ---------------------------------------------------------------------------
// Double-double references for e^x and σ(x) (the arithmetic is in dd.rs).

/// `1/k!` for `k = 0..=14` in double-double.
fn inv_factorials() -> &'static [Dd; 15] {
    static C: std::sync::OnceLock<[Dd; 15]> = std::sync::OnceLock::new();
    C.get_or_init(|| {
        let mut c = [Dd::ONE; 15];
        for k in 1..15 {
            c[k] = c[k - 1].div_f64(k as f64);
        }
        c
    })
}

/// `e^x` as `(m, n)` with `e^x = m · 2^n`, `m ∈ [0.7, 1.42]`, to ~2^-85
/// relative. Valid for `|x.hi| ≤ 1100`.
#[must_use]
pub fn dd_exp(x: Dd) -> (Dd, i32) {
    assert!(x.hi.abs() <= 1100.0, "dd_exp({x:?}) out of range");
    let n = (x.hi * core::f64::consts::LOG2_E).round();
    // r = x − n·ln2: n·LN2[0] and n·LN2[1] exactly, n·LN2[2] rounded (< 2^-150).
    let r = x
        .sub(two_prod(n, LN2[0]))
        .sub(two_prod(n, LN2[1]))
        .add_f64(-(n * LN2[2]));
    let t = r.scale(-4);
    // e^t = Σ t^k/k!: the terms from t^5 on (< 4e-11) in plain f64 (their
    // rounding is < 2^-87 of the sum), the first five in double-double.
    let c = inv_factorials();
    let mut tail = c[14].hi;
    for ck in c[5..14].iter().rev() {
        tail = tail * t.hi + ck.hi;
    }
    let mut acc = Dd::from(tail);
    for ck in c[..5].iter().rev() {
        acc = acc.mul(t).add(*ck);
    }
    for _ in 0..4 {
        acc = acc.mul(acc);
    }
    (acc, n as i32)
}

/// `σ(x)` as `(m, n)` with `σ(x) = m · 2^n`, to ~2^-85 relative.
#[must_use]
pub fn dd_sigmoid(x: f64) -> (Dd, i32) {
    if x >= 0.0 {
        if x > 1000.0 {
            return (Dd::ONE, 0); // 1 − e^-x, e^-x < 2^-1400
        }
        let (m, n) = dd_exp(Dd::from(-x));
        let e = m.scale(n);
        if n < -120 {
            (Dd::ONE.sub(e), 0)
        } else {
            (Dd::ONE.div(Dd::ONE.add(e)), 0)
        }
    } else {
        if x < -1000.0 {
            return (Dd::ONE, -1500); // a stand-in far below 2^-1074
        }
        let (m, n) = dd_exp(Dd::from(x));
        if n < -120 {
            // e^x/(1 + e^x) = e^x·(1 − e^x + …), e^x < 2^-119.
            (m, n)
        } else {
            let e = m.scale(n);
            (e.div(Dd::ONE.add(e)), 0)
        }
    }
}

/// `(m·2^n) / 2^1024`, compared with the f64 overflow rules: `Some(true)` if
/// the exact value rounds to `+∞`, `Some(false)` if it lies strictly between
/// `f64::MAX` and that threshold, `None` if it is at most `f64::MAX`.
fn f64_overflow(m: Dd, n: i32) -> Option<bool> {
    if n < 1000 {
        return None;
    }
    let c = m.scale(n - 1024);
    let thr = 1.0 - pow2(-54); // 2^1024·(1 − 2^-54): rounds to +∞
    let max = 1.0 - pow2(-53); // f64::MAX / 2^1024
    if c.hi > thr || (c.hi == thr && c.lo >= 0.0) {
        Some(true)
    } else if c.hi > max || (c.hi == max && c.lo > 0.0) {
        Some(false)
    } else {
        None
    }
}

/// Error in ulps of `got = exp(x)` (f64) against [`dd_exp`], with the
/// NaN / overflow rules of [`exp_f32_err`].
#[must_use]
pub fn exp_f64_err(x: f64, got: f64) -> (f64, bool) {
    if x.is_nan() {
        return if got.is_nan() {
            (0.0, true)
        } else {
            (f64::INFINITY, false)
        };
    }
    if x > 1000.0 {
        return if got == f64::INFINITY {
            (0.0, true)
        } else {
            (f64::INFINITY, false)
        };
    }
    if x < -1000.0 {
        // e^x < 2^-1442: the only results within an ulp are 0 and 2^-1074.
        let ok = got == 0.0 || got == pow2(-1074);
        return (if got == 0.0 { 0.0 } else { 1.0 }, ok);
    }
    let (m, n) = dd_exp(Dd::from(x));
    match f64_overflow(m, n) {
        Some(true) => {
            return if got == f64::INFINITY {
                (0.0, true)
            } else {
                (f64::INFINITY, false)
            };
        }
        Some(false) => {
            let ok = got == f64::MAX || got == f64::INFINITY;
            return (0.5, ok);
        }
        None => {}
    }
    let e = ulp_err_f64_dd(got, m, n);
    (e, e.is_finite())
}

/// Error in ulps of `got = σ(x)` (f64) against [`dd_sigmoid`]; NaN → NaN.
#[must_use]
pub fn sigmoid_f64_err(x: f64, got: f64) -> (f64, bool) {
    if x.is_nan() {
        return if got.is_nan() {
            (0.0, true)
        } else {
            (f64::INFINITY, false)
        };
    }
    let (m, n) = dd_sigmoid(x);
    let e = ulp_err_f64_dd(got, m, n);
    (e, e.is_finite())
}

/// Which function an [`MpValue`] is of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MpKind {
    /// `e^x`.
    Exp,
    /// `σ(x)`.
    Sigmoid,
    /// `ln(1 + x)`.
    Ln1p,
}

/// One line of `tests/data/mpmath_f64.txt`.
#[derive(Clone, Copy, Debug)]
pub struct MpValue {
    /// The input.
    pub x: f64,
    /// The function.
    pub kind: MpKind,
    /// `f(x) = m · 2^e` with `m ∈ [0.5, 1)`.
    pub m: Dd,
    /// See `m`.
    pub e: i32,
}

/// The mpmath values checked in with the tests.
#[must_use]
pub fn mpmath_values() -> Vec<MpValue> {
    let text = include_str!("../data/mpmath_f64.txt");
    let hex = |s: &str| f64::from_bits(u64::from_str_radix(s, 16).expect("hex bits"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f.len(), 5, "bad line {l:?}");
            MpValue {
                x: hex(f[0]),
                kind: match f[1] {
                    "exp" => MpKind::Exp,
                    "sig" => MpKind::Sigmoid,
                    "l1p" => MpKind::Ln1p,
                    k => panic!("unknown kind {k:?} in {l:?}"),
                },
                m: Dd {
                    hi: hex(f[2]),
                    lo: hex(f[3]),
                },
                e: f[4].parse().expect("exponent"),
            }
        })
        .collect()
}

/// Relative difference `|a·2^na − b·2^nb| / |b·2^nb|` of two double-doubles.
#[must_use]
pub fn dd_rel_diff(a: Dd, na: i32, b: Dd, nb: i32) -> f64 {
    let a = a.scale(na - nb);
    let d = a.sub(b);
    (d.hi / b.hi).abs()
}

/// The `f32` kernels the accuracy examples compare, each in place over a
/// slice: constgrad's, std's scalar `expf`, `wide`'s `f32x8::exp`, and the
/// naive sigmoid `1/(1 + e^-x)`.
pub mod kernels {
    /// `constgrad::math::exp_in_place`.
    pub fn constgrad_exp(xs: &mut [f32]) {
        constgrad::math::exp_in_place(xs);
    }

    /// `constgrad::math::sigmoid_in_place`.
    pub fn constgrad_sigmoid(xs: &mut [f32]) {
        constgrad::math::sigmoid_in_place(xs);
    }

    /// std's scalar `f32::exp`.
    pub fn std_exp(xs: &mut [f32]) {
        xs.iter_mut().for_each(|x| *x = x.exp());
    }

    /// `wide::f32x8::exp`, 8 at a time (tail zero-padded).
    pub fn wide_exp(xs: &mut [f32]) {
        for c in xs.chunks_mut(8) {
            let mut a = [0.0f32; 8];
            a[..c.len()].copy_from_slice(c);
            let y = wide::f32x8::from(a).exp().to_array();
            c.copy_from_slice(&y[..c.len()]);
        }
    }

    /// `1/(1 + e^-x)` in f32 with std's scalar `expf`.
    pub fn naive_sigmoid(xs: &mut [f32]) {
        xs.iter_mut().for_each(|x| *x = 1.0 / (1.0 + (-*x).exp()));
    }
}
