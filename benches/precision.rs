//! f64 against f32: `input_grad` of the same networks in both precisions, in
//! one criterion group per shape (issue 5 asks for the ratio from one run),
//! and beside them `input_grad_accurate` on the f32 network (its forward and
//! backward pass carried in f64, issue 3), so its cost is a same-run ratio.
//! Then `input_grad_batch` in both precisions on 4096 samples of the seed
//! network (reported per sample): a batch vector holds half as many `f64`
//! lanes as `f32` ones.
//!
//! Run: `cargo bench --bench precision -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use constgrad::{Mlp, Real, RowVec, Target};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

/// A deterministic network in either precision: the same f32 values widened
/// for f64, so both compute the same function.
fn network<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    scale: f32,
) -> Box<Mlp<IN, HID, OUT, T>> {
    let mut mlp = Box::new(Mlp::<IN, HID, OUT, T>::zeros());
    let mut s = 0x9e37_79b9_7f4a_7c15_u64;
    mlp.fill_with(|_, _, _| {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        let u = ((s >> 40) as f32) / (1u32 << 24) as f32;
        T::from_f64(f64::from(scale * (2.0 * u - 1.0)))
    });
    mlp
}

/// 64 inputs and class labels, rotated per iteration.
fn pool<const IN: usize, const OUT: usize, T: Real>() -> (Vec<RowVec<IN, T>>, Vec<Target<OUT, T>>) {
    let xs = (0..64)
        .map(|n| {
            let mut x = RowVec::<IN, T>::zeros();
            for (i, v) in x.row_mut().iter_mut().enumerate() {
                *v = T::from_f64((((n * 31 + i * 7) % 23) as f64) / 23.0 - 0.5);
            }
            x
        })
        .collect();
    let ts = (0..64)
        .map(|n| Target::class(n % OUT).expect("n % OUT < OUT"))
        .collect();
    (xs, ts)
}

fn group<const IN: usize, const HID: usize, const OUT: usize>(
    c: &mut Criterion,
    name: &str,
    scale: f32,
) {
    let (m32, m64) = (
        network::<IN, HID, OUT, f32>(scale),
        network::<IN, HID, OUT, f64>(scale),
    );
    let (x32, t32) = pool::<IN, OUT, f32>();
    let (x64, t64) = pool::<IN, OUT, f64>();
    let mut g = c.benchmark_group(name);
    g.bench_function("f32", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) & 63;
            black_box(black_box(&*m32).input_grad(black_box(&x32[i]), black_box(&t32[i])))
        });
    });
    g.bench_function("f32_accurate", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) & 63;
            black_box(black_box(&*m32).input_grad_accurate(black_box(&x32[i]), black_box(&t32[i])))
        });
    });
    g.bench_function("f64", |b| {
        let mut i = 0;
        b.iter(|| {
            i = (i + 1) & 63;
            black_box(black_box(&*m64).input_grad(black_box(&x64[i]), black_box(&t64[i])))
        });
    });
    g.finish();
}

/// `input_grad_batch` of the same network in f32 and f64 on `n` samples
/// (the 64 inputs and labels of [`pool`], repeated).
fn batch_group<const IN: usize, const HID: usize, const OUT: usize>(
    c: &mut Criterion,
    name: &str,
    scale: f32,
    n: usize,
) {
    fn entry<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
        g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        id: &str,
        scale: f32,
        n: usize,
    ) {
        let mlp = network::<IN, HID, OUT, T>(scale);
        let (x, t) = pool::<IN, OUT, T>();
        let xs: Vec<_> = x.iter().cycle().take(n).copied().collect();
        let ts: Vec<_> = t.iter().cycle().take(n).cloned().collect();
        let mut losses = vec![T::ZERO; n];
        let mut dxs = vec![RowVec::<IN, T>::zeros(); n];
        g.bench_function(id, |b| {
            b.iter(|| {
                black_box(&*mlp)
                    .input_grad_batch(black_box(&xs), black_box(&ts), &mut losses, &mut dxs)
                    .expect("batch lengths agree");
                black_box((&losses, &dxs));
            })
        });
    }
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(n as u64));
    entry::<IN, HID, OUT, f32>(&mut g, "f32", scale, n);
    entry::<IN, HID, OUT, f64>(&mut g, "f64", scale, n);
    g.finish();
}

fn precision(c: &mut Criterion) {
    group::<5, 3, 5>(c, "precision_seed_input_grad", 1.0);
    group::<784, 128, 10>(c, "precision_mnist_input_grad", 0.1);
    batch_group::<5, 3, 5>(c, "precision_seed_batch4096", 1.0, 4096);
}

criterion_group!(benches, precision);
criterion_main!(benches);
