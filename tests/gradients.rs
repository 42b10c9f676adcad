//! The loss, `dL/dx` and every parameter gradient of [`Mlp`] against two
//! independent routes, in `f32` and `f64`:
//!
//! 1. central finite differences of a plain `f64` evaluation of the network
//!    (`common::RefNet::fd_grads`), and
//! 2. the analytic chain rule evaluated in `f64` (`common::RefNet::grads`),
//!    on normal, large-logit, extreme, tiny and soft-target networks.
//!
//! Shapes are chosen to hit SIMD tails and remainders for 4-, 8- and 16-lane
//! builds: 5→3→5 (the seed network), 1→1→2, 7→9→3, 16→8→4, 33→17→9 and
//! 64→32→10. Every case is drawn from a seeded generator; a failure prints the
//! seed, the shape, the regime and the target.
//!
//! # Scales and tolerances
//!
//! Errors are measured as a fraction of a scale (see `common`):
//!
//! - the *natural scale* of a quantity is `max(1e-30, ‖exact‖∞, ‖M‖∞)`,
//!   where `M` is its first-order rounding-error magnitude (Wilkinson's
//!   running bound through the same chain rule, `RefNet::rounding_magnitudes`).
//!   For a well-conditioned quantity that is its own size; for an
//!   ill-conditioned one (a soft target close to the prediction, logits far
//!   larger than their gaps, saturated units fed by huge products) it is the
//!   size of the terms that cancel, below which no `f32` implementation can
//!   resolve the exact value (a plain scalar `f32` evaluation of the same
//!   formulas misses `‖exact‖∞` by up to 2e-1 on such cases).
//! - the *strict scale* is `max(1e-30, ‖exact‖∞)` for a gradient and
//!   `max(1, |L|)` for the loss.
//!
//! Every case must be within 1e-6 (f32) of its natural scale. Class-label
//! targets on normal and tiny networks (no cancellation, logits of order 1)
//! must also be within 1e-6 of the strict scale.

mod common;

use common::{
    assert_close, class_target, natural_scale, random_case, rng, soft_target, strict_grad_scale,
    strict_loss_scale, target_row, to_f64, widen_grads, RefGrads, RefNet, Regime,
};
use constgrad::{Grads, Mat, Mlp, Real, Reduction, RowVec, Target};
use rand::rngs::StdRng;
use rand::Rng;

/// Seeds per shape, regime and target kind.
const SEEDS: u64 = 8;
/// Seeds per shape and target kind for the finite differences (each case
/// costs two `f64` loss evaluations per parameter).
const FD_SEEDS: u64 = 4;

/// The relative step of the finite differences, `h = 1e-5·max(1, |p|)`.
///
/// Central differences have truncation error `h²·|L'''|/6 ≈ 2e-11` (third
/// derivatives of these well-scaled networks are O(1)) and roundoff
/// `ε₆₄·|L|/h ≈ 2e-11·|L|`, so each difference quotient is good to about
/// 1e-10 absolute, ~1e-9 of a gradient of order 0.1.
const FD_STEP: f64 = 1e-5;

/// Tolerance against finite differences, as a fraction of
/// `max(natural scale, 1e-3·max(1, |L|))` (the second term is the finite
/// differences' resolution: gradients below 1e-3 of the loss are resolved to
/// ~1e-10 absolute, not relatively):
///
/// - `f64`: `1e-7`, the finite differences' own error (~1e-9 of the scale,
///   see [`FD_STEP`]) with two orders of margin; the `f64` kernels
///   themselves are good to ~1e-16 of the natural scale.
/// - `f32`: `2e-6`: the `f32` kernels' own error (at most 1e-6 of the
///   natural scale, asserted against the analytic reference below) plus the
///   finite differences' ~1e-9, with margin.
fn fd_tol<T: Real>() -> f64 {
    if T::NAME == "f32" {
        2e-6
    } else {
        1e-7
    }
}

/// Tolerance against the analytic `f64` reference, as a fraction of the
/// natural scale:
///
/// - `f32`: `1e-6` (≈ 17 u, unit roundoff u = 2⁻²⁴ = 6.0e-8), the project's
///   accuracy target. Measured worst case over 400 seeds per shape and
///   regime: 5.8e-8 (about 1 u).
/// - `f64`: `2e-15` (≈ 18 u, u = 2⁻⁵³ = 1.1e-16), the same budget in units
///   of roundoff. Measured worst case: 1.2e-16. The reference is itself
///   evaluated in `f64`, so this bound covers both sides' rounding.
fn natural_tol<T: Real>() -> f64 {
    if T::NAME == "f32" {
        1e-6
    } else {
        2e-15
    }
}

/// Tolerance against the analytic `f64` reference on the well-conditioned
/// cases (class targets, normal and tiny networks), as a fraction of the
/// strict scale:
///
/// - `f32`: `1e-6`, the project's target. Measured worst case 7.8e-7 (64→32→10:
///   sums of 64 products).
/// - `f64`: `1e-14`. Measured worst case 2.7e-15.
fn strict_tol<T: Real>() -> f64 {
    if T::NAME == "f32" {
        1e-6
    } else {
        1e-14
    }
}

/// The targets each random case is checked with: a class label, a soft
/// target that sums to 1, and soft targets that do not (Σy = 0.6 and 1.7).
fn targets<const OUT: usize, T: Real>(r: &mut StdRng) -> Vec<(&'static str, Target<OUT, T>)> {
    vec![
        ("class", class_target(r)),
        ("soft Σy=1", soft_target(r, 1.0)),
        ("soft Σy=0.6", soft_target(r, 0.6)),
        ("soft Σy=1.7", soft_target(r, 1.7)),
    ]
}

/// One computed quantity of one case: `(name, crate value, exact value,
/// rounding-error magnitudes)`, all widened to `f64`.
type Quantity = (&'static str, Vec<f64>, Vec<f64>, Vec<f64>);

/// The loss and each gradient of one case as [`Quantity`]s.
fn quantities(got: &RefGrads, exact: &RefGrads, mag: &RefGrads) -> Vec<Quantity> {
    let mut out = vec![("L", vec![got.loss], vec![exact.loss], vec![mag.loss])];
    for (((name, g), (_, e)), (_, m)) in got.parts().into_iter().zip(exact.parts()).zip(mag.parts())
    {
        out.push((name, g.to_vec(), e.to_vec(), m.to_vec()));
    }
    out
}

/// The crate's loss and gradients of one case, from `grads`, with `loss()`
/// and `input_grad()` appended as extra quantities.
fn crate_results<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    mlp: &Mlp<IN, HID, OUT, T>,
    x: &RowVec<IN, T>,
    target: &Target<OUT, T>,
    exact: &RefGrads,
    mag: &RefGrads,
) -> Vec<Quantity> {
    let g = widen_grads(&mlp.grads(x, target));
    let mut q = quantities(&g, exact, mag);
    let (loss, dx) = mlp.input_grad(x, target);
    q.push((
        "input_grad L",
        vec![loss.to_f64()],
        vec![exact.loss],
        vec![mag.loss],
    ));
    q.push((
        "input_grad dL/dx",
        to_f64(dx.as_slice()),
        exact.x.clone(),
        mag.x.clone(),
    ));
    q.push((
        "loss()",
        vec![mlp.loss(x, target).to_f64()],
        vec![exact.loss],
        vec![mag.loss],
    ));
    q
}

/// `grads`, `input_grad` and `loss` against finite differences of the `f64`
/// network, over [`FD_SEEDS`] well-scaled random networks and every target
/// kind. Returns the worst error seen, as a fraction of the scale.
fn check_fd<const IN: usize, const HID: usize, const OUT: usize, T: Real>(seed_base: u64) -> f64 {
    let mut worst = 0.0f64;
    for seed in seed_base..seed_base + FD_SEEDS {
        let mut r = rng(seed);
        let (mlp, x) = random_case::<IN, HID, OUT, T>(&mut r, Regime::Normal);
        let net = RefNet::from_mlp(&mlp);
        let xf = to_f64(x.as_slice());
        for (kind, target) in targets::<OUT, T>(&mut r) {
            let ctx = format!("{IN}→{HID}→{OUT} {} seed {seed} {kind}", T::NAME);
            let y = target_row(&target);
            let fd = net.fd_grads(&xf, &y, FD_STEP);
            let mag = net.rounding_magnitudes(&xf, &y).grads;
            let resolution = 1e-3 * strict_loss_scale(fd.loss);
            for (name, got, exact, m) in crate_results(&mlp, &x, &target, &fd, &mag) {
                let scale = natural_scale(&exact, &m).max(resolution);
                worst = worst.max(assert_close(
                    &format!("{ctx}: {name} vs finite differences"),
                    &got,
                    &exact,
                    scale,
                    fd_tol::<T>(),
                ));
            }
        }
    }
    worst
}

/// Worst errors of [`check_analytic`] over one shape.
#[derive(Debug, Default)]
struct Worst {
    /// Worst error / natural scale, all cases.
    natural: f64,
    /// Worst error / strict scale on the well-conditioned cases.
    strict_well_conditioned: f64,
    /// Worst error / strict scale over all cases (reported, not asserted).
    strict_all: f64,
    /// Cases (of `cases`) whose error exceeds 1e-6 of the strict scale.
    over_strict: usize,
    cases: usize,
}

/// Everything [`Mlp`] computes against the analytic `f64` reference, in
/// every [`Regime`] and with every target kind: within [`natural_tol`] of the
/// natural scale always, and within [`strict_tol`] of the strict scale on
/// class targets of normal and tiny networks.
fn check_analytic<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    seed_base: u64,
) -> Worst {
    let mut w = Worst::default();
    for regime in Regime::ALL {
        for seed in seed_base..seed_base + SEEDS {
            let mut r = rng(seed);
            let (mlp, x) = random_case::<IN, HID, OUT, T>(&mut r, regime);
            let net = RefNet::from_mlp(&mlp);
            let xf = to_f64(x.as_slice());
            for (kind, target) in targets::<OUT, T>(&mut r) {
                let ctx = format!("{IN}→{HID}→{OUT} {} {regime:?} seed {seed} {kind}", T::NAME);
                let y = target_row(&target);
                let exact = net.grads(&xf, &y);
                let mag = net.rounding_magnitudes(&xf, &y).grads;
                let well_conditioned = matches!(target, Target::Class(_))
                    && matches!(regime, Regime::Normal | Regime::Tiny);
                let mut case_strict = 0.0f64;
                for (name, got, ex, m) in crate_results(&mlp, &x, &target, &exact, &mag) {
                    w.natural = w.natural.max(assert_close(
                        &format!("{ctx}: {name} vs analytic f64 (natural scale)"),
                        &got,
                        &ex,
                        natural_scale(&ex, &m),
                        natural_tol::<T>(),
                    ));
                    let strict = if name.ends_with('L') || name == "loss()" {
                        strict_loss_scale(ex[0])
                    } else {
                        strict_grad_scale(&ex)
                    };
                    let err = got
                        .iter()
                        .zip(&ex)
                        .fold(0.0f64, |a, (g, e)| a.max((g - e).abs()))
                        / strict;
                    case_strict = case_strict.max(err);
                    if well_conditioned {
                        w.strict_well_conditioned = w.strict_well_conditioned.max(assert_close(
                            &format!("{ctx}: {name} vs analytic f64 (strict scale)"),
                            &got,
                            &ex,
                            strict,
                            strict_tol::<T>(),
                        ));
                    }
                }
                w.strict_all = w.strict_all.max(case_strict);
                w.over_strict += usize::from(case_strict > strict_tol::<T>());
                w.cases += 1;
            }
        }
    }
    w
}

/// `forward` against the `f64` reference (natural scales), `ŷ` summing to 1,
/// and the entry points agreeing with each other exactly.
fn check_forward_and_consistency<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    seed_base: u64,
) -> f64 {
    let eps = T::EPSILON.to_f64();
    let mut worst = 0.0f64;
    for regime in Regime::ALL {
        for seed in seed_base..seed_base + SEEDS {
            let mut r = rng(seed);
            let (mlp, x) = random_case::<IN, HID, OUT, T>(&mut r, regime);
            let ctx = format!("{IN}→{HID}→{OUT} {} {regime:?} seed {seed}", T::NAME);
            let net = RefNet::from_mlp(&mlp);
            let xf = to_f64(x.as_slice());
            let f = mlp.forward(&x);
            let exact = net.forward(&xf);
            let y0 = vec![0.0; OUT];
            let mag = net.rounding_magnitudes(&xf, &y0);
            for (name, got, ex, m) in [
                ("a", f.a.as_slice(), &exact.a, &mag.a),
                ("h", f.h.as_slice(), &exact.h, &mag.h),
                ("θ", f.theta.as_slice(), &exact.theta, &mag.theta),
                ("ŷ", f.y_hat.as_slice(), &exact.y_hat, &mag.y_hat),
            ] {
                worst = worst.max(assert_close(
                    &format!("{ctx}: forward {name}"),
                    &to_f64(got),
                    ex,
                    natural_scale(ex, m),
                    natural_tol::<T>(),
                ));
            }
            // Each ŷ_j is a correctly rounded quotient of e_j by s, so the sum
            // is 1 within OUT·ε.
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
    worst
}

/// Runs `$f::<IN, HID, OUT, $t>(seed_base)` for every test shape (the seed
/// base differs per shape so the shapes do not share random draws) and
/// prints the worst errors (`cargo test -- --nocapture` shows them).
/// (`fd` leaves out 64→32→10, whose 2474 parameters make finite differences
/// slow in debug builds; the analytic reference covers it.)
macro_rules! for_shapes {
    ($f:ident, $t:ty) => {{
        let mut results = vec![
            ("5→3→5", format!("{:?}", $f::<5, 3, 5, $t>(100))),
            ("1→1→2", format!("{:?}", $f::<1, 1, 2, $t>(200))),
            ("7→9→3", format!("{:?}", $f::<7, 9, 3, $t>(300))),
            ("16→8→4", format!("{:?}", $f::<16, 8, 4, $t>(400))),
            ("33→17→9", format!("{:?}", $f::<33, 17, 9, $t>(500))),
        ];
        if stringify!($f) != "check_fd" {
            results.push(("64→32→10", format!("{:?}", $f::<64, 32, 10, $t>(600))));
        }
        for (shape, worst) in results {
            println!(
                "{} {} {shape}: worst {worst}",
                stringify!($f),
                stringify!($t)
            );
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
fn grads_within_1e6_of_natural_scale_of_f64_reference_f32() {
    for_shapes!(check_analytic, f32);
}

#[test]
fn grads_within_2e15_of_natural_scale_of_f64_reference_f64() {
    for_shapes!(check_analytic, f64);
}

#[test]
fn forward_matches_reference_and_entry_points_agree_f32() {
    for_shapes!(check_forward_and_consistency, f32);
}

#[test]
fn forward_matches_reference_and_entry_points_agree_f64() {
    for_shapes!(check_forward_and_consistency, f64);
}

/// The 1→1→2 network has a closed form, independent of the reference
/// network code: with `x = 0`, `W1 = 1`, `W2 = (1, −1)` and zero biases,
/// `h = ½`, `θ = (½, −½)`, `L = ln(1 + e^(−1))` for class 0, and
/// `dL/dx = dL/dθ·W2ᵀ·σ'(0)·W1ᵀ = (−σ(−1), σ(−1))·(1, −1)ᵀ·¼ = −2·σ(−1)·¼`.
#[test]
fn one_one_two_network_matches_closed_form() {
    let s = 1.0 / (1.0 + 1f64.exp());
    let mlp = Mlp::<1, 1, 2>::new(
        Mat::from_rows([[1.0]]),
        RowVec::zeros(),
        Mat::from_rows([[1.0, -1.0]]),
        RowVec::zeros(),
    );
    let (loss, dx) = mlp.input_grad(&RowVec::from_row([0.0]), &Target::class(0).unwrap());
    // f32: a few roundings of quantities of order 1.
    approx::assert_relative_eq!(
        f64::from(loss),
        (1.0 + (-1f64).exp()).ln(),
        max_relative = 1e-6
    );
    approx::assert_relative_eq!(f64::from(dx[(0, 0)]), -2.0 * s * 0.25, max_relative = 1e-6);
    let mlp64 = Mlp::<1, 1, 2, f64>::new(
        Mat::from_rows([[1.0]]),
        RowVec::zeros(),
        Mat::from_rows([[1.0, -1.0]]),
        RowVec::zeros(),
    );
    let (loss, dx) = mlp64.input_grad(&RowVec::from_row([0.0]), &Target::class(0).unwrap());
    // f64: the same, in units of 2⁻⁵³.
    approx::assert_relative_eq!(loss, (1.0 + (-1f64).exp()).ln(), max_relative = 1e-15);
    approx::assert_relative_eq!(dx[(0, 0)], -2.0 * s * 0.25, max_relative = 1e-15);
}

/// Soft-target `f32` `dL/dθ` (`Grads::b2`) where the logits are the output biases
/// (`W2 = 0`, so `θ = b2` exactly and every logit is bounded: the one-sample
/// kernels shift by the target's mode, and the row's maximum may be another
/// class). Against `ŷ_j·Σy − y_j` in `f64` from the same `θ` and `y`:
///
/// - a class with `ŷ_j < 10⁻³` keeps `y_j`: within half an ulp of the exact
///   value, plus `8ε·ŷ_j·Σy` for the rounding of `ŷ_j` (the plain form's
///   bound; the exact form, which rounds three more times, misses it);
/// - a one-hot target on a leading class: `dL/dθ_q = −Σ_{j≠q} ŷ_j` within
///   `8ε` relative, however small (the exact form's bound; the plain
///   `ŷ_q − 1` keeps only `ε/|dL/dθ_q|`);
/// - every class within `8ε·(ŷ_j·Σy + y_j)`.
fn check_soft_d_theta<const OUT: usize, T: Real>(seed: u64) {
    let mut r = rng(seed);
    let eps = T::EPSILON.to_f64();
    let (mut plain, mut leading) = (0, 0);
    for case in 0..4000 {
        let mut theta = [0.0f64; OUT];
        theta.iter_mut().for_each(|t| *t = r.gen_range(-10.0..10.0));
        let q = r.gen_range(0..OUT);
        let one_hot = case % 2 == 0;
        let y: [T; OUT] = if one_hot {
            // The target's class leads by 3–15; every other case smooths the
            // target a little (`1 − δ` on the class), where `Σ_{i≠q} y_i = δ`
            // cancels if it is taken as `Σy − y_q`.
            let top = theta.iter().copied().fold(f64::MIN, f64::max);
            theta[q] = (top + r.gen_range(3.0..15.0)).min(21.0);
            let delta = if case % 4 == 0 {
                0.0
            } else {
                r.gen_range(1e-6..1e-3)
            };
            let rest = delta / (OUT - 1) as f64;
            core::array::from_fn(|j| T::from_f64(if j == q { 1.0 - delta } else { rest }))
        } else {
            let raw: [f64; OUT] = core::array::from_fn(|_| r.gen_range(0.01..1.0));
            let sum: f64 = raw.iter().sum();
            raw.map(|v| T::from_f64(v / sum))
        };
        let theta = theta.map(T::from_f64);
        let mlp = Mlp::<2, 3, OUT, T>::new(
            Mat::from_rows([[T::from_f64(0.5); 3]; 2]),
            RowVec::zeros(),
            Mat::zeros(),
            RowVec::from_row(theta),
        );
        let x = RowVec::from_row([T::from_f64(0.25), T::from_f64(-1.0)]);
        let target = Target::probs(y);
        let single = mlp.grads(&x, &target).b2;
        // The batch kernel, on a batch of this one sample: its `dL/dθ`.
        let (mut loss, mut dx, mut batch) = ([T::ZERO], [RowVec::zeros()], Grads::default());
        mlp.grads_batch(
            &[x],
            &[target],
            Reduction::Sum,
            &mut loss,
            &mut dx,
            &mut batch,
        )
        .expect("one sample, one target");
        // The f64 reference network's softmax, from the same values.
        let f = RefNet::from_mlp(&mlp).forward(&to_f64(x.as_slice()));
        let (t64, y_hat) = (&f.theta, &f.y_hat);
        let y64 = y.map(T::to_f64);
        let sum_y: f64 = y64.iter().sum();
        let top = t64.iter().copied().fold(f64::MIN, f64::max);
        for (kernel, got) in [("grads", &single), ("grads_batch", &batch.b2)] {
            for j in 0..OUT {
                let p = y_hat[j];
                // The batch kernel rounds `θ_i − max θ` before its `exp`
                // (`ExpSums::add_lanes`): `|θ_i − max θ|·ε/2` of `ŷ_i` more.
                let shifted = |i: usize| match kernel {
                    "grads" => 0.0,
                    _ => 0.5 * eps * (top - t64[i]) * y_hat[i],
                };
                let shift_err = shifted(j) * sum_y;
                // `ŷ_j·Σ_{i≠j} y_i − y_j·Σ_{i≠j} ŷ_i`: no `1 − ŷ_j` to cancel.
                let p_off: f64 = (0..OUT).filter(|&i| i != j).map(|i| y_hat[i]).sum();
                let y_off: f64 = (0..OUT).filter(|&i| i != j).map(|i| y64[i]).sum();
                let exact = p * y_off - y64[j] * p_off;
                let err = (got[(0, j)].to_f64() - exact).abs();
                let ctx = || {
                    format!("{kernel}, {OUT} classes, case {case}, class {j}: θ {t64:?}, y {y64:?}")
                };
                assert!(
                    err <= 8.0 * eps * (p * sum_y + y64[j].abs()) + shift_err,
                    "{}: {err:e}",
                    ctx()
                );
                if p < 1e-3 && y64[j] > 0.0 {
                    plain += 1;
                    let half_ulp = 0.5 * eps * 2f64.powi(exact.abs().log2().floor() as i32);
                    assert!(
                        err <= half_ulp * 1.01 + 8.0 * eps * p * sum_y + shift_err,
                        "{}: {err:e} against half an ulp {half_ulp:e}",
                        ctx()
                    );
                }
                if one_hot && j == q {
                    // Within 8ε of the two terms' magnitudes (for a one-hot
                    // target, 8ε relative): no cancellation but the row's own.
                    leading += 1;
                    let terms = p * y_off + y64[j] * p_off;
                    let off_err: f64 = (0..OUT).filter(|&i| i != j).map(shifted).sum();
                    assert!(
                        err <= 8.0 * eps * terms + y64[j] * off_err,
                        "{}: {:e} of the terms",
                        ctx(),
                        err / terms
                    );
                }
            }
        }
    }
    assert!(
        plain > 1000 && leading > 1000,
        "{plain} small classes, {leading} leading"
    );
}

#[test]
fn soft_d_theta_keeps_its_forms_in_every_kernel() {
    // `f32` only: the `f64` reference is exact to far below an `f32` ulp.
    // 5 and 8 classes take the register kernel, 17 the chunked one; the
    // batch kernel shifts by the maximum, and each check runs it too.
    check_soft_d_theta::<5, f32>(71);
    check_soft_d_theta::<8, f32>(72);
    check_soft_d_theta::<17, f32>(73);
}
