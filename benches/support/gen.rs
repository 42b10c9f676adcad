//! Seeded weights and input pools.
//!
//! Every benchmark draws its inputs from a pool generated once from a fixed
//! seed and walks through the pool one sample per iteration ([`Rotor`]), so
//! the compiler cannot hoist the work out of the timing loop and the branch
//! predictor does not see one input over and over.

use constgrad::{RowVec, Target};
use nalgebra::SVector;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::target::BaseTarget;

/// Seed of the weights of every benchmarked network.
pub const WEIGHT_SEED: u64 = 0x5EED_0001;
/// Seed of every input pool.
pub const INPUT_SEED: u64 = 0x5EED_0002;

/// The parameters of an `IN → HID → OUT` network in plain arrays, from which
/// each implementation builds its own representation. `W1` is `IN` rows of
/// `HID` (row-major `IN×HID`, as in constgrad's `x·W1` convention).
pub struct Weights<const IN: usize, const HID: usize, const OUT: usize> {
    /// `W1`, `IN×HID`.
    pub w1: Box<[[f32; HID]; IN]>,
    /// `b1`.
    pub b1: [f32; HID],
    /// `W2`, `HID×OUT`.
    pub w2: Box<[[f32; OUT]; HID]>,
    /// `b2`.
    pub b2: [f32; OUT],
}

impl<const IN: usize, const HID: usize, const OUT: usize> Weights<IN, HID, OUT> {
    /// constgrad's network with these weights, on the heap, filled in place
    /// (no matrix-sized stack temporary).
    pub fn constgrad(&self) -> Box<constgrad::Mlp<IN, HID, OUT>> {
        let mut mlp = Box::new(constgrad::Mlp::ZERO);
        mlp.fill_with(|p, i, j| match p {
            constgrad::Param::W1 => self.w1[i][j],
            constgrad::Param::B1 => self.b1[j],
            constgrad::Param::W2 => self.w2[i][j],
            constgrad::Param::B2 => self.b2[j],
        });
        mlp
    }
}

/// A heap array built without a stack temporary (`W1` of 784→128→10 is 400 KB).
pub fn boxed<T: Copy, const N: usize>(v: Vec<T>) -> Box<[T; N]> {
    let len = v.len();
    v.into_boxed_slice()
        .try_into()
        .unwrap_or_else(|_| panic!("boxed: expected {N} elements, got {len}"))
}

fn uniform_row<const N: usize>(rng: &mut StdRng, scale: f32) -> [f32; N] {
    core::array::from_fn(|_| rng.gen_range(-scale..=scale))
}

/// Weights uniform in `±1/√fan_in · gain` (so hidden pre-activations stay in
/// the sigmoid's working range rather than saturating), biases in `±0.1`.
pub fn weights<const IN: usize, const HID: usize, const OUT: usize>(
    seed: u64,
    gain: f32,
) -> Weights<IN, HID, OUT> {
    let mut rng = StdRng::seed_from_u64(seed);
    let s1 = gain / (IN as f32).sqrt();
    let s2 = gain / (HID as f32).sqrt();
    let w1 = boxed((0..IN).map(|_| uniform_row::<HID>(&mut rng, s1)).collect());
    let b1 = uniform_row::<HID>(&mut rng, 0.1);
    let w2 = boxed((0..HID).map(|_| uniform_row::<OUT>(&mut rng, s2)).collect());
    let b2 = uniform_row::<OUT>(&mut rng, 0.1);
    Weights { w1, b1, w2, b2 }
}

/// `n` inputs uniform in `lo..hi` with uniformly drawn class labels.
pub struct Samples<const IN: usize> {
    /// The inputs.
    pub xs: Vec<[f32; IN]>,
    /// The class labels, each `< OUT` of the network they were drawn for.
    pub labels: Vec<usize>,
}

/// A pool of `n` samples for a network with `out` classes.
pub fn samples<const IN: usize>(seed: u64, n: usize, out: usize, lo: f32, hi: f32) -> Samples<IN> {
    let mut rng = StdRng::seed_from_u64(seed);
    let xs = (0..n)
        .map(|_| core::array::from_fn(|_| rng.gen_range(lo..hi)))
        .collect();
    let labels = (0..n).map(|_| rng.gen_range(0..out)).collect();
    Samples { xs, labels }
}

/// Samples in every implementation's input type, converted once: arrays
/// for the scalar baseline, `RowVec`s for constgrad, `SVector`s for
/// nalgebra, and each class label as the baselines' target `ts` (an index,
/// a [`super::target::OneHot`] or a [`super::target::Probs`] row) and as
/// constgrad's `targets`.
pub struct Pool<const IN: usize, const OUT: usize, L> {
    /// The inputs as arrays (the scalar baseline's type).
    pub xs: Vec<[f32; IN]>,
    /// The inputs as constgrad rows.
    pub rows: Vec<RowVec<IN>>,
    /// The inputs as nalgebra columns.
    pub cols: Vec<SVector<f32, IN>>,
    /// The baselines' targets.
    pub ts: Vec<L>,
    /// The same targets in constgrad's type.
    pub targets: Vec<Target<OUT>>,
}

impl<const IN: usize, const OUT: usize, L: BaseTarget<OUT>> Pool<IN, OUT, L> {
    /// The inputs `xs`, each class label `l` given to the baselines as
    /// `target(l)`.
    pub fn new(xs: &[[f32; IN]], labels: &[usize], target: impl Fn(usize) -> L) -> Self {
        let ts: Vec<L> = labels.iter().map(|&l| target(l)).collect();
        Self {
            xs: xs.to_vec(),
            rows: xs.iter().map(|x| RowVec::from_row(*x)).collect(),
            cols: xs.iter().map(|x| SVector::from_column_slice(x)).collect(),
            targets: ts.iter().map(|t| t.constgrad()).collect(),
            ts,
        }
    }

    /// `n` samples drawn as [`samples`] draws them (inputs uniform in
    /// `lo..hi`, labels below `OUT`, seed [`INPUT_SEED`]), each label given
    /// to the baselines as `target(label)`.
    pub fn seeded(n: usize, lo: f32, hi: f32, target: impl Fn(usize) -> L) -> Self {
        let raw = samples::<IN>(INPUT_SEED, n, OUT, lo, hi);
        Self::new(&raw.xs, &raw.labels, target)
    }

    /// The number of samples.
    pub fn len(&self) -> usize {
        self.xs.len()
    }
}

/// `n` floats uniform in `lo..hi` (for the elementwise kernels).
pub fn floats(seed: u64, n: usize, lo: f32, hi: f32) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..n).map(|_| rng.gen_range(lo..hi)).collect()
}

/// Walks a pool of power-of-two length, one index per call.
pub struct Rotor {
    i: usize,
    mask: usize,
}

impl Rotor {
    /// A rotor over a pool of `len` items; `len` must be a power of two.
    pub fn new(len: usize) -> Self {
        assert!(
            len.is_power_of_two(),
            "pool length {len} is not a power of two"
        );
        Self {
            i: 0,
            mask: len - 1,
        }
    }

    /// The next index.
    #[inline(always)]
    pub fn step(&mut self) -> usize {
        self.i = (self.i + 1) & self.mask;
        self.i
    }
}
