//! Support for the large-network tests (`tests/stack_safety.rs`,
//! `tests/large_shapes.rs`): threads with chosen stack sizes, boxed random
//! networks built off the caller's stack, and a gradient check against the
//! `f64` reference of `tests/common` that scales to large shapes (every
//! entry against the analytic reference, a handful against central
//! differences).
#![allow(dead_code)]

use std::thread;

use crate::common::{
    class_target, natural_scale, rng, soft_target, strict_loss_scale, target_row, to_f64,
    widen_grads, RefNet,
};
use constgrad::{Grads, Mlp, Param, Real, RowVec, Target};
use rand::Rng;

/// Runs `f` on a new thread with a `stack`-byte stack and returns its
/// result; `f` may borrow from the caller (a scoped thread).
pub fn on_stack<R: Send>(stack: usize, f: impl FnOnce() -> R + Send) -> R {
    thread::scope(|scope| {
        thread::Builder::new()
            .stack_size(stack)
            .spawn_scoped(scope, f)
            .expect("spawn a thread")
            .join()
            .expect("the thread panicked")
    })
}

/// A random network in a `Box`, an input in a `Box`, and a class and a soft
/// target. Built on a thread with a `build_stack`-byte stack (`Mlp::zeros`
/// stages the whole network on the stack), filled in place with
/// `fill_with`: `W1 ~ U(±w1)`, `W2 ~ U(±w2)`, biases `U(±0.5)`,
/// `x ~ U[0, 1]`.
#[allow(clippy::type_complexity)]
pub fn boxed_case<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    seed: u64,
    (w1, w2): (f64, f64),
    build_stack: usize,
) -> (
    Box<Mlp<IN, HID, OUT, T>>,
    Box<RowVec<IN, T>>,
    [Target<OUT, T>; 2],
) {
    on_stack(build_stack, move || {
        let mut r = rng(seed);
        let mut net = Box::new(Mlp::<IN, HID, OUT, T>::zeros());
        net.fill_with(|p, _, _| {
            let s = match p {
                Param::W1 => w1,
                Param::W2 => w2,
                Param::B1 | Param::B2 => 0.5,
            };
            T::from_f64(r.gen_range(-s..=s))
        });
        let mut x = Box::new(RowVec::<IN, T>::zeros());
        for v in x.as_mut_slice() {
            *v = T::from_f64(r.gen_range(0.0..=1.0));
        }
        let targets = [class_target(&mut r), soft_target(&mut r, 1.0)];
        (net, x, targets)
    })
}

/// A boxed all-zero `Grads`, built on a thread with a `build_stack`-byte
/// stack.
pub fn boxed_grads<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    build_stack: usize,
) -> Box<Grads<IN, HID, OUT, T>> {
    on_stack(build_stack, || Box::new(Grads::default()))
}

/// Asserts `|got_i − exact_i| ≤ rel · scale` for every `i`; returns the
/// largest `|got_i − exact_i| / scale`. Unlike `common::assert_close`, the
/// failure message shows only the offending entry (these vectors have up
/// to a million entries).
#[track_caller]
pub fn assert_close(what: &str, got: &[f64], exact: &[f64], scale: f64, rel: f64) -> f64 {
    assert_eq!(got.len(), exact.len(), "{what}: length");
    let mut worst = 0.0f64;
    for (i, (&g, &e)) in got.iter().zip(exact).enumerate() {
        let err = (g - e).abs();
        assert!(
            err <= rel * scale,
            "{what}[{i}]: got {g:e}, expected {e:e}, |diff| = {err:e} > {rel:e} × scale {scale:e}"
        );
        worst = worst.max(err / scale);
    }
    worst
}

/// Batched against single-sample results for one sample: within
/// `2·ε·natural scale` of each other (the bound of `tests/batch.rs`; the
/// natural scale grows with the length of the sums, which is what lets the
/// two summation orders drift apart), and each within [`natural_tol`] of
/// the `f64` reference.
pub fn check_batched_sample<const IN: usize, const OUT: usize, T: Real>(
    net: &RefNet,
    x: &RowVec<IN, T>,
    t: &Target<OUT, T>,
    batched: (T, &RowVec<IN, T>),
    single: (T, &RowVec<IN, T>),
    ctx: &str,
) {
    let eps = T::EPSILON.to_f64();
    let (xf, y) = (to_f64(x.as_slice()), target_row(t));
    let exact = net.grads(&xf, &y);
    let mag = net.rounding_magnitudes(&xf, &y).grads;
    let scale_l = natural_scale(&[exact.loss], &[mag.loss]);
    let scale_x = natural_scale(&exact.x, &mag.x);
    let (bl, bx) = ([batched.0.to_f64()], to_f64(batched.1.as_slice()));
    let (sl, sx) = ([single.0.to_f64()], to_f64(single.1.as_slice()));
    assert_close(
        &format!("{ctx}: batched L vs single"),
        &bl,
        &sl,
        scale_l,
        2.0 * eps,
    );
    assert_close(
        &format!("{ctx}: batched dL/dx vs single"),
        &bx,
        &sx,
        scale_x,
        2.0 * eps,
    );
    let tol = natural_tol::<T>();
    for (which, l, dx) in [("batched", &bl, &bx), ("single", &sl, &sx)] {
        assert_close(
            &format!("{ctx}: {which} L vs f64"),
            l,
            &[exact.loss],
            scale_l,
            tol,
        );
        assert_close(
            &format!("{ctx}: {which} dL/dx vs f64"),
            dx,
            &exact.x,
            scale_x,
            tol,
        );
    }
}

/// [`check_batched_sample`] for samples `which` of a batch run: each against
/// the one-sample `input_grad` of its input and the `f64` reference.
pub fn check_batch_samples<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    net: &Mlp<IN, HID, OUT, T>,
    (xs, ts): (&[RowVec<IN, T>], &[Target<OUT, T>]),
    (losses, dxs): (&[T], &[RowVec<IN, T>]),
    which: impl IntoIterator<Item = usize>,
    ctx: &str,
) {
    let reference = RefNet::from_mlp(net);
    for s in which {
        let (l1, d1) = net.input_grad(&xs[s], &ts[s]);
        check_batched_sample(
            &reference,
            &xs[s],
            &ts[s],
            (losses[s], &dxs[s]),
            (l1, &d1),
            &format!("{ctx} sample {s}"),
        );
    }
}

/// `n` copies of `x`, the `s`-th rotated left by `s·step` entries:
/// distinct inputs of the same scale.
pub fn rotated_inputs<const IN: usize, T: Real>(
    x: &RowVec<IN, T>,
    n: usize,
    step: usize,
) -> Vec<RowVec<IN, T>> {
    (0..n)
        .map(|s| {
            let mut v = *x;
            v.as_mut_slice().rotate_left((s * step) % IN);
            v
        })
        .collect()
}

/// The single-sample kernels' tolerance against the analytic `f64`
/// reference, as a fraction of the natural scale (`tests/gradients.rs`):
/// 1e-6 in `f32`, 2e-15 in `f64`.
pub fn natural_tol<T: Real>() -> f64 {
    if T::NAME == "f32" {
        1e-6
    } else {
        2e-15
    }
}

/// Central difference of `eval` at `p`, step `1e-5·max(1, |p|)` (about
/// 1e-10 absolute error on these networks; the difference of the two
/// perturbed values is used as `2h`, so the step is exact).
fn central(mut eval: impl FnMut(f64) -> f64, p: f64) -> f64 {
    let h = 1e-5 * p.abs().max(1.0);
    let (hi, lo) = (p + h, p - h);
    (eval(hi) - eval(lo)) / (hi - lo)
}

/// Checks the gradients `g` of `net` at `(x, t)`: every entry against the
/// analytic `f64` reference (within [`natural_tol`] of the natural scale),
/// and the entries at `probe` (indices into `x`, `W1`, `b1`, `W2`, `b2`,
/// row-major) against central differences of the `f64` loss (within 2e-6
/// in `f32`, 1e-7 in `f64`, of the natural scale floored at 1e-3·max(1, L),
/// as in `tests/gradients.rs`).
pub fn check_grads<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    net: &Mlp<IN, HID, OUT, T>,
    x: &RowVec<IN, T>,
    t: &Target<OUT, T>,
    g: &Grads<IN, HID, OUT, T>,
    probe: [&[usize]; 5],
    ctx: &str,
) {
    let reference = RefNet::from_mlp(net);
    let (xf, y) = (to_f64(x.as_slice()), target_row(t));
    let exact = reference.grads(&xf, &y);
    let mag = reference.rounding_magnitudes(&xf, &y).grads;
    let got = widen_grads(g);
    assert_close(
        &format!("{ctx}: L vs f64 reference"),
        &[got.loss],
        &[exact.loss],
        natural_scale(&[exact.loss], &[mag.loss]),
        natural_tol::<T>(),
    );
    for (((name, gv), (_, ev)), (_, mv)) in
        got.parts().into_iter().zip(exact.parts()).zip(mag.parts())
    {
        assert_close(
            &format!("{ctx}: {name} vs f64 reference"),
            gv,
            ev,
            natural_scale(ev, mv),
            natural_tol::<T>(),
        );
    }

    let fd_tol = if T::NAME == "f32" { 2e-6 } else { 1e-7 };
    let resolution = 1e-3 * strict_loss_scale(exact.loss);
    let params: [fn(&mut RefNet) -> &mut Vec<f64>; 4] =
        [|n| &mut n.w1, |n| &mut n.b1, |n| &mut n.w2, |n| &mut n.b2];
    for (part, ((name, gv), (_, mv))) in got.parts().into_iter().zip(mag.parts()).enumerate() {
        let scale = natural_scale(exact.parts()[part].1, mv).max(resolution);
        for &i in probe[part] {
            let fd = if part == 0 {
                let mut xp = xf.clone();
                central(
                    |v| {
                        xp[i] = v;
                        reference.loss(&xp, &y)
                    },
                    xf[i],
                )
            } else {
                let pick = params[part - 1];
                let mut n = reference.clone();
                let p = pick(&mut n)[i];
                central(
                    |v| {
                        pick(&mut n)[i] = v;
                        n.loss(&xf, &y)
                    },
                    p,
                )
            };
            assert_close(
                &format!("{ctx}: {name}[{i}] vs finite differences"),
                &[gv[i]],
                &[fd],
                scale,
                fd_tol,
            );
        }
    }
}
