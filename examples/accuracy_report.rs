//! Prints the numbers behind `ACCURACY.md`'s comparison table: the maximum
//! ulp error, and where it occurs, of constgrad's `exp` and `sigmoid` and of
//! the alternatives a user would otherwise reach for, over every `f32`.
//!
//! ```text
//! cargo run --release --example accuracy_report            # all 2^32 inputs
//! cargo run --release --example accuracy_report -- --quick # every 61st
//! ```
//!
//! Then the `f64` kernels (and std's `f64::exp`) against the double-double
//! reference, on 2^26 random bit patterns plus 2^28 stratified points of
//! `[−750, 710]` (2^22 + 2^24 with `--quick`); the ≥ 10⁹-input sweep is the
//! ignored test in `tests/exhaustive.rs`.
//!
//! Metric: ulps of the binade of the exact value (an `f64` reference),
//! floored at the smallest subnormal; see `tests/accuracy_support/mod.rs`.

#[path = "../tests/accuracy_support/mod.rs"]
mod support;

use support::kernels::{constgrad_exp, constgrad_sigmoid, naive_sigmoid, std_exp, wide_exp};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::{exp_f32_err, exp_f64_err, par_chunks, sigmoid_f32_err, sigmoid_f64_err, Sweep};

type Kernel = fn(&mut [f32]);
/// Measures one result: `(ulp error, special-value rule held)`.
type ErrFn = fn(f32, f32) -> (f64, bool);

/// Bit patterns `0, stride, 2·stride, …` (all of them for `stride = 1`).
fn sweep(kernel: Kernel, err: ErrFn, stride: u64) -> (Sweep<f32>, [u64; 3]) {
    const CHUNK: u64 = 1 << 16;
    let total = (1u64 << 32).div_ceil(stride);
    let over = [1.0, 2.0, 4.0].map(|_| std::sync::atomic::AtomicU64::new(0));
    let s = par_chunks(total.div_ceil(CHUNK), |c, sw| {
        let xs: Vec<f32> = (c * CHUNK..((c + 1) * CHUNK).min(total))
            .map(|i| f32::from_bits((i * stride) as u32))
            .collect();
        let mut ys = xs.clone();
        kernel(&mut ys);
        let mut local = [0u64; 3];
        for (&x, &y) in xs.iter().zip(&ys) {
            let e = err(x, y);
            for (n, b) in local.iter_mut().zip([1.0, 2.0, 4.0]) {
                if !e.1 || e.0 > b {
                    *n += 1;
                }
            }
            sw.record(x, y, e, f64::INFINITY);
        }
        for (o, n) in over.iter().zip(local) {
            o.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        }
    });
    (s, over.map(std::sync::atomic::AtomicU64::into_inner))
}

type Kernel64 = fn(&mut [f64]);
type ErrFn64 = fn(f64, f64) -> (f64, bool);

fn constgrad_exp64(xs: &mut [f64]) {
    constgrad::math::exp_in_place(xs);
}

fn constgrad_sigmoid64(xs: &mut [f64]) {
    constgrad::math::sigmoid_in_place(xs);
}

fn std_exp64(xs: &mut [f64]) {
    xs.iter_mut().for_each(|x| *x = x.exp());
}

/// `random` random bit patterns, then `dense` stratified points of `[−750, 710]`.
fn sweep64(kernel: Kernel64, err: ErrFn64, random: u64, dense: u64) -> Sweep<f64> {
    const CHUNK: u64 = 1 << 16;
    let (rc, dc) = (random / CHUNK, dense / CHUNK);
    let step = 1460.0 / (dc * CHUNK) as f64;
    par_chunks(rc + dc, |c, sw| {
        let mut rng = StdRng::seed_from_u64(0x5eed_4e90 ^ c);
        let xs: Vec<f64> = if c < rc {
            (0..CHUNK).map(|_| f64::from_bits(rng.gen())).collect()
        } else {
            let base = (c - rc) * CHUNK;
            (0..CHUNK)
                .map(|i| -750.0 + ((base + i) as f64 + rng.gen::<f64>()) * step)
                .collect()
        };
        let mut ys = xs.clone();
        kernel(&mut ys);
        for (&x, &y) in xs.iter().zip(&ys) {
            sw.record(x, y, err(x, y), 1.0);
        }
    })
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let stride = if quick { 61 } else { 1 };
    println!(
        "constgrad accuracy report ({}; {} f32 lanes: {})",
        if quick {
            "every 61st f32 bit pattern"
        } else {
            "all 2^32 f32 inputs"
        },
        constgrad::F32_LANES,
        constgrad::simd_description()
    );
    println!(
        "{:34} {:>12} {:>12} {:>16} {:>14} {:>10} {:>10} {:>10}",
        "function", "inputs", "max ulp", "at x", "at bits", "> 1 ulp", "> 2 ulp", "> 4 ulp"
    );
    let rows: [(&str, Kernel, ErrFn); 5] = [
        ("constgrad::math::exp (f32)", constgrad_exp, exp_f32_err),
        ("std f32::exp (scalar)", std_exp, exp_f32_err),
        ("wide f32x8::exp", wide_exp, exp_f32_err),
        (
            "constgrad::math::sigmoid (f32)",
            constgrad_sigmoid,
            sigmoid_f32_err,
        ),
        ("naive 1/(1+f32::exp(-x))", naive_sigmoid, sigmoid_f32_err),
    ];
    for (name, kernel, err) in rows {
        let (s, over) = sweep(kernel, err, stride);
        let (x, bits) = s.argmax.map_or((f32::NAN, 0), |a| (a.x, a.x.to_bits()));
        println!(
            "{name:34} {:>12} {:>12.4} {:>16e} {:>#14x} {:>10} {:>10} {:>10}",
            s.count, s.max_err, x, bits, over[0], over[1], over[2]
        );
    }

    let (random, dense) = if quick {
        (1 << 22, 1 << 24)
    } else {
        (1 << 26, 1 << 28)
    };
    let rows64: [(&str, Kernel64, ErrFn64); 3] = [
        ("constgrad::math::exp (f64)", constgrad_exp64, exp_f64_err),
        ("std f64::exp (scalar)", std_exp64, exp_f64_err),
        (
            "constgrad::math::sigmoid (f64)",
            constgrad_sigmoid64,
            sigmoid_f64_err,
        ),
    ];
    println!(
        "{:34} {:>12} {:>12} {:>16} {:>14} {:>10}",
        "function (f64)", "inputs", "max ulp", "at x", "at bits", "> 1 ulp"
    );
    for (name, kernel, err) in rows64 {
        let s = sweep64(kernel, err, random, dense);
        let x = s.argmax.map_or(f64::NAN, |a| a.x);
        println!(
            "{name:34} {:>12} {:>12.4} {:>16e} {:>#14x} {:>10}",
            s.count,
            s.max_err,
            x,
            x.to_bits(),
            s.failures
        );
    }
}
