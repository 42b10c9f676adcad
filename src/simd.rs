//! The one place that talks to `wide` and picks lane widths.
//!
//! Kernels elsewhere are written once, over the [`Vector`] trait, and never
//! name a `wide` type. The lane type of each element type is chosen here, at
//! compile time, from the target features the crate is built with:
//!
//! | build                         | `f32` lanes        | `f64` lanes      |
//! |-------------------------------|--------------------|------------------|
//! | x86-64 baseline (SSE2)        | `f32x8` (2 × SSE)  | `f64x4` (2 × SSE)|
//! | `+avx2,+fma` / AVX2 machines  | `f32x8` (one ymm)  | `f64x4` (one ymm)|
//! | `x86-64-v4` / AVX-512 machines| `f32x16` (one zmm) | `f64x8` (one zmm)|
//!
//! The batch kernels take two registers' worth of lanes on every build
//! (`f32x16` and `f64x8` on AVX2 and SSE2, two zmm of each on AVX-512:
//! [`F32x32`], [`F64x16`]), so that two blocks of samples interleave.
//!
//! The register-resident one-sample kernel runs in one ymm (`f32x8`,
//! `f64x4`) on every build when the network fits it ([`F32n`]), and in the
//! table's type when only that fits.
//!
//! Bit-level work (building `2^n`, splitting a float into exponent and
//! mantissa) is also done only here, behind [`Vector::pow2`] and
//! [`Vector::split_exponent`].

use core::ops::{Add, BitAnd, Div, Mul, Neg, Sub};

/// A SIMD vector of `LANES` floats, as the kernels need it.
///
/// Semantics the kernels rely on:
/// - `max`/`min` are the raw x86 `max`/`min`: when either operand is NaN the
///   *second* operand (`other`) is returned. Kernels put the value whose NaN
///   must survive second.
/// - Comparisons return all-ones/all-zeros lane masks, usable with
///   [`Vector::select`] and `&`.
pub trait Vector:
    Copy
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + BitAnd<Output = Self>
    + Send
    + Sync
    + 'static
{
    /// The scalar element.
    type Elem: Copy;
    /// `[Elem; LANES]`.
    type Array: AsRef<[Self::Elem]> + AsMut<[Self::Elem]> + Copy;
    /// Number of lanes.
    const LANES: usize;
    /// All lanes zero (a constant, for `const` constructors).
    const ZERO: Self;

    fn splat(x: Self::Elem) -> Self;
    fn from_array(a: Self::Array) -> Self;
    fn to_array(self) -> Self::Array;
    /// `self * a + b`, fused where the target has FMA.
    fn mul_add(self, a: Self, b: Self) -> Self;
    /// Raw `max`: returns `other` when either lane is NaN.
    fn max(self, other: Self) -> Self;
    /// Raw `min`: returns `other` when either lane is NaN.
    fn min(self, other: Self) -> Self;
    fn simd_lt(self, other: Self) -> Self;
    fn simd_eq(self, other: Self) -> Self;
    /// Lane-wise `if mask { t } else { f }`.
    fn select(mask: Self, t: Self, f: Self) -> Self;
    /// `true` when any lane of the mask is set.
    fn any(self) -> bool;
    /// Horizontal sum by pairwise halving (lane `i` plus lane
    /// `i + LANES/2`, then again on the lower half), the same order for
    /// every width on AVX and AVX-512 (SSE2 builds have one width per
    /// element type).
    fn reduce_add(self) -> Self::Elem;
    /// Horizontal max with raw-`max` semantics (NaN lanes may be dropped;
    /// callers make NaN propagate through a later sum).
    fn reduce_max(self) -> Self::Elem;
    /// `[0, 1, 2, ..., LANES-1]`.
    fn iota() -> Self;
    /// `−|x|`: the sign bit set, one bitwise instruction (NaN stays NaN,
    /// `±0` becomes `−0`).
    fn neg_abs(self) -> Self;
    /// `2^n` for lanes holding integers `n` in the normal exponent range.
    fn pow2(n: Self) -> Self;
    /// `2^(n + k)` for lanes holding integers `n` and an integer `k` with
    /// `n + k` in the normal exponent range: [`Vector::pow2`] of `n + k`,
    /// with `k` folded into its constant (no extra instruction).
    fn pow2_plus(n: Self, k: Self::Elem) -> Self;
    /// The shifter `c` of [`Vector::pow2_of_shifted`] for the offset `k`
    /// and `b` fraction bits: `1.5·2^mant + 2^b·(bias + k)`, an integer in
    /// `[2^mant, 2^(mant+1))`, where the spacing of the floats is 1. So
    /// `y + c`, rounded once, is `round(y) + c` for `|y| < 2^(mant−2)`,
    /// subtracting `c` again gives `round(y)` exactly, and the low `b` bits
    /// of the sum are `round(y) mod 2^b` (with `b = 4`, the index of
    /// [`Vector::lookup16`]).
    fn pow2_shifter(k: Self::Elem, b: u32) -> Self::Elem;
    /// `2^(m + k)` from `t = 2^b·m + j + pow2_shifter(k, b)` (`m` an integer
    /// with `m + k` in the normal exponent range, `0 ≤ j < 2^b`): shifts,
    /// which drop `j` and move the significand bits `m + k + bias` into the
    /// exponent field (one shift for `b = 0`). [`Vector::pow2_plus`] is this
    /// after the addition, with `b = 0`.
    fn pow2_of_shifted(t: Self, b: u32) -> Self;
    /// For positive normal `x`: `(k, m)` with `x = 2^k · m`, `m ∈ [√½, √2)`,
    /// and `k` an integer (as a float). Integer work only, no compare.
    fn split_exponent(x: Self) -> (Self, Self);
    /// Transposes the square `rows` (`LANES` vectors): lane `c` of row `r`
    /// becomes lane `r` of row `c`.
    fn transpose(rows: &mut [Self]);
    /// Whether [`Vector::permute2`] is a permute instruction or few: one
    /// (`vpermt2ps`/`pd`) on AVX-512 builds; two `vpermps` and a blend for
    /// `f32x8` on AVX2 builds. Elsewhere it is `wide`'s emulation, correct
    /// but slow, and the batch kernels do not use it.
    const PERMUTE2: bool;
    /// Lane `s` of the result is lane `idx[s]` of the `2·LANES` lanes of
    /// `a` followed by `b` (`idx[s] < 2·LANES`; entries from `LANES` on
    /// are unused).
    fn permute2(a: Self, b: Self, idx: [u8; 16]) -> Self;
    /// A lane mask (for [`Vector::select`]) set in the lanes whose bit of
    /// `bits` is set.
    fn lane_mask(bits: u32) -> Self;
    /// The element whose bit pattern is the integer `i`: a label carried in
    /// a lane, read back only by [`Vector::bits_eq`], never by arithmetic.
    fn elem_of_bits(i: u32) -> Self::Elem;
    /// A lane mask (for [`Vector::select`]) set in the lanes whose bit
    /// pattern is the integer `i`: an integer compare.
    fn bits_eq(self, i: u32) -> Self;
    /// Lane `s` of the result is `table[i]`, where `i` is the low 4 bits of
    /// lane `s` of `idx` read as an integer: a table lookup, one `vpermps`
    /// of a zmm table on AVX-512 builds, two of ymm halves and a blend in
    /// `f32x8`. The `f64` types look their lanes up one at a time; no
    /// kernel uses them (see [`Vector::LOOKUP16`]).
    fn lookup16(table: &[Self::Elem; 16], idx: Self) -> Self;
    /// Whether [`Vector::lookup16`] is a permute or few: the `f32` types on
    /// AVX-512 and AVX2 builds. Elsewhere it is a lane at a time or
    /// `wide`'s byte-shuffle emulation, which kernels avoid: the batch's
    /// label pivot (`batch::label_half`), and `exp`'s table route, which
    /// an element type takes only where all its lane types have this, and
    /// only on AVX-512 builds (`Kernel::EXP_TABLE`).
    const LOOKUP16: bool;
    /// Whether `Self` is two registers of [`Vector::Half`] (the AVX-512
    /// batch lane types), each of one block of samples.
    const PAIR: bool;
    /// The type of each half of a [`Vector::PAIR`] type and of `wide`'s
    /// double-width types (`f32x16`, `f64x8`: two registers on builds
    /// without AVX-512); `Self` for the others.
    type Half: Vector<Elem = Self::Elem>;
    /// The vector of `lo` (the first `LANES/2` lanes) and `hi`; for types
    /// that are their own half, `lo`.
    fn from_halves(lo: Self::Half, hi: Self::Half) -> Self;
    /// The halves (see [`Vector::Half`]); for types that are their own
    /// half, `self` twice.
    fn halves(self) -> (Self::Half, Self::Half);
}

/// [`Vector::lookup16`] of one zmm table (`vpermps` on AVX-512 builds; on
/// AVX2, [`lookup16_f32x8`] of each ymm half).
#[inline(always)]
fn lookup16_f32x16(table: &[f32; 16], idx: wide::f32x16) -> wide::f32x16 {
    if cfg!(target_feature = "avx512f") {
        return wide::f32x16::new(*table).shuffle_wrapping(idx.to_bits());
    }
    // Two ymm (AVX2): each looked up as `f32x8`.
    let (lo, hi) = idx.halves();
    wide::f32x16::from_halves(lookup16_f32x8(table, lo), lookup16_f32x8(table, hi))
}

/// Lane `s` is lane `i mod 8` of `lo` where bit 3 of `i = idx[s]` is clear,
/// of `hi` where it is set: each source permuted (`vpermps`) and `hi`'s
/// lanes blended in. [`lookup16_f32x8`] and, off AVX-512, [`permute2_f32x8`]
/// are this.
#[inline(always)]
fn permute16_f32x8(lo: wide::f32x8, hi: wide::f32x8, idx: wide::u32x8) -> wide::f32x8 {
    let upper = (idx & wide::u32x8::splat(8)).simd_eq(wide::u32x8::splat(8));
    let (lo, hi) = (lo.shuffle_wrapping(idx), hi.shuffle_wrapping(idx));
    wide::f32x8::from_bits(upper.select(hi.to_bits(), lo.to_bits()))
}

/// [`Vector::lookup16`] of a table in two ymm halves ([`permute16_f32x8`]).
/// `vpermt2ps` would do it in one instruction, but of two constant
/// halves LLVM makes one 512-bit `vpermps` of a 64-byte table, and a
/// 512-bit operation in the ymm one-sample kernel disables port 1 for its
/// vector operations: 5→3→5 `input_grad` took 45.2 ns per call that way,
/// 38.7–38.9 ns this way (39.8 before the table route; Intel Xeon, best of
/// 51, alternating).
#[inline(always)]
fn lookup16_f32x8(table: &[f32; 16], idx: wide::f32x8) -> wide::f32x8 {
    let half = |o: usize| wide::f32x8::new(core::array::from_fn(|i| table[o + i]));
    permute16_f32x8(half(0), half(8), idx.to_bits())
}

/// [`Vector::permute2`] by `wide`'s two-source shuffle: one `vpermt2ps`
/// or `vpermt2pd` on AVX-512 builds, a byte-shuffle emulation elsewhere.
macro_rules! permute2_by_shuffle {
    ($v:ident, $u:ident, $ui:ident) => {{
        #[inline(always)]
        fn permute2(a: wide::$v, b: wide::$v, idx: [u8; 16]) -> wide::$v {
            let idx = wide::$ui::new(core::array::from_fn(|s| $u::from(idx[s])));
            wide::ShuffleExt::shuffle([a, b], idx)
        }
        permute2
    }};
}

/// [`Vector::permute2`] of `f32x8`: [`permute2_by_shuffle`] on AVX-512
/// builds, [`permute16_f32x8`] elsewhere (two `vpermps` and a blend on
/// AVX2; with constant indices, the batch kernels' only use, the blend's
/// mask is a constant too).
#[inline(always)]
fn permute2_f32x8(a: wide::f32x8, b: wide::f32x8, idx: [u8; 16]) -> wide::f32x8 {
    if cfg!(target_feature = "avx512f") {
        return permute2_by_shuffle!(f32x8, u32, u32x8)(a, b, idx);
    }
    permute16_f32x8(
        a,
        b,
        wide::u32x8::new(core::array::from_fn(|s| u32::from(idx[s]))),
    )
}

/// [`Vector::lookup16`] a lane at a time (the `f64` types).
macro_rules! lookup16_by_lanes {
    ($v:ident, $t:ident) => {{
        fn lookup(table: &[$t; 16], idx: wide::$v) -> wide::$v {
            let bits = idx.to_bits().to_array();
            wide::$v::new(core::array::from_fn(|s| table[(bits[s] & 15) as usize]))
        }
        lookup
    }};
}

/// Loads up to `LANES` elements of `src`; lanes past its end hold `pad`.
#[inline(always)]
pub(crate) fn load<V: Vector>(src: &[V::Elem], pad: V::Elem) -> V {
    let mut a = V::splat(pad).to_array();
    for (d, s) in a.as_mut().iter_mut().zip(src) {
        *d = *s;
    }
    V::from_array(a)
}

/// Stores the first `min(LANES, dst.len())` lanes of `v` into `dst`.
#[inline(always)]
pub(crate) fn store<V: Vector>(v: V, dst: &mut [V::Elem]) {
    let a = v.to_array();
    for (d, s) in dst.iter_mut().zip(a.as_ref()) {
        *d = *s;
    }
}

/// [`load`] of `row[start..]`, for loops that walk a row (or a flat
/// matrix) a vector at a time: when `LANES` elements exist from `start`
/// they are one copy of constant length, so one vector load; near the end
/// the lanes past `row` hold `pad`. (`load(&row[start..], pad)` copies up
/// to a length LLVM does not know, and compiled to a call to `memcpy` per
/// vector: `math::softmax` on 1000 logits took 1.51 µs that way, 0.74 µs
/// this way.) A caller walking a flat matrix gets the next row's data in
/// the lanes past its own row, and must keep them out of horizontal
/// reductions and stores. Rows of constant length, and the one-sample
/// kernels' own walks over `a`, `h`, `θ`, keep `load` and `store`: there
/// this form made no difference or cost a few cycles.
#[inline(always)]
pub(crate) fn load_at<V: Vector>(row: &[V::Elem], start: usize, pad: V::Elem) -> V {
    match row.get(start..start + V::LANES) {
        Some(full) => {
            // Every lane is overwritten: no padding to fill.
            let mut a = V::ZERO.to_array();
            a.as_mut().copy_from_slice(full);
            V::from_array(a)
        }
        None => load(row.get(start..).unwrap_or(&[]), pad),
    }
}

/// [`store`] into `row[start..]`, a whole vector's worth as one vector
/// store (see [`load_at`]).
#[inline(always)]
pub(crate) fn store_at<V: Vector>(v: V, row: &mut [V::Elem], start: usize) {
    match row.get_mut(start..start + V::LANES) {
        Some(full) => store(v, full),
        None => store(v, row.get_mut(start..).unwrap_or(&mut [])),
    }
}

/// A vector's lanes spilled to a 64-byte-aligned slot, so that reading
/// single lanes back (to broadcast them) never straddles a cache line: a
/// 32- or 64-byte store that crosses one defeats store-to-load forwarding
/// and costs a stall on the critical path of the single-sample kernels.
#[derive(Clone, Copy)]
#[repr(C, align(64))]
pub(crate) struct Lanes<A>(pub A);

/// The lanes of `v`, in an aligned slot (see [`Lanes`]).
#[inline(always)]
pub(crate) fn lanes<V: Vector>(v: V) -> Lanes<V::Array> {
    Lanes(v.to_array())
}

/// Lane `i` of `v` (`i < LANES`), for broadcasting one element.
#[inline(always)]
pub(crate) fn lane<V: Vector>(v: V, i: usize) -> V::Elem {
    let a = lanes(v);
    a.0.as_ref()[i % V::LANES]
}

macro_rules! impl_vector {
    // The horizontal sum of a one-register type: `wide`'s.
    (@sum $x:ident, $v:ident, $t:ident, $n:literal) => {
        wide::$v::reduce_add($x)
    };
    // Of a double-width type: its halves added, then summed as the half.
    (@sum $x:ident, $v:ident, $t:ident, $n:literal, $half:ident) => {{
        let a = $x.to_array();
        let half = |o: usize| wide::$half::new(core::array::from_fn(|i| a[o + i]));
        (half(0) + half($n / 2)).reduce_add()
    }};
    // A one-register type is its own half.
    (@halves) => {
        type Half = Self;
        #[inline(always)]
        fn from_halves(lo: Self, _hi: Self) -> Self {
            lo
        }
        #[inline(always)]
        fn halves(self) -> (Self, Self) {
            (self, self)
        }
    };
    // A double-width type's halves are its lanes below and from `LANES/2`
    // (two registers on builds without AVX-512).
    (@halves $half:ident) => {
        type Half = wide::$half;
        #[inline(always)]
        fn from_halves(lo: wide::$half, hi: wide::$half) -> Self {
            bytemuck::must_cast([lo, hi])
        }
        #[inline(always)]
        fn halves(self) -> (wide::$half, wide::$half) {
            let [lo, hi]: [wide::$half; 2] = bytemuck::must_cast(self);
            (lo, hi)
        }
    };
    ($v:ident, $t:ident, $n:literal, $u:ident, $ui:ident, $mant:literal, $bias:literal, ($lookup:expr, $lookup_fast:expr), ($permute:expr, $permute_fast:expr) $(, $half:ident)?) => {
        impl Vector for wide::$v {
            type Elem = $t;
            type Array = [$t; $n];
            const LANES: usize = $n;
            const ZERO: Self = wide::$v::ZERO;

            #[inline(always)]
            fn splat(x: $t) -> Self {
                wide::$v::splat(x)
            }
            #[inline(always)]
            fn from_array(a: [$t; $n]) -> Self {
                wide::$v::new(a)
            }
            #[inline(always)]
            fn to_array(self) -> [$t; $n] {
                wide::$v::to_array(self)
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                wide::$v::mul_add(self, a, b)
            }
            #[inline(always)]
            fn max(self, other: Self) -> Self {
                wide::$v::fast_max(self, other)
            }
            #[inline(always)]
            fn min(self, other: Self) -> Self {
                wide::$v::fast_min(self, other)
            }
            #[inline(always)]
            fn simd_lt(self, other: Self) -> Self {
                wide::$v::simd_lt(self, other)
            }
            #[inline(always)]
            fn simd_eq(self, other: Self) -> Self {
                wide::$v::simd_eq(self, other)
            }
            #[inline(always)]
            fn select(mask: Self, t: Self, f: Self) -> Self {
                mask.select(t, f)
            }
            #[inline(always)]
            fn any(self) -> bool {
                wide::$v::any(self)
            }
            #[inline(always)]
            fn reduce_add(self) -> $t {
                impl_vector!(@sum self, $v, $t, $n $(, $half)?)
            }
            #[inline(always)]
            fn reduce_max(self) -> $t {
                // Pairwise halving: LLVM turns these fixed permutations into
                // shuffles, so the reduction stays in registers.
                let mut a = self.to_array();
                let mut width = $n / 2;
                while width > 0 {
                    for i in 0..width {
                        let (x, y) = (a[i], a[i + width]);
                        a[i] = if x < y { y } else { x };
                    }
                    width /= 2;
                }
                a[0]
            }
            #[inline(always)]
            fn iota() -> Self {
                let mut a = [0.0 as $t; $n];
                let mut i = 0;
                while i < $n {
                    a[i] = i as $t;
                    i += 1;
                }
                wide::$v::new(a)
            }
            #[inline(always)]
            fn neg_abs(self) -> Self {
                wide::$v::from_bits(self.to_bits() | wide::$v::splat(-0.0).to_bits())
            }
            #[inline(always)]
            fn pow2(n: Self) -> Self {
                Self::pow2_plus(n, 0.0)
            }
            #[inline(always)]
            fn pow2_plus(n: Self, k: $t) -> Self {
                // Adding the shifter puts the biased exponent of `2^(n + k)`
                // in the low mantissa bits (every term is an integer well
                // inside the significand, so the sum is exact).
                Self::pow2_of_shifted(n + wide::$v::splat(Self::pow2_shifter(k, 0)), 0)
            }
            #[inline(always)]
            fn pow2_shifter(k: $t, b: u32) -> $t {
                1.5 * (1u64 << $mant) as $t + (1u64 << b) as $t * ($bias as $t + k)
            }
            #[inline(always)]
            fn pow2_of_shifted(t: Self, b: u32) -> Self {
                // Shifting right by `b` drops `j`; shifting left by `mant`
                // then moves exactly the low bits `m + k + bias` into the
                // exponent field and drops the shifter's leading bits above
                // them. (A shift by 0 folds away.)
                wide::$v::from_bits((t.to_bits() >> b) << $mant)
            }
            #[inline(always)]
            fn transpose(rows: &mut [Self]) {
                let square: [Self; $n] = core::array::from_fn(|r| rows[r]);
                rows.copy_from_slice(&wide::$v::transpose(square));
            }
            const PERMUTE2: bool = $permute_fast;
            #[inline(always)]
            fn permute2(a: Self, b: Self, idx: [u8; 16]) -> Self {
                ($permute)(a, b, idx)
            }
            #[inline(always)]
            fn lookup16(table: &[$t; 16], idx: Self) -> Self {
                ($lookup)(table, idx)
            }
            const LOOKUP16: bool = $lookup_fast;
            const PAIR: bool = false;
            impl_vector!(@halves $($half)?);
            #[inline(always)]
            fn elem_of_bits(i: u32) -> $t {
                <$t>::from_bits(<$u>::from(i))
            }
            #[inline(always)]
            fn bits_eq(self, i: u32) -> Self {
                let eq = wide::$ui::simd_eq(self.to_bits(), wide::$ui::splat(<$u>::from(i)));
                wide::$v::from_bits(eq)
            }
            #[inline(always)]
            fn lane_mask(bits: u32) -> Self {
                let mut lanes = [0; $n];
                for (s, l) in lanes.iter_mut().enumerate() {
                    if bits >> s & 1 == 1 {
                        *l = $u::MAX;
                    }
                }
                wide::$v::from_bits(wide::$ui::new(lanes))
            }
            #[inline(always)]
            fn split_exponent(x: Self) -> (Self, Self) {
                const MANT_MASK: $u = (1 << $mant) - 1;
                // √½: biased exponent bias − 1, mantissa field `M`.
                const SQRT_HALF_BITS: $u = core::$t::consts::FRAC_1_SQRT_2.to_bits();
                const SQRT_HALF_MANT: $u = SQRT_HALF_BITS & MANT_MASK;
                const TWO_POW_MANT: $t = (1u64 << $mant) as $t;
                // Adding `2^mant − M` to x's bits carries into the exponent
                // field exactly when x's mantissa field is at least `M` (its
                // significand at least √2), so the sum's exponent field is
                // `k + bias`; its low bits are x's mantissa field minus `M`,
                // mod `2^mant`, and adding √½'s bits back gives `m`, with the
                // exponent of ½ or of 1.
                let t = x.to_bits() + ((1 << $mant) - SQRT_HALF_MANT);
                // The exponent field, OR-ed into the mantissa of 2^mant, read
                // back as a float: 2^mant + k + bias, minus both (exactly).
                let k_bits = (t >> $mant) | wide::$v::splat(TWO_POW_MANT).to_bits();
                let k = wide::$v::from_bits(k_bits) - wide::$v::splat(TWO_POW_MANT + $bias as $t);
                let m_bits = (t & MANT_MASK) + SQRT_HALF_BITS;
                (k, wide::$v::from_bits(m_bits))
            }
        }
    };
}

// Horizontal sums by pairwise halving, the same order at every width: lane
// i meets lane i + LANES/2, then again on the lower half (`wide`'s order
// for f32x8 and f64x4 on AVX). The double-width types add their halves and
// sum the result as the half type, rather than take `wide`'s sum, which on
// AVX-512 pairs f64x8 neighbours after the first halving and on the other
// builds adds the two halves' sums. A vector zero-padded to twice the lanes
// then sums in the same order as the narrow one (its first step adds the
// zeros), so the narrow and wide register kernels agree bit for bit.
// (Writing the halving out on arrays at every width instead cost the
// 5→3→5 `input_grad` about 20 cycles per call on Zen 4: LLVM kept the lanes
// in memory.)
impl_vector!(
    f32x8,
    f32,
    8,
    u32,
    u32x8,
    23,
    127,
    (
        lookup16_f32x8,
        cfg!(any(target_feature = "avx512f", target_feature = "avx2"))
    ),
    (
        permute2_f32x8,
        cfg!(any(target_feature = "avx512f", target_feature = "avx2"))
    )
);
impl_vector!(
    f32x16,
    f32,
    16,
    u32,
    u32x16,
    23,
    127,
    (
        lookup16_f32x16,
        cfg!(any(target_feature = "avx512f", target_feature = "avx2"))
    ),
    (
        permute2_by_shuffle!(f32x16, u32, u32x16),
        cfg!(target_feature = "avx512f")
    ),
    f32x8
);
impl_vector!(
    f64x4,
    f64,
    4,
    u64,
    u64x4,
    52,
    1023,
    (lookup16_by_lanes!(f64x4, f64), false),
    (
        permute2_by_shuffle!(f64x4, u64, u64x4),
        cfg!(target_feature = "avx512f")
    )
);
impl_vector!(
    f64x8,
    f64,
    8,
    u64,
    u64x8,
    52,
    1023,
    (lookup16_by_lanes!(f64x8, f64), false),
    (
        permute2_by_shuffle!(f64x8, u64, u64x8),
        cfg!(target_feature = "avx512f")
    ),
    f64x4
);

/// Two registers' worth of lanes as one vector, the batch lane types of
/// AVX-512 builds: every operation is applied to each half in turn, so two
/// independent blocks of samples, one per register, interleave operation by
/// operation (see [`F32b`]). `wide` has no such type; on AVX2 its `f32x16`
/// is already two ymm.
macro_rules! impl_pair {
    // A binary operator, half by half.
    (@binary $name:ident, $op:ident, $f:ident) => {
        impl $op for $name {
            type Output = Self;
            #[inline(always)]
            fn $f(self, o: Self) -> Self {
                self.zip(o, $op::$f)
            }
        }
    };
    ($name:ident, $half:ident, $t:ident, $n:literal) => {
        #[doc = concat!("`", stringify!($n), "` lanes as two `", stringify!($half), "`s (see `impl_pair!`).")]
        // Only AVX-512 builds take it as a batch lane type; the others
        // keep it for the tests, which check it on every build.
        #[cfg_attr(not(target_feature = "avx512f"), allow(dead_code))]
        #[derive(Clone, Copy, Debug)]
        pub struct $name(wide::$half, wide::$half);

        #[cfg_attr(not(target_feature = "avx512f"), allow(dead_code))]
        impl $name {
            #[inline(always)]
            fn map(self, f: impl Fn(wide::$half) -> wide::$half) -> Self {
                Self(f(self.0), f(self.1))
            }
            #[inline(always)]
            fn zip(self, o: Self, f: impl Fn(wide::$half, wide::$half) -> wide::$half) -> Self {
                Self(f(self.0, o.0), f(self.1, o.1))
            }
        }
        impl_pair!(@binary $name, Add, add);
        impl_pair!(@binary $name, Sub, sub);
        impl_pair!(@binary $name, Mul, mul);
        impl_pair!(@binary $name, Div, div);
        impl_pair!(@binary $name, BitAnd, bitand);
        impl Neg for $name {
            type Output = Self;
            #[inline(always)]
            fn neg(self) -> Self {
                self.map(|a| -a)
            }
        }
        impl Vector for $name {
            type Elem = $t;
            type Array = [$t; $n];
            const LANES: usize = $n;
            const ZERO: Self = Self(wide::$half::ZERO, wide::$half::ZERO);

            #[inline(always)]
            fn splat(x: $t) -> Self {
                let v = wide::$half::splat(x);
                Self(v, v)
            }
            #[inline(always)]
            fn from_array(a: [$t; $n]) -> Self {
                // A reinterpretation (the sizes are checked at compile time).
                let [lo, hi]: [[$t; $n / 2]; 2] = bytemuck::must_cast(a);
                Self(wide::$half::new(lo), wide::$half::new(hi))
            }
            #[inline(always)]
            fn to_array(self) -> [$t; $n] {
                bytemuck::must_cast([self.0.to_array(), self.1.to_array()])
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                Self(self.0.mul_add(a.0, b.0), self.1.mul_add(a.1, b.1))
            }
            #[inline(always)]
            fn max(self, other: Self) -> Self {
                self.zip(other, Vector::max)
            }
            #[inline(always)]
            fn min(self, other: Self) -> Self {
                self.zip(other, Vector::min)
            }
            #[inline(always)]
            fn simd_lt(self, other: Self) -> Self {
                self.zip(other, Vector::simd_lt)
            }
            #[inline(always)]
            fn simd_eq(self, other: Self) -> Self {
                self.zip(other, Vector::simd_eq)
            }
            #[inline(always)]
            fn select(mask: Self, t: Self, f: Self) -> Self {
                Self(
                    <wide::$half as Vector>::select(mask.0, t.0, f.0),
                    <wide::$half as Vector>::select(mask.1, t.1, f.1),
                )
            }
            #[inline(always)]
            fn any(self) -> bool {
                Vector::any(self.0) || Vector::any(self.1)
            }
            #[inline(always)]
            fn reduce_add(self) -> $t {
                Vector::reduce_add(self.0 + self.1)
            }
            #[inline(always)]
            fn reduce_max(self) -> $t {
                Vector::reduce_max(Vector::max(self.0, self.1))
            }
            #[inline(always)]
            fn iota() -> Self {
                let lo = <wide::$half as Vector>::iota();
                Self(lo, lo + wide::$half::splat(($n / 2) as $t))
            }
            #[inline(always)]
            fn neg_abs(self) -> Self {
                self.map(Vector::neg_abs)
            }
            #[inline(always)]
            fn pow2(n: Self) -> Self {
                n.map(<wide::$half as Vector>::pow2)
            }
            #[inline(always)]
            fn pow2_plus(n: Self, k: $t) -> Self {
                n.map(|v| <wide::$half as Vector>::pow2_plus(v, k))
            }
            #[inline(always)]
            fn pow2_shifter(k: $t, b: u32) -> $t {
                <wide::$half as Vector>::pow2_shifter(k, b)
            }
            #[inline(always)]
            fn pow2_of_shifted(t: Self, b: u32) -> Self {
                t.map(|v| <wide::$half as Vector>::pow2_of_shifted(v, b))
            }
            #[inline(always)]
            fn split_exponent(x: Self) -> (Self, Self) {
                let (k0, m0) = <wide::$half as Vector>::split_exponent(x.0);
                let (k1, m1) = <wide::$half as Vector>::split_exponent(x.1);
                (Self(k0, k1), Self(m0, m1))
            }
            #[inline(always)]
            fn transpose(rows: &mut [Self]) {
                // Not used by the kernels (their squares are narrow); by lanes.
                let mut a: [[$t; $n]; $n] = [[0.0; $n]; $n];
                for (r, row) in rows.iter().enumerate().take($n) {
                    a[r] = row.to_array();
                }
                for (c, row) in rows.iter_mut().enumerate().take($n) {
                    *row = Self::from_array(core::array::from_fn(|r| a[r][c]));
                }
            }
            /// Two registers: the batch kernels move rows a half at a time,
            /// in the half type, and never call this lane-at-a-time form
            /// (whose lanes from 16 on are zero: `idx` has 16 entries).
            const PERMUTE2: bool = false;
            #[inline(always)]
            fn permute2(a: Self, b: Self, idx: [u8; 16]) -> Self {
                let (a, b) = (a.to_array(), b.to_array());
                let mut out = [0.0; $n];
                for (o, &i) in out.iter_mut().zip(&idx) {
                    let i = usize::from(i) % (2 * $n);
                    *o = if i < $n { a[i] } else { b[i - $n] };
                }
                Self::from_array(out)
            }
            #[inline(always)]
            fn lane_mask(bits: u32) -> Self {
                let lo = <wide::$half as Vector>::lane_mask(bits);
                Self(lo, <wide::$half as Vector>::lane_mask(bits >> ($n / 2)))
            }
            #[inline(always)]
            fn elem_of_bits(i: u32) -> $t {
                <wide::$half as Vector>::elem_of_bits(i)
            }
            #[inline(always)]
            fn bits_eq(self, i: u32) -> Self {
                self.map(|v| v.bits_eq(i))
            }
            #[inline(always)]
            fn lookup16(table: &[$t; 16], idx: Self) -> Self {
                idx.map(|v| <wide::$half as Vector>::lookup16(table, v))
            }
            const LOOKUP16: bool = <wide::$half as Vector>::LOOKUP16;
            const PAIR: bool = true;
            type Half = wide::$half;
            #[inline(always)]
            fn from_halves(lo: wide::$half, hi: wide::$half) -> Self {
                Self(lo, hi)
            }
            #[inline(always)]
            fn halves(self) -> (wide::$half, wide::$half) {
                (self.0, self.1)
            }
        }
    };
}
impl_pair!(F32x32, f32x16, f32, 32);
impl_pair!(F64x16, f64x8, f64, 16);

/// The `f32` lane type of this build.
#[cfg(target_feature = "avx512f")]
pub(crate) type F32s = wide::f32x16;
/// The `f32` lane type of this build.
#[cfg(not(target_feature = "avx512f"))]
pub(crate) type F32s = wide::f32x8;
/// The `f64` lane type of this build.
#[cfg(target_feature = "avx512f")]
pub(crate) type F64s = wide::f64x8;
/// The `f64` lane type of this build.
#[cfg(not(target_feature = "avx512f"))]
pub(crate) type F64s = wide::f64x4;

/// The `f32` lane type of the register-resident one-sample kernel when the
/// network fits it: one ymm on AVX2 and AVX-512 alike. On AVX-512 that
/// kernel's dependency chain is shorter in ymm than in zmm: its broadcasts
/// of single lanes and its horizontal max and sums cross fewer lanes.
/// Measured on Zen 4 (5→3→5 `input_grad`, AVX-512 build, best of 51 at
/// eight stack alignments, before `exp_v_guarded` took the `f32x8` kernel
/// to 200): 271–276 cycles per call in `f32x8` against 318–326 in
/// `f32x16`.
pub(crate) type F32n = wide::f32x8;
/// The `f64` lane type of the register kernel when the network fits it
/// (see [`F32n`]).
pub(crate) type F64n = wide::f64x4;

/// The most lanes of a `T::Narrow` vector (the squares of
/// `batch::lanes_from_rows` are this long).
pub(crate) const MAX_NARROW_LANES: usize = {
    let (f32n, f64n) = (<F32n as Vector>::LANES, <F64n as Vector>::LANES);
    if f32n > f64n {
        f32n
    } else {
        f64n
    }
};
// Every batch vector holds a whole number of narrow ones.
const _: () = assert!(
    <F32b as Vector>::LANES % <F32n as Vector>::LANES == 0
        && <F64b as Vector>::LANES % <F64n as Vector>::LANES == 0
);

/// The `f32` lane type of the batch kernels: two registers' worth of lanes,
/// 16 on AVX2 (and four registers on SSE2), 32 on AVX-512, so that two
/// blocks of samples run interleaved.
/// One block alone is a dependency chain hundreds of cycles long that the
/// out-of-order window cannot overlap with the next. Measured on Zen 3
/// (AVX2, best of 51 runs): 16 lanes instead of 8 took the 5→3→5 batch
/// from about 28 to 24 ns per sample with the same instruction count, and,
/// with the tiles of `batch::lanes_times_rows` resized to keep eight
/// accumulator registers, 784→128→10 from 12.0 to 6.2–7.4 µs per sample.
/// Re-measured after full blocks got a constant length (`fbb40e1`): 8
/// lanes 15.5 against 13.7 ns per sample on 5→3→5 (the same instruction
/// count: fewer spills, twice the weight and constant broadcasts) and 9.7
/// against 5.1 µs on 784→128→10.
///
/// On AVX-512 the same holds with two zmm: 32 lanes ([`F32x32`]). Measured
/// on an Intel Xeon (Emerald Rapids; 5→3→5 batch, best of 51, session 36):
/// 16 lanes in one zmm 4.96–5.10 ns per sample, 32 lanes in two 4.15–4.18,
/// in each of the four code layouts timed (BENCHMARKS.md). A 16-lane block
/// of 5→3→5 executes about 600 instructions, more than the core's reorder
/// window (512), so consecutive blocks hardly overlapped; two blocks
/// interleaved give the scheduler a second chain to fill the first one's
/// waits. Networks whose blocks would need much stack run one register's
/// worth (`Mlp::BATCH_LANES`).
#[cfg(not(target_feature = "avx512f"))]
pub(crate) type F32b = wide::f32x16;
/// The `f32` lane type of the batch kernels (see above).
#[cfg(target_feature = "avx512f")]
pub(crate) type F32b = F32x32;
/// The `f64` lane type of the batch kernels (see [`F32b`]).
#[cfg(not(target_feature = "avx512f"))]
pub(crate) type F64b = wide::f64x8;
/// The `f64` lane type of the batch kernels (see [`F32b`]).
#[cfg(target_feature = "avx512f")]
pub(crate) type F64b = F64x16;

/// The `f32` lane type of a softmax row longer than one [`F32s`] and at
/// most 16 long (`Real::Row`): 16 lanes on every build (one zmm, two ymm,
/// four xmm), so that such a row is one vector, summed alike, on every
/// build (`math::softmax::one_row_vector`).
pub(crate) type F32r = wide::f32x16;
/// The `f64` lane type of a softmax row of 5 to 8 entries (see [`F32r`]).
pub(crate) type F64r = wide::f64x8;

/// A description of the instruction set and lane widths this build uses,
/// e.g. `"AVX2+FMA: f32x8, f64x4 (batches, and softmax rows up to 16 or 8 long: f32x16, f64x8)"`.
///
/// `wide` picks its instructions at compile time from the enabled target
/// features, so this is fixed per build (see the README on `RUSTFLAGS`).
#[must_use]
pub const fn simd_description() -> &'static str {
    if cfg!(target_feature = "avx512f") {
        "AVX-512F: f32x16, f64x8 (batches: two of each, 32 and 16 lanes; one sample of a network at most 8 or 4 wide: f32x8, f64x4)"
    } else if cfg!(all(target_feature = "avx2", target_feature = "fma")) {
        "AVX2+FMA: f32x8, f64x4 (batches, and softmax rows up to 16 or 8 long: f32x16, f64x8)"
    } else if cfg!(target_feature = "avx") {
        "AVX (no FMA): f32x8, f64x4 (batches, and softmax rows up to 16 or 8 long: f32x16, f64x8)"
    } else if cfg!(target_feature = "sse2") {
        "SSE2 baseline (no FMA): f32x8 as 2×f32x4, f64x4 as 2×f64x2 (batches, and softmax rows up to 16 or 8 long: f32x16, f64x8)"
    } else {
        "portable scalar fallback: f32x8, f64x4 (batches, and softmax rows up to 16 or 8 long: f32x16, f64x8)"
    }
}

/// Number of `f32` lanes in this build's vector type.
pub const F32_LANES: usize = <F32s as Vector>::LANES;
/// Number of `f64` lanes in this build's vector type.
pub const F64_LANES: usize = <F64s as Vector>::LANES;
/// Samples per block of the `f32` batch kernels
/// ([`Mlp::input_grad_batch`](crate::Mlp::input_grad_batch)): one per lane.
pub const F32_BATCH_LANES: usize = <F32b as Vector>::LANES;
/// Samples per block of the `f64` batch kernels.
pub const F64_BATCH_LANES: usize = <F64b as Vector>::LANES;

#[cfg(test)]
mod tests {
    use super::Vector;

    /// Lane `s` of `lookup16(table, idx)` is `table[bits(idx[s]) mod 16]`,
    /// whatever the index's other bits hold (the callers pass a rounding
    /// shifter's sum, whose high bits are its exponent).
    fn lookup16_picks_by_the_low_four_bits<V: Vector>(from_bits: impl Fn(u64) -> V::Elem)
    where
        V::Elem: PartialEq + core::fmt::Debug,
    {
        let table: [V::Elem; 16] = core::array::from_fn(|i| from_bits(1000 + i as u64));
        for (high, start) in [(0x4b40_0000u64, 0u64), (0x4b40_0010, 5), (0x3f80_0000, 11)] {
            let mut idx = V::ZERO.to_array();
            for (s, v) in idx.as_mut().iter_mut().enumerate() {
                *v = from_bits(high + (start + 7 * s as u64) % 16);
            }
            let got = V::lookup16(&table, V::from_array(idx)).to_array();
            for (s, g) in got.as_ref().iter().enumerate() {
                let want = table[((start + 7 * s as u64) % 16) as usize];
                assert_eq!(*g, want, "lane {s}, index bits {high:#x} + {start}");
            }
        }
    }

    #[test]
    fn lookup16_picks_by_the_low_four_bits_at_every_width() {
        let f32_bits = |b: u64| f32::from_bits(b as u32);
        lookup16_picks_by_the_low_four_bits::<wide::f32x8>(f32_bits);
        lookup16_picks_by_the_low_four_bits::<wide::f32x16>(f32_bits);
        lookup16_picks_by_the_low_four_bits::<wide::f64x4>(f64::from_bits);
        lookup16_picks_by_the_low_four_bits::<wide::f64x8>(f64::from_bits);
        lookup16_picks_by_the_low_four_bits::<super::F32x32>(f32_bits);
        lookup16_picks_by_the_low_four_bits::<super::F64x16>(f64::from_bits);
    }

    /// `bits_eq(i)` selects exactly the lanes set to `elem_of_bits(i)`,
    /// for indices whose bit patterns are subnormal, NaN, `-0.0` or above
    /// 2^24 as floats: the compare is on integers, the lanes only carry
    /// the bits. (Expected lanes from a plain integer compare.)
    fn bits_eq_finds_each_lanes_index<V: Vector>(one: V::Elem)
    where
        V::Elem: PartialEq + core::fmt::Debug,
    {
        let indices = [0, 1, 7, (1 << 24) + 1, 0x7f80_0001, 0x8000_0000, u32::MAX];
        for shift in 0..indices.len() {
            let at = |s: usize| indices[(s + shift) % indices.len()];
            let mut lanes = V::ZERO.to_array();
            for (s, l) in lanes.as_mut().iter_mut().enumerate() {
                *l = V::elem_of_bits(at(s));
            }
            let lanes = V::from_array(lanes);
            for probe in indices.iter().copied().chain([2, 1 << 24]) {
                let hit = V::select(lanes.bits_eq(probe), V::splat(one), V::ZERO).to_array();
                for (s, h) in hit.as_ref().iter().enumerate() {
                    let want = if at(s) == probe {
                        one
                    } else {
                        V::ZERO.to_array().as_ref()[0]
                    };
                    assert_eq!(*h, want, "lane {s} holds {:#x}, probe {probe:#x}", at(s));
                }
            }
        }
    }

    #[test]
    fn bits_eq_finds_each_lanes_index_at_every_width() {
        bits_eq_finds_each_lanes_index::<wide::f32x8>(1.0);
        bits_eq_finds_each_lanes_index::<wide::f32x16>(1.0);
        bits_eq_finds_each_lanes_index::<wide::f64x4>(1.0);
        bits_eq_finds_each_lanes_index::<wide::f64x8>(1.0);
        bits_eq_finds_each_lanes_index::<super::F32x32>(1.0);
        bits_eq_finds_each_lanes_index::<super::F64x16>(1.0);
    }

    /// A pair type's lanes are its halves' lanes in order: lane `s` of the
    /// array is lane `s` of the first half below `LANES/2` and lane
    /// `s − LANES/2` of the second above; lane masks, `iota` and `any`
    /// count across both; each operation gives, half by half, what the half
    /// type gives on its own; the horizontal sum adds the halves first
    /// (the pairwise-halving order of every other type).
    fn pair_lanes_are_the_halves_lanes<V: Vector>(from_f64: impl Fn(f64) -> V::Elem)
    where
        V::Elem: PartialEq + core::fmt::Debug,
    {
        let n = V::LANES;
        let h = n / 2;
        assert!(V::PAIR && <V::Half as Vector>::LANES == h);
        let a: V::Array = {
            let mut a = V::ZERO.to_array();
            for (s, x) in a.as_mut().iter_mut().enumerate() {
                *x = from_f64(1.5 + s as f64 * if s % 3 == 0 { -0.75 } else { 1.25 });
            }
            a
        };
        let b: V::Array = {
            let mut b = V::ZERO.to_array();
            for (s, x) in b.as_mut().iter_mut().enumerate() {
                *x = from_f64(2.0 - (s % 5) as f64 * 0.5);
            }
            b
        };
        let (va, vb) = (V::from_array(a), V::from_array(b));
        assert_eq!(va.to_array().as_ref(), a.as_ref());
        let half = |v: V, k: usize| {
            let (lo, hi) = v.halves();
            if k == 0 {
                lo
            } else {
                hi
            }
        };
        let both = V::from_halves(half(va, 0), half(va, 1));
        assert_eq!(both.to_array().as_ref(), a.as_ref());
        for k in 0..2 {
            let part = half(va, k).to_array();
            assert_eq!(part.as_ref(), &a.as_ref()[k * h..(k + 1) * h], "half {k}");
        }
        // Each operation, half by half.
        type Op<V> = fn(V, V) -> V;
        type HalfOp<V> = fn(<V as Vector>::Half, <V as Vector>::Half) -> <V as Vector>::Half;
        let ops: [(&str, Op<V>, HalfOp<V>); 10] = [
            ("add", |x, y| x + y, |x, y| x + y),
            ("sub", |x, y| x - y, |x, y| x - y),
            ("mul", |x, y| x * y, |x, y| x * y),
            ("div", |x, y| x / y, |x, y| x / y),
            ("mul_add", |x, y| x.mul_add(y, x), |x, y| x.mul_add(y, x)),
            ("max", |x, y| x.max(y), |x, y| x.max(y)),
            ("min", |x, y| x.min(y), |x, y| x.min(y)),
            (
                "lt",
                |x, y| V::select(x.simd_lt(y), x, y),
                |x, y| <V::Half as Vector>::select(x.simd_lt(y), x, y),
            ),
            (
                "eq",
                |x, y| V::select(x.simd_eq(y), y, x),
                |x, y| <V::Half as Vector>::select(x.simd_eq(y), y, x),
            ),
            (
                "neg_abs, and",
                |x, y| -(x.neg_abs() & y),
                |x, y| -(x.neg_abs() & y),
            ),
        ];
        for (name, op, half_op) in ops {
            let got = op(va, vb).to_array();
            for k in 0..2 {
                let want = half_op(half(va, k), half(vb, k)).to_array();
                assert_eq!(
                    &got.as_ref()[k * h..(k + 1) * h],
                    want.as_ref(),
                    "{name}, half {k}"
                );
            }
        }
        // Masks, iota and `any` across the halves.
        for bits in [1u32, 1 << (h - 1), 1 << h, 1 << (n - 1), 0b1011 << (h - 2)] {
            let m = V::select(V::lane_mask(bits), V::splat(from_f64(1.0)), V::ZERO).to_array();
            for (s, x) in m.as_ref().iter().enumerate() {
                let want = from_f64(if bits >> s & 1 == 1 { 1.0 } else { 0.0 });
                assert_eq!(*x, want, "lane_mask({bits:#b}) lane {s}");
            }
            assert!(V::lane_mask(bits).any(), "any of lane_mask({bits:#b})");
        }
        assert!(!V::lane_mask(0).any());
        // `transpose` (unused by the kernels, whose squares are narrow):
        // row `r`, lane `c` ↔ row `c`, lane `r`.
        let mut rows: std::vec::Vec<V> = (0..n)
            .map(|r| {
                let mut a = V::ZERO.to_array();
                for (c, x) in a.as_mut().iter_mut().enumerate() {
                    *x = from_f64((r * n + c) as f64);
                }
                V::from_array(a)
            })
            .collect();
        V::transpose(&mut rows);
        for (r, row) in rows.iter().enumerate() {
            for (c, x) in row.to_array().as_ref().iter().enumerate() {
                assert_eq!(
                    *x,
                    from_f64((c * n + r) as f64),
                    "transpose: row {r}, lane {c}"
                );
            }
        }
        let iota = V::iota().to_array();
        for (s, x) in iota.as_ref().iter().enumerate() {
            assert_eq!(*x, from_f64(s as f64), "iota lane {s}");
        }
        // The lanes are quarters of small integers: every order of the sum
        // is exact, so it must be the plain sum, and the maximum the
        // largest lane (both found in `f64`).
        let to = |x: V::Elem| {
            (0..4096)
                .map(|q| q as f64 / 4.0 - 512.0)
                .find(|&y| from_f64(y) == x)
        };
        let lanes = || a.as_ref().iter().map(|&x| to(x).expect("a quarter"));
        assert_eq!(va.reduce_add(), from_f64(lanes().sum()));
        assert_eq!(va.reduce_max(), from_f64(lanes().fold(f64::MIN, f64::max)));
    }

    #[test]
    fn pair_lanes_are_the_halves_lanes_f32_and_f64() {
        pair_lanes_are_the_halves_lanes::<super::F32x32>(|x| x as f32);
        pair_lanes_are_the_halves_lanes::<super::F64x16>(|x| x);
    }

    /// `pow2_of_shifted(16·m + j + pow2_shifter(k, 4), 4)` is `2^(m + k)`
    /// for every `j` and every `m + k` in the normal exponents, negative `m`
    /// included (the shift rounds `m + j/16` down).
    fn table_shift_gives_two_to_the_m<V: Vector>(
        to_f64: impl Fn(V::Elem) -> f64,
        from_f64: impl Fn(f64) -> V::Elem,
        emax: i32,
    ) {
        for k in [0, 96] {
            for m in (1 - emax - k)..=(emax - k) {
                for j in 0..16 {
                    let shifter = to_f64(V::pow2_shifter(from_f64(f64::from(k)), 4));
                    let t = V::splat(from_f64(f64::from(16 * m + j) + shifter));
                    let got = to_f64(V::pow2_of_shifted(t, 4).to_array().as_ref()[0]);
                    assert_eq!(got, 2f64.powi(m + k), "m = {m}, j = {j}, k = {k}");
                }
            }
        }
    }

    #[test]
    fn table_shift_gives_two_to_the_m_at_every_width() {
        table_shift_gives_two_to_the_m::<wide::f32x8>(f64::from, |x| x as f32, 127);
        table_shift_gives_two_to_the_m::<wide::f32x16>(f64::from, |x| x as f32, 127);
        table_shift_gives_two_to_the_m::<wide::f64x4>(|x| x, |x| x, 1023);
        table_shift_gives_two_to_the_m::<wide::f64x8>(|x| x, |x| x, 1023);
        table_shift_gives_two_to_the_m::<super::F32x32>(f64::from, |x| x as f32, 127);
        table_shift_gives_two_to_the_m::<super::F64x16>(|x| x, |x| x, 1023);
    }

    /// `permute2(a, b, idx)` lane `s` is lane `idx[s]` of `a` then `b`, for
    /// every index of the `2·LANES` lanes in every lane (each rotation of
    /// the indices), and a type's halves are its lanes below and from
    /// `LANES/2`, whichever route the build gives them.
    fn permute2_and_halves_by_their_definitions<V: Vector>(from_f64: impl Fn(f64) -> V::Elem)
    where
        V::Elem: PartialEq + core::fmt::Debug,
    {
        let n = V::LANES;
        let lanes = |o: f64| {
            let mut a = V::ZERO.to_array();
            for (s, x) in a.as_mut().iter_mut().enumerate() {
                *x = from_f64(o + s as f64);
            }
            a
        };
        let (a, b) = (lanes(0.0), lanes(100.0));
        let both: std::vec::Vec<V::Elem> = a.as_ref().iter().chain(b.as_ref()).copied().collect();
        if n <= 16 {
            for step in [1, 3, 5, 7] {
                for rot in 0..2 * n {
                    let mut idx = [0u8; 16];
                    for (s, i) in idx.iter_mut().enumerate().take(n) {
                        *i = ((rot + step * s) % (2 * n)) as u8;
                    }
                    let got = V::permute2(V::from_array(a), V::from_array(b), idx).to_array();
                    for s in 0..n {
                        assert_eq!(
                            got.as_ref()[s],
                            both[usize::from(idx[s])],
                            "lane {s} of {idx:?}"
                        );
                    }
                }
            }
        }
        let (lo, hi) = V::from_array(a).halves();
        let h = <V::Half as Vector>::LANES;
        if h < n {
            assert_eq!(lo.to_array().as_ref(), &a.as_ref()[..h]);
            assert_eq!(hi.to_array().as_ref(), &a.as_ref()[h..]);
            let back = V::from_halves(lo, hi).to_array();
            assert_eq!(back.as_ref(), a.as_ref());
        } else {
            assert_eq!(lo.to_array().as_ref(), a.as_ref());
            assert_eq!(hi.to_array().as_ref(), a.as_ref());
        }
    }

    #[test]
    fn permute2_and_halves_by_their_definitions_at_every_width() {
        permute2_and_halves_by_their_definitions::<wide::f32x8>(|x| x as f32);
        permute2_and_halves_by_their_definitions::<wide::f32x16>(|x| x as f32);
        permute2_and_halves_by_their_definitions::<wide::f64x4>(|x| x);
        permute2_and_halves_by_their_definitions::<wide::f64x8>(|x| x);
        permute2_and_halves_by_their_definitions::<super::F32x32>(|x| x as f32);
        permute2_and_halves_by_their_definitions::<super::F64x16>(|x| x);
    }
}
