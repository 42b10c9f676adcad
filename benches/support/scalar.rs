//! Baseline (a): the network in plain scalar Rust on arrays, with std's
//! `f32::exp` and `f32::ln`, as a competent engineer would write it without
//! any SIMD library.
//!
//! Layout: `W1` is stored as `IN` rows of `HID`, `W2` as `HID` rows of `OUT`,
//! so both the forward products (`a += x_i · W1[i]`, a contiguous AXPY the
//! compiler may vectorise) and the backward products (`dx_i = W1[i] · dL/da`,
//! a contiguous dot product) walk memory in order and no transpose is kept.
//! Softmax subtracts the row maximum; the loss is `ln Σe^(θ−m) + m − θ_l`.

use super::gen::Weights;
use super::target::BaseTarget;

/// `IN → HID → OUT` with sigmoid hidden units and softmax cross-entropy.
#[derive(Clone)]
pub struct ScalarMlp<const IN: usize, const HID: usize, const OUT: usize> {
    w1: [[f32; HID]; IN],
    b1: [f32; HID],
    w2: [[f32; OUT]; HID],
    b2: [f32; OUT],
}

/// Every gradient of one sample.
#[derive(Clone)]
pub struct ScalarGrads<const IN: usize, const HID: usize, const OUT: usize> {
    /// The loss.
    pub loss: f32,
    /// `dL/dx`.
    pub x: [f32; IN],
    /// `dL/dW1`.
    pub w1: [[f32; HID]; IN],
    /// `dL/db1`.
    pub b1: [f32; HID],
    /// `dL/dW2`.
    pub w2: [[f32; OUT]; HID],
    /// `dL/db2`.
    pub b2: [f32; OUT],
}

impl<const IN: usize, const HID: usize, const OUT: usize> ScalarGrads<IN, HID, OUT> {
    /// All zero.
    pub fn zeros() -> Self {
        Self {
            loss: 0.0,
            x: [0.0; IN],
            w1: [[0.0; HID]; IN],
            b1: [0.0; HID],
            w2: [[0.0; OUT]; HID],
            b2: [0.0; OUT],
        }
    }
}

/// What the forward pass hands to the backward pass.
struct Fwd<const HID: usize, const OUT: usize> {
    h: [f32; HID],
    /// `e^(θ_j − m) / Σ e^(θ − m)`.
    y_hat: [f32; OUT],
    loss: f32,
}

#[inline]
fn sigmoid(t: f32) -> f32 {
    1.0 / (1.0 + (-t).exp())
}

impl<const IN: usize, const HID: usize, const OUT: usize> ScalarMlp<IN, HID, OUT> {
    /// Copies the weights in (on the stack: box the result for large shapes
    /// with [`ScalarMlp::boxed`]).
    pub fn new(w: &Weights<IN, HID, OUT>) -> Self {
        Self {
            w1: *w.w1,
            b1: w.b1,
            w2: *w.w2,
            b2: w.b2,
        }
    }

    /// The network on the heap.
    pub fn boxed(w: &Weights<IN, HID, OUT>) -> Box<Self> {
        Box::new(Self::new(w))
    }

    #[inline(always)]
    fn forward(&self, x: &[f32; IN], target: impl BaseTarget<OUT>) -> Fwd<HID, OUT> {
        let mut a = self.b1;
        for (xi, row) in x.iter().zip(&self.w1) {
            for (ak, wk) in a.iter_mut().zip(row) {
                *ak += xi * wk;
            }
        }
        let h = a.map(sigmoid);
        let mut theta = self.b2;
        for (hk, row) in h.iter().zip(&self.w2) {
            for (tj, wj) in theta.iter_mut().zip(row) {
                *tj += hk * wj;
            }
        }
        let m = theta.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut e = theta.map(|t| (t - m).exp());
        let s: f32 = e.iter().sum();
        let loss = target.loss(&theta, s.ln() + m);
        let inv = 1.0 / s;
        for ej in &mut e {
            *ej *= inv;
        }
        Fwd { h, y_hat: e, loss }
    }

    /// `dL/dθ` and `dL/da`.
    #[inline]
    fn backward(
        &self,
        f: &Fwd<HID, OUT>,
        target: impl BaseTarget<OUT>,
    ) -> ([f32; OUT], [f32; HID]) {
        let mut d_theta = f.y_hat;
        target.d_theta(&mut d_theta);
        let mut d_a = [0.0f32; HID];
        for ((dk, row), hk) in d_a.iter_mut().zip(&self.w2).zip(&f.h) {
            let dh: f32 = row.iter().zip(&d_theta).map(|(w, d)| w * d).sum();
            *dk = dh * hk * (1.0 - hk);
        }
        (d_theta, d_a)
    }

    /// The loss of one sample.
    #[inline]
    pub fn loss(&self, x: &[f32; IN], target: impl BaseTarget<OUT>) -> f32 {
        self.forward(x, target).loss
    }

    /// The loss and `dL/dx`.
    #[inline]
    pub fn input_grad(&self, x: &[f32; IN], target: impl BaseTarget<OUT>) -> (f32, [f32; IN]) {
        let f = self.forward(x, target);
        let (_, d_a) = self.backward(&f, target);
        let mut dx = [0.0f32; IN];
        for (dxi, row) in dx.iter_mut().zip(&self.w1) {
            *dxi = row.iter().zip(&d_a).map(|(w, d)| w * d).sum();
        }
        (f.loss, dx)
    }

    /// The loss and every gradient, written into `g`.
    #[inline]
    pub fn grads_into(
        &self,
        x: &[f32; IN],
        target: impl BaseTarget<OUT>,
        g: &mut ScalarGrads<IN, HID, OUT>,
    ) {
        self.grads_with(x, target, g, |dst, v| *dst = v);
    }

    /// The loss and every gradient, added into `g` (a batch's sums).
    #[inline]
    pub fn grads_add(
        &self,
        x: &[f32; IN],
        target: impl BaseTarget<OUT>,
        g: &mut ScalarGrads<IN, HID, OUT>,
    ) {
        self.grads_with(x, target, g, |dst, v| *dst += v);
    }

    /// One sample's gradients, each entry put into `g` by `put` (a store or
    /// an addition).
    #[inline(always)]
    fn grads_with(
        &self,
        x: &[f32; IN],
        target: impl BaseTarget<OUT>,
        g: &mut ScalarGrads<IN, HID, OUT>,
        put: impl Fn(&mut f32, f32),
    ) {
        let f = self.forward(x, target);
        let (d_theta, d_a) = self.backward(&f, target);
        put(&mut g.loss, f.loss);
        for ((dxi, row), (gw_row, xi)) in g.x.iter_mut().zip(&self.w1).zip(g.w1.iter_mut().zip(x)) {
            put(dxi, row.iter().zip(&d_a).map(|(w, d)| w * d).sum());
            for (gw, dk) in gw_row.iter_mut().zip(&d_a) {
                put(gw, xi * dk);
            }
        }
        for (gb, dk) in g.b1.iter_mut().zip(&d_a) {
            put(gb, *dk);
        }
        for (gw_row, hk) in g.w2.iter_mut().zip(&f.h) {
            for (gw, dj) in gw_row.iter_mut().zip(&d_theta) {
                put(gw, hk * dj);
            }
        }
        for (gb, dj) in g.b2.iter_mut().zip(&d_theta) {
            put(gb, *dj);
        }
    }

    /// The loss and every gradient.
    #[inline]
    pub fn grads(&self, x: &[f32; IN], target: impl BaseTarget<OUT>) -> ScalarGrads<IN, HID, OUT> {
        let mut g = ScalarGrads::zeros();
        self.grads_into(x, target, &mut g);
        g
    }
}
