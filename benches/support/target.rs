//! The targets as the baselines take them. The baselines are generic over
//! [`BaseTarget`], so one body of each serves every kind:
//!
//! - `usize`, a class label read by index (`θ[l]`, `ŷ[l] − 1`): the form
//!   the single-sample groups time;
//! - [`OneHot`], the same label applied by comparing each class index with
//!   it. In a loop over many samples this form lets LLVM vectorise the
//!   whole loop across samples (16 per `zmm`, the libm calls made one lane
//!   at a time), which the indexed form prevents: the batch groups' loops
//!   time it (BENCHMARKS.md, "The baselines");
//! - [`Probs`], a soft target.

use core::fmt::Debug;

use constgrad::Target;

/// What a baseline asks of its target `y`.
pub trait BaseTarget<const OUT: usize>: Copy + Debug {
    /// `(Σ_j y_j, Σ_j y_j·θ_j)`, read before `θ` is overwritten.
    fn sums(self, theta: &[f32]) -> (f32, f32);
    /// Turns `ŷ` into `dL/dθ = ŷ·Σy − y`, in place.
    fn d_theta(self, y_hat: &mut [f32]);
    /// The same target in constgrad's type.
    fn constgrad(self) -> Target<OUT>;

    /// The loss from the logits `θ` and their log-sum-exp (see
    /// [`loss_from`]).
    #[inline(always)]
    fn loss(self, theta: &[f32], lse: f32) -> f32 {
        loss_from(self.sums(theta), lse)
    }
}

/// The loss `−Σ_j y_j·log ŷ_j = lse·Σy − Σ_j y_j·θ_j` from the target's
/// [`BaseTarget::sums`] and the log-sum-exp `lse = ln Σ_j e^θ_j` (for a
/// caller that must read the sums before `θ` is overwritten).
#[inline(always)]
pub fn loss_from((sum_y, y_theta): (f32, f32), lse: f32) -> f32 {
    lse * sum_y - y_theta
}

impl<const OUT: usize> BaseTarget<OUT> for usize {
    #[inline(always)]
    fn sums(self, theta: &[f32]) -> (f32, f32) {
        (1.0, theta[self])
    }

    #[inline(always)]
    fn d_theta(self, y_hat: &mut [f32]) {
        y_hat[self] -= 1.0;
    }

    fn constgrad(self) -> Target<OUT> {
        Target::class(self).expect("label < OUT")
    }
}

/// A class label applied by comparison with each class index.
#[derive(Clone, Copy, Debug)]
pub struct OneHot(pub usize);

impl<const OUT: usize> BaseTarget<OUT> for OneHot {
    #[inline(always)]
    fn sums(self, theta: &[f32]) -> (f32, f32) {
        let mut picked = 0.0;
        for (j, t) in theta.iter().enumerate() {
            if j == self.0 {
                picked = *t;
            }
        }
        (1.0, picked)
    }

    #[inline(always)]
    fn d_theta(self, y_hat: &mut [f32]) {
        for (j, d) in y_hat.iter_mut().enumerate() {
            if j == self.0 {
                *d -= 1.0;
            }
        }
    }

    fn constgrad(self) -> Target<OUT> {
        self.0.constgrad()
    }
}

/// The label smoothing `ε` of every soft-target benchmark (criterion's
/// `*_soft` groups and `bench_single`'s `seed_soft`).
pub const SMOOTHING: f32 = 0.1;

/// A soft target: a row of probabilities.
#[derive(Clone, Copy, Debug)]
pub struct Probs<const OUT: usize>(pub [f32; OUT]);

impl<const OUT: usize> Probs<OUT> {
    /// Label smoothing: `1 − ε` on `label`, and `ε/OUT` spread over every
    /// class (the target most soft-label training uses).
    pub fn smoothed(label: usize, eps: f32) -> Self {
        let rest = eps / OUT as f32;
        Self(core::array::from_fn(|j| {
            if j == label {
                1.0 - eps + rest
            } else {
                rest
            }
        }))
    }
}

impl<const OUT: usize> BaseTarget<OUT> for Probs<OUT> {
    #[inline(always)]
    fn sums(self, theta: &[f32]) -> (f32, f32) {
        let sum_y = self.0.iter().sum();
        let y_theta = self.0.iter().zip(theta).map(|(y, t)| y * t).sum();
        (sum_y, y_theta)
    }

    #[inline(always)]
    fn d_theta(self, y_hat: &mut [f32]) {
        let sum_y: f32 = self.0.iter().sum();
        for (d, y) in y_hat.iter_mut().zip(&self.0) {
            *d = *d * sum_y - y;
        }
    }

    fn constgrad(self) -> Target<OUT> {
        Target::probs(self.0)
    }
}
