//! [`Mat`] and [`RowVec`]: matrices whose shapes are type parameters.
//!
//! Storage is row-major `[[T; C]; R]`. Every shape rule of linear algebra is
//! a type rule here: `matmul` only accepts a right operand with as many rows
//! as the left has columns, `hadamard` only an operand of the same shape, and
//! `transpose` swaps the two parameters. A shape error is a compile error.
//!
//! ```compile_fail
//! use constgrad::Mat;
//! let a = Mat::<1, 3>::zeros();
//! let w1 = Mat::<5, 3>::zeros();
//! let _ = a.matmul(&w1); // 1×3 · 5×3: inner dimensions differ, does not compile
//! ```
//!
//! ```compile_fail
//! use constgrad::Mat;
//! let a = Mat::<1, 3>::zeros();
//! let b = Mat::<1, 5>::zeros();
//! let _ = a.hadamard(&b); // 1×3 ∘ 1×5: shapes differ, does not compile
//! ```

use core::fmt;
use core::ops::{Add, Index, IndexMut, Mul, Sub};

use crate::error::Error;
use crate::real::{LoadAs, Real};
use crate::simd::{self, Vector};

/// An `R`×`C` matrix of `T` (default `f32`), stored row-major as `[[T; C]; R]`.
///
/// `Mat` is `Copy` and lives wherever you put it: on the stack, in a `static`,
/// or in a `Box` for large shapes. It is `#[repr(transparent)]` over its
/// `[[T; C]; R]` (bytemuck's [`TransparentWrapper`](bytemuck::TransparentWrapper)),
/// so a slice of matrices is its elements back to back.
///
/// # Examples
///
/// ```
/// use constgrad::Mat;
///
/// let a = Mat::from_rows([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]); // 3×2
/// let b = Mat::from_rows([[1.0, 0.0, -1.0], [0.0, 1.0, 2.0]]);   // 2×3
/// let c = a.matmul(&b);                                          // 3×3
/// assert_eq!(c[(2, 2)], 5.0 * -1.0 + 6.0 * 2.0);
/// assert_eq!(a.transpose().rows(), &[[1.0, 3.0, 5.0], [2.0, 4.0, 6.0]]);
/// assert_eq!(&a * &b, c);
/// ```
#[derive(Clone, Copy, PartialEq, bytemuck::TransparentWrapper)]
#[repr(transparent)]
#[transparent([[T; C]; R])]
pub struct Mat<const R: usize, const C: usize, T = f32> {
    rows: [[T; C]; R],
}

/// A row vector: a 1×`N` [`Mat`]. Inputs, activations and gradients are rows.
///
/// # Examples
///
/// A row times a matrix is a row: `x·W` with `x` 1×2 and `W` 2×3 is 1×3.
///
/// ```
/// use constgrad::{Mat, RowVec};
/// let x: RowVec<2> = RowVec::from_row([1.0, 2.0]);
/// let w: Mat<2, 3> = Mat::from_rows([[1.0, 0.0, 2.0], [0.0, 1.0, 3.0]]);
/// let a: RowVec<3> = x.matmul(&w);
/// assert_eq!(a.row(), &[1.0, 2.0, 1.0 * 2.0 + 2.0 * 3.0]);
/// ```
pub type RowVec<const N: usize, T = f32> = Mat<1, N, T>;

impl<const R: usize, const C: usize, T> Mat<R, C, T> {
    /// Builds a matrix from its rows.
    ///
    /// # Examples
    ///
    /// `const`, so weights can be compiled in. Index with `(row, column)`.
    ///
    /// ```
    /// use constgrad::Mat;
    /// const W: Mat<2, 3> = Mat::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(W[(1, 0)], 4.0);
    /// assert_eq!((Mat::<2, 3>::NROWS, Mat::<2, 3>::NCOLS), (2, 3));
    /// ```
    #[inline]
    #[must_use]
    pub const fn from_rows(rows: [[T; C]; R]) -> Self {
        Self { rows }
    }

    /// The rows, as a reference to the underlying array.
    #[inline]
    #[must_use]
    pub const fn rows(&self) -> &[[T; C]; R] {
        &self.rows
    }

    /// The rows, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::Mat;
    /// let mut m = Mat::from_rows([[1.0, 2.0], [3.0, 4.0]]);
    /// m.rows_mut()[1] = [0.0; 2];
    /// assert_eq!(m.rows(), &[[1.0, 2.0], [0.0, 0.0]]);
    /// ```
    #[inline]
    #[must_use]
    pub fn rows_mut(&mut self) -> &mut [[T; C]; R] {
        &mut self.rows
    }

    /// Consumes the matrix and returns its rows.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::Mat;
    /// let rows = [[1.0, 2.0], [3.0, 4.0]];
    /// assert_eq!(Mat::from_rows(rows).into_rows(), rows);
    /// ```
    #[inline]
    #[must_use]
    pub fn into_rows(self) -> [[T; C]; R] {
        self.rows
    }

    /// All `R*C` elements in row-major order.
    ///
    /// # Examples
    ///
    /// Element `(i, j)` sits at `i*C + j`.
    ///
    /// ```
    /// use constgrad::Mat;
    /// let m = Mat::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// assert_eq!(m.as_slice(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    /// assert_eq!(m.as_slice()[1 * 3 + 2], m[(1, 2)]);
    /// ```
    #[inline]
    #[must_use]
    pub fn as_slice(&self) -> &[T] {
        self.rows.as_flattened()
    }

    /// The elements of every matrix of `mats`, in order, as one slice (the
    /// batch kernels' view of a block of samples' rows, read a vector at a
    /// time).
    #[inline]
    pub(crate) fn flat(mats: &[Self]) -> &[T] {
        <Self as bytemuck::TransparentWrapper<[[T; C]; R]>>::peel_slice(mats)
            .as_flattened()
            .as_flattened()
    }

    /// All `R*C` elements in row-major order, mutably.
    ///
    /// # Examples
    ///
    /// Numbering the elements in slice order fills each row before the next.
    ///
    /// ```
    /// use constgrad::Mat;
    /// let mut m = Mat::<2, 3>::zeros();
    /// for (k, v) in m.as_mut_slice().iter_mut().enumerate() {
    ///     *v = k as f32;
    /// }
    /// assert_eq!(m.rows(), &[[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]);
    /// ```
    #[inline]
    #[must_use]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        self.rows.as_flattened_mut()
    }

    /// The element at row `i`, column `j`, or `None` when out of range.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::Mat;
    /// let m = Mat::from_rows([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(m.get(1, 0), Some(&3.0));
    /// assert_eq!(m.get(2, 0), None); // rows are 0 and 1
    /// assert_eq!(m.get(0, 2), None); // so are columns
    /// ```
    #[inline]
    #[must_use]
    pub fn get(&self, i: usize, j: usize) -> Option<&T> {
        self.rows.get(i).and_then(|row| row.get(j))
    }

    /// The number of rows, `R`.
    pub const NROWS: usize = R;
    /// The number of columns, `C`.
    pub const NCOLS: usize = C;
}

impl<const N: usize, T> Mat<1, N, T> {
    /// A row vector from its elements.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::RowVec;
    /// let x = RowVec::from_row([1.0, 2.0, 3.0]);
    /// assert_eq!(x[(0, 1)], 2.0);
    /// ```
    #[inline]
    #[must_use]
    pub const fn from_row(row: [T; N]) -> Self {
        Self { rows: [row] }
    }

    /// The elements of a row vector.
    ///
    /// # Examples
    ///
    /// The length is part of the type, so the row destructures without a
    /// runtime check.
    ///
    /// ```
    /// use constgrad::RowVec;
    /// let x = RowVec::from_row([1.0, 2.0, 3.0]);
    /// let [a, b, c] = *x.row();
    /// assert_eq!(a + b + c, 6.0);
    /// ```
    #[inline]
    #[must_use]
    pub const fn row(&self) -> &[T; N] {
        &self.rows[0]
    }

    /// The elements of a row vector, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::RowVec;
    /// let mut x = RowVec::from_row([1.0, 2.0, 3.0]);
    /// x.row_mut()[0] = 5.0;
    /// assert_eq!(x[(0, 0)], 5.0);
    /// ```
    #[inline]
    #[must_use]
    pub fn row_mut(&mut self) -> &mut [T; N] {
        &mut self.rows[0]
    }
}

impl<const R: usize, const C: usize, T: Real> Mat<R, C, T> {
    /// The all-zero matrix.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::Mat;
    /// let z = Mat::<2, 3, f64>::zeros();
    /// assert_eq!(z.as_slice(), &[0.0; 6]);
    /// assert_eq!(z, Mat::default());
    /// ```
    #[inline]
    #[must_use]
    pub fn zeros() -> Self {
        Self {
            rows: [[T::ZERO; C]; R],
        }
    }

    /// The matrix with every element `value`.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::Mat;
    /// assert_eq!(Mat::<2, 3>::splat(0.5).as_slice(), &[0.5; 6]);
    /// ```
    #[inline]
    #[must_use]
    pub fn splat(value: T) -> Self {
        Self {
            rows: [[value; C]; R],
        }
    }

    /// Builds a matrix from `R*C` elements in row-major order.
    ///
    /// # Errors
    ///
    /// [`Error::SliceLength`] when `data.len() != R*C`.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Error, Mat};
    /// let m = Mat::<2, 2>::try_from_slice(&[1.0, 2.0, 3.0, 4.0])?;
    /// assert_eq!(m.rows(), &[[1.0, 2.0], [3.0, 4.0]]);
    /// assert!(matches!(Mat::<2, 2>::try_from_slice(&[1.0]), Err(Error::SliceLength { expected: 4, got: 1 })));
    /// # Ok::<(), Error>(())
    /// ```
    pub fn try_from_slice(data: &[T]) -> Result<Self, Error> {
        if data.len() != R * C {
            return Err(Error::SliceLength {
                expected: R * C,
                got: data.len(),
            });
        }
        let mut m = Self::zeros();
        m.as_mut_slice().copy_from_slice(data);
        Ok(m)
    }

    /// The `C`×`R` transpose.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let t: Mat<3, 2> = a.transpose();
    /// assert_eq!(t[(2, 0)], a[(0, 2)]);
    /// assert_eq!(t.transpose(), a);
    /// ```
    #[must_use]
    pub fn transpose(&self) -> Mat<C, R, T> {
        let mut t = Mat::<C, R, T>::zeros();
        self.transpose_into(&mut t);
        t
    }

    /// Writes the transpose into `out`, in place (no matrix-sized temporary,
    /// so it suits large matrices kept in a `Box` or a `static`).
    ///
    /// # Examples
    ///
    /// Every element of `out` is overwritten, whatever it held before.
    ///
    /// ```
    /// use constgrad::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
    /// let mut out = Box::new(Mat::<3, 2>::splat(9.0));
    /// a.transpose_into(&mut out);
    /// assert_eq!(out.rows(), &[[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]);
    /// ```
    pub fn transpose_into(&self, out: &mut Mat<C, R, T>) {
        for (i, row) in self.rows.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                out.rows[j][i] = v;
            }
        }
    }

    /// The matrix product `self · rhs`: (`R`×`C`)·(`C`×`K`) = `R`×`K`.
    ///
    /// Also available as `&a * &b`. Each output row is accumulated as a
    /// vectorized sum of `rhs`'s rows scaled by the elements of `self`'s row.
    ///
    /// # Examples
    ///
    /// A 2×2 product by hand (`1·5 + 2·7 = 19`, and so on); the order of the
    /// factors matters.
    ///
    /// ```
    /// use constgrad::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0], [3.0, 4.0]]);
    /// let b = Mat::from_rows([[5.0, 6.0], [7.0, 8.0]]);
    /// assert_eq!(a.matmul(&b).rows(), &[[19.0, 22.0], [43.0, 50.0]]);
    /// assert_eq!(b.matmul(&a).rows(), &[[23.0, 34.0], [31.0, 46.0]]);
    /// assert_eq!(&a * &b, a.matmul(&b));
    /// ```
    #[must_use]
    pub fn matmul<const K: usize>(&self, rhs: &Mat<C, K, T>) -> Mat<R, K, T> {
        let mut out = Mat::<R, K, T>::zeros();
        for (lhs_row, out_row) in self.rows.iter().zip(out.rows.iter_mut()) {
            vec_mat(lhs_row, &rhs.rows, None, out_row);
        }
        out
    }

    /// The elementwise (Hadamard) product `self ∘ rhs` of two same-shape matrices.
    ///
    /// # Examples
    ///
    /// Element by element, not the matrix product:
    ///
    /// ```
    /// use constgrad::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0], [3.0, 4.0]]);
    /// let b = Mat::from_rows([[5.0, 6.0], [7.0, 8.0]]);
    /// assert_eq!(a.hadamard(&b).rows(), &[[5.0, 12.0], [21.0, 32.0]]);
    /// ```
    #[must_use]
    pub fn hadamard(&self, rhs: &Self) -> Self {
        let mut out = *self;
        for (o, r) in out.as_mut_slice().iter_mut().zip(rhs.as_slice()) {
            *o *= *r;
        }
        out
    }

    /// Applies `f` to every element.
    ///
    /// # Examples
    ///
    /// A ReLU:
    ///
    /// ```
    /// use constgrad::Mat;
    /// let m: Mat<2, 2> = Mat::from_rows([[-1.0, 2.0], [0.5, -3.0]]);
    /// assert_eq!(m.map(|v| v.max(0.0)).rows(), &[[0.0, 2.0], [0.5, 0.0]]);
    /// ```
    #[must_use]
    pub fn map(&self, mut f: impl FnMut(T) -> T) -> Self {
        let mut out = *self;
        for v in out.as_mut_slice() {
            *v = f(*v);
        }
        out
    }

    /// Elementwise sum. Also available as `&a + &b`.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0], [3.0, 4.0]]);
    /// let b = Mat::from_rows([[0.5, 0.5], [-1.0, 1.0]]);
    /// assert_eq!(a.add(&b).rows(), &[[1.5, 2.5], [2.0, 5.0]]);
    /// assert_eq!(&a + &b, a.add(&b));
    /// ```
    #[must_use]
    pub fn add(&self, rhs: &Self) -> Self {
        let mut out = *self;
        for (o, r) in out.as_mut_slice().iter_mut().zip(rhs.as_slice()) {
            *o += *r;
        }
        out
    }

    /// Elementwise difference. Also available as `&a - &b`.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0], [3.0, 4.0]]);
    /// let b = Mat::from_rows([[0.5, 0.5], [-1.0, 1.0]]);
    /// assert_eq!(a.sub(&b).rows(), &[[0.5, 1.5], [4.0, 3.0]]);
    /// assert_eq!(a.sub(&a), Mat::zeros());
    /// assert_eq!(&a - &b, a.sub(&b));
    /// ```
    #[must_use]
    pub fn sub(&self, rhs: &Self) -> Self {
        let mut out = *self;
        for (o, r) in out.as_mut_slice().iter_mut().zip(rhs.as_slice()) {
            *o -= *r;
        }
        out
    }

    /// Every element times `s`.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::Mat;
    /// let a = Mat::from_rows([[1.0, 2.0], [3.0, 4.0]]);
    /// assert_eq!(a.scale(0.5).rows(), &[[0.5, 1.0], [1.5, 2.0]]);
    /// assert_eq!(a.scale(-1.0), Mat::zeros().sub(&a));
    /// ```
    #[must_use]
    pub fn scale(&self, s: T) -> Self {
        self.map(|v| v * s)
    }
}

impl<const R: usize, const C: usize, T: Real> Default for Mat<R, C, T> {
    fn default() -> Self {
        Self::zeros()
    }
}

impl<const R: usize, const C: usize, T> From<[[T; C]; R]> for Mat<R, C, T> {
    fn from(rows: [[T; C]; R]) -> Self {
        Self { rows }
    }
}

impl<const R: usize, const C: usize, T> From<Mat<R, C, T>> for [[T; C]; R] {
    fn from(m: Mat<R, C, T>) -> Self {
        m.rows
    }
}

impl<const R: usize, const C: usize, T> Index<(usize, usize)> for Mat<R, C, T> {
    type Output = T;
    /// # Panics
    ///
    /// When `i >= R` or `j >= C`, like array indexing. Use [`Mat::get`] for a
    /// checked lookup.
    #[inline]
    fn index(&self, (i, j): (usize, usize)) -> &T {
        &self.rows[i][j]
    }
}

impl<const R: usize, const C: usize, T> IndexMut<(usize, usize)> for Mat<R, C, T> {
    #[inline]
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut T {
        &mut self.rows[i][j]
    }
}

impl<const R: usize, const C: usize, const K: usize, T: Real> Mul<&Mat<C, K, T>> for &Mat<R, C, T> {
    type Output = Mat<R, K, T>;
    fn mul(self, rhs: &Mat<C, K, T>) -> Mat<R, K, T> {
        self.matmul(rhs)
    }
}

/// `&a + &b` is [`Mat::add`], the elementwise sum.
impl<const R: usize, const C: usize, T: Real> Add for &Mat<R, C, T> {
    type Output = Mat<R, C, T>;
    fn add(self, rhs: Self) -> Mat<R, C, T> {
        Mat::add(self, rhs)
    }
}

/// `&a - &b` is [`Mat::sub`], the elementwise difference.
impl<const R: usize, const C: usize, T: Real> Sub for &Mat<R, C, T> {
    type Output = Mat<R, C, T>;
    fn sub(self, rhs: Self) -> Mat<R, C, T> {
        Mat::sub(self, rhs)
    }
}

impl<const R: usize, const C: usize, T: fmt::Debug> fmt::Debug for Mat<R, C, T> {
    /// Prints `Mat<R×C> [[..], [..]]`, one row per line with `{:#?}`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Mat<{R}×{C}> ")?;
        if f.alternate() {
            writeln!(f, "[")?;
            for row in &self.rows {
                writeln!(f, "    {row:?},")?;
            }
            write!(f, "]")
        } else {
            f.debug_list().entries(self.rows.iter()).finish()
        }
    }
}

/// An `I`×`O` matrix of `U` laid out in column panels of `width` columns:
/// panel `q` holds columns `q·width ..` (the last panel what is left, `w_q`
/// columns) of every row, row after row, so element `(i, k)` sits at
/// `q·width·I + i·w_q + (k − q·width)`. A width of `O` is row-major order.
///
/// The kernels below read every layout in the same order of operations, so
/// a product does not depend on the layout, bit for bit. Panels a few
/// vectors wide let the products walk memory in order where row-major
/// storage has a pass read a slice of every row, a row apart (`Mlp`'s
/// `W1_PANEL` has the measurements).
#[derive(Clone, Copy)]
pub(crate) struct Panels<'a, U, const I: usize, const O: usize> {
    flat: &'a [U],
    width: usize,
}

impl<'a, U: Copy, const I: usize, const O: usize> Panels<'a, U, I, O> {
    /// `w` itself (one panel; `O.max(1)` wide, so that a matrix without
    /// columns has no panel rather than panels of no width).
    #[inline(always)]
    pub(crate) fn row_major(w: &'a [[U; O]; I]) -> Self {
        Self::new(w, O.max(1))
    }

    /// Panels of `width` columns (at least 1) in `storage`, as
    /// [`Panels::write`] lays them out.
    #[inline(always)]
    pub(crate) fn new(storage: &'a [[U; O]; I], width: usize) -> Self {
        assert!(width >= 1, "Panels: a panel is at least one column wide");
        Self {
            flat: storage.as_flattened(),
            width,
        }
    }

    /// Calls `f(first, width)` for every panel in column order: the whole
    /// panels with `width` as the constant it is (a run-time width keeps
    /// the loads' bound checks in the loops), then the last one.
    #[inline(always)]
    fn for_each_panel(&self, mut f: impl FnMut(usize, usize)) {
        let mut first = 0;
        while first + self.width <= O {
            f(first, self.width);
            first += self.width;
        }
        if first < O {
            f(first, O - first);
        }
    }

    /// The panel whose columns are `first .. first + width`: its `I` rows
    /// back to back.
    #[inline(always)]
    fn panel(&self, first: usize, width: usize) -> &'a [U] {
        &self.flat[first * I..(first + width) * I]
    }

    /// The panel holding column `k`: its first column, its width and its
    /// rows.
    #[inline(always)]
    fn panel_of(&self, k: usize) -> (usize, usize, &'a [U]) {
        let first = k / self.width * self.width;
        let width = self.width.min(O - first);
        (first, width, self.panel(first, width))
    }

    /// Lays `w` out in panels of `width` columns (at least 1) into `out`.
    pub(crate) fn write(w: &[[U; O]; I], width: usize, out: &mut [[U; O]; I]) {
        assert!(width >= 1, "Panels: a panel is at least one column wide");
        let out = out.as_flattened_mut();
        let (mut first, mut at) = (0, 0);
        while first < O {
            let cols = width.min(O - first);
            for row in w {
                out[at..at + cols].copy_from_slice(&row[first..first + cols]);
                at += cols;
            }
            first += cols;
        }
    }
}

/// `x · w (+ bias)`: a row times a matrix, vectorized over the output
/// columns, handing each finished output chunk (as a register) to `emit`
/// together with its first column index.
///
/// Each output chunk is accumulated in registers across all of `w`'s rows
/// and leaves the kernel once. Rows alternate between two accumulators per
/// chunk (halving the FMA dependency chain), and wide matrices are done four
/// chunks per pass over `x` (eight independent chains, one broadcast of `x_i`
/// per four vector loads), so long products run at FMA throughput rather
/// than latency. With `pivot = Some(p)`, row `p` of `w` is subtracted from
/// every row first, halved: `Σ_i x_i·(w_i − w_p)/2`, the cancellation-free
/// form of the backward pass (its caller divides the sum by
/// `s/2`: `softmax::pivot_unscale`). Halving keeps the difference of two
/// finite weights finite (`w_i − w_p` can overflow when the exact gradient
/// does not) and is exact, and `w_i·½ − w_p·½` is one rounding, as the
/// difference itself would be. Lanes past the last column are unspecified.
/// The summation order of every output is the same whatever the tiling and
/// the layout. The bias joins last, one rounding at its scale: starting
/// from it would round every partial sum there (ACCURACY.md, gap 2).
///
/// `w` is row-major, or in panels a whole number of four-chunk tiles wide
/// (so that no tile straddles two panels). It computes in `W` from `x` and
/// `w` stored as `X` and `U`, each either `W` itself or `f32` widened
/// exactly to `f64` as it is loaded ([`LoadAs`]): one kernel for the
/// native-precision passes and the mixed-precision one
/// (`Mlp::input_grad_accurate`).
#[inline(always)]
pub(crate) fn vec_mat_map<W: Real, X: LoadAs<W>, U: LoadAs<W>, const I: usize, const O: usize>(
    x: &[X; I],
    w: Panels<'_, U, I, O>,
    bias: Option<&[U; O]>,
    pivot: Option<usize>,
    mut emit: impl FnMut(usize, W::Simd),
) {
    let lanes = <W::Simd as Vector>::LANES;
    debug_assert!(w.width >= O || w.width % (4 * lanes) == 0);
    let mut start = 0;
    while start + 4 * lanes <= O {
        vec_mat_tile::<W, X, U, I, O, 4, false>(x, w, bias, pivot, start, &mut emit);
        start += 4 * lanes;
    }
    while start + lanes <= O {
        vec_mat_tile::<W, X, U, I, O, 1, false>(x, w, bias, pivot, start, &mut emit);
        start += lanes;
    }
    if start < O {
        vec_mat_tile::<W, X, U, I, O, 1, true>(x, w, bias, pivot, start, &mut emit);
    }
}

/// `N` consecutive output chunks of [`vec_mat_map`] from column `start`.
///
/// Inlined only in optimised builds: unoptimised, every local of an inlined
/// function keeps its own stack slot, and the walk over the panel's rows
/// (iterators, slices) inlined twice into its callers' frames took
/// `grads_batch`'s debug-build stack past its 1 MiB
/// (`tests/stack_safety.rs`).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
fn vec_mat_tile<
    T: Real,
    X: LoadAs<T>,
    U: LoadAs<T>,
    const I: usize,
    const O: usize,
    const N: usize,
    const SPILL: bool,
>(
    x: &[X; I],
    w: Panels<'_, U, I, O>,
    bias: Option<&[U; O]>,
    pivot: Option<usize>,
    start: usize,
    emit: &mut impl FnMut(usize, T::Simd),
) {
    let lanes = <T::Simd as Vector>::LANES;
    let splat = <T::Simd as Vector>::splat;
    let (first, width, panel) = w.panel_of(start);
    let chunk = |c: usize| start + c * lanes;
    // Chunk `c` of one of the panel's rows, given as the row itself, or
    // for the last chunk of a width that is not a whole number of vectors
    // (`SPILL`) as the panel from that row's start on: that chunk runs past
    // the row's `width` columns and takes the next rows' first entries into
    // its padding lanes, whose results no caller reads, as one vector load;
    // only the panel's last row loads its short chunk entry by entry.
    // (Until session 43 every row loaded its short chunk entry by entry: a
    // 20→12→10 `input_grad` on AVX2 took 329 ns, now 115–133. Whole
    // chunks keep rows cut to their width: given from a row's start to the
    // panel's end, their loads' bound checks stayed in the loop, 64→64→10
    // 686 → 969 ns.)
    let at = |row: &[U], c: usize| U::load_over(row, start - first + c * lanes);
    let half = splat(T::from_f64(0.5));
    let base: [T::Simd; N] = core::array::from_fn(|c| match pivot {
        Some(p) => at(&panel[p * width..], c) * half,
        None => splat(T::ZERO),
    });
    // w_i − w_p halved when pivoting, w_i otherwise.
    let term = |row: &[U], c: usize| match pivot {
        Some(_) => at(row, c).mul_add(half, -base[c]),
        None => at(row, c),
    };
    // Each chain starts with a plain product, as `Mlp`'s register kernel
    // does (an FMA onto +0 would turn a −0 product into +0), peeled out of
    // the loop (built with `array::from_fn` it made the 784→128→10 pass 1.7×
    // slower). Rows are taken two at a time as slices of the panel, which
    // keeps the loads' bound checks out of the loop.
    let mut even = [splat(T::ZERO); N];
    let mut odd = [splat(T::ZERO); N];
    let rows = |k: usize| {
        if SPILL {
            let r0 = &panel[2 * k * width..];
            (r0, &r0[width..])
        } else {
            panel[2 * k * width..(2 * k + 2) * width].split_at(width)
        }
    };
    let mut pairs = x.chunks_exact(2).enumerate();
    if let Some((k, xs)) = pairs.next() {
        let (r0, r1) = rows(k);
        let (x0, x1) = (splat(xs[0].widen()), splat(xs[1].widen()));
        for c in 0..N {
            even[c] = x0 * term(r0, c);
            odd[c] = x1 * term(r1, c);
        }
    }
    for (k, xs) in pairs {
        let (r0, r1) = rows(k);
        let (x0, x1) = (splat(xs[0].widen()), splat(xs[1].widen()));
        for c in 0..N {
            even[c] = x0.mul_add(term(r0, c), even[c]);
            odd[c] = x1.mul_add(term(r1, c), odd[c]);
        }
    }
    if I % 2 == 1 {
        let row = &panel[(I - 1) * width..];
        let x0 = splat(x[I - 1].widen());
        for (c, acc) in even.iter_mut().enumerate() {
            *acc = if I == 1 {
                x0 * term(row, c)
            } else {
                x0.mul_add(term(row, c), *acc)
            };
        }
    }
    for c in 0..N {
        let sum = even[c] + odd[c];
        emit(
            chunk(c),
            match bias {
                Some(b) => sum + U::load(b.get(chunk(c)..).unwrap_or(&[]), T::ZERO),
                None => sum,
            },
        );
    }
}

/// `w · v`: every row of `w` dotted with `v`, i.e. `v · wᵀ` computed from
/// `w` itself, with no transposed copy; each finished output goes to
/// `emit(i, out_i)`.
///
/// Rows are done eight at a time, one accumulator each, walking `v` in
/// vector chunks: each loaded chunk of `v` serves eight rows (eight
/// independent FMA chains), and each row's lanes are summed at the end. A
/// row's last chunk in a panel is loaded zero-padded, never past the row,
/// so it meets zero-padded lanes of `v` and no other row's weights. Every
/// output is summed in the same order whatever the tiling and the layout
/// (chunk by chunk in column order). `w` is row-major, or in panels a whole
/// number of chunks wide; it is stored as `U` (see [`vec_mat_map`]).
#[inline(always)]
pub(crate) fn mat_vec_map<W: Real, U: LoadAs<W>, const I: usize, const K: usize>(
    w: Panels<'_, U, I, K>,
    v: &[W; K],
    mut emit: impl FnMut(usize, W),
) {
    debug_assert!(w.width >= K || w.width % <W::Simd as Vector>::LANES == 0);
    let mut i = 0;
    while i + 8 <= I {
        mat_vec_tile::<W, U, I, K, 8>(w, v, i, &mut emit);
        i += 8;
    }
    while i < I {
        mat_vec_tile::<W, U, I, K, 1>(w, v, i, &mut emit);
        i += 1;
    }
}

/// Rows `i0 .. i0 + R` of [`mat_vec_map`] (inlined in optimised builds
/// only, as [`vec_mat_tile`]).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
fn mat_vec_tile<W: Real, U: LoadAs<W>, const I: usize, const K: usize, const R: usize>(
    w: Panels<'_, U, I, K>,
    v: &[W; K],
    i0: usize,
    emit: &mut impl FnMut(usize, W),
) {
    let lanes = <W::Simd as Vector>::LANES;
    let mut acc = [<W::Simd as Vector>::splat(W::ZERO); R];
    w.for_each_panel(
        #[inline(always)]
        |first, width| {
            let rows = &w.panel(first, width)[i0 * width..(i0 + R) * width];
            let mut start = 0;
            while start < width {
                let vv = <W as LoadAs<W>>::load_over(v, first + start);
                for (a, row) in acc.iter_mut().zip(rows.chunks_exact(width)) {
                    *a = U::load_over(row, start).mul_add(vv, *a);
                }
                start += lanes;
            }
        },
    );
    for (r, a) in acc.into_iter().enumerate() {
        emit(i0 + r, a.reduce_add());
    }
}

/// `out = x · w (+ bias)`, see [`vec_mat_map`].
#[inline(always)]
pub(crate) fn vec_mat<T: Real, const I: usize, const O: usize>(
    x: &[T; I],
    w: &[[T; O]; I],
    bias: Option<&[T; O]>,
    out: &mut [T; O],
) {
    vec_mat_map::<T, T, T, I, O>(x, Panels::row_major(w), bias, None, |start, v| {
        simd::store(v, &mut out[start..])
    });
}

#[cfg(test)]
mod tests {
    //! `mat_vec_map` against plain f64 dot products, and both kernels on
    //! column panels against row-major storage. Panels and `mat_vec_map` are
    //! reached publicly only through layers too big for the other tests'
    //! shapes (`Mlp::LARGE_W1`), so their tails are checked here on small odd
    //! sizes: rows left over after the eight-row tiles, a last chunk shorter
    //! than a vector, a last panel narrower than the others.

    use super::*;
    use rand::{rngs::StdRng, Rng, SeedableRng};
    use std::vec::Vec;

    /// Runs `mat_vec_map` computing in `W` on `w` stored as `U`, and checks
    /// every output against the f64 dot product within `K·ε_W` of the sum of
    /// absolute products (the standard bound for any summation order).
    fn check<W: Real, U: LoadAs<W> + Real, const I: usize, const K: usize>(seed: u64) {
        let mut r = StdRng::seed_from_u64(seed);
        for _ in 0..50 {
            let w: [[U; K]; I] = core::array::from_fn(|_| {
                core::array::from_fn(|_| U::from_f64(r.gen_range(-2.0..2.0)))
            });
            let v: [W; K] = core::array::from_fn(|_| W::from_f64(r.gen_range(-2.0..2.0)));
            let mut got: Vec<Option<W>> = (0..I).map(|_| None).collect();
            mat_vec_map::<W, U, I, K>(Panels::row_major(&w), &v, |i, s| {
                assert!(got[i].replace(s).is_none(), "output {i} emitted twice");
            });
            for (i, (row, out)) in w.iter().zip(&got).enumerate() {
                let out = out.expect("every output emitted").to_f64();
                let (exact, mag) = row.iter().zip(&v).fold((0.0, 0.0), |(s, m), (a, b)| {
                    let p = a.to_f64() * b.to_f64();
                    (s + p, m + p.abs())
                });
                let bound = K as f64 * W::EPSILON.to_f64() * mag + f64::MIN_POSITIVE;
                assert!(
                    (out - exact).abs() <= bound,
                    "{I}×{K} row {i}: {out} vs {exact} (bound {bound:e})"
                );
            }
        }
    }

    #[test]
    fn mat_vec_map_matches_f64_dot_products_including_tails() {
        check::<f32, f32, 19, 13>(1);
        check::<f32, f32, 8, 16>(2);
        check::<f32, f32, 3, 1>(3);
        check::<f64, f64, 17, 11>(4);
        check::<f64, f32, 21, 9>(5);
    }

    #[test]
    fn mat_vec_map_keeps_tail_padding_out_of_the_sums() {
        // Odd rows start with ∞ and meet v[0] = 0, so their own sums are NaN;
        // an even row is finite unless a load ran past its end into the next
        // row's ∞, where it would meet v's zero padding: ∞·0 = NaN. Twelve
        // columns leave a partial last chunk for 8 lanes and one for 16.
        let w: [[f32; 12]; 9] = core::array::from_fn(|i| {
            core::array::from_fn(|k| {
                if k == 0 && i % 2 == 1 {
                    f32::INFINITY
                } else {
                    1.0
                }
            })
        });
        let v: [f32; 12] = core::array::from_fn(|k| if k == 0 { 0.0 } else { 1.0 });
        let mut seen = 0;
        mat_vec_map::<f32, f32, 9, 12>(Panels::row_major(&w), &v, |i, s| {
            seen += 1;
            if i % 2 == 0 {
                assert_eq!(s, 11.0, "row {i}");
            } else {
                assert!(s.is_nan(), "row {i}: {s}");
            }
        });
        assert_eq!(seen, 9);
    }

    /// A random `I`×`O` matrix of `U`.
    fn random<U: Real, const I: usize, const O: usize>(r: &mut StdRng) -> [[U; O]; I] {
        core::array::from_fn(|_| core::array::from_fn(|_| U::from_f64(r.gen_range(-2.0..2.0))))
    }

    #[test]
    fn panels_put_every_element_where_the_layout_says() {
        // 5×11 in panels of 4: widths 4, 4, 3.
        let w: [[u32; 11]; 5] =
            core::array::from_fn(|i| core::array::from_fn(|k| 100 * i as u32 + k as u32));
        for width in [1, 4, 11, 20] {
            let mut out = [[0u32; 11]; 5];
            Panels::write(&w, width, &mut out);
            let flat = out.as_flattened();
            for (i, row) in w.iter().enumerate() {
                for (k, &v) in row.iter().enumerate() {
                    let q = k / width;
                    let w_q = width.min(11 - q * width);
                    let at = q * width * 5 + i * w_q + (k - q * width);
                    assert_eq!(flat[at], v, "width {width}: ({i}, {k}) at {at}");
                }
            }
        }
    }

    /// `vec_mat_map` and `mat_vec_map` on `w` in panels of `width` against
    /// the same on row-major `w`: the same bits, whatever the layout.
    fn same_in_panels<W: Real, U: LoadAs<W> + Real, const I: usize, const O: usize>(
        width: usize,
        seed: u64,
    ) {
        let mut r = StdRng::seed_from_u64(seed);
        let w: [[U; O]; I] = random(&mut r);
        let mut panels = [[U::ZERO; O]; I];
        Panels::write(&w, width, &mut panels);
        let (rows, cut) = (Panels::row_major(&w), Panels::new(&panels, width));
        let [x]: [[W; I]; 1] = random(&mut r);
        let [v]: [[W; O]; 1] = random(&mut r);
        let [bias]: [[U; O]; 1] = random(&mut r);
        let bits = |a: W| a.to_f64().to_bits();
        for pivot in [None, Some(I / 2)] {
            let run = |w: Panels<'_, U, I, O>| {
                let mut out = Vec::new();
                vec_mat_map::<W, W, U, I, O>(&x, w, Some(&bias), pivot, |start, s| {
                    let lanes = s.to_array();
                    let n = (O - start).min(<W::Simd as Vector>::LANES);
                    out.extend(lanes.as_ref()[..n].iter().map(|&l| bits(l)));
                });
                out
            };
            assert_eq!(
                run(rows),
                run(cut),
                "vec_mat_map {I}×{O}, panels of {width}, pivot {pivot:?}"
            );
        }
        let run = |w: Panels<'_, U, I, O>| {
            let mut out = Vec::new();
            mat_vec_map::<W, U, I, O>(w, &v, |i, s| out.push((i, bits(s))));
            out
        };
        assert_eq!(
            run(rows),
            run(cut),
            "mat_vec_map {I}×{O}, panels of {width}"
        );
    }

    #[test]
    fn products_in_panels_match_row_major_bit_for_bit() {
        // Panels of four vectors of the computing type, as `Mlp` lays them
        // out, and of one vector (`mat_vec_map` only needs whole chunks);
        // shapes with a narrower last panel, odd row counts, rows past the
        // eight-row tiles.
        let f32_tile = 4 * <f32 as crate::real::sealed::Kernel>::Simd::LANES;
        let f64_tile = 4 * <f64 as crate::real::sealed::Kernel>::Simd::LANES;
        same_in_panels::<f32, f32, 13, 100>(f32_tile, 1);
        same_in_panels::<f32, f32, 12, 70>(f32_tile, 2);
        same_in_panels::<f32, f32, 1, 40>(f32_tile, 3);
        // Panels two tiles wide (AVX-512's f32 panels hold two of an AVX2
        // build's tiles): tiles inside a panel, and a last panel of 36.
        same_in_panels::<f32, f32, 13, 100>(2 * f32_tile, 7);
        same_in_panels::<f64, f64, 9, 37>(f64_tile, 4);
        // The mixed-precision path: f32 storage in f32-sized panels, read in f64.
        same_in_panels::<f64, f32, 11, 100>(f32_tile, 5);
        for width in [f32_tile / 4, 2 * f32_tile] {
            let mut r = StdRng::seed_from_u64(6);
            let w: [[f32; 50]; 17] = random(&mut r);
            let mut panels = [[0.0; 50]; 17];
            Panels::write(&w, width, &mut panels);
            let v: [f32; 50] = core::array::from_fn(|k| k as f32 - 20.5);
            let run = |w: Panels<'_, f32, 17, 50>| {
                let mut out = Vec::new();
                mat_vec_map::<f32, f32, 17, 50>(w, &v, |i, s| out.push((i, s.to_bits())));
                out
            };
            assert_eq!(
                run(Panels::row_major(&w)),
                run(Panels::new(&panels, width)),
                "width {width}"
            );
        }
    }

    #[test]
    fn products_without_columns_or_rows_emit_nothing_and_end() {
        let (x, w) = ([1.0f32; 3], [[0.0f32; 0]; 3]);
        vec_mat_map::<f32, f32, f32, 3, 0>(&x, Panels::row_major(&w), None, None, |_, _| {
            panic!("no column to emit")
        });
        mat_vec_map::<f32, f32, 3, 0>(Panels::row_major(&w), &[], |i, s| {
            assert_eq!(s, 0.0, "row {i}: an empty dot product");
        });
        let (x, w) = ([0.0f32; 0], [[0.0f32; 4]; 0]);
        let mut seen = 0;
        vec_mat_map::<f32, f32, f32, 0, 4>(&x, Panels::row_major(&w), None, None, |start, v| {
            assert_eq!(
                (start, &v.to_array().as_ref()[..4]),
                (0, &[0.0; 4][..]),
                "empty sums"
            );
            seen += 1;
        });
        assert_eq!(seen, 1);
        assert_eq!(
            Mat::<2, 3>::zeros().matmul(&Mat::<3, 0>::zeros()),
            Mat::<2, 0>::zeros()
        );
    }
}
