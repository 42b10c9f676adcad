//! Batched benchmarks, reported per sample (`Throughput::Elements` = samples):
//! the seed network 5→3→5 on 4096 samples and 784→128→10 on 256 samples.
//!
//! In each group: constgrad's `input_grad_batch` (one sample per SIMD lane),
//! `par_input_grad_batch` when built with `--features rayon`, a loop of
//! constgrad's single-sample `input_grad`, and loops of the plain scalar and
//! nalgebra baselines. The class-label groups add the batched form a
//! nalgebra user would write: four `DMatrix` products (through the
//! `matrixmultiply` SGEMM for 784→128→10; for 5→3→5, whose matrices have
//! no dimension above 5, nalgebra's own loops). The baselines' loops take each class label as a
//! [`OneHot`], compared with every class index rather than used as an
//! index: LLVM then vectorises the scalar and nalgebra loops across samples
//! (16 per `zmm`), which more than doubles their speed on 5→3→5.
//!
//! `seed_batch4096_soft` and `seed_grads_batch4096_soft` are the same
//! 5→3→5 groups on label-smoothed probability rows instead of class labels
//! (constgrad's soft-target path).
//!
//! The `*_grads_*` groups time the parameter-gradient accumulation (loss,
//! `dL/dx` and the sums of `dL/dW1 … dL/db2` over the batch): constgrad's
//! `grads_batch`, `par_grads_batch` with `--features rayon`, a loop of
//! constgrad's one-sample `grads` added up with `Grads::add_assign`, and
//! loops of the baselines accumulating in place (the scalar code with `+=`,
//! nalgebra with `gemv` and rank-1 `ger` updates).
//!
//! `seed_loss_batch4096` and `mnist_loss_batch256` time the loss alone,
//! for evaluating a batch:
//! constgrad's `loss_batch`, `par_loss_batch` with `--features rayon`, a
//! loop of its one-sample `loss`, and loops of the baselines' `loss`.
//!
//! Every entry's outputs are checked against constgrad's single-sample
//! `input_grad` before anything is timed, on every sample of a batch for
//! the `input_grad` entries. Each iteration takes the next of two seeded
//! batches.

mod support;

use std::hint::black_box;

use constgrad::{Error, Grads, Mlp, Reduction, RowVec, Target};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use nalgebra::DMatrix;

use support::check::{
    assert_close, assert_grads_close, validate, validate_batch, Trio, REL, REL_BATCH,
};
use support::gen::{samples, weights, Pool, Rotor, INPUT_SEED, WEIGHT_SEED};
use support::nalg::{NalgGemm, NalgGrads, NalgMlp};
use support::scalar::{ScalarGrads, ScalarMlp};
use support::target::{BaseTarget, OneHot, Probs, SMOOTHING};

/// Batches in each rotating pool (a power of two).
const BATCHES: usize = 2;

/// One batch: its samples in every implementation's type, with the
/// baselines' targets (class labels as [`OneHot`], or [`Probs`]), and its
/// inputs as one matrix for `nalgebra_gemm`.
struct Batch<const IN: usize, const OUT: usize, L> {
    pool: Pool<IN, OUT, L>,
    /// `IN × n`, one column per sample.
    dmat: DMatrix<f32>,
}

/// Two batches of `n` samples, inputs uniform in `lo..hi`, each class
/// label given to the baselines as `target(label)`.
fn batches<const IN: usize, const OUT: usize, L: BaseTarget<OUT>>(
    n: usize,
    lo: f32,
    hi: f32,
    target: impl Fn(usize) -> L,
) -> Vec<Batch<IN, OUT, L>> {
    let all = samples::<IN>(INPUT_SEED, n * BATCHES, OUT, lo, hi);
    all.xs
        .chunks(n)
        .zip(all.labels.chunks(n))
        .map(|(xs, labels)| Batch {
            pool: Pool::new(xs, labels, &target),
            dmat: DMatrix::from_fn(IN, n, |i, s| xs[s][i]),
        })
        .collect()
}

/// Output buffers for one batch of `n`.
struct Out<const IN: usize> {
    losses: Vec<f32>,
    rows: Vec<RowVec<IN>>,
    raw: Vec<[f32; IN]>,
    dmat: DMatrix<f32>,
}

impl<const IN: usize> Out<IN> {
    fn new(n: usize) -> Self {
        Self {
            losses: vec![0.0; n],
            rows: vec![RowVec::zeros(); n],
            raw: vec![[0.0; IN]; n],
            dmat: DMatrix::zeros(IN, n),
        }
    }
}

/// Times `run` as entry `id` of `g`, on the pool's batches in turn, each
/// passed through `black_box`.
fn rotating<B>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    pool: &[B],
    mut run: impl FnMut(&B),
) {
    g.bench_function(id, |bch| {
        let mut r = Rotor::new(pool.len());
        bch.iter(|| run(black_box(&pool[r.step()])));
    });
}

fn rows_as_arrays<const IN: usize>(rows: &[RowVec<IN>]) -> Vec<[f32; IN]> {
    rows.iter().map(|r| *r.row()).collect()
}

/// Runs each entry once on the first batch and checks it against
/// constgrad's single-sample `input_grad`.
fn validate_entries<const IN: usize, const HID: usize, const OUT: usize, L: BaseTarget<OUT>>(
    name: &str,
    t: &Trio<'_, IN, HID, OUT>,
    gemm: Option<&mut NalgGemm>,
    b: &Batch<IN, OUT, L>,
) {
    let n = b.pool.len();
    let mut o = Out::<IN>::new(n);
    t.cg.input_grad_batch(&b.pool.rows, &b.pool.targets, &mut o.losses, &mut o.rows)
        .expect("batch lengths agree");
    let cg_dx = rows_as_arrays(&o.rows);
    validate_batch(
        &format!("{name}: constgrad batch"),
        t.cg,
        &b.pool,
        &o.losses,
        &cg_dx,
        REL,
    );
    #[cfg(feature = "rayon")]
    {
        let mut p = Out::<IN>::new(n);
        t.cg.par_input_grad_batch(&b.pool.rows, &b.pool.targets, &mut p.losses, &mut p.rows)
            .expect("batch lengths agree");
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&p.losses),
            bits(&o.losses),
            "{name}: parallel losses differ from single-threaded"
        );
        assert_eq!(
            bits(rows_as_arrays(&p.rows).as_flattened()),
            bits(cg_dx.as_flattened()),
            "{name}: parallel dL/dx differ from single-threaded"
        );
    }
    validate(name, t, &b.pool, n.min(64), false);
    for (id, run, rel) in input_loops() {
        let mut lo = Out::<IN>::new(n);
        run(t, b, &mut lo);
        validate_batch(
            &format!("{name}: {id}"),
            t.cg,
            &b.pool,
            &lo.losses,
            &lo.raw,
            rel,
        );
    }
    if let Some(gemm) = gemm {
        gemm.input_grad_batch(&b.dmat, &b.pool.ts, &mut o.losses, &mut o.dmat);
        let dx: Vec<[f32; IN]> = o
            .dmat
            .column_iter()
            .map(|c| core::array::from_fn(|i| c[i]))
            .collect();
        validate_batch(
            &format!("{name}: nalgebra_gemm"),
            t.cg,
            &b.pool,
            &o.losses,
            &dx,
            REL,
        );
    }
}

/// One of the one-sample loops over a batch: its losses into
/// `Out::losses` and its `dL/dx` rows into `Out::raw`.
type InputLoop<const IN: usize, const HID: usize, const OUT: usize, L> =
    fn(&Trio<'_, IN, HID, OUT>, &Batch<IN, OUT, L>, &mut Out<IN>);

/// The one-sample loops, each with the agreement with constgrad it must
/// meet on every sample of a batch.
fn input_loops<const IN: usize, const HID: usize, const OUT: usize, L: BaseTarget<OUT>>(
) -> [(&'static str, InputLoop<IN, HID, OUT, L>, f32); 3] {
    [
        ("constgrad_loop", cg_input_loop, REL),
        ("scalar_loop", scalar_input_loop, REL_BATCH),
        ("nalgebra_loop", nalg_input_loop, REL_BATCH),
    ]
}

/// `f` on every sample of the batch (its input in `xs`, its target in
/// `ts`), the losses into `Out::losses` and the `dL/dx` rows into
/// `Out::raw`. Inlined with `f`, the loop is each implementation's own: for
/// the baselines with a [`OneHot`] label it is the loop that LLVM vectorises
/// across samples.
#[inline(always)]
fn each_sample<X, L, const IN: usize>(
    xs: &[X],
    ts: &[L],
    o: &mut Out<IN>,
    f: impl Fn(&X, &L) -> (f32, [f32; IN]),
) {
    let outs = o.losses.iter_mut().zip(o.raw.iter_mut());
    for ((x, tg), (l, d)) in xs.iter().zip(ts).zip(outs) {
        (*l, *d) = f(x, tg);
    }
}

/// constgrad's one-sample `input_grad` over the batch.
fn cg_input_loop<const IN: usize, const HID: usize, const OUT: usize, L>(
    t: &Trio<'_, IN, HID, OUT>,
    b: &Batch<IN, OUT, L>,
    o: &mut Out<IN>,
) {
    each_sample(&b.pool.rows, &b.pool.targets, o, |x, tg| {
        let (loss, dx) = t.cg.input_grad(x, tg);
        (loss, *dx.row())
    });
}

/// The scalar baseline over the batch.
fn scalar_input_loop<const IN: usize, const HID: usize, const OUT: usize, L: BaseTarget<OUT>>(
    t: &Trio<'_, IN, HID, OUT>,
    b: &Batch<IN, OUT, L>,
    o: &mut Out<IN>,
) {
    each_sample(&b.pool.xs, &b.pool.ts, o, |x, &lb| {
        t.scalar.input_grad(x, lb)
    });
}

/// The nalgebra baseline over the batch.
fn nalg_input_loop<const IN: usize, const HID: usize, const OUT: usize, L: BaseTarget<OUT>>(
    t: &Trio<'_, IN, HID, OUT>,
    b: &Batch<IN, OUT, L>,
    o: &mut Out<IN>,
) {
    each_sample(&b.pool.cols, &b.pool.ts, o, |x, &lb| {
        let (loss, dx) = t.nalg.input_grad(x, lb);
        (loss, core::array::from_fn(|i| dx[i]))
    });
}

/// `Mlp::input_grad_batch` or `Mlp::par_input_grad_batch`.
type InputGradBatch<const IN: usize, const HID: usize, const OUT: usize> = fn(
    &Mlp<IN, HID, OUT>,
    &[RowVec<IN>],
    &[Target<OUT>],
    &mut [f32],
    &mut [RowVec<IN>],
) -> Result<(), Error>;

fn batch_group<const IN: usize, const HID: usize, const OUT: usize, L: BaseTarget<OUT>>(
    c: &mut Criterion,
    name: &str,
    t: &Trio<'_, IN, HID, OUT>,
    mut gemm: Option<&mut NalgGemm>,
    pool: &[Batch<IN, OUT, L>],
) {
    let n = pool[0].pool.len();
    validate_entries(name, t, gemm.as_deref_mut(), &pool[0]);
    let mut o = Out::<IN>::new(n);
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(n as u64));
    let entries: &[(&str, InputGradBatch<IN, HID, OUT>)] = &[
        ("constgrad", Mlp::input_grad_batch),
        #[cfg(feature = "rayon")]
        ("constgrad_par", Mlp::par_input_grad_batch),
    ];
    for &(id, input_grad_batch) in entries {
        rotating(&mut g, id, pool, |b| {
            input_grad_batch(
                black_box(t.cg),
                black_box(&b.pool.rows),
                black_box(&b.pool.targets),
                &mut o.losses,
                &mut o.rows,
            )
            .expect("batch lengths agree");
            black_box((&o.losses, &o.rows));
        });
    }
    for (id, run, _) in input_loops() {
        rotating(&mut g, id, pool, |b| {
            run(black_box(t), b, &mut o);
            black_box(&o);
        });
    }
    if let Some(gemm) = gemm {
        rotating(&mut g, "nalgebra_gemm", pool, |b| {
            gemm.input_grad_batch(
                black_box(&b.dmat),
                black_box(&b.pool.ts),
                &mut o.losses,
                &mut o.dmat,
            );
            black_box((&o.losses, &o.dmat));
        });
    }
    g.finish();
}

/// Every implementation's batch sums of the gradients.
struct Sums<const IN: usize, const HID: usize, const OUT: usize> {
    cg: Box<Grads<IN, HID, OUT>>,
    scalar: Box<ScalarGrads<IN, HID, OUT>>,
    nalg: Box<NalgGrads<IN, HID, OUT>>,
}

impl<const IN: usize, const HID: usize, const OUT: usize> Sums<IN, HID, OUT> {
    fn new() -> Self {
        Self {
            cg: Box::default(),
            scalar: Box::new(ScalarGrads::zeros()),
            nalg: Box::new(NalgGrads::zeros()),
        }
    }
}

/// constgrad's one-sample `grads`, added up.
fn cg_grads_loop<const IN: usize, const HID: usize, const OUT: usize, L: BaseTarget<OUT>>(
    t: &Trio<'_, IN, HID, OUT>,
    b: &Batch<IN, OUT, L>,
    o: &mut Out<IN>,
    sum: &mut Grads<IN, HID, OUT>,
) {
    sum.clear();
    let outs = o.losses.iter_mut().zip(o.rows.iter_mut());
    for ((x, tg), (l, d)) in b.pool.rows.iter().zip(&b.pool.targets).zip(outs) {
        let g = t.cg.grads(x, tg);
        (*l, *d) = (g.loss, g.x);
        sum.add_assign(&g);
    }
}

/// The scalar baseline's batch sums.
fn scalar_grads_loop<const IN: usize, const HID: usize, const OUT: usize, L: BaseTarget<OUT>>(
    t: &Trio<'_, IN, HID, OUT>,
    b: &Batch<IN, OUT, L>,
    sum: &mut ScalarGrads<IN, HID, OUT>,
) {
    *sum = ScalarGrads::zeros();
    for (x, &lb) in b.pool.xs.iter().zip(&b.pool.ts) {
        t.scalar.grads_add(x, lb, sum);
    }
}

/// The nalgebra baseline's batch sums.
fn nalg_grads_loop<const IN: usize, const HID: usize, const OUT: usize, L: BaseTarget<OUT>>(
    t: &Trio<'_, IN, HID, OUT>,
    b: &Batch<IN, OUT, L>,
    sum: &mut NalgGrads<IN, HID, OUT>,
) {
    *sum = NalgGrads::zeros();
    for (x, &lb) in b.pool.cols.iter().zip(&b.pool.ts) {
        t.nalg.grads_add(x, lb, sum);
    }
}

/// `Mlp::grads_batch` or `Mlp::par_grads_batch`.
type GradsBatch<const IN: usize, const HID: usize, const OUT: usize> =
    fn(
        &Mlp<IN, HID, OUT>,
        &[RowVec<IN>],
        &[Target<OUT>],
        Reduction,
        &mut [f32],
        &mut [RowVec<IN>],
        &mut Grads<IN, HID, OUT>,
    ) -> Result<(), constgrad::Error>;

/// Batched gradient accumulation (`Reduction::Sum`), after checking every
/// entry's sums against `grads_batch`'s on the first batch.
fn grads_group<const IN: usize, const HID: usize, const OUT: usize, L: BaseTarget<OUT>>(
    c: &mut Criterion,
    name: &str,
    t: &Trio<'_, IN, HID, OUT>,
    pool: &[Batch<IN, OUT, L>],
) {
    let n = pool[0].pool.len();
    let mut o = Out::<IN>::new(n);
    let mut s = Sums::<IN, HID, OUT>::new();
    let b = &pool[0];
    t.cg.grads_batch(
        &b.pool.rows,
        &b.pool.targets,
        Reduction::Sum,
        &mut o.losses,
        &mut o.rows,
        &mut s.cg,
    )
    .expect("batch lengths agree");
    let want_losses = o.losses.clone();
    validate_batch(
        &format!("{name}: constgrad grads_batch"),
        t.cg,
        &b.pool,
        &o.losses,
        &rows_as_arrays(&o.rows),
        REL,
    );
    let mut looped = Box::<Grads<IN, HID, OUT>>::default();
    cg_grads_loop(t, b, &mut o, &mut looped);
    scalar_grads_loop(t, b, &mut s.scalar);
    nalg_grads_loop(t, b, &mut s.nalg);
    let what = |impl_: &str, part: &str| format!("{name}: {impl_} {part} (batch sums)");
    assert_grads_close(&what, &s.cg, &s.scalar, &s.nalg);
    assert_close(
        &format!("{name}: constgrad loop losses"),
        &o.losses,
        &want_losses,
        REL,
    );
    for (part, got, want) in [
        (
            "grads.loss",
            core::slice::from_ref(&looped.loss),
            core::slice::from_ref(&s.cg.loss),
        ),
        ("grads.x", looped.x.as_slice(), s.cg.x.as_slice()),
        ("grads.w1", looped.w1.as_slice(), s.cg.w1.as_slice()),
        ("grads.b1", looped.b1.as_slice(), s.cg.b1.as_slice()),
        ("grads.w2", looped.w2.as_slice(), s.cg.w2.as_slice()),
        ("grads.b2", looped.b2.as_slice(), s.cg.b2.as_slice()),
    ] {
        assert_close(
            &format!("{name}: constgrad loop {part} (batch sums)"),
            got,
            want,
            REL,
        );
    }

    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(n as u64));
    let entries: &[(&str, GradsBatch<IN, HID, OUT>)] = &[
        ("constgrad", Mlp::grads_batch),
        #[cfg(feature = "rayon")]
        ("constgrad_par", Mlp::par_grads_batch),
    ];
    for &(id, grads_batch) in entries {
        rotating(&mut g, id, pool, |b| {
            grads_batch(
                black_box(t.cg),
                black_box(&b.pool.rows),
                black_box(&b.pool.targets),
                Reduction::Sum,
                &mut o.losses,
                &mut o.rows,
                &mut s.cg,
            )
            .expect("batch lengths agree");
            black_box((&o.losses, &o.rows, &s.cg));
        });
    }
    rotating(&mut g, "constgrad_loop", pool, |b| {
        cg_grads_loop(black_box(t), b, &mut o, &mut looped);
        black_box((&o.losses, &o.rows, &looped));
    });
    rotating(&mut g, "scalar_loop", pool, |b| {
        scalar_grads_loop(black_box(t), b, &mut s.scalar);
        black_box(&s.scalar);
    });
    rotating(&mut g, "nalgebra_loop", pool, |b| {
        nalg_grads_loop(black_box(t), b, &mut s.nalg);
        black_box(&s.nalg);
    });
    g.finish();
}

/// A loop of one-sample losses over a batch, into `Out::losses`.
type LossLoop<const IN: usize, const HID: usize, const OUT: usize, L> =
    fn(&Trio<'_, IN, HID, OUT>, &Batch<IN, OUT, L>, &mut Out<IN>);

/// The one-sample loss loops: constgrad's `loss` and the baselines'.
fn loss_loops<const IN: usize, const HID: usize, const OUT: usize, L: BaseTarget<OUT>>(
) -> [(&'static str, LossLoop<IN, HID, OUT, L>); 3] {
    [
        ("constgrad_loop", |t, b, o| {
            for ((x, tg), l) in b.pool.rows.iter().zip(&b.pool.targets).zip(&mut o.losses) {
                *l = t.cg.loss(x, tg);
            }
        }),
        ("scalar_loop", |t, b, o| {
            for ((x, &tg), l) in b.pool.xs.iter().zip(&b.pool.ts).zip(&mut o.losses) {
                *l = t.scalar.loss(x, tg);
            }
        }),
        ("nalgebra_loop", |t, b, o| {
            for ((x, &tg), l) in b.pool.cols.iter().zip(&b.pool.ts).zip(&mut o.losses) {
                *l = t.nalg.loss(x, tg);
            }
        }),
    ]
}

/// `Mlp::loss_batch` or `Mlp::par_loss_batch`.
type LossBatch<const IN: usize, const HID: usize, const OUT: usize> =
    fn(&Mlp<IN, HID, OUT>, &[RowVec<IN>], &[Target<OUT>], &mut [f32]) -> Result<(), Error>;

/// The loss alone over a batch: `loss_batch` (and `par_loss_batch`)
/// against the loops of [`loss_loops`], each first checked against
/// `input_grad_batch`'s losses.
fn loss_group<const IN: usize, const HID: usize, const OUT: usize, L: BaseTarget<OUT>>(
    c: &mut Criterion,
    name: &str,
    t: &Trio<'_, IN, HID, OUT>,
    pool: &[Batch<IN, OUT, L>],
) {
    let b = &pool[0];
    let n = b.pool.len();
    let mut o = Out::<IN>::new(n);
    t.cg.input_grad_batch(&b.pool.rows, &b.pool.targets, &mut o.losses, &mut o.rows)
        .expect("batch lengths agree");
    let want = o.losses.clone();
    let entries: &[(&str, LossBatch<IN, HID, OUT>)] = &[
        ("constgrad", Mlp::loss_batch),
        #[cfg(feature = "rayon")]
        ("constgrad_par", Mlp::par_loss_batch),
    ];
    for &(id, loss_batch) in entries {
        loss_batch(t.cg, &b.pool.rows, &b.pool.targets, &mut o.losses)
            .expect("batch lengths agree");
        assert_close(&format!("{name}: {id}"), &o.losses, &want, REL);
    }
    for (id, run) in loss_loops() {
        run(t, b, &mut o);
        assert_close(&format!("{name}: {id}"), &o.losses, &want, REL_BATCH);
    }
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(n as u64));
    for &(id, loss_batch) in entries {
        rotating(&mut g, id, pool, |b| {
            loss_batch(
                black_box(t.cg),
                black_box(&b.pool.rows),
                black_box(&b.pool.targets),
                &mut o.losses,
            )
            .expect("batch lengths agree");
            black_box(&o.losses);
        });
    }
    for (id, run) in loss_loops() {
        rotating(&mut g, id, pool, |b| {
            run(black_box(t), b, &mut o);
            black_box(&o.losses);
        });
    }
    g.finish();
}

/// The seed network on 4096 samples per call.
fn seed(c: &mut Criterion) {
    let w = weights::<5, 3, 5>(WEIGHT_SEED, 2.0);
    let (cg, scalar, nalg) = (w.constgrad(), ScalarMlp::new(&w), NalgMlp::new(&w));
    let t = Trio {
        cg: &cg,
        scalar: &scalar,
        nalg: &nalg,
    };
    let mut gemm = NalgGemm::new(&w, 4096);
    let pool = batches::<5, 5, _>(4096, -2.0, 2.0, OneHot);
    batch_group(c, "seed_batch4096", &t, Some(&mut gemm), &pool);
    grads_group(c, "seed_grads_batch4096", &t, &pool);
    loss_group(c, "seed_loss_batch4096", &t, &pool);
    // Soft targets on the same inputs: label smoothing, which takes
    // constgrad's probability-row path.
    let soft = batches::<5, 5, _>(4096, -2.0, 2.0, |l| Probs::smoothed(l, SMOOTHING));
    batch_group(c, "seed_batch4096_soft", &t, None, &soft);
    grads_group(c, "seed_grads_batch4096_soft", &t, &soft);
}

/// 784→128→10 on 256 samples per call; every network on the heap.
fn mnist(c: &mut Criterion) {
    let w = weights::<784, 128, 10>(WEIGHT_SEED, 2.0);
    let cg = w.constgrad();
    let scalar = ScalarMlp::boxed(&w);
    let nalg = NalgMlp::boxed(&w);
    let t = Trio {
        cg: &cg,
        scalar: &scalar,
        nalg: &nalg,
    };
    let mut gemm = NalgGemm::new(&w, 256);
    let pool = batches::<784, 10, _>(256, 0.0, 1.0, OneHot);
    batch_group(c, "mnist_batch256", &t, Some(&mut gemm), &pool);
    grads_group(c, "mnist_grads_batch256", &t, &pool);
    loss_group(c, "mnist_loss_batch256", &t, &pool);
}

criterion_group!(benches, seed, mnist);
criterion_main!(benches);
