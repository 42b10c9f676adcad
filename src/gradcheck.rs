//! A finite-difference gradient checker you can point at your own networks
//! (feature `std`).
//!
//! It evaluates the loss of the network independently, in `f64` with std's
//! `exp`/`ln` (the textbook formulas, none of the crate's kernels), takes
//! central differences `(L(p + h) − L(p − h)) / 2h` with `h = 1e-6·max(1, |p|)`
//! (truncation `O(h²)`, about 1e-12, and rounding `O(ε/h)`, about 1e-10 of
//! the loss, each relative to the gradient's scale), and
//! compares them with the analytic gradients of [`Mlp::grads`].
//!
//! Each component's error is `|analytic − numeric|` divided by the *natural
//! scale* of its block: the largest `|numeric|` in that block (`dL/dx`,
//! `dL/dW1`, …), floored at `1e-30`. A component passes when that ratio is at
//! most the tolerance. Relative error per component would flag harmless
//! noise on entries that are tiny compared with their neighbours.
//!
//! Cost: two loss evaluations per checked component, each `O(IN·HID + HID·OUT)`;
//! use [`check_input_grad`] (IN components) or [`check_grads`] with
//! `max_per_block` on large networks.
//!
//! ```
//! use constgrad::{gradcheck, Mat, Mlp, RowVec, Target};
//! let mlp: Mlp<3, 4, 2> = Mlp::new(Mat::splat(0.3), RowVec::splat(-0.1), Mat::from_rows([[1.0, -1.0]; 4]), RowVec::zeros());
//! let x = RowVec::from_row([0.5, -1.0, 2.0]);
//! let report = gradcheck::check_grads(&mlp, &x, &Target::class(1)?, 1e-5, usize::MAX);
//! assert!(report.passed(), "{report}");
//! # Ok::<(), constgrad::Error>(())
//! ```

use core::fmt;
use std::format;
use std::string::ToString;
use std::vec::Vec;

use crate::mat::RowVec;
use crate::mlp::{Grads, Mlp, Param};
use crate::real::Real;
use crate::target::Target;

/// Which gradient an [`Entry`] belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Block {
    /// `dL/dx`.
    Input,
    /// A parameter gradient.
    Param(Param),
}

impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Block::Input => f.write_str("dL/dx"),
            Block::Param(Param::W1) => f.write_str("dL/dW1"),
            Block::Param(Param::B1) => f.write_str("dL/db1"),
            Block::Param(Param::W2) => f.write_str("dL/dW2"),
            Block::Param(Param::B2) => f.write_str("dL/db2"),
        }
    }
}

/// One checked component.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Entry {
    /// The gradient it belongs to.
    pub block: Block,
    /// Row and column within that gradient.
    pub index: (usize, usize),
    /// The crate's value.
    pub analytic: f64,
    /// The central difference.
    pub numeric: f64,
    /// `|analytic − numeric| / natural scale of the block`.
    pub error: f64,
}

/// The result of a check: every checked component and the tolerance.
///
/// # Examples
///
/// A report built by hand, to show how [`Report::passed`], [`Report::worst`]
/// and [`Report::failures`] treat errors over the tolerance and NaN:
///
/// ```
/// use constgrad::gradcheck::{Block, Entry, Report};
/// use constgrad::Param;
/// let entry = |block, error| Entry { block, index: (0, 0), analytic: 0.0, numeric: 0.0, error };
/// let mut report = Report {
///     entries: vec![entry(Block::Input, 1e-9), entry(Block::Param(Param::B2), 3e-4)],
///     tolerance: 1e-5,
///     loss: 0.0,
/// };
/// assert!(!report.passed());
/// assert_eq!(report.worst().map(|e| e.block), Some(Block::Param(Param::B2)));
/// assert_eq!(report.failures().count(), 1);
///
/// report.entries.push(entry(Block::Param(Param::W1), f64::NAN));
/// assert!(report.worst().is_some_and(|e| e.error.is_nan())); // NaN is the worst
/// assert_eq!(report.failures().count(), 2); // and fails
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Every checked component, block by block, row-major.
    pub entries: Vec<Entry>,
    /// The tolerance the check was run with.
    pub tolerance: f64,
    /// The crate's loss at the checked point, for reference (the loss itself
    /// is not checked).
    pub loss: f64,
}

impl Report {
    /// `true` when every entry's error is within the tolerance (NaN fails).
    /// See the example on [`Report`].
    #[must_use]
    pub fn passed(&self) -> bool {
        self.entries.iter().all(|e| e.error <= self.tolerance)
    }

    /// The entry with the largest error (NaN counts as largest).
    /// See the example on [`Report`].
    #[must_use]
    pub fn worst(&self) -> Option<&Entry> {
        self.entries
            .iter()
            .max_by(|a, b| nan_high(a.error).total_cmp(&nan_high(b.error)))
    }

    /// The entries over the tolerance.
    /// See the example on [`Report`].
    pub fn failures(&self) -> impl Iterator<Item = &Entry> {
        self.entries
            .iter()
            .filter(|e| e.error.is_nan() || e.error > self.tolerance)
    }
}

fn nan_high(v: f64) -> f64 {
    if v.is_nan() {
        f64::INFINITY
    } else {
        v
    }
}

impl fmt::Display for Report {
    /// A summary line, then up to 20 failing (or, if none fail, the 5 worst)
    /// components as a table.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let failing = self.failures().count();
        writeln!(
            f,
            "gradcheck: {} of {} components within {:e} of their block's natural scale (loss {:.9e})",
            self.entries.len() - failing,
            self.entries.len(),
            self.tolerance,
            self.loss
        )?;
        let mut shown: Vec<&Entry> = if failing > 0 {
            self.failures().take(20).collect()
        } else {
            let mut all: Vec<&Entry> = self.entries.iter().collect();
            all.sort_by(|a, b| nan_high(b.error).total_cmp(&nan_high(a.error)));
            all.truncate(5);
            all
        };
        shown.sort_by_key(|e| (e.block != Block::Input, e.index));
        writeln!(
            f,
            "  {:<7} {:>10} {:>16} {:>16} {:>10}",
            "block", "index", "analytic", "numeric", "error"
        )?;
        for e in shown {
            writeln!(
                f,
                "  {:<7} {:>10} {:>+16.9e} {:>+16.9e} {:>10.2e}",
                e.block.to_string(),
                format!("({},{})", e.index.0, e.index.1),
                e.analytic,
                e.numeric,
                e.error
            )?;
        }
        Ok(())
    }
}

/// The loss in `f64`, textbook formulas, with one value optionally replaced.
struct F64Net<'a, const IN: usize, const HID: usize, const OUT: usize, T: Real> {
    mlp: &'a Mlp<IN, HID, OUT, T>,
    x: [f64; IN],
    y: [f64; OUT],
}

impl<const IN: usize, const HID: usize, const OUT: usize, T: Real> F64Net<'_, IN, HID, OUT, T> {
    fn loss(&self, bump: Option<(Block, usize, usize, f64)>) -> f64 {
        let get = |block: Block, i: usize, j: usize, v: T| -> f64 {
            match bump {
                Some((b, bi, bj, d)) if b == block && bi == i && bj == j => v.to_f64() + d,
                _ => v.to_f64(),
            }
        };
        let x: [f64; IN] = core::array::from_fn(|i| match bump {
            Some((Block::Input, 0, bj, d)) if bj == i => self.x[i] + d,
            _ => self.x[i],
        });
        let (w1, b1, w2, b2) = (
            self.mlp.w1().rows(),
            self.mlp.b1().row(),
            self.mlp.w2().rows(),
            self.mlp.b2().row(),
        );
        let h: [f64; HID] = core::array::from_fn(|k| {
            let mut a = get(Block::Param(Param::B1), 0, k, b1[k]);
            for (i, xi) in x.iter().enumerate() {
                a += xi * get(Block::Param(Param::W1), i, k, w1[i][k]);
            }
            if a >= 0.0 {
                1.0 / (1.0 + (-a).exp())
            } else {
                a.exp() / (1.0 + a.exp())
            }
        });
        let theta: [f64; OUT] = core::array::from_fn(|j| {
            let mut t = get(Block::Param(Param::B2), 0, j, b2[j]);
            for (k, hk) in h.iter().enumerate() {
                t += hk * get(Block::Param(Param::W2), k, j, w2[k][j]);
            }
            t
        });
        let m = theta.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lse = m + theta.iter().map(|t| (t - m).exp()).sum::<f64>().ln();
        theta
            .iter()
            .zip(&self.y)
            .filter(|(_, &y)| y != 0.0)
            .map(|(t, y)| y * (lse - t))
            .sum()
    }

    fn central(&self, block: Block, i: usize, j: usize, value: f64) -> f64 {
        let h = 1e-6 * value.abs().max(1.0);
        (self.loss(Some((block, i, j, h))) - self.loss(Some((block, i, j, -h)))) / (2.0 * h)
    }
}

fn push_block<const R: usize, const C: usize, T: Real>(
    entries: &mut Vec<Entry>,
    block: Block,
    analytic: &[[T; C]; R],
    value: impl Fn(usize, usize) -> f64,
    numeric: impl Fn(Block, usize, usize, f64) -> f64,
    max: usize,
) {
    let start = entries.len();
    for (i, row) in analytic.iter().enumerate() {
        for (j, a) in row.iter().enumerate() {
            if entries.len() - start >= max {
                break;
            }
            entries.push(Entry {
                block,
                index: (i, j),
                analytic: a.to_f64(),
                numeric: numeric(block, i, j, value(i, j)),
                error: 0.0,
            });
        }
    }
    let scale = entries[start..]
        .iter()
        .fold(1e-30f64, |s, e| s.max(e.numeric.abs()));
    for e in &mut entries[start..] {
        e.error = (e.analytic - e.numeric).abs() / scale;
    }
}

/// Checks [`Mlp::input_grad`]'s `dL/dx` against central differences.
///
/// # Examples
///
/// ```
/// use constgrad::{gradcheck, Mat, Mlp, RowVec, Target};
/// let mlp: Mlp<3, 2, 3, f64> = Mlp::new(
///     Mat::from_rows([[0.5, -1.0], [2.0, 0.3], [-0.7, 0.1]]), RowVec::from_row([0.1, -0.2]),
///     Mat::from_rows([[1.0, -2.0, 0.5], [0.4, 0.0, -1.5]]), RowVec::zeros(),
/// );
/// let x = RowVec::from_row([1.0, 0.5, -2.0]);
/// // An f64 network, so the differences' own rounding (about ε/h ≈ 1e-10 of
/// // the loss) sets the tolerance, not the gradient's: 1e-7 leaves room.
/// let report = gradcheck::check_input_grad(&mlp, &x, &Target::class(2)?, 1e-7);
/// assert_eq!(report.entries.len(), 3); // one per input
/// assert!(report.passed(), "{report}");
/// # Ok::<(), constgrad::Error>(())
/// ```
#[must_use]
pub fn check_input_grad<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    mlp: &Mlp<IN, HID, OUT, T>,
    x: &RowVec<IN, T>,
    target: &Target<OUT, T>,
    tolerance: f64,
) -> Report {
    let (loss, dx) = mlp.input_grad(x, target);
    let net = net(mlp, x, target);
    let mut entries = Vec::new();
    push_block(
        &mut entries,
        Block::Input,
        dx.rows(),
        |_, j| net.x[j],
        |b, i, j, v| net.central(b, i, j, v),
        usize::MAX,
    );
    Report {
        entries,
        tolerance,
        loss: loss.to_f64(),
    }
}

/// Checks every gradient of [`Mlp::grads`] (`dL/dx`, `dL/dW1`, `dL/db1`,
/// `dL/dW2`, `dL/db2`), at most `max_per_block` components of each (row-major
/// from the first). The analytic gradients are computed into a heap
/// `Grads`, so large networks are fine.
///
/// # Examples
///
/// ```
/// use constgrad::gradcheck::{self, Block};
/// use constgrad::{Mat, Mlp, Param, RowVec, Target};
/// let mlp: Mlp<3, 4, 2> = Mlp::new(
///     Mat::splat(0.3), RowVec::splat(-0.1), Mat::from_rows([[1.0, -1.0]; 4]), RowVec::zeros(),
/// );
/// let x = RowVec::from_row([0.5, -1.0, 2.0]);
/// // At most 2 components of each of the 5 blocks, row-major from the first.
/// let report = gradcheck::check_grads(&mlp, &x, &Target::class(1)?, 1e-5, 2);
/// assert_eq!(report.entries.len(), 10);
/// let fourth = &report.entries[3]; // dL/dx (0,0), (0,1), then dL/dW1 (0,0), (0,1)
/// assert_eq!((fourth.block, fourth.index), (Block::Param(Param::W1), (0, 1)));
/// // f32 gradients round at ~1e-7 of their block's scale: 1e-5 leaves room.
/// assert!(report.passed(), "{report}");
/// # Ok::<(), constgrad::Error>(())
/// ```
#[must_use]
pub fn check_grads<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    mlp: &Mlp<IN, HID, OUT, T>,
    x: &RowVec<IN, T>,
    target: &Target<OUT, T>,
    tolerance: f64,
    max_per_block: usize,
) -> Report {
    let mut g = std::boxed::Box::<Grads<IN, HID, OUT, T>>::default();
    mlp.grads_into(x, target, &mut g);
    let net = net(mlp, x, target);
    let c = |b: Block, i: usize, j: usize, v: f64| net.central(b, i, j, v);
    let mut e = Vec::new();
    let m = max_per_block;
    push_block(&mut e, Block::Input, g.x.rows(), |_, j| net.x[j], c, m);
    push_block(
        &mut e,
        Block::Param(Param::W1),
        g.w1.rows(),
        |i, j| mlp.w1().rows()[i][j].to_f64(),
        c,
        m,
    );
    push_block(
        &mut e,
        Block::Param(Param::B1),
        g.b1.rows(),
        |_, j| mlp.b1().row()[j].to_f64(),
        c,
        m,
    );
    push_block(
        &mut e,
        Block::Param(Param::W2),
        g.w2.rows(),
        |i, j| mlp.w2().rows()[i][j].to_f64(),
        c,
        m,
    );
    push_block(
        &mut e,
        Block::Param(Param::B2),
        g.b2.rows(),
        |_, j| mlp.b2().row()[j].to_f64(),
        c,
        m,
    );
    Report {
        entries: e,
        tolerance,
        loss: g.loss.to_f64(),
    }
}

fn net<'a, const IN: usize, const HID: usize, const OUT: usize, T: Real>(
    mlp: &'a Mlp<IN, HID, OUT, T>,
    x: &RowVec<IN, T>,
    target: &Target<OUT, T>,
) -> F64Net<'a, IN, HID, OUT, T> {
    let y = target.to_row();
    F64Net {
        mlp,
        x: core::array::from_fn(|i| x.row()[i].to_f64()),
        y: core::array::from_fn(|j| y.row()[j].to_f64()),
    }
}
