//! Prints the numbers behind `ACCURACY.md`'s comparison table: the maximum
//! ulp error, and where it occurs, of constgrad's `exp` and `sigmoid` and of
//! the alternatives a user would otherwise reach for, over every `f32`.
//!
//! ```text
//! cargo run --release --example accuracy_report            # all 2^32 inputs
//! cargo run --release --example accuracy_report -- --quick # every 61st
//! ```
//!
//! Metric: ulps of the binade of the exact value (an `f64` reference),
//! floored at the smallest subnormal; see `tests/accuracy_support/mod.rs`.

#[path = "../tests/accuracy_support/mod.rs"]
mod support;

use support::{exp_f32_err, par_chunks, sigmoid_f32_err, Sweep};
use wide::f32x8;

type Kernel = fn(&mut [f32]);
/// Measures one result: `(ulp error, special-value rule held)`.
type ErrFn = fn(f32, f32) -> (f64, bool);

fn constgrad_exp(xs: &mut [f32]) {
    constgrad::math::exp_in_place(xs);
}

fn constgrad_sigmoid(xs: &mut [f32]) {
    constgrad::math::sigmoid_in_place(xs);
}

fn std_exp(xs: &mut [f32]) {
    xs.iter_mut().for_each(|x| *x = x.exp());
}

fn wide_exp(xs: &mut [f32]) {
    for c in xs.chunks_mut(8) {
        let mut a = [0.0f32; 8];
        a[..c.len()].copy_from_slice(c);
        let y = f32x8::from(a).exp().to_array();
        c.copy_from_slice(&y[..c.len()]);
    }
}

/// `1/(1 + e^-x)` in f32 with std's scalar `expf`.
fn naive_sigmoid(xs: &mut [f32]) {
    xs.iter_mut().for_each(|x| *x = 1.0 / (1.0 + (-*x).exp()));
}

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
}
