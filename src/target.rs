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
    pub fn class(index: usize) -> Result<Self, Error> {
        Label::new(index).map(Self::Class)
    }

    /// A soft target from its probabilities.
    #[must_use]
    pub fn probs(y: [T; OUT]) -> Self {
        Self::Probs(RowVec::from_row(y))
    }

    /// The target as a dense row (`Class` becomes one-hot).
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
