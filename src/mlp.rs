//! [`Mlp`]: the network `x → σ(x·W1 + b1)·W2 + b2 → softmax → cross-entropy`,
//! with fused forward+backward kernels.
//!
//! # Derivation of the backward pass
//!
//! ```text
//! a = x·W1 + b1,  h = σ(a),  θ = h·W2 + b2,  ŷ = softmax(θ),  L = xent(y, θ)
//!
//! dL/dθ = ŷ·Σy − y                      (1×OUT)
//! dL/dh = dL/dθ · W2ᵀ                    (1×OUT · OUT×HID = 1×HID)
//! dL/da = dL/dh ∘ σ'(a)                  (row · Diag(σ'(a)) = Hadamard product)
//! dL/dx = dL/da · W1ᵀ                    (1×HID · HID×IN = 1×IN)
//! dL/dW1 = xᵀ·dL/da,  dL/db1 = dL/da,  dL/dW2 = hᵀ·dL/dθ,  dL/db2 = dL/dθ
//! ```
//!
//! `W2` appears transposed because `θ_j = Σ_k h_k W2[k][j]`, so
//! `∂L/∂h_k = Σ_j ∂L/∂θ_j · W2[k][j]`, a sum over `W2`'s *columns*: that is
//! the row `dL/dθ` times `W2ᵀ`, and it is the only product with the right shape.
//!
//! # Cancellation-free forms
//!
//! - `σ'(a) = σ(a)·σ(−a)`, not `σ(a)·(1 − σ(a))` (which is 0 once σ(a) rounds to 1).
//! - For a class label `l`: `dL/dθ_j = ŷ_j` for `j ≠ l` and
//!   `dL/dθ_l = −Σ_{j≠l} ŷ_j`, not `ŷ_l − 1`; and
//!   `dL/dh = Σ_{j≠l} ŷ_j·(W2ᵀ_j − W2ᵀ_l)`, not `Σ_j dL/dθ_j·W2ᵀ_j`.
//!   A confident network (`ŷ_l ≈ 1`) has tiny but representable gradients;
//!   these forms keep their relative precision.
//! - For probabilities `y`, at the first maximal logit `p` when it is the
//!   row's shift and ties with no other:
//!   `dL/dθ_p = (Σ_{i≠p} y_i − y_p·ρ)/s` (the general
//!   `(e_j·Σ_{i≠j} y_i − y_j·Σ_{i≠j} e_i)/s` with `e_p = 1`), not
//!   `ŷ_p·Σy − y_p`, whose `ŷ_p` rounds to within an ulp of 1 on a confident
//!   row. `ρ = s − 1` is summed without the maxima, and `Σ_{i≠p} y_i` is a
//!   plain sum of the other entries. Every other class has `ŷ_j ≤ ½` and
//!   takes the plain form, which keeps `y_j` exact (the batch kernels, whose
//!   shift is always the maximum, take the same rule in each lane; see
//!   `math::softmax`). `dL/dh` is then `Σ_j dL/dθ_j·(W2ᵀ_j − W2ᵀ_p)`, which
//!   `Σ_j dL/dθ_j = 0` allows. Class `p`'s own term vanishes there, so the
//!   product takes the plain form of every class, and only `dL/dθ`
//!   (`grads`) forms `p`'s other one.
//! - The loss is `(m − θ_l) + ln(1 + ρ)`, see [`crate::math::cross_entropy`].
//! - The one-sample kernels shift a row by one class's own logit instead of
//!   the maximum, when the network keeps every logit within a bound whatever
//!   the input: since `h ∈ [0, 1]`, `|θ_j| ≤ |b2_j| + Σ_k |W2[k][j]|`,
//!   checked once per network when its weights are set. The class is the
//!   label (so the loss is `ln(1 + ρ)`), or for probabilities their first
//!   largest entry, the mode. The values are the same; the horizontal
//!   maximum, a reduction on the chain between `θ` and the exponentials, is
//!   skipped. See "Another shift" in `math::softmax`.
//! - `a` and `θ` add their bias after the products' sum, not before: the
//!   partial sums then round at their own scale, not at the bias's.
//!
//! # Layout
//!
//! `Mlp::new` stores `W1`, `W2` and their transposes, so that all four
//! products are row-times-matrix products vectorized along contiguous rows
//! (see `ARCHITECTURE.md`).

use crate::mat::{mat_vec_map, vec_mat_map, Mat, Panels, RowVec};
use crate::math::sigmoid::sigmoid_and_slope_guarded_v;
use crate::math::softmax::{
    class_e, exp_shifted_by, first_equal, nonnegative_mode, pivot_unscale, row_max, soft_d_theta,
    soft_d_theta_at_max, soft_exact_at_shift, soft_loss_shifts, soft_loss_terms, soft_xent,
    soft_y_sums, ExpSums, RowStats,
};
use crate::real::{LoadAs, Real};
use crate::simd::{self, Vector};
use crate::target::Target;

/// A one-hidden-layer perceptron with sigmoid hidden units and a softmax
/// cross-entropy output: `IN → HID → OUT`, element type `T` (default `f32`).
///
/// All shapes are type parameters; every method is allocation-free.
///
/// # Examples
///
/// ```
/// use constgrad::{Mat, Mlp, RowVec, Target};
///
/// let mlp: Mlp<5, 3, 5> = Mlp::new(
///     Mat::from_rows([[0.1, -0.2, 0.3], [0.0, 0.5, -0.1], [0.2, 0.2, 0.2], [-0.3, 0.1, 0.0], [0.4, -0.4, 0.1]]),
///     RowVec::from_row([0.0, 0.1, -0.1]),
///     Mat::from_rows([[1.0, -1.0, 0.5, 0.0, 0.2], [0.3, 0.3, -0.7, 1.0, 0.0], [-0.5, 0.8, 0.1, 0.2, -0.2]]),
///     RowVec::from_row([0.0; 5]),
/// );
/// let (x, target) = (RowVec::from_row([1.0, 2.0, -1.0, 0.5, 0.0]), Target::class(2)?);
/// let (loss, dl_dx) = mlp.input_grad(&x, &target);
///
/// // Against an independent route: central differences of the loss computed
/// // in f64 with std's exp and ln (`gradcheck`), each component within 1e-5
/// // of the gradient's scale (f32 rounds at about 1e-7).
/// let report = constgrad::gradcheck::check_input_grad(&mlp, &x, &target, 1e-5);
/// assert!(report.passed(), "{report}");
/// assert!(loss > 0.0 && report.entries.len() == dl_dx.row().len());
/// # Ok::<(), constgrad::Error>(())
/// ```
#[derive(Clone, Copy)]
pub struct Mlp<const IN: usize, const HID: usize, const OUT: usize, T: Real = f32> {
    pub(crate) w1: Mat<IN, HID, T>,
    pub(crate) b1: RowVec<HID, T>,
    pub(crate) w2: Mat<HID, OUT, T>,
    pub(crate) b2: RowVec<OUT, T>,
    /// `W1ᵀ`, for `dL/dx = dL/da · W1ᵀ` along contiguous rows.
    pub(crate) w1t: Mat<HID, IN, T>,
    /// `W1` in column panels of [`Mlp::W1_PANEL`] hidden units
    /// (`mat::Panels`): what the one-sample forward pass reads, and for
    /// large layers the backward pass too ([`Mlp::LARGE_W1`]). Zero unless
    /// [`Mlp::W1_IN_PANELS`]: with one panel that layout is `W1` itself, which
    /// the passes then read.
    w1_panels: Mat<IN, HID, T>,
    /// `W2ᵀ`, for `dL/dh = dL/dθ · W2ᵀ` along contiguous rows.
    pub(crate) w2t: Mat<OUT, HID, T>,
    /// Every row of `W1`, `W1ᵀ`, `W2`, `W2ᵀ` and the biases as one zero-padded
    /// SIMD vector, for the register-resident kernel (which reads the first
    /// `T::Narrow` lanes when the network fits those). Filled only when every
    /// dimension fits one vector (`FITS_ONE_VECTOR`); zero otherwise.
    packed: Packed<IN, HID, OUT, T>,
    /// `false` when every logit `θ_j = h·W2_j + b2_j` lies within
    /// [`Mlp::logit_bound_limit`] of 0 for every input (see
    /// [`Mlp::relayout`]): the one-sample kernels then shift a row's logits
    /// by the logit of the target's class (the label, or the mode of
    /// probabilities) instead of their maximum (`math::softmax`, "Another
    /// shift"), and the batch kernels shift each lane by its label's logit
    /// (class labels only). `true` otherwise. (Stated this
    /// way round so that the all-zero network, whose logits are bounded, is
    /// all zero bits: [`Mlp::ZERO`] then costs no constant data, and
    /// [`Mlp::new`] starts from a zeroed value, not a copy.)
    needs_max_shift: bool,
}

/// See [`Mlp`]'s `packed` field.
#[derive(Clone, Copy)]
struct Packed<const IN: usize, const HID: usize, const OUT: usize, T: Real> {
    w1: [T::Simd; IN],
    b1: T::Simd,
    w1t: [T::Simd; HID],
    w2: [T::Simd; HID],
    b2: T::Simd,
    w2t: [T::Simd; OUT],
}

impl<const IN: usize, const HID: usize, const OUT: usize, T: Real> Packed<IN, HID, OUT, T> {
    fn new(
        w1: &Mat<IN, HID, T>,
        b1: &RowVec<HID, T>,
        w1t: &Mat<HID, IN, T>,
        w2: &Mat<HID, OUT, T>,
        b2: &RowVec<OUT, T>,
        w2t: &Mat<OUT, HID, T>,
    ) -> Self {
        let row = |r: &[T]| simd::load::<T::Simd>(r, T::ZERO);
        // Row by row through references: `rows().map(..)` would copy each
        // whole matrix onto the stack first (megabytes for large shapes).
        Self {
            w1: core::array::from_fn(|i| row(&w1.rows()[i])),
            b1: row(b1.row()),
            w1t: core::array::from_fn(|i| row(&w1t.rows()[i])),
            w2: core::array::from_fn(|i| row(&w2.rows()[i])),
            b2: row(b2.row()),
            w2t: core::array::from_fn(|i| row(&w2t.rows()[i])),
        }
    }
}

impl<const IN: usize, const HID: usize, const OUT: usize, T: Real> PartialEq
    for Mlp<IN, HID, OUT, T>
{
    /// Two networks are equal when their parameters are.
    fn eq(&self, other: &Self) -> bool {
        self.w1 == other.w1 && self.b1 == other.b1 && self.w2 == other.w2 && self.b2 == other.b2
    }
}

impl<const IN: usize, const HID: usize, const OUT: usize, T: Real> core::fmt::Debug
    for Mlp<IN, HID, OUT, T>
{
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Mlp")
            .field("w1", &self.w1)
            .field("b1", &self.b1)
            .field("w2", &self.w2)
            .field("b2", &self.b2)
            .finish()
    }
}

/// Names one of the network's four parameter blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Param {
    /// `W1` (`IN`×`HID`).
    W1,
    /// `b1` (1×`HID`).
    B1,
    /// `W2` (`HID`×`OUT`).
    W2,
    /// `b2` (1×`OUT`).
    B2,
}

fn fill<T: Copy, const R: usize, const C: usize>(
    m: &mut [[T; C]; R],
    mut f: impl FnMut(usize, usize) -> T,
) {
    for (i, row) in m.iter_mut().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = f(i, j);
        }
    }
}

/// Every intermediate of the forward pass.
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Forward<const HID: usize, const OUT: usize, T = f32> {
    /// Hidden pre-activation `a = x·W1 + b1`.
    pub a: RowVec<HID, T>,
    /// Hidden activation `h = σ(a)`.
    pub h: RowVec<HID, T>,
    /// Logits `θ = h·W2 + b2`.
    pub theta: RowVec<OUT, T>,
    /// Prediction `ŷ = softmax(θ)`.
    pub y_hat: RowVec<OUT, T>,
}

/// The loss and its gradient with respect to the input and every parameter.
///
/// Filled by [`Mlp::grads`] and [`Mlp::grads_into`] for one sample and by
/// [`Mlp::grads_batch`] for a batch; [`Grads::clear`] and
/// [`Grads::add_assign`] accumulate sums by hand, and [`Mlp::sgd_step`] and
/// [`crate::Momentum`] apply them. `Grads::ZERO` builds one in a `static`
/// (see [`Mlp::ZERO`]).
#[derive(Clone, Copy, PartialEq, Debug)]
pub struct Grads<const IN: usize, const HID: usize, const OUT: usize, T = f32> {
    /// The loss `L`.
    pub loss: T,
    /// `dL/dx`.
    pub x: RowVec<IN, T>,
    /// `dL/dW1 = xᵀ·dL/da`.
    pub w1: Mat<IN, HID, T>,
    /// `dL/db1 = dL/da`.
    pub b1: RowVec<HID, T>,
    /// `dL/dW2 = hᵀ·dL/dθ`.
    pub w2: Mat<HID, OUT, T>,
    /// `dL/db2 = dL/dθ`.
    pub b2: RowVec<OUT, T>,
}

impl<const IN: usize, const HID: usize, const OUT: usize, T: Real> Grads<IN, HID, OUT, T> {
    /// All-zero gradients as a constant (for `static`s; see [`Mlp::ZERO`]).
    pub const ZERO: Self = Self {
        loss: T::ZERO,
        x: Mat::from_rows([[T::ZERO; IN]; 1]),
        w1: Mat::from_rows([[T::ZERO; HID]; IN]),
        b1: Mat::from_rows([[T::ZERO; HID]; 1]),
        w2: Mat::from_rows([[T::ZERO; OUT]; HID]),
        b2: Mat::from_rows([[T::ZERO; OUT]; 1]),
    };
}

impl<const IN: usize, const HID: usize, const OUT: usize, T: Real> Default
    for Grads<IN, HID, OUT, T>
{
    fn default() -> Self {
        Self {
            loss: T::ZERO,
            x: RowVec::zeros(),
            w1: Mat::zeros(),
            b1: RowVec::zeros(),
            w2: Mat::zeros(),
            b2: RowVec::zeros(),
        }
    }
}

/// What the forward pass leaves for the backward pass (all on the stack).
pub(crate) struct Hidden<const HID: usize, const OUT: usize, T> {
    a: [T; HID],
    pub(crate) h: [T; HID],
    slope: [T; HID],
    theta: [T; OUT],
    e: [T; OUT],
    stats: RowStats<T>,
}

/// The backward signals `dL/dθ` and `dL/da`.
pub(crate) struct Backward<const HID: usize, const OUT: usize, T> {
    pub(crate) loss: T,
    pub(crate) d_theta: [T; OUT],
    pub(crate) d_a: [T; HID],
}

impl<const IN: usize, const HID: usize, const OUT: usize, T: Real> Mlp<IN, HID, OUT, T> {
    /// Builds the network from `W1` (`IN`×`HID`), `b1`, `W2` (`HID`×`OUT`), `b2`,
    /// and lays out the transposed copies the backward kernels read.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Mat, Mlp, RowVec};
    /// // Zero weights and b2 = (0, 0, ln 2): e^θ = (1, 1, 2) whatever x, so ŷ = (¼, ¼, ½).
    /// let w1: Mat<2, 3> = Mat::zeros();
    /// let w2: Mat<3, 3> = Mat::zeros();
    /// let mlp = Mlp::new(w1, RowVec::zeros(), w2, RowVec::from_row([0.0, 0.0, 2f32.ln()]));
    /// let y_hat = mlp.forward(&RowVec::from_row([5.0, -1.0])).y_hat;
    /// // f32 rounding of ln 2, e^θ and ŷ: a few ulps of ½ (6e-8 each).
    /// assert!(y_hat.row().iter().zip([0.25, 0.25, 0.5]).all(|(p, q)| (p - q).abs() < 1e-6));
    /// ```
    #[must_use]
    pub fn new(
        w1: Mat<IN, HID, T>,
        b1: RowVec<HID, T>,
        w2: Mat<HID, OUT, T>,
        b2: RowVec<OUT, T>,
    ) -> Self {
        let mut mlp = Self {
            w1,
            b1,
            w2,
            b2,
            ..Self::ZERO
        };
        mlp.relayout();
        mlp
    }

    /// The all-zero network as a constant, so that a network of any size can
    /// live in a `static` (e.g. `static NET: Mutex<Mlp<784, 128, 10>> =
    /// Mutex::new(Mlp::ZERO);`), be filled in place with
    /// [`Mlp::fill_with`] or [`Mlp::set_params`], and never be staged on the
    /// stack.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Grads, Mlp, RowVec, Target};
    /// use std::sync::Mutex;
    /// // 1.25 MB of network and 0.4 MB of gradients, neither ever on the stack.
    /// static NET: Mutex<Mlp<784, 128, 10>> = Mutex::new(Mlp::ZERO);
    /// static GRADS: Mutex<Grads<784, 128, 10>> = Mutex::new(Grads::ZERO);
    /// let (net, mut g) = (NET.lock().unwrap(), GRADS.lock().unwrap());
    /// net.grads_into(&RowVec::splat(0.5), &Target::class(3)?, &mut g);
    /// // All-zero network: ŷ = 1/10 everywhere, so L = ln 10 (to a few f32 ulps).
    /// assert!((g.loss - 10f32.ln()).abs() < 1e-6);
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    pub const ZERO: Self = Self {
        w1: Mat::from_rows([[T::ZERO; HID]; IN]),
        b1: Mat::from_rows([[T::ZERO; HID]; 1]),
        w2: Mat::from_rows([[T::ZERO; OUT]; HID]),
        b2: Mat::from_rows([[T::ZERO; OUT]; 1]),
        w1t: Mat::from_rows([[T::ZERO; IN]; HID]),
        w1_panels: Mat::from_rows([[T::ZERO; HID]; IN]),
        w2t: Mat::from_rows([[T::ZERO; HID]; OUT]),
        packed: Packed {
            w1: [<T::Simd as Vector>::ZERO; IN],
            b1: <T::Simd as Vector>::ZERO,
            w1t: [<T::Simd as Vector>::ZERO; HID],
            w2: [<T::Simd as Vector>::ZERO; HID],
            b2: <T::Simd as Vector>::ZERO,
            w2t: [<T::Simd as Vector>::ZERO; OUT],
        },
        needs_max_shift: false,
    };

    /// The all-zero network (every weight and bias 0).
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Mlp, RowVec, Target};
    /// let mlp = Mlp::<3, 2, 4>::zeros();
    /// assert_eq!(mlp, Mlp::ZERO);
    /// // Every logit is 0 whatever x, so ŷ is uniform and every label costs ln 4
    /// // (tolerance: a few f32 ulps, 1.2e-7 each near 1).
    /// let x = RowVec::from_row([1.0, -2.0, 0.5]);
    /// assert!(mlp.forward(&x).y_hat.row().iter().all(|p| (p - 0.25).abs() < 1e-6));
    /// for label in 0..4 {
    ///     assert!((mlp.loss(&x, &Target::class(label)?) - 4f32.ln()).abs() < 1e-6);
    /// }
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    #[must_use]
    pub fn zeros() -> Self {
        Self::ZERO
    }

    /// Sets every parameter in place from `f(param, i, j)`: `W1[i][j]`,
    /// `b1[0][j]`, `W2[i][j]`, `b2[0][j]`. No matrix is built on the stack, so
    /// this suits networks kept in a `Box` or a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Mlp, Param};
    /// let mut mlp = Mlp::<2, 3, 2>::zeros();
    /// mlp.fill_with(|p, i, j| if p == Param::W1 { (i + j) as f32 } else { 0.0 });
    /// assert_eq!(mlp.w1()[(1, 2)], 3.0);
    /// ```
    pub fn fill_with(&mut self, mut f: impl FnMut(Param, usize, usize) -> T) {
        self.update_params(|w1, b1, w2, b2| {
            fill(w1.rows_mut(), |i, j| f(Param::W1, i, j));
            fill(b1.rows_mut(), |i, j| f(Param::B1, i, j));
            fill(w2.rows_mut(), |i, j| f(Param::W2, i, j));
            fill(b2.rows_mut(), |i, j| f(Param::B2, i, j));
        });
    }

    /// Copies new parameters in from references (no stack copies of the
    /// matrices) and lays out the transposes again.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Mat, Mlp, RowVec, Target};
    /// let (w1, b1) = (Mat::from_rows([[1.0, -1.0]]), RowVec::from_row([0.5, 0.0]));
    /// let (w2, b2) = (Mat::from_rows([[2.0, 0.0], [0.0, -3.0]]), RowVec::from_row([0.1, 0.2]));
    /// let mut mlp = Mlp::<1, 2, 2>::zeros();
    /// mlp.set_params(&w1, &b1, &w2, &b2);
    /// // `w1()`, `b1()`, `w2()` and `b2()` read the parameters back.
    /// assert_eq!((mlp.w1(), mlp.b1(), mlp.w2(), mlp.b2()), (&w1, &b1, &w2, &b2));
    /// // The transposes follow: the same kernels on the same values as `Mlp::new`'s.
    /// let (x, t) = (RowVec::from_row([0.7]), Target::class(1)?);
    /// assert_eq!(mlp.input_grad(&x, &t), Mlp::new(w1, b1, w2, b2).input_grad(&x, &t));
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    pub fn set_params(
        &mut self,
        w1: &Mat<IN, HID, T>,
        b1: &RowVec<HID, T>,
        w2: &Mat<HID, OUT, T>,
        b2: &RowVec<OUT, T>,
    ) {
        self.update_params(|w1_, b1_, w2_, b2_| {
            w1_.rows_mut().copy_from_slice(w1.rows());
            b1_.rows_mut().copy_from_slice(b1.rows());
            w2_.rows_mut().copy_from_slice(w2.rows());
            b2_.rows_mut().copy_from_slice(b2.rows());
        });
    }

    /// Applies `f` to the four parameter matrices, then lays out the
    /// transposes again. This is how optimisers update the network in place.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Mlp, RowVec, Target};
    /// let mut mlp = Mlp::<2, 3, 4>::zeros();
    /// let (x, t) = (RowVec::from_row([1.0, -1.0]), Target::class(2)?);
    /// let g = mlp.grads(&x, &t);
    /// // A gradient step of size 1 on the output bias alone, the rest frozen.
    /// mlp.update_params(|_, _, _, b2| *b2 = b2.sub(&g.b2));
    /// // b2 = −(ŷ − y) = (−¼, −¼, ¾, −¼) and W2 = 0, so θ = b2 and L = ln(1 + 3e^−1)
    /// // (tolerance: a few f32 ulps).
    /// let want = (1.0 + 3.0 * (-1f32).exp()).ln();
    /// assert!((mlp.loss(&x, &t) - want).abs() < 1e-6);
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    pub fn update_params(
        &mut self,
        f: impl FnOnce(
            &mut Mat<IN, HID, T>,
            &mut RowVec<HID, T>,
            &mut Mat<HID, OUT, T>,
            &mut RowVec<OUT, T>,
        ),
    ) {
        f(&mut self.w1, &mut self.b1, &mut self.w2, &mut self.b2);
        self.relayout();
    }

    /// Rebuilds the derived layouts in place from `W1`, `b1`, `W2`, `b2`:
    /// the transposes, and the padded vector rows when the register-resident
    /// kernel will read them.
    fn relayout(&mut self) {
        self.w1.transpose_into(&mut self.w1t);
        if Self::W1_IN_PANELS {
            Panels::write(self.w1.rows(), Self::W1_PANEL, self.w1_panels.rows_mut());
        }
        self.w2.transpose_into(&mut self.w2t);
        if Self::FITS_ONE_VECTOR {
            self.packed = Packed::new(&self.w1, &self.b1, &self.w1t, &self.w2, &self.b2, &self.w2t);
        }
        // Every hidden activation `h_k = σ(a_k)` lies in `[0, 1]` (a NaN input
        // gives NaN logits whatever the bound), so no input takes `|θ_j|` past
        // `|b2_j| + Σ_k |W2[k][j]|`, a row of `W2ᵀ`. A NaN weight fails the
        // comparison, and so needs the maximum.
        let limit = Self::logit_bound_limit();
        let bounded = self
            .w2t
            .rows()
            .iter()
            .zip(self.b2.row())
            .all(|(column, b)| {
                let sum: f64 = column.iter().map(|w| w.abs().to_f64()).sum();
                sum + b.abs().to_f64() <= limit
            });
        self.needs_max_shift = !bounded;
    }

    /// The bound on `|θ_j|` under which the one-sample kernels shift a row
    /// by the logit of the target's class (`needs_max_shift`): a quarter of
    /// the largest argument whose exponential is a normal number with room
    /// to spare (22 for `f32`, 177.25 for `f64`). Two logits then differ by
    /// at most half of that argument, so every `e^(θ_j − θ_c)`
    /// lies within `[2^-64, 2^64]` in `f32` (`[2^-511, 2^511]` in `f64`):
    /// no overflow in the sums and products that follow, and no subnormal
    /// terms.
    fn logit_bound_limit() -> f64 {
        0.25 * T::EXP_NORMAL_MAX.to_f64()
    }

    /// `true` when the weights bound every logit within
    /// [`Mlp::logit_bound_limit`], so that a row may be shifted by any of its
    /// logits: the one rule behind [`Mlp::shift_class`] and the batch
    /// kernels' shift of class-label lanes by their own label's logit.
    #[inline(always)]
    pub(crate) fn logits_bounded(&self) -> bool {
        !self.needs_max_shift
    }

    /// The class whose logit shifts the softmax of a one-sample call, on a
    /// network whose logits are bounded ([`Mlp::logit_bound_limit`]): a
    /// class label's own, or the first largest entry of probabilities `y ≥ 0`
    /// (see [`nonnegative_mode`]). `None`, the maximum, otherwise: also for a
    /// target with a negative or NaN entry, whose loss terms could then
    /// cancel (`math::softmax`, "Another shift"), and for `OUT = 0`.
    #[inline(always)]
    fn shift_class(&self, target: &Target<OUT, T>) -> Option<usize> {
        if !self.logits_bounded() {
            return None;
        }
        match target {
            Target::Class(label) => Some(label.get()),
            Target::Probs(y) => nonnegative_mode(y.row()),
        }
    }

    /// `W1`. See [`Mlp::set_params`]'s example.
    #[must_use]
    pub fn w1(&self) -> &Mat<IN, HID, T> {
        &self.w1
    }
    /// `b1`. See [`Mlp::set_params`]'s example.
    #[must_use]
    pub fn b1(&self) -> &RowVec<HID, T> {
        &self.b1
    }
    /// `W2`. See [`Mlp::set_params`]'s example.
    #[must_use]
    pub fn w2(&self) -> &Mat<HID, OUT, T> {
        &self.w2
    }
    /// `b2`. See [`Mlp::set_params`]'s example.
    #[must_use]
    pub fn b2(&self) -> &RowVec<OUT, T> {
        &self.b2
    }

    /// The forward pass: `a`, `h`, `θ` and `ŷ`.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Mat, Mlp, RowVec};
    /// let mlp = Mlp::<2, 1, 2>::new(Mat::zeros(), RowVec::zeros(), Mat::zeros(), RowVec::zeros());
    /// let f = mlp.forward(&RowVec::from_row([1.0, 2.0]));
    /// // Zero weights: σ(0) is exactly ½ and two equal logits share ŷ exactly.
    /// assert_eq!(f.h.row(), &[0.5]);
    /// assert_eq!(f.y_hat.row(), &[0.5, 0.5]);
    /// ```
    #[must_use]
    pub fn forward(&self, x: &RowVec<IN, T>) -> Forward<HID, OUT, T> {
        let hid = self.hidden(x, None);
        let mut y_hat = RowVec::from_row(hid.e);
        crate::math::softmax::div_row(y_hat.row_mut(), hid.stats.sum);
        Forward {
            a: RowVec::from_row(hid.a),
            h: RowVec::from_row(hid.h),
            theta: RowVec::from_row(hid.theta),
            y_hat,
        }
    }

    /// The loss `L = xent(y, softmax(θ))` of one sample.
    ///
    /// # Accuracy
    ///
    /// Computed from the logits as `(m − θ_l) + ln(1 + ρ)` (class) or
    /// `Σ_j y_j·(m − θ_j) + Σy·ln s` (soft), with `m = max θ` (or, on a network
    /// whose logits are bounded, the logit of the label or of the target's
    /// mode: see the module docs): `≥ 0` for `y ≥ 0`, relative accuracy kept
    /// for tiny losses. NaN inputs give NaN.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Mat, Mlp, RowVec, Target};
    /// // Zero weights and b2 = (20, 0, 0): class 0 leads by 20 whatever x, and
    /// // L = ln(1 + 2e^−20) ≈ 4.1e-9 keeps f32's relative precision (−ln ŷ_0
    /// // would give 0, since ŷ_0 = 1 − 4.1e-9 rounds to 1).
    /// let b2 = RowVec::from_row([20.0, 0.0, 0.0]);
    /// let mlp: Mlp<2, 2, 3> = Mlp::new(Mat::zeros(), RowVec::zeros(), Mat::zeros(), b2);
    /// let (x, t) = (RowVec::from_row([0.3, -0.6]), Target::class(0)?);
    /// let loss = mlp.loss(&x, &t);
    /// let exact = (2.0 * (-20f64).exp()).ln_1p();
    /// assert!((f64::from(loss) / exact - 1.0).abs() < 1e-6); // a few f32 ulps
    /// // The loss `input_grad` returns too (another kernel, the same few ulps).
    /// assert!((mlp.input_grad(&x, &t).0 - loss).abs() < 1e-6 * loss);
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    #[must_use]
    pub fn loss(&self, x: &RowVec<IN, T>, target: &Target<OUT, T>) -> T {
        if Self::FITS_NARROW {
            return self.loss_only_in_registers::<T::Narrow>(x, target);
        }
        if Self::FITS_ONE_VECTOR {
            return self.loss_only_in_registers::<T::Simd>(x, target);
        }
        self.loss_chunked(x, target)
    }

    /// [`Mlp::loss`] by the chunked kernel (any shape).
    fn loss_chunked(&self, x: &RowVec<IN, T>, target: &Target<OUT, T>) -> T {
        let hid = self.hidden(x, Some(target));
        match target {
            Target::Class(l) => hid
                .stats
                .class_loss(hid.theta.get(l.get()).copied().unwrap_or(T::NAN)),
            Target::Probs(y) => soft_xent(&hid.theta, y.row(), &hid.stats),
        }
    }

    /// The loss and `dL/dx` in one fused pass, allocation-free.
    ///
    /// # Accuracy
    ///
    /// The backward signals are formed without cancellation (see the module
    /// docs), so `dL/dx` keeps its relative accuracy on confident networks and
    /// saturated hidden units; bounds in `ACCURACY.md`.
    ///
    /// # Many samples
    ///
    /// One call of a small network is a dependency chain through two
    /// exponentials, and consecutive calls barely overlap in the core, so a
    /// loop of `input_grad` runs at its latency per sample. For many
    /// samples call [`Mlp::input_grad_batch`], which puts one sample in each
    /// SIMD lane: for the 5→3→5 network it is 5 to 9 times faster per
    /// sample than such a loop, and 3.6 to 7.8 times faster than a plain
    /// scalar loop that the compiler vectorises across samples, on the
    /// three machines of `BENCHMARKS.md`.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Mat, Mlp, RowVec, Target};
    /// let mlp = Mlp::<1, 1, 2>::new(
    ///     Mat::from_rows([[1.0]]), RowVec::zeros(),
    ///     Mat::from_rows([[1.0, -1.0]]), RowVec::zeros(),
    /// );
    /// let (loss, g) = mlp.input_grad(&RowVec::from_row([0.0]), &Target::class(0)?);
    /// // h = 0.5, θ = (0.5, −0.5): L = ln(1 + e^−1); dL/dx = −2·σ(−1)·σ'(0).
    /// let s = 1.0 / (1.0 + 1f64.exp());
    /// assert!((loss as f64 - (1.0 + (-1f64).exp()).ln()).abs() < 1e-7);
    /// assert!((g[(0, 0)] as f64 + 2.0 * s * 0.25).abs() < 1e-7);
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    #[must_use]
    pub fn input_grad(&self, x: &RowVec<IN, T>, target: &Target<OUT, T>) -> (T, RowVec<IN, T>) {
        if Self::FITS_NARROW {
            return self.input_grad_in_registers::<T::Narrow>(x, target);
        }
        if Self::FITS_ONE_VECTOR {
            return self.input_grad_in_registers::<T::Simd>(x, target);
        }
        self.input_grad_as::<T>(x, target)
    }

    /// [`Mlp::input_grad`] with the forward and backward pass carried in
    /// `f64`, for `dL/dx` to nearly full `f32` relative accuracy on
    /// confident and saturated networks.
    ///
    /// The weights stay stored in `T`; they are widened as they are loaded
    /// (exactly: every product of two `f32`s is exact in `f64`), the same
    /// kernels run on `f64` lanes, and only the results are rounded to `T`.
    ///
    /// # Why
    ///
    /// On a confident network the exact `dL/dx` is tiny but representable:
    /// `σ'(a) ≈ e^−|a|` for saturated units and `ŷ_j ≈ e^(θ_j − θ_l)` for the
    /// classes that lost. Their relative errors are the *absolute* errors of
    /// `a` and `θ`, and merely storing `a ≈ 80` in `f32` costs ~5e-6. So
    /// [`Mlp::input_grad`], which keeps `a` and `θ` in `T`, is accurate to
    /// about 1e-4 relative there (1.5e-4 measured on 2000 networks per
    /// shape, within twice what correctly rounded `f32` `a` and `θ` alone
    /// cost; 7e-2 on the worst of a million), while this path keeps `a` and
    /// `θ` to ~2^-53 and meets `1e-5` normwise relative error on every such
    /// network tested (`tests/relative_accuracy.rs`, bounds in
    /// `ACCURACY.md`). On well-conditioned networks both agree to a few
    /// `f32` ulps.
    ///
    /// # Cost
    ///
    /// About twice [`Mlp::input_grad`]'s, and 0.8–1.4× that of an `f64`
    /// network of the same shape (measured in `benches/precision.rs`;
    /// figures in `BENCHMARKS.md`); no allocation. For `f64` networks it
    /// computes what [`Mlp::input_grad`] computes (the chunked kernel's
    /// summation order), so it is only useful for `f32`.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Mat, Mlp, RowVec, Target};
    /// // One saturated hidden unit (a = 30) and a logit lead of 40.
    /// let mlp = Mlp::<1, 1, 2>::new(
    ///     Mat::from_rows([[1.0]]), RowVec::from_row([29.0]),
    ///     Mat::from_rows([[40.0, 0.0]]), RowVec::zeros(),
    /// );
    /// let (_, g) = mlp.input_grad_accurate(&RowVec::from_row([1.0]), &Target::class(0)?);
    /// // Exact: dL/dx = −ŷ_1·40·σ'(30), with ŷ_1 = σ(−40·σ(30)).
    /// let h = 1.0 / (1.0 + (-30f64).exp());
    /// let y1 = 1.0 / (1.0 + (40.0 * h).exp());
    /// let exact = -y1 * 40.0 * (-30f64).exp() * h * h; // σ'(30) = e^−30·h²
    /// assert!(((g[(0, 0)] as f64 - exact) / exact).abs() < 1e-6);
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    #[must_use]
    pub fn input_grad_accurate(
        &self,
        x: &RowVec<IN, T>,
        target: &Target<OUT, T>,
    ) -> (T, RowVec<IN, T>) {
        self.input_grad_as::<f64>(x, target)
    }

    /// The loss and the gradients with respect to `x`, `W1`, `b1`, `W2`, `b2`.
    ///
    /// Returns a [`Grads`] by value. For networks whose rows fit one SIMD
    /// vector (the register kernel, such as 5→3→5) the kernel is compiled
    /// into this function and writes each gradient straight into the
    /// returned value, with no zeroing and no copy: 5→3→5 took 64.6–64.7 ns
    /// per call in criterion that way, against 86.4–87.0 ns through
    /// [`Mlp::grads_into`] on a zeroed local that was then copied out
    /// (`docs/benchmarks-history-15-26.md`). Larger shapes run the chunked
    /// kernel on a zeroed local and copy it out: for them, call
    /// [`Mlp::grads_into`] yourself with storage you reuse (in a `Box` or a
    /// `static`), so that no gradient matrix lands on the stack.
    ///
    /// Moving a just-returned `Grads` elsewhere at once (a copy of the whole
    /// struct right behind the kernel's narrow stores) can still stall the
    /// copy's wide loads on some stack layouts: a caller that stores
    /// gradients should write them in place with [`Mlp::grads_into`].
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Mlp, RowVec, Target};
    /// let mlp = Mlp::<2, 3, 4>::zeros();
    /// let g = mlp.grads(&RowVec::from_row([1.0, -1.0]), &Target::class(2)?);
    /// // ŷ = ¼ everywhere, so dL/db2 = ŷ − y = (¼, ¼, −¾, ¼); h = σ(0) = ½ makes
    /// // every row of dL/dW2 = hᵀ(ŷ − y) half of that (tolerance: a few f32 ulps).
    /// let d = [0.25, 0.25, -0.75, 0.25];
    /// assert!((0..4).all(|j| (g.b2[(0, j)] - d[j]).abs() < 1e-6));
    /// assert!((0..3).all(|k| (0..4).all(|j| (g.w2[(k, j)] - d[j] / 2.0).abs() < 1e-6)));
    /// // W2 = 0 stops the signal at the hidden layer: exact zeros below it.
    /// assert!(g.w1.as_slice().iter().chain(g.b1.row()).chain(g.x.row()).all(|&v| v == 0.0));
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    #[must_use]
    pub fn grads(&self, x: &RowVec<IN, T>, target: &Target<OUT, T>) -> Grads<IN, HID, OUT, T> {
        let mut g = Grads::default();
        self.grads_to(x, target, &mut g);
        g
    }

    /// [`Mlp::grads`] writing into caller-provided storage (which may live in
    /// a `Box` or a `static`), so no gradient matrix is placed on the stack.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Grads, Mat, Mlp, RowVec, Target};
    /// let w2 = Mat::from_rows([[1.0, -1.0], [0.5, 2.0]]);
    /// let mlp: Mlp<3, 2, 2> = Mlp::new(Mat::splat(0.5), RowVec::splat(0.1), w2, RowVec::zeros());
    /// let mut g: Box<Grads<3, 2, 2>> = Box::new(Grads::ZERO); // reused for every sample
    /// for (x, label) in [([1.0, 0.0, -1.0], 0), ([0.5, 2.0, 0.0], 1)] {
    ///     let (x, t) = (RowVec::from_row(x), Target::class(label)?);
    ///     mlp.grads_into(&x, &t, &mut g);
    ///     assert_eq!(*g, mlp.grads(&x, &t)); // the same kernel as `grads`, so the same bits
    /// }
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    pub fn grads_into(
        &self,
        x: &RowVec<IN, T>,
        target: &Target<OUT, T>,
        out: &mut Grads<IN, HID, OUT, T>,
    ) {
        self.grads_to(x, target, out);
    }

    /// The kernel choice of [`Mlp::grads`] and [`Mlp::grads_into`], inlined
    /// into both: in `grads`, a register kernel then writes every field of
    /// the returned value directly, so the compiler drops the zeroing and
    /// the copy.
    #[inline(always)]
    fn grads_to(
        &self,
        x: &RowVec<IN, T>,
        target: &Target<OUT, T>,
        out: &mut Grads<IN, HID, OUT, T>,
    ) {
        if Self::FITS_NARROW {
            return self.grads_in_registers::<T::Narrow>(x, target, out);
        }
        if Self::FITS_ONE_VECTOR {
            return self.grads_in_registers::<T::Simd>(x, target, out);
        }
        self.grads_chunked(x, target, out);
    }

    /// [`Mlp::grads_into`] by the chunked kernel (any shape).
    fn grads_chunked(
        &self,
        x: &RowVec<IN, T>,
        target: &Target<OUT, T>,
        out: &mut Grads<IN, HID, OUT, T>,
    ) {
        let hid = self.hidden(x, Some(target));
        let back = self.backward(&hid, target);
        out.loss = back.loss;
        self.input_grad_product::<T>(&back.d_a, &mut out.x);
        outer::<T, IN, HID, false>(x.row(), &back.d_a, out.w1.rows_mut());
        *out.b1.row_mut() = back.d_a;
        outer::<T, HID, OUT, false>(&hid.h, &back.d_theta, out.w2.rows_mut());
        *out.b2.row_mut() = back.d_theta;
    }

    /// Forward pass up to the exponentials of the shifted logits, for the
    /// call's `target` if it has one: shifted as [`Mlp::shift_class`]
    /// chooses, else by their maximum.
    #[inline(always)]
    pub(crate) fn hidden(
        &self,
        x: &RowVec<IN, T>,
        target: Option<&Target<OUT, T>>,
    ) -> Hidden<HID, OUT, T> {
        self.hidden_as::<T>(x, target)
    }

    /// The loss, `dL/dθ` and `dL/da`.
    #[inline(always)]
    pub(crate) fn backward(
        &self,
        hid: &Hidden<HID, OUT, T>,
        target: &Target<OUT, T>,
    ) -> Backward<HID, OUT, T> {
        self.backward_as::<T>(hid, target)
    }

    /// The chunked kernel's loss and `dL/dx`, computed in `W` and rounded
    /// to `T`: [`Mlp::input_grad`] (`W = T`) and
    /// [`Mlp::input_grad_accurate`] (`W = f64`).
    ///
    /// Its three stages ([`Mlp::hidden_as`], [`Mlp::backward_as`],
    /// [`Mlp::input_grad_product`]) are inlined only in optimised builds.
    /// An unoptimised build gives every local of every inlined function its
    /// own stack slot, so the three stages inlined into one frame needed
    /// their sum, not their largest: the `f64` 784→128→10 `input_grad`
    /// needed 153–157 KiB of stack in debug, 102–106 KiB as three frames
    /// (measured by running it on ever smaller thread stacks; release code
    /// is unchanged, instruction for instruction).
    #[inline(always)]
    fn input_grad_as<W: Real>(
        &self,
        x: &RowVec<IN, T>,
        target: &Target<OUT, T>,
    ) -> (T, RowVec<IN, T>)
    where
        T: LoadAs<W>,
    {
        let hid = self.hidden_as::<W>(x, Some(target));
        let back = self.backward_as::<W>(&hid, target);
        let mut dx = RowVec::<IN, T>::zeros();
        self.input_grad_product::<W>(&back.d_a, &mut dx);
        (<T as LoadAs<W>>::narrow(back.loss), dx)
    }

    /// `true` for layers whose `W1` and `W1ᵀ` together would overflow a
    /// 512 KiB L2. The backward pass of a one-sample call then reads the
    /// forward pass's copy of `W1` (in panels, [`Mlp::W1_PANEL`]), as dot
    /// products along its rows, instead of `W1ᵀ`: that halves the memory
    /// traffic of a call (784→128→10 on a 512 KiB L2: 15.7 → 11.0 µs when
    /// that copy was row-major; on a 1 MiB L2, which holds both, still 7.78
    /// → 7.39 µs; `BENCHMARKS.md`). Smaller layers keep the broadcast form
    /// along the rows of `W1ᵀ`, which needs no per-output horizontal sum.
    const LARGE_W1: bool = IN * HID * core::mem::size_of::<T>() > 256 * 1024;

    /// How many hidden units wide the column panels of `W1` are that the
    /// one-sample passes read: four vectors, the forward pass's tile, so
    /// that each tile reads one panel in memory order. Row-major, each tile
    /// read a 128-byte slice of every 512-byte row of the 784→128→10 `W1`;
    /// the backward pass's dot products ([`Mlp::LARGE_W1`]) read eight rows'
    /// slices of a panel at a time (784→128→10 on Zen 3, best of 51,
    /// alternating: 11.3–12.4 → 8.9–9.4 µs per call; `BENCHMARKS.md`).
    /// Layers at most four vectors wide have one panel, `W1` itself. The
    /// products' order of operations is the same in every layout. The batch
    /// kernels keep `W1ᵀ`: reading it in panels as well (one copy fewer),
    /// each of their tiles jumped from panel to panel and the 784→128→10
    /// batch took 10% longer.
    pub(crate) const W1_PANEL: usize = 4 * <T::Simd as Vector>::LANES;

    /// Whether `W1` takes more than one panel, and so the copy in
    /// `w1_panels` (with one panel that layout is `W1` itself).
    const W1_IN_PANELS: bool = HID > Self::W1_PANEL;

    /// `W1` in panels ([`Mlp::W1_PANEL`]): `W1` itself when one panel
    /// holds every hidden unit.
    #[inline(always)]
    fn w1_panels(&self) -> Panels<'_, T, IN, HID> {
        if Self::W1_IN_PANELS {
            Panels::new(self.w1_panels.rows(), Self::W1_PANEL)
        } else {
            Panels::row_major(self.w1.rows())
        }
    }

    /// `dL/dx = dL/da · W1ᵀ`, computed in `W` and rounded to `T`; the one
    /// place every single-sample path (and `grads_batch`) forms it, so they
    /// agree bit for bit.
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline(always))]
    pub(crate) fn input_grad_product<W: Real>(&self, d_a: &[W; HID], dx: &mut RowVec<IN, T>)
    where
        T: LoadAs<W>,
    {
        let dx = dx.row_mut();
        if Self::LARGE_W1 {
            mat_vec_map::<W, T, IN, HID>(self.w1_panels(), d_a, |i, v| {
                dx[i] = <T as LoadAs<W>>::narrow(v);
            });
        } else {
            let w1t = Panels::row_major(self.w1t.rows());
            vec_mat_map::<W, W, T, HID, IN>(d_a, w1t, None, None, |start, v| {
                <T as LoadAs<W>>::store(v, &mut dx[start..]);
            });
        }
    }

    /// [`Mlp::hidden`] computing in `W` (`T` itself, or `f64` for the
    /// mixed-precision path) from the weights as stored.
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn hidden_as<W: Real>(
        &self,
        x: &RowVec<IN, T>,
        target: Option<&Target<OUT, T>>,
    ) -> Hidden<HID, OUT, W>
    where
        T: LoadAs<W>,
    {
        let mut a = [W::ZERO; HID];
        let mut h = [W::ZERO; HID];
        let mut slope = [W::ZERO; HID];
        vec_mat_map::<W, T, T, IN, HID>(
            x.row(),
            self.w1_panels(),
            Some(self.b1.row()),
            None,
            |start, av| {
                let (hv, sv) = sigmoid_and_slope_guarded_v::<W, W::Simd>(av);
                simd::store(av, &mut a[start..]);
                simd::store(hv, &mut h[start..]);
                simd::store(sv, &mut slope[start..]);
            },
        );
        let mut theta = [W::ZERO; OUT];
        vec_mat_map::<W, W, T, HID, OUT>(
            &h,
            Panels::row_major(self.w2.rows()),
            Some(self.b2.row()),
            None,
            |start, v| simd::store(v, &mut theta[start..]),
        );
        let mut e = [W::ZERO; OUT];
        let class = target.and_then(|t| self.shift_class(t));
        let stats = exp_shifted_by(&theta, &mut e, class);
        Hidden {
            a,
            h,
            slope,
            theta,
            e,
            stats,
        }
    }

    /// [`Mlp::backward`] computing in `W` (see [`Mlp::hidden_as`]).
    #[cfg_attr(debug_assertions, inline(never))]
    #[cfg_attr(not(debug_assertions), inline(always))]
    fn backward_as<W: Real>(
        &self,
        hid: &Hidden<HID, OUT, W>,
        target: &Target<OUT, T>,
    ) -> Backward<HID, OUT, W>
    where
        T: LoadAs<W>,
    {
        let lanes = <W::Simd as Vector>::LANES;
        let splat = <W::Simd as Vector>::splat;
        let s = splat(hid.stats.sum);
        let mut d_theta = [W::ZERO; OUT];
        let mut d_a = [W::ZERO; HID];
        let loss = match target {
            Target::Class(label) => {
                let l = label.get();
                // dL/dθ = q = e_off/s off the label and −Σq on it;
                // dL/dh = u/(s/2) from e_off (see `class_e`).
                let lf = splat(W::from_f64(l as f64));
                let mut e_off = [W::ZERO; OUT];
                let mut q_sum = splat(W::ZERO);
                let mut start = 0;
                while start < OUT {
                    let ev = simd::load::<W::Simd>(&hid.e[start..], W::ZERO);
                    let idx = <W::Simd as Vector>::iota() + splat(W::from_f64(start as f64));
                    let ev = class_e::<W, W::Simd>(ev, idx.simd_eq(lf));
                    let qv = ev / s;
                    q_sum = q_sum + qv;
                    simd::store(qv, &mut d_theta[start..]);
                    simd::store(ev, &mut e_off[start..]);
                    start += lanes;
                }
                if let Some(dl) = d_theta.get_mut(l) {
                    *dl = -q_sum.reduce_add();
                }
                let mut emit = times_slope(&hid.slope, &mut d_a);
                vec_mat_map::<W, W, T, OUT, HID>(
                    &e_off,
                    Panels::row_major(self.w2t.rows()),
                    None,
                    Some(l),
                    |start, u| emit(start, pivot_unscale::<W, W::Simd>(u, s)),
                );
                hid.stats
                    .class_loss(hid.theta.get(l).copied().unwrap_or(W::NAN))
            }
            Target::Probs(y) => {
                // dL/dh from dL/dθ against the first maximal logit, doubled
                // (see `pivot_unscale`).
                let y = y.row();
                // The first maximal logit: the pivot, and the one class
                // that may take `soft_d_theta_at_max` (if it is the shift).
                let max = row_max(&hid.theta);
                let pivot = first_equal(&hid.theta, max);
                let at_max = soft_exact_at_shift(&hid.stats, max);
                let exact = splat(if at_max { hid.stats.shift } else { W::NAN });
                let y_at = |start: usize| <T as LoadAs<W>>::load(&y[start..], W::ZERO);
                let chunk = |start: usize| {
                    let theta = simd::load::<W::Simd>(&hid.theta[start..], W::NEG_INFINITY);
                    (y_at(start), theta.simd_eq(exact))
                };
                let (sum_y, y_off) = soft_y_sums((0..OUT).step_by(lanes).map(chunk));
                let sum_y = splat(sum_y);
                let mut start = 0;
                while start < OUT {
                    let ev = simd::load::<W::Simd>(&hid.e[start..], W::ZERO);
                    let yv = y_at(start);
                    simd::store(
                        soft_d_theta::<W, W::Simd>(ev, s, sum_y, yv),
                        &mut d_theta[start..],
                    );
                    start += lanes;
                }
                // The product takes the plain form at the pivot too (its term
                // vanishes, see `soft_d_theta_at_max`); dL/dθ_p after it.
                let mut emit = times_slope(&hid.slope, &mut d_a);
                vec_mat_map::<W, W, T, OUT, HID>(
                    &d_theta,
                    Panels::row_major(self.w2t.rows()),
                    None,
                    pivot,
                    |start, u| emit(start, u + u),
                );
                if let Some(p) = pivot.filter(|_| at_max) {
                    let y_p = y[p].widen();
                    d_theta[p] = soft_d_theta_at_max(hid.stats.sum, hid.stats.rest, y_p, y_off);
                }
                soft_xent(&hid.theta, y, &hid.stats)
            }
        };
        Backward { loss, d_theta, d_a }
    }
}

/// The register-resident kernel for networks whose every dimension fits one
/// SIMD vector (the seed network 5→3→5), in the vector type `V`: one ymm
/// (`T::Narrow`) when the network fits it, else the build's widest
/// (`T::Simd`, a zmm on AVX-512); see `simd::F32n` for why.
///
/// Each row (`a`, `h`, `θ`, `ŷ`, `dL/dh`, `dL/dx`) is a single vector that
/// never leaves the registers; weights come from the zero-padded rows laid
/// out by [`Mlp::new`], so every load is one full vector; the only
/// cross-lane work is the horizontal reductions of `θ` (the sums; the
/// maximum too, unless the row is shifted by its target's class) and the
/// broadcasts of single lanes into the next product. Same formulas, same
/// special-value behaviour as the general kernel.
impl<const IN: usize, const HID: usize, const OUT: usize, T: Real> Mlp<IN, HID, OUT, T> {
    /// `true` when `IN`, `HID` and `OUT` each fit one vector of this build.
    const FITS_ONE_VECTOR: bool = Self::fits::<T::Simd>();
    /// `true` when they fit one ymm register's worth (`T::Narrow`).
    const FITS_NARROW: bool = Self::fits::<T::Narrow>();

    const fn fits<V: Vector>() -> bool {
        IN <= V::LANES && HID <= V::LANES && OUT <= V::LANES
    }

    /// The register kernel's forward pass, up to the softmax statistics,
    /// shifted as [`Mlp::shift_class`] chooses for `target`.
    #[inline(always)]
    fn forward_in_registers<V: Vector<Elem = T>>(
        &self,
        x: &RowVec<IN, T>,
        target: &Target<OUT, T>,
    ) -> InRegisters<T, V> {
        let splat = V::splat;
        let p = &self.packed;

        // Padding lanes: a = 0 (σ = ½, never read), θ masked to −∞.
        let a = broadcast_dot(x.row(), |i| p.w1.get(i).map(narrow), Some(narrow(&p.b1)));
        let (h, slope) = sigmoid_and_slope_guarded_v::<T, V>(a);
        let h_lanes = simd::lanes(h);
        let h_row = &h_lanes.0.as_ref()[..HID];
        let theta = broadcast_dot(h_row, |k| p.w2.get(k).map(narrow), Some(narrow(&p.b2)));
        let valid = V::iota().simd_lt(splat(T::from_f64(OUT as f64)));
        let theta = V::select(valid, theta, splat(T::NEG_INFINITY));

        // Softmax statistics (see math::softmax), shifted by the maximum or
        // by the logit of the target's class `c`: that logit's own product
        // again, with column `c` of `W2` in every lane, so that every lane
        // holds `θ_c` bit for bit, with no horizontal step after `θ`.
        let m = match self.shift_class(target) {
            Some(c) => broadcast_dot(
                h_row,
                |k| self.w2.rows().get(k).map(|r| splat(r[c])),
                Some(splat(self.b2.row()[c])),
            ),
            None => splat(theta.reduce_max()),
        };
        let mut sums = ExpSums::<T, V>::new();
        let e = sums.add(theta, m);
        let stats = sums.row_stats(simd::lane(m, 0));
        InRegisters {
            h: h_lanes,
            slope,
            theta,
            m,
            e,
            stats,
        }
    }

    /// The register kernel's loss.
    #[inline(always)]
    fn loss_in_registers<V: Vector<Elem = T>>(
        &self,
        f: &InRegisters<T, V>,
        target: &Target<OUT, T>,
    ) -> T {
        match target {
            Target::Class(label) => f.stats.class_loss(simd::lane(f.theta, label.get())),
            Target::Probs(y) => {
                let yv = simd::load::<V>(y.row(), T::ZERO);
                // `Σy` as the backward pass sums it, so that `input_grad`
                // and `grads` reduce `y` once.
                let (sum_y, _) = soft_y_sums([(yv, V::splat(T::ZERO))]);
                f.stats.soft_loss(
                    sum_y,
                    || soft_loss_shifts::<T, V>(f.theta, yv, f.m).reduce_add(),
                    |ln_s| soft_loss_terms::<T, V>(f.theta, yv, f.m, V::splat(ln_s)).reduce_add(),
                )
            }
        }
    }

    /// [`Mlp::loss`] by the register kernel.
    #[inline(always)]
    fn loss_only_in_registers<V: Vector<Elem = T>>(
        &self,
        x: &RowVec<IN, T>,
        target: &Target<OUT, T>,
    ) -> T {
        self.loss_in_registers(&self.forward_in_registers::<V>(x, target), target)
    }

    /// The register kernel's backward pass: `(dL/dθ, dL/da)`. (`input_grad`
    /// reads only `dL/da`; the compiler drops the rest.)
    #[inline(always)]
    fn backward_in_registers<V: Vector<Elem = T>>(
        &self,
        f: &InRegisters<T, V>,
        target: &Target<OUT, T>,
    ) -> (V, V) {
        let splat = V::splat;
        let zero = splat(T::ZERO);
        let p = &self.packed;
        let s = splat(f.stats.sum);
        let half = splat(T::from_f64(0.5));
        // dL/dθ, and what the backward product takes against halved
        // differences from a pivot class (see `pivot_unscale`): e_off and
        // the label, or dL/dθ and the first maximal logit.
        let (d_theta, d, pivot) = match target {
            Target::Class(label) => {
                let l = label.get();
                let at_label = V::iota().simd_eq(splat(T::from_f64(l as f64)));
                let e_off = class_e::<T, V>(f.e, at_label);
                // dL/dθ = q = e_off/s off the label and −Σq on it (for `grads`).
                let q = e_off / s;
                (V::select(at_label, splat(-q.reduce_add()), q), e_off, l)
            }
            Target::Probs(y) => {
                let yv = simd::load::<V>(y.row(), T::ZERO);
                let rho = splat(f.stats.rest);
                // The maximum again (the same value when it is the shift):
                // off the chain here, it runs beside the exponentials. The
                // pivot is its first lane, as in the chunked kernel.
                let max = f.theta.reduce_max();
                let theta = simd::lanes(f.theta);
                let pivot = first_equal(&theta.0.as_ref()[..OUT], max);
                // The class at the shift takes `soft_d_theta_at_max`, if any
                // does; the product takes the plain form there too (its term
                // vanishes), so `input_grad` drops the other.
                let at_max = if soft_exact_at_shift(&f.stats, max) {
                    f.theta.simd_eq(f.m)
                } else {
                    zero
                };
                let (sum_y, y_off) = soft_y_sums([(yv, at_max)]);
                let d = soft_d_theta::<T, V>(f.e, s, splat(sum_y), yv);
                let d_max = soft_d_theta_at_max(s, rho, yv, splat(y_off));
                (V::select(at_max, d_max, d), d, pivot.unwrap_or(0))
            }
        };
        let pivot = p.w2t.get(pivot).map_or(zero, narrow) * half;
        let d_lanes = simd::lanes(d);
        let u = broadcast_dot(
            &d_lanes.0.as_ref()[..OUT],
            |j| {
                p.w2t
                    .get(j)
                    .map(|r| narrow::<T, V>(r).mul_add(half, -pivot))
            },
            None,
        );
        let g_h = match target {
            Target::Class(_) => pivot_unscale::<T, V>(u, s),
            Target::Probs(_) => u + u,
        };
        // dL/da = dL/dh ∘ σ'(a).
        (d_theta, g_h * f.slope)
    }

    /// `dL/dx = dL/da · W1ᵀ` in registers.
    #[inline(always)]
    fn input_grad_from<V: Vector<Elem = T>>(&self, g_a: V) -> RowVec<IN, T> {
        let g_a = simd::lanes(g_a);
        let dx = broadcast_dot(
            &g_a.0.as_ref()[..HID],
            |k| self.packed.w1t.get(k).map(narrow::<T, V>),
            None,
        );
        let mut out = RowVec::<IN, T>::zeros();
        simd::store(dx, out.row_mut());
        out
    }

    #[inline(always)]
    fn input_grad_in_registers<V: Vector<Elem = T>>(
        &self,
        x: &RowVec<IN, T>,
        target: &Target<OUT, T>,
    ) -> (T, RowVec<IN, T>) {
        let f = self.forward_in_registers::<V>(x, target);
        let loss = self.loss_in_registers(&f, target);
        let (_, g_a) = self.backward_in_registers(&f, target);
        (loss, self.input_grad_from(g_a))
    }

    /// [`Mlp::grads_into`] in registers: the same values, bit for bit, as
    /// the chunked kernel (same operations in the same order).
    #[inline(always)]
    fn grads_in_registers<V: Vector<Elem = T>>(
        &self,
        x: &RowVec<IN, T>,
        target: &Target<OUT, T>,
        out: &mut Grads<IN, HID, OUT, T>,
    ) {
        let f = self.forward_in_registers::<V>(x, target);
        let (d_theta, g_a) = self.backward_in_registers(&f, target);
        out.loss = self.loss_in_registers(&f, target);
        out.x = self.input_grad_from(g_a);
        for (&xi, row) in x.row().iter().zip(out.w1.rows_mut()) {
            simd::store(V::splat(xi) * g_a, row);
        }
        simd::store(g_a, out.b1.row_mut());
        for (&hk, row) in f.h.0.as_ref().iter().zip(out.w2.rows_mut()) {
            simd::store(V::splat(hk) * d_theta, row);
        }
        simd::store(d_theta, out.b2.row_mut());
    }
}

/// The register kernel's forward values (every row one vector).
struct InRegisters<T: Real, V: Vector<Elem = T>> {
    /// `σ(a)`, spilled for broadcasting (padding lanes ½, never read).
    h: simd::Lanes<V::Array>,
    /// `σ'(a)`.
    slope: V,
    /// `θ`, padding lanes `−∞`.
    theta: V,
    /// The softmax shift in every lane: `max θ`, or the target's class's
    /// `θ_c`.
    m: V,
    /// `e^(θ − m)`, padding lanes 0.
    e: V,
    /// The softmax statistics.
    stats: RowStats<T>,
}

/// The first `V::LANES` lanes of a packed row (the padding lanes past the
/// network's width are zero). When `V` is `T::Simd` the row is returned as
/// it is: the type test folds away at compile time, and the lane copy it
/// skips cost the AVX2 build's 5→3→5 `input_grad` about 5 cycles per call
/// (best of 51 at four stack alignments).
#[inline(always)]
fn narrow<T: Real, V: Vector<Elem = T>>(row: &T::Simd) -> V {
    if let Some(&same) = (row as &dyn core::any::Any).downcast_ref::<V>() {
        return same;
    }
    simd::load::<V>(row.to_array().as_ref(), T::ZERO)
}

/// `Σ_i s[i]·row(i) (+ bias)`: scalars broadcast against vector rows (a
/// packed row taken as a `V`, or its class-label form `W2ᵀ_j/2 − W2ᵀ_l/2`,
/// or a column entry in every lane; `None` past the last row), in two FMA
/// chains. Each lane is computed alone, so rows that agree in a lane give
/// that lane the same bits.
///
/// The bias joins last, after the two chains' sum: one rounding at its
/// scale. Starting the chains from the bias would round every partial sum
/// there, which on a saturated network (large biases, so `|a|` far above
/// `|x·W1|`) costs `σ'(a) ≈ e^-|a|` and `ŷ` up to `IN/2` ulps of `|a|`
/// relative (ACCURACY.md, gap 2). The extra add on the chain costs the
/// 5→3→5 `input_grad` about 5 cycles; adding the bias into the shorter
/// chain instead costs nothing but rounds twice at its scale, which the
/// relative-accuracy tests measured as too much.
#[inline(always)]
fn broadcast_dot<T: Real, V: Vector<Elem = T>>(
    s: &[T],
    row: impl Fn(usize) -> Option<V>,
    bias: Option<V>,
) -> V {
    // Each chain starts with a plain product (an FMA onto 0 would wait as
    // long and round the same).
    let term = |i: usize| match (s.get(i), row(i)) {
        (Some(&si), Some(ri)) => Some((V::splat(si), ri)),
        _ => None,
    };
    let start = |i: usize| term(i).map_or(V::splat(T::ZERO), |(a, b)| a * b);
    let (mut acc0, mut acc1) = (start(0), start(1));
    let mut i = 2;
    while i < s.len() {
        if let Some((a, b)) = term(i) {
            acc0 = a.mul_add(b, acc0);
        }
        if let Some((a, b)) = term(i + 1) {
            acc1 = a.mul_add(b, acc1);
        }
        i += 2;
    }
    bias.map_or(acc0 + acc1, |b| (acc0 + acc1) + b)
}

/// The epilogue `dL/da = dL/dh ∘ σ'(a)`, applied to each `dL/dh` chunk as it
/// leaves the `dL/dθ · W2ᵀ` product.
#[inline(always)]
fn times_slope<'a, T: Real, const HID: usize>(
    slope: &'a [T; HID],
    d_a: &'a mut [T; HID],
) -> impl FnMut(usize, T::Simd) + 'a {
    move |start, gh| {
        let sl = simd::load::<T::Simd>(&slope[start..], T::ZERO);
        simd::store(gh * sl, &mut d_a[start..]);
    }
}

/// `out = uᵀ·v` (outer product), vectorized along `v`; with `ACC`, `out += uᵀ·v`.
#[inline(always)]
pub(crate) fn outer<T: Real, const R: usize, const C: usize, const ACC: bool>(
    u: &[T; R],
    v: &[T; C],
    out: &mut [[T; C]; R],
) {
    let lanes = <T::Simd as Vector>::LANES;
    let splat = <T::Simd as Vector>::splat;
    let mut start = 0;
    while start < C {
        let vv = simd::load::<T::Simd>(&v[start..], T::ZERO);
        for (ui, row) in u.iter().zip(out.iter_mut()) {
            let chunk = &mut row[start..];
            let prod = if ACC {
                splat(*ui).mul_add(vv, simd::load::<T::Simd>(chunk, T::ZERO))
            } else {
                splat(*ui) * vv
            };
            simd::store(prod, chunk);
        }
        start += lanes;
    }
}

#[cfg(test)]
mod tests {
    //! The register kernel against the chunked one, bit for bit: the
    //! public tests compare `grads`, `loss` and `input_grad` with each other
    //! and with independent references, but for shapes that fit one vector
    //! all three take the register path, so only here do the two kernels
    //! meet.

    use super::*;
    use rand::{rngs::StdRng, Rng, SeedableRng};
    use std::format;

    fn same<T: Real>(a: &[T], b: &[T]) -> bool {
        a.iter().zip(b).all(|(x, y)| {
            x.to_f64().to_bits() == y.to_f64().to_bits() || (x.is_nan() && y.is_nan())
        })
    }

    /// Every register-kernel instance this build has for the shape against
    /// the chunked kernel; the shape must fit the build's widest vector
    /// unless `wider_builds_only`.
    fn check<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
        seed: u64,
        wider_builds_only: bool,
    ) {
        if !Mlp::<IN, HID, OUT, T>::FITS_ONE_VECTOR {
            assert!(wider_builds_only, "{IN}→{HID}→{OUT} must fit");
            return;
        }
        let mut r = StdRng::seed_from_u64(seed);
        // Networks seen with the shift by the target's class and with the
        // maximum.
        let mut shifts = [0usize; 2];
        for case in 0..2000 {
            // Scales from tame to saturating, and now and then a special value.
            let scale = [0.5, 3.0, 40.0][case % 3];
            let draw = |r: &mut StdRng| {
                let v = match r.gen_range(0..200) {
                    0 => f64::INFINITY,
                    1 => f64::NEG_INFINITY,
                    2 => f64::NAN,
                    3 => 0.0,
                    _ => r.gen_range(-1.0..1.0) * scale,
                };
                T::from_f64(v)
            };
            let mut mlp = Mlp::<IN, HID, OUT, T>::zeros();
            mlp.fill_with(|_, _, _| draw(&mut r));
            let x = RowVec::from_row(core::array::from_fn(|_| draw(&mut r)));
            let label = Target::class(r.gen_range(0..OUT)).expect("label < OUT");
            let mut y: [T; OUT] = core::array::from_fn(|_| T::from_f64(r.gen_range(0.0..1.0)));
            if case % 5 == 0 {
                y[r.gen_range(0..OUT)] = T::ZERO;
            }
            if case % 7 == 1 {
                // Every entry the mode: the first class shifts the row.
                y = [T::from_f64(1.0 / OUT as f64); OUT];
            }
            let soft = Target::Probs(RowVec::from_row(y));
            shifts[usize::from(mlp.shift_class(&label).is_some())] += 1;
            for target in [label, soft] {
                let ctx = format!("{IN}→{HID}→{OUT} {} case {case}", T::NAME);
                compare::<IN, HID, OUT, T, T::Simd>(&mlp, &x, &target, &ctx);
                if Mlp::<IN, HID, OUT, T>::FITS_NARROW {
                    compare::<IN, HID, OUT, T, T::Narrow>(&mlp, &x, &target, &ctx);
                }
            }
        }
        assert!(
            shifts[0] > 100 && shifts[1] > 100,
            "{IN}→{HID}→{OUT} {}: rows shifted by the maximum {} times, by the target's class {} times",
            T::NAME,
            shifts[0],
            shifts[1]
        );
    }

    /// The register kernel in lanes `V` against the chunked kernel.
    fn compare<const IN: usize, const HID: usize, const OUT: usize, T, V>(
        mlp: &Mlp<IN, HID, OUT, T>,
        x: &RowVec<IN, T>,
        target: &Target<OUT, T>,
        ctx: &str,
    ) where
        T: Real,
        V: Vector<Elem = T>,
    {
        let ctx = format!("{ctx}, {} lanes", V::LANES);
        let (mut g_reg, mut g_chunk) = (Grads::default(), Grads::default());
        mlp.grads_in_registers::<V>(x, target, &mut g_reg);
        mlp.grads_chunked(x, target, &mut g_chunk);
        for (name, a, b) in [
            ("loss", &[g_reg.loss][..], &[g_chunk.loss][..]),
            ("x", g_reg.x.as_slice(), g_chunk.x.as_slice()),
            ("w1", g_reg.w1.as_slice(), g_chunk.w1.as_slice()),
            ("b1", g_reg.b1.as_slice(), g_chunk.b1.as_slice()),
            ("w2", g_reg.w2.as_slice(), g_chunk.w2.as_slice()),
            ("b2", g_reg.b2.as_slice(), g_chunk.b2.as_slice()),
        ] {
            assert!(same(a, b), "{ctx}: grads {name} differ: {a:?} vs {b:?}");
        }
        let (l_reg, dx_reg) = mlp.input_grad_in_registers::<V>(x, target);
        let (l_chunk, dx_chunk) = mlp.input_grad_as::<T>(x, target);
        assert!(same(&[l_reg], &[l_chunk]), "{ctx}: input_grad loss differs");
        assert!(
            same(dx_reg.as_slice(), dx_chunk.as_slice()),
            "{ctx}: dL/dx differs"
        );
        assert!(
            same(
                &[mlp.loss_only_in_registers::<V>(x, target)],
                &[mlp.loss_chunked(x, target)]
            ),
            "{ctx}: loss differs"
        );
    }

    /// The shift by the target's class is taken exactly when
    /// `max_j (|b2_j| + Σ_k |W2_kj|)` is at most a quarter of
    /// `EXP_NORMAL_MAX` (22 in `f32`, 177.25 in `f64`), and every way of
    /// changing the weights decides again.
    fn check_logit_bound<T: Real>(limit: f64) {
        let class = Target::<4, T>::class(1).expect("1 < 4");
        let probs = |y: [f64; 4]| Target::Probs(RowVec::from_row(y.map(T::from_f64)));
        let shifted = |m: &Mlp<2, 3, 4, T>| m.shift_class(&class).is_some();
        // Column 2 of W2 holds ±w (signs mixed: the bound adds magnitudes),
        // b2_2 = b; every other entry is 0.
        let net = |w: f64, b: f64| {
            let mut m = Mlp::<2, 3, 4, T>::zeros();
            m.fill_with(|p, i, j| match (p, j) {
                (Param::W2, 2) => T::from_f64(if i == 1 { -w } else { w }),
                (Param::B2, 2) => T::from_f64(b),
                _ => T::ZERO,
            });
            m
        };
        assert!(shifted(&Mlp::ZERO) && shifted(&Mlp::zeros()));
        let w = (limit - 1.0) / 3.0;
        // The limit itself is exactly representable in both types, and so is
        // 1 + 3·w = limit for these w (7 and 58.75).
        assert_eq!(T::from_f64(w).to_f64(), w);
        assert!(shifted(&net(w, 1.0)), "bound {limit} at the limit");
        assert!(shifted(&net(w, -1.0)), "bound {limit} at the limit, b2 < 0");
        let above = 1.0 + 4.0 * limit * T::EPSILON.to_f64();
        assert!(!shifted(&net(w, above)), "bound above {limit}");
        assert!(!shifted(&net(f64::NAN, 0.0)), "NaN weight");
        assert!(!shifted(&net(0.0, f64::INFINITY)), "infinite bias");
        // Probabilities take their first largest entry, or the maximum.
        let bounded = net(w, 1.0);
        for (y, mode) in [
            ([0.1, 0.4, 0.4, 0.1], Some(1)),
            ([0.25; 4], Some(0)),
            ([0.0, 0.0, 0.0, 1.0], Some(3)),
            ([0.0, -0.0, 0.0, 0.0], Some(0)),
            // A negative or NaN entry: the maximum.
            ([-1.125, 0.0, 0.0, 0.0], None),
            ([0.1, 0.4, -0.1, 0.6], None),
            ([f64::NAN, 0.5, 0.2, 0.3], None),
            ([0.2, f64::NAN, 0.5, 0.3], None),
        ] {
            assert_eq!(bounded.shift_class(&probs(y)), mode, "{y:?}");
        }
        let soft = probs([0.1, 0.4, 0.4, 0.1]);
        assert_eq!(net(w, above).shift_class(&soft), None);
        assert_eq!(
            Mlp::<2, 3, 0, T>::zeros().shift_class(&Target::Probs(RowVec::zeros())),
            None
        );
        // Every mutation lays the flag out again.
        let mut m = net(w, above);
        m.update_params(|_, _, w2, b2| {
            w2[(0, 2)] = T::ZERO;
            b2[(0, 2)] = T::ZERO;
        });
        assert!(shifted(&m), "update_params");
        m.fill_with(|p, _, _| {
            if p == Param::B2 {
                T::from_f64(limit * 2.0)
            } else {
                T::ZERO
            }
        });
        assert!(!shifted(&m), "fill_with");
        let small = net(1.0, 0.0);
        m.set_params(small.w1(), small.b1(), small.w2(), small.b2());
        assert!(shifted(&m), "set_params");
        let big = net(w, above);
        let copy = Mlp::new(*big.w1(), *big.b1(), *big.w2(), *big.b2());
        assert!(!shifted(&copy), "new");
    }

    #[test]
    fn shift_class_follows_the_logit_bound() {
        check_logit_bound::<f32>(22.0);
        check_logit_bound::<f64>(177.25);
    }

    #[test]
    fn register_kernel_matches_chunked_kernel_bit_for_bit() {
        check::<5, 3, 5, f32>(1, false);
        check::<8, 8, 8, f32>(2, false);
        check::<1, 1, 2, f32>(3, false);
        check::<3, 2, 4, f64>(4, false);
        check::<1, 4, 2, f64>(5, false);
        // Too wide for one ymm: the zmm instance, on AVX-512 builds only.
        check::<12, 9, 16, f32>(6, true);
        check::<5, 3, 5, f64>(7, true);
    }
}
