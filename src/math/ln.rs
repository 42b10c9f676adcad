//! Natural logarithm kernels, used by `logsumexp`, `log_softmax` and
//! `cross_entropy`.
//!
//! # Derivation
//!
//! For positive normal `x`, split `x = 2^k · m` with `m ∈ [√½, √2)`, and let
//! `f = m − 1` (exact). With `s = f/(2 + f)`, `ln(1 + f) = 2·atanh(s) =
//! 2s + s·R(s²)`, `R(z) = Σ_{k≥1} 2 z^k/(2k+1)`, and since `2s = f − s·f`,
//! `ln(1 + f) = f − s·(f − R)`: the leading term `f` is exact and the
//! correction is at most 7% of it. `|s| ≤ 0.1716`, so few terms of `R` are
//! needed (4 for f32, 10 for f64). Then `ln x = k·LN2_HI + (ln(1+f) + k·LN2_LO)`.
//!
//! `ln(1 + u)` for small `u ≥ 0` uses the classical identity
//! `log1p(u) = ln(v)·u/(v − 1)` with `v = 1 + u` (and `u` itself when
//! `v = 1`), which cancels the rounding error of `v`.

use crate::math::exp::estrin;
use crate::real::Real;
use crate::simd::Vector;

/// `ln x` for lanes holding positive, normal, finite `x` (other lanes:
/// unspecified, never a trap).
#[inline(always)]
pub(crate) fn ln_normal_v<T: Real, V: Vector<Elem = T>>(x: V) -> V {
    let s = V::splat;
    let (e, m) = V::split_exponent(x);
    let big = s(T::SQRT2).simd_lt(m);
    let m = V::select(big, m * s(T::from_f64(0.5)), m);
    let k = e - s(T::EXP_BIAS) + (big & s(T::ONE));
    let f = m - s(T::ONE);
    let q = f / (f + s(T::from_f64(2.0)));
    let z = q * q;
    let r = z * estrin::<T, V>(z, T::LN_TAYLOR);
    let ln_m = f - q * (f - r);
    k.mul_add(s(T::LN2_HI), k.mul_add(s(T::LN2_LO), ln_m))
}

/// `ln(1 + u)` for lanes holding `u ≥ 0` (NaN propagates).
#[inline(always)]
pub(crate) fn ln_1p_v<T: Real, V: Vector<Elem = T>>(u: V) -> V {
    let one = V::splat(T::ONE);
    let v = u + one;
    let exact = v.simd_eq(one);
    let general = ln_normal_v::<T, V>(v) * u / (v - one);
    V::select(exact, u, general)
}
