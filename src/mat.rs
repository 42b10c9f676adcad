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
use core::ops::{Index, IndexMut, Mul};

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
pub type RowVec<const N: usize, T = f32> = Mat<1, N, T>;

impl<const R: usize, const C: usize, T> Mat<R, C, T> {
    /// Builds a matrix from its rows.
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
    #[inline]
    #[must_use]
    pub fn rows_mut(&mut self) -> &mut [[T; C]; R] {
        &mut self.rows
    }

    /// Consumes the matrix and returns its rows.
    #[inline]
    #[must_use]
    pub fn into_rows(self) -> [[T; C]; R] {
        self.rows
    }

    /// All `R*C` elements in row-major order.
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
    #[inline]
    #[must_use]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        self.rows.as_flattened_mut()
    }

    /// The element at row `i`, column `j`, or `None` when out of range.
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
    #[inline]
    #[must_use]
    pub const fn row(&self) -> &[T; N] {
        &self.rows[0]
    }

    /// The elements of a row vector, mutably.
    #[inline]
    #[must_use]
    pub fn row_mut(&mut self) -> &mut [T; N] {
        &mut self.rows[0]
    }
}

impl<const R: usize, const C: usize, T: Real> Mat<R, C, T> {
    /// The all-zero matrix.
    #[inline]
    #[must_use]
    pub fn zeros() -> Self {
        Self {
            rows: [[T::ZERO; C]; R],
        }
    }

    /// The matrix with every element `value`.
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
    #[must_use]
    pub fn transpose(&self) -> Mat<C, R, T> {
        let mut t = Mat::<C, R, T>::zeros();
        self.transpose_into(&mut t);
        t
    }

    /// Writes the transpose into `out`, in place (no matrix-sized temporary,
    /// so it suits large matrices kept in a `Box` or a `static`).
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
    #[must_use]
    pub fn matmul<const K: usize>(&self, rhs: &Mat<C, K, T>) -> Mat<R, K, T> {
        let mut out = Mat::<R, K, T>::zeros();
        for (lhs_row, out_row) in self.rows.iter().zip(out.rows.iter_mut()) {
            vec_mat(lhs_row, &rhs.rows, None, out_row);
        }
        out
    }

    /// The elementwise (Hadamard) product `self ∘ rhs` of two same-shape matrices.
    #[must_use]
    pub fn hadamard(&self, rhs: &Self) -> Self {
        let mut out = *self;
        for (o, r) in out.as_mut_slice().iter_mut().zip(rhs.as_slice()) {
            *o *= *r;
        }
        out
    }

    /// Applies `f` to every element.
    #[must_use]
    pub fn map(&self, mut f: impl FnMut(T) -> T) -> Self {
        let mut out = *self;
        for v in out.as_mut_slice() {
            *v = f(*v);
        }
        out
    }

    /// Elementwise sum.
    #[must_use]
    pub fn add(&self, rhs: &Self) -> Self {
        let mut out = *self;
        for (o, r) in out.as_mut_slice().iter_mut().zip(rhs.as_slice()) {
            *o += *r;
        }
        out
    }

    /// Elementwise difference.
    #[must_use]
    pub fn sub(&self, rhs: &Self) -> Self {
        let mut out = *self;
        for (o, r) in out.as_mut_slice().iter_mut().zip(rhs.as_slice()) {
            *o -= *r;
        }
        out
    }

    /// Every element times `s`.
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
/// The summation order of every output is the same whatever the tiling.
/// The bias joins last, one rounding at its scale: starting from it would
/// round every partial sum there (ACCURACY.md, gap 2).
///
/// It computes in `W` from `x` and `w` stored as `X` and `U`, each either
/// `W` itself or `f32` widened exactly to `f64` as it is loaded
/// ([`LoadAs`]): one kernel for the native-precision passes and the
/// mixed-precision one (`Mlp::input_grad_accurate`).
#[inline(always)]
pub(crate) fn vec_mat_map<W: Real, X: LoadAs<W>, U: LoadAs<W>, const I: usize, const O: usize>(
    x: &[X; I],
    w: &[[U; O]; I],
    bias: Option<&[U; O]>,
    pivot: Option<usize>,
    mut emit: impl FnMut(usize, W::Simd),
) {
    let lanes = <W::Simd as Vector>::LANES;
    let mut start = 0;
    while start + 4 * lanes <= O {
        vec_mat_tile::<W, X, U, I, O, 4>(x, w, bias, pivot, start, &mut emit);
        start += 4 * lanes;
    }
    while start < O {
        vec_mat_tile::<W, X, U, I, O, 1>(x, w, bias, pivot, start, &mut emit);
        start += lanes;
    }
}

/// `N` consecutive output chunks of [`vec_mat_map`] from column `start`.
#[inline(always)]
fn vec_mat_tile<
    T: Real,
    X: LoadAs<T>,
    U: LoadAs<T>,
    const I: usize,
    const O: usize,
    const N: usize,
>(
    x: &[X; I],
    w: &[[U; O]; I],
    bias: Option<&[U; O]>,
    pivot: Option<usize>,
    start: usize,
    emit: &mut impl FnMut(usize, T::Simd),
) {
    let lanes = <T::Simd as Vector>::LANES;
    let splat = <T::Simd as Vector>::splat;
    let flat = w.as_flattened();
    let chunk = |c: usize| start + c * lanes;
    let row = |i: usize, c: usize| U::load_over(flat, i * O + chunk(c));
    let half = splat(T::from_f64(0.5));
    let base: [T::Simd; N] = core::array::from_fn(|c| match pivot {
        Some(p) => row(p, c) * half,
        None => splat(T::ZERO),
    });
    // w_i − w_p halved when pivoting, w_i otherwise.
    let term = |i: usize, c: usize| match pivot {
        Some(_) => row(i, c).mul_add(half, -base[c]),
        None => row(i, c),
    };
    // Each chain starts with a plain product, as `Mlp`'s register kernel
    // does (an FMA onto +0 would turn a −0 product into +0), peeled out of
    // the loop (built with `array::from_fn` it made the 784→128→10 pass 1.7×
    // slower).
    let mut even = [splat(T::ZERO); N];
    let mut odd = [splat(T::ZERO); N];
    let mut i = 0;
    if I >= 2 {
        let (x0, x1) = (splat(x[0].widen()), splat(x[1].widen()));
        for c in 0..N {
            even[c] = x0 * term(0, c);
            odd[c] = x1 * term(1, c);
        }
        i = 2;
    }
    while i + 1 < I {
        let (x0, x1) = (splat(x[i].widen()), splat(x[i + 1].widen()));
        for c in 0..N {
            even[c] = x0.mul_add(term(i, c), even[c]);
            odd[c] = x1.mul_add(term(i + 1, c), odd[c]);
        }
        i += 2;
    }
    if i < I {
        let x0 = splat(x[i].widen());
        for (c, acc) in even.iter_mut().enumerate() {
            *acc = if i == 0 {
                x0 * term(i, c)
            } else {
                x0.mul_add(term(i, c), *acc)
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
/// row's last chunk is loaded zero-padded, never past the row, so it meets
/// zero-padded lanes of `v` and no other row's weights. Every output is
/// summed in the same order whatever the tiling. `w` is stored as `U`
/// (see [`vec_mat_map`]).
#[inline(always)]
pub(crate) fn mat_vec_map<W: Real, U: LoadAs<W>, const I: usize, const K: usize>(
    w: &[[U; K]; I],
    v: &[W; K],
    mut emit: impl FnMut(usize, W),
) {
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

/// Rows `i0 .. i0 + R` of [`mat_vec_map`].
#[inline(always)]
fn mat_vec_tile<W: Real, U: LoadAs<W>, const I: usize, const K: usize, const R: usize>(
    w: &[[U; K]; I],
    v: &[W; K],
    i0: usize,
    emit: &mut impl FnMut(usize, W),
) {
    let lanes = <W::Simd as Vector>::LANES;
    let mut acc = [<W::Simd as Vector>::splat(W::ZERO); R];
    let mut start = 0;
    while start < K {
        let vv = <W as LoadAs<W>>::load_over(v, start);
        for (r, a) in acc.iter_mut().enumerate() {
            *a = U::load_over(&w[i0 + r], start).mul_add(vv, *a);
        }
        start += lanes;
    }
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
    vec_mat_map::<T, T, T, I, O>(x, w, bias, None, |start, v| {
        simd::store(v, &mut out[start..])
    });
}

#[cfg(test)]
mod tests {
    //! `mat_vec_map` against plain f64 dot products. It is reached publicly
    //! only through layers too big for the other tests' shapes (a transposed
    //! copy that would overflow L2), so its tails are checked here on small
    //! odd sizes: rows left over after the eight-row tiles, and a last chunk
    //! shorter than a vector.

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
            mat_vec_map::<W, U, I, K>(&w, &v, |i, s| {
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
        mat_vec_map::<f32, f32, 9, 12>(&w, &v, |i, s| {
            seen += 1;
            if i % 2 == 0 {
                assert_eq!(s, 11.0, "row {i}");
            } else {
                assert!(s.is_nan(), "row {i}: {s}");
            }
        });
        assert_eq!(seen, 9);
    }
}
