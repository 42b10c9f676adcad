//! Baseline (b): the network on nalgebra matrices with hand-written
//! backpropagation, as a competent nalgebra user would write it.
//!
//! nalgebra is column-major and its vectors are columns, so a sample is an
//! `SVector<f32, IN>` and the layers read `a = W1ᵀx + b1` (`tr_mul`: one
//! contiguous dot product per column of `W1`) and `dL/dx = W1·dL/da` (a
//! column-wise GEMV), with `W1: SMatrix<f32, IN, HID>` the same matrix as
//! constgrad's `W1`. Static shapes throughout ([`NalgMlp`]); for 784→128→10
//! the network is a `Box<NalgMlp>` (its `SMatrix` fields are 400 KB, built
//! once on the main thread's stack and moved to the heap).
//!
//! [`NalgGemm`] is the batched form a nalgebra user would reach for with
//! many samples: heap `DMatrix` blocks, one column per sample, and four
//! matrix-matrix products that nalgebra hands to the `matrixmultiply` crate
//! (a tuned, runtime-dispatched AVX2/FMA SGEMM) once every dimension
//! exceeds 5.

use nalgebra::{DMatrix, SMatrix, SVector};

use super::gen::Weights;
use super::target::{loss_from, BaseTarget};

#[inline]
fn sigmoid(t: f32) -> f32 {
    1.0 / (1.0 + (-t).exp())
}

/// `IN → HID → OUT` on nalgebra's statically sized matrices.
#[derive(Clone)]
pub struct NalgMlp<const IN: usize, const HID: usize, const OUT: usize> {
    w1: SMatrix<f32, IN, HID>,
    b1: SVector<f32, HID>,
    w2: SMatrix<f32, HID, OUT>,
    b2: SVector<f32, OUT>,
}

/// Every gradient of one sample.
pub struct NalgGrads<const IN: usize, const HID: usize, const OUT: usize> {
    /// The loss.
    pub loss: f32,
    /// `dL/dx`.
    pub x: SVector<f32, IN>,
    /// `dL/dW1`.
    pub w1: SMatrix<f32, IN, HID>,
    /// `dL/db1`.
    pub b1: SVector<f32, HID>,
    /// `dL/dW2`.
    pub w2: SMatrix<f32, HID, OUT>,
    /// `dL/db2`.
    pub b2: SVector<f32, OUT>,
}

impl<const IN: usize, const HID: usize, const OUT: usize> NalgGrads<IN, HID, OUT> {
    /// All zero.
    pub fn zeros() -> Self {
        Self {
            loss: 0.0,
            x: SVector::zeros(),
            w1: SMatrix::zeros(),
            b1: SVector::zeros(),
            w2: SMatrix::zeros(),
            b2: SVector::zeros(),
        }
    }
}

impl<const IN: usize, const HID: usize, const OUT: usize> NalgMlp<IN, HID, OUT> {
    /// The network, built on the stack.
    pub fn new(w: &Weights<IN, HID, OUT>) -> Self {
        Self {
            w1: SMatrix::from_fn(|i, k| w.w1[i][k]),
            b1: SVector::from_fn(|k, _| w.b1[k]),
            w2: SMatrix::from_fn(|k, j| w.w2[k][j]),
            b2: SVector::from_fn(|j, _| w.b2[j]),
        }
    }

    /// The network on the heap.
    pub fn boxed(w: &Weights<IN, HID, OUT>) -> Box<Self> {
        Box::new(Self::new(w))
    }

    /// `h`, `ŷ` and the loss.
    #[inline(always)]
    fn forward(
        &self,
        x: &SVector<f32, IN>,
        target: impl BaseTarget<OUT>,
    ) -> (SVector<f32, HID>, SVector<f32, OUT>, f32) {
        let h = (self.w1.tr_mul(x) + self.b1).map(sigmoid);
        let theta = self.w2.tr_mul(&h) + self.b2;
        let m = theta.max();
        let e = theta.map(|t| (t - m).exp());
        let s = e.sum();
        let loss = target.loss(theta.as_slice(), s.ln() + m);
        (h, e / s, loss)
    }

    /// `dL/dθ` and `dL/da`.
    #[inline]
    fn backward(
        &self,
        h: &SVector<f32, HID>,
        y_hat: SVector<f32, OUT>,
        target: impl BaseTarget<OUT>,
    ) -> (SVector<f32, OUT>, SVector<f32, HID>) {
        let mut d_theta = y_hat;
        target.d_theta(d_theta.as_mut_slice());
        // By reference: `self.w2 * …` copies the matrix first (`SMatrix`
        // is `Copy`), which clippy's `op_ref` does not weigh.
        #[allow(clippy::op_ref)]
        let d_h = &self.w2 * d_theta;
        let d_a = d_h.component_mul(&h.map(|v| v * (1.0 - v)));
        (d_theta, d_a)
    }

    /// The loss of one sample.
    #[inline]
    pub fn loss(&self, x: &SVector<f32, IN>, target: impl BaseTarget<OUT>) -> f32 {
        self.forward(x, target).2
    }

    /// The loss and `dL/dx`.
    #[inline]
    pub fn input_grad(
        &self,
        x: &SVector<f32, IN>,
        target: impl BaseTarget<OUT>,
    ) -> (f32, SVector<f32, IN>) {
        let (h, y_hat, loss) = self.forward(x, target);
        let (_, d_a) = self.backward(&h, y_hat, target);
        // By reference, as in `backward`: by value, 784→128→10 copied all
        // of `W1` (400 KB) per call.
        #[allow(clippy::op_ref)]
        let dx = &self.w1 * d_a;
        (loss, dx)
    }

    /// The loss and every gradient.
    #[inline]
    pub fn grads(
        &self,
        x: &SVector<f32, IN>,
        target: impl BaseTarget<OUT>,
    ) -> NalgGrads<IN, HID, OUT> {
        let (h, y_hat, loss) = self.forward(x, target);
        let (d_theta, d_a) = self.backward(&h, y_hat, target);
        // By reference (see `input_grad`).
        #[allow(clippy::op_ref)]
        let dx = &self.w1 * d_a;
        NalgGrads {
            loss,
            x: dx,
            w1: x * d_a.transpose(),
            b1: d_a,
            w2: h * d_theta.transpose(),
            b2: d_theta,
        }
    }
}

impl<const IN: usize, const HID: usize, const OUT: usize> NalgMlp<IN, HID, OUT> {
    /// The loss and every gradient of one sample, added into `acc` in place
    /// (`gemv` and rank-1 `ger` updates, no temporaries of matrix size).
    #[inline]
    pub fn grads_add(
        &self,
        x: &SVector<f32, IN>,
        target: impl BaseTarget<OUT>,
        acc: &mut NalgGrads<IN, HID, OUT>,
    ) {
        let (h, y_hat, loss) = self.forward(x, target);
        let (d_theta, d_a) = self.backward(&h, y_hat, target);
        acc.loss += loss;
        acc.x.gemv(1.0, &self.w1, &d_a, 1.0);
        acc.w1.ger(1.0, x, &d_a, 1.0);
        acc.b1 += d_a;
        acc.w2.ger(1.0, &h, &d_theta, 1.0);
        acc.b2 += d_theta;
    }
}

/// Many samples at once on heap `DMatrix` blocks (one column per sample),
/// with preallocated scratch so a call does not allocate.
pub struct NalgGemm {
    w1: DMatrix<f32>,
    w1t: DMatrix<f32>,
    b1: Vec<f32>,
    w2: DMatrix<f32>,
    w2t: DMatrix<f32>,
    b2: Vec<f32>,
    h: DMatrix<f32>,
    theta: DMatrix<f32>,
    d_h: DMatrix<f32>,
}

impl NalgGemm {
    /// The network, with scratch for batches of exactly `batch` samples.
    pub fn new<const IN: usize, const HID: usize, const OUT: usize>(
        w: &Weights<IN, HID, OUT>,
        batch: usize,
    ) -> Self {
        let w1 = DMatrix::from_fn(IN, HID, |i, k| w.w1[i][k]);
        let w2 = DMatrix::from_fn(HID, OUT, |k, j| w.w2[k][j]);
        Self {
            w1t: w1.transpose(),
            w2t: w2.transpose(),
            w1,
            w2,
            b1: w.b1.to_vec(),
            b2: w.b2.to_vec(),
            h: DMatrix::zeros(HID, batch),
            theta: DMatrix::zeros(OUT, batch),
            d_h: DMatrix::zeros(HID, batch),
        }
    }

    /// Losses and `dL/dx` of every column of `xs` (`IN × batch`), into
    /// `losses` and the columns of `dxs`.
    pub fn input_grad_batch<const OUT: usize, L: BaseTarget<OUT>>(
        &mut self,
        xs: &DMatrix<f32>,
        targets: &[L],
        losses: &mut [f32],
        dxs: &mut DMatrix<f32>,
    ) {
        // A = W1ᵀ·X, then H = σ(A + b1) in place.
        self.h.gemm(1.0, &self.w1t, xs, 0.0);
        for mut col in self.h.column_iter_mut() {
            for (v, b) in col.iter_mut().zip(&self.b1) {
                *v = sigmoid(*v + b);
            }
        }
        // Θ = W2ᵀ·H; per column: softmax, loss, dL/dθ (in place of Θ).
        self.theta.gemm(1.0, &self.w2t, &self.h, 0.0);
        for ((mut col, &target), loss) in self.theta.column_iter_mut().zip(targets).zip(losses) {
            for (v, b) in col.iter_mut().zip(&self.b2) {
                *v += b;
            }
            let m = col.max();
            let sums = target.sums(col.as_slice());
            col.apply(|v| *v = (*v - m).exp());
            let s = col.sum();
            *loss = loss_from(sums, s.ln() + m);
            col /= s;
            target.d_theta(col.as_mut_slice());
        }
        // dH = W2·dΘ, dA = dH ∘ H ∘ (1 − H) (in place of dH), dX = W1·dA.
        self.d_h.gemm(1.0, &self.w2, &self.theta, 0.0);
        self.d_h.zip_apply(&self.h, |d, h| *d *= h * (1.0 - h));
        dxs.gemm(1.0, &self.w1, &self.d_h, 0.0);
    }
}
