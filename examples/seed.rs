//! The seed network 5→3→5, end to end.
//!
//! Builds the network from fixed seeded weights, prints every intermediate
//! (x, a, h, θ, ŷ), the loss, dL/dx from the fused kernel, the same gradient by
//! central finite differences of an independent f64 evaluation, their largest
//! difference, the median single-call latency of `input_grad`, and which SIMD
//! width this build uses.
//!
//! Run: `cargo run --release --example seed`

use std::hint::black_box;
use std::time::Instant;

use constgrad::{Mat, Mlp, RowVec, Target};

const IN: usize = 5;
const HID: usize = 3;
const OUT: usize = 5;

/// A tiny seeded generator (xorshift64*), so the example needs no dependency
/// and prints the same network on every machine.
struct Rng(u64);

impl Rng {
    fn uniform(&mut self, lo: f32, hi: f32) -> f32 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let bits = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 40; // 24 random bits
        lo + (hi - lo) * (bits as f32 / (1u32 << 24) as f32)
    }
    fn mat<const R: usize, const C: usize>(&mut self, scale: f32) -> Mat<R, C> {
        Mat::from_rows(std::array::from_fn(|_| {
            std::array::from_fn(|_| self.uniform(-scale, scale))
        }))
    }
}

/// The loss evaluated independently in f64 with std's exp/ln: the textbook
/// formulas, no shared code with the crate's kernels.
fn loss_f64(mlp: &Mlp<IN, HID, OUT>, x: &[f64; IN], label: usize) -> f64 {
    let (w1, b1, w2, b2) = (mlp.w1(), mlp.b1(), mlp.w2(), mlp.b2());
    let h: [f64; HID] = std::array::from_fn(|k| {
        let a = f64::from(b1[(0, k)]) + (0..IN).map(|i| x[i] * f64::from(w1[(i, k)])).sum::<f64>();
        1.0 / (1.0 + (-a).exp())
    });
    let theta: [f64; OUT] = std::array::from_fn(|j| {
        f64::from(b2[(0, j)]) + (0..HID).map(|k| h[k] * f64::from(w2[(k, j)])).sum::<f64>()
    });
    let m = theta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let lse = m + theta.iter().map(|t| (t - m).exp()).sum::<f64>().ln();
    lse - theta[label]
}

/// The plain scalar baseline a competent engineer would write without a SIMD
/// library: f32 arrays, std's `exp`/`ln`, max-subtracted softmax, the same
/// backward pass. Timed beside the fused kernel so the two latencies come
/// from the same run.
fn scalar_input_grad(mlp: &Mlp<IN, HID, OUT>, x: &[f32; IN], label: usize) -> (f32, [f32; IN]) {
    let (w1, b1, w2, b2) = (
        mlp.w1().rows(),
        mlp.b1().row(),
        mlp.w2().rows(),
        mlp.b2().row(),
    );
    let mut a = *b1;
    for (xi, row) in x.iter().zip(w1) {
        for (ak, w) in a.iter_mut().zip(row) {
            *ak += xi * w;
        }
    }
    let h = a.map(|t| 1.0 / (1.0 + (-t).exp()));
    let mut theta = *b2;
    for (hk, row) in h.iter().zip(w2) {
        for (tj, w) in theta.iter_mut().zip(row) {
            *tj += hk * w;
        }
    }
    let m = theta.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e = theta.map(|t| (t - m).exp());
    let s: f32 = e.iter().sum();
    let loss = s.ln() + m - theta[label];
    let mut d_theta = e.map(|v| v / s);
    d_theta[label] -= 1.0;
    let d_a: [f32; HID] = std::array::from_fn(|k| {
        let d_h: f32 = d_theta.iter().zip(&w2[k]).map(|(d, w)| d * w).sum();
        d_h * h[k] * (1.0 - h[k])
    });
    let dx = std::array::from_fn(|i| w1[i].iter().zip(&d_a).map(|(w, d)| w * d).sum());
    (loss, dx)
}

/// Median ns per call of `f` over 301 timed batches of `calls` calls.
fn median_ns(calls: usize, mut f: impl FnMut(usize)) -> f64 {
    let mut per_call: Vec<f64> = (0..301)
        .map(|_| {
            let t0 = Instant::now();
            for i in 0..calls {
                f(i);
            }
            t0.elapsed().as_nanos() as f64 / calls as f64
        })
        .collect();
    per_call.sort_by(f64::total_cmp);
    per_call[per_call.len() / 2]
}

fn fmt_row<const N: usize>(r: &RowVec<N>) -> String {
    let cells: Vec<String> = r.row().iter().map(|v| format!("{v:>+11.7}")).collect();
    format!("[{}]", cells.join(", "))
}

fn main() -> Result<(), constgrad::Error> {
    let mut rng = Rng(0x5eed_5eed_5eed_5eed);
    let mlp = Mlp::new(
        rng.mat::<IN, HID>(1.0),
        rng.mat::<1, HID>(0.5),
        rng.mat::<HID, OUT>(2.0),
        rng.mat::<1, OUT>(0.5),
    );
    let x: RowVec<IN> = rng.mat::<1, IN>(1.5);
    let label = 3;
    let target = Target::class(label)?;

    println!(
        "constgrad seed network {IN}→{HID}→{OUT}, f32, SIMD: {}",
        constgrad::simd_description()
    );
    println!();
    let f = mlp.forward(&x);
    println!("x        = {}", fmt_row(&x));
    println!("a = xW1+b1 {}", fmt_row(&f.a));
    println!("h = σ(a)   {}", fmt_row(&f.h));
    println!("θ = hW2+b2 {}", fmt_row(&f.theta));
    println!("ŷ          {}", fmt_row(&f.y_hat));
    println!("y          one-hot, class {label}");

    let (loss, grad) = mlp.input_grad(&x, &target);
    let xd: [f64; IN] = std::array::from_fn(|i| f64::from(x[(0, i)]));
    println!();
    println!(
        "loss L     = {loss:.9}   (f64 reference {:.9})",
        loss_f64(&mlp, &xd, label)
    );
    println!("dL/dx      {}   (fused kernel, f32)", fmt_row(&grad));

    // Central differences in f64: step h = 1e-5 balances truncation (O(h²))
    // and rounding (O(ε/h)) error, both ≈ 1e-10 here.
    let step = 1e-5;
    let fd: [f64; IN] = std::array::from_fn(|i| {
        let (mut xp, mut xm) = (xd, xd);
        xp[i] += step;
        xm[i] -= step;
        (loss_f64(&mlp, &xp, label) - loss_f64(&mlp, &xm, label)) / (2.0 * step)
    });
    let cells: Vec<String> = fd.iter().map(|v| format!("{v:>+11.7}")).collect();
    println!(
        "dL/dx      [{}]   (central differences, f64)",
        cells.join(", ")
    );
    let max_diff = (0..IN)
        .map(|i| (f64::from(grad[(0, i)]) - fd[i]).abs())
        .fold(0.0, f64::max);
    let scale = fd.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    println!(
        "largest |kernel − finite difference| = {max_diff:.3e}  ({:.3e} of max|dL/dx|)",
        max_diff / scale
    );

    // Latency: many batches of back-to-back calls on rotating inputs, each
    // batch timed, medians reported, constgrad and the scalar baseline
    // alternating in the same run. Not a benchmark (see BENCHMARKS.md for
    // criterion runs with scalar and nalgebra baselines); it gives the order
    // of magnitude and the ratio.
    let xs: Vec<RowVec<IN>> = (0..64).map(|_| rng.mat::<1, IN>(1.5)).collect();
    let targets: Vec<Target<OUT>> = (0..64)
        .map(|i| Target::class(i % OUT))
        .collect::<Result<_, _>>()?;
    let (scalar_loss, scalar_dx) = scalar_input_grad(&mlp, x.row(), label);
    let scalar_diff = (0..IN)
        .map(|i| (scalar_dx[i] - grad[(0, i)]).abs())
        .fold(0.0f32, f32::max);
    println!("scalar baseline: loss {scalar_loss:.9}, max |dL/dx − fused| = {scalar_diff:.1e}");
    let calls = 2_000;
    let fused = median_ns(calls, |i| {
        black_box(black_box(&mlp).input_grad(black_box(&xs[i % 64]), black_box(&targets[i % 64])));
    });
    let scalar = median_ns(calls, |i| {
        black_box(scalar_input_grad(
            black_box(&mlp),
            black_box(xs[i % 64].row()),
            black_box(i % OUT),
        ));
    });
    println!();
    println!(
        "input_grad latency, median of 301 batches × {calls} calls ({}):",
        constgrad::simd_description()
    );
    println!("  constgrad fused kernel   {fused:7.1} ns per call");
    println!(
        "  plain scalar f32 + std   {scalar:7.1} ns per call   ({:.2}× the fused kernel's time)",
        scalar / fused
    );
    Ok(())
}
