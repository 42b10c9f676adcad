//! Agreement checks run in each benchmark's setup, before anything is timed:
//! a baseline that computed something else (or nothing) would otherwise show
//! up as a fake speed-up or slow-down.

use constgrad::{Grads, Mlp};

use super::gen::Pool;
use super::nalg::{NalgGrads, NalgMlp};
use super::scalar::{ScalarGrads, ScalarMlp};
use super::target::BaseTarget;

/// Relative agreement demanded of every baseline against constgrad (f32
/// sums in a different order differ by a few ulp per term; 784-term dot
/// products stay well inside this).
pub const REL: f32 = 1e-4;

/// Panics unless `got` and `want` agree elementwise to `rel`, measured
/// against `|want_i|` plus a floor of `10⁻²·max|want|`: a component that is
/// a sum of terms cancelling to a hundredth of the vector's size carries the
/// rounding error of those terms, and the baselines form `ŷ_l − 1` and
/// `h(1 − h)` directly where constgrad uses cancellation-free forms.
pub fn assert_close(what: &str, got: &[f32], want: &[f32], rel: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths differ");
    let scale = want.iter().fold(0.0f32, |m, w| m.max(w.abs()));
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let tol = rel * (w.abs() + 1e-2 * scale);
        assert!(
            (g - w).abs() <= tol && g.is_finite(),
            "{what}: element {i}: got {g}, constgrad gives {w} (tolerance {tol}); \
             got {got:?}, want {want:?}"
        );
    }
}

/// constgrad's network and the two baselines, built from the same weights.
pub struct Trio<'a, const IN: usize, const HID: usize, const OUT: usize> {
    /// constgrad.
    pub cg: &'a Mlp<IN, HID, OUT>,
    /// Baseline (a).
    pub scalar: &'a ScalarMlp<IN, HID, OUT>,
    /// Baseline (b).
    pub nalg: &'a NalgMlp<IN, HID, OUT>,
}

/// Checks `loss`, `input_grad` and (if `grads`) every gradient of both
/// baselines against constgrad on the first `n` samples of `pool`.
pub fn validate<const IN: usize, const HID: usize, const OUT: usize, L: BaseTarget<OUT>>(
    name: &str,
    t: &Trio<'_, IN, HID, OUT>,
    pool: &Pool<IN, OUT, L>,
    n: usize,
    grads: bool,
) {
    let each = pool
        .xs
        .iter()
        .zip(&pool.ts)
        .zip(pool.rows.iter().zip(&pool.cols))
        .zip(&pool.targets);
    for (s, (((x, &label), (xr, xn)), target)) in each.take(n).enumerate() {
        let what = |impl_: &str, part: &str| {
            format!("{name}: {impl_} {part}, sample {s} (target {label:?}, x = {x:?})")
        };
        let (l_cg, dx_cg) = t.cg.input_grad(xr, target);
        let (l_s, dx_s) = t.scalar.input_grad(x, label);
        let (l_n, dx_n) = t.nalg.input_grad(xn, label);
        assert_close(&what("scalar", "loss"), &[l_s], &[l_cg], REL);
        assert_close(&what("nalgebra", "loss"), &[l_n], &[l_cg], REL);
        assert_close(&what("scalar", "dL/dx"), &dx_s, dx_cg.row(), REL);
        assert_close(
            &what("nalgebra", "dL/dx"),
            dx_n.as_slice(),
            dx_cg.row(),
            REL,
        );

        let l_only = t.cg.loss(xr, target);
        assert_close(
            &what("constgrad", "loss() vs input_grad()"),
            &[l_only],
            &[l_cg],
            REL,
        );
        assert_close(
            &what("scalar", "loss()"),
            &[t.scalar.loss(x, label)],
            &[l_cg],
            REL,
        );
        assert_close(
            &what("nalgebra", "loss()"),
            &[t.nalg.loss(xn, label)],
            &[l_cg],
            REL,
        );

        if grads {
            let g = t.cg.grads(xr, target);
            let gs = t.scalar.grads(x, label);
            let gn = t.nalg.grads(xn, label);
            assert_grads_close(&what, &g, &gs, &gn);
        }
    }
}

/// Relative agreement demanded of a baseline over every sample of a batch:
/// among thousands of samples some meet the baselines' `ŷ·Σy − y` where it
/// cancels (ACCURACY.md, gap 3), which costs them up to a few `10⁻⁴`.
pub const REL_BATCH: f32 = 1e-3;

/// Checks a batch of losses and `dL/dx` rows (from any implementation)
/// over the samples of `pool` against constgrad's single-sample
/// `input_grad`, to `rel`.
pub fn validate_batch<const IN: usize, const HID: usize, const OUT: usize, L: BaseTarget<OUT>>(
    what: &str,
    cg: &Mlp<IN, HID, OUT>,
    pool: &Pool<IN, OUT, L>,
    losses: &[f32],
    dxs: &[[f32; IN]],
    rel: f32,
) {
    assert_eq!(losses.len(), pool.len(), "{what}: losses");
    assert_eq!(dxs.len(), pool.len(), "{what}: dxs");
    let each = pool.rows.iter().zip(&pool.targets).zip(&pool.ts);
    for (s, (((x, target), label), (loss, dx))) in each.zip(losses.iter().zip(dxs)).enumerate() {
        let (l, g) = cg.input_grad(x, target);
        let ctx = format!("{what}, sample {s} (target {label:?})");
        assert_close(&format!("{ctx}: loss"), &[*loss], &[l], rel);
        assert_close(&format!("{ctx}: dL/dx"), dx, g.row(), rel);
    }
}

/// Checks every gradient of both baselines (`gs`, `gn`) against
/// constgrad's `g` (one sample's, or a batch's sums); `what(impl, part)`
/// names the failing comparison.
pub fn assert_grads_close<const IN: usize, const HID: usize, const OUT: usize>(
    what: &dyn Fn(&str, &str) -> String,
    g: &Grads<IN, HID, OUT>,
    gs: &ScalarGrads<IN, HID, OUT>,
    gn: &NalgGrads<IN, HID, OUT>,
) {
    assert_close(&what("scalar", "grads.loss"), &[gs.loss], &[g.loss], REL);
    assert_close(&what("nalgebra", "grads.loss"), &[gn.loss], &[g.loss], REL);
    assert_close(&what("scalar", "grads.x"), &gs.x, g.x.row(), REL);
    assert_close(
        &what("nalgebra", "grads.x"),
        gn.x.as_slice(),
        g.x.row(),
        REL,
    );
    assert_close(
        &what("scalar", "grads.w1"),
        gs.w1.as_flattened(),
        g.w1.as_slice(),
        REL,
    );
    assert_close(&what("scalar", "grads.b1"), &gs.b1, g.b1.row(), REL);
    assert_close(
        &what("scalar", "grads.w2"),
        gs.w2.as_flattened(),
        g.w2.as_slice(),
        REL,
    );
    assert_close(&what("scalar", "grads.b2"), &gs.b2, g.b2.row(), REL);
    // nalgebra is column-major: compare its (i, k) with constgrad's (i, k).
    let nw1: Vec<f32> = (0..IN * HID).map(|f| gn.w1[(f / HID, f % HID)]).collect();
    let nw2: Vec<f32> = (0..HID * OUT).map(|f| gn.w2[(f / OUT, f % OUT)]).collect();
    assert_close(&what("nalgebra", "grads.w1"), &nw1, g.w1.as_slice(), REL);
    assert_close(
        &what("nalgebra", "grads.b1"),
        gn.b1.as_slice(),
        g.b1.row(),
        REL,
    );
    assert_close(&what("nalgebra", "grads.w2"), &nw2, g.w2.as_slice(), REL);
    assert_close(
        &what("nalgebra", "grads.b2"),
        gn.b2.as_slice(),
        g.b2.row(),
        REL,
    );
}
