//! The element types constgrad computes in: `f32` and `f64`.
//!
//! [`Real`] is sealed: the kernels depend on constants (range-reduction
//! splits, polynomial coefficients) and a SIMD lane type chosen per precision,
//! which live in a private supertrait so that no `wide` type leaks into the
//! public API.

use core::fmt::{Debug, Display};
use core::iter::Sum;
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

use crate::simd::{self, Vector};

/// A floating-point element type: `f32` or `f64`.
///
/// Sealed: only `f32` and `f64` implement it. Write generic code against it
/// with `T: Real`.
pub trait Real:
    sealed::Kernel
    + Copy
    + Default
    + PartialEq
    + PartialOrd
    + Debug
    + Display
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
{
    /// `0`.
    const ZERO: Self;
    /// `1`.
    const ONE: Self;
    /// `+∞`.
    const INFINITY: Self;
    /// `−∞`.
    const NEG_INFINITY: Self;
    /// A quiet NaN.
    const NAN: Self;
    /// Machine epsilon (the gap between 1 and the next value).
    const EPSILON: Self;
    /// The name of the type, `"f32"` or `"f64"`.
    const NAME: &'static str;

    /// Converts from `f64`, rounding to nearest.
    fn from_f64(x: f64) -> Self;
    /// Converts to `f64` (exact for both types).
    fn to_f64(self) -> f64;
    /// `true` if NaN.
    fn is_nan(self) -> bool;
    /// `true` if neither infinite nor NaN.
    fn is_finite(self) -> bool;
    /// Absolute value.
    fn abs(self) -> Self;
}

pub(crate) mod sealed {
    use crate::simd::Vector;

    /// Moving elements of `Self` into and out of the lanes of `W`'s vector
    /// type: the identity when `W` is `Self`; for `f32` and `W = f64`, an
    /// exact widening on the way in and a rounding on the way out. Lets one
    /// kernel compute in `W` while its inputs and weights stay stored in
    /// `Self`.
    pub trait LoadAs<W: Kernel>: Copy {
        /// The element as a `W` (exact).
        fn widen(self) -> W;
        /// A `W` rounded to `Self`.
        fn narrow(w: W) -> Self;
        /// See `simd::load`: up to `LANES` elements, lanes past `src` hold `pad`.
        fn load(src: &[Self], pad: W) -> W::Simd;
        /// `simd::load_at` with zero padding: `LANES` elements of `flat` from
        /// `start` (lanes past the caller's row may hold the next row's
        /// data), zero-padded near the end of `flat`.
        fn load_over(flat: &[Self], start: usize) -> W::Simd;
        /// See `simd::store`: the first `min(LANES, dst.len())` lanes, rounded.
        fn store(v: W::Simd, dst: &mut [Self]);
    }

    /// Per-precision kernel data. Private: see the module docs.
    ///
    /// Every element type loads into its own lanes and into `f64`'s (the
    /// mixed-precision path, [`crate::Mlp::input_grad_accurate`]).
    pub trait Kernel: Sized + Copy + 'static + LoadAs<Self> + LoadAs<f64> {
        /// The SIMD vector type for this element (chosen in `simd.rs`).
        type Simd: Vector<Elem = Self>;
        /// One ymm register's worth (`f32x8`, `f64x4`) on every build: the
        /// register-resident one-sample kernel uses it when the network
        /// fits (chosen in `simd.rs`).
        type Narrow: Vector<Elem = Self>;
        /// The lane type of the one-sample-per-lane batch kernels: twice as
        /// many lanes as a register holds where that is possible, so two
        /// independent blocks of samples are in flight (chosen in `simd.rs`).
        type Batch: Vector<Elem = Self>;
        /// Sixteen `f32` or eight `f64` lanes on every build: the row kernels
        /// (`math::softmax` and friends, the chunked one-sample kernel's
        /// softmax) take a row longer than `Simd` but no longer than this as
        /// one vector, summed plainly (chosen in `simd.rs`).
        type Row: Vector<Elem = Self>;
        /// `1.5 · 2^mantissa_bits`: adding and subtracting it rounds to the
        /// nearest integer (ties to even) for |x| < 2^(mantissa_bits − 1).
        const ROUND_SHIFTER: Self;
        /// `1/ln 2`.
        const LOG2E: Self;
        /// `ln 2` split as `LN2_HI + LN2_LO`, with `LN2_HI` short enough that
        /// `n · LN2_HI` is exact for every `n` the kernels produce.
        const LN2_HI: Self;
        /// See [`Kernel::LN2_HI`].
        const LN2_LO: Self;
        /// `exp` clamps its argument to `[EXP_ARG_MIN, EXP_ARG_MAX]`: below,
        /// the result rounds to 0; above, it overflows to `+∞` anyway.
        const EXP_ARG_MIN: Self;
        /// See [`Kernel::EXP_ARG_MIN`].
        const EXP_ARG_MAX: Self;
        /// `exp` of an argument at or above this has a normal result (no
        /// product in its evaluation underflows); below it (and at or above
        /// `EXP_ZERO_BELOW`), `exp_v_guarded` takes its rare-case branch
        /// (see `math::exp`).
        const EXP_NORMAL_MIN: Self;
        /// `exp` of an argument below this rounds to 0.
        const EXP_ZERO_BELOW: Self;
        /// Up to this argument (from `EXP_NORMAL_MIN`), `exp` scales by one
        /// normal power of two, `2^n` with `n ≤` the largest exponent.
        const EXP_NORMAL_MAX: Self;
        /// The coefficients `q_0, q_1, …` of `Q` in `e^r ≈ 1 + r + r²·Q(r)`
        /// for `|r| ≤ ln2/2`: a minimax fit for f32, the Taylor
        /// coefficients `1/(k+2)!` for f64 (see `math::exp`).
        const EXP_POLY: &'static [Self];
        /// Taylor coefficients `2/(2k+1)` for `k = 1, 2, …` of
        /// `2·atanh(s) = 2s + s·Σ 2 s^(2k)/(2k+1)`.
        const LN_TAYLOR: &'static [Self];
        /// `exp`'s table route (`math::exp`, "The table route"): on
        /// AVX-512 builds, where every lane type of the element looks 16
        /// entries up in one or two permutes (`Vector::LOOKUP16`: `f32`)
        /// and FMA keeps the reduction exact; `None` elsewhere, and for
        /// `f64` (`impl_real!` derives it from those facts). AVX2 builds
        /// have the lookups too, but keep the polynomial route there: on
        /// Zen 3 the table route took the 5→3→5 batch from 10.6–10.7 to
        /// 10.8–10.9 ns per sample, for 2% off one `input_grad` (51.3
        /// against 52.5 ns; best of 51, session 38).
        const EXP_TABLE: Option<ExpTable<Self>>;
    }

    /// The constants of `exp`'s table route: `e^x = 2^m · 2^(j/16) · e^r`
    /// with `16·m + j = round(16·x/ln 2)` and `|r| ≤ ln2/32`.
    #[derive(Clone, Copy)]
    pub struct ExpTable<T> {
        /// `2^(j/16)` rounded, `j = 0, …, 15`.
        pub hi: [T; 16],
        /// `2^(j/16) − hi[j]`, rounded: `hi + lo` is within `2^-48` of
        /// `2^(j/16)`.
        pub lo: [T; 16],
        /// `q_0, q_1` of `e^r ≈ 1 + r + r²·(q_0 + q_1·r)` for `|r| ≤ ln2/32`.
        pub poly: [T; 2],
    }
}

pub(crate) use sealed::ExpTable;

pub(crate) use sealed::LoadAs;

macro_rules! load_as_itself {
    ($t:ident) => {
        impl LoadAs<$t> for $t {
            #[inline(always)]
            fn widen(self) -> $t {
                self
            }
            #[inline(always)]
            fn narrow(w: $t) -> $t {
                w
            }
            #[inline(always)]
            fn load(src: &[$t], pad: $t) -> <$t as sealed::Kernel>::Simd {
                simd::load(src, pad)
            }
            #[inline(always)]
            fn load_over(flat: &[$t], start: usize) -> <$t as sealed::Kernel>::Simd {
                simd::load_at(flat, start, 0.0)
            }
            #[inline(always)]
            fn store(v: <$t as sealed::Kernel>::Simd, dst: &mut [$t]) {
                simd::store(v, dst)
            }
        }
    };
}
load_as_itself!(f32);
load_as_itself!(f64);

impl LoadAs<f64> for f32 {
    #[inline(always)]
    fn widen(self) -> f64 {
        f64::from(self)
    }
    #[inline(always)]
    fn narrow(w: f64) -> f32 {
        w as f32
    }
    #[inline(always)]
    fn load(src: &[f32], pad: f64) -> <f64 as sealed::Kernel>::Simd {
        let mut a = <f64 as sealed::Kernel>::Simd::splat(pad).to_array();
        for (d, s) in a.iter_mut().zip(src) {
            *d = f64::from(*s);
        }
        Vector::from_array(a)
    }
    #[inline(always)]
    fn load_over(flat: &[f32], start: usize) -> <f64 as sealed::Kernel>::Simd {
        Self::load(flat.get(start..).unwrap_or(&[]), 0.0)
    }
    #[inline(always)]
    fn store(v: <f64 as sealed::Kernel>::Simd, dst: &mut [f32]) {
        for (d, s) in dst.iter_mut().zip(v.to_array()) {
            *d = s as f32;
        }
    }
}

/// `1/k!` for k = 2..=N+1, evaluated at compile time in f64.
const fn inv_factorials<const N: usize>() -> [f64; N] {
    let mut out = [0.0; N];
    let mut f = 1.0;
    let mut k = 0;
    while k < N {
        f *= (k + 2) as f64;
        out[k] = 1.0 / f;
        k += 1;
    }
    out
}

/// `2/(2k+1)` for k = 1..=N.
const fn atanh_coeffs<const N: usize>() -> [f64; N] {
    let mut out = [0.0; N];
    let mut k = 0;
    while k < N {
        out[k] = 2.0 / (2 * (k + 1) + 1) as f64;
        k += 1;
    }
    out
}

const fn to_f32<const N: usize>(a: [f64; N]) -> [f32; N] {
    let mut out = [0.0; N];
    let mut k = 0;
    while k < N {
        out[k] = a[k] as f32;
        k += 1;
    }
    out
}

// Degrees. exp: |r| ≤ ln2/2 (times 1.0005 for the reduction's rounding).
// f32: Q of degree 4 fitted for the least maximum relative error of e^r by
// `scripts/exp_minimax.py`: 3.1e-9 (2^-28.3), and 3.6e-9 with the
// coefficients rounded to f32 (below), at most 0.061 ulp of e^r. The Taylor
// series would need degree 6 in Q (two FMAs more per exp): truncated after
// r^d, e^r has relative error ≤ (ln2/2)^(d+1)/(d+1)!, 2.0e-10 for d = 8 and
// 5.1e-9 for d = 7 (7.3e-9 with f32 coefficients and the margin, 0.12 ulp).
// f64: the Taylor series, d = 13: 4.1e-18 <
// 2^-57. ln: |s| ≤ (√2−1)/(√2+1) = 0.1716, s² ≤ 0.02944;
// truncating Σ 2 s^(2k)/(2k+1) after k = K leaves < s·s^(2K+2) of
// ln(1 + f) = 2s + s·Σ…: K = 4 leaves 7.1e-10, 2.1e-9 of ln(1 + f) ≈ 2s,
// 0.035 ulp (f32; K = 5, used before session 16, took one more FMA and
// Estrin level for 1.8e-11), K = 10 gives < 8e-18 (f64).
const EXP_POLY_F32: [f32; 5] = [
    f32::from_bits(0x3eff_fffe), // 0.49999994
    f32::from_bits(0x3e2a_aa49), // 0.16666521
    f32::from_bits(0x3d2a_ac79), // 0.041668389
    f32::from_bits(0x3c09_1d10), // 0.0083687455
    f32::from_bits(0x3ab5_11e8), // 0.0013814541
];
const EXP_POLY_F64: [f64; 12] = inv_factorials::<12>();
// The table route's `2^(j/16)` as `hi + lo` (from mpmath at 200 bits; a
// unit test checks them against `f64::exp2`), and its polynomial: the
// least maximum relative error of `1 + r + r²·(q_0 + q_1·r)` against `e^r`
// on `|r| ≤ 1.0005·ln2/32`, 1.6e-9 with f32 coefficients, 0.013 ulp
// (`python3 scripts/exp_minimax.py 1 16`).
pub(crate) const EXP_TABLE_F32: ExpTable<f32> = ExpTable {
    hi: bits_f32([
        0x3f80_0000,
        0x3f85_aac3,
        0x3f8b_95c2,
        0x3f91_c3d3,
        0x3f98_37f0,
        0x3f9e_f532,
        0x3fa5_fed7,
        0x3fad_583f,
        0x3fb5_04f3,
        0x3fbd_08a4,
        0x3fc5_672a,
        0x3fce_248c,
        0x3fd7_44fd,
        0x3fe0_ccdf,
        0x3fea_c0c7,
        0x3ff5_257d,
    ]),
    lo: bits_f32([
        0x0000_0000,
        0x334f_9891,
        0xb260_aba1,
        0x3367_5624,
        0x3323_1b71,
        0x3341_2342,
        0xb32c_9d5e,
        0xb22d_eaf6,
        0x32cf_e77a,
        0xb341_4fe8,
        0x320a_a837,
        0x3228_fc24,
        0xb2d4_a58a,
        0xb21e_ab59,
        0xb241_16de,
        0x3229_2436,
    ]),
    poly: [
        f32::from_bits(0x3f00_010f), // 0.50001615
        f32::from_bits(0x3e2a_aacd), // 0.16666718
    ],
};

const fn bits_f32(bits: [u32; 16]) -> [f32; 16] {
    let mut out = [0.0; 16];
    let mut i = 0;
    while i < 16 {
        out[i] = f32::from_bits(bits[i]);
        i += 1;
    }
    out
}
const LN_TAYLOR_F32: [f32; 4] = to_f32(atanh_coeffs::<4>());
const LN_TAYLOR_F64: [f64; 10] = atanh_coeffs::<10>();

macro_rules! impl_real {
    ($t:ident, $simd:ty, $narrow:ty, $batch:ty, $row:ty, $shifter:expr, $ln2_hi:expr, $ln2_lo:expr, $emin:expr, $emax:expr,
     $enormal:expr, $ezero:expr, $enormal_max:expr,
     $exp_poly:expr, $ln_taylor:expr, $exp_table:expr) => {
        impl sealed::Kernel for $t {
            type Simd = $simd;
            type Narrow = $narrow;
            type Batch = $batch;
            type Row = $row;
            const ROUND_SHIFTER: Self = $shifter;
            const LOG2E: Self = core::$t::consts::LOG2_E;
            const LN2_HI: Self = $ln2_hi;
            const LN2_LO: Self = $ln2_lo;
            const EXP_ARG_MIN: Self = $emin;
            const EXP_ARG_MAX: Self = $emax;
            const EXP_NORMAL_MIN: Self = $enormal;
            const EXP_ZERO_BELOW: Self = $ezero;
            const EXP_NORMAL_MAX: Self = $enormal_max;
            const EXP_POLY: &'static [Self] = &$exp_poly;
            const LN_TAYLOR: &'static [Self] = &$ln_taylor;
            const EXP_TABLE: Option<ExpTable<Self>> = if <$simd as Vector>::LOOKUP16
                && <$narrow as Vector>::LOOKUP16
                && <$batch as Vector>::LOOKUP16
                && <$row as Vector>::LOOKUP16
                && cfg!(target_feature = "fma")
                && cfg!(target_feature = "avx512f")
            {
                $exp_table
            } else {
                None
            };
        }

        // A row of up to `Row::LANES` entries is one vector of `Simd` or
        // of `Row` (`math::softmax::one_row_vector`).
        const _: () = assert!(<$simd as Vector>::LANES <= <$row as Vector>::LANES);

        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const INFINITY: Self = $t::INFINITY;
            const NEG_INFINITY: Self = $t::NEG_INFINITY;
            const NAN: Self = $t::NAN;
            const EPSILON: Self = $t::EPSILON;
            const NAME: &'static str = stringify!($t);

            #[inline(always)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline(always)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline(always)]
            fn is_nan(self) -> bool {
                $t::is_nan(self)
            }
            #[inline(always)]
            fn is_finite(self) -> bool {
                $t::is_finite(self)
            }
            #[inline(always)]
            fn abs(self) -> Self {
                $t::abs(self)
            }
        }
    };
}

// f32: LN2_HI = 0x3f317200 has 16 significant bits, so n·LN2_HI is exact for
// |n| < 2^8 (exp needs |n| ≤ 159; ln needs |k| ≤ 150).
// Clamp: e^-110 < 2^-150 rounds to 0; e^90 > f32::MAX overflows.
// Normal results: e^-87 > 2^-126 = e^-87.34. Zero: e^-104 < 2^-150 = e^-103.97
// (half the least subnormal, which rounds to 0 by ties-to-even). One power of
// two up to 88: n = round(88·log2 e) = 127.
impl_real!(
    f32,
    crate::simd::F32s,
    crate::simd::F32n,
    crate::simd::F32b,
    crate::simd::F32r,
    12_582_912.0,
    f32::from_bits(0x3f31_7200), // 0.693145751953125
    f32::from_bits(0x35bf_be8e), // 1.4286068e-6 = ln 2 − LN2_HI, rounded
    -110.0,
    90.0,
    -87.0,
    -104.0,
    88.0,
    EXP_POLY_F32,
    LN_TAYLOR_F32,
    Some(EXP_TABLE_F32)
);
// f64: LN2_HI = 0x3fe62e42fee00000 has 32 significant bits, exact products for
// |n| < 2^21. Clamp: e^-760 < 2^-1075 rounds to 0; e^720 > f64::MAX.
// Normal results: e^-708 > 2^-1022 = e^-708.40. Zero: e^-746 < 2^-1075 = e^-745.13.
// One power of two up to 709: n = round(709·log2 e) = 1023.
impl_real!(
    f64,
    crate::simd::F64s,
    crate::simd::F64n,
    crate::simd::F64b,
    crate::simd::F64r,
    6_755_399_441_055_744.0,
    f64::from_bits(0x3fe6_2e42_fee0_0000), // 0.6931471803691238
    f64::from_bits(0x3dea_39ef_3579_3c76), // 1.9082149292705877e-10
    -760.0,
    720.0,
    -708.0,
    -746.0,
    709.0,
    EXP_POLY_F64,
    LN_TAYLOR_F64,
    None
);
