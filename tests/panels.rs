//! A large first layer whose hidden width leaves a narrower last panel.
//!
//! When `W1` and `W1ᵀ` together would overflow a 512 KiB L2, `Mlp`'s
//! one-sample passes read a copy of `W1` laid out in column panels four
//! vectors wide (`Mlp::W1_PANEL`), the backward pass as dot products along
//! its rows. 784→128→10 splits evenly; 784→100→10 does not: its panels are
//! 32, 32, 32 and 4 columns wide in `f32` on AVX2 and SSE2 (64 and 36 on
//! AVX-512), six of 16 and one of 4 in `f64` on AVX2. Checked here:
//! `grads_into` against the `f64` reference network (every entry, and a few
//! against central differences), `input_grad` against `grads_into` (the
//! same bits), the mixed-precision `input_grad_accurate` against the
//! reference, and the one-sample kernel against the batch kernel, which
//! reads `W1ᵀ` instead of the panels.

mod big_support;
mod common;

use big_support::{boxed_case, boxed_grads, check_batch_samples, check_grads, rotated_inputs};
use common::{natural_scale, target_row, to_f64, RefNet};
use constgrad::{Mlp, Real, RowVec};

const IN: usize = 784;
const HID: usize = 100;
const OUT: usize = 10;

/// The stack of the threads that build the boxed network and gradients
/// (`Mlp::zeros` stages the whole network on the stack).
const BUILD_STACK: usize = 64 * 1024 * 1024;

/// Entries checked against central differences: `x`, `W1`, `b1`, `W2`, `b2`;
/// the hidden units 99 and 96–99 lie in the last, narrow panel.
const PROBE: [&[usize]; 5] = [
    &[0, 391, IN - 1],
    &[0, 400 * HID + 99, IN * HID - 1],
    &[0, 96, HID - 1],
    &[0, 97 * OUT + 3, HID * OUT - 1],
    &[0, OUT - 1],
];

fn check<T: Real>(seed: u64) {
    let (net, x, targets) = boxed_case::<IN, HID, OUT, T>(seed, (0.1, 1.0), BUILD_STACK);
    let reference = RefNet::from_mlp(&*net);
    for (kind, t) in ["class", "soft"].into_iter().zip(targets) {
        let ctx = format!("784→100→10 {} seed {seed} {kind} target", T::NAME);
        let mut g = boxed_grads::<IN, HID, OUT, T>(BUILD_STACK);
        net.grads_into(&x, &t, &mut g);
        check_grads(&*net, &x, &t, &g, PROBE, &ctx);
        let (loss, dx) = net.input_grad(&x, &t);
        assert_eq!(dx, g.x, "{ctx}: input_grad vs grads_into");
        assert_eq!(loss.to_f64(), g.loss.to_f64(), "{ctx}: loss");

        // Carried in f64, the accurate path's dL/dx is each exact entry
        // rounded once to T (half an ulp), give or take the f64 pass's own
        // error, far below T's precision on the natural scale.
        let (xf, y) = (to_f64(x.as_slice()), target_row(&t));
        let exact = reference.grads(&xf, &y);
        let mag = reference.rounding_magnitudes(&xf, &y).grads;
        let scale = natural_scale(&exact.x, &mag.x);
        let (_, accurate) = net.input_grad_accurate(&x, &t);
        for (i, (got, want)) in accurate.as_slice().iter().zip(&exact.x).enumerate() {
            let err = (got.to_f64() - want).abs();
            let bound = T::EPSILON.to_f64() * want.abs() + 1e-12 * scale;
            assert!(
                err <= bound,
                "{ctx}: input_grad_accurate dL/dx[{i}] = {got:?}, exact {want:e}"
            );
        }

        // A full batch block and one more sample: the batch kernel reads
        // W1ᵀ, a layout independent of the panels.
        let n = Mlp::<IN, HID, OUT, T>::BATCH_LANES + 1;
        let xs = rotated_inputs(&x, n, 97);
        let ts = vec![t; n];
        let (mut losses, mut dxs) = (vec![T::ZERO; n], vec![RowVec::zeros(); n]);
        net.input_grad_batch(&xs, &ts, &mut losses, &mut dxs)
            .expect("equal lengths");
        check_batch_samples(&*net, (&xs, &ts), (&losses, &dxs), [0, n - 1], &ctx);
    }
}

#[test]
fn a_narrow_last_panel_of_w1_gives_the_reference_gradients_f32() {
    check::<f32>(11);
}

#[test]
fn a_narrow_last_panel_of_w1_gives_the_reference_gradients_f64() {
    check::<f64>(12);
}
