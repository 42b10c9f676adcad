//! What the cross-entropy compares the prediction with: a class label or a
//! probability row.

use crate::error::Error;
use crate::mat::RowVec;
use crate::real::Real;

/// A class index known to be below `OUT`.
///
/// Constructing one is the only place a label is range-checked, so every
/// kernel that takes a `Label<OUT>` indexes without a runtime check.
///
/// # Examples
///
/// ```
/// use constgrad::Label;
/// let l = Label::<5>::new(3)?;
/// assert_eq!(l.get(), 3);
/// assert!(Label::<5>::new(5).is_err());
/// # Ok::<(), constgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label<const OUT: usize>(usize);

impl<const OUT: usize> Label<OUT> {
    /// The label `index`.
    ///
    /// # Errors
    ///
    /// [`Error::LabelOutOfRange`] when `index >= OUT`.
    ///
    /// # Examples
    ///
    /// `TryFrom<usize>` makes the same check.
    ///
    /// ```
    /// use constgrad::{Error, Label};
    /// let l: Label<3> = 2usize.try_into()?;
    /// assert_eq!(l, Label::new(2)?);
    /// let err = Label::<3>::try_from(3usize).unwrap_err();
    /// assert_eq!(err, Error::LabelOutOfRange { label: 3, classes: 3 });
    /// # Ok::<(), Error>(())
    /// ```
    pub const fn new(index: usize) -> Result<Self, Error> {
        if index < OUT {
            Ok(Self(index))
        } else {
            Err(Error::LabelOutOfRange {
                label: index,
                classes: OUT,
            })
        }
    }

    /// The class index, always `< OUT`.
    #[inline]
    #[must_use]
    pub const fn get(self) -> usize {
        self.0
    }
}

impl<const OUT: usize> TryFrom<usize> for Label<OUT> {
    type Error = Error;
    fn try_from(index: usize) -> Result<Self, Error> {
        Self::new(index)
    }
}

/// The target `y` of the cross-entropy `L = −Σ_j y_j · log ŷ_j`.
///
/// - `Class(l)`: a one-hot row with a 1 at `l`. Kernels use cancellation-free
///   forms for this case (e.g. `∂L/∂θ_l = −Σ_{j≠l} ŷ_j` rather than `ŷ_l − 1`).
/// - `Probs(y)`: any row, usually a probability distribution. Rows that do not
///   sum to 1 are allowed: the gradient `∂L/∂θ = ŷ·Σy − y` is right for any
///   `y`. Entries should be `≥ 0` for the loss to be `≥ 0`.
///
/// # Examples
///
/// A network with every weight 0 gives every logit 0, so `ŷ = 1/4` in each
/// of 4 classes, and `L = −Σ_j y_j·ln(1/4) = ln 4` for any target that sums
/// to 1, hard or soft (within f32 rounding: `ln 4` is not a binary fraction).
///
/// ```
/// use constgrad::{Mlp, RowVec, Target};
/// let mlp = Mlp::<2, 3, 4>::zeros();
/// let x = RowVec::from_row([1.0, -2.0]);
/// for t in [Target::class(2)?, Target::probs([0.5, 0.25, 0.25, 0.0])] {
///     assert!((mlp.loss(&x, &t) - 4f32.ln()).abs() < 1e-6);
/// }
/// # Ok::<(), constgrad::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target<const OUT: usize, T = f32> {
    /// A class label (one-hot target).
    Class(Label<OUT>),
    /// A probability row (soft target).
    Probs(RowVec<OUT, T>),
}

impl<const OUT: usize, T: Real> Target<OUT, T> {
    /// A class-label target.
    ///
    /// # Errors
    ///
    /// [`Error::LabelOutOfRange`] when `index >= OUT`.
    ///
    /// # Examples
    ///
    /// The error's message names the label and the valid range.
    ///
    /// ```
    /// use constgrad::{Error, Target};
    /// assert!(Target::<5>::class(4).is_ok());
    /// let err = Target::<5>::class(9).unwrap_err();
    /// assert_eq!(err, Error::LabelOutOfRange { label: 9, classes: 5 });
    /// assert_eq!(
    ///     err.to_string(),
    ///     "class label 9 is out of range: the network has 5 classes (valid labels are 0..=4)"
    /// );
    /// ```
    pub fn class(index: usize) -> Result<Self, Error> {
        Label::new(index).map(Self::Class)
    }

    /// A soft target from its probabilities.
    ///
    /// # Examples
    ///
    /// Label smoothing on a zero network (`ŷ = 1/4` everywhere): the logits'
    /// gradient is `ŷ·Σy − y = ŷ − y`. The values are binary fractions, but
    /// the kernel's softmax and sum round in f32, hence the tolerance.
    ///
    /// ```
    /// use constgrad::{Mlp, RowVec, Target};
    /// let t = Target::probs([0.625, 0.125, 0.125, 0.125]);
    /// let g = Mlp::<2, 3, 4>::zeros().grads(&RowVec::zeros(), &t);
    /// let expected = [0.25 - 0.625, 0.125, 0.125, 0.125];
    /// assert!(g.b2.row().iter().zip(expected).all(|(a, b)| (a - b).abs() < 1e-6));
    /// ```
    #[must_use]
    pub fn probs(y: [T; OUT]) -> Self {
        Self::Probs(RowVec::from_row(y))
    }

    /// The target as a dense row (`Class` becomes one-hot).
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::Target;
    /// assert_eq!(Target::<4>::class(2)?.to_row().row(), &[0.0, 0.0, 1.0, 0.0]);
    /// let y = [0.5, 0.25, 0.25, 0.0];
    /// assert_eq!(Target::probs(y).to_row().row(), &y);
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    #[must_use]
    pub fn to_row(&self) -> RowVec<OUT, T> {
        match self {
            Target::Class(l) => {
                let mut y = RowVec::zeros();
                if let Some(v) = y.row_mut().get_mut(l.get()) {
                    *v = T::ONE;
                }
                y
            }
            Target::Probs(y) => *y,
        }
    }
}

impl<const OUT: usize, T> From<Label<OUT>> for Target<OUT, T> {
    fn from(l: Label<OUT>) -> Self {
        Target::Class(l)
    }
}
