//! A fixed number of single-sample `input_grad` calls on rotated seeded
//! inputs, for instruction counting (`scripts/perf_counts.sh` runs it under
//! `perf stat` or `valgrind --tool=callgrind` with two call counts and
//! divides the difference, which cancels setup and process start-up).
//!
//! ```text
//! cargo run --release --example bench_single -- IMPL SHAPE CALLS [--time]
//!   IMPL   constgrad | scalar | nalgebra | empty (the loop without a call)
//!          | constgrad_batch (`input_grad_batch` on the 64-sample pool;
//!          CALLS counts samples and must be a multiple of 64)
//!          | constgrad_grads_batch (`grads_batch` on the same pool, sums
//!          of the parameter gradients included; CALLS as for the batch)
//!   SHAPE  seed (5→3→5) | mnist (784→128→10) | seed_soft (5→3→5 with
//!          label-smoothed targets, ε = 0.1, as the `*_soft` criterion
//!          groups) | seed_saturated (5→3→5 on
//!          inputs in ±40, so many hidden units saturate: |a| up to ~400;
//!          timed only, since the baselines' σ·(1 − σ) loses every digit
//!          there, see ACCURACY.md)
//!   CALLS  number of calls
//!   --time also time blocks of CALLS calls and print the best wall time per
//!          call and an estimate of core cycles per call (see `fma_chain_ns`);
//!          use a CALLS of about a millisecond's work (seed: 2000, mnist: 10)
//!
//! cargo run --release --example bench_single -- peak
//!   the FMA peak (best of 51) in GFLOP/s and flops per cycle
//! ```
//!
//! The implementations and the seeded pools are the benchmarks' own
//! (`benches/support`): the weights come from the same seed, and every
//! baseline is checked against constgrad before counting starts (except on
//! `seed_saturated`).

#[path = "../benches/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::time::Instant;

use constgrad::{Grads, Mat, Mlp, Reduction, RowVec};
use wide::f32x8;

use support::check::{validate, Trio};
use support::gen::{weights, Pool, Rotor, WEIGHT_SEED};
use support::nalg::NalgMlp;
use support::scalar::ScalarMlp;
use support::target::{BaseTarget, Probs, SMOOTHING};

/// Samples in the rotating pool.
const POOL: usize = 64;

/// Which function the loop calls.
#[derive(Clone, Copy, PartialEq)]
enum Impl {
    Constgrad,
    Scalar,
    Nalgebra,
    Empty,
    /// `input_grad_batch` over the whole pool; CALLS counts samples.
    ConstgradBatch,
    /// `grads_batch` over the whole pool; CALLS counts samples.
    ConstgradGradsBatch,
}

/// Nanoseconds for one chain of `CHAIN` dependent scalar FMAs.
///
/// A dependent chain runs at one FMA per FMA latency (4 cycles on Zen 1–4
/// and on Intel since Skylake), so `CHAIN · 4 / ns` is the core clock this
/// process is getting right now, in cycles per nanosecond. Used to turn
/// wall time into cycles where hardware counters are not available (the
/// chain is ~1 M cycles, shorter than a scheduler time slice).
fn fma_chain_ns() -> f64 {
    let (a, b) = (black_box(0.999f32), black_box(0.001f32));
    let mut x = black_box(1.0f32);
    let t = Instant::now();
    for _ in 0..CHAIN {
        x = x.mul_add(a, b);
    }
    black_box(x);
    t.elapsed().as_nanos() as f64
}

/// Length of the calibration chain.
const CHAIN: usize = 1 << 18;
/// Cycles per dependent FMA.
const FMA_LATENCY: f64 = 4.0;
/// Timed repetitions; the best of each (kernel block and calibration chain,
/// interleaved) is kept: on a shared machine the minimum is the run that
/// was not interrupted.
const REPS: usize = 51;

fn run<const IN: usize, const HID: usize, const OUT: usize, L: BaseTarget<OUT>>(
    which: Impl,
    calls: usize,
    time: bool,
    (lo, hi): (f32, f32),
    check: bool,
    target: impl Fn(usize) -> L,
) {
    let w = weights::<IN, HID, OUT>(WEIGHT_SEED, 2.0);
    let cg = Box::new(Mlp::new(
        Mat::from_rows(*w.w1),
        RowVec::from_row(w.b1),
        Mat::from_rows(*w.w2),
        RowVec::from_row(w.b2),
    ));
    let scalar = ScalarMlp::boxed(&w);
    let nalg = NalgMlp::boxed(&w);
    let pool = Pool::<IN, OUT, L>::seeded(POOL, lo, hi, target);
    let t = Trio {
        cg: &cg,
        scalar: &scalar,
        nalg: &nalg,
    };
    if check {
        validate("bench_single", &t, &pool, POOL, false);
    }
    let (rows, cols, targets) = (&pool.rows, &pool.cols, &pool.targets);

    let mut rotor = Rotor::new(POOL);
    let (mut losses, mut dxs) = (vec![0.0f32; POOL], vec![RowVec::<IN>::zeros(); POOL]);
    let mut grads = Box::new(Grads::<IN, HID, OUT>::ZERO);
    let mut loop_calls = |n: usize| {
        let mut acc = 0.0f32;
        if matches!(which, Impl::ConstgradBatch | Impl::ConstgradGradsBatch) {
            for _ in 0..n / POOL {
                let (xs, ts) = (black_box(rows.as_slice()), black_box(targets.as_slice()));
                let done = if which == Impl::ConstgradBatch {
                    black_box(&*cg).input_grad_batch(xs, ts, &mut losses, &mut dxs)
                } else {
                    let r = Reduction::Sum;
                    black_box(&*cg).grads_batch(xs, ts, r, &mut losses, &mut dxs, &mut grads)
                };
                done.expect("batch lengths agree");
                acc += black_box(&losses)[0];
                black_box((&dxs, &grads));
            }
            return acc;
        }
        for _ in 0..n {
            let i = rotor.step();
            let l = pool.ts[i];
            acc += match which {
                Impl::Constgrad => {
                    let (loss, dx) =
                        black_box(&*cg).input_grad(black_box(&rows[i]), black_box(&targets[i]));
                    black_box(dx);
                    loss
                }
                Impl::Scalar => {
                    let (loss, dx) =
                        black_box(&*scalar).input_grad(black_box(&pool.xs[i]), black_box(l));
                    black_box(dx);
                    loss
                }
                Impl::Nalgebra => {
                    let (loss, dx) =
                        black_box(&*nalg).input_grad(black_box(&cols[i]), black_box(l));
                    black_box(dx);
                    loss
                }
                Impl::Empty | Impl::ConstgradBatch | Impl::ConstgradGradsBatch => {
                    black_box((&rows[i], &targets[i], &pool.xs[i], &cols[i], l));
                    0.0
                }
            };
        }
        acc
    };
    let checksum = loop_calls(calls);
    println!("calls {calls}, checksum {checksum}");
    if time && calls > 0 {
        let (mut best, mut best_chain) = (f64::INFINITY, f64::INFINITY);
        for _ in 0..REPS {
            best_chain = best_chain.min(fma_chain_ns());
            let t0 = Instant::now();
            black_box(loop_calls(calls));
            best = best.min(t0.elapsed().as_nanos() as f64 / calls as f64);
        }
        let cpn = CHAIN as f64 * FMA_LATENCY / best_chain;
        println!(
            "best-of-{REPS} {best:.2} ns/call, clock {cpn:.2} cycles/ns (FMA-latency calibrated), ≈ {:.0} cycles/call",
            best * cpn
        );
    }
}

/// Independent `f32x8` FMA chains per iteration of [`fma_peak`]: two FMA
/// pipes of latency 4 need at least 8 in flight.
const PEAK_CHAINS: usize = 10;

/// The FMA peak, best of [`REPS`]: `PEAK_CHAINS` independent chains of
/// `f32x8` multiply-adds kept in registers (the same loop as the
/// `peak_fma_f32x8` criterion group), in GFLOP/s and flops per cycle.
fn fma_peak() {
    const ITERS: usize = 1 << 14;
    let (a, b) = (
        black_box(f32x8::splat(0.999)),
        black_box(f32x8::splat(0.001)),
    );
    let (mut best, mut best_chain) = (f64::INFINITY, f64::INFINITY);
    for _ in 0..REPS {
        best_chain = best_chain.min(fma_chain_ns());
        let mut acc: [f32x8; PEAK_CHAINS] = core::array::from_fn(|k| f32x8::splat(k as f32));
        let t = Instant::now();
        for _ in 0..ITERS {
            for v in &mut acc {
                *v = v.mul_add(a, b);
            }
        }
        black_box(acc);
        best = best.min(t.elapsed().as_nanos() as f64);
    }
    let flops = (ITERS * PEAK_CHAINS * 8 * 2) as f64;
    let cpn = CHAIN as f64 * FMA_LATENCY / best_chain;
    println!(
        "best-of-{REPS} FMA peak {:.1} GFLOP/s, clock {cpn:.2} cycles/ns (FMA-latency calibrated), {:.1} flops/cycle",
        flops / best,
        flops / best / cpn
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("peak") {
        fma_peak();
        return;
    }
    let usage = "usage: bench_single constgrad|scalar|nalgebra|empty|constgrad_batch|constgrad_grads_batch \
                 seed|seed_soft|seed_saturated|mnist CALLS [--time]\n       bench_single peak";
    let fail = |why: &str| -> ! {
        eprintln!("bench_single: {why}\n{usage}");
        std::process::exit(2)
    };
    let which = match args.first().map(String::as_str) {
        Some("constgrad") => Impl::Constgrad,
        Some("scalar") => Impl::Scalar,
        Some("nalgebra") => Impl::Nalgebra,
        Some("empty") => Impl::Empty,
        Some("constgrad_batch") => Impl::ConstgradBatch,
        Some("constgrad_grads_batch") => Impl::ConstgradGradsBatch,
        Some(other) => fail(&format!("unknown implementation {other:?}")),
        None => fail("no arguments"),
    };
    let calls: usize = match args.get(2).map(|s| s.parse()) {
        Some(Ok(c)) => c,
        Some(Err(_)) => fail(&format!("CALLS {:?} is not a count", args[2])),
        None => fail("CALLS missing"),
    };
    let batch = matches!(which, Impl::ConstgradBatch | Impl::ConstgradGradsBatch);
    if batch && calls % POOL != 0 {
        fail(&format!(
            "the batch modes' CALLS must be a multiple of {POOL}, not {calls}"
        ));
    }
    let time = args.iter().any(|a| a == "--time");
    match args.get(1).map(String::as_str) {
        Some("seed") => run::<5, 3, 5, _>(which, calls, time, (-2.0, 2.0), true, |l| l),
        Some("seed_soft") => run::<5, 3, 5, _>(which, calls, time, (-2.0, 2.0), true, |l| {
            Probs::smoothed(l, SMOOTHING)
        }),
        Some("seed_saturated") => {
            run::<5, 3, 5, _>(which, calls, time, (-40.0, 40.0), false, |l| l)
        }
        Some("mnist") => run::<784, 128, 10, _>(which, calls, time, (0.0, 1.0), true, |l| l),
        Some(other) => fail(&format!("unknown shape {other:?}")),
        None => fail("SHAPE missing"),
    }
}
