//! Batched entry points against per-sample calls and independent `f64`
//! references, in `f32` and `f64`:
//!
//! - `input_grad_batch` (one sample per SIMD lane) against `input_grad` and
//!   the analytic `f64` reference (`common::RefNet`), for every shape of
//!   `tests/gradients.rs` but 64→32→10, batch sizes around the lane count,
//!   class, soft and mixed target batches, in every regime; `loss_batch`
//!   against `input_grad_batch`'s losses, bit for bit;
//! - `grads_batch` (`Reduction::Sum` and `Mean`) against the sum / mean of
//!   per-sample `grads` and against central differences of the `f64` total
//!   loss;
//! - length mismatches: `Error::BatchLength`, nothing written;
//! - `sgd_step` and `Momentum::step` against their recurrences;
//! - with `--features rayon`: `par_input_grad_batch` and `par_loss_batch`
//!   bit-identical to `input_grad_batch` and `loss_batch`, `par_grads_batch`
//!   independent of the thread count.
//!
//! # Tolerances
//!
//! Scales are those of `tests/gradients.rs` (see `common`): the *natural
//! scale* `max(‖exact‖∞, ‖M‖∞)` of a quantity, where `M` is its first-order
//! rounding-error magnitude, and the *strict scale* `‖exact‖∞`.
//!
//! The batched kernel evaluates the same formulas as the single-sample one,
//! but sums some products in a different order (dot products along the lane
//! axis, the softmax denominator vertically). Its results are therefore held
//! to the single kernel's own accuracy contract against the `f64` reference
//! (1e-6 of the natural scale in `f32`, 2e-15 in `f64`), and to the single
//! kernel's results within a few roundings of the natural scale, rather than
//! bit for bit.

mod common;

use common::{
    assert_close, class_target, natural_scale, random_case, rng, soft_target, strict_grad_scale,
    strict_loss_scale, target_row, to_f64, uniform_mat, widen_grads, RefGrads, RefNet, Regime,
};
use constgrad::{
    Error, Grads, Mat, Mlp, Momentum, Real, Reduction, RowVec, Target, F32_BATCH_LANES,
    F64_BATCH_LANES,
};
use rand::rngs::StdRng;
use rand::Rng;

/// Samples per block of `T`'s batch kernels in this build, for every
/// shape tested here: they are small enough for the widest blocks
/// (`Mlp::BATCH_LANES`; `the_shapes_here_take_the_widest_blocks`).
fn lanes<T: Real>() -> usize {
    if T::NAME == "f32" {
        F32_BATCH_LANES
    } else {
        F64_BATCH_LANES
    }
}

/// The batch sizes of every test: empty, single, around one block, a
/// partial fourth block, and a long batch ([`LONG`]).
fn batch_sizes<T: Real>() -> [usize; 7] {
    let l = lanes::<T>();
    [0, 1, l - 1, l, l + 1, 3 * l + 1, LONG]
}

/// The long batch. It is run for one regime and target kind per shape
/// (normal network, mixed targets: class, soft and mixed blocks), which
/// keeps the debug test suite quick; the short ones run for every regime
/// and kind.
const LONG: usize = 1000;

/// Whether the batch size `n` is run for `regime` and `kind`.
fn runs(n: usize, regime: Regime, kind: Kind) -> bool {
    n != LONG || (regime == Regime::Normal && kind == Kind::Mixed)
}

/// The single-sample kernel's tolerance against the analytic `f64`
/// reference, as a fraction of the natural scale (`tests/gradients.rs`):
/// 1e-6 in `f32` (≈ 17 u), 2e-15 in `f64` (≈ 18 u).
fn natural_tol<T: Real>() -> f64 {
    if T::NAME == "f32" {
        1e-6
    } else {
        2e-15
    }
}

/// Batch vs single-sample kernel, every case: `|batch − single| ≤ 2·ε·natural
/// scale` (ε = `T::EPSILON`). Measured worst case 0.26 ε (f64 16→8→4), 0.18 ε
/// in f32: the two kernels differ by a fraction of their common error budget.
const VS_SINGLE_NATURAL: f64 = 2.0;

/// Batch vs single-sample kernel, class targets on normal and tiny networks
/// (no cancellation in `dL/dθ`): `|batch − single| ≤ 8·ε·‖dL/dx‖∞` (and
/// `8·ε·max(1, |L|)` for the loss), i.e. a few ulp of the gradient's largest
/// entry. The bound is normwise because `dL/dx_i = Σ_k dL/da_k·W1_ik` is a
/// sum of mixed-sign products, summed in another order by the batched
/// kernel, so a component much smaller than the others can differ in its
/// own last bits by more. Measured worst case 3.4 ε.
const VS_SINGLE_CLASS_STRICT: f64 = 8.0;

/// The smallest positive subnormal of `T`: the absolute rounding error of
/// a result in the subnormal range is up to half of it.
fn denorm_min<T: Real>() -> f64 {
    if T::NAME == "f32" {
        f64::from(f32::from_bits(1))
    } else {
        f64::from_bits(1)
    }
}

/// How a batch's targets are chosen.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// Every sample a class label.
    Class,
    /// Every sample a probability row (totals cycling through 1, 0.6, 1.7).
    Soft,
    /// Blocks of `LANES` samples that are, in turn, all class labels, all
    /// soft rows, and alternating: every kind of block in one batch.
    Mixed,
}

const KINDS: [Kind; 3] = [Kind::Class, Kind::Soft, Kind::Mixed];

/// `n` random inputs (at the regime's input scale, which does not depend on
/// the hidden width) and targets of `kind`.
fn batch<const IN: usize, const OUT: usize, T: Real>(
    r: &mut StdRng,
    n: usize,
    kind: Kind,
    regime: Regime,
) -> (Vec<RowVec<IN, T>>, Vec<Target<OUT, T>>) {
    let (sx, ..) = regime.scales::<T>(0);
    let l = lanes::<T>();
    let xs = (0..n).map(|_| uniform_mat(r, sx)).collect();
    let ts = (0..n)
        .map(|s| {
            let class = match kind {
                Kind::Class => true,
                Kind::Soft => false,
                Kind::Mixed => match (s / l) % 3 {
                    0 => true,
                    1 => false,
                    _ => s % 2 == 0,
                },
            };
            if class {
                class_target(r)
            } else {
                soft_target(r, [1.0, 0.6, 1.7][s % 3])
            }
        })
        .collect();
    (xs, ts)
}

/// Worst errors seen by [`check_input_grad_batch`].
#[derive(Debug, Default)]
struct Worst {
    /// Batch vs `f64` reference, fraction of the natural scale.
    vs_reference: f64,
    /// Batch vs single-sample kernel, in units of `ε·natural scale`.
    vs_single: f64,
    /// Batch vs single-sample kernel on class targets, in units of
    /// `ε·strict scale`.
    vs_single_class_strict: f64,
}

/// `input_grad_batch` against `input_grad` and the `f64` reference for every
/// regime, target kind and batch size.
fn check_input_grad_batch<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    seed_base: u64,
) -> Worst {
    let eps = T::EPSILON.to_f64();
    let mut w = Worst::default();
    for (ri, regime) in Regime::ALL.into_iter().enumerate() {
        for (ki, kind) in KINDS.into_iter().enumerate() {
            for n in batch_sizes::<T>()
                .into_iter()
                .filter(|&n| runs(n, regime, kind))
            {
                let seed = seed_base + 100 * ri as u64 + 10 * ki as u64 + n as u64;
                let mut r = rng(seed);
                let (mlp, _) = random_case::<IN, HID, OUT, T>(&mut r, regime);
                let (xs, ts) = batch::<IN, OUT, T>(&mut r, n, kind, regime);
                let mut losses = vec![T::NAN; n];
                let mut dxs = vec![RowVec::<IN, T>::splat(T::NAN); n];
                mlp.input_grad_batch(&xs, &ts, &mut losses, &mut dxs)
                    .expect("equal lengths");
                // The loss-only batch runs the same blocks: the same bits
                // (or NaN for NaN, whose payload the compiler may pick).
                let mut loss_only = vec![T::NAN; n];
                mlp.loss_batch(&xs, &ts, &mut loss_only)
                    .expect("equal lengths");
                assert!(
                    loss_only.iter().zip(&losses).all(|(a, b)| same_loss(*a, *b)),
                    "{IN}→{HID}→{OUT} {} {regime:?} {kind:?} n={n} seed {seed}: loss_batch differs from input_grad_batch's losses\n loss_batch:       {loss_only:?}\n input_grad_batch: {losses:?}",
                    T::NAME
                );
                let net = RefNet::from_mlp(&mlp);
                for s in 0..n {
                    let ctx = format!(
                        "{IN}→{HID}→{OUT} {} {regime:?} {kind:?} n={n} seed {seed} sample {s} ({:?})",
                        T::NAME,
                        ts[s]
                    );
                    let (xf, y) = (to_f64(xs[s].as_slice()), target_row(&ts[s]));
                    let exact = net.grads(&xf, &y);
                    let mag = net.rounding_magnitudes(&xf, &y).grads;
                    let (l1, d1) = mlp.input_grad(&xs[s], &ts[s]);
                    let got_l = [losses[s].to_f64()];
                    let got_d = to_f64(dxs[s].as_slice());
                    let (single_l, single_d) = ([l1.to_f64()], to_f64(d1.as_slice()));
                    let scale_l = natural_scale(&[exact.loss], &[mag.loss]);
                    let scale_d = natural_scale(&exact.x, &mag.x);
                    for (what, got, ex, scale) in [
                        ("loss", &got_l[..], &[exact.loss][..], scale_l),
                        ("dL/dx", &got_d[..], &exact.x[..], scale_d),
                    ] {
                        w.vs_reference = w.vs_reference.max(assert_close(
                            &format!("{ctx}: batched {what} vs f64 reference"),
                            got,
                            ex,
                            scale,
                            natural_tol::<T>(),
                        ));
                    }
                    let d_l = (got_l[0] - single_l[0]).abs();
                    let d_d = got_d
                        .iter()
                        .zip(&single_d)
                        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
                    let vs_single = (d_l / (eps * scale_l)).max(d_d / (eps * scale_d));
                    assert!(
                        vs_single <= VS_SINGLE_NATURAL,
                        "{ctx}: batch vs input_grad differ by {vs_single:.3} ε × natural scale\n batch:  {got_l:?} {got_d:?}\n single: {single_l:?} {single_d:?}"
                    );
                    w.vs_single = w.vs_single.max(vs_single);
                    if matches!(ts[s], Target::Class(_))
                        && matches!(regime, Regime::Normal | Regime::Tiny)
                    {
                        let strict = (d_l / (eps * strict_loss_scale(exact.loss)))
                            .max(d_d / (eps * strict_grad_scale(&exact.x)));
                        assert!(
                            strict <= VS_SINGLE_CLASS_STRICT,
                            "{ctx}: batch vs input_grad differ by {strict:.3} ε × strict scale\n batch:  {got_l:?} {got_d:?}\n single: {single_l:?} {single_d:?}"
                        );
                        w.vs_single_class_strict = w.vs_single_class_strict.max(strict);
                    }
                }
            }
        }
    }
    w
}

/// Runs `$f::<IN, HID, OUT, $t>(seed_base)` for every test shape and prints
/// what it returns (`cargo test -- --nocapture` shows it).
macro_rules! for_shapes {
    ($f:ident, $t:ty) => {{
        let results = [
            ("5→3→5", format!("{:?}", $f::<5, 3, 5, $t>(10_000))),
            ("1→1→2", format!("{:?}", $f::<1, 1, 2, $t>(20_000))),
            ("7→9→3", format!("{:?}", $f::<7, 9, 3, $t>(30_000))),
            ("16→8→4", format!("{:?}", $f::<16, 8, 4, $t>(40_000))),
            ("33→17→9", format!("{:?}", $f::<33, 17, 9, $t>(50_000))),
        ];
        for (shape, worst) in results {
            println!("{} {} {shape}: {worst}", stringify!($f), stringify!($t));
        }
    }};
}

/// `lanes` is the block length of every shape `for_shapes!` runs: each
/// is small enough for the widest blocks (two registers' worth of lanes
/// on AVX-512 builds, see `Mlp::BATCH_LANES`), so the batch sizes around
/// one block meet a full block and a partial one.
fn takes_the_widest_blocks<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    _seed: u64,
) -> usize {
    let block = Mlp::<IN, HID, OUT, T>::BATCH_LANES;
    assert_eq!(block, lanes::<T>(), "{IN}→{HID}→{OUT} {}", T::NAME);
    block
}

#[test]
fn the_shapes_here_take_the_widest_blocks() {
    for_shapes!(takes_the_widest_blocks, f32);
    for_shapes!(takes_the_widest_blocks, f64);
}

#[test]
fn input_grad_batch_matches_reference_and_single_sample_f32() {
    for_shapes!(check_input_grad_batch, f32);
}

#[test]
fn input_grad_batch_matches_reference_and_single_sample_f64() {
    for_shapes!(check_input_grad_batch, f64);
}

/// The parts of a [`RefGrads`], loss first, as `(name, values)`.
fn all_parts(g: &RefGrads) -> [(&'static str, Vec<f64>); 6] {
    [
        ("L", vec![g.loss]),
        ("dL/dx", g.x.clone()),
        ("dL/dW1", g.w1.clone()),
        ("dL/db1", g.b1.clone()),
        ("dL/dW2", g.w2.clone()),
        ("dL/db2", g.b2.clone()),
    ]
}

/// `grads_batch` with both reductions against the per-sample `grads` and the
/// `f64` reference, for every regime, target kind and batch size. Returns the
/// worst error against the reference sum, as a fraction of its budget.
fn check_grads_batch<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    seed_base: u64,
) -> f64 {
    let eps = T::EPSILON.to_f64();
    let mut worst = 0.0f64;
    for (ri, regime) in Regime::ALL.into_iter().enumerate() {
        for (ki, kind) in KINDS.into_iter().enumerate() {
            for n in batch_sizes::<T>()
                .into_iter()
                .filter(|&n| runs(n, regime, kind))
            {
                let seed = seed_base + 100 * ri as u64 + 10 * ki as u64 + n as u64;
                let ctx = format!(
                    "{IN}→{HID}→{OUT} {} {regime:?} {kind:?} n={n} seed {seed}",
                    T::NAME
                );
                let mut r = rng(seed);
                let (mlp, _) = random_case::<IN, HID, OUT, T>(&mut r, regime);
                let (xs, ts) = batch::<IN, OUT, T>(&mut r, n, kind, regime);
                let mut losses = vec![T::NAN; n];
                let mut dxs = vec![RowVec::<IN, T>::splat(T::NAN); n];
                // Pre-filled with NaN: every entry must be overwritten.
                let mut sum = Box::new(nan_grads::<IN, HID, OUT, T>());
                mlp.grads_batch(&xs, &ts, Reduction::Sum, &mut losses, &mut dxs, &mut sum)
                    .expect("equal lengths");
                let mut mean = Box::new(nan_grads::<IN, HID, OUT, T>());
                let (mut losses_m, mut dxs_m) =
                    (vec![T::NAN; n], vec![RowVec::<IN, T>::splat(T::NAN); n]);
                mlp.grads_batch(
                    &xs,
                    &ts,
                    Reduction::Mean,
                    &mut losses_m,
                    &mut dxs_m,
                    &mut mean,
                )
                .expect("equal lengths");
                assert!(
                    bits_eq(&losses, &losses_m),
                    "{ctx}: per-sample losses depend on the reduction"
                );
                assert_eq!(
                    dxs, dxs_m,
                    "{ctx}: per-sample dL/dx depend on the reduction"
                );

                // The per-sample outputs are those of the batched kernel.
                let (mut losses_b, mut dxs_b) =
                    (vec![T::NAN; n], vec![RowVec::<IN, T>::splat(T::NAN); n]);
                mlp.input_grad_batch(&xs, &ts, &mut losses_b, &mut dxs_b)
                    .expect("equal lengths");
                assert!(
                    bits_eq(&losses, &losses_b),
                    "{ctx}: per-sample losses differ from input_grad_batch"
                );
                assert_eq!(
                    dxs, dxs_b,
                    "{ctx}: per-sample dL/dx differ from input_grad_batch"
                );

                // References: per-sample f64 gradients and their rounding
                // magnitudes, and the crate's one-sample grads.
                let net = RefNet::from_mlp(&mlp);
                let (sum_w, mean_w) = (widen_grads(&sum), widen_grads(&mean));
                let parts_got = all_parts(&sum_w);
                let parts_mean = all_parts(&mean_w);
                let mut ref_sum: Vec<Vec<f64>> =
                    parts_got.iter().map(|(_, v)| vec![0.0; v.len()]).collect();
                let mut abs_sum = ref_sum.clone();
                let mut budget = ref_sum.clone();
                let mut crate_sum = ref_sum.clone();
                let mut crate_abs = ref_sum.clone();
                let mut vs_single = ref_sum.clone();
                for s in 0..n {
                    let (xf, y) = (to_f64(xs[s].as_slice()), target_row(&ts[s]));
                    let exact = net.grads(&xf, &y);
                    let mag = net.rounding_magnitudes(&xf, &y).grads;
                    let single = widen_grads(&mlp.grads(&xs[s], &ts[s]));
                    for (p, (((_, e), (_, m)), (_, c))) in all_parts(&exact)
                        .iter()
                        .zip(all_parts(&mag).iter())
                        .zip(all_parts(&single).iter())
                        .enumerate()
                    {
                        let scale = natural_scale(e, m);
                        for i in 0..e.len() {
                            ref_sum[p][i] += e[i];
                            abs_sum[p][i] += e[i].abs();
                            budget[p][i] += natural_tol::<T>() * scale;
                            crate_sum[p][i] += c[i];
                            crate_abs[p][i] += c[i].abs();
                            vs_single[p][i] += VS_SINGLE_NATURAL * eps * scale;
                        }
                    }
                }
                let nf = n as f64;
                // Rounding in the subnormal range is absolute.
                let tiny = (nf + 1.0) * denorm_min::<T>();
                for (p, ((name, got), (_, got_mean))) in
                    parts_got.iter().zip(&parts_mean).enumerate()
                {
                    for i in 0..got.len() {
                        let what = format!("{ctx}: Sum {name}[{i}]");
                        // Each per-sample term within the kernel's tolerance,
                        // plus the rounding of an n-term running sum.
                        let b = budget[p][i] + (nf + 1.0) * eps * abs_sum[p][i] + tiny;
                        let err = (got[i] - ref_sum[p][i]).abs();
                        assert!(err <= b, "{what}: got {:e}, f64 reference sum {:e}, error {err:e} > budget {b:e}", got[i], ref_sum[p][i]);
                        worst = worst.max(err / b);
                        // Against the sum of the crate's one-sample grads:
                        // each term within the batch-vs-single bound, plus
                        // the rounding of the running sums.
                        let b = vs_single[p][i] + (nf + 1.0) * eps * crate_abs[p][i] + tiny;
                        let err = (got[i] - crate_sum[p][i]).abs();
                        assert!(
                            err <= b,
                            "{what}: got {:e}, Σ per-sample grads {:e}, error {err:e} > {b:e}",
                            got[i],
                            crate_sum[p][i]
                        );
                        // Mean = Sum / n, one rounding (all zero when n = 0).
                        let want = if n == 0 { 0.0 } else { got[i] / nf };
                        assert!(
                            (got_mean[i] - want).abs() <= eps * want.abs() + denorm_min::<T>(),
                            "{ctx}: Mean {name}[{i}] = {:e}, Sum / n = {want:e}",
                            got_mean[i]
                        );
                    }
                }
            }
        }
    }
    worst
}

/// A [`Grads`] with every entry NaN.
fn nan_grads<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
) -> Grads<IN, HID, OUT, T> {
    Grads {
        loss: T::NAN,
        x: RowVec::splat(T::NAN),
        w1: Mat::splat(T::NAN),
        b1: RowVec::splat(T::NAN),
        w2: Mat::splat(T::NAN),
        b2: RowVec::splat(T::NAN),
    }
}

/// Bitwise equality of two slices (NaN-aware, distinguishes ±0).
fn bits_eq<T: Real>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.to_f64().to_bits() == y.to_f64().to_bits())
}

/// `loss_batch`'s promise against `input_grad_batch`: the same bits, or NaN
/// for NaN (which NaN is the compiler's choice: x86 passes on the first
/// operand's, and LLVM may swap an addition's operands).
fn same_loss<T: Real>(a: T, b: T) -> bool {
    bits_eq(&[a], &[b]) || (a.to_f64().is_nan() && b.to_f64().is_nan())
}

/// Bitwise equality of every entry of two [`Grads`].
fn grads_bits_eq<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    a: &Grads<IN, HID, OUT, T>,
    b: &Grads<IN, HID, OUT, T>,
) -> bool {
    bits_eq(&[a.loss], &[b.loss])
        && bits_eq(a.x.as_slice(), b.x.as_slice())
        && bits_eq(a.w1.as_slice(), b.w1.as_slice())
        && bits_eq(a.b1.as_slice(), b.b1.as_slice())
        && bits_eq(a.w2.as_slice(), b.w2.as_slice())
        && bits_eq(a.b2.as_slice(), b.b2.as_slice())
}

#[test]
fn grads_batch_is_the_sum_or_mean_of_per_sample_grads_f32() {
    for_shapes!(check_grads_batch, f32);
}

#[test]
fn grads_batch_is_the_sum_or_mean_of_per_sample_grads_f64() {
    for_shapes!(check_grads_batch, f64);
}

/// `grads_batch`'s parameter gradients (Sum, and Mean × n) against central
/// differences of the `f64` total loss `Σ_n L(x_n, y_n)` over a mixed batch
/// of `2·LANES + 3` samples of a well-scaled network.
fn check_grads_batch_fd<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    seed: u64,
) -> f64 {
    // The step and tolerances of tests/gradients.rs: h = 1e-5·max(1, |p|),
    // so each quotient is good to ~1e-10 absolute; f32 kernels add 1e-6 of
    // the natural scale.
    let fd_tol = if T::NAME == "f32" { 2e-6 } else { 1e-7 };
    let n = 2 * lanes::<T>() + 3;
    let ctx = format!("{IN}→{HID}→{OUT} {} n={n} seed {seed}", T::NAME);
    let mut r = rng(seed);
    let (mlp, _) = random_case::<IN, HID, OUT, T>(&mut r, Regime::Normal);
    let (xs, ts) = batch::<IN, OUT, T>(&mut r, n, Kind::Mixed, Regime::Normal);
    let (mut losses, mut dxs) = (vec![T::ZERO; n], vec![RowVec::zeros(); n]);
    let mut sum = Box::<Grads<IN, HID, OUT, T>>::default();
    let mut mean = Box::<Grads<IN, HID, OUT, T>>::default();
    mlp.grads_batch(&xs, &ts, Reduction::Sum, &mut losses, &mut dxs, &mut sum)
        .expect("equal lengths");
    mlp.grads_batch(&xs, &ts, Reduction::Mean, &mut losses, &mut dxs, &mut mean)
        .expect("equal lengths");

    let xf: Vec<Vec<f64>> = xs.iter().map(|x| to_f64(x.as_slice())).collect();
    let ys: Vec<Vec<f64>> = ts.iter().map(target_row).collect();
    let net = RefNet::from_mlp(&mlp);
    let total = |net: &RefNet| -> f64 { xf.iter().zip(&ys).map(|(x, y)| net.loss(x, y)).sum() };
    let l_total = total(&net);
    let fd = |pick: fn(&mut RefNet) -> &mut Vec<f64>| -> Vec<f64> {
        let mut net = net.clone();
        let len = pick(&mut net).len();
        (0..len)
            .map(|i| {
                let p = pick(&mut net)[i];
                let h = 1e-5 * p.abs().max(1.0);
                pick(&mut net)[i] = p + h;
                let hi = total(&net);
                pick(&mut net)[i] = p - h;
                let lo = total(&net);
                pick(&mut net)[i] = p;
                (hi - lo) / ((p + h) - (p - h))
            })
            .collect()
    };
    let exact = [
        ("dL/dW1", fd(|n| &mut n.w1)),
        ("dL/db1", fd(|n| &mut n.b1)),
        ("dL/dW2", fd(|n| &mut n.w2)),
        ("dL/db2", fd(|n| &mut n.b2)),
    ];
    let got_sum = [
        sum.w1.as_slice(),
        sum.b1.as_slice(),
        sum.w2.as_slice(),
        sum.b2.as_slice(),
    ];
    let got_mean = [
        mean.w1.as_slice(),
        mean.b1.as_slice(),
        mean.w2.as_slice(),
        mean.b2.as_slice(),
    ];
    // Natural scale of a summed gradient: Σ_n of the per-sample natural
    // scales, floored by the differences' resolution 1e-3·max(1, L_total).
    let mut scales = [0.0f64; 4];
    for (x, y) in xf.iter().zip(&ys) {
        let e = net.grads(x, y);
        let m = net.rounding_magnitudes(x, y).grads;
        for (sc, ((_, ev), (_, mv))) in scales.iter_mut().zip(
            e.parts()
                .into_iter()
                .skip(1)
                .zip(m.parts().into_iter().skip(1)),
        ) {
            *sc += natural_scale(ev, mv);
        }
    }
    let mut worst = 0.0f64;
    for (((name, ex), (gs, gm)), sc) in exact.iter().zip(got_sum.iter().zip(&got_mean)).zip(scales)
    {
        let scale = sc.max(1e-3 * l_total.abs().max(1.0));
        worst = worst.max(assert_close(
            &format!("{ctx}: Sum {name} vs finite differences"),
            &to_f64(gs),
            ex,
            scale,
            fd_tol,
        ));
        let mean_times_n: Vec<f64> = to_f64(gm).iter().map(|v| v * n as f64).collect();
        worst = worst.max(assert_close(
            &format!("{ctx}: Mean·n {name} vs finite differences"),
            &mean_times_n,
            ex,
            scale,
            fd_tol,
        ));
    }
    // The summed loss too.
    assert_close(
        &format!("{ctx}: Sum L"),
        &[sum.loss.to_f64()],
        &[l_total],
        strict_loss_scale(l_total),
        fd_tol,
    );
    worst
}

#[test]
fn grads_batch_matches_finite_differences_of_the_total_loss_f32() {
    for_shapes!(check_grads_batch_fd, f32);
}

#[test]
fn grads_batch_matches_finite_differences_of_the_total_loss_f64() {
    for_shapes!(check_grads_batch_fd, f64);
}

/// Every way of passing slices of the wrong length to the batched calls:
/// `Error::BatchLength` naming the argument, and no output written.
fn check_length_errors<T: Real>() {
    type M<T> = Mlp<5, 3, 5, T>;
    let mut r = rng(7);
    let (mlp, _): (M<T>, _) = random_case(&mut r, Regime::Normal);
    let n = 5;
    let (xs, ts) = batch::<5, 5, T>(&mut r, n, Kind::Mixed, Regime::Normal);
    let sentinel = T::from_f64(7.25);
    for (argument, len) in [
        ("targets", n - 1),
        ("targets", n + 1),
        ("losses", n - 1),
        ("losses", n + 1),
        ("dxs", n - 1),
        ("dxs", n + 1),
    ] {
        let t_len = if argument == "targets" { len } else { n };
        let l_len = if argument == "losses" { len } else { n };
        let d_len = if argument == "dxs" { len } else { n };
        let ts_arg: Vec<Target<5, T>> = ts.iter().copied().cycle().take(t_len).collect();
        let want = Err(Error::BatchLength {
            argument,
            expected: n,
            got: len,
        });
        let untouched = |losses: &[T], dxs: &[RowVec<5, T>]| {
            losses.iter().all(|v| v.to_f64() == sentinel.to_f64())
                && dxs
                    .iter()
                    .all(|d| d.as_slice().iter().all(|v| v.to_f64() == sentinel.to_f64()))
        };

        let (mut losses, mut dxs) = (vec![sentinel; l_len], vec![RowVec::splat(sentinel); d_len]);
        assert_eq!(
            mlp.input_grad_batch(&xs, &ts_arg, &mut losses, &mut dxs),
            want,
            "input_grad_batch {argument} {len}"
        );
        assert!(
            untouched(&losses, &dxs),
            "input_grad_batch wrote outputs on a length error ({argument} {len})"
        );

        if argument != "dxs" {
            let mut losses = vec![sentinel; l_len];
            assert_eq!(
                mlp.loss_batch(&xs, &ts_arg, &mut losses),
                want,
                "loss_batch {argument} {len}"
            );
            assert!(
                untouched(&losses, &[]),
                "loss_batch wrote losses on a length error ({argument} {len})"
            );
        }

        for reduction in [Reduction::Sum, Reduction::Mean] {
            let (mut losses, mut dxs) =
                (vec![sentinel; l_len], vec![RowVec::splat(sentinel); d_len]);
            let mut g = Grads {
                loss: sentinel,
                ..Grads::<5, 3, 5, T>::default()
            };
            g.w1 = Mat::splat(sentinel);
            let before = g;
            assert_eq!(
                mlp.grads_batch(&xs, &ts_arg, reduction, &mut losses, &mut dxs, &mut g),
                want,
                "grads_batch {reduction:?} {argument} {len}"
            );
            assert!(
                untouched(&losses, &dxs),
                "grads_batch wrote outputs on a length error ({argument} {len})"
            );
            assert_eq!(
                g, before,
                "grads_batch wrote grads on a length error ({argument} {len})"
            );
        }
    }
    // An empty xs with a non-empty target slice.
    let (mut losses, mut dxs): (Vec<T>, Vec<RowVec<5, T>>) = (Vec::new(), Vec::new());
    assert_eq!(
        mlp.input_grad_batch(&[], &ts[..1], &mut losses, &mut dxs),
        Err(Error::BatchLength {
            argument: "targets",
            expected: 0,
            got: 1
        })
    );
}

#[test]
fn batch_length_mismatch_is_an_error_and_writes_nothing() {
    check_length_errors::<f32>();
    check_length_errors::<f64>();
}

/// Targets holding a NaN (the fuzzer's case: a probability row with a NaN
/// of payload `0x7fffffbf` in a partial block): `loss_batch` gives NaN
/// exactly where `input_grad_batch` does, and the other losses bit for bit
/// ([`same_loss`]).
#[test]
fn loss_batch_is_nan_where_input_grad_batch_is() {
    let mut r = rng(9);
    let (mlp, _) = random_case::<5, 3, 5, f32>(&mut r, Regime::Normal);
    for n in [4, 17, 40] {
        let (xs, mut ts) = batch::<5, 5, f32>(&mut r, n, Kind::Mixed, Regime::Normal);
        for (s, t) in ts.iter_mut().enumerate().filter(|(s, _)| s % 3 == 1) {
            let mut y = [0.25f32, 28.07, -8.9e10, -2.6e4, 2.4e11];
            y[s % 5] = f32::from_bits(0x7fff_ffbf);
            *t = Target::probs(y);
        }
        let (mut losses, mut dxs) = (vec![0.0f32; n], vec![RowVec::zeros(); n]);
        mlp.input_grad_batch(&xs, &ts, &mut losses, &mut dxs)
            .expect("equal lengths");
        let mut loss_only = vec![0.5f32; n];
        mlp.loss_batch(&xs, &ts, &mut loss_only)
            .expect("equal lengths");
        assert!(
            losses.iter().any(|l| l.is_nan()),
            "n={n}: no NaN to compare"
        );
        for (s, (a, b)) in loss_only.iter().zip(&losses).enumerate() {
            assert!(
                same_loss(*a, *b),
                "n={n} sample {s}: loss_batch {a:e}, input_grad_batch {b:e}"
            );
        }
    }
}

/// The empty batch: `Ok`, all-zero gradients for both reductions (also
/// overwriting whatever `grads` held).
#[test]
fn empty_batch_gives_zero_gradients() {
    let mut r = rng(8);
    let (mlp, _) = random_case::<7, 9, 3, f32>(&mut r, Regime::Normal);
    for reduction in [Reduction::Sum, Reduction::Mean] {
        let mut g = nan_grads::<7, 9, 3, f32>();
        mlp.grads_batch(&[], &[], reduction, &mut [], &mut [], &mut g)
            .expect("empty is fine");
        assert!(grads_bits_eq(&g, &Grads::default()), "{reduction:?}: {g:?}");
    }
}

/// A [`Grads`] with every entry uniform in `[−1, 1]`.
fn random_grads<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    r: &mut StdRng,
) -> Grads<IN, HID, OUT, T> {
    Grads {
        loss: T::from_f64(r.gen_range(0.0..2.0)),
        x: uniform_mat(r, 1.0),
        w1: uniform_mat(r, 1.0),
        b1: uniform_mat(r, 1.0),
        w2: uniform_mat(r, 1.0),
        b2: uniform_mat(r, 1.0),
    }
}

/// `(W1, b1, W2, b2)` of a network, widened to `f64`.
fn params<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    m: &Mlp<IN, HID, OUT, T>,
) -> [Vec<f64>; 4] {
    [
        to_f64(m.w1().as_slice()),
        to_f64(m.b1().as_slice()),
        to_f64(m.w2().as_slice()),
        to_f64(m.b2().as_slice()),
    ]
}

/// `(dW1, db1, dW2, db2)` of a [`Grads`], widened to `f64`.
fn param_grads<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    g: &Grads<IN, HID, OUT, T>,
) -> [Vec<f64>; 4] {
    [
        to_f64(g.w1.as_slice()),
        to_f64(g.b1.as_slice()),
        to_f64(g.w2.as_slice()),
        to_f64(g.b2.as_slice()),
    ]
}

/// After an update, the network computes exactly what a network built from
/// scratch with the same parameters computes (the transposed copies the
/// kernels read were refreshed).
fn assert_consistent<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    m: &Mlp<IN, HID, OUT, T>,
    r: &mut StdRng,
    ctx: &str,
) {
    let fresh = Mlp::new(*m.w1(), *m.b1(), *m.w2(), *m.b2());
    for _ in 0..4 {
        let x: RowVec<IN, T> = uniform_mat(r, 1.0);
        for t in [class_target(r), soft_target(r, 1.0)] {
            assert_eq!(
                m.grads(&x, &t),
                fresh.grads(&x, &t),
                "{ctx}: stale transposes after an update"
            );
        }
    }
}

fn check_sgd_step<const IN: usize, const HID: usize, const OUT: usize, T: Real>(seed: u64) {
    let eps = T::EPSILON.to_f64();
    let mut r = rng(seed);
    let (mut mlp, _) = random_case::<IN, HID, OUT, T>(&mut r, Regime::Normal);
    let g = random_grads::<IN, HID, OUT, T>(&mut r);
    let lr = T::from_f64(0.37);
    let before = params(&mlp);
    mlp.sgd_step(&g, lr);
    let after = params(&mlp);
    let ctx = format!("sgd_step {IN}→{HID}→{OUT} {} seed {seed}", T::NAME);
    for (((p0, p1), gr), name) in before
        .iter()
        .zip(&after)
        .zip(param_grads(&g))
        .zip(["W1", "b1", "W2", "b2"])
    {
        for i in 0..p0.len() {
            // p − η·g in f64 is exact for f32 operands up to one rounding;
            // the crate may round η·g and the difference (two roundings).
            let step = lr.to_f64() * gr[i];
            let want = p0[i] - step;
            let bound = 2.0 * eps * (p0[i].abs() + step.abs());
            assert!(
                (p1[i] - want).abs() <= bound,
                "{ctx}: {name}[{i}] = {:e}, want {want:e} (p {:e}, g {:e})",
                p1[i],
                p0[i],
                gr[i]
            );
        }
    }
    assert_consistent(&mlp, &mut r, &ctx);
    // A zero learning rate leaves every parameter bit for bit.
    let frozen = mlp;
    mlp.sgd_step(&g, T::ZERO);
    assert_eq!(mlp, frozen, "{ctx}: η = 0 moved the parameters");
}

#[test]
fn sgd_step_moves_parameters_by_minus_lr_times_gradient() {
    check_sgd_step::<5, 3, 5, f32>(1);
    check_sgd_step::<33, 17, 9, f32>(2);
    check_sgd_step::<5, 3, 5, f64>(3);
    check_sgd_step::<33, 17, 9, f64>(4);
}

fn check_momentum<const IN: usize, const HID: usize, const OUT: usize, T: Real>(seed: u64) {
    let eps = T::EPSILON.to_f64();
    let mut r = rng(seed);
    let (mut mlp, _) = random_case::<IN, HID, OUT, T>(&mut r, Regime::Normal);
    let (g1, g2) = (
        random_grads::<IN, HID, OUT, T>(&mut r),
        random_grads::<IN, HID, OUT, T>(&mut r),
    );
    let (beta, lr) = (0.9, 0.05);
    let p0 = params(&mlp);
    let mut opt = Momentum::new(T::from_f64(beta));
    opt.step(&mut mlp, &g1, T::from_f64(lr));
    opt.step(&mut mlp, &g2, T::from_f64(lr));
    let ctx = format!("Momentum {IN}→{HID}→{OUT} {} seed {seed}", T::NAME);
    // By hand, in f64: v1 = g1, p1 = p0 − η·v1, v2 = β·v1 + g2, p2 = p1 − η·v2.
    let (beta, lr) = (T::from_f64(beta).to_f64(), T::from_f64(lr).to_f64());
    let (p2, v2) = (params(&mlp), param_grads(opt.velocity()));
    for (b, name) in (0..4).zip(["W1", "b1", "W2", "b2"]) {
        let (a1, a2) = (&param_grads(&g1)[b], &param_grads(&g2)[b]);
        for i in 0..p0[b].len() {
            let v1 = a1[i];
            let p1 = p0[b][i] - lr * v1;
            let v2_want = beta * v1 + a2[i];
            let p2_want = p1 - lr * v2_want;
            let v_bound = 2.0 * eps * (beta * v1.abs() + a2[i].abs());
            assert!(
                (v2[b][i] - v2_want).abs() <= v_bound,
                "{ctx}: velocity {name}[{i}] = {:e}, want {v2_want:e}",
                v2[b][i]
            );
            let p_bound = 4.0 * eps * (p0[b][i].abs() + lr * v1.abs() + lr * v2_want.abs());
            assert!(
                (p2[b][i] - p2_want).abs() <= p_bound,
                "{ctx}: {name}[{i}] = {:e}, want {p2_want:e}",
                p2[b][i]
            );
        }
    }
    assert_consistent(&mlp, &mut r, &ctx);
}

#[test]
fn momentum_follows_the_two_step_recurrence() {
    check_momentum::<5, 3, 5, f32>(11);
    check_momentum::<33, 17, 9, f32>(12);
    check_momentum::<5, 3, 5, f64>(13);
    check_momentum::<33, 17, 9, f64>(14);
}

#[test]
fn momentum_with_zero_beta_is_plain_sgd() {
    let mut r = rng(21);
    let (mut a, _) = random_case::<7, 9, 3, f32>(&mut r, Regime::Normal);
    let mut b = a;
    let mut opt = Momentum::new(0.0);
    for _ in 0..3 {
        let g = random_grads::<7, 9, 3, f32>(&mut r);
        opt.step(&mut a, &g, 0.1);
        b.sgd_step(&g, 0.1);
        assert_eq!(a, b);
    }
}

#[test]
fn grads_add_assign_adds_entrywise_and_clear_zeroes() {
    let mut r = rng(31);
    let (a, b) = (
        random_grads::<7, 9, 3, f64>(&mut r),
        random_grads::<7, 9, 3, f64>(&mut r),
    );
    let mut c = a;
    c.add_assign(&b);
    let (wa, wb, wc) = (widen_grads(&a), widen_grads(&b), widen_grads(&c));
    for (((name, pa), (_, pb)), (_, pc)) in all_parts(&wa)
        .iter()
        .zip(all_parts(&wb).iter())
        .zip(all_parts(&wc).iter())
    {
        for i in 0..pa.len() {
            assert_eq!(pc[i], pa[i] + pb[i], "{name}[{i}]");
        }
    }
    c.clear();
    assert!(grads_bits_eq(&c, &Grads::default()));
}

#[cfg(feature = "rayon")]
mod par {
    //! The rayon entry points (`--features rayon`).

    use super::*;
    use constgrad::PAR_PARTS_MAX;

    /// Batch sizes for `par_grads_batch`: zero, one, just short of and just
    /// enough for two parts, a ragged split, and more samples than the most
    /// parts hold at their smallest (so parts grow past the minimum).
    fn par_sizes<const IN: usize, const HID: usize, const OUT: usize, T: Real>() -> [usize; 7] {
        let min = Mlp::<IN, HID, OUT, T>::PAR_GRADS_PART_SAMPLES;
        [
            0,
            1,
            2 * min - 1,
            2 * min,
            2 * min + 1,
            5 * min + 3 * lanes::<T>() + 1,
            PAR_PARTS_MAX * min + 5 * lanes::<T>() + 3,
        ]
    }

    /// Batch sizes for `par_input_grad_batch`: too small to split, just
    /// enough for two parts, a ragged split, and more samples than the
    /// most parts hold at their smallest (so parts grow past the minimum).
    fn par_input_sizes<const IN: usize, const HID: usize, const OUT: usize, T: Real>() -> [usize; 6]
    {
        let min = Mlp::<IN, HID, OUT, T>::PAR_PART_SAMPLES;
        [
            0,
            1,
            2 * min - 1,
            2 * min,
            5 * min + 3 * lanes::<T>() + 1,
            PAR_PARTS_MAX * min + 5 * lanes::<T>() + 3,
        ]
    }

    fn pool(threads: usize) -> rayon::ThreadPool {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("thread pool")
    }

    fn check_par_input_grad_batch<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
        seed_base: u64,
    ) {
        for kind in KINDS {
            for n in par_input_sizes::<IN, HID, OUT, T>() {
                let seed = seed_base + n as u64;
                let mut r = rng(seed);
                let (mlp, _) = random_case::<IN, HID, OUT, T>(&mut r, Regime::Normal);
                let (xs, ts) = batch::<IN, OUT, T>(&mut r, n, kind, Regime::Normal);
                let (mut l1, mut d1) = (vec![T::NAN; n], vec![RowVec::splat(T::NAN); n]);
                mlp.input_grad_batch(&xs, &ts, &mut l1, &mut d1)
                    .expect("equal lengths");
                let mut l0 = vec![T::NAN; n];
                mlp.loss_batch(&xs, &ts, &mut l0).expect("equal lengths");
                // 0: called from outside any pool (the global pool; the
                // caller claims parts beside the pool's threads); else from
                // inside a pool of that many threads (70: more threads than
                // cores, and more than the most parts).
                for threads in [0, 1, 2, 3, 70] {
                    let (mut l2, mut d2) = (vec![T::NAN; n], vec![RowVec::splat(T::NAN); n]);
                    let mut l3 = vec![T::NAN; n];
                    let mut run = || {
                        mlp.par_input_grad_batch(&xs, &ts, &mut l2, &mut d2)?;
                        mlp.par_loss_batch(&xs, &ts, &mut l3)
                    };
                    if threads == 0 {
                        run()
                    } else {
                        pool(threads).install(run)
                    }
                    .expect("equal lengths");
                    let ctx = format!(
                        "{IN}→{HID}→{OUT} {} {kind:?} n={n} seed {seed} threads {threads}",
                        T::NAME
                    );
                    assert!(bits_eq(&l1, &l2), "{ctx}: losses differ");
                    assert!(
                        bits_eq(&l0, &l3),
                        "{ctx}: par_loss_batch differs from loss_batch"
                    );
                    for (s, (a, b)) in d1.iter().zip(&d2).enumerate() {
                        assert!(
                            bits_eq(a.as_slice(), b.as_slice()),
                            "{ctx}: dL/dx of sample {s} differs"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn par_input_grad_batch_and_par_loss_batch_are_bit_identical_to_the_sequential_calls() {
        check_par_input_grad_batch::<5, 3, 5, f32>(1000);
        check_par_input_grad_batch::<33, 17, 9, f32>(2000);
        check_par_input_grad_batch::<5, 3, 5, f64>(3000);
        check_par_input_grad_batch::<33, 17, 9, f64>(4000);
    }

    fn check_par_grads_batch<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
        seed_base: u64,
    ) {
        let eps = T::EPSILON.to_f64();
        for reduction in [Reduction::Sum, Reduction::Mean] {
            for n in par_sizes::<IN, HID, OUT, T>() {
                let seed = seed_base + n as u64;
                let ctx = format!(
                    "{IN}→{HID}→{OUT} {} {reduction:?} n={n} seed {seed}",
                    T::NAME
                );
                let mut r = rng(seed);
                let (mlp, _) = random_case::<IN, HID, OUT, T>(&mut r, Regime::Normal);
                let (xs, ts) = batch::<IN, OUT, T>(&mut r, n, Kind::Mixed, Regime::Normal);
                let (mut ls, mut ds) = (vec![T::NAN; n], vec![RowVec::splat(T::NAN); n]);
                let mut seq = Box::new(nan_grads::<IN, HID, OUT, T>());
                mlp.grads_batch(&xs, &ts, reduction, &mut ls, &mut ds, &mut seq)
                    .expect("equal lengths");
                let mut runs = Vec::new();
                for threads in [1, 2, 3] {
                    let (mut lp, mut dp) = (vec![T::NAN; n], vec![RowVec::splat(T::NAN); n]);
                    let mut g = Box::new(nan_grads::<IN, HID, OUT, T>());
                    pool(threads)
                        .install(|| {
                            mlp.par_grads_batch(&xs, &ts, reduction, &mut lp, &mut dp, &mut g)
                        })
                        .expect("equal lengths");
                    assert!(
                        bits_eq(&ls, &lp),
                        "{ctx} threads {threads}: per-sample losses differ from grads_batch"
                    );
                    assert_eq!(
                        ds, dp,
                        "{ctx} threads {threads}: per-sample dL/dx differ from grads_batch"
                    );
                    runs.push((threads, g));
                }
                for (threads, g) in &runs[1..] {
                    assert!(
                        grads_bits_eq(&runs[0].1, g),
                        "{ctx}: 1 thread and {threads} threads differ"
                    );
                }
                // Within rounding of the sequential sum: both add the same n
                // terms, in different orders.
                let scale = if reduction == Reduction::Mean {
                    n.max(1) as f64
                } else {
                    1.0
                };
                let mut abs =
                    all_parts(&widen_grads(&Grads::<IN, HID, OUT, T>::default())).map(|(_, v)| v);
                for s in 0..n {
                    let g = widen_grads(&mlp.grads(&xs[s], &ts[s]));
                    for (a, (_, v)) in abs.iter_mut().zip(all_parts(&g)) {
                        for (ai, vi) in a.iter_mut().zip(v) {
                            *ai += vi.abs() / scale;
                        }
                    }
                }
                let (par, seq) = (
                    all_parts(&widen_grads(&runs[0].1)),
                    all_parts(&widen_grads(&seq)),
                );
                for (((name, p), (_, q)), a) in par.iter().zip(&seq).zip(&abs) {
                    for i in 0..p.len() {
                        let bound = 2.0 * (n as f64 + 1.0) * (eps * a[i] + denorm_min::<T>());
                        assert!(
                            (p[i] - q[i]).abs() <= bound,
                            "{ctx}: {name}[{i}] par {:e} vs seq {:e}",
                            p[i],
                            q[i]
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn par_grads_batch_is_deterministic_across_thread_counts_and_close_to_grads_batch() {
        check_par_grads_batch::<5, 3, 5, f32>(5000);
        check_par_grads_batch::<16, 8, 4, f32>(6000);
        check_par_grads_batch::<5, 3, 5, f64>(7000);
        check_par_grads_batch::<16, 8, 4, f64>(8000);
    }

    #[test]
    fn par_batch_length_mismatch_is_an_error_and_writes_nothing() {
        let mut r = rng(9);
        let (mlp, _) = random_case::<5, 3, 5, f32>(&mut r, Regime::Normal);
        let n = 2 * Mlp::<5, 3, 5, f32>::PAR_GRADS_PART_SAMPLES + 1;
        let (xs, ts) = batch::<5, 5, f32>(&mut r, n, Kind::Class, Regime::Normal);
        let want = Err(Error::BatchLength {
            argument: "dxs",
            expected: n,
            got: n - 1,
        });
        let (mut ls, mut ds) = (vec![7.25f32; n], vec![RowVec::splat(7.25f32); n - 1]);
        assert_eq!(mlp.par_input_grad_batch(&xs, &ts, &mut ls, &mut ds), want);
        let mut g = nan_grads::<5, 3, 5, f32>();
        assert_eq!(
            mlp.par_grads_batch(&xs, &ts, Reduction::Sum, &mut ls, &mut ds, &mut g),
            want
        );
        let mut short = vec![7.25f32; n - 1];
        assert_eq!(
            mlp.par_loss_batch(&xs, &ts, &mut short),
            Err(Error::BatchLength {
                argument: "losses",
                expected: n,
                got: n - 1
            })
        );
        assert_eq!(
            mlp.par_loss_batch(&xs, &ts[1..], &mut ls),
            Err(Error::BatchLength {
                argument: "targets",
                expected: n,
                got: n - 1
            })
        );
        assert!(
            short.iter().all(|&v| v == 7.25),
            "losses written on a length error"
        );
        assert!(
            ls.iter().all(|&v| v == 7.25)
                && ds.iter().all(|d| d.as_slice().iter().all(|&v| v == 7.25))
        );
        assert!(
            g.w1.as_slice().iter().all(|v| v.is_nan()),
            "grads written on a length error"
        );
    }
}
