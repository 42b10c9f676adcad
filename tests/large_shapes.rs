//! A large network, 1024→1024→1000 (`Mlp` ≈ 20.9 MB in `f32`: `W1` in two
//! layouts, `W1ᵀ`, `W2`, `W2ᵀ`, of 4 MB each; `Grads` ≈ 8.2 MB; twice that
//! in `f64`).
//!
//! What it takes (measured on x86-64 with AVX2, 8 `f32` / 4 `f64` lanes):
//! - Building: the network and its gradients live in `Box`es built once on a
//!   thread with a big stack, because `Mlp::zeros` and `Grads::default`
//!   return the whole value, which is staged on the stack before it is
//!   boxed (`f32`: 64 MiB of stack is enough in release, 128 MiB in debug;
//!   [`BUILD_STACK`] is 512 MiB, which costs only address space). The
//!   network is then filled in place with `fill_with`.
//! - `input_grad` and `grads_into` keep `O(HID + OUT)` scalars on the stack:
//!   a thread running only `input_grad` needs 55–71 KiB (`f32`) / 103–119
//!   KiB (`f64`) in release, 135–151 KiB / 247–263 KiB in debug (231–247 /
//!   375–391 before the chunked kernel's stages got frames of their own in
//!   debug builds), so `f64` does not reliably fit 256 KiB in a debug build.
//! - `input_grad_batch` keeps `O(LANES·(IN + HID + OUT))` scalars on the
//!   stack: a thread running only it needs 567–599 KiB in release (`f32`–
//!   `f64`; 887–919 KiB before its block pass filled caller-owned storage)
//!   and 1.04–1.08 MiB in debug.
//!
//! Results are checked against the plain `f64` reference network of
//! `tests/common` (every entry) and central differences of its loss (a few
//! entries). The full checks take about a minute in a debug build, so they
//! run in release only (`cargo test --release --test large_shapes`); a
//! lighter test (build, kernels on small stacks, a few entries against
//! finite differences) runs in both profiles.

mod big_support;
mod common;

use big_support::{
    boxed_case, boxed_grads, check_batch_samples, check_grads, on_stack, rotated_inputs,
};
use common::{strict_loss_scale, target_row, to_f64, RefNet};
use constgrad::{Mlp, Real, RowVec, Target};

const IN: usize = 1024;
const HID: usize = 1024;
const OUT: usize = 1000;

/// The stack of the thread that builds the boxed network and gradients.
const BUILD_STACK: usize = 512 * 1024 * 1024;
/// The stack of the threads that run `input_grad` and `grads_into`: 256 KiB
/// in release; 512 KiB in debug, where `f64` needs 384 KiB.
const KERNEL_STACK: usize = if cfg!(debug_assertions) {
    512 * 1024
} else {
    256 * 1024
};
/// The stack of the thread that runs `input_grad_batch`: over three times
/// the measured need in release (567–599 KiB; it was 887–919 KiB when this
/// was set to twice the need); 4 MiB in debug, where the test is ignored
/// unless asked for.
const BATCH_STACK: usize = if cfg!(debug_assertions) {
    4 * 1024 * 1024
} else {
    2 * 1024 * 1024
};

/// A boxed random network (`W1 ~ U(±0.1)` with `x ~ U[0, 1]`: hidden
/// pre-activations of order 1; `W2 ~ U(±0.1)`: logits of order 1), a boxed
/// input and a class and a soft target.
#[allow(clippy::type_complexity)]
fn case<T: Real>(
    seed: u64,
) -> (
    Box<Mlp<IN, HID, OUT, T>>,
    Box<RowVec<IN, T>>,
    [Target<OUT, T>; 2],
) {
    boxed_case(seed, (0.1, 0.1), BUILD_STACK)
}

/// Entries checked against central differences: `x`, `W1`, `b1`, `W2`, `b2`.
const PROBE: [&[usize]; 5] = [
    &[0, 517, IN - 1],
    &[0, 700 * HID + 301, IN * HID - 1],
    &[0, HID - 1],
    &[0, 512 * OUT + 999, HID * OUT - 1],
    &[0, OUT - 1],
];

fn check_large<T: Real>(seed: u64) {
    let (net, x, targets) = case::<T>(seed);
    for (kind, t) in ["class", "soft"].into_iter().zip(targets) {
        let ctx = format!("1024→1024→1000 {} seed {seed} {kind} target", T::NAME);
        let mut g = boxed_grads::<IN, HID, OUT, T>(BUILD_STACK);
        let (loss, dx) = on_stack(KERNEL_STACK, || {
            net.grads_into(&x, &t, &mut g);
            net.input_grad(&x, &t)
        });
        check_grads(&net, &x, &t, &g, PROBE, &ctx);
        assert_eq!(dx, g.x, "{ctx}: input_grad vs grads_into");
        assert_eq!(
            loss.to_f64(),
            g.loss.to_f64(),
            "{ctx}: input_grad loss vs grads_into"
        );

        // A full block and a partial one; the first and last sample of each
        // are checked.
        let lanes = Mlp::<IN, HID, OUT, T>::BATCH_LANES;
        let n = lanes + 1;
        let xs = rotated_inputs(&x, n, 101);
        let ts = vec![t; n];
        let (mut losses, mut dxs) = (vec![T::ZERO; n], vec![RowVec::zeros(); n]);
        on_stack(BATCH_STACK, || {
            net.input_grad_batch(&xs, &ts, &mut losses, &mut dxs)
        })
        .expect("equal lengths");
        check_batch_samples(
            &*net,
            (&xs, &ts),
            (&losses, &dxs),
            [0, lanes - 1, lanes],
            &ctx,
        );
    }
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "about a minute in debug: run with --release"
)]
fn large_network_input_grad_and_grads_into_match_f64_reference_f32() {
    check_large::<f32>(1);
}

#[test]
#[cfg_attr(
    debug_assertions,
    ignore = "about a minute in debug: run with --release"
)]
fn large_network_input_grad_and_grads_into_match_f64_reference_f64() {
    check_large::<f64>(2);
}

/// Selects one parameter block of a [`RefNet`].
type Pick = fn(&mut RefNet) -> &mut Vec<f64>;

/// Build, `grads_into` and `input_grad` on [`KERNEL_STACK`], and one entry
/// of each gradient against central differences of the `f64` loss, on the
/// scale `max(‖gradient‖∞, 1e-3·max(1, L))` (no full reference pass, so it
/// is quick enough for debug builds).
fn check_large_light<T: Real>(seed: u64) {
    let (net, x, [t, _]) = case::<T>(seed);
    let mut g = boxed_grads::<IN, HID, OUT, T>(BUILD_STACK);
    let (loss, dx) = on_stack(KERNEL_STACK, || {
        net.grads_into(&x, &t, &mut g);
        net.input_grad(&x, &t)
    });
    let ctx = format!("1024→1024→1000 {} seed {seed}", T::NAME);
    assert_eq!(dx, g.x, "{ctx}: input_grad vs grads_into");
    assert_eq!(loss.to_f64(), g.loss.to_f64(), "{ctx}: loss");
    let reference = RefNet::from_mlp(&*net);
    let (xf, y) = (to_f64(x.as_slice()), target_row(&t));
    let l = reference.loss(&xf, &y);
    let floor = 1e-3 * strict_loss_scale(l);
    let tol = if T::NAME == "f32" { 2e-6 } else { 1e-7 };
    let central = |eval: &mut dyn FnMut(f64) -> f64, p: f64| {
        let h = 1e-5 * p.abs().max(1.0);
        (eval(p + h) - eval(p - h)) / ((p + h) - (p - h))
    };
    let mut xp = xf.clone();
    let fd_x = central(
        &mut |v| {
            xp[517] = v;
            reference.loss(&xp, &y)
        },
        xf[517],
    );
    let mut entries = vec![(
        "dL/dx[517]",
        g.x.as_slice()[517].to_f64(),
        fd_x,
        g.x.as_slice(),
    )];
    let params: [(&str, Pick, &[T], usize); 4] = [
        ("dL/dW1", |n| &mut n.w1, g.w1.as_slice(), 700 * HID + 301),
        ("dL/db1", |n| &mut n.b1, g.b1.as_slice(), HID - 1),
        ("dL/dW2", |n| &mut n.w2, g.w2.as_slice(), 512 * OUT + 999),
        ("dL/db2", |n| &mut n.b2, g.b2.as_slice(), 7),
    ];
    let mut net64 = reference.clone();
    for (name, pick, got, i) in params {
        let p = pick(&mut net64)[i];
        let fd = central(
            &mut |v| {
                pick(&mut net64)[i] = v;
                net64.loss(&xf, &y)
            },
            p,
        );
        pick(&mut net64)[i] = p;
        entries.push((name, got[i].to_f64(), fd, got));
    }
    for (name, got, fd, all) in entries {
        let scale = all.iter().fold(floor, |m, v| m.max(v.to_f64().abs()));
        assert!(
            (got - fd).abs() <= tol * scale,
            "{ctx}: {name} = {got:e}, finite differences {fd:e}, scale {scale:e}"
        );
    }
}

#[test]
fn large_network_builds_and_runs_on_small_stacks_f32() {
    check_large_light::<f32>(3);
}

#[test]
fn large_network_builds_and_runs_on_small_stacks_f64() {
    check_large_light::<f64>(4);
}
