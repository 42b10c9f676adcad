//! Single-sample benchmarks: the seed network 5→3→5 (`input_grad`, `loss`
//! and `grads`, with class labels and with soft targets) and 784→128→10
//! (`input_grad`), constgrad beside the plain scalar and nalgebra baselines
//! in the same criterion group.
//!
//! Every baseline is checked against constgrad before it is timed
//! (`support::check::validate`). Inputs rotate through a seeded pool, one
//! sample per iteration; the network reference, the input and the target
//! pass through `black_box`, and so does the result.

mod support;

use std::hint::black_box;

use constgrad::{Mlp, RowVec, Target};
use criterion::{criterion_group, criterion_main, Criterion};
use nalgebra::SVector;

use support::check::{validate, Trio};
use support::gen::{weights, Pool, Rotor, WEIGHT_SEED};
use support::nalg::NalgMlp;
use support::scalar::ScalarMlp;
use support::target::{BaseTarget, Probs, SMOOTHING};

/// Samples in each single-sample pool (a power of two).
const POOL: usize = 64;
/// Samples in the 784→128→10 pool (16 × 3 KB, so inputs stay in L1/L2).
const POOL_784: usize = 16;

/// One single-sample group: `cg`, `scalar` and `nalg` each call the same
/// method of their network on pool sample `i`, rotated per iteration.
/// [`group!`] writes the three calls from the method's name.
fn one_sample_group<const IN: usize, const HID: usize, const OUT: usize, L, R1, R2, R3>(
    c: &mut Criterion,
    name: &str,
    t: &Trio<'_, IN, HID, OUT>,
    p: &Pool<IN, OUT, L>,
    cg: impl Fn(&Mlp<IN, HID, OUT>, &RowVec<IN>, &Target<OUT>) -> R1,
    scalar: impl Fn(&ScalarMlp<IN, HID, OUT>, &[f32; IN], L) -> R2,
    nalg: impl Fn(&NalgMlp<IN, HID, OUT>, &SVector<f32, IN>, L) -> R3,
) where
    L: BaseTarget<OUT>,
{
    let mut g = c.benchmark_group(name);
    // Results go to `black_box` by reference: by value, each call also
    // copied its result into `black_box`'s argument, a `memmove` of 3 KB
    // for 784→128→10 that took a quarter of nalgebra's samples on Zen 3.
    g.bench_function("constgrad", |b| {
        let mut r = Rotor::new(p.len());
        b.iter(|| {
            let i = r.step();
            let out = cg(
                black_box(t.cg),
                black_box(&p.rows[i]),
                black_box(&p.targets[i]),
            );
            black_box(&out);
        });
    });
    g.bench_function("scalar", |b| {
        let mut r = Rotor::new(p.len());
        b.iter(|| {
            let i = r.step();
            let out = scalar(black_box(t.scalar), black_box(&p.xs[i]), black_box(p.ts[i]));
            black_box(&out);
        });
    });
    g.bench_function("nalgebra", |b| {
        let mut r = Rotor::new(p.len());
        b.iter(|| {
            let i = r.step();
            let out = nalg(black_box(t.nalg), black_box(&p.cols[i]), black_box(p.ts[i]));
            black_box(&out);
        });
    });
    g.finish();
}

/// [`one_sample_group`] timing `method` (`input_grad`, `loss` or `grads`),
/// which the three networks share by name.
macro_rules! group {
    ($c:expr, $name:expr, $t:expr, $p:expr, $method:ident) => {
        one_sample_group(
            $c,
            $name,
            $t,
            $p,
            |m, x, y| m.$method(x, y),
            |m, x, y| m.$method(x, y),
            |m, x, y| m.$method(x, y),
        )
    };
}

/// The seed network, 5→3→5: `input_grad`, `loss` and `grads`, with class
/// labels and then with soft targets.
fn seed(c: &mut Criterion) {
    let w = weights::<5, 3, 5>(WEIGHT_SEED, 2.0);
    let (cg, scalar, nalg) = (w.constgrad(), ScalarMlp::new(&w), NalgMlp::new(&w));
    let t = Trio {
        cg: &cg,
        scalar: &scalar,
        nalg: &nalg,
    };
    let p = Pool::<5, 5, usize>::seeded(POOL, -2.0, 2.0, |l| l);
    validate("seed 5→3→5", &t, &p, POOL, true);
    group!(c, "seed_input_grad", &t, &p, input_grad);
    group!(c, "seed_loss", &t, &p, loss);
    group!(c, "seed_grads", &t, &p, grads);

    // Soft targets on the same inputs: label smoothing, which takes
    // constgrad's probability-row path.
    // (The class pool's targets are its labels.)
    let soft = Pool::new(&p.xs, &p.ts, |l| Probs::smoothed(l, SMOOTHING));
    validate("seed 5→3→5, soft targets", &t, &soft, POOL, true);
    group!(c, "seed_input_grad_soft", &t, &soft, input_grad);
    group!(c, "seed_loss_soft", &t, &soft, loss);
    group!(c, "seed_grads_soft", &t, &soft, grads);
}

/// 784→128→10 (MNIST-sized), one sample: all three networks on the heap.
fn mnist(c: &mut Criterion) {
    let w = weights::<784, 128, 10>(WEIGHT_SEED, 2.0);
    // Each is built on the main thread's stack (≤ 1.2 MB of temporaries
    // against its 8 MB) and moved to the heap.
    let cg = w.constgrad();
    let scalar = ScalarMlp::boxed(&w);
    let nalg = NalgMlp::boxed(&w);
    let t = Trio {
        cg: &cg,
        scalar: &scalar,
        nalg: &nalg,
    };
    // Pixel-like inputs in [0, 1).
    let p = Pool::<784, 10, usize>::seeded(POOL_784, 0.0, 1.0, |l| l);
    validate("784→128→10", &t, &p, POOL_784, false);
    group!(c, "mnist_input_grad", &t, &p, input_grad);
}

criterion_group!(benches, seed, mnist);
criterion_main!(benches);
