//! The invariants the fuzz targets enforce, as plain functions of concrete
//! values.
//!
//! Each `check_*` runs the constgrad API on its arguments, computes the
//! expected result by an independent route (f64 through std's libm, or a
//! double-double evaluation where f64 itself is under test), and returns
//! `Err(description)` on a violated promise, or `Ok(ratio)`: the worst
//! `|error| / bound` it measured (0 when only exact facts were checked).
//!
//! This file has no fuzzing dependency: the fuzz crate exports it as
//! `constgrad_fuzz::checks`, and `tests/fuzz_regressions.rs` includes it by
//! path, so a crash found by a fuzzer is replayed as a unit test through the
//! very check that caught it.
//!
//! # Bounds
//!
//! - `exp`: ≤ 1 ulp of the exact result (subnormal results in subnormal ulps,
//!   i.e. "rounded once" as `src/math/exp.rs` states), `+∞` iff the exact
//!   result is ≥ 2^128 (f32) / 2^1024 (f64), `exp(−∞) = +0`, NaN → NaN.
//! - `sigmoid`: ≤ 2 ulp everywhere (subnormal ulps below the normal range),
//!   `σ(±∞) = 1, 0`, `σ(±0) = ½`, NaN → NaN.
//! - Rows and networks: a first-order running error bound, computed in f64
//!   beside the reference. Every rounding of the kernel's documented method
//!   costs `u·|value| + 2^-149` (u = 2^-24), `exp` costs 1 ulp, `ln(1+ρ)` and
//!   `σ` 2 ulp, and errors already present are propagated through the
//!   function's exact sensitivity (Lipschitz bounds for σ, σ'; the exact
//!   multiplicative bound `e^(δ_j − δ_k)` for softmax and cross-entropy).
//!   An output must lie within `SAFETY = 2` times its bound. Unlike a bound
//!   relative to `‖exact‖∞`, this never fails on inputs that are merely
//!   ill-conditioned (cancellation in `Σ x_i·W_ij`, logits so large that their
//!   own rounding moves the softmax), yet it is tight where the kernels
//!   promise relative accuracy (tiny losses of confident networks, saturated
//!   hidden units, subnormal slopes).
#![allow(clippy::needless_range_loop, clippy::too_many_lines)]

use constgrad::math::{self, reference};
use constgrad::{Error, Label, Mat, Mlp, RowVec, Target};

/// `Ok(worst |error|/bound ratio)` or `Err(what was violated, with inputs)`.
pub type Check = Result<f64, String>;

/// f32 unit roundoff, 2^-24.
pub const U: f64 = 1.0 / 16_777_216.0;
/// Smallest positive subnormal f32, 2^-149: the absolute error floor of one
/// rounding.
pub const TINY: f64 = 1.401_298_464_324_817e-45;
/// Outputs must lie within `SAFETY` times their first-order error bound.
pub const SAFETY: f64 = 2.0;
/// 2^128: where f32 results round to ±∞ (and where ±∞ is placed when
/// measuring a distance to it).
const TWO_128: f64 = 340_282_366_920_938_463_463_374_607_431_768_211_456.0;
/// Natural scales above this are outside the finiteness promise (an
/// intermediate of the textbook formula could overflow f32).
const LIMIT: f64 = f32::MAX as f64 / 8.0;

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)*) => {{
        let ok: bool = $cond;
        if !ok {
            return Err(format!($($fmt)*));
        }
    }};
}

/// Whether the open, reported finding `id` is to be tolerated: ids listed,
/// comma-separated, in the environment variable `CONSTGRAD_FUZZ_KNOWN` (set
/// by `.ci/fuzz.sh` while a finding is open, so that fuzzing can go on
/// looking for others). Unit tests never set it, so they check strictly.
/// FUZZING.md lists the ids.
pub fn tolerated(id: &str) -> bool {
    static KNOWN: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    KNOWN
        .get_or_init(|| {
            std::env::var("CONSTGRAD_FUZZ_KNOWN")
                .unwrap_or_default()
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .iter()
        .any(|k| k == id)
}

fn worst(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// `2^e` for `e` in `[-1074, 1023]`, exactly.
fn pow2(e: i32) -> f64 {
    if e >= -1022 {
        f64::from_bits(((e + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (e + 1074))
    }
}

/// `y·2^k`, exactly, for `|k|` up to about 3000 (three exact steps).
fn scale2(y: f64, k: i32) -> f64 {
    let a = k / 3;
    let b = k / 3;
    let c = k - a - b;
    y * pow2(a) * pow2(b) * pow2(c)
}

/// The exponent `floor(log2 |v|)` of a normal f64.
fn exponent(v: f64) -> i32 {
    ((v.to_bits() >> 52) & 0x7ff) as i32 - 1023
}

/// One ulp of f32 at the (exact, f64) value `r`: subnormal ulps below the
/// normal range.
fn ulp32(r: f64) -> f64 {
    let a = r.abs();
    if a < f64::from(f32::MIN_POSITIVE) {
        TINY
    } else {
        pow2(exponent(a) - 23)
    }
}

fn same_bits32(a: f32, b: f32) -> bool {
    a.to_bits() == b.to_bits()
}

// ---------------------------------------------------------------------------
// exp and sigmoid
// ---------------------------------------------------------------------------

/// f32 `exp`: `y` is the kernel's result for `x`.
pub fn check_exp_f32(x: f32, y: f32) -> Check {
    if x.is_nan() {
        ensure!(y.is_nan(), "exp({x:e}) = {y:e}, want NaN");
        return Ok(0.0);
    }
    if x == f32::NEG_INFINITY {
        ensure!(same_bits32(y, 0.0), "exp(-inf) = {y:e}, want +0");
        return Ok(0.0);
    }
    let exact = f64::from(x).exp();
    if exact >= TWO_128 {
        ensure!(
            y == f32::INFINITY,
            "exp({x:e} = {:#x}) = {y:e}, want +inf (exact {exact:e})",
            x.to_bits()
        );
        return Ok(0.0);
    }
    ensure!(
        y.is_finite() && y >= 0.0,
        "exp({x:e} = {:#x}) = {y:e}, want finite >= 0 (exact {exact:e})",
        x.to_bits()
    );
    let ulps = (f64::from(y) - exact).abs() / ulp32(exact);
    ensure!(
        ulps <= 1.0 + 1e-6,
        "exp({x:e} = {:#x}) = {y:e} ({:#x}): {ulps:.4} ulp from exact {exact:e} (bound 1)",
        x.to_bits(),
        y.to_bits()
    );
    Ok(ulps)
}

/// f32 `sigmoid`: `y` is the kernel's result for `x`.
pub fn check_sigmoid_f32(x: f32, y: f32) -> Check {
    if x.is_nan() {
        ensure!(y.is_nan(), "sigmoid(NaN) = {y:e}, want NaN");
        return Ok(0.0);
    }
    let special = if x == f32::INFINITY {
        Some(1.0)
    } else if x == f32::NEG_INFINITY {
        Some(0.0)
    } else if x == 0.0 {
        Some(0.5)
    } else {
        None
    };
    if let Some(want) = special {
        ensure!(
            same_bits32(y, want),
            "sigmoid({x:e}) = {y:e}, want {want:e}"
        );
        return Ok(0.0);
    }
    ensure!(
        (0.0..=1.0).contains(&y),
        "sigmoid({x:e} = {:#x}) = {y:e}, outside [0, 1]",
        x.to_bits()
    );
    let exact = reference::sigmoid(f64::from(x));
    let ulps = (f64::from(y) - exact).abs() / ulp32(exact);
    ensure!(
        ulps <= 2.0 + 1e-6,
        "sigmoid({x:e} = {:#x}) = {y:e} ({:#x}): {ulps:.4} ulp from exact {exact:e} (bound 2)",
        x.to_bits(),
        y.to_bits()
    );
    Ok(ulps / 2.0)
}

/// Double-double arithmetic: the reference for the f64 kernels, where f64
/// itself is what is being measured.
mod dd {
    use std::sync::OnceLock;

    /// `hi + lo`, `|lo| ≤ ulp(hi)/2`.
    #[derive(Clone, Copy, Debug)]
    pub struct Dd(pub f64, pub f64);

    fn two_sum(a: f64, b: f64) -> Dd {
        let s = a + b;
        let bb = s - a;
        Dd(s, (a - (s - bb)) + (b - bb))
    }

    fn fast_two_sum(a: f64, b: f64) -> Dd {
        let s = a + b;
        Dd(s, b - (s - a))
    }

    fn two_prod(a: f64, b: f64) -> Dd {
        let p = a * b;
        Dd(p, a.mul_add(b, -p))
    }

    pub fn neg(x: Dd) -> Dd {
        Dd(-x.0, -x.1)
    }

    pub fn add(x: Dd, y: Dd) -> Dd {
        let s = two_sum(x.0, y.0);
        let t = two_sum(x.1, y.1);
        let v = fast_two_sum(s.0, s.1 + t.0);
        fast_two_sum(v.0, t.1 + v.1)
    }

    pub fn mul(x: Dd, y: Dd) -> Dd {
        let p = two_prod(x.0, y.0);
        fast_two_sum(p.0, p.1 + (x.0 * y.1 + x.1 * y.0))
    }

    pub fn div(x: Dd, y: Dd) -> Dd {
        let q1 = x.0 / y.0;
        let r = add(x, neg(mul(y, Dd(q1, 0.0))));
        let q2 = r.0 / y.0;
        let r = add(r, neg(mul(y, Dd(q2, 0.0))));
        let q3 = r.0 / y.0;
        add(fast_two_sum(q1, q2), Dd(q3, 0.0))
    }

    /// `x·2^e` for `|e| ≤ 200` (both parts stay normal for our values).
    pub fn scale(x: Dd, e: i32) -> Dd {
        let s = super::pow2(e);
        Dd(x.0 * s, x.1 * s)
    }

    /// `floor(log2(hi + lo))`.
    pub fn exponent(x: Dd) -> i32 {
        let e = super::exponent(x.0);
        let mantissa_zero = x.0.to_bits() & ((1u64 << 52) - 1) == 0;
        if mantissa_zero && x.1 < 0.0 {
            e - 1
        } else {
            e
        }
    }

    /// ln 2 to about 160 bits, as three doubles.
    const LN2: [f64; 3] = [
        f64::from_bits(0x3fe6_2e42_fefa_39ef),
        f64::from_bits(0x3c7a_bc9e_3b39_803f),
        f64::from_bits(0x3907_b57a_079a_1934),
    ];
    const TERMS: usize = 25;

    fn inv_factorials() -> &'static [Dd; TERMS] {
        static C: OnceLock<[Dd; TERMS]> = OnceLock::new();
        C.get_or_init(|| {
            let mut c = [Dd(1.0, 0.0); TERMS];
            for k in 1..TERMS {
                c[k] = div(c[k - 1], Dd(k as f64, 0.0));
            }
            c
        })
    }

    /// `e^x = 2^n · m` with `m ≈ 1` to about 2^-100 relative; `x` must be in
    /// `[-800, 800]`.
    pub fn exp(x: f64) -> (Dd, i32) {
        let n = (x / LN2[0]).round();
        let mut r = add(Dd(x, 0.0), neg(two_prod(n, LN2[0])));
        r = add(r, neg(two_prod(n, LN2[1])));
        r = add(r, Dd(-n * LN2[2], 0.0));
        let c = inv_factorials();
        let mut acc = c[TERMS - 1];
        for k in (0..TERMS - 1).rev() {
            acc = add(mul(acc, r), c[k]);
        }
        (acc, n as i32)
    }
}

/// `|y − 2^n·m|` in f64 ulps of the exact value `2^n·m` (subnormal ulps below
/// 2^-1022, `±∞` placed at `±2^1024`). The exact value must be below 2^1024.
fn ulp_err_f64(y: f64, m: dd::Dd, n: i32) -> f64 {
    let e = n + dd::exponent(m);
    let ue = e.max(-1022) - 52;
    let ys = if y.is_infinite() {
        scale2(1.0, 1024 - n).copysign(y)
    } else {
        scale2(y, -n)
    };
    let diff = dd::add(dd::Dd(ys, 0.0), dd::neg(m));
    (diff.0 + diff.1).abs() / scale2(1.0, ue - n)
}

/// f64 `exp` (≤ 1 ulp): `y` is the kernel's result for `x`.
pub fn check_exp_f64(x: f64, y: f64) -> Check {
    if x.is_nan() {
        ensure!(y.is_nan(), "exp(NaN) = {y:e}, want NaN");
        return Ok(0.0);
    }
    if x == f64::NEG_INFINITY {
        ensure!(y.to_bits() == 0, "exp(-inf) = {y:e}, want +0");
        return Ok(0.0);
    }
    let (m, n) = dd::exp(x.clamp(-800.0, 800.0));
    if n + dd::exponent(m) >= 1024 {
        ensure!(
            y == f64::INFINITY,
            "exp({x:e} = {:#x}) = {y:e}, want +inf",
            x.to_bits()
        );
        return Ok(0.0);
    }
    ensure!(y >= 0.0, "exp({x:e}) = {y:e}, want >= 0");
    let ulps = ulp_err_f64(y, m, n);
    ensure!(
        ulps <= 1.0 + 1e-9,
        "exp({x:e} = {:#x}) = {y:e} ({:#x}): {ulps:.4} ulp (bound 1)",
        x.to_bits(),
        y.to_bits()
    );
    Ok(ulps)
}

/// f64 `sigmoid` (≤ 2 ulp): `y` is the kernel's result for `x`.
pub fn check_sigmoid_f64(x: f64, y: f64) -> Check {
    if x.is_nan() {
        ensure!(y.is_nan(), "sigmoid(NaN) = {y:e}, want NaN");
        return Ok(0.0);
    }
    let special = if x == f64::INFINITY {
        Some(1.0)
    } else if x == f64::NEG_INFINITY {
        Some(0.0)
    } else if x == 0.0 {
        Some(0.5)
    } else {
        None
    };
    if let Some(want) = special {
        ensure!(
            y.to_bits() == f64::to_bits(want),
            "sigmoid({x:e}) = {y:e}, want {want:e}"
        );
        return Ok(0.0);
    }
    ensure!(
        (0.0..=1.0).contains(&y),
        "sigmoid({x:e}) = {y:e}, outside [0, 1]"
    );
    let one = dd::Dd(1.0, 0.0);
    // e = e^(−|x|) = 2^n·m; σ(|x|) = 1/(1 + e), σ(−|x|) = e/(1 + e).
    let (m, n) = dd::exp((-x.abs()).max(-800.0));
    let ulps = if x > 0.0 {
        let s = if n < -120 {
            one
        } else {
            dd::div(one, dd::add(one, dd::scale(m, n)))
        };
        ulp_err_f64(y, s, 0)
    } else {
        let s = if n < -120 {
            m
        } else {
            dd::div(m, dd::add(one, dd::scale(m, n)))
        };
        ulp_err_f64(y, s, n)
    };
    ensure!(
        ulps <= 2.0 + 1e-9,
        "sigmoid({x:e} = {:#x}) = {y:e} ({:#x}): {ulps:.4} ulp (bound 2)",
        x.to_bits(),
        y.to_bits()
    );
    Ok(ulps / 2.0)
}

/// Runs an in-place kernel on `xs[start..]` and checks every element with
/// `check(input, output)`; elements before `start` must be untouched.
pub fn check_in_place<T: Copy + core::fmt::Debug>(
    xs: &[T],
    start: usize,
    kernel: impl Fn(&mut [T]),
    check: impl Fn(T, T) -> Check,
    bits: impl Fn(T) -> u64,
) -> Check {
    let start = start.min(xs.len());
    let mut ys = xs.to_vec();
    kernel(&mut ys[start..]);
    let mut ratio: f64 = 0.0;
    for (i, (&x, &y)) in xs.iter().zip(&ys).enumerate() {
        if i < start {
            ensure!(
                bits(x) == bits(y),
                "element {i} before the slice start {start} changed"
            );
        } else {
            let r = check(x, y)
                .map_err(|e| format!("{e} [element {i} of {}, slice start {start}]", xs.len()))?;
            ratio = worst(ratio, r);
        }
    }
    Ok(ratio)
}

// ---------------------------------------------------------------------------
// softmax, log_softmax, logsumexp, cross_entropy
// ---------------------------------------------------------------------------

/// `|got − exact| ≤ SAFETY·bound`, with `±∞` placed at `±2^128`, and `±∞`
/// accepted when the exact value itself rounds to `±∞` in f32.
fn close32(what: &str, got: f32, exact: f64, bound: f64) -> Check {
    ensure!(!got.is_nan(), "{what} = NaN, want {exact:e}");
    ensure!(
        !bound.is_nan() && !exact.is_nan(),
        "internal: {what}: NaN reference or bound"
    );
    if got.is_infinite()
        && exact.abs() >= TWO_128 * (1.0 - U)
        && got.signum() as f64 == exact.signum()
    {
        return Ok(0.0);
    }
    let g = if got.is_infinite() {
        TWO_128.copysign(f64::from(got))
    } else {
        f64::from(got)
    };
    let err = (g - exact).abs();
    let limit = SAFETY * bound;
    ensure!(
        err <= limit,
        "{what} = {got:e}, exact {exact:e}: error {err:e} > {SAFETY}·bound {bound:e} ({:.3}×)",
        err / bound
    );
    Ok(if limit > 0.0 { err / limit } else { 0.0 })
}

/// Exact (f64) statistics of a row with a finite maximum, and the error
/// budget of the kernel's `exp_shifted` + `ln(1 + ρ)` on it.
struct RowRef {
    m: f64,
    d: Vec<f64>,
    e: Vec<f64>,
    s: f64,
    lns: f64,
    /// Error budget of each computed `e_j`: `exp` of the exact `θ_j − m`
    /// (the row kernels), or of `fl(θ_j − m)` (`exact_shift = false`).
    eps_e: Vec<f64>,
    /// Error budget of the computed `s`.
    eps_s: f64,
    /// Error budget of the computed `ln s`.
    eps_lns: f64,
}

/// `theta` must have a finite maximum. With `exact_shift`, the kernel takes
/// `θ_j − m` exactly (the row kernels and the one-sample network kernels:
/// `softmax::exp_minus_max`), so `e_j` costs `exp`'s 1 ulp alone; without it, the
/// rounding of `θ_j − m` (half an ulp of `|θ_j − m|`, the same relative error
/// in `e_j`) is budgeted too, which also covers the batch kernels.
fn row_ref(theta: &[f64], exact_shift: bool) -> RowRef {
    let n = theta.len() as f64;
    let m = theta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let d: Vec<f64> = theta.iter().map(|t| t - m).collect();
    let e: Vec<f64> = d.iter().map(|d| d.exp()).collect();
    let ties = theta.iter().filter(|&&t| t == m).count() as f64;
    let rho: f64 = theta
        .iter()
        .zip(&e)
        .filter(|(&t, _)| t != m)
        .map(|(_, e)| e)
        .sum::<f64>()
        + (ties - 1.0);
    let lns = rho.ln_1p();
    let s = 1.0 + rho;
    let eps_e: Vec<f64> = d
        .iter()
        .zip(&e)
        .map(|(&d, &e)| {
            if d == f64::NEG_INFINITY {
                0.0
            } else {
                let shift = if exact_shift { 0.0 } else { d.abs() };
                e * (shift + 2.0) * U + TINY
            }
        })
        .collect();
    let eps_rho: f64 = theta
        .iter()
        .zip(&eps_e)
        .filter(|(&t, _)| t != m)
        .map(|(_, e)| e)
        .sum::<f64>()
        + (n + 1.0) * U * rho;
    let eps_lns = eps_rho / s + 4.0 * U * lns + TINY;
    let eps_s = eps_e.iter().sum::<f64>() + n * U * s;
    RowRef {
        m,
        d,
        e,
        s,
        lns,
        eps_e,
        eps_s,
        eps_lns,
    }
}

/// Every promise of the row kernels on one row of logits `theta`, with a
/// class label `label` (any value: labels `≥ N` must be rejected) and a soft
/// target `y`.
pub fn check_softmax_row<const N: usize>(theta: [f32; N], label: usize, y: [f32; N]) -> Check {
    let ctx = || format!("theta = {theta:?}, label = {label}, y = {y:?}");
    let tv = RowVec::from_row(theta);
    let p = math::softmax(&tv);
    let ls = math::log_softmax(&tv);
    let lse = math::logsumexp(&tv);
    let soft = math::cross_entropy(&tv, &Target::probs(y));

    let class = match Target::<N, f32>::class(label) {
        Ok(t) => {
            ensure!(
                label < N,
                "Target::class({label}) accepted with {N} classes"
            );
            Some((label, math::cross_entropy(&tv, &t)))
        }
        Err(e) => {
            ensure!(
                label >= N && e == (Error::LabelOutOfRange { label, classes: N }),
                "Target::class({label}) with {N} classes gave {e:?}"
            );
            ensure!(!e.to_string().is_empty(), "empty error message");
            match Label::<N>::new(label % N.max(1)) {
                Ok(l) => Some((l.get(), math::cross_entropy(&tv, &Target::Class(l)))),
                Err(_) => None,
            }
        }
    };
    let y_all_zero = y.iter().all(|&v| v == 0.0);
    let nan_or_zero_if_no_mass = |v: f32| v.is_nan() || (y_all_zero && v == 0.0);
    let all_nan = |r: &RowVec<N, f32>| r.row().iter().all(|v| v.is_nan());

    if theta.iter().any(|t| t.is_nan()) {
        ensure!(
            all_nan(&p),
            "softmax with a NaN logit = {p:?}, want all NaN; {}",
            ctx()
        );
        ensure!(
            all_nan(&ls),
            "log_softmax with a NaN logit = {ls:?}, want all NaN; {}",
            ctx()
        );
        ensure!(
            lse.is_nan(),
            "logsumexp with a NaN logit = {lse:e}; {}",
            ctx()
        );
        if let Some((_, c)) = class {
            ensure!(
                c.is_nan(),
                "cross_entropy(class) with a NaN logit = {c:e}; {}",
                ctx()
            );
        }
        ensure!(
            nan_or_zero_if_no_mass(soft),
            "cross_entropy(probs) with a NaN logit = {soft:e}; {}",
            ctx()
        );
        return Ok(0.0);
    }
    if N == 0 {
        ensure!(
            lse == f32::NEG_INFINITY,
            "logsumexp of an empty row = {lse:e}, want -inf"
        );
        ensure!(
            same_bits32(soft, 0.0),
            "cross_entropy of an empty row = {soft:e}, want 0"
        );
        return Ok(0.0);
    }
    let pinf = theta.contains(&f32::INFINITY);
    let all_ninf = theta.iter().all(|&t| t == f32::NEG_INFINITY);
    if pinf || all_ninf {
        let want = if pinf {
            f32::INFINITY
        } else {
            f32::NEG_INFINITY
        };
        ensure!(lse == want, "logsumexp = {lse:e}, want {want:e}; {}", ctx());
        ensure!(all_nan(&p), "softmax = {p:?}, want all NaN; {}", ctx());
        // Documented (src/math/softmax.rs): with a +∞ logit, log_softmax is
        // −∞ at the finite logits and NaN at the +∞ ones; with no finite
        // logit at all it is NaN everywhere. (Finding `log-softmax-pos-inf`
        // changed the documentation to this, the mathematical limit.)
        let expected = |j: usize| {
            let v = ls.row()[j];
            if pinf && theta[j] != f32::INFINITY {
                v == f32::NEG_INFINITY
            } else {
                v.is_nan()
            }
        };
        ensure!(
            (0..N).all(expected),
            "log_softmax = {ls:?}, want -inf at finite logits and NaN at +inf ones (all NaN if no finite logit); {}",
            ctx()
        );
        if let Some((_, c)) = class {
            ensure!(
                !c.is_finite(),
                "cross_entropy(class) = {c:e}, want non-finite; {}",
                ctx()
            );
        }
        ensure!(
            !soft.is_finite() || (y_all_zero && soft == 0.0),
            "cross_entropy(probs) = {soft:e}, want non-finite; {}",
            ctx()
        );
        return Ok(0.0);
    }

    // A finite maximum: −∞ logits are probability 0, the rest is accuracy.
    let th: Vec<f64> = theta.iter().map(|&t| f64::from(t)).collect();
    let r = row_ref(&th, true);
    let n = N as f64;
    let mut ratio: f64 = 0.0;
    let mut p_sum = 0.0;
    for j in 0..N {
        let (pj, lsj) = (p.row()[j], ls.row()[j]);
        ensure!(
            (0.0..=1.0).contains(&pj),
            "softmax[{j}] = {pj:e} outside [0, 1]; {}",
            ctx()
        );
        ensure!(lsj <= 0.0, "log_softmax[{j}] = {lsj:e} > 0; {}", ctx());
        p_sum += f64::from(pj);
        if theta[j] == f32::NEG_INFINITY {
            ensure!(
                same_bits32(pj, 0.0),
                "softmax[{j}] at a -inf logit = {pj:e}; {}",
                ctx()
            );
            ensure!(
                lsj == f32::NEG_INFINITY,
                "log_softmax[{j}] at -inf = {lsj:e}; {}",
                ctx()
            );
            continue;
        }
        let pe = r.e[j] / r.s;
        let bp = r.eps_e[j] / r.s + pe * r.eps_s / r.s + U * pe + TINY;
        ratio = worst(
            ratio,
            close32(&format!("softmax[{j}]"), pj, pe, bp).map_err(|e| e + "; " + &ctx())?,
        );
        let le = r.d[j] - r.lns;
        let bl = U * r.d[j].abs() + r.eps_lns + U * le.abs() + TINY;
        ratio = worst(
            ratio,
            close32(&format!("log_softmax[{j}]"), lsj, le, bl).map_err(|e| e + "; " + &ctx())?,
        );
    }
    ensure!(
        (p_sum - 1.0).abs() <= n * f64::from(f32::EPSILON),
        "softmax sums to {p_sum:.9}, not within {N} ulp of 1; {}",
        ctx()
    );
    ensure!(
        f64::from(lse) >= r.m,
        "logsumexp {lse:e} < max {:e}; {}",
        r.m,
        ctx()
    );
    let lse_exact = r.m + r.lns;
    let b = r.eps_lns + U * lse_exact.abs() + TINY;
    ratio = worst(
        ratio,
        close32("logsumexp", lse, lse_exact, b).map_err(|e| e + "; " + &ctx())?,
    );

    if let Some((l, c)) = class {
        ensure!(c >= 0.0, "cross_entropy(class {l}) = {c:e} < 0; {}", ctx());
        if theta[l] == f32::NEG_INFINITY {
            ensure!(
                c == f32::INFINITY,
                "cross_entropy at a -inf target logit = {c:e}; {}",
                ctx()
            );
        } else {
            let exact = -r.d[l] + r.lns;
            let b = U * r.d[l].abs() + r.eps_lns + U * exact.abs() + TINY;
            ratio = worst(
                ratio,
                close32("cross_entropy(class)", c, exact, b).map_err(|e| e + "; " + &ctx())?,
            );
        }
    }

    if y.iter().any(|v| v.is_nan()) {
        ensure!(
            soft.is_nan(),
            "cross_entropy(probs) with NaN in y = {soft:e}; {}",
            ctx()
        );
        return Ok(ratio);
    }
    if y.iter().any(|v| v.is_infinite()) {
        return Ok(ratio); // undocumented; must merely not panic
    }
    let pos_at_ninf = (0..N).any(|j| theta[j] == f32::NEG_INFINITY && y[j] > 0.0);
    let neg_at_ninf = (0..N).any(|j| theta[j] == f32::NEG_INFINITY && y[j] < 0.0);
    if pos_at_ninf || neg_at_ninf {
        if pos_at_ninf && y.iter().all(|&v| v >= 0.0) {
            ensure!(
                soft == f32::INFINITY,
                "positive target mass at a -inf logit: {soft:e}, want +inf; {}",
                ctx()
            );
        }
        return Ok(ratio);
    }
    let mut exact = 0.0;
    let mut b = n * TINY;
    let mut mag = 0.0;
    for j in 0..N {
        if y[j] == 0.0 {
            continue;
        }
        let yj = f64::from(y[j]);
        let term = yj * (-r.d[j] + r.lns);
        exact += term;
        mag += term.abs();
        b += yj.abs() * (2.0 * U * r.d[j].abs() + r.eps_lns + U * r.lns) + U * term.abs();
    }
    b += n * U * mag;
    // `m − θ_j` is an intermediate of every formula for the loss: when it
    // overflows f32 (logits of both signs near ±f32::MAX), so may the result.
    let d_fits = (0..N).all(|j| y[j] == 0.0 || r.d[j].abs() <= LIMIT);
    if y.iter().all(|&v| v >= 0.0) {
        ensure!(
            soft >= 0.0,
            "cross_entropy(probs) = {soft:e} < 0 with y >= 0; {}",
            ctx()
        );
    }
    if mag <= LIMIT && d_fits {
        ratio = worst(
            ratio,
            close32("cross_entropy(probs)", soft, exact, b).map_err(|e| e + "; " + &ctx())?,
        );
    }
    Ok(ratio)
}

// ---------------------------------------------------------------------------
// the network
// ---------------------------------------------------------------------------

/// The parameters of an `IN → HID → OUT` network, as plain arrays.
#[derive(Clone, Copy, Debug)]
pub struct Net<const IN: usize, const HID: usize, const OUT: usize> {
    /// `W1`.
    pub w1: [[f32; HID]; IN],
    /// `b1`.
    pub b1: [f32; HID],
    /// `W2`.
    pub w2: [[f32; OUT]; HID],
    /// `b2`.
    pub b2: [f32; OUT],
}

impl<const IN: usize, const HID: usize, const OUT: usize> Net<IN, HID, OUT> {
    /// The network as a constgrad [`Mlp`].
    pub fn mlp(&self) -> Mlp<IN, HID, OUT, f32> {
        Mlp::new(
            Mat::from_rows(self.w1),
            RowVec::from_row(self.b1),
            Mat::from_rows(self.w2),
            RowVec::from_row(self.b2),
        )
    }

    fn values(&self) -> impl Iterator<Item = f32> + '_ {
        self.w1
            .iter()
            .flatten()
            .chain(&self.b1)
            .chain(self.w2.iter().flatten())
            .chain(&self.b2)
            .copied()
    }
}

/// A training target: a class label (any value; labels `≥ OUT` must be
/// rejected) or a soft target row.
#[derive(Clone, Copy, Debug)]
pub enum Goal<const OUT: usize> {
    /// `Target::class(label)`.
    Class(usize),
    /// `Target::probs(y)`.
    Probs([f32; OUT]),
}

impl<const OUT: usize> Goal<OUT> {
    /// The constgrad target, or `None` for a label that must be (and was
    /// checked to be) rejected.
    fn target(&self) -> Result<Option<Target<OUT, f32>>, String> {
        match *self {
            Goal::Class(l) => match Target::<OUT, f32>::class(l) {
                Ok(t) => {
                    ensure!(l < OUT, "Target::class({l}) accepted with {OUT} classes");
                    Ok(Some(t))
                }
                Err(e) => {
                    ensure!(
                        l >= OUT
                            && e == (Error::LabelOutOfRange {
                                label: l,
                                classes: OUT
                            }),
                        "Target::class({l}) with {OUT} classes gave {e:?}"
                    );
                    Ok(None)
                }
            },
            Goal::Probs(y) => Ok(Some(Target::probs(y))),
        }
    }
}

/// The exact (f64) forward and backward pass and the error bound of every
/// quantity the kernels return (see the module docs).
struct NetRef<const IN: usize, const HID: usize, const OUT: usize> {
    /// Every natural scale is within f32 range: the finiteness promise and
    /// the accuracy bounds apply.
    in_domain: bool,
    a: [(f64, f64); HID],
    h: [(f64, f64); HID],
    theta: [(f64, f64); OUT],
    p: [(f64, f64); OUT],
    loss: (f64, f64),
    dx: [(f64, f64); IN],
    dw1: [[(f64, f64); HID]; IN],
    db1: [(f64, f64); HID],
    dw2: [[(f64, f64); OUT]; HID],
    db2: [(f64, f64); OUT],
}

/// `p·(e^x − 1)` as a bound on how far a probability `p` (exact, possibly
/// underflowed to 0 in f64) can move when its logits move by `x`: never NaN,
/// `+∞` when unbounded.
fn grow(p: f64, x: f64) -> f64 {
    p.max(f64::from_bits(1)) * x.exp_m1()
}

fn sigma_slope(a: f64) -> f64 {
    reference::sigmoid(a) * reference::sigmoid(-a)
}

/// `ΔL_j`: how far `−ln p_j = lse(θ) − θ_j` can move when each `θ_k` moves
/// by at most `et[k]` (exact, not first-order: `ln Σ_k p_k e^(δ_k − δ_j)`).
fn xent_prop(p: &[f64], et: &[f64], j: usize) -> f64 {
    let emax = et.iter().copied().fold(0.0, f64::max);
    let mut up = 0.0;
    let mut down = 0.0;
    for (k, (&pk, &ek)) in p.iter().zip(et).enumerate() {
        if k != j {
            up += grow(pk, ek + et[j]);
            down += pk * -(-(ek + et[j])).exp_m1();
        }
    }
    let low = if down < 1.0 {
        -(-down).ln_1p()
    } else {
        f64::INFINITY
    };
    up.max(low).min(et[j] + emax)
}

fn net_ref<const IN: usize, const HID: usize, const OUT: usize>(
    net: &Net<IN, HID, OUT>,
    x: &[f32; IN],
    target: &Target<OUT, f32>,
) -> NetRef<IN, HID, OUT> {
    let u = U;
    let t = TINY;
    let x: [f64; IN] = x.map(f64::from);
    let w1 = net.w1.map(|r| r.map(f64::from));
    let b1 = net.b1.map(f64::from);
    let w2 = net.w2.map(|r| r.map(f64::from));
    let b2 = net.b2.map(f64::from);
    let (nin, nhid, nout) = (IN as f64, HID as f64, OUT as f64);
    // The promise covers inputs whose every intermediate, with its possible
    // rounding error, stays well inside f32: `fits` is fed those envelopes.
    let mut in_domain = true;
    let mut fits = |v: f64| in_domain &= v.abs() <= LIMIT;

    // Forward: a, h, σ'(a), θ.
    let mut a = [(0.0, 0.0); HID];
    let mut h = [(0.0, 0.0); HID];
    let mut sl = [(0.0, 0.0); HID];
    for k in 0..HID {
        let v = b1[k] + (0..IN).map(|i| x[i] * w1[i][k]).sum::<f64>();
        let mag = b1[k].abs() + (0..IN).map(|i| (x[i] * w1[i][k]).abs()).sum::<f64>();
        let ea = (nin + 1.0) * (u * mag + t);
        fits(mag + ea);
        let s = sigma_slope(v);
        // Largest σ' over [v − ea, v + ea]; |σ''| ≤ σ' bounds the slope's slope.
        let smax = sigma_slope((v.abs() - ea).max(0.0));
        let hv = reference::sigmoid(v);
        a[k] = (v, ea);
        h[k] = (hv, (smax * ea).min(1.0) + 4.0 * u * hv + 2.0 * t);
        sl[k] = (s, (smax * ea).min(0.25) + 9.0 * u * s + 4.0 * t);
    }
    let mut theta = [(0.0, 0.0); OUT];
    for j in 0..OUT {
        let v = b2[j] + (0..HID).map(|k| h[k].0 * w2[k][j]).sum::<f64>();
        let mag = b2[j].abs() + (0..HID).map(|k| (h[k].0 * w2[k][j]).abs()).sum::<f64>();
        let prop: f64 = (0..HID).map(|k| w2[k][j].abs() * h[k].1).sum();
        theta[j] = (v, prop + (nhid + 1.0) * (u * mag + t));
        fits(mag + theta[j].1);
    }

    // Softmax and loss, from the exact logits.
    let th: Vec<f64> = theta.iter().map(|v| v.0).collect();
    let et: Vec<f64> = theta.iter().map(|v| v.1).collect();
    let emax = et.iter().copied().fold(0.0, f64::max);
    // The loose shift budget: the same model serves the batch kernels, and
    // the logits' own errors `et` dwarf the difference anyway.
    let r = row_ref(&th, false);
    let mut p = [(0.0, 0.0); OUT];
    for j in 0..OUT {
        let pj = r.e[j] / r.s;
        // A probability is in [0, 1] whatever its logits' errors.
        let prop = grow(pj, et[j] + emax).min(1.0);
        p[j] = (
            pj,
            prop + r.eps_e[j] / r.s + pj * r.eps_s / r.s + u * pj + t,
        );
    }
    let pv: Vec<f64> = p.iter().map(|v| v.0).collect();
    let mut d_theta = [(0.0, 0.0); OUT];
    let mut dh = [(0.0, 0.0); HID];
    let loss = match target {
        Target::Class(label) => {
            let l = label.get();
            let v = -r.d[l] + r.lns;
            let own = u * r.d[l].abs() + r.eps_lns + u * v.abs() + t;
            let rest: f64 = (0..OUT).filter(|&j| j != l).map(|j| p[j].0).sum();
            let rest_err: f64 = (0..OUT).filter(|&j| j != l).map(|j| p[j].1).sum();
            d_theta = p;
            d_theta[l] = (-rest, rest_err + nout * u * rest + t);
            for k in 0..HID {
                let mut v = 0.0;
                let mut mag = 0.0;
                let mut prop = 0.0;
                for j in (0..OUT).filter(|&j| j != l) {
                    let diff = w2[k][j] - w2[k][l];
                    v += p[j].0 * diff;
                    mag += ((p[j].0 + p[j].1) * diff).abs();
                    prop += p[j].1 * diff.abs();
                }
                fits(mag);
                dh[k] = (v, prop + (nout + 1.0) * (u * mag + t));
            }
            (v, xent_prop(&pv, &et, l) + own)
        }
        Target::Probs(yv) => {
            let y = yv.row().map(f64::from);
            let sum_y: f64 = y.iter().sum();
            let e_sum_y = nout * u * y.iter().map(|v| v.abs()).sum::<f64>();
            fits(y.iter().map(|v| v.abs()).sum::<f64>());
            // On a network that bounds its logits (`|b2_j| + Σ_k |W2[k][j]|`
            // at most 22), the one-sample kernels shift a target `y ≥ 0` by
            // the logit of its mode `q` instead of the maximum `m`
            // (`Mlp::shift_class`). Their loss then forms `y_j·(θ_q − θ_j)`,
            // its sum, and `Σy·ln s_q` with `ln s_q = ln s + (m − θ_q)`
            // (`softmax::soft_loss_v`), intermediates larger by up to
            // `dc = m − θ_q`: per unit of target, two roundings of the
            // shift, the two sums' `OUT` each, and `ln s_q`'s (four, as
            // before session 26, when the terms were `y_j·((θ_q − θ_j) +
            // ln s_q)` and seven covered them). Where that may happen (the
            // bound is tested with a margin), they are budgeted.
            let bounded = (0..OUT).all(|j| {
                b2[j].abs() + (0..HID).map(|k| w2[k][j].abs()).sum::<f64>() <= 22.0 * (1.0 + 1e-9)
            });
            let mode_shift = bounded && y.iter().all(|&v| v >= 0.0);
            let dc = match (0..OUT).reduce(|b, j| if y[j] > y[b] { j } else { b }) {
                Some(q) if mode_shift => {
                    let top = th.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    (top - th[q]).max(0.0) + et[q] + emax
                }
                _ => 0.0,
            };
            let mut v = 0.0;
            let mut mag = 0.0;
            let mut bound = nout * t;
            for j in 0..OUT {
                if y[j] != 0.0 {
                    let term = y[j] * (-r.d[j] + r.lns);
                    v += term;
                    mag += term.abs();
                    bound += y[j].abs()
                        * (2.0 * u * r.d[j].abs()
                            + r.eps_lns
                            + u * r.lns
                            + (2.0 * nout + 6.0) * u * dc
                            + xent_prop(&pv, &et, j))
                        + u * term.abs();
                }
                // `softmax::soft_d_theta`: `ŷ_j·Σy − y_j`, or
                // `ŷ_j·Σ_{i≠j} y_i − y_j·Σ_{i≠j} ŷ_i` (as
                // `(e_j·Y≠j − y_j·S≠j)/s`) where the kernel marks `j` exact.
                let dt = p[j].0 * sum_y - y[j];
                let small = p[j].1 * sum_y.abs() + p[j].0 * e_sum_y + u * dt.abs() + t;
                let y_off = sum_y - y[j];
                let q_off: f64 = (0..OUT).filter(|&i| i != j).map(|i| p[i].0).sum();
                let q_off_err: f64 =
                    (0..OUT).filter(|&i| i != j).map(|i| p[i].1).sum::<f64>() + 3.0 * u * q_off;
                let big = p[j].1 * y_off.abs()
                    + y[j].abs() * q_off_err
                    + 3.0 * u * (p[j].0 * y_off.abs() + y[j].abs() * q_off)
                    + p[j].0 * e_sum_y
                    + u * dt.abs()
                    + t;
                let g = (et[j] + emax).exp();
                let e_hi = r.e[j] * g + r.eps_e[j];
                // The kernels take the second form only at a single maximum
                // that is their shift (the batch kernels' is always the
                // maximum), and the first elsewhere: both are budgeted
                // wherever `e_j` may reach ½.
                let err = if e_hi < 0.5 { small } else { small.max(big) };
                d_theta[j] = (dt, err);
            }
            fits(mag);
            // The product is pivoted (`softmax::pivot_unscale`): it takes
            // `dL/dθ_j` against `(W2[k][j] − W2[k][p])/2` for the kernel's
            // first maximal logit `p`, which the model does not know, so
            // every difference is budgeted as `|W2[k][j]| + max_i |W2[k][i]|`;
            // halving a subnormal weight loses its last bit (`t/2`).
            for k in 0..HID {
                let wmax = (0..OUT).map(|j| w2[k][j].abs()).fold(0.0, f64::max);
                let v = (0..OUT).map(|j| d_theta[j].0 * w2[k][j]).sum::<f64>();
                let mag = (0..OUT)
                    .map(|j| d_theta[j].0.abs() * (w2[k][j].abs() + wmax))
                    .sum::<f64>();
                let envelope: f64 = (0..OUT)
                    .map(|j| {
                        (p[j].0 * sum_y.abs() + y[j].abs() + d_theta[j].1) * (w2[k][j].abs() + wmax)
                    })
                    .sum();
                fits(envelope);
                let prop: f64 = (0..OUT)
                    .map(|j| d_theta[j].1 * (w2[k][j].abs() + wmax))
                    .sum();
                let halving: f64 = (0..OUT).map(|j| 2.0 * d_theta[j].0.abs() * t).sum();
                dh[k] = (v, prop + halving + (nout + 1.0) * (u * mag + t));
            }
            (v, bound + nout * u * mag)
        }
    };
    fits(loss.0.abs() + loss.1);

    // Backward: dL/da, dL/dx and the parameter gradients.
    let mut da = [(0.0, 0.0); HID];
    for k in 0..HID {
        let v = dh[k].0 * sl[k].0;
        fits((dh[k].0.abs() + dh[k].1) * (sl[k].0 + sl[k].1));
        da[k] = (
            v,
            dh[k].1 * sl[k].0 + dh[k].0.abs() * sl[k].1 + dh[k].1 * sl[k].1 + u * v.abs() + t,
        );
    }
    let mut dx = [(0.0, 0.0); IN];
    for i in 0..IN {
        let v = (0..HID).map(|k| da[k].0 * w1[i][k]).sum::<f64>();
        let mag = (0..HID).map(|k| (da[k].0 * w1[i][k]).abs()).sum::<f64>();
        fits(
            (0..HID)
                .map(|k| (da[k].0.abs() + da[k].1) * w1[i][k].abs())
                .sum::<f64>(),
        );
        let prop: f64 = (0..HID).map(|k| da[k].1 * w1[i][k].abs()).sum();
        dx[i] = (v, prop + (nhid + 1.0) * (u * mag + t));
    }
    let mut dw1 = [[(0.0, 0.0); HID]; IN];
    for i in 0..IN {
        for k in 0..HID {
            let v = x[i] * da[k].0;
            fits(x[i].abs() * (da[k].0.abs() + da[k].1));
            dw1[i][k] = (v, x[i].abs() * da[k].1 + u * v.abs() + t);
        }
    }
    let mut dw2 = [[(0.0, 0.0); OUT]; HID];
    for k in 0..HID {
        for j in 0..OUT {
            let v = h[k].0 * d_theta[j].0;
            fits((h[k].0 + h[k].1) * (d_theta[j].0.abs() + d_theta[j].1));
            let e = h[k].1 * d_theta[j].0.abs() + h[k].0 * d_theta[j].1 + h[k].1 * d_theta[j].1;
            dw2[k][j] = (v, e + u * v.abs() + t);
        }
    }
    NetRef {
        in_domain,
        a,
        h,
        theta,
        p,
        loss,
        dx,
        dw1,
        db1: da,
        dw2,
        db2: d_theta,
    }
}

/// Which entry points [`check_network`] exercises.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// `forward`, `loss`, `input_grad` and `input_grad_accurate`.
    InputGrad,
    /// `grads` (every parameter gradient).
    Grads,
}

/// The network promises for one sample: NaN anywhere in the inputs makes the
/// loss and every gradient NaN; finite inputs whose natural scales fit in f32
/// give finite results within their error bounds; anything else must merely
/// not panic.
pub fn check_network<const IN: usize, const HID: usize, const OUT: usize>(
    net: &Net<IN, HID, OUT>,
    x: [f32; IN],
    goal: &Goal<OUT>,
    api: Api,
) -> Check {
    let Some(target) = goal.target()? else {
        return Ok(0.0);
    };
    let ctx = || format!("net = {net:?}, x = {x:?}, goal = {goal:?}");
    let mlp = net.mlp();
    let xv = RowVec::from_row(x);
    let mut outs: Vec<(String, f32)> = Vec::new();
    let loss;
    match api {
        Api::InputGrad => {
            let fw = mlp.forward(&xv);
            let l1 = mlp.loss(&xv, &target);
            let (l2, g) = mlp.input_grad(&xv, &target);
            let (l3, g3) = mlp.input_grad_accurate(&xv, &target);
            outs.push(("loss()".into(), l1));
            outs.push(("input_grad loss".into(), l2));
            for (i, v) in g.row().iter().enumerate() {
                outs.push((format!("dx[{i}]"), *v));
            }
            outs.push(("input_grad_accurate loss".into(), l3));
            for (i, v) in g3.row().iter().enumerate() {
                outs.push((format!("accurate dx[{i}]"), *v));
            }
            loss = l2;
            for (k, v) in fw.a.row().iter().enumerate() {
                outs.push((format!("forward.a[{k}]"), *v));
            }
            for (k, v) in fw.h.row().iter().enumerate() {
                outs.push((format!("forward.h[{k}]"), *v));
            }
            for (j, v) in fw.theta.row().iter().enumerate() {
                outs.push((format!("forward.theta[{j}]"), *v));
            }
            for (j, v) in fw.y_hat.row().iter().enumerate() {
                outs.push((format!("forward.y_hat[{j}]"), *v));
            }
        }
        Api::Grads => {
            let g = mlp.grads(&xv, &target);
            loss = g.loss;
            outs.push(("grads.loss".into(), g.loss));
            for (i, v) in g.x.row().iter().enumerate() {
                outs.push((format!("dx[{i}]"), *v));
            }
            for (i, row) in g.w1.rows().iter().enumerate() {
                for (k, v) in row.iter().enumerate() {
                    outs.push((format!("dW1[{i}][{k}]"), *v));
                }
            }
            for (k, v) in g.b1.row().iter().enumerate() {
                outs.push((format!("db1[{k}]"), *v));
            }
            for (k, row) in g.w2.rows().iter().enumerate() {
                for (j, v) in row.iter().enumerate() {
                    outs.push((format!("dW2[{k}][{j}]"), *v));
                }
            }
            for (j, v) in g.b2.row().iter().enumerate() {
                outs.push((format!("db2[{j}]"), *v));
            }
        }
    }
    let gradients = || {
        outs.iter()
            .filter(|(n, _)| !n.contains("loss") && !n.starts_with("forward"))
    };

    let y_vals: &[f32] = match goal {
        Goal::Probs(y) => y,
        Goal::Class(_) => &[],
    };
    let inputs = || net.values().chain(x).chain(y_vals.iter().copied());
    if inputs().any(f32::is_nan) {
        // A soft target of all zeros has zero loss whatever the logits
        // (documented: zero target entries contribute 0).
        let zero_target = !y_vals.is_empty() && y_vals.iter().all(|&v| v == 0.0);
        ensure!(
            loss.is_nan() || (zero_target && loss == 0.0),
            "loss = {loss:e} with a NaN input, want NaN; {}",
            ctx()
        );
        for (name, v) in gradients() {
            ensure!(
                v.is_nan(),
                "{name} = {v:e} with a NaN input, want NaN; {}",
                ctx()
            );
        }
        return Ok(0.0);
    }
    if !inputs().all(f32::is_finite) {
        return Ok(0.0); // ±∞ inputs: undocumented results, must merely not panic
    }
    let r = net_ref(net, &x, &target);
    if !r.in_domain {
        return Ok(0.0);
    }
    let mut want: Vec<(String, (f64, f64))> = Vec::new();
    match api {
        Api::InputGrad => {
            want.push(("loss()".into(), r.loss));
            want.push(("input_grad loss".into(), r.loss));
            for (i, v) in r.dx.iter().enumerate() {
                want.push((format!("dx[{i}]"), *v));
            }
            want.push(("input_grad_accurate loss".into(), r.loss));
            for (i, v) in r.dx.iter().enumerate() {
                want.push((format!("accurate dx[{i}]"), *v));
            }
            for (k, v) in r.a.iter().enumerate() {
                want.push((format!("forward.a[{k}]"), *v));
            }
            for (k, v) in r.h.iter().enumerate() {
                want.push((format!("forward.h[{k}]"), *v));
            }
            for (j, v) in r.theta.iter().enumerate() {
                want.push((format!("forward.theta[{j}]"), *v));
            }
            for (j, v) in r.p.iter().enumerate() {
                want.push((format!("forward.y_hat[{j}]"), *v));
            }
        }
        Api::Grads => {
            want.push(("grads.loss".into(), r.loss));
            for (i, v) in r.dx.iter().enumerate() {
                want.push((format!("dx[{i}]"), *v));
            }
            for (i, row) in r.dw1.iter().enumerate() {
                for (k, v) in row.iter().enumerate() {
                    want.push((format!("dW1[{i}][{k}]"), *v));
                }
            }
            for (k, v) in r.db1.iter().enumerate() {
                want.push((format!("db1[{k}]"), *v));
            }
            for (k, row) in r.dw2.iter().enumerate() {
                for (j, v) in row.iter().enumerate() {
                    want.push((format!("dW2[{k}][{j}]"), *v));
                }
            }
            for (j, v) in r.db2.iter().enumerate() {
                want.push((format!("db2[{j}]"), *v));
            }
        }
    }
    let mut ratio: f64 = 0.0;
    if y_vals.iter().all(|&v| v >= 0.0) {
        ensure!(
            loss >= 0.0,
            "loss = {loss:e} < 0 with a non-negative target; {}",
            ctx()
        );
    }
    for ((name, got), (wname, (exact, bound))) in outs.iter().zip(&want) {
        debug_assert_eq!(name, wname);
        ensure!(
            got.is_finite(),
            "{name} = {got:e} is not finite, exact {exact:e} (finite inputs, every natural scale within f32); {}",
            ctx()
        );
        let rr = close32(name, *got, *exact, *bound).map_err(|e| e + "; " + &ctx())?;
        ratio = worst(ratio, rr);
    }
    Ok(ratio)
}

// ---------------------------------------------------------------------------
// Mat algebra
// ---------------------------------------------------------------------------

/// Shape algebra on an `R×C` matrix `a`, a `C×K` matrix `b` and another `R×C`
/// matrix `c`: transpose involution (bit-exact), `(AB)ᵀ = BᵀAᵀ` within the
/// rounding bound of a dot product, `&a * &b == a.matmul(&b)`, Hadamard
/// products correctly rounded, `try_from_slice` round trips and its errors on
/// `data`, and `get(i, j)`.
pub fn check_mat<const R: usize, const C: usize, const K: usize>(
    a: [[f32; C]; R],
    b: [[f32; K]; C],
    c: [[f32; C]; R],
    data: &[f32],
    (gi, gj): (usize, usize),
) -> Check {
    let ctx = || format!("{R}x{C}x{K}: a = {a:?}, b = {b:?}, c = {c:?}");
    let am = Mat::from_rows(a);
    let bm = Mat::from_rows(b);
    let cm = Mat::from_rows(c);

    let t = am.transpose();
    let tt = t.transpose();
    for i in 0..R {
        for j in 0..C {
            ensure!(
                same_bits32(t.rows()[j][i], a[i][j]),
                "transpose moved ({i},{j}) wrongly; {}",
                ctx()
            );
            ensure!(
                same_bits32(tt.rows()[i][j], a[i][j]),
                "transpose twice changed ({i},{j}); {}",
                ctx()
            );
            ensure!(
                same_bits32(am.as_slice()[i * C + j], a[i][j]),
                "as_slice is not row-major at ({i},{j}); {}",
                ctx()
            );
        }
    }

    let ab = am.matmul(&bm);
    let ab_op = &am * &bm;
    let abt = ab.transpose();
    let btat = bm.transpose().matmul(&am.transpose());
    let all_finite = a
        .iter()
        .flatten()
        .chain(b.iter().flatten())
        .all(|v| v.is_finite());
    let mut ratio: f64 = 0.0;
    for q in 0..K {
        for r in 0..R {
            // Bit for bit, except that a NaN may come out with other bits:
            // when NaNs of different signs or payloads meet in one sum,
            // which one x86 passes on depends on operand order, and the
            // compiler may swap operands where it inlines each call (Rust
            // leaves a NaN result's sign and payload unspecified).
            let (by_fn, by_op) = (ab.rows()[r][q], ab_op.rows()[r][q]);
            ensure!(
                same_bits32(by_fn, by_op) || (by_fn.is_nan() && by_op.is_nan()),
                "&a * &b differs from a.matmul(&b) at ({r},{q}): {:#010x} against {:#010x}; {}",
                by_fn.to_bits(),
                by_op.to_bits(),
                ctx()
            );
            if !all_finite {
                continue;
            }
            let exact: f64 = (0..C)
                .map(|k| f64::from(a[r][k]) * f64::from(b[k][q]))
                .sum();
            let mag: f64 = (0..C)
                .map(|k| (f64::from(a[r][k]) * f64::from(b[k][q])).abs())
                .sum();
            if mag > LIMIT {
                continue;
            }
            let bound = (C as f64 + 1.0) * (U * mag + TINY);
            for (what, got) in [("(AB)ᵀ", abt.rows()[q][r]), ("BᵀAᵀ", btat.rows()[q][r])] {
                let rr = close32(&format!("{what}[{q}][{r}]"), got, exact, bound)
                    .map_err(|e| e + "; " + &ctx())?;
                ratio = worst(ratio, rr);
            }
        }
    }

    let h1 = am.hadamard(&cm);
    let h2 = cm.hadamard(&am);
    for i in 0..R {
        for j in 0..C {
            let want = (f64::from(a[i][j]) * f64::from(c[i][j])) as f32;
            for (what, got) in [("a∘c", h1.rows()[i][j]), ("c∘a", h2.rows()[i][j])] {
                ensure!(
                    same_bits32(got, want) || (got.is_nan() && want.is_nan()),
                    "{what}[{i}][{j}] = {got:e}, want the correctly rounded {want:e}; {}",
                    ctx()
                );
            }
        }
    }

    match Mat::<R, C, f32>::try_from_slice(data) {
        Ok(m) => {
            ensure!(
                data.len() == R * C,
                "try_from_slice accepted {} elements for {R}x{C}",
                data.len()
            );
            for (k, (&got, &want)) in m.as_slice().iter().zip(data).enumerate() {
                ensure!(same_bits32(got, want), "try_from_slice changed element {k}");
            }
        }
        Err(e) => {
            let want = Error::SliceLength {
                expected: R * C,
                got: data.len(),
            };
            ensure!(
                e == want,
                "try_from_slice({} elements) for {R}x{C} gave {e:?}",
                data.len()
            );
            let msg = e.to_string();
            ensure!(
                msg.contains(&(R * C).to_string()) && msg.contains(&data.len().to_string()),
                "error message {msg:?} names neither length"
            );
        }
    }
    let back = Mat::<R, C, f32>::try_from_slice(am.as_slice())
        .map_err(|e| format!("round trip failed: {e}"))?;
    ensure!(
        back.as_slice()
            .iter()
            .zip(am.as_slice())
            .all(|(x, y)| same_bits32(*x, *y)),
        "try_from_slice(as_slice()) is not the identity; {}",
        ctx()
    );

    match am.get(gi, gj) {
        Some(v) => ensure!(
            gi < R && gj < C && same_bits32(*v, a[gi][gj]),
            "get({gi}, {gj}) = {v:e} on {R}x{C}"
        ),
        None => ensure!(gi >= R || gj >= C, "get({gi}, {gj}) = None on {R}x{C}"),
    }
    Ok(ratio)
}

// ---------------------------------------------------------------------------
// batched entry points
// ---------------------------------------------------------------------------

/// `(exact, bound)` of the loss and of every `dL/dx` entry, or `None` when the
/// sample is outside the accuracy promise (non-finite inputs, or a natural
/// scale beyond f32).
fn input_grad_expect<const IN: usize, const HID: usize, const OUT: usize>(
    net: &Net<IN, HID, OUT>,
    x: &[f32; IN],
    target: &Target<OUT, f32>,
) -> Option<(NetRef<IN, HID, OUT>, Vec<(f64, f64)>)> {
    let y = match target {
        Target::Probs(y) => y.row().to_vec(),
        Target::Class(_) => Vec::new(),
    };
    if !net
        .values()
        .chain(x.iter().copied())
        .chain(y)
        .all(f32::is_finite)
    {
        return None;
    }
    let r = net_ref(net, x, target);
    if !r.in_domain {
        return None;
    }
    let mut v = vec![r.loss];
    v.extend(r.dx);
    Some((r, v))
}

/// Compares a batched sample's results with the one-sample call's: NaN in
/// the same places, both within the accuracy bound when the sample is inside
/// the promise, and the same non-finite classes for ±∞ inputs.
fn same_as_single<const IN: usize, const HID: usize, const OUT: usize>(
    what: &str,
    net: &Net<IN, HID, OUT>,
    x: &[f32; IN],
    target: &Target<OUT, f32>,
    (loss, dx): (f32, &RowVec<IN, f32>),
) -> Check {
    let mlp = net.mlp();
    let (l1, g1) = mlp.input_grad(&RowVec::from_row(*x), target);
    let ctx = || format!("{what}: net = {net:?}, x = {x:?}, target = {target:?}");
    let batch: Vec<f32> = core::iter::once(loss)
        .chain(dx.row().iter().copied())
        .collect();
    let single: Vec<f32> = core::iter::once(l1)
        .chain(g1.row().iter().copied())
        .collect();
    // The target as a row (a class label as its one-hot row).
    let y_row = target.to_row();
    let any_nan_input = net
        .values()
        .chain(x.iter().copied())
        .chain(y_row.row().iter().copied())
        .any(f32::is_nan);
    let all_finite_input = net
        .values()
        .chain(x.iter().copied())
        .chain(y_row.row().iter().copied())
        .all(f32::is_finite);
    // With ±∞ inputs, agreement is required only when the finite inputs,
    // weights and targets cannot take an intermediate to the overflow edge:
    // there the two summation orders may legitimately round to MAX or to ∞,
    // or meet ∞ − ∞ in one order and not the other (found by
    // batch_vs_single: `W2` entry MAX, `x` entry +∞, AVX2+FMA build: the
    // one-sample `dL/dh = −(Σ q)·MAX` rounds to −∞ and `dL/dx` to NaN, the
    // batched one to −MAX and 0; and `x = [+∞, −MAX, …]`: the one-sample
    // kernel's two FMA chains give `∞ + (−MAX·7.4) = ∞ − ∞ = NaN`, the
    // batched kernel's single chain `fma(−MAX, 7.4, ∞) = ∞`; and `x_4 =
    // −1e30` against `W1[4][2] = 5e33`, each moderate, whose product
    // overflows). So the finite first-layer terms count, too: `Σ_i |x_i·W1|`
    // over the finite `x_i` must stay moderate for every hidden unit.
    // A bound on an intermediate's terms is moderate below LIMIT/16; a NaN
    // bound (from a NaN input or a 0·∞) does not rule agreement out.
    let moderate_bound = |bound: f64| bound.is_nan() || bound <= LIMIT / 16.0;
    let finite_terms_moderate = (0..HID).all(|k| {
        let sum: f64 = x
            .iter()
            .zip(&net.w1)
            .filter(|(xi, _)| xi.is_finite())
            .map(|(xi, row)| (f64::from(*xi) * f64::from(row[k])).abs())
            .sum();
        moderate_bound(sum)
    });
    // And the backward product: `|dL/dθ_j| = |ŷ_j·Σy − y_j| ≤ 2·Σ|y|` (2 with
    // a class label), so `dL/dh_k`'s terms are bounded by `2·Σ|y|·Σ_j
    // |W2[k][j]|`, which must stay moderate too. Found by the CI smoke run
    // (session 17): soft targets of −2.6e36, each under the limit, against
    // `W2` entries of −87 and an `x_4 = +∞` that saturates every hidden unit
    // (`σ' = 0`): terms of ±2.3e38 and −4.5e38 cancel in `dL/dh_k`, one
    // summation order overflows to ∞ and gives `∞·0 = NaN`, the other a
    // finite sum and 0.
    let y_mass: f64 = y_row.row().iter().map(|v| f64::from(v.abs())).sum();
    let backward_terms_moderate = net.w2.iter().all(|row| {
        let w: f64 = row.iter().map(|v| f64::from(v.abs())).sum();
        moderate_bound(2.0 * y_mass * w)
    });
    let moderate = finite_terms_moderate
        && backward_terms_moderate
        && net
            .values()
            .chain(x.iter().copied())
            .chain(y_row.row().iter().copied())
            .all(|v| !v.is_finite() || f64::from(v.abs()) <= LIMIT / 16.0);
    // Infinite weights or targets: a product `0·∞` is NaN, and whether an
    // `h_k` or a loss term is exactly 0 can depend on the summation order (a
    // sigmoid at its underflow edge, a cancelling first layer). Found by the
    // CI smoke run: `W2` entries −∞, `x = [1e-8, −1e-8, 1e30, −1e30, 0]`:
    // the two orders leave different cancellation residues in `a`, one `h`
    // is exactly 0 and `0·(−∞)` makes the batched loss NaN, the one-sample
    // loss 1.56. So the NaN/∞ patterns must agree only for infinite inputs
    // `x` beside finite weights and targets.
    let finite_params = net
        .values()
        .chain(y_row.row().iter().copied())
        .all(|v| v.is_nan() || v.is_finite());
    if any_nan_input || (!all_finite_input && moderate && finite_params) {
        for (k, (b, s)) in batch.iter().zip(&single).enumerate() {
            ensure!(
                b.is_nan() == s.is_nan() && b.is_infinite() == s.is_infinite(),
                "output {k} (0 = loss, then dx): batched {b:e}, one-sample {s:e}; {}",
                ctx()
            );
        }
        return Ok(0.0);
    }
    if !all_finite_input {
        return Ok(0.0);
    }
    let Some((_, want)) = input_grad_expect(net, x, target) else {
        return Ok(0.0);
    };
    let mut ratio: f64 = 0.0;
    for (k, ((b, s), (exact, bound))) in batch.iter().zip(&single).zip(&want).enumerate() {
        ensure!(
            b.is_finite(),
            "output {k} (0 = loss, then dx): batched {b:e} not finite, one-sample {s:e}; {}",
            ctx()
        );
        let rr = close32(&format!("{what} output {k}"), *b, *exact, *bound)
            .map_err(|e| format!("{e} (one-sample {s:e}); {}", ctx()))?;
        ratio = worst(ratio, rr);
    }
    Ok(ratio)
}

/// Batched entry points against one-sample calls: `input_grad_batch` and
/// `grads_batch` (sum and mean) on `samples`, and the length checks with
/// `targets`, `losses` and `dxs` slices of lengths `bad_lens` (which must be
/// rejected, writing nothing, whenever they differ from `samples.len()`).
pub fn check_batch<const IN: usize, const HID: usize, const OUT: usize>(
    net: &Net<IN, HID, OUT>,
    samples: &[([f32; IN], Target<OUT, f32>)],
    bad_lens: (usize, usize, usize),
) -> Check {
    let mlp = net.mlp();
    let n = samples.len();
    let xs: Vec<RowVec<IN, f32>> = samples.iter().map(|(x, _)| RowVec::from_row(*x)).collect();
    let ts: Vec<Target<OUT, f32>> = samples.iter().map(|(_, t)| *t).collect();
    let mut losses = vec![f32::NAN; n];
    let mut dxs = vec![RowVec::splat(f32::NAN); n];
    mlp.input_grad_batch(&xs, &ts, &mut losses, &mut dxs)
        .map_err(|e| format!("input_grad_batch rejected matching lengths {n}: {e}"))?;
    let mut ratio: f64 = 0.0;
    for (k, (x, t)) in samples.iter().enumerate() {
        let rr = same_as_single(
            &format!("input_grad_batch sample {k} of {n}"),
            net,
            x,
            t,
            (losses[k], &dxs[k]),
        )?;
        ratio = worst(ratio, rr);
    }
    // The loss-only batch runs the same blocks: the same bits, infinite
    // losses included, and NaN where they are NaN (which NaN is up to the
    // compiler: x86 passes on the first operand's, and LLVM may swap the
    // operands of an addition, as the fuzzer found in a loss whose target
    // held a NaN).
    let mut loss_only = vec![0.5f32; n];
    mlp.loss_batch(&xs, &ts, &mut loss_only)
        .map_err(|e| format!("loss_batch rejected matching lengths {n}: {e}"))?;
    for (k, (a, b)) in loss_only.iter().zip(&losses).enumerate() {
        ensure!(
            same_bits32(*a, *b) || (a.is_nan() && b.is_nan()),
            "loss_batch sample {k} of {n}: {a:e} against input_grad_batch's {b:e}"
        );
    }

    for reduction in [constgrad::Reduction::Sum, constgrad::Reduction::Mean] {
        let mut losses = vec![f32::NAN; n];
        let mut dxs = vec![RowVec::splat(f32::NAN); n];
        let mut g = constgrad::Grads::default();
        mlp.grads_batch(&xs, &ts, reduction, &mut losses, &mut dxs, &mut g)
            .map_err(|e| format!("grads_batch rejected matching lengths {n}: {e}"))?;
        let mut wants = Vec::new();
        for (k, (x, t)) in samples.iter().enumerate() {
            let what = format!("grads_batch({reduction:?}) sample {k} of {n}");
            ratio = worst(
                ratio,
                same_as_single(&what, net, x, t, (losses[k], &dxs[k]))?,
            );
            wants.push(input_grad_expect(net, x, t));
        }
        // The reduced gradients, when every sample is inside the promise.
        if n > 0 && wants.iter().all(Option::is_some) {
            let refs: Vec<NetRef<IN, HID, OUT>> =
                wants.into_iter().flatten().map(|(r, _)| r).collect();
            let scale = if reduction == constgrad::Reduction::Mean {
                n as f64
            } else {
                1.0
            };
            // (name, batched result, per-sample (exact, bound))
            type Reduced = (String, f32, Vec<(f64, f64)>);
            let mut outs: Vec<Reduced> =
                vec![("loss".into(), g.loss, refs.iter().map(|r| r.loss).collect())];
            for i in 0..IN {
                outs.push((
                    format!("x[{i}]"),
                    g.x.row()[i],
                    refs.iter().map(|r| r.dx[i]).collect(),
                ));
            }
            for i in 0..IN {
                for k in 0..HID {
                    outs.push((
                        format!("w1[{i}][{k}]"),
                        g.w1.rows()[i][k],
                        refs.iter().map(|r| r.dw1[i][k]).collect(),
                    ));
                }
            }
            for k in 0..HID {
                outs.push((
                    format!("b1[{k}]"),
                    g.b1.row()[k],
                    refs.iter().map(|r| r.db1[k]).collect(),
                ));
                for j in 0..OUT {
                    outs.push((
                        format!("w2[{k}][{j}]"),
                        g.w2.rows()[k][j],
                        refs.iter().map(|r| r.dw2[k][j]).collect(),
                    ));
                }
            }
            for j in 0..OUT {
                outs.push((
                    format!("b2[{j}]"),
                    g.b2.row()[j],
                    refs.iter().map(|r| r.db2[j]).collect(),
                ));
            }
            for (name, got, per_sample) in outs {
                let exact: f64 = per_sample.iter().map(|v| v.0).sum::<f64>() / scale;
                let mag: f64 = per_sample.iter().map(|v| v.0.abs()).sum::<f64>() / scale;
                // `Mean` is `(1/N)·Σ_n`: the sum itself is an intermediate
                // and may overflow (found by the campaign: 9 losses of 4e37).
                if mag * scale > LIMIT {
                    continue;
                }
                let bound = per_sample.iter().map(|v| v.1).sum::<f64>() / scale
                    + (n as f64 + 2.0) * (U * mag + TINY);
                let what = format!("grads_batch({reduction:?}).{name} over {n} samples");
                ratio = worst(
                    ratio,
                    close32(&what, got, exact, bound)
                        .map_err(|e| format!("{e}; net = {net:?}, samples = {samples:?}"))?,
                );
            }
        }
    }

    // Length mismatches: rejected with BatchLength, nothing written.
    let (lt, ll, ld) = bad_lens;
    if (lt, ll, ld) != (n, n, n) {
        let ts2: Vec<Target<OUT, f32>> = (0..lt)
            .map(|k| ts.get(k).copied().unwrap_or(Target::Probs(RowVec::zeros())))
            .collect();
        let sentinel = f32::from_bits(0x7fc0_1234);
        let mut l2 = vec![sentinel; ll];
        let mut d2 = vec![RowVec::splat(sentinel); ld];
        let res = mlp.input_grad_batch(&xs, &ts2, &mut l2, &mut d2);
        let bad = [("targets", lt), ("losses", ll), ("dxs", ld)];
        match res {
            Ok(()) => {
                return Err(format!(
                    "input_grad_batch accepted lengths xs {n}, targets {lt}, losses {ll}, dxs {ld}"
                ))
            }
            Err(Error::BatchLength {
                argument,
                expected,
                got,
            }) => {
                ensure!(
                    expected == n && bad.iter().any(|&(a, len)| a == argument && len == got && len != n),
                    "input_grad_batch: BatchLength {{ {argument}, {expected}, {got} }} for lengths xs {n}, targets {lt}, losses {ll}, dxs {ld}"
                );
            }
            Err(e) => return Err(format!("input_grad_batch: unexpected error {e:?}")),
        }
        ensure!(
            l2.iter().all(|v| same_bits32(*v, sentinel))
                && d2
                    .iter()
                    .all(|d| d.row().iter().all(|v| same_bits32(*v, sentinel))),
            "input_grad_batch wrote output despite rejecting the lengths"
        );
        let mut g = constgrad::Grads {
            loss: sentinel,
            ..Default::default()
        };
        let res = mlp.grads_batch(
            &xs,
            &ts2,
            constgrad::Reduction::Sum,
            &mut l2,
            &mut d2,
            &mut g,
        );
        ensure!(
            matches!(res, Err(Error::BatchLength { expected, .. }) if expected == n),
            "grads_batch with lengths xs {n}, targets {lt}, losses {ll}, dxs {ld} gave {res:?}"
        );
        ensure!(
            same_bits32(g.loss, sentinel)
                && l2.iter().all(|v| same_bits32(*v, sentinel))
                && d2
                    .iter()
                    .all(|d| d.row().iter().all(|v| same_bits32(*v, sentinel))),
            "grads_batch wrote output despite rejecting the lengths"
        );
    }
    Ok(ratio)
}

/// The error of `input_grad`'s `dL/dx` relative to the natural scale of the
/// result, `max_i |dx_i − exact_i| / max(‖exact‖∞, 2^-126)`, for a sample
/// inside the promise (`None` otherwise), and whether every input, weight and
/// target entry is moderate (`|v| ≤ 16`). Reported by the `input_grad`
/// target with `CONSTGRAD_FUZZ_WORST=1`, never enforced: cancellation in
/// `Σ_k dL/da_k·W1[i][k]` makes it unbounded for adversarial weights, which is
/// why the checks use the running error bound instead.
pub fn input_grad_norm_error<const IN: usize, const HID: usize, const OUT: usize>(
    net: &Net<IN, HID, OUT>,
    x: [f32; IN],
    goal: &Goal<OUT>,
) -> Option<(f64, bool)> {
    let target = goal.target().ok()??;
    let (_, want) = input_grad_expect(net, &x, &target)?;
    let (_, g) = net.mlp().input_grad(&RowVec::from_row(x), &target);
    let norm = want[1..].iter().map(|v| v.0.abs()).fold(0.0, f64::max);
    let err = g
        .row()
        .iter()
        .zip(&want[1..])
        .map(|(&got, &(exact, _))| (f64::from(got) - exact).abs())
        .fold(0.0, f64::max);
    let y: &[f32] = match goal {
        Goal::Probs(y) => y,
        Goal::Class(_) => &[],
    };
    let moderate = net
        .values()
        .chain(x)
        .chain(y.iter().copied())
        .all(|v| v.abs() <= 16.0);
    Some((err / norm.max(f64::from(f32::MIN_POSITIVE)), moderate))
}
