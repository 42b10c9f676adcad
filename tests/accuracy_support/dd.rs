//! The ulp metrics (`f32` and `f64`) and double-double arithmetic, written
//! from scratch for the tests. `tests/accuracy_support/mod.rs` re-exports all of it, and
//! the crate's own unit tests include this file with `#[path]` (`src/math/ln.rs`,
//! whose `ln(1 + u)` kernel is crate-private), so both measure against the same
//! references.
//!
//! A double-double `hi + lo` carries about 106 bits. [`dd_ln_1p`] is the
//! `ln(1 + u)` reference; `e^x` and `σ(x)` are in `mod.rs`, beside the sweeps
//! that use them. Each reference is checked against mpmath values
//! (`tests/data/mpmath_f64.txt`) in `tests/exhaustive.rs`.
#![allow(dead_code)]

// ---------------------------------------------------------------------------
// Powers of two and exact scaling.

/// `2^k` as an `f64`, for `k ∈ [−1074, 1023]`.
#[must_use]
pub fn pow2(k: i32) -> f64 {
    assert!((-1074..=1023).contains(&k), "pow2({k}) out of range");
    if k >= -1022 {
        f64::from_bits(((k + 1023) as u64) << 52)
    } else {
        f64::from_bits(1u64 << (k + 1074))
    }
}

/// `x · 2^k`, exact whenever the result (and the intermediate steps, taken
/// toward the result) is representable.
#[must_use]
pub fn scale(mut x: f64, mut k: i32) -> f64 {
    while k > 1000 {
        x *= pow2(1000);
        k -= 1000;
    }
    while k < -1000 {
        x *= pow2(-1000);
        k += 1000;
    }
    x * pow2(k)
}

/// Unbiased exponent of a normal `f64` of either sign.
#[must_use]
pub fn exponent(x: f64) -> i32 {
    ((x.to_bits() >> 52) & 0x7ff) as i32 - 1023
}

// ---------------------------------------------------------------------------
// f32 ulp metric (the exact value is an f64).

/// Smallest positive subnormal `f32`, `2^-149`.
pub const F32_MIN_SUB: f64 = 1.401_298_464_324_817e-45;

/// Ulp of the `f32` binade holding `|exact|`, floored at `2^-149`.
#[must_use]
pub fn ulp_f32_of(exact: f64) -> f64 {
    let a = exact.abs();
    if a < f64::MIN_POSITIVE {
        return F32_MIN_SUB;
    }
    pow2((exponent(a) - 23).max(-149))
}

/// `|got − exact|` in ulps of `exact`'s `f32` binade. Equal values
/// (including equal infinities) are 0; NaN against non-NaN, and a finite
/// value against an infinite one, are `+∞`.
#[must_use]
pub fn ulp_err_f32(got: f32, exact: f64) -> f64 {
    if got.is_nan() || exact.is_nan() {
        return if got.is_nan() && exact.is_nan() {
            0.0
        } else {
            f64::INFINITY
        };
    }
    let g = f64::from(got);
    if g == exact {
        return 0.0;
    }
    if g.is_infinite() || exact.is_infinite() {
        return f64::INFINITY;
    }
    (g - exact).abs() / ulp_f32_of(exact)
}

// ---------------------------------------------------------------------------
// Double-double arithmetic.

/// An unevaluated sum `hi + lo` with `|lo| ≤ ulp(hi)/2`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dd {
    /// Leading part.
    pub hi: f64,
    /// Trailing part.
    pub lo: f64,
}

/// `a + b` exactly, as a double-double (Knuth's TwoSum).
#[must_use]
pub fn two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    let bb = s - a;
    let e = (a - (s - bb)) + (b - bb);
    Dd { hi: s, lo: e }
}

/// `a + b` exactly when `|a| ≥ |b|` (Dekker's FastTwoSum).
#[must_use]
fn fast_two_sum(a: f64, b: f64) -> Dd {
    let s = a + b;
    Dd {
        hi: s,
        lo: b - (s - a),
    }
}

/// Veltkamp split of `a` into two 26-bit halves.
fn split(a: f64) -> (f64, f64) {
    let t = 134_217_729.0 * a; // 2^27 + 1
    let hi = t - (t - a);
    (hi, a - hi)
}

/// `a · b` exactly (Dekker's TwoProduct; FMA when the target has it).
#[must_use]
pub fn two_prod(a: f64, b: f64) -> Dd {
    let p = a * b;
    let e = if cfg!(target_feature = "fma") {
        a.mul_add(b, -p)
    } else {
        let (ah, al) = split(a);
        let (bh, bl) = split(b);
        ((ah * bh - p) + ah * bl + al * bh) + al * bl
    };
    Dd { hi: p, lo: e }
}

impl Dd {
    /// `1`.
    pub const ONE: Self = Self { hi: 1.0, lo: 0.0 };

    /// `x` as a double-double.
    #[must_use]
    pub const fn from(x: f64) -> Self {
        Self { hi: x, lo: 0.0 }
    }

    /// `self + o`.
    #[must_use]
    pub fn add(self, o: Self) -> Self {
        let s = two_sum(self.hi, o.hi);
        let t = two_sum(self.lo, o.lo);
        let r = fast_two_sum(s.hi, s.lo + t.hi);
        fast_two_sum(r.hi, r.lo + t.lo)
    }

    /// `self + b`.
    #[must_use]
    pub fn add_f64(self, b: f64) -> Self {
        let s = two_sum(self.hi, b);
        fast_two_sum(s.hi, s.lo + self.lo)
    }

    /// `−self`.
    #[must_use]
    pub fn neg(self) -> Self {
        Self {
            hi: -self.hi,
            lo: -self.lo,
        }
    }

    /// `self − o`.
    #[must_use]
    pub fn sub(self, o: Self) -> Self {
        self.add(o.neg())
    }

    /// `self · o`.
    #[must_use]
    pub fn mul(self, o: Self) -> Self {
        let p = two_prod(self.hi, o.hi);
        fast_two_sum(p.hi, p.lo + (self.hi * o.lo + self.lo * o.hi))
    }

    /// `self · b`.
    #[must_use]
    pub fn mul_f64(self, b: f64) -> Self {
        let p = two_prod(self.hi, b);
        fast_two_sum(p.hi, p.lo + self.lo * b)
    }

    /// `self / b`.
    #[must_use]
    pub fn div_f64(self, b: f64) -> Self {
        let q = self.hi / b;
        let p = two_prod(q, b);
        let r = ((self.hi - p.hi) - p.lo + self.lo) / b;
        fast_two_sum(q, r)
    }

    /// `self / o` (three quotient digits).
    #[must_use]
    pub fn div(self, o: Self) -> Self {
        let q1 = self.hi / o.hi;
        let r = self.sub(o.mul_f64(q1));
        let q2 = r.hi / o.hi;
        let r = r.sub(o.mul_f64(q2));
        let q3 = r.hi / o.hi;
        fast_two_sum(q1, q2).add_f64(q3)
    }

    /// `self · 2^k` (exact while both parts stay normal).
    #[must_use]
    pub fn scale(self, k: i32) -> Self {
        Self {
            hi: scale(self.hi, k),
            lo: scale(self.lo, k),
        }
    }

    /// The nearest `f64`.
    #[must_use]
    pub fn to_f64(self) -> f64 {
        self.hi + self.lo
    }
}

/// `ln 2` in three parts (each the rounding of what is left).
pub const LN2: [f64; 3] = [
    core::f64::consts::LN_2,
    2.319_046_813_846_299_6e-17,
    5.707_708_438_416_212e-34,
];

/// `ln(1 + u)` for finite `u ≥ 0`, to ~2^-100 relative.
///
/// `w = 1 + u` is exact as a double-double. With `w = m·2^k`, `m ∈ [√½, √2)`
/// (exact: a power-of-two scaling) and `s = (m − 1)/(m + 1)`,
/// `ln m = 2·atanh(s) = 2s·Σ_{i≥0} s^(2i)/(2i + 1)`. `|s| ≤ 0.1716`, so
/// `s² < 2^-5` and 24 terms leave a remainder below 2^-120. Then
/// `ln w = k·ln 2 + ln m` with the three-part `ln 2`. Below `u = 2^-60` it
/// is the series `u − u²/2 + u³/3` (the next term is below 2^-180
/// relative), which also keeps subnormal `u` exact.
#[must_use]
pub fn dd_ln_1p(u: f64) -> Dd {
    assert!(
        u >= 0.0 && u.is_finite(),
        "dd_ln_1p({u}): need a finite u ≥ 0"
    );
    if u < pow2(-60) {
        let u2 = two_prod(u, u);
        return Dd::from(u).sub(u2.mul_f64(0.5)).add_f64(u2.hi * u / 3.0);
    }
    let w = two_sum(1.0, u);
    let mut k = exponent(w.hi);
    if scale(w.hi, -k) >= core::f64::consts::SQRT_2 {
        k += 1;
    }
    let m = w.scale(-k);
    let s = m.sub(Dd::ONE).div(m.add(Dd::ONE));
    let z = s.mul(s);
    let mut sum = Dd::ONE.div_f64(49.0);
    for i in (0..24).rev() {
        sum = sum.mul(z).add(Dd::ONE.div_f64(f64::from(2 * i + 1)));
    }
    let ln_m = s.mul(sum).mul_f64(2.0);
    let k = f64::from(k);
    two_prod(k, LN2[0])
        .add(two_prod(k, LN2[1]))
        .add_f64(k * LN2[2])
        .add(ln_m)
}

/// `|got − m·2^n|` in ulps of the exact value's `f64` binade, floored at
/// `2^-1074` (so an exact 0 counts in subnormal ulps), for `m` of either
/// sign; a non-finite `got` is `+∞`.
#[must_use]
pub fn ulp_err_f64_dd(got: f64, m: Dd, n: i32) -> f64 {
    if !got.is_finite() {
        return f64::INFINITY;
    }
    let mut b = exponent(m.hi) + n;
    if m.hi.to_bits() & ((1 << 52) - 1) == 0 && m.lo * m.hi < 0.0 {
        b -= 1; // |exact| just below a power of two
    }
    let ulp_exp = (b - 52).max(-1074);
    let g = scale(got, -n);
    let d = (g - m.hi) - m.lo;
    scale(d.abs(), n - ulp_exp)
}

/// The ulp of the `f64` binade that holds `x`, floored at `2^-1074`.
#[must_use]
pub fn ulp_f64_of(x: f64) -> f64 {
    let a = x.abs();
    if a < f64::MIN_POSITIVE {
        return pow2(-1074);
    }
    pow2((exponent(a) - 52).max(-1074))
}
