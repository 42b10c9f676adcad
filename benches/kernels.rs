//! Elementwise math kernels per element, and the machine's measured FMA peak.
//!
//! - `math_exp_1024`: `constgrad::math::exp_in_place` against a loop of std's
//!   scalar `f32::exp` and a loop of `wide`'s `f32x8::exp`, on 1024-element
//!   slices.
//! - `math_sigmoid_1024`: `constgrad::math::sigmoid_in_place` against the
//!   naive scalar loop `1/(1 + exp(−x))` and the same formula on `f32x8`.
//! - `math_softmax_N`, `math_xent_N` (N = 10 and 1000): the row kernels
//!   `constgrad::math::softmax` and `cross_entropy` (class label) on one
//!   row of N logits, against the formulas a competent engineer writes with
//!   std's scalar `exp` and `ln` (max-subtracted, one pass for the sum).
//! - `peak_fma_f32x8`: independent `f32x8` multiply-adds in registers (and,
//!   despite the group's name, `f32x16` ones: one zmm each on AVX-512), the
//!   fastest entry being the number every other benchmark's flop rate is
//!   compared with
//!   (`Throughput::Elements` counts flops there: one FMA = 2 flops per lane).
//!
//! The in-place kernels overwrite their input, so each timed call gets a
//! fresh copy of the next slice of a seeded pool (`iter_batched_ref`: the
//! copy is made outside the timed region).

mod support;

use std::hint::black_box;

use constgrad::{RowVec, Target};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use wide::f32x8;

use support::check::assert_close;
use support::gen::{floats, samples, Rotor, INPUT_SEED};

/// Elements per slice.
const LEN: usize = 1024;
/// Slices in the rotating pool (a power of two).
const SLICES: usize = 8;

fn std_exp(xs: &mut [f32]) {
    for v in xs {
        *v = v.exp();
    }
}

fn wide_exp(xs: &mut [f32]) {
    for chunk in xs.chunks_exact_mut(8) {
        let v = f32x8::new(chunk.try_into().expect("chunk of 8"));
        chunk.copy_from_slice(&v.exp().to_array());
    }
}

fn naive_sigmoid(xs: &mut [f32]) {
    for v in xs {
        *v = 1.0 / (1.0 + (-*v).exp());
    }
}

fn wide_sigmoid(xs: &mut [f32]) {
    let one = f32x8::splat(1.0);
    for chunk in xs.chunks_exact_mut(8) {
        let v = f32x8::new(chunk.try_into().expect("chunk of 8"));
        chunk.copy_from_slice(&(one / (one + (-v).exp())).to_array());
    }
}

/// An in-place elementwise kernel and its name in the group.
type Entry<'a> = (&'a str, fn(&mut [f32]));

/// One elementwise group: every entry applied in place to a fresh copy of
/// the next pool slice. Each entry is first checked against std's scalar
/// result (f64-free: all are f32 kernels of ≤ a few ulp).
fn elementwise_group(c: &mut Criterion, name: &str, pool: &[Vec<f32>], entries: &[Entry<'_>]) {
    let (_, reference) = entries[1];
    for slice in pool {
        let mut want = slice.clone();
        reference(&mut want);
        for (label, f) in entries {
            let mut got = slice.clone();
            f(&mut got);
            assert_close(&format!("{name}: {label}"), &got, &want, 1e-5);
        }
    }
    let mut g = c.benchmark_group(name);
    g.throughput(Throughput::Elements(LEN as u64));
    for &(label, f) in entries {
        g.bench_function(label, |b| {
            let mut r = Rotor::new(pool.len());
            b.iter_batched_ref(
                || pool[r.step()].clone(),
                |buf| {
                    f(black_box(buf.as_mut_slice()));
                    black_box(buf);
                },
                BatchSize::SmallInput,
            );
        });
    }
    g.finish();
}

fn math(c: &mut Criterion) {
    // exp over the whole finite-result f32 range; σ over its working range
    // and its tails.
    let exp_pool: Vec<Vec<f32>> = (0..SLICES)
        .map(|s| floats(INPUT_SEED + s as u64, LEN, -87.0, 88.0))
        .collect();
    let sig_pool: Vec<Vec<f32>> = (0..SLICES)
        .map(|s| floats(INPUT_SEED + 100 + s as u64, LEN, -20.0, 20.0))
        .collect();
    elementwise_group(
        c,
        "math_exp_1024",
        &exp_pool,
        &[
            ("constgrad", constgrad::math::exp_in_place::<f32>),
            ("std_scalar", std_exp),
            ("wide_f32x8", wide_exp),
        ],
    );
    elementwise_group(
        c,
        "math_sigmoid_1024",
        &sig_pool,
        &[
            ("constgrad", constgrad::math::sigmoid_in_place::<f32>),
            ("naive_std_scalar", naive_sigmoid),
            ("naive_wide_f32x8", wide_sigmoid),
        ],
    );
}

/// `softmax(θ)` with std's `exp`: `e^(θ_j − m) / Σ_k e^(θ_k − m)`.
fn scalar_softmax<const N: usize>(theta: &[f32; N]) -> [f32; N] {
    let m = theta.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut e = theta.map(|t| (t - m).exp());
    let s: f32 = e.iter().sum();
    for v in &mut e {
        *v /= s;
    }
    e
}

/// The cross-entropy of class `label` with std's `exp` and `ln`:
/// `(m − θ_label) + ln Σ_k e^(θ_k − m)`.
fn scalar_xent<const N: usize>(theta: &[f32; N], label: usize) -> f32 {
    let m = theta.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let s: f32 = theta.iter().map(|&t| (t - m).exp()).sum();
    (m - theta[label]) + s.ln()
}

/// The row kernels on rows of `N` logits uniform in ±8 (a pool of `rows`
/// rows, a power of two), each baseline first checked against constgrad
/// on every row of the pool.
fn row_groups<const N: usize>(c: &mut Criterion, rows: usize) {
    let pool = samples::<N>(INPUT_SEED + 200 + N as u64, rows, N, -8.0, 8.0);
    let thetas: Vec<RowVec<N>> = pool.xs.iter().map(|x| RowVec::from_row(*x)).collect();
    let targets: Vec<Target<N>> = pool
        .labels
        .iter()
        .map(|&l| Target::class(l).expect("label below N"))
        .collect();
    for (i, ((x, theta), target)) in pool.xs.iter().zip(&thetas).zip(&targets).enumerate() {
        let softmax = constgrad::math::softmax(theta);
        assert_close(
            &format!("math_softmax_{N}: row {i}"),
            &scalar_softmax(x),
            softmax.row(),
            1e-4,
        );
        assert_close(
            &format!("math_xent_{N}: row {i}"),
            &[scalar_xent(x, pool.labels[i])],
            &[constgrad::math::cross_entropy(theta, target)],
            1e-4,
        );
    }

    let mut g = c.benchmark_group(format!("math_softmax_{N}"));
    g.throughput(Throughput::Elements(N as u64));
    // The rows go to `black_box` by reference: by value, each call also
    // copied its result (4 KB at N = 1000) into `black_box`'s argument, a
    // `memmove` that took a third of `constgrad`'s samples on Zen 3.
    g.bench_function("constgrad", |b| {
        let mut r = Rotor::new(rows);
        b.iter(|| {
            let softmax = constgrad::math::softmax(black_box(&thetas[r.step()]));
            black_box(&softmax);
        });
    });
    g.bench_function("std_scalar", |b| {
        let mut r = Rotor::new(rows);
        b.iter(|| {
            let softmax = scalar_softmax(black_box(&pool.xs[r.step()]));
            black_box(&softmax);
        });
    });
    g.finish();

    let mut g = c.benchmark_group(format!("math_xent_{N}"));
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("constgrad", |b| {
        let mut r = Rotor::new(rows);
        b.iter(|| {
            let i = r.step();
            black_box(constgrad::math::cross_entropy(
                black_box(&thetas[i]),
                black_box(&targets[i]),
            ))
        });
    });
    g.bench_function("std_scalar", |b| {
        let mut r = Rotor::new(rows);
        b.iter(|| {
            let i = r.step();
            black_box(scalar_xent(
                black_box(&pool.xs[i]),
                black_box(pool.labels[i]),
            ))
        });
    });
    g.finish();
}

fn rows(c: &mut Criterion) {
    row_groups::<10>(c, 64);
    row_groups::<1000>(c, 16);
}

/// Iterations of the FMA loop per call.
const FMA_ITERS: usize = 4096;

/// The two vector widths the peak is measured in.
trait FmaLanes: Copy {
    const LANES: usize;
    const NAME: &'static str;
    fn splat(x: f32) -> Self;
    fn mul_add(self, a: Self, b: Self) -> Self;
}

macro_rules! fma_lanes {
    ($v:ident, $n:literal) => {
        impl FmaLanes for wide::$v {
            const LANES: usize = $n;
            const NAME: &'static str = stringify!($v);
            fn splat(x: f32) -> Self {
                wide::$v::splat(x)
            }
            #[inline(always)]
            fn mul_add(self, a: Self, b: Self) -> Self {
                wide::$v::mul_add(self, a, b)
            }
        }
    };
}
fma_lanes!(f32x8, 8);
fma_lanes!(f32x16, 16);

/// `ACC` independent chains `acc ← acc·a + b` of FMAs on `V`. Zen 3 and
/// Zen 4 have two 256-bit FMA pipes of latency 4, so at least 8 chains are
/// needed to fill them; a zmm FMA takes both (Zen 4) or one of two 512-bit
/// pipes (Intel server cores), hence the `f32x16` entries: the peak is the
/// fastest entry of either width.
#[inline(never)]
fn fma_chains<V: FmaLanes, const ACC: usize>(a: V, b: V) -> [V; ACC] {
    let mut acc: [V; ACC] = core::array::from_fn(|k| V::splat(k as f32));
    for _ in 0..FMA_ITERS {
        for v in &mut acc {
            *v = v.mul_add(a, b);
        }
    }
    acc
}

fn peak_entry<V: FmaLanes, const ACC: usize>(
    g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
) {
    // acc → b/(1 − a) = 1: no overflow, no subnormals.
    let (a, b) = (V::splat(0.999), V::splat(0.001));
    g.throughput(Throughput::Elements(
        (FMA_ITERS * ACC * V::LANES * 2) as u64,
    ));
    // The f32x8 entries keep their historical names (`8_chains`).
    let name = match V::LANES {
        8 => format!("{ACC}_chains"),
        _ => format!("{ACC}_chains_{}", V::NAME),
    };
    g.bench_function(name, |bch| {
        bch.iter(|| black_box(fma_chains::<V, ACC>(black_box(a), black_box(b))));
    });
}

fn peak(c: &mut Criterion) {
    let mut g = c.benchmark_group("peak_fma_f32x8");
    peak_entry::<f32x8, 4>(&mut g);
    peak_entry::<f32x8, 8>(&mut g);
    peak_entry::<f32x8, 10>(&mut g);
    peak_entry::<f32x8, 12>(&mut g);
    peak_entry::<wide::f32x16, 8>(&mut g);
    peak_entry::<wide::f32x16, 12>(&mut g);
    g.finish();
}

criterion_group!(benches, peak, math, rows);
criterion_main!(benches);
