//! Training: batched gradient accumulation, SGD (with optional momentum), and
//! Xavier/Glorot initialisation (feature `rand`).
//!
//! Everything works in place on caller-owned storage, so a network and its
//! gradients can live in a `Box` or a `static` whatever their size.

use crate::batch::check_batch;
use crate::error::Error;
use crate::mat::RowVec;
use crate::mlp::{Grads, Mlp};
use crate::real::Real;
use crate::target::Target;

/// How [`Mlp::grads_batch`] combines the per-sample gradients.
///
/// # Examples
///
/// `Mean` is `Sum` divided by the batch size: with 2 samples the halving is
/// exact in binary, so the two compare exactly. An empty batch's mean is
/// zero, not `0/0`.
///
/// ```
/// use constgrad::{Grads, Mat, Mlp, Reduction, RowVec, Target};
/// let mlp: Mlp<2, 2, 2> = Mlp::new(
///     Mat::from_rows([[1.0, -1.0], [0.5, 2.0]]), RowVec::zeros(),
///     Mat::from_rows([[1.0, 0.0], [0.0, 1.0]]), RowVec::zeros(),
/// );
/// let xs = [RowVec::from_row([1.0, 0.0]), RowVec::from_row([0.0, 2.0])];
/// let ts = [Target::class(0)?, Target::class(1)?];
/// let (mut losses, mut dxs) = ([0.0; 2], [RowVec::zeros(); 2]);
/// let (mut sum, mut mean) = (Grads::default(), Grads::default());
/// mlp.grads_batch(&xs, &ts, Reduction::Sum, &mut losses, &mut dxs, &mut sum)?;
/// mlp.grads_batch(&xs, &ts, Reduction::Mean, &mut losses, &mut dxs, &mut mean)?;
/// assert_eq!((sum.loss, sum.w1), (2.0 * mean.loss, mean.w1.scale(2.0)));
/// mlp.grads_batch(&[], &[], Reduction::Mean, &mut [], &mut [], &mut mean)?;
/// assert_eq!(mean, Grads::ZERO);
/// # Ok::<(), constgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Reduction {
    /// `Σ_n`: the gradient of the summed loss.
    #[default]
    Sum,
    /// `(1/N)·Σ_n`: the gradient of the mean loss (all zero for an empty batch).
    Mean,
}

impl<const IN: usize, const HID: usize, const OUT: usize, T: Real> Grads<IN, HID, OUT, T> {
    /// Sets every entry to zero, in place.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Grads, Mlp, RowVec, Target};
    /// let mut g = Mlp::<2, 2, 2>::zeros().grads(&RowVec::zeros(), &Target::class(0)?);
    /// assert!(g.loss > 0.0); // ln 2
    /// g.clear();
    /// assert_eq!(g, Grads::ZERO);
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    pub fn clear(&mut self) {
        self.loss = T::ZERO;
        for v in self.x.as_mut_slice() {
            *v = T::ZERO;
        }
        for m in [
            self.w1.as_mut_slice(),
            self.b1.as_mut_slice(),
            self.w2.as_mut_slice(),
            self.b2.as_mut_slice(),
        ] {
            for v in m {
                *v = T::ZERO;
            }
        }
    }

    /// Divides every entry by `n`, in place.
    pub(crate) fn divide(&mut self, n: T) {
        self.loss /= n;
        for m in [
            self.x.as_mut_slice(),
            self.w1.as_mut_slice(),
            self.b1.as_mut_slice(),
            self.w2.as_mut_slice(),
            self.b2.as_mut_slice(),
        ] {
            for v in m {
                *v /= n;
            }
        }
    }

    /// `self += other`, entry by entry.
    ///
    /// # Examples
    ///
    /// Summing two samples' gradients by hand. Starting from zero, the sums
    /// are exactly those of [`Mat::add`](crate::Mat::add) (`0 + a = a`).
    ///
    /// ```
    /// use constgrad::{Grads, Mlp, RowVec, Target};
    /// let mlp = Mlp::<2, 2, 3>::zeros();
    /// let g0 = mlp.grads(&RowVec::from_row([1.0, 0.0]), &Target::class(0)?);
    /// let g1 = mlp.grads(&RowVec::from_row([0.0, 1.0]), &Target::class(2)?);
    /// let mut acc = Grads::ZERO;
    /// acc.add_assign(&g0);
    /// acc.add_assign(&g1);
    /// assert_eq!(acc.loss, g0.loss + g1.loss);
    /// assert_eq!(acc.b2, g0.b2.add(&g1.b2));
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    pub fn add_assign(&mut self, other: &Self) {
        self.loss += other.loss;
        for (a, b) in [
            (self.x.as_mut_slice(), other.x.as_slice()),
            (self.w1.as_mut_slice(), other.w1.as_slice()),
            (self.b1.as_mut_slice(), other.b1.as_slice()),
            (self.w2.as_mut_slice(), other.w2.as_slice()),
            (self.b2.as_mut_slice(), other.b2.as_slice()),
        ] {
            for (x, y) in a.iter_mut().zip(b) {
                *x += *y;
            }
        }
    }
}

impl<const IN: usize, const HID: usize, const OUT: usize, T: Real> Mlp<IN, HID, OUT, T> {
    /// Per-sample losses and `dL/dx`, and the parameter gradients of the
    /// batch's total (or mean) loss, accumulated into `grads` without
    /// allocating.
    ///
    /// On return `grads.loss` is the summed (or mean) loss, `grads.w1` …
    /// `grads.b2` its parameter gradients, and `grads.x` the sum (or mean) of
    /// the per-sample `dL/dx` (which are also written to `dxs`).
    ///
    /// It runs [`Mlp::input_grad_batch`]'s kernel (one sample per SIMD lane,
    /// in blocks of a batch vector's lanes), so `losses` and `dxs` come out
    /// bit-identical to that call's. For small networks (whose gradients,
    /// one copy per lane, fit in 16 KiB) each gradient entry then keeps one
    /// running sum per lane, updated by one multiply-add per block, and the
    /// lanes' sums are added at the end; for larger ones each block's
    /// outer products are added with the gradient rows held in registers,
    /// sample after sample. Either way the gradient matrices are read and
    /// written once per block or once per call, never once per sample, and
    /// the summation order depends on the batch alone.
    ///
    /// # Errors
    ///
    /// [`Error::BatchLength`] when `targets`, `losses` or `dxs` do not have
    /// `xs.len()` elements; nothing is written then.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Grads, Mat, Mlp, Reduction, RowVec, Target};
    /// let mlp: Mlp<2, 2, 2> = Mlp::new(
    ///     Mat::from_rows([[1.0, -1.0], [0.5, 2.0]]), RowVec::zeros(),
    ///     Mat::from_rows([[1.0, 0.0], [0.0, 1.0]]), RowVec::zeros(),
    /// );
    /// let xs = [RowVec::from_row([0.1, 0.2]), RowVec::from_row([-1.0, 3.0])];
    /// let ts = [Target::class(0)?, Target::class(1)?];
    /// let (mut losses, mut dxs, mut g) = ([0.0; 2], [RowVec::zeros(); 2], Grads::default());
    /// mlp.grads_batch(&xs, &ts, Reduction::Mean, &mut losses, &mut dxs, &mut g)?;
    /// let (g0, g1) = (mlp.grads(&xs[0], &ts[0]), mlp.grads(&xs[1], &ts[1]));
    /// assert!((g.w2[(1, 0)] - (g0.w2[(1, 0)] + g1.w2[(1, 0)]) / 2.0).abs() < 1e-7);
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    pub fn grads_batch(
        &self,
        xs: &[RowVec<IN, T>],
        targets: &[Target<OUT, T>],
        reduction: Reduction,
        losses: &mut [T],
        dxs: &mut [RowVec<IN, T>],
        grads: &mut Grads<IN, HID, OUT, T>,
    ) -> Result<(), Error> {
        let n = xs.len();
        check_batch(n, targets, losses, dxs)?;
        grads.clear();
        self.grads_blocks(xs, targets, losses, dxs, grads);
        if reduction == Reduction::Mean && n > 0 {
            grads.divide(T::from_f64(n as f64));
        }
        Ok(())
    }

    /// One step of plain gradient descent: `p ← p − learning_rate · ∂L/∂p`
    /// for `W1`, `b1`, `W2`, `b2` (the transposed layouts are refreshed).
    ///
    /// # Examples
    ///
    /// A step by hand from the zero network (`0 − 0.25·4 = −1`, and so on); a
    /// parameter whose gradient is 0 stays put.
    ///
    /// ```
    /// use constgrad::{Grads, Mat, Mlp, RowVec};
    /// let mut mlp = Mlp::<2, 2, 2>::zeros();
    /// let mut g = Grads::<2, 2, 2>::ZERO;
    /// g.w1[(0, 1)] = 4.0;
    /// g.b2 = RowVec::from_row([1.0, -2.0]);
    /// mlp.sgd_step(&g, 0.25);
    /// assert_eq!(mlp.w1().rows(), &[[0.0, -1.0], [0.0, 0.0]]);
    /// assert_eq!(mlp.b2().row(), &[-0.25, 0.5]);
    /// assert_eq!(mlp.w2(), &Mat::zeros());
    /// ```
    pub fn sgd_step(&mut self, grads: &Grads<IN, HID, OUT, T>, learning_rate: T) {
        self.update_params(|w1, b1, w2, b2| {
            axpy_neg(w1.as_mut_slice(), learning_rate, grads.w1.as_slice());
            axpy_neg(b1.as_mut_slice(), learning_rate, grads.b1.as_slice());
            axpy_neg(w2.as_mut_slice(), learning_rate, grads.w2.as_slice());
            axpy_neg(b2.as_mut_slice(), learning_rate, grads.b2.as_slice());
        });
    }

    /// Xavier/Glorot uniform initialisation in place: `W1 ~ U(±√(6/(IN+HID)))`,
    /// `W2 ~ U(±√(6/(HID+OUT)))`, biases 0, drawn from the caller's RNG (so a
    /// seeded RNG gives a reproducible network).
    ///
    /// # Examples
    ///
    /// ```
    /// use rand::SeedableRng;
    /// let mut mlp = constgrad::Mlp::<5, 3, 5>::zeros();
    /// mlp.init_xavier_uniform(&mut rand::rngs::StdRng::seed_from_u64(7));
    /// let limit = (6.0f32 / 8.0).sqrt();
    /// assert!(mlp.w1().as_slice().iter().all(|w| w.abs() <= limit));
    /// assert!(mlp.w1().as_slice().iter().any(|w| *w != 0.0));
    /// ```
    #[cfg(feature = "rand")]
    pub fn init_xavier_uniform<R: rand::Rng + ?Sized>(&mut self, rng: &mut R) {
        let l1 = sqrt(6.0 / (IN + HID).max(1) as f64);
        let l2 = sqrt(6.0 / (HID + OUT).max(1) as f64);
        self.fill_with(|p, _, _| {
            let limit = match p {
                crate::Param::W1 => l1,
                crate::Param::W2 => l2,
                crate::Param::B1 | crate::Param::B2 => return T::ZERO,
            };
            T::from_f64(limit * (2.0 * rng.gen::<f64>() - 1.0))
        });
    }
}

/// `x ← x − a·y`.
fn axpy_neg<T: Real>(x: &mut [T], a: T, y: &[T]) {
    for (xi, &yi) in x.iter_mut().zip(y) {
        *xi -= a * yi;
    }
}

/// `√v` for `v > 0` by Newton's method (core has no `f64::sqrt` without std).
#[cfg(feature = "rand")]
fn sqrt(v: f64) -> f64 {
    let mut r = if v > 1.0 { v } else { 1.0 };
    for _ in 0..64 {
        r = 0.5 * (r + v / r);
    }
    r
}

/// SGD with classical momentum: `v ← β·v + g`, `p ← p − η·v`.
///
/// The velocity has the shape of the gradients; keep it in a `Box` for large
/// networks.
///
/// # Examples
///
/// ```
/// use constgrad::{Grads, Mat, Mlp, Momentum, RowVec, Target};
/// let mut mlp = Mlp::<2, 2, 2>::new(Mat::splat(0.5), RowVec::zeros(), Mat::splat(-0.5), RowVec::zeros());
/// let mut opt = Momentum::new(0.9);
/// let (x, t) = (RowVec::from_row([1.0, 2.0]), Target::class(0)?);
/// let before = mlp.loss(&x, &t);
/// for _ in 0..20 {
///     let g = mlp.grads(&x, &t);
///     opt.step(&mut mlp, &g, 0.1);
/// }
/// assert!(mlp.loss(&x, &t) < before);
/// # Ok::<(), constgrad::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Momentum<const IN: usize, const HID: usize, const OUT: usize, T = f32> {
    velocity: Grads<IN, HID, OUT, T>,
    beta: T,
}

impl<const IN: usize, const HID: usize, const OUT: usize, T: Real> Momentum<IN, HID, OUT, T> {
    /// A momentum optimiser with coefficient `beta` (typically 0.9) and zero
    /// velocity. `const`, so it can initialise a `static` for large networks.
    ///
    /// # Examples
    ///
    /// The velocity of a 784→128→10 network is about 410 KB, kept here in
    /// static storage rather than on a stack.
    ///
    /// ```
    /// use constgrad::Momentum;
    /// use std::sync::Mutex;
    /// static OPT: Mutex<Momentum<784, 128, 10>> = Mutex::new(Momentum::new(0.9));
    /// let opt = OPT.lock().unwrap();
    /// assert!(opt.velocity().w1.as_slice().iter().all(|&v| v == 0.0));
    /// ```
    #[must_use]
    pub const fn new(beta: T) -> Self {
        Self {
            velocity: Grads::ZERO,
            beta,
        }
    }

    /// The current velocity, one entry per parameter (`w1`, `b1`, `w2`,
    /// `b2`); its `loss` and `x` fields, which are not parameters, stay 0.
    ///
    /// # Examples
    ///
    /// It starts at zero, so after the first step it is the gradient itself
    /// (`0.9·0 + g = g`).
    ///
    /// ```
    /// use constgrad::{Grads, Mlp, Momentum, RowVec, Target};
    /// let mut mlp = Mlp::<2, 2, 3>::zeros();
    /// let mut opt = Momentum::new(0.9);
    /// assert_eq!(opt.velocity(), &Grads::ZERO);
    /// let g = mlp.grads(&RowVec::from_row([1.0, 2.0]), &Target::class(1)?);
    /// opt.step(&mut mlp, &g, 0.1);
    /// assert_eq!((opt.velocity().w2, opt.velocity().b2), (g.w2, g.b2));
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    #[must_use]
    pub fn velocity(&self) -> &Grads<IN, HID, OUT, T> {
        &self.velocity
    }

    /// One step: `v ← β·v + g`, then `p ← p − learning_rate·v`.
    ///
    /// # Examples
    ///
    /// Two steps by hand with `β = 0.5`, learning rate 0.25 and the same
    /// gradient `g` on `b2` (every number a binary fraction, so exact):
    /// `v = g = [1, −2]`, `b2 = −0.25·v = [−0.25, 0.5]`; then
    /// `v = 0.5·v + g = [1.5, −3]`, `b2 = b2 − 0.25·v = [−0.625, 1.25]`.
    ///
    /// ```
    /// use constgrad::{Grads, Mlp, Momentum, RowVec};
    /// let (mut mlp, mut opt) = (Mlp::<1, 1, 2>::zeros(), Momentum::new(0.5));
    /// let mut g = Grads::<1, 1, 2>::ZERO;
    /// g.b2 = RowVec::from_row([1.0, -2.0]);
    /// opt.step(&mut mlp, &g, 0.25);
    /// assert_eq!(mlp.b2().row(), &[-0.25, 0.5]);
    /// opt.step(&mut mlp, &g, 0.25);
    /// assert_eq!(opt.velocity().b2.row(), &[1.5, -3.0]);
    /// assert_eq!(mlp.b2().row(), &[-0.625, 1.25]);
    /// ```
    pub fn step(
        &mut self,
        mlp: &mut Mlp<IN, HID, OUT, T>,
        grads: &Grads<IN, HID, OUT, T>,
        learning_rate: T,
    ) {
        let beta = self.beta;
        let blend = |v: &mut [T], g: &[T]| {
            for (vi, &gi) in v.iter_mut().zip(g) {
                *vi = beta * *vi + gi;
            }
        };
        blend(self.velocity.w1.as_mut_slice(), grads.w1.as_slice());
        blend(self.velocity.b1.as_mut_slice(), grads.b1.as_slice());
        blend(self.velocity.w2.as_mut_slice(), grads.w2.as_slice());
        blend(self.velocity.b2.as_mut_slice(), grads.b2.as_slice());
        mlp.sgd_step(&self.velocity, learning_rate);
    }
}
