//! Every input the fuzz targets in `fuzz/` flagged, replayed as a unit test
//! through the very check that flagged it (see FUZZING.md).
//!
//! `fuzz/src/checks.rs` is included by path: it is plain Rust on constgrad's
//! public API with f64 / double-double references, no fuzzing machinery.
//! Tests here run strictly: the `CONSTGRAD_FUZZ_KNOWN` tolerance list that
//! `.ci/fuzz.sh` passes to the fuzzers is never set, so an open finding is an
//! `#[ignore]`d test that fails until `src/` is fixed.
//!
//! Inputs are the minimised crash inputs, rewritten by hand as the smallest
//! network or row that shows the same thing.

#[allow(dead_code)]
#[path = "../fuzz/src/checks.rs"]
mod checks;

use checks::{Api, Goal, Net};
use constgrad::{Mat, Mlp, RowVec, Target};

fn pass(result: checks::Check) {
    if let Err(msg) = result {
        panic!("{msg}");
    }
}

// --- Findings in src/, now fixed -------------------------------------------

/// Finding `log-softmax-pos-inf` (softmax_family, first smoke run), fixed in
/// the documentation: the docs promised NaN in every entry of a log-softmax
/// with a `+∞` logit, the kernel returns `−∞` at the finite logits (the
/// limit: their probabilities tend to 0) and NaN at the `+∞` one. The docs
/// now state that, and the check enforces it.
#[test]

fn log_softmax_with_a_positive_infinite_logit_is_minus_infinity_at_the_finite_logits() {
    pass(checks::check_softmax_row(
        [0.0f32, f32::INFINITY],
        0,
        [1.0, 0.0],
    ));
}

/// Finding `class-w2-diff-overflow` (input_grad and grads, smoke runs).
/// For a class label `l`, the backward pass forms `W2[k][j] − W2[k][l]` in
/// f32 (`dL/dh = Σ_{j≠l} ŷ_j·(W2ᵀ_j − W2ᵀ_l)`). With `W2 = [[MAX, −MAX]]`
/// that difference is `−∞`, so `dL/dx = −∞` although every forward
/// intermediate is small (`θ ≈ ±5.6`) and the exact gradient is
/// `dL/dx ≈ −1.5e-4`: DESIGN.md's "finite inputs whose forward intermediates
/// are finite give … finite gradients" is broken. (When `ŷ_j` underflows to 0
/// the product is `0·∞ = NaN`.) Fixed: the difference is formed halved,
/// `W2[k][j]/2 − W2[k][l]/2`, which cannot overflow, and multiplied by
/// `2ŷ_j = e_j/(s/2)`.
#[test]

fn class_label_gradient_is_finite_when_w2_has_opposite_extreme_entries() {
    let net = Net::<1, 1, 2> {
        w1: [[1.0]],
        b1: [-87.0],
        w2: [[f32::MAX, -f32::MAX]],
        b2: [0.0, 0.0],
    };
    pass(checks::check_network(
        &net,
        [0.0],
        &Goal::Class(0),
        Api::InputGrad,
    ));
    pass(checks::check_network(
        &net,
        [0.0],
        &Goal::Class(0),
        Api::Grads,
    ));
}

// --- Inputs the fuzzers flagged that turned out to be inside the promise ---
/// Session 20's soft-target backward (`softmax::soft_d_theta`, the pivoted
/// product of `softmax::pivot_unscale`), input_grad run, native: targets of
/// −87 and a subnormal weight `W2[1][1] = −2^-149`. The exact `dL/dx` is
/// 7.8e-44, carried by that weight alone; the pivoted product halves it,
/// which loses its only bit, and the kernel returned 0. The halving's
/// `2^-150` per weight, times `|dL/dθ_j| ≈ 87`, is now in the check's
/// budget: inside the documented error, as for class labels, whose
/// `|dL/dθ| ≤ 1` kept it below the absolute floor.
#[test]
fn soft_targets_may_lose_a_subnormal_weights_last_bit_in_the_pivoted_product() {
    let net = Net::<5, 3, 5> {
        w1: [
            [-1.1875, 6.0, -1.1754865e-38],
            [6.2148438, 0.0, -87.33654],
            [-87.33611, 0.0, 0.0],
            [0.0; 3],
            [0.0; 3],
        ],
        b1: [0.0; 3],
        w2: [[0.0; 5], [0.0, -1e-45, 0.0, 0.0, 0.0], [0.0; 5]],
        b2: [0.0, 0.0, -0.125, -0.6875, -2.375],
    };
    let x = [-0.0625, -87.33654, -87.33655, 0.0, 0.0];
    let goal = Goal::Probs([-87.33654; 5]);
    pass(checks::check_network(&net, x, &goal, Api::InputGrad));
    pass(checks::check_network(&net, x, &goal, Api::Grads));
}

/// The same, batch_vs_single run: subnormal weights of −4.3e-44 (31 times
/// 2^-149) halved to 16 times 2^-149, a 3% error that targets of −1e30 carry
/// into a gradient of 2.5e-36, in the batched and the one-sample kernel
/// alike.
#[test]
fn soft_targets_may_round_halved_subnormal_weights_in_both_kernels() {
    let (a, t) = (-14.058594f32, -4.3e-44f32);
    let net = Net::<5, 3, 5> {
        w1: [[0.0, -0.0, 1.0], [a; 3], [a; 3], [a, 31.941406, t], [t; 3]],
        b1: [t; 3],
        w2: [[t; 5], [t, -0.0, t, t, t], [a; 5]],
        b2: [a; 5],
    };
    let x = [a; 5];
    let y = [a, a, a, -1e30, -1e30];
    let target = constgrad::Target::probs(y);
    pass(checks::check_network(
        &net,
        x,
        &Goal::Probs(y),
        Api::InputGrad,
    ));
    pass(checks::check_batch(
        &net,
        &[(x, target), (x, target)],
        (1, 3, 4),
    ));
}

/// The same change, grads run: mixed-sign targets `[3.19, 0.25, −1.38,
/// −3.19]` at a class whose `ŷ_0` is small, so `dL/dθ_0 ≈ −y_0`. The first
/// version of the change used `(e_j·Σ_{i≠j} y_i − y_j·Σ_{i≠j} e_i)/s` for
/// every class, which rounds `y_j·(1 − ŷ_j)` through two sums and a divide:
/// 3 ulps of `dL/dθ_0` against the check's 1. The kernel now keeps
/// `ŷ_j·Σy − y_j` (exact `y_j`) wherever `e_j < ½`, and the check budgets
/// each form where the kernel uses it.
#[test]
fn soft_targets_keep_y_exact_where_the_probability_is_small() {
    let net = Net::<16, 8, 4> {
        w1: [
            [3.75, -1.75, 3.0, -3.75, -3.1875, 3.9375, 2.25, 0.375],
            [2.25, 2.125, 3.375, 2.5625, 4.0, 1.0625, 1.1875, -0.5625],
            [
                1.875,
                -1.9375,
                3.0625,
                -2.3125,
                1.5,
                1.875,
                -3.125,
                -1.1754944e-38,
            ],
            [
                -1.175502e-38,
                2.625,
                0.25,
                -3.625,
                -1.625,
                -2.3125,
                -1.75,
                -3.5625,
            ],
            [-1.4375, -1.125, -3.9375, 1.5, -3.75, -2.5, 2.6875, 2.3125],
            [-0.25, -0.5625, 0.375, -0.875, 3.1875, 0.25, -1.375, -2.75],
            [-3.1875, -1.1875, 2.75, 2.0, 3.6875, -3.125, -3.6875, 2.8125],
            [2.25, 2.25, -0.4375, -1.8125, -2.875, 2.4375, 1.625, -3.0],
            [
                3.9375, 0.3125, 1.5625, 1.6875, -0.75, -3.4375, -1.6875, -0.6875,
            ],
            [-3.4375, 2.0625, -2.875, 2.0625, 2.125, -3.9375, 2.625, 2.0],
            [2.0, -3.75, -3.0, 2.5, 2.25, -0.0625, -1.0, -3.0],
            [2.1875, -1.5, 2.375, 2.75, -2.0625, 1.125, 0.6875, 1.375],
            [0.0, 2.75, -1.4375, -4.0, -1.6875, -3.4375, 3.875, -3.25],
            [2.75, 3.875, -0.5625, -2.6875, -1.6875, 0.0625, 0.125, 3.25],
            [-2.8125, 1.25, -2.125, 1.75, 2.4375, 0.4375, 2.375, 2.75],
            [-3.4375, -0.6875, -2.9375, -1.75, 3.75, 1.8125, -1.4375, 1.0],
        ],
        b1: [2.875, 1.4375, 3.0, -2.25, -2.875, 0.8125, -1.5625, 0.25],
        w2: [
            [-2.0625, 1.875, -0.5625, -1.5],
            [2.125, 0.0, 0.0, 6.8476563],
            [32.023438, 0.375, 0.375, 1.8272101e-18],
            [3.625, -2.375, 1.625, -3.3125],
            [2.625, -2.25, -3.5625, -3.0],
            [0.5625, 3.0, -2.1875, -3.8125],
            [-1.875, 3.375, -3.6875, 3.0],
            [2.625, 0.75, -0.375, 3.1875],
        ],
        b2: [-0.1875, -1.125, 3.4375, 2.625],
    };
    let x = [
        0.25, -3.625, -1.625, -2.3125, -1.75, -3.5625, -1.4375, -1.125, -3.9375, 1.5, -3.75, -2.5,
        2.6875, 2.3125, -0.25, -0.5625,
    ];
    let goal = Goal::Probs([3.1875, 0.25, -1.375, -3.1875]);
    pass(checks::check_network(&net, x, &goal, Api::Grads));
    pass(checks::check_network(&net, x, &goal, Api::InputGrad));
}

/// Session 24's first shift by the target's mode, input_grad run, native:
/// on a network whose logits are bounded, a soft target with a negative
/// entry, `y = (−1.125, 0, 0, 0, 0)`, was shifted by its first largest
/// entry's logit, `θ_1`. The loss `−1.125·((θ_1 − θ_0) + ln s)` then
/// formed a tiny value, `−8.2e-4`, from two terms of about 4 that cancel,
/// and missed it by 7.9e-7, 189 times the check's bound. Only targets
/// `y ≥ 0`, whose mode's own term outweighs such rounding, take the mode's
/// shift now; this one keeps the maximum.
#[test]
fn a_soft_target_with_a_negative_entry_keeps_the_maximum_as_its_shift() {
    let net = Net::<5, 3, 5> {
        w1: [
            [-1.1875, 1.9375, -3.5],
            [3.375, -1.0, -17.175781],
            [-1.5, 2.0, 0.6875],
            [-1.375, 3.5, -1.1875],
            [-0.5, 0.75, 0.6875],
        ],
        b1: [-1.375, 3.5, 0.375],
        w2: [
            [-0.0625, 0.25, 0.75, 0.6875, -1.375],
            [3.5, 0.375, -0.0625, 0.25, 3.8125],
            [3.75, -0.75, -2.6875, -2.3125, -3.4375],
        ],
        b2: [1.6875, -2.25, -1.5625, -0.125, -0.6875],
    };
    let x = [-2.375, -2.8125, 0.25, -3.4375, 1.6875];
    let goal = Goal::Probs([-1.125, 0.0, 0.0, 0.0, 0.0]);
    pass(checks::check_network(&net, x, &goal, Api::InputGrad));
    pass(checks::check_network(&net, x, &goal, Api::Grads));
}

/// Session 20's compensated sums for rows longer than one vector,
/// softmax_family run, native (N = 17 on 16 lanes): a logit of `−f32::MAX`
/// under a maximum of 1e30 gives a loss term of `f32::MAX`, and the other
/// terms push the compensated lane over it while the plain sum stays at
/// `f32::MAX`; the correction became `∞ − ∞` and the loss NaN. The plain sum
/// now stands wherever the compensated one is not finite.
#[test]
fn soft_loss_of_a_long_row_near_overflow_is_not_nan() {
    let mut theta = [1.0f32; 17];
    theta[0] = -0.953125;
    theta[10] = 1e30;
    theta[13] = -f32::MAX;
    let mut y = [1.0f32; 17];
    y[10] = 5.75;
    y[16] = 0.0;
    pass(checks::check_softmax_row(theta, 6, y));
}

/// Session 26's soft-target loss `Σ_j y_j·(m − θ_j) + Σy·ln s`,
/// softmax_family, strict native runs: `Σy` can overflow where the loss
/// does not. First (3254 executions in), targets of 3.4e38 each and a logit
/// far above the others (`ρ = 0`, `ln s = 0`): the final FMA formed
/// `∞·0`, NaN, for a loss that overflows. Then (4130 executions into the
/// run after a first fix), `f32::MAX` and 8.7e35 on two classes: `Σy =
/// +∞` and the loss `+∞`, where it is 9.29e36. Where `Σy` is not finite
/// the kernels now take the terms `y_j·((m − θ_j) + ln s)`
/// (`softmax::soft_loss_terms`): the row kernel, and the network kernels
/// one sample at a time (register and chunked) and batched.
#[test]
fn soft_loss_whose_target_sum_overflows_takes_the_terms() {
    let big = f32::from_bits(0x7f7f_ffbf);
    let theta = [0.011_718_75, 0.125, 0.429_687_5, -2.660_156_3, big];
    pass(checks::check_softmax_row(theta, 0, [big; 5]));
    let theta = [
        -0.0,
        4.316_268_3e-38,
        1.328_125,
        -2.792_968_8,
        f32::NEG_INFINITY,
        -2.753_906_3,
        12.011_719,
        -9.953_125,
        -0.0625,
    ];
    let y = [
        0.0,
        -0.0,
        8.682_489e35,
        0.0,
        0.0,
        8.261_719,
        f32::MAX,
        1.131_228e-25,
        1e-45,
    ];
    pass(checks::check_softmax_row(theta, 0, y));

    // Both rows as a network's logits (zero weights, `b2 = θ`), the second
    // with its `−∞` logit made finite, and again padded to 17 classes (the
    // chunked kernel), against `Σ_j y_j·(lse − θ_j)` in f64.
    fn net_loss<const OUT: usize>(theta: [f32; OUT], y: [f32; OUT]) {
        let lse = theta.iter().map(|&t| f64::from(t).exp()).sum::<f64>().ln();
        let max = theta
            .iter()
            .fold(f64::NEG_INFINITY, |m, &t| m.max(f64::from(t)));
        let lse = if lse.is_finite() { lse } else { max };
        let want: f64 = (0..OUT)
            .filter(|&j| y[j] != 0.0)
            .map(|j| f64::from(y[j]) * (lse - f64::from(theta[j])))
            .sum();
        let want = want as f32;
        let mlp = Mlp::<1, 1, OUT>::new(
            Mat::zeros(),
            RowVec::zeros(),
            Mat::zeros(),
            RowVec::from_row(theta),
        );
        let (x, target) = (RowVec::from_row([0.5]), Target::probs(y));
        let (mut losses, mut dxs) = ([0.0f32; 3], [RowVec::zeros(); 3]);
        mlp.input_grad_batch(&[x; 3], &[target; 3], &mut losses, &mut dxs)
            .expect("batch lengths agree");
        for (what, got) in [
            ("loss", mlp.loss(&x, &target)),
            ("input_grad", mlp.input_grad(&x, &target).0),
            ("grads", mlp.grads(&x, &target).loss),
            ("input_grad_batch", losses[0]),
        ] {
            let ok = if want.is_finite() {
                (got - want).abs() <= 1e-5 * want.abs()
            } else {
                got == want
            };
            assert!(ok, "{what}, {OUT} classes: loss {got:e}, want {want:e}");
        }
    }
    net_loss(
        [0.011_718_75, 0.125, 0.429_687_5, -2.660_156_3, big],
        [big; 5],
    );
    let mut finite = theta;
    finite[4] = -30.0;
    net_loss(finite, y);
    let (mut theta17, mut y17) = ([0.0f32; 17], [0.0f32; 17]);
    theta17[..9].copy_from_slice(&finite);
    y17[..9].copy_from_slice(&y);
    net_loss(theta17, y17);
}

// (crashes of the harness's own bounds, kept as edge-case tests of src/)

/// input_grad smoke run 1: saturated hidden units (`a = 1e30`), logits of
/// 1e30, labels at a tie. Loss and gradients stay finite and accurate.
#[test]
fn input_grad_is_accurate_with_saturated_units_and_huge_logits() {
    let big = 1e30;
    let net = Net::<5, 3, 5> {
        w1: [[0.0; 3], [0.0, big, big], [big; 3], [big; 3], [big; 3]],
        b1: [big; 3],
        w2: [[big, big, big, big, 0.0], [0.0; 5], [0.0; 5]],
        b2: [0.0; 5],
    };
    for label in 0..5 {
        pass(checks::check_network(
            &net,
            [0.0; 5],
            &Goal::Class(label),
            Api::InputGrad,
        ));
        pass(checks::check_network(
            &net,
            [0.0; 5],
            &Goal::Class(label),
            Api::Grads,
        ));
    }
}

/// input_grad smoke run 2: a NaN bias with an all-zero soft target. Zero
/// target entries contribute 0 (documented), so the loss is 0, while every
/// gradient is NaN (`dL/dθ = ŷ·Σy − y` with NaN `ŷ`).
#[test]
fn nan_logits_with_an_all_zero_soft_target_give_zero_loss_and_nan_gradients() {
    let net = Net::<2, 1, 3> {
        w1: [[0.5], [-1.0]],
        b1: [0.0],
        w2: [[1.0, 2.0, 3.0]],
        b2: [0.0, f32::NAN, 0.0],
    };
    for api in [Api::InputGrad, Api::Grads] {
        pass(checks::check_network(
            &net,
            [1.0, 2.0],
            &Goal::Probs([0.0; 3]),
            api,
        ));
        pass(checks::check_network(
            &net,
            [1.0, 2.0],
            &Goal::Probs([0.0, 1.0, 0.0]),
            api,
        ));
    }
}

/// batch_vs_single smoke run: soft targets of −1.6e35 whose `dL/dθ` cancels
/// to ~0 exactly, while its rounding error (~1e28) times `W2` (5e33)
/// overflows: outside the finiteness promise, but the batched and one-sample
/// calls must still agree on which outputs are NaN.
#[test]
fn batched_and_single_calls_agree_when_soft_targets_overflow_the_backward_pass() {
    let net = Net::<5, 3, 5> {
        w1: [
            [4.375, 7.4375, 7.4375],
            [7.4375; 3],
            [7.4375; 3],
            [7.4375, 6.0, 7.4375],
            [7.4375; 3],
        ],
        b1: [4.375, 78.27344, 6.375],
        w2: [
            [5.019205e33, 0.0, 0.0, 7.4375, 7.4375],
            [7.4375, 7.4375, 119.46484, -7.9375, 7.4375],
            [7.4375, 832_542_600.0, 6.375, 5.8125, 7.4375],
        ],
        b2: [7.4375; 5],
    };
    let y = constgrad::Target::probs([-1.62244e35f32; 5]);
    let x = [-1.62244e35f32; 5];
    let ok = constgrad::Target::class(1).expect("1 < 5");
    let samples = [(x, ok), ([0.5; 5], ok), (x, y), ([1.0; 5], y), (x, y)];
    pass(checks::check_batch(&net, &samples, (5, 5, 5)));
    pass(checks::check_batch(&net, &samples, (4, 5, 6)));
}

/// softmax_family smoke run: a positive target entry at a `−∞` logit gives
/// `+∞` (documented) only when no other term is `−∞`; with a target of
/// `−f32::MAX` at a logit `f32::MAX` below the maximum the terms are `+∞` and
/// `−∞` and the loss is NaN, which must not panic.
/// Session 19's tighter row check (`row_ref(_, true)`: `e_j` from the exact
/// `θ_j − m`) on rows whose logits lie 60–90 apart, where rounding the
/// difference cost the kernels before the exact shift 4.5× and 6.4× the
/// check's limit (`log_softmax` of the maximum, `−ln(1 + e^(θ_1 − θ_0))`).
#[test]
fn rows_with_far_apart_logits_meet_the_exact_shift_bound() {
    for theta in [
        [74.46562f32, -12.537693],
        [76.98541, 3.5035667],
        [73.0121, -14.710387],
    ] {
        pass(checks::check_softmax_row(theta, 0, [1.0, 0.0]));
        pass(checks::check_softmax_row(theta, 1, [0.25, 0.75]));
    }
}

#[test]
fn cross_entropy_with_infinite_terms_of_both_signs_is_nan_not_a_panic() {
    let theta = [0.0f32, f32::NEG_INFINITY, f32::MAX];
    pass(checks::check_softmax_row(theta, 0, [-f32::MAX, 4.375, 0.0]));
    pass(checks::check_softmax_row(theta, 0, [0.0, 4.375, 0.0]));
}

/// mat_algebra smoke run, first run on an AVX-512 machine (1×17·17×1, so a
/// 16-lane build has a tail): `a.matmul(&b)` and `&a * &b` are one function,
/// but the two calls were inlined and compiled apart, and both gave NaN with
/// different bits. Several NaNs of both signs (two of them signalling) meet
/// in one sum, and which one x86 passes on depends on operand order, which
/// the compiler may swap: Rust leaves a NaN result's sign and payload
/// unspecified. The check now asks for the same bits, or NaN from both.
#[test]
fn matmul_through_the_operator_may_give_a_nan_with_other_bits() {
    let bits = |v: [u32; 17]| v.map(f32::from_bits);
    let a = bits([
        0x3f7f_fff9,
        0x42b1_7218,
        0xc2cf_f1c0,
        0xf149_f2c7,
        0x4185_15a3,
        0xb22b_cc8a,
        0xc2ce_8ebd,
        0xc2cf_f1b6,
        0x42b1_7227,
        0x3eb1_7208,
        0x0080_000a,
        0xc2cf_f1bf,
        0xc2dc_000f,
        0x42b1_7226,
        0x0900_0e18,
        0x41b8_7000,
        0x42b1_722c,
    ]);
    let b = bits([
        0x8080_0009,
        0x007f_fffa,
        0xc2ce_8ece,
        0x42b4_0010,
        0x7f7f_fff8,
        0x7fc0_0011,
        0x0000_0012,
        0x7f7f_fff4,
        0xc2ce_8ed8,
        0xffff_fffd,
        0x322b_cc85,
        0x0000_0005,
        0x4185_15a3,
        0x7f80_0007,
        0x3f31_722b,
        0x3eff_fff7,
        0xff80_0006,
    ]);
    let product: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
    assert!(product.is_nan(), "the sum must meet a NaN to test this");
    pass(checks::check_mat::<1, 17, 1>(
        [a],
        b.map(|v| [v]),
        [[0.0; 17]],
        &[],
        (0, 0),
    ));
}

// --- The checks are not vacuous --------------------------------------------

#[test]
fn checks_reject_results_outside_the_documented_ulp_bounds() {
    let e = 1.0f32.exp();
    let two_ulp_off = f32::from_bits(e.to_bits() + 2);
    assert!(checks::check_exp_f32(1.0, e).is_ok());
    assert!(checks::check_exp_f32(1.0, two_ulp_off).is_err());
    assert!(
        checks::check_exp_f32(100.0, f32::MAX).is_err(),
        "exp(100) must be +inf"
    );
    assert!(checks::check_exp_f32(f32::NAN, 1.0).is_err());

    let s = (1.0f64 / (1.0 + (-0.3f64).exp())) as f32;
    assert!(checks::check_sigmoid_f32(0.3, s).is_ok());
    assert!(checks::check_sigmoid_f32(0.3, f32::from_bits(s.to_bits() + 3)).is_err());
    assert!(
        checks::check_sigmoid_f32(0.0, 0.500_000_06).is_err(),
        "sigmoid(0) is exactly 1/2"
    );

    let e64 = 1.0f64.exp();
    assert!(checks::check_exp_f64(1.0, e64).is_ok());
    assert!(checks::check_exp_f64(1.0, f64::from_bits(e64.to_bits() + 2)).is_err());
    assert!(checks::check_exp_f64(-1000.0, 0.0).is_ok());
    assert!(
        checks::check_sigmoid_f64(-800.0, 5e-324).is_ok(),
        "within 2 subnormal ulp of e^-800"
    );
    assert!(
        checks::check_sigmoid_f64(-700.0, 0.0).is_err(),
        "e^-700 is a normal f64"
    );
}

#[test]
fn checks_accept_constgrads_kernels_on_edge_values() {
    let mut xs: Vec<f32> = vec![
        0.0,
        -0.0,
        1.0,
        -1.0,
        88.72283,
        88.722_84,
        -87.33655,
        -103.97208,
        -103.27893,
        -110.0,
        90.0,
        f32::MIN_POSITIVE,
        1e-45,
        f32::MAX,
        f32::MIN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        16.635_532,
        -16.635_532,
        17.0,
        -17.0,
        1e-8,
    ];
    // Every value at every lane position and in the padded tail.
    for start in 0..xs.len() {
        pass(checks::check_in_place(
            &xs,
            start,
            constgrad::math::exp_in_place::<f32>,
            checks::check_exp_f32,
            |v| u64::from(v.to_bits()),
        ));
        pass(checks::check_in_place(
            &xs,
            start,
            constgrad::math::sigmoid_in_place::<f32>,
            checks::check_sigmoid_f32,
            |v| u64::from(v.to_bits()),
        ));
    }
    xs.reverse();
    let ys: Vec<f64> = xs.iter().map(|&v| f64::from(v) * 8.0).collect();
    for start in 0..ys.len() {
        pass(checks::check_in_place(
            &ys,
            start,
            constgrad::math::exp_in_place::<f64>,
            checks::check_exp_f64,
            f64::to_bits,
        ));
        pass(checks::check_in_place(
            &ys,
            start,
            constgrad::math::sigmoid_in_place::<f64>,
            checks::check_sigmoid_f64,
            f64::to_bits,
        ));
    }
}

/// batch_vs_single campaign (AVX2+FMA build): `x` holds `+∞` and `W2` holds
/// `f32::MAX`, so `dL/dh_1 = −(Σ_{j≠l} ŷ_j)·(MAX + 87)` sits at the overflow
/// edge: the one-sample call rounds it to `−∞` (`dL/dx` NaN), the batched
/// call to `−MAX` (`dL/dx` 0). Outside the finiteness promise, so both are
/// accepted; with `W2` entries of moderate size the two calls must agree on
/// every NaN and ∞, and do.
#[test]
fn batched_and_single_calls_agree_on_special_values_for_infinite_inputs() {
    let mut net = Net::<5, 3, 5> {
        w1: [
            [4.375, 7.4375, 7.4375],
            [7.4375; 3],
            [7.4375; 3],
            [7.4375, 6.0, 7.4375],
            [4.4375, -6.875, 5.020_572_3e33],
        ],
        b1: [4.4375; 3],
        w2: [
            [4.4375, 4.4375, 4.4375, -0.0625, -87.33654],
            [-87.33654, -87.33654, -87.33654, -87.33654, f32::MAX],
            [-87.33654; 5],
        ],
        b2: [-87.33654; 5],
    };
    let x = [4.4375, 4.4375, 4.4375, 4.4375, f32::INFINITY];
    let t = constgrad::Target::class(4).expect("4 < 5");
    pass(checks::check_batch(
        &net,
        &[([0.0; 5], t), (x, t)],
        (2, 2, 2),
    ));
    net.w2[1][4] = 1000.0;
    let nx = [f32::NEG_INFINITY, 1.0, 2.0, 3.0, f32::INFINITY];
    pass(checks::check_batch(
        &net,
        &[(x, t), (nx, t), ([0.5; 5], t)],
        (3, 3, 3),
    ));
}

/// batch_vs_single, third campaign (after the batch products went to one
/// accumulator per row): `x = [+∞, −MAX, …]` with `W1[0][0] = 4.375`,
/// `W1[1][0] = 7.4375`. The one-sample kernel sums `a` in two FMA chains,
/// `(b1 + ∞·4.375) + (−MAX·7.4375 rounded to −∞) = NaN`; the batched kernel
/// in one, `fma(−MAX, 7.4375, ∞) = ∞` (the exact product is finite), so its
/// loss is finite where the one-sample loss is NaN (with FMA; without it
/// both are NaN). An overflowing input
/// makes the summation order visible; outside the promise (the check now
/// counts finite inputs, too, as able to reach the overflow edge). With
/// moderate finite inputs beside the `+∞` the two calls agree on every NaN
/// and ∞.
#[test]
fn batched_and_single_calls_may_differ_when_a_huge_input_meets_an_infinite_one() {
    let net = Net::<5, 3, 5> {
        w1: [
            [4.375, 7.4375, 7.4375],
            [7.4375; 3],
            [-0.0625, -87.33654, -87.33654],
            [-87.33654, 7.4375, -5.25],
            [16.635_532; 3],
        ],
        b1: [16.635_532; 3],
        w2: [
            [16.635_532, 16.635_532, 7.4375, 4.375, 4.375],
            [70.0, 7.4375, -0.5625, 7.4375, 116.453_125],
            [
                12_701.866,
                7.4375,
                core::f32::consts::LN_2,
                0.75,
                5.028_093_7e33,
            ],
        ],
        b2: [7.4375, 7.4375, -87.337_456, 7.4375, 7.4375],
    };
    let t = constgrad::Target::class(0).expect("0 < 5");
    let x = [f32::INFINITY, -f32::MAX, 7.4375, 7.4375, 7.4375];
    let mlp = net.mlp();
    let (single, _) = mlp.input_grad(&constgrad::RowVec::from_row(x), &t);
    let mut losses = [0.0f32; 1];
    let mut dxs = [constgrad::RowVec::zeros(); 1];
    mlp.input_grad_batch(
        &[constgrad::RowVec::from_row(x)],
        &[t],
        &mut losses,
        &mut dxs,
    )
    .expect("matching lengths");
    assert!(single.is_nan(), "one-sample loss {single:e}");
    // Without FMA (SSE2 baseline) −MAX·7.4375 rounds to −∞ before the add in
    // both kernels, and both give NaN.
    assert_eq!(
        losses[0].is_nan(),
        !cfg!(target_feature = "fma"),
        "batched loss {:e}",
        losses[0]
    );
    pass(checks::check_batch(
        &net,
        &[([0.0; 5], t), (x, t), ([1.0; 5], t)],
        (3, 3, 3),
    ));
    let moderate = [f32::INFINITY, -3.0, 7.4375, 7.4375, 7.4375];
    pass(checks::check_batch(
        &net,
        &[(moderate, t), ([0.5; 5], t)],
        (2, 2, 2),
    ));
}

/// batch_vs_single, the rerun of the third campaign: the same split with
/// two moderate values whose product overflows, `x_4 = −1e30` against
/// `W1[4][2] = 5.02e33` beside `x_1 = +∞`: the one-sample kernel rounds the
/// product to `−∞` in the chain without the `+∞` (NaN after the final add),
/// the batched chain keeps it exact inside an FMA whose addend is already
/// `+∞`. The check now bounds `Σ_i |x_i·W1|` over the finite inputs as well.
#[test]
fn batched_and_single_calls_may_differ_when_moderate_values_overflow_a_product() {
    let net = Net::<5, 3, 5> {
        w1: [
            [4.375, 7.4375, 7.4375],
            [7.4375; 3],
            [7.4375; 3],
            [7.4375, 6.0, 7.4375],
            [4.4375, -6.875, 5.020_572_3e33],
        ],
        b1: [4.4375; 3],
        w2: [
            [4.4375, 4.4375, 4.4375, -0.0625, -87.33654],
            [-87.33654, 90.0, -87.33654, -87.33654, -87.33654],
            [-87.33654; 5],
        ],
        b2: [-87.33654; 5],
    };
    let t = constgrad::Target::class(0).expect("0 < 5");
    let x = [4.4375, f32::INFINITY, 4.4375, 7.4375, -1e30];
    let mlp = net.mlp();
    let (single, _) = mlp.input_grad(&constgrad::RowVec::from_row(x), &t);
    assert!(single.is_nan(), "one-sample loss {single:e}");
    pass(checks::check_batch(
        &net,
        &[([0.0; 5], t), (x, t), ([1.0; 5], t)],
        (3, 3, 3),
    ));
}

/// CI smoke run of batch_vs_single (session 17): `x_4 = +∞` drives every
/// hidden unit to `−∞` (`h = 0`, `σ' = 0`), and soft targets of −2.6e36,
/// each within the check's moderate limit, make `dL/dθ` of order ±5e36;
/// against `W2` entries of −87 the terms of `dL/dh_k` reach ±4.5e38 and
/// cancel. One summation order overflows to ∞ (`∞·σ' = NaN`), the other
/// stays finite (0 after `σ'`): on this AVX-512 build the one-sample call
/// gave 0 and the batch NaN when the sample was alone in its block, and
/// not in a block mixing class and soft targets. Outside the finiteness
/// promise, so the check
/// now bounds the backward product's terms, `2·Σ|y|·Σ_j |W2[k][j]|`, before
/// it demands that the two calls agree on NaN and ∞.
#[test]
fn batched_and_single_calls_may_differ_when_soft_targets_overflow_the_backward_terms() {
    let n = -87.33654f32;
    let net = Net::<5, 3, 5> {
        w1: [
            [0.25, -3.875, -0.3125],
            [-2.125, 6.890625, n],
            [-103.278854, n, n],
            [n; 3],
            [n; 3],
        ],
        b1: [-87.33659, 0.375, 6.0234375],
        w2: [[n; 5], [n; 5], [-87.33659, 0.375, 0.375, 0.3125, -1e-45]],
        b2: [0.0, 0.0, 6.0, 0.375, 0.5],
    };
    let big = -2.616_754_6e36f32;
    let y = constgrad::Target::probs([big, big, big, -33.50393, -0.3125]);
    let x = [
        -103.27893,
        -103.27893,
        -103.27893,
        -103.27893,
        f32::INFINITY,
    ];
    // The backward terms: 2·Σ|y|·Σ_j |W2[0][j]| is far past f32::MAX, while
    // every input is below f32::MAX/128.
    let y_mass = 3.0 * f64::from(big.abs()) + 33.50393 + 0.3125;
    assert!(2.0 * y_mass * 5.0 * f64::from(n.abs()) > f64::from(f32::MAX));
    pass(checks::check_batch(&net, &[(x, y)], (1, 1, 1)));
    let ok = constgrad::Target::class(2).expect("2 < 5");
    let samples = [([0.5; 5], ok), ([1.0; 5], y), ([0.0; 5], ok), (x, y)];
    pass(checks::check_batch(&net, &samples, (4, 4, 4)));
}

/// CI smoke run of batch_vs_single: `W2` holds `−∞` entries and `x = [1e-8,
/// −1e-8, 1e30, −1e30, 0]` cancels to residues of order 1e24 in `a`, which
/// depend on the summation order: in the batched order one `h` is exactly 0,
/// `0·(−∞)` is NaN and so is the loss; the one-sample loss is 1.56. With
/// infinite weights the NaN/∞ pattern is not order-independent, so the check
/// demands agreement for infinite inputs only beside finite weights.
#[test]
fn infinite_weights_may_split_batch_and_single_on_exact_zeros() {
    let n = -87.33654f32;
    let net = Net::<5, 3, 5> {
        w1: [[0.0, -0.0, 1.0], [-1.0, n, n], [n; 3], [n; 3], [n; 3]],
        b1: [n; 3],
        w2: [
            [n, n, n, -87.33664, 5.046875],
            [-1.175_494_4e-38, 1e-45, -1e-45, -1e-8, f32::NEG_INFINITY],
            [f32::NEG_INFINITY, 1.03125, 1.126_612e-39, -0.0, 1.0],
        ],
        b2: [-1.0, 0.5, 1.175_494_4e-38, -1.175_494_4e-38, 1e-45],
    };
    let t = constgrad::Target::class(2).expect("2 < 5");
    let x = [1e-8, -1e-8, 1e30, -1e30, 0.0];
    pass(checks::check_batch(
        &net,
        &[([0.0; 5], t), ([1.0; 5], t), (x, t), ([0.5; 5], t)],
        (4, 4, 4),
    ));
}

/// batch_vs_single campaign (strict rerun): nine samples with losses of
/// 4e37 (`b2[0] = −3.97e37`, label 0). `grads_batch(Mean)` forms `Σ_n L_n`
/// (3.6e38, beyond `f32::MAX`) before dividing by 9, so its mean loss is
/// `+∞` although the mean itself is finite. The sum is an intermediate of
/// `(1/N)·Σ_n`, so this is outside the finiteness promise; every per-sample
/// result must still be accurate.
#[test]
fn grads_batch_mean_of_huge_losses_overflows_only_in_the_sum() {
    let net = Net::<5, 3, 5> {
        w1: [
            [4.375, 7.4375, 7.4375],
            [3.0625, 7.4375, 7.4375],
            [7.4375; 3],
            [7.4375, 7.4375, 71.27734],
            [4.4375; 3],
        ],
        b1: [4.4375, 4.4375, 4.3125],
        w2: [
            [4.4375, 7.4375, 4.4375, -6.875, 63368.53],
            [-0.0625, -87.33654, -87.33654, 71.27734, 4.4375],
            [4.4375, 4.4375, 4.4375, -3.5, -411_206.25],
        ],
        b2: [-3.974_897_7e37, 0.0, -17.000_105, 3.4375, 3.4375],
    };
    let t = constgrad::Target::class(0).expect("0 < 5");
    let mut samples = vec![([3.4375, 3.4375, 3.4375, -4.9375, 0.0], t)];
    samples.extend([([85.33203; 5], t); 5]);
    samples.extend([
        ([0.0, 55.214844, 55.214844, 3.4375, 3.4375], t),
        ([3.4375; 5], t),
        ([3.4375, 3.4375, 0.0, 0.0, 0.0], t),
    ]);
    pass(checks::check_batch(&net, &samples, (9, 9, 9)));
}
