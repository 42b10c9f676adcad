//! The crate's one error type.

use core::fmt;

/// What went wrong in a fallible constgrad call.
///
/// Every variant says what was expected and what was received, so the
/// [`Display`](fmt::Display) text alone tells the caller how to fix the call.
/// Shapes are never runtime errors in constgrad: they are type parameters, so
/// a wrong shape does not compile. What remains are values only known at run
/// time: slice lengths and class indices.
///
/// # Examples
///
/// ```
/// use constgrad::{Error, Label, Mat};
///
/// let err = Mat::<2, 3>::try_from_slice(&[1.0; 5]).unwrap_err();
/// assert_eq!(err, Error::SliceLength { expected: 6, got: 5 });
/// assert_eq!(
///     err.to_string(),
///     "slice has 5 elements, but the matrix needs exactly 6 (rows × columns, row-major)"
/// );
///
/// let err = Label::<5>::new(7).unwrap_err();
/// assert_eq!(err.to_string(), "class label 7 is out of range: the network has 5 classes (valid labels are 0..=4)");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Error {
    /// A slice meant to fill a matrix had the wrong number of elements.
    SliceLength {
        /// `R * C`, the number of elements the matrix holds.
        expected: usize,
        /// The slice's length.
        got: usize,
    },
    /// A class label was not below the number of classes.
    LabelOutOfRange {
        /// The label that was passed.
        label: usize,
        /// The number of classes (`OUT`).
        classes: usize,
    },
    /// Slices passed to a batched call did not all have the same length.
    BatchLength {
        /// Which argument disagreed (its parameter name).
        argument: &'static str,
        /// The number of samples (the length of the first slice argument).
        expected: usize,
        /// The disagreeing argument's length.
        got: usize,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::SliceLength { expected, got } => write!(
                f,
                "slice has {got} elements, but the matrix needs exactly {expected} (rows × columns, row-major)"
            ),
            Error::LabelOutOfRange { label, classes } => {
                if classes == 0 {
                    write!(
                        f,
                        "class label {label} is out of range: the network has no classes"
                    )
                } else {
                    write!(
                        f,
                        "class label {label} is out of range: the network has {classes} classes (valid labels are 0..={})",
                        classes - 1
                    )
                }
            }
            Error::BatchLength {
                argument,
                expected,
                got,
            } => write!(
                f,
                "batch argument `{argument}` has length {got}, but the batch has {expected} samples"
            ),
        }
    }
}

impl core::error::Error for Error {}
