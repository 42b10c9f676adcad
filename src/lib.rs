//! # constgrad
//!
//! Losses and gradients of small fixed-size neural networks in nanoseconds,
//! with no heap allocation and every shape checked by the compiler.
//!
//! The network is `a = x·W1 + b1`, `h = σ(a)`, `θ = h·W2 + b2`,
//! `ŷ = softmax(θ)`, `L = xent(y, ŷ)`, and the headline kernel,
//! [`Mlp::input_grad`], returns `L` and
//! `dL/dx = (((ŷ − y)·W2ᵀ) ∘ σ'(a))·W1ᵀ` in one fused pass.
//!
//! ```
//! use constgrad::{Mat, Mlp, RowVec, Target};
//!
//! // The seed network: 5 inputs, 3 hidden units, 5 classes.
//! let w1: Mat<5, 3> = Mat::from_rows([
//!     [0.2, -0.1, 0.4], [0.5, 0.3, -0.2], [-0.3, 0.8, 0.1], [0.0, -0.5, 0.6], [0.7, 0.2, -0.4],
//! ]);
//! let w2: Mat<3, 5> = Mat::from_rows([
//!     [0.3, -0.6, 0.1, 0.9, -0.2], [-0.4, 0.2, 0.5, -0.1, 0.3], [0.6, 0.1, -0.7, 0.2, 0.4],
//! ]);
//! let mlp = Mlp::new(w1, RowVec::from_row([0.1, -0.2, 0.05]), w2, RowVec::zeros());
//!
//! let x = RowVec::from_row([1.0, -0.5, 0.25, 2.0, -1.0]);
//! let (loss, dl_dx) = mlp.input_grad(&x, &Target::class(3)?);
//! assert!(loss > 0.0);
//! assert_eq!(dl_dx.row().len(), 5);
//! # Ok::<(), constgrad::Error>(())
//! ```
//!
//! Shapes are types, so the classic slip of writing `σ'(a)·W1` instead of
//! `σ'(a)·W1ᵀ` does not compile:
//!
//! ```compile_fail
//! use constgrad::Mat;
//! let (d_theta, w1, w2, s_prime) =
//!     (Mat::<1, 5>::zeros(), Mat::<5, 3>::zeros(), Mat::<3, 5>::zeros(), Mat::<1, 3>::zeros());
//! let _ = d_theta.matmul(&w2.transpose()).hadamard(&s_prime).matmul(&w1);
//! ```
//!
//! See `README.md` for the derivation, `ARCHITECTURE.md` for the layout of
//! the code, and `ACCURACY.md` for every kernel's measured error bound.
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "std")]
extern crate std;

mod batch;
#[cfg(feature = "rayon")]
pub use batch::{PAR_GRADS_BYTES, PAR_PARTS_MAX, PAR_PART_WORK};
mod error;
#[cfg(feature = "std")]
pub mod gradcheck;
mod interop;
mod mat;
pub mod math;
mod mlp;
mod real;
mod simd;
mod target;
mod train;

pub use error::Error;
pub use mat::{Mat, RowVec};
pub use mlp::{Forward, Grads, Mlp, Param};
pub use real::Real;
pub use simd::{simd_description, F32_BATCH_LANES, F32_LANES, F64_BATCH_LANES, F64_LANES};
pub use target::{Label, Target};
pub use train::{Momentum, Reduction};

/// The README's code blocks, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
