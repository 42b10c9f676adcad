//! Support code for constgrad's fuzz targets (see `FUZZING.md` at the
//! repository root).
//!
//! - [`checks`]: the invariants themselves, as plain functions of concrete
//!   values that return `Err(description)` on a violation. The fuzz targets
//!   panic on `Err`; `tests/fuzz_regressions.rs` includes the same file by
//!   path, so every crash is replayed through exactly the check that caught it.
//! - [`F32`], [`F64`]: structure-aware `Arbitrary` floats that mix raw bit
//!   patterns (every f32/f64, NaN payloads included) with moderate values and
//!   near neighbours of the thresholds the kernels care about.
//! - [`note_ratio`]: with `CONSTGRAD_FUZZ_WORST=1` in the environment, prints
//!   each new worst `error / bound` ratio a target has seen, which is how
//!   FUZZING.md's "worst ratio" figures were measured.

use std::sync::{Mutex, OnceLock};

use arbitrary::{Arbitrary, Unstructured};

pub mod checks;

/// f32 values the kernels treat specially: zeros, ±1, the normal/subnormal
/// boundaries, ±MAX, ±∞, NaN, exp's overflow/underflow thresholds and clamp
/// limits, sigmoid's saturation points.
pub const F32_SPECIALS: [f32; 30] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    f32::MIN_POSITIVE,
    -f32::MIN_POSITIVE,
    1.0e-45, // smallest subnormal
    -1.0e-45,
    f32::MAX,
    f32::MIN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::NAN,
    88.722_84,   // ln(f32::MAX): exp overflows just above
    -87.336_55,  // ln(f32::MIN_POSITIVE): exp goes subnormal below
    -103.972_08, // ln(2^-150): exp rounds to 0 below
    -103.278_93, // ln(2^-149)
    90.0,        // exp's upper clamp
    -110.0,      // exp's lower clamp
    core::f32::consts::LN_2,
    0.346_573_6, // ln2 / 2: range-reduction boundary
    16.635_532,  // ln(2^24): sigmoid rounds to 1 around here
    -16.635_532,
    17.0,
    -17.0,
    1.0e-8,
    -1.0e-8,
    1.0e30,
    -1.0e30,
];

/// f64 counterparts of [`F32_SPECIALS`].
pub const F64_SPECIALS: [f64; 26] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    f64::MIN_POSITIVE,
    -f64::MIN_POSITIVE,
    5.0e-324,
    -5.0e-324,
    f64::MAX,
    f64::MIN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
    709.782_712_893_384,  // ln(f64::MAX)
    -708.396_418_532_264, // ln(f64::MIN_POSITIVE)
    -745.133_219_101_941, // ln(2^-1075)
    -744.440_071_921_381, // ln(2^-1074)
    720.0,                // exp's upper clamp
    -760.0,               // exp's lower clamp
    core::f64::consts::LN_2,
    0.346_573_590_279_972_6, // ln2 / 2
    36.736_800_569_677_1,    // ln(2^53)
    -36.736_800_569_677_1,
    37.0,
    -37.0,
];

/// An `f32` drawn by a structure-aware decoder: one tag byte picks moderate
/// values (typical weights and inputs), raw bit patterns (all of f32,
/// NaN payloads and subnormals included), finite raw bit patterns, entries of
/// [`F32_SPECIALS`], or their neighbours up to ±127 ulp away.
#[derive(Clone, Copy, PartialEq)]
pub struct F32(pub f32);

impl core::fmt::Debug for F32 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "f32::from_bits({:#010x}) /* {:e} */",
            self.0.to_bits(),
            self.0
        )
    }
}

impl<'a> Arbitrary<'a> for F32 {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let tag = u8::arbitrary(u)?;
        let v = match tag % 16 {
            0..=5 => f32::from(i16::arbitrary(u)?) / 256.0,
            6 | 7 => f32::from(i8::arbitrary(u)?) / 16.0,
            8..=10 => f32::from_bits(u32::arbitrary(u)?),
            11 => finite_f32(u32::arbitrary(u)?),
            12 | 13 => pick(&F32_SPECIALS, u8::arbitrary(u)?),
            _ => {
                let base = pick(&F32_SPECIALS, u8::arbitrary(u)?);
                let step = i32::from(i8::arbitrary(u)?);
                f32::from_bits(base.to_bits().wrapping_add_signed(step))
            }
        };
        Ok(F32(v))
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (1, Some(5))
    }
}

/// An `f64` drawn like [`F32`]: moderate values, raw bits, finite raw bits,
/// [`F64_SPECIALS`] and their neighbours.
#[derive(Clone, Copy, PartialEq)]
pub struct F64(pub f64);

impl core::fmt::Debug for F64 {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "f64::from_bits({:#018x}) /* {:e} */",
            self.0.to_bits(),
            self.0
        )
    }
}

impl<'a> Arbitrary<'a> for F64 {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let tag = u8::arbitrary(u)?;
        let v = match tag % 16 {
            0..=5 => f64::from(i32::arbitrary(u)?) / 65536.0,
            6 | 7 => f64::from(i8::arbitrary(u)?) / 16.0,
            8..=10 => f64::from_bits(u64::arbitrary(u)?),
            11 => {
                let b = u64::arbitrary(u)?;
                let v = f64::from_bits(b);
                if v.is_finite() {
                    v
                } else {
                    f64::from_bits(b & !(1 << 62))
                }
            }
            12 | 13 => pick(&F64_SPECIALS, u8::arbitrary(u)?),
            _ => {
                let base = pick(&F64_SPECIALS, u8::arbitrary(u)?);
                let step = i64::from(i16::arbitrary(u)?);
                f64::from_bits(base.to_bits().wrapping_add_signed(step))
            }
        };
        Ok(F64(v))
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (1, Some(9))
    }
}

fn finite_f32(bits: u32) -> f32 {
    let v = f32::from_bits(bits);
    if v.is_finite() {
        v
    } else {
        // Clear the exponent's top bit: a finite value of the same sign.
        f32::from_bits(bits & !(1 << 30))
    }
}

fn pick<T: Copy>(table: &[T], i: u8) -> T {
    table[usize::from(i) % table.len()]
}

/// Unwraps an array of [`F32`] into plain `f32`s.
#[must_use]
pub fn f32s<const N: usize>(a: [F32; N]) -> [f32; N] {
    a.map(|v| v.0)
}

/// Unwraps a matrix of [`F32`] into plain `f32`s.
#[must_use]
pub fn f32_rows<const R: usize, const C: usize>(a: [[F32; C]; R]) -> [[f32; C]; R] {
    a.map(f32s)
}

/// Once per fuzzing process: prints the SIMD instruction set constgrad was
/// compiled for and the tolerated known findings (see [`checks::tolerated`]).
pub fn init() {
    eprintln!(
        "constgrad fuzz: SIMD = {}; CONSTGRAD_FUZZ_KNOWN = {:?}",
        constgrad::simd_description(),
        std::env::var("CONSTGRAD_FUZZ_KNOWN").unwrap_or_default()
    );
}

/// Panics with the check's message on a violated invariant, otherwise
/// records the `error / bound` ratio it measured (see [`note_ratio`]).
pub fn enforce(check: &'static str, result: checks::Check) {
    match result {
        Ok(ratio) => note_ratio(check, ratio),
        Err(msg) => panic!("{check}: invariant violated: {msg}"),
    }
}

/// Whether `CONSTGRAD_FUZZ_WORST` is set (worst ratios are being reported).
pub fn reporting() -> bool {
    static ENABLED: OnceLock<bool> = OnceLock::new();
    *ENABLED.get_or_init(|| std::env::var_os("CONSTGRAD_FUZZ_WORST").is_some())
}

/// Records a measured `error / bound` ratio of the check named `check`; with
/// `CONSTGRAD_FUZZ_WORST=1` set, prints every new maximum to stderr as
/// `#worst CHECK ratio R`.
pub fn note_ratio(check: &'static str, ratio: f64) {
    static WORST: Mutex<Vec<(&'static str, f64)>> = Mutex::new(Vec::new());
    if !reporting() {
        return;
    }
    let Ok(mut worst) = WORST.lock() else {
        return;
    };
    let slot = match worst.iter().position(|(name, _)| *name == check) {
        Some(i) => &mut worst[i].1,
        None => {
            worst.push((check, -1.0));
            &mut worst.last_mut().expect("just pushed").1
        }
    };
    if ratio > *slot {
        *slot = ratio;
        eprintln!("#worst {check} ratio {ratio:.6}");
    }
}

/// Arbitrary weights of an `IN → HID → OUT` network, in the order
/// `W1, b1, W2, b2` (the byte layout every network target decodes).
#[derive(Debug, Arbitrary)]
pub struct NetIn<const IN: usize, const HID: usize, const OUT: usize> {
    w1: [[F32; HID]; IN],
    b1: [F32; HID],
    w2: [[F32; OUT]; HID],
    b2: [F32; OUT],
}

impl<const IN: usize, const HID: usize, const OUT: usize> NetIn<IN, HID, OUT> {
    /// The network as plain `f32`s.
    #[must_use]
    pub fn net(&self) -> checks::Net<IN, HID, OUT> {
        checks::Net {
            w1: f32_rows(self.w1),
            b1: f32s(self.b1),
            w2: f32_rows(self.w2),
            b2: f32s(self.b2),
        }
    }
}

/// An arbitrary target: a class label byte or a row of probabilities.
#[derive(Debug, Clone, Copy, Arbitrary)]
pub enum GoalIn<const OUT: usize> {
    /// A label byte.
    Class(u8),
    /// Soft-target entries.
    Probs([F32; OUT]),
}

impl<const OUT: usize> GoalIn<OUT> {
    /// The target for the one-sample checks: labels `≥ 250` are kept out of
    /// range (the error path), the others taken modulo `OUT`.
    #[must_use]
    pub fn goal(self) -> checks::Goal<OUT> {
        match self {
            GoalIn::Class(l) if l >= 250 => checks::Goal::Class(usize::from(l)),
            GoalIn::Class(l) => checks::Goal::Class(usize::from(l) % OUT),
            GoalIn::Probs(y) => checks::Goal::Probs(f32s(y)),
        }
    }

    /// A valid constgrad target (labels modulo `OUT`), for the batched checks.
    #[must_use]
    pub fn target(self) -> constgrad::Target<OUT, f32> {
        match self {
            GoalIn::Class(l) => constgrad::Target::Class(
                constgrad::Label::new(usize::from(l) % OUT.max(1)).expect("label < OUT"),
            ),
            GoalIn::Probs(y) => constgrad::Target::probs(f32s(y)),
        }
    }
}
