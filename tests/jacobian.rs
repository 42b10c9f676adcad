//! The Hadamard form of the backward pass equals the explicit Jacobian
//! product built from full matrices:
//!
//! ```text
//! dL/dx = dL/dθ · W2ᵀ · Diag(σ'(a)) · W1ᵀ           (1×OUT · OUT×HID · HID×HID · HID×IN)
//!       = ((dL/dθ · W2ᵀ) ∘ σ'(a)) · W1ᵀ             (the Hadamard shortcut)
//! ```
//!
//! `J = W2ᵀ · Diag(σ'(a)) · W1ᵀ` is the Jacobian `∂θ/∂x` (OUT×IN); it is also
//! checked column by column against central finite differences of `θ(x)`
//! evaluated in `f64`. Everything is built with the crate's own
//! `Mat::matmul`/`transpose`/`hadamard` on a full `Diag` matrix, and compared
//! with `Mlp::input_grad` and the `f64` reference.

mod common;

use common::{
    assert_close, class_target, natural_scale, random_case, rng, soft_target, target_row, to_f64,
    RefNet, Regime,
};
use constgrad::{Mat, Mlp, Real, RowVec, Target};

/// `Diag(v)`: the `N`×`N` matrix with `v` on the diagonal and exact zeros
/// elsewhere.
fn diag<const N: usize, T: Real>(v: &RowVec<N, T>) -> Mat<N, N, T> {
    let mut d = Mat::<N, N, T>::zeros();
    for (i, &vi) in v.row().iter().enumerate() {
        d[(i, i)] = vi;
    }
    d
}

/// `σ'(a) = σ(a)·σ(−a)` from the crate's forward pass (`h = σ(a)`, and
/// `σ(−a)` from the crate's sigmoid on `−a`).
fn sigmoid_slope<const HID: usize, T: Real>(a: &RowVec<HID, T>) -> RowVec<HID, T> {
    let h = constgrad::math::sigmoid(a);
    let h_neg = constgrad::math::sigmoid(&a.scale(-T::ONE));
    h.hadamard(&h_neg)
}

/// `dL/dθ = ŷ·Σy − y` from the crate's forward pass.
fn d_theta<const OUT: usize, T: Real>(
    y_hat: &RowVec<OUT, T>,
    target: &Target<OUT, T>,
) -> RowVec<OUT, T> {
    let y = target.to_row();
    let sum_y: T = y.row().iter().copied().sum();
    y_hat.scale(sum_y).sub(&y)
}

/// Tolerance of the Jacobian-product route against `input_grad` and the
/// `f64` reference, as a fraction of the natural scale of `dL/dx`
/// (see `common::natural_scale`): the explicit route forms `ŷ − 1` at the
/// label (one cancellation the fused kernel avoids), so it carries a few
/// more roundings than the kernel; 1e-6 is ≈ 17 unit roundoffs in `f32`,
/// 2e-15 the same in `f64`.
fn tol<T: Real>() -> f64 {
    if T::NAME == "f32" {
        1e-6
    } else {
        2e-15
    }
}

/// Tolerance of the finite-difference Jacobian `∂θ/∂x`, relative to
/// `max(‖J‖∞, 1)`: central differences with `h = 1e-6` on θ (which has
/// O(1) third derivatives here) are good to ~1e-10, plus the kernel's own
/// rounding (`f32`: ~1e-7 of the scale).
fn fd_tol<T: Real>() -> f64 {
    if T::NAME == "f32" {
        1e-6
    } else {
        1e-8
    }
}

fn check<const IN: usize, const HID: usize, const OUT: usize, T: Real>(seed_base: u64) {
    for seed in seed_base..seed_base + 6 {
        let mut r = rng(seed);
        let (mlp, x): (Mlp<IN, HID, OUT, T>, _) = random_case(&mut r, Regime::Normal);
        let targets = [
            ("class", class_target::<OUT, T>(&mut r)),
            ("soft Σy=1", soft_target(&mut r, 1.0)),
            ("soft Σy=0.7", soft_target(&mut r, 0.7)),
        ];
        let f = mlp.forward(&x);
        let s_prime = sigmoid_slope(&f.a);
        // The Jacobian ∂θ/∂x as full matrices: OUT×HID · HID×HID · HID×IN.
        let jac: Mat<OUT, IN, T> = mlp
            .w2()
            .transpose()
            .matmul(&diag(&s_prime))
            .matmul(&mlp.w1().transpose());
        check_jacobian_against_fd(&mlp, &x, &jac, seed);
        for (kind, target) in targets {
            let ctx = format!("{IN}→{HID}→{OUT} {} seed {seed} {kind}", T::NAME);
            let dt = d_theta(&f.y_hat, &target);
            let explicit: RowVec<IN, T> = dt.matmul(&jac);
            let chained: RowVec<IN, T> = dt
                .matmul(&mlp.w2().transpose())
                .matmul(&diag(&s_prime))
                .matmul(&mlp.w1().transpose());
            let hadamard: RowVec<IN, T> = dt
                .matmul(&mlp.w2().transpose())
                .hadamard(&s_prime)
                .matmul(&mlp.w1().transpose());
            // A row times Diag(v) is Σ_k r_k·D_kj: one product r_j·v_j plus
            // exact zeros, so it equals the Hadamard product bit for bit.
            assert_eq!(
                chained, hadamard,
                "{ctx}: dL/dθ·W2ᵀ·Diag(σ') ≠ (dL/dθ·W2ᵀ)∘σ' bit for bit"
            );
            let (_, fused) = mlp.input_grad(&x, &target);
            let net = RefNet::from_mlp(&mlp);
            let xf = to_f64(x.as_slice());
            let y = target_row(&target);
            let exact = net.grads(&xf, &y).x;
            let mag = net.rounding_magnitudes(&xf, &y).grads.x;
            let scale = natural_scale(&exact, &mag);
            for (name, got) in [
                ("dL/dθ·J (J = W2ᵀ·Diag(σ'(a))·W1ᵀ)", &explicit),
                ("Hadamard form", &hadamard),
                ("input_grad", &fused),
            ] {
                assert_close(
                    &format!("{ctx}: {name} vs f64 reference"),
                    &to_f64(got.as_slice()),
                    &exact,
                    scale,
                    tol::<T>(),
                );
            }
            assert_close(
                &format!("{ctx}: dL/dθ·J vs input_grad"),
                &to_f64(explicit.as_slice()),
                &to_f64(fused.as_slice()),
                scale,
                2.0 * tol::<T>(),
            );
        }
    }
}

/// Column `i` of `J = ∂θ/∂x` against `(θ(x + h·e_i) − θ(x − h·e_i)) / 2h`
/// of the `f64` reference network.
fn check_jacobian_against_fd<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    mlp: &Mlp<IN, HID, OUT, T>,
    x: &RowVec<IN, T>,
    jac: &Mat<OUT, IN, T>,
    seed: u64,
) {
    let net = RefNet::from_mlp(mlp);
    let xf = to_f64(x.as_slice());
    let h = 1e-6;
    let mut fd = vec![0.0; OUT * IN];
    for i in 0..IN {
        let (mut hi, mut lo) = (xf.clone(), xf.clone());
        hi[i] += h;
        lo[i] -= h;
        let (th_hi, th_lo) = (net.forward(&hi).theta, net.forward(&lo).theta);
        for j in 0..OUT {
            fd[j * IN + i] = (th_hi[j] - th_lo[j]) / (hi[i] - lo[i]);
        }
    }
    let scale = common::max_abs(&fd).max(1.0);
    assert_close(
        &format!("{IN}→{HID}→{OUT} {} seed {seed}: J = W2ᵀ·Diag(σ'(a))·W1ᵀ vs finite differences of θ(x)", T::NAME),
        &to_f64(jac.as_slice()),
        &fd,
        scale,
        fd_tol::<T>(),
    );
}

#[test]
fn hadamard_form_equals_explicit_jacobian_product_seed_shape() {
    check::<5, 3, 5, f32>(1);
    check::<5, 3, 5, f64>(1);
}

#[test]
fn hadamard_form_equals_explicit_jacobian_product_odd_shapes() {
    check::<7, 9, 3, f32>(100);
    check::<7, 9, 3, f64>(100);
    check::<33, 17, 9, f32>(200);
    check::<33, 17, 9, f64>(200);
}
