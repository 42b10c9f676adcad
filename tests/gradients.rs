//! The loss, `dL/dx` and every parameter gradient of [`Mlp`] against two
//! independent routes, in `f32` and `f64`:
//!
//! 1. central finite differences of a plain `f64` evaluation of the network
//!    (`common::RefNet::fd_grads`), and
//! 2. the analytic chain rule evaluated in `f64` (`common::RefNet::grads`),
//!    with a tight bound of 1e-6 of each quantity's natural scale in `f32`
//!    on normal, large-logit, extreme, tiny and soft-target networks.
//!
//! Shapes are chosen to hit SIMD tails and remainders for 4-, 8- and 16-lane
//! builds: 5→3→5 (the seed network), 1→1→2, 7→9→3, 16→8→4, 33→17→9 and
//! 64→32→10. Every case is drawn from a seeded generator; a failure prints the
//! seed, the shape, the regime and the target.
//!
//! Natural scales (see `common`): a gradient is compared against
//! `max(1e-30, ‖exact‖∞)`, the loss against `max(1, |L|)`.

mod common;

use common::{
    assert_close, class_target, grad_scale, loss_scale, random_case, rng, soft_target,
    target_row, to_f64, widen_grads, RefNet, Regime,
};
use constgrad::{Mlp, Real, RowVec, Target};

/// Seeds per shape and target kind.
const SEEDS: u64 = 8;

/// The relative step of the finite differences, `h = 1e-5·max(1, |p|)`.
///
/// Central differences have truncation error `h²·|L'''|/6 ≈ 2e-11` (the
/// third derivatives of these well-scaled networks are O(1)) and roundoff
/// `ε₆₄·|L|/h ≈ 1e-11·|L|`, so the difference quotient is good to ~1e-10
/// absolute, ~1e-9 of the gradient's scale.
const FD_STEP: f64 = 1e-5;

/// Tolerance of the kernels against the finite differences, as a fraction of
/// the natural scale:
///
/// - `f64`: `1e-7`, the finite differences' own error (~1e-9 of the scale,
///   see [`FD_STEP`]) with two orders of margin; the `f64` kernels themselves
///   are good to ~1e-15.
/// - `f32`: `2e-6`: the `f32` kernels' rounding (at most 1e-6 of the scale,
///   asserted against the analytic reference below) plus the finite
///   differences' ~1e-9.
fn fd_tol<T: Real>() -> f64 {
    if T::NAME == "f32" {
        2e-6
    } else {
        1e-7
    }
}

/// Tolerance of the kernels against the analytic `f64` reference, as a
/// fraction of the natural scale:
///
/// - `f32`: `1e-6`, the project's accuracy target (f32 has ε = 1.19e-7, so
///   this allows the rounding of the dot products and exponentials of these
///   shapes, about 8 ε, and no more).
/// - `f64`: `1e-13` (ε = 2.2e-16: the same budget, ~450 ε, leaves room for
///   the 64-term dot products of 64→32→10 on the extreme cases).
fn ref_tol<T: Real>() -> f64 {
    if T::NAME == "f32" {
        1e-6
    } else {
        1e-13
    }
}

/// The targets each random case is checked with: a class label, a soft
/// target that sums to 1, and soft targets that do not (Σy = 0.6 and 1.7).
fn targets<const OUT: usize, T: Real>(rng: &mut rand::rngs::StdRng) -> Vec<(String, Target<OUT, T>)> {
    vec![
        ("class".into(), class_target(rng)),
        ("soft Σy=1".into(), soft_target(rng, 1.0)),
        ("soft Σy=0.6".into(), soft_target(rng, 0.6)),
        ("soft Σy=1.7".into(), soft_target(rng, 1.7)),
    ]
}

/// `grads`, `input_grad` and `loss` against finite differences of the `f64`
/// network, over [`SEEDS`] well-scaled random networks and every target kind.
/// Returns the worst error seen, as a fraction of the natural scale.
fn check_fd<const IN: usize, const HID: usize, const OUT: usize, T: Real>(seed_base: u64) -> f64 {
    let mut worst = 0.0f64;
    for seed in seed_base..seed_base + SEEDS {
        let mut r = rng(seed);
        let (mlp, x) = random_case::<IN, HID, OUT, T>(&mut r, Regime::Normal);
        let net = RefNet::from_mlp(&mlp);
        let xf = to_f64(x.as_slice());
        for (kind, target) in targets::<OUT, T>(&mut r) {
            let ctx = format!("{IN}→{HID}→{OUT} {} seed {seed} {kind}", T::NAME);
            let y = target_row(&target);
            let fd = net.fd_grads(&xf, &y, FD_STEP);
            let g = widen_grads(&mlp.grads(&x, &target));
            let tol = fd_tol::<T>();
            worst = worst.max(assert_close(
                &format!("{ctx}: loss"),
                &[g.loss],
                &[fd.loss],
                loss_scale(fd.loss),
                tol,
            ));
            for ((name, got), (_, exact)) in g.parts().into_iter().zip(fd.parts()) {
                worst = worst.max(assert_close(
                    &format!("{ctx}: {name} vs finite differences"),
                    got,
                    exact,
                    grad_scale(exact),
                    tol,
                ));
            }
            let (loss, dx) = mlp.input_grad(&x, &target);
            assert_close(
                &format!("{ctx}: input_grad loss"),
                &[loss.to_f64()],
                &[fd.loss],
                loss_scale(fd.loss),
                tol,
            );
            assert_close(
                &format!("{ctx}: input_grad dL/dx vs finite differences"),
                &to_f64(dx.as_slice()),
                &fd.x,
                grad_scale(&fd.x),
                tol,
            );
        }
    }
    worst
}

/// Everything [`Mlp`] computes against the analytic `f64` reference, in
/// every [`Regime`] and with every target kind, within [`ref_tol`] of the
/// natural scale. Returns the worst error seen per regime.
fn check_analytic<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    seed_base: u64,
) -> [f64; 4] {
    let mut worst = [0.0f64; 4];
    for (slot, regime) in Regime::ALL.into_iter().enumerate() {
        for seed in seed_base..seed_base + SEEDS {
            let mut r = rng(seed);
            let (mlp, x) = random_case::<IN, HID, OUT, T>(&mut r, regime);
            let net = RefNet::from_mlp(&mlp);
            let xf = to_f64(x.as_slice());
            for (kind, target) in targets::<OUT, T>(&mut r) {
                let ctx = format!("{IN}→{HID}→{OUT} {} {regime:?} seed {seed} {kind}", T::NAME);
                let y = target_row(&target);
                let exact = net.grads(&xf, &y);
                let tol = ref_tol::<T>();
                let g = mlp.grads(&x, &target);
                let gw = widen_grads(&g);
                let w = &mut worst[slot];
                *w = w.max(assert_close(
                    &format!("{ctx}: grads loss"),
                    &[gw.loss],
                    &[exact.loss],
                    loss_scale(exact.loss),
                    tol,
                ));
                for ((name, got), (_, ex)) in gw.parts().into_iter().zip(exact.parts()) {
                    *w = w.max(assert_close(
                        &format!("{ctx}: {name} vs analytic f64"),
                        got,
                        ex,
                        grad_scale(ex),
                        tol,
                    ));
                }
                let loss = mlp.loss(&x, &target).to_f64();
                *w = w.max(assert_close(
                    &format!("{ctx}: loss()"),
                    &[loss],
                    &[exact.loss],
                    loss_scale(exact.loss),
                    tol,
                ));
                let (l2, dx) = mlp.input_grad(&x, &target);
                *w = w.max(assert_close(
                    &format!("{ctx}: input_grad loss"),
                    &[l2.to_f64()],
                    &[exact.loss],
                    loss_scale(exact.loss),
                    tol,
                ));
                *w = w.max(assert_close(
                    &format!("{ctx}: input_grad dL/dx vs analytic f64"),
                    &to_f64(dx.as_slice()),
                    &exact.x,
                    grad_scale(&exact.x),
                    tol,
                ));
            }
        }
    }
    worst
}

/// `forward` against the `f64` reference, `ŷ` summing to 1, and the fused
/// entry points agreeing with each other exactly.
fn check_forward_and_consistency<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    seed_base: u64,
) {
    let eps = T::EPSILON.to_f64();
    for regime in Regime::ALL {
        for seed in seed_base..seed_base + SEEDS {
            let mut r = rng(seed);
            let (mlp, x) = random_case::<IN, HID, OUT, T>(&mut r, regime);
            let ctx = format!("{IN}→{HID}→{OUT} {} {regime:?} seed {seed}", T::NAME);
            let f = mlp.forward(&x);
            let exact = RefNet::from_mlp(&mlp).forward(&to_f64(x.as_slice()));
            let tol = ref_tol::<T>();
            for (name, got, ex) in [
                ("a", f.a.as_slice(), &exact.a),
                ("h", f.h.as_slice(), &exact.h),
                ("θ", f.theta.as_slice(), &exact.theta),
                ("ŷ", f.y_hat.as_slice(), &exact.y_hat),
            ] {
                assert_close(
                    &format!("{ctx}: forward {name}"),
                    &to_f64(got),
                    ex,
                    grad_scale(ex),
                    tol,
                );
            }
            // Each ŷ_j is within a few ulp, so the sum is 1 within OUT·ε.
            let sum: f64 = to_f64(f.y_hat.as_slice()).iter().sum();
            assert!(
                approx::abs_diff_eq!(sum, 1.0, epsilon = OUT as f64 * eps),
                "{ctx}: Σŷ = {sum}, expected 1 within {OUT}·ε"
            );
            for (kind, target) in targets::<OUT, T>(&mut r) {
                let g = mlp.grads(&x, &target);
                let (loss, dx) = mlp.input_grad(&x, &target);
                assert_eq!(g.x, dx, "{ctx} {kind}: grads().x != input_grad().1");
                assert_eq!(
                    g.loss.to_f64().to_bits(),
                    loss.to_f64().to_bits(),
                    "{ctx} {kind}: grads().loss != input_grad().0"
                );
                assert_eq!(
                    mlp.loss(&x, &target).to_f64().to_bits(),
                    loss.to_f64().to_bits(),
                    "{ctx} {kind}: loss() != input_grad().0"
                );
                let mut into = constgrad::Grads::default();
                mlp.grads_into(&x, &target, &mut into);
                assert_eq!(into, g, "{ctx} {kind}: grads_into != grads");
            }
        }
    }
}

/// Calls `$f::<IN, HID, OUT, $t>(seed)` for every test shape (the seed base
/// differs per shape so the shapes do not share random draws).
macro_rules! for_shapes {
    ($f:ident, $t:ty) => {{
        let mut out = Vec::new();
        out.push(("5→3→5", format!("{:?}", $f::<5, 3, 5, $t>(100))));
        out.push(("1→1→2", format!("{:?}", $f::<1, 1, 2, $t>(200))));
        out.push(("7→9→3", format!("{:?}", $f::<7, 9, 3, $t>(300))));
        out.push(("16→8→4", format!("{:?}", $f::<16, 8, 4, $t>(400))));
        out.push(("33→17→9", format!("{:?}", $f::<33, 17, 9, $t>(500))));
        out.push(("64→32→10", format!("{:?}", $f::<64, 32, 10, $t>(600))));
        for (shape, worst) in out {
            println!("{} {}: worst error / natural scale = {}", stringify!($t), shape, worst);
        }
    }};
}

#[test]
fn grads_match_finite_differences_f32() {
    for_shapes!(check_fd, f32);
}

#[test]
fn grads_match_finite_differences_f64() {
    for_shapes!(check_fd, f64);
}

#[test]
fn grads_match_analytic_f64_reference_within_1e6_of_natural_scale_f32() {
    for_shapes!(check_analytic, f32);
}

#[test]
fn grads_match_analytic_f64_reference_f64() {
    for_shapes!(check_analytic, f64);
}

#[test]
fn forward_matches_reference_and_fused_paths_agree_f32() {
    for_shapes!(check_forward_and_consistency, f32);
}

#[test]
fn forward_matches_reference_and_fused_paths_agree_f64() {
    for_shapes!(check_forward_and_consistency, f64);
}

/// The 1→1→2 network has a closed form: with `x = 0`, `W1 = 1`, `W2 = (1, −1)`
/// and zero biases, `h = ½`, `θ = (½, −½)`, `L = ln(1 + e^(−1))` for class 0
/// and `dL/dx = −2·σ(−1)·¼` (independent of the reference network code).
#[test]
fn tiny_network_matches_closed_form() {
    let mlp = Mlp::<1, 1, 2>::new(
        constgrad::Mat::from_rows([[1.0]]),
        RowVec::zeros(),
        constgrad::Mat::from_rows([[1.0, -1.0]]),
        RowVec::zeros(),
    );
    let (loss, dx) = mlp.input_grad(&RowVec::from_row([0.0]), &Target::class(0).unwrap());
    let s = 1.0 / (1.0 + 1f64.exp());
    approx::assert_relative_eq!(loss as f64, (1.0 + (-1f64).exp()).ln(), max_relative = 1e-6);
    approx::assert_relative_eq!(dx[(0, 0)] as f64, -2.0 * s * 0.25, max_relative = 1e-6);
}
