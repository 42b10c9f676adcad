//! Many samples per call: one sample per SIMD lane.
//!
//! A block of [`F32_BATCH_LANES`] (16; 32 on AVX-512 builds) `f32` or
//! [`F64_BATCH_LANES`] (8; 16) `f64` samples, two registers' worth (see
//! `simd::F32b`), is transposed into structure-of-arrays form
//! (`X[i]` holds input `i` of every sample in the block), and the whole
//! forward and backward pass runs on whole vectors: every lane does useful
//! work whatever `IN`, `HID` and `OUT` are, the sigmoids and exponentials
//! are evaluated a block at a time, and the softmax max and sums are
//! *vertical* (across `θ`'s entries, within each lane), so no horizontal
//! reduction is needed. Weights enter as broadcast scalars.
//!
//! The numerics are those of the single-sample kernels: the same
//! cancellation-free forms and the same special-value behaviour; only the
//! order of the products' sums differs (one accumulator per output here, two
//! FMA chains there), so results agree to a few ulp; an input that
//! overflows a product can meet `∞ − ∞` in one order and not the other, and
//! with infinite weights a product `0·∞` (NaN) can depend on whether a
//! hidden unit rounds to exactly 0. One more difference: the softmax's
//! `e^(θ_j − m)` takes `θ_j − m` as rounded, where the single-sample
//! kernels recover its rounding error (see `ExpSums::add_lanes` for why),
//! so on a sample whose logits lie far apart (`|θ_j − m|` of tens) the
//! small `ŷ_j` can differ by up to `|θ_j − m|·ε/2` relative. A final
//! partial block is padded with zero inputs whose results are discarded, so
//! there is no scalar remainder loop.
//!
//! A block whose targets mix class labels and probability rows is computed
//! one sample at a time with [`Mlp::input_grad`] ([`Mlp::loss`] for
//! [`Mlp::loss_batch`]).

use crate::error::Error;
use crate::mat::RowVec;
use crate::math::exp::exp_v_normal;
use crate::math::ln::ln_1p_v;
use crate::math::sigmoid::sigmoid_and_slope_v;
use crate::math::softmax::{
    class_e, pivot_unscale, soft_d_theta, soft_d_theta_at_max, soft_loss_shifts, soft_loss_terms,
    soft_loss_v, soft_y_sum_lanes, ExpSums,
};
use crate::mlp::{Grads, Mlp};
use crate::real::Real;
use crate::simd::Vector;
use crate::simd::{self, F32_BATCH_LANES, F64_BATCH_LANES, MAX_NARROW_LANES};
use crate::target::Target;

/// Checks that `targets`, `losses` and `dxs` all have `n` elements (the
/// length of `xs`), the contract of every batched entry point.
pub(crate) fn check_batch<A, B, C>(
    n: usize,
    targets: &[A],
    losses: &[B],
    dxs: &[C],
) -> Result<(), Error> {
    check_lengths(
        n,
        [
            ("targets", targets.len()),
            ("losses", losses.len()),
            ("dxs", dxs.len()),
        ],
    )
}

/// The length check of [`Mlp::loss_batch`] and [`Mlp::par_loss_batch`]:
/// `targets` and `losses` must have `n` elements.
fn check_loss_batch<A, B>(n: usize, targets: &[A], losses: &[B]) -> Result<(), Error> {
    check_lengths(n, [("targets", targets.len()), ("losses", losses.len())])
}

/// Checks that each named argument's length is `n`: the first that is not
/// is the error.
fn check_lengths<const K: usize>(
    n: usize,
    lengths: [(&'static str, usize); K],
) -> Result<(), Error> {
    for (argument, got) in lengths {
        if got != n {
            return Err(Error::BatchLength {
                argument,
                expected: n,
                got,
            });
        }
    }
    Ok(())
}

/// What a block's targets are.
enum BlockTargets<V: Vector, const OUT: usize> {
    /// Every sample has a class label: each lane holds its label index as a
    /// bit pattern (see `label_mask`).
    Class(V),
    /// Every sample has a probability row; `Y[j]` across the block.
    Probs([V; OUT]),
}

impl<const IN: usize, const HID: usize, const OUT: usize, T: Real> Mlp<IN, HID, OUT, T> {
    /// Whether this shape's batch blocks take two registers' worth of
    /// lanes (`T::Batch`) where that type is a pair of registers (AVX-512
    /// builds; see `simd::F32b`): when a block's lane arrays (`2·IN +
    /// 2·HID + OUT` vectors) take at most [`PAIR_BLOCK_BYTES`]. Larger
    /// shapes run blocks of one register: their lane arrays live on the
    /// stack (784→128→10: 100 KB for `x` alone in two zmm of `f32`), and
    /// their long products keep the FMA pipes busy without a second block.
    const PAIR_BLOCKS: bool = !<T::Batch as Vector>::PAIR
        || (2 * IN + 2 * HID + OUT) * core::mem::size_of::<T::Batch>() <= PAIR_BLOCK_BYTES;

    /// The samples in one block of the batch kernels for this shape:
    /// [`crate::F32_BATCH_LANES`] or [`crate::F64_BATCH_LANES`], or half of
    /// that for a network too large for blocks of two registers on AVX-512
    /// builds. Parts of `par_input_grad_batch` (feature `rayon`) start at multiples of
    /// it.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Mlp, F32_BATCH_LANES};
    /// assert_eq!(Mlp::<5, 3, 5>::BATCH_LANES, F32_BATCH_LANES);
    /// assert!(Mlp::<784, 128, 10>::BATCH_LANES <= F32_BATCH_LANES);
    /// ```
    pub const BATCH_LANES: usize = if Self::PAIR_BLOCKS {
        <T::Batch as Vector>::LANES
    } else {
        <<T::Batch as Vector>::Half as Vector>::LANES
    };

    /// Loss and `dL/dx` for every sample of a batch: `losses[n]` and `dxs[n]`
    /// are those of `xs[n]` with `targets[n]`. Allocation-free.
    ///
    /// Results agree with [`Mlp::input_grad`]'s to within a few ulp: the
    /// kernels are the same, only the order of some sums differs, and the
    /// rounding of `θ_j − m` is not recovered (see the module docs).
    ///
    /// # Errors
    ///
    /// [`Error::BatchLength`] when `targets`, `losses` or `dxs` do not have
    /// `xs.len()` elements; nothing is written then.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Mat, Mlp, RowVec, Target};
    /// let mlp: Mlp<2, 2, 3> = Mlp::new(
    ///     Mat::from_rows([[1.0, -1.0], [0.5, 2.0]]), RowVec::zeros(),
    ///     Mat::from_rows([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]]), RowVec::zeros(),
    /// );
    /// let xs = [RowVec::from_row([0.1, 0.2]), RowVec::from_row([-1.0, 3.0])];
    /// let targets = [Target::class(0)?, Target::class(2)?];
    /// let mut losses = [0.0; 2];
    /// let mut dxs = [RowVec::zeros(); 2];
    /// mlp.input_grad_batch(&xs, &targets, &mut losses, &mut dxs)?;
    /// let (l1, g1) = mlp.input_grad(&xs[1], &targets[1]);
    /// assert!((losses[1] - l1).abs() <= 1e-6 * l1.abs());
    /// assert!((dxs[1][(0, 1)] - g1[(0, 1)]).abs() <= 1e-6);
    ///
    /// let mut short = [0.0; 1];
    /// assert!(mlp.input_grad_batch(&xs, &targets, &mut short, &mut dxs).is_err());
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    pub fn input_grad_batch(
        &self,
        xs: &[RowVec<IN, T>],
        targets: &[Target<OUT, T>],
        losses: &mut [T],
        dxs: &mut [RowVec<IN, T>],
    ) -> Result<(), Error> {
        check_batch(xs.len(), targets, losses, dxs)?;
        self.input_grad_blocks(xs, targets, losses, dxs);
        Ok(())
    }

    /// The loss of every sample of a batch: `losses[n]` is that of `xs[n]`
    /// with `targets[n]`. Allocation-free.
    ///
    /// For evaluating a batch (a validation loss, a search over inputs):
    /// the kernel of [`Mlp::input_grad_batch`] without the backward pass
    /// and without a `dL/dx` buffer. The losses are `input_grad_batch`'s,
    /// bit for bit (a NaN loss may be another NaN), and agree with
    /// [`Mlp::loss`]'s to within a few ulp (see the module docs).
    ///
    /// # Errors
    ///
    /// [`Error::BatchLength`] when `targets` or `losses` do not have
    /// `xs.len()` elements; nothing is written then.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Mat, Mlp, RowVec, Target};
    /// let mlp: Mlp<2, 2, 3> = Mlp::new(
    ///     Mat::from_rows([[1.0, -1.0], [0.5, 2.0]]), RowVec::zeros(),
    ///     Mat::from_rows([[1.0, 0.0, -1.0], [0.0, 1.0, 1.0]]), RowVec::zeros(),
    /// );
    /// let xs = [RowVec::from_row([0.1, 0.2]), RowVec::from_row([-1.0, 3.0])];
    /// let targets = [Target::class(0)?, Target::probs([0.2, 0.3, 0.5])];
    /// let mut losses = [0.0; 2];
    /// mlp.loss_batch(&xs, &targets, &mut losses)?;
    /// let mean = losses.iter().sum::<f32>() / 2.0;
    /// let one = mlp.loss(&xs[1], &targets[1]);
    /// assert!((losses[1] - one).abs() <= 1e-6 * one.abs() && mean > 0.0);
    ///
    /// let mut short = [0.0; 1];
    /// assert!(mlp.loss_batch(&xs, &targets, &mut short).is_err());
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    pub fn loss_batch(
        &self,
        xs: &[RowVec<IN, T>],
        targets: &[Target<OUT, T>],
        losses: &mut [T],
    ) -> Result<(), Error> {
        check_loss_batch(xs.len(), targets, losses)?;
        self.loss_blocks(xs, targets, losses);
        Ok(())
    }

    /// [`Mlp::loss_batch`] after its length check: slices of equal length,
    /// in blocks of [`Mlp::BATCH_LANES`] samples.
    fn loss_blocks(&self, xs: &[RowVec<IN, T>], targets: &[Target<OUT, T>], losses: &mut [T]) {
        if Self::PAIR_BLOCKS {
            self.loss_blocks_in::<T::Batch>(xs, targets, losses);
        } else {
            self.loss_blocks_in::<<T::Batch as Vector>::Half>(xs, targets, losses);
        }
    }

    /// [`Mlp::loss_blocks`] in the lane type `V`:
    /// the full blocks, then the partial one (as [`blocks`] splits them).
    #[inline(always)]
    fn loss_blocks_in<V: Vector<Elem = T>>(
        &self,
        xs: &[RowVec<IN, T>],
        targets: &[Target<OUT, T>],
        losses: &mut [T],
    ) {
        let lanes = <V as Vector>::LANES;
        let blocks = xs
            .chunks(lanes)
            .zip(targets.chunks(lanes))
            .zip(losses.chunks_mut(lanes));
        for ((xb, tb), lb) in blocks {
            if xb.len() == lanes {
                self.loss_block_apart::<V, true>(xb, tb, lb);
            } else {
                self.loss_block_apart::<V, false>(xb, tb, lb);
            }
        }
    }

    /// One block of [`Mlp::loss_blocks_in`], as
    /// [`Mlp::input_grad_block_apart`] runs one: [`Mlp::block_pass`]
    /// without its backward pass, the losses scattered from its lanes, or
    /// [`Mlp::loss`] per sample for mixed targets.
    #[inline(never)]
    fn loss_block_apart<V: Vector<Elem = T>, const FULL: bool>(
        &self,
        xb: &[RowVec<IN, T>],
        tb: &[Target<OUT, T>],
        lb: &mut [T],
    ) {
        let n = if FULL { <V as Vector>::LANES } else { xb.len() };
        let (xb, tb, lb) = (&xb[..n], &tb[..n], &mut lb[..n]);
        match self.block_targets::<V>(tb) {
            Some(bt) => {
                let mut pass = BlockPass::zeroed();
                self.block_pass::<V, false>(xb, &bt, &mut pass);
                pass.scatter_losses(lb);
            }
            None => {
                for ((x, t), l) in xb.iter().zip(tb).zip(lb.iter_mut()) {
                    *l = self.loss(x, t);
                }
            }
        }
    }

    /// [`Mlp::input_grad_batch`] after its length check: slices of equal
    /// length, block by block, in blocks of [`Mlp::BATCH_LANES`] samples.
    fn input_grad_blocks(
        &self,
        xs: &[RowVec<IN, T>],
        targets: &[Target<OUT, T>],
        losses: &mut [T],
        dxs: &mut [RowVec<IN, T>],
    ) {
        if Self::PAIR_BLOCKS {
            self.input_grad_blocks_in::<T::Batch>(xs, targets, losses, dxs);
        } else {
            self.input_grad_blocks_in::<<T::Batch as Vector>::Half>(xs, targets, losses, dxs);
        }
    }

    /// [`Mlp::input_grad_blocks`] in the lane type `V`.
    #[inline(always)]
    fn input_grad_blocks_in<V: Vector<Elem = T>>(
        &self,
        xs: &[RowVec<IN, T>],
        targets: &[Target<OUT, T>],
        losses: &mut [T],
        dxs: &mut [RowVec<IN, T>],
    ) {
        let (blocks, rest) = blocks::<T, V, IN, OUT>(xs, targets, losses, dxs);
        for (xb, tb, lb, db) in blocks {
            self.input_grad_block_apart::<V, true>(xb, tb, lb, db);
        }
        if let Some((xb, tb, lb, db)) = rest {
            self.input_grad_block_apart::<V, false>(xb, tb, lb, db);
        }
    }

    /// One block of [`Mlp::input_grad_blocks`], vectorized when its targets
    /// are uniform, one sample at a time when they are mixed: one function
    /// for the full blocks (`FULL`: the block length is the constant lane
    /// count, see [`blocks`]) and one for the partial block. Each has its
    /// own copy of the kernel and its own stack frame, so the two copies'
    /// lane arrays are never on the stack together (inlined into one
    /// caller, a debug build kept both in one frame, and 784→128→10
    /// overflowed its 1 MiB test stack).
    #[inline(never)]
    fn input_grad_block_apart<V: Vector<Elem = T>, const FULL: bool>(
        &self,
        xb: &[RowVec<IN, T>],
        tb: &[Target<OUT, T>],
        lb: &mut [T],
        db: &mut [RowVec<IN, T>],
    ) {
        let n = if FULL { <V as Vector>::LANES } else { xb.len() };
        let (xb, tb, lb, db) = (&xb[..n], &tb[..n], &mut lb[..n], &mut db[..n]);
        match self.block_targets::<V>(tb) {
            Some(bt) => self.input_grad_block(xb, &bt, lb, db),
            None => {
                for (((x, t), l), d) in xb.iter().zip(tb).zip(lb.iter_mut()).zip(db.iter_mut()) {
                    (*l, *d) = self.input_grad(x, t);
                }
            }
        }
    }

    /// The block's targets in lane form, or `None` for a mixed block.
    ///
    /// A lane's label is read only where its kind has been checked, and
    /// the first target of the other kind ends the gather. The compiler
    /// then inserts each label straight from memory into its lane; a
    /// "mixed" flag set in passing instead left it, per lane, a choice
    /// between the label and a default to convert and move through
    /// registers (about 40 instructions more per 16-sample block of 5→3→5,
    /// session 35). The probability rows' gather keeps the flag: written
    /// the same way, it made the labels' block slower
    /// (docs/benchmarks-history-27-41.md, "Session 35").
    #[inline(always)]
    fn block_targets<V: Vector<Elem = T>>(
        &self,
        tb: &[Target<OUT, T>],
    ) -> Option<BlockTargets<V, OUT>> {
        let zero = <V as Vector>::splat(T::ZERO);
        match tb.first() {
            // A label travels as its bit pattern (see `label_mask`), which
            // holds 32 bits in every element type.
            Some(Target::Class(_)) if OUT as u64 > 1 << 32 => None,
            Some(Target::Class(_)) => {
                let mut labels = zero.to_array();
                try_for_lanes::<V>(tb.len(), |s| match &tb[s] {
                    Target::Class(l) => {
                        // `l < OUT ≤ 2^32` (above): the cast is exact.
                        labels.as_mut()[s] = <V as Vector>::elem_of_bits(l.get() as u32);
                        Some(())
                    }
                    Target::Probs(_) => None,
                })?;
                Some(BlockTargets::Class(<V as Vector>::from_array(labels)))
            }
            Some(Target::Probs(_)) => {
                let mut cols = [zero.to_array(); OUT];
                let mut mixed = false;
                for_lanes::<V>(tb.len(), |s| match &tb[s] {
                    Target::Probs(y) => {
                        for (col, &v) in cols.iter_mut().zip(y.row()) {
                            col.as_mut()[s] = v;
                        }
                    }
                    Target::Class(_) => mixed = true,
                });
                // A plain loop: `cols.map(V::from_array)` stayed a call to
                // `try_map` for the pair types, which copied the columns
                // through memory (14% of the soft-target batch's time).
                let mut probs = [V::ZERO; OUT];
                for (p, col) in probs.iter_mut().zip(&cols) {
                    *p = V::from_array(*col);
                }
                (!mixed).then_some(BlockTargets::Probs(probs))
            }
            None => None,
        }
    }

    /// One block of at most a batch vector's lanes of samples, fully
    /// vectorized: [`Mlp::block_pass`], then each sample's loss and `dL/dx`
    /// back to its own row.
    #[inline(always)]
    fn input_grad_block<V: Vector<Elem = T>>(
        &self,
        xb: &[RowVec<IN, T>],
        targets: &BlockTargets<V, OUT>,
        losses: &mut [T],
        dxs: &mut [RowVec<IN, T>],
    ) {
        let mut pass = BlockPass::zeroed();
        self.block_pass::<V, true>(xb, targets, &mut pass);
        pass.scatter(losses, dxs);
    }

    /// The forward and backward pass of one block of at most a batch
    /// vector's lanes of samples, one sample per lane; without `BACKWARD`,
    /// the forward pass and the loss only (`pass.loss`; `h`, `x` and the
    /// slopes in `g_a` are written too, `d_theta` holds the exponentials,
    /// 0 at the label of a lane shifted by its label's logit; `dx` is left
    /// as it was). The compiler had dropped the unread
    /// backward pass of small shapes on its own (their pass is a local it
    /// sees through) but kept large ones': 784→128→10's `loss_batch` took
    /// as long as `input_grad_batch` until `BACKWARD` skipped it.
    ///
    /// Stack: the arrays are `O(LANES·(IN + HID + OUT))`, and each serves
    /// twice (σ'(a) waits in `g_a`, the exps and `q` in `d_theta`), so a
    /// large shape holds fewer of them (the measured needs are in
    /// `tests/stack_safety.rs` and `tests/large_shapes.rs`).
    ///
    /// The pass fills storage its caller owns: returned by value, it was
    /// built in a local and copied into the caller's (LLVM kept both
    /// copies, and the call needed about 1.8 times the stack it needs now),
    /// at the same speed (5→3→5: 9.30–9.35 ns per sample both ways, best of
    /// 51, alternating). Inlined, the borrowed storage still stays in
    /// registers for small shapes. (Lending the arrays to a closure instead
    /// made the 5→3→5 batch 9% and its gradient sums 19% slower: medians of
    /// five alternating criterion rounds.)
    #[inline(always)]
    fn block_pass<V: Vector<Elem = T>, const BACKWARD: bool>(
        &self,
        xb: &[RowVec<IN, T>],
        targets: &BlockTargets<V, OUT>,
        pass: &mut BlockPass<V, IN, HID, OUT>,
    ) {
        let splat = <V as Vector>::splat;
        let zero = splat(T::ZERO);
        let BlockPass {
            x,
            h,
            d_theta,
            g_a,
            loss,
            dx,
        } = pass;

        // Transpose the block: x[i] holds input i of every sample (whole
        // squares first, see `square_inputs`; then a column at a time, so
        // each vector is assembled in registers).
        let done = lanes_from_rows::<T, V, IN>(xb, x);
        for (i, xi) in x.iter_mut().enumerate().skip(done) {
            let mut col = zero.to_array();
            for_lanes::<V>(xb.len(), |s| col.as_mut()[s] = xb[s].row()[i]);
            *xi = <V as Vector>::from_array(col);
        }

        // Forward: a = x·W1 + b1, (h, σ'(a)), θ = h·W2 + b2; σ'(a) waits in
        // `g_a` until the backward pass scales it into dL/da.
        lanes_times_rows(x, self.w1t.rows(), Some(self.b1.row()), None, |k, a| {
            (h[k], g_a[k]) = sigmoid_and_slope_v::<T, V>(a);
        });
        let mut theta = [zero; OUT];
        lanes_times_rows(h, self.w2t.rows(), Some(self.b2.row()), None, |j, t| {
            theta[j] = t
        });

        // Softmax statistics, vertically (within each lane); the exps wait
        // in `d_theta`, which the backward pass turns into dL/dθ in place.
        // Class labels on a network whose weights bound its logits (see
        // `Mlp::logits_bounded`) shift each lane by its label's own logit, as
        // the one-sample kernels do: every `θ_j − θ_l` lies within half of
        // `exp`'s normal range, so no maximum, no clamps, no ties to count;
        // `e_l = 1`, and `d_theta` takes the exponentials off the label (see
        // `class_e`), whose sum is `ρ` (each `θ_j − θ_l` rounded, as
        // `ExpSums::add_lanes` rounds `θ_j − m`). Other blocks shift by the
        // maximum.
        let label_shift = match targets {
            BlockTargets::Class(labels) if self.logits_bounded() => Some(labels),
            _ => None,
        };
        let mut sums = ExpSums::<T, V>::new();
        let (m, sum, rho) = if let Some(labels) = label_shift {
            let theta_l =
                by_class_mask::<T, V, OUT>(|j| label_mask::<T, V>(labels, j), |j| theta[j]);
            let mut rho = splat(-T::ZERO);
            for (j, (ej, &t)) in d_theta.iter_mut().zip(&theta).enumerate() {
                let e = exp_v_normal::<T, V>(t - theta_l);
                *ej = class_e::<T, V>(e, label_mask::<T, V>(labels, j));
                rho = rho + *ej;
            }
            (theta_l, rho + splat(T::ONE), rho)
        } else {
            let mut m = splat(T::NEG_INFINITY);
            for &t in &theta {
                m = m.max(t);
            }
            unrolled::<OUT>(|j| d_theta[j] = sums.add_lanes(theta[j], m));
            (m, sums.sum, sums.rest_lanes())
        };
        let ln_s = ln_1p_v::<T, V>(rho);

        // Backward to dL/dh, then dL/da = dL/dh ∘ σ'(a). (`dL/dθ` is formed
        // for the parameter gradients; `input_grad_batch` never reads it,
        // and the compiler drops it there.)
        *loss = match targets {
            BlockTargets::Class(labels) => {
                // Each lane's label as a mask per class, formed where it is
                // used (a compare is cheaper than keeping OUT masks live
                // across the backward product). Shifted by the label's
                // logit, m − θ_l = 0 (or NaN, and then so is ρ): the loss is
                // ln s. Shifted by the maximum, e_j off the label (see
                // `class_e`) replaces e_j in `d_theta`.
                let is_label = |j: usize| label_mask::<T, V>(labels, j);
                let loss = if label_shift.is_some() {
                    ln_s
                } else {
                    if BACKWARD {
                        for (j, ej) in d_theta.iter_mut().enumerate() {
                            *ej = class_e::<T, V>(*ej, is_label(j));
                        }
                    }
                    (m - by_class_mask::<T, V, OUT>(is_label, |j| theta[j])) + ln_s
                };
                // W2[k][l] of each lane's own label, then Σ_j e_j·(W2[k][j] − W2[k][l])/2
                // (halved so the difference of two finite weights stays finite),
                // divided by s/2 (see `pivot_unscale`).
                if BACKWARD {
                    let w2_at_label =
                        |k: usize| label_half::<T, V, OUT>(&self.w2.rows()[k], labels);
                    lanes_times_rows(d_theta, self.w2.rows(), None, Some(&w2_at_label), |k, u| {
                        g_a[k] = pivot_unscale::<T, V>(u, sum) * g_a[k]
                    });
                    // dL/dθ = q = e_off/s off the label and −Σq on it (as the
                    // one-sample kernels form it).
                    let mut q_sum = zero;
                    for dj in d_theta.iter_mut() {
                        *dj = *dj / sum;
                        q_sum = q_sum + *dj;
                    }
                    for (j, dj) in d_theta.iter_mut().enumerate() {
                        *dj = <V as Vector>::select(is_label(j), -q_sum, *dj);
                    }
                }
                loss
            }
            BlockTargets::Probs(y) => {
                // dL/dθ replaces e_j in `d_theta`; the product takes it
                // against each lane's first maximal logit, doubled (see
                // `pivot_unscale`).
                // Shifted by the maximum: `soft_d_theta_at_max` at the lane's
                // maximal logit when it is not tied, as in the one-sample
                // kernels (see `soft_exact_at_shift`), with plain sums of y;
                // the product takes the plain form there too (its term
                // vanishes), and the other form follows it, for `grads_batch`.
                let single = sums.single_max_lanes();
                let at_max = |j: usize| theta[j].simd_eq(m);
                let exact = |j: usize| <V as Vector>::select(single, at_max(j), zero);
                let (sum_y, y_off) = soft_y_sum_lanes((0..OUT).map(|j| (y[j], exact(j))));
                let mut shifts = zero;
                for (j, dj) in d_theta.iter_mut().enumerate() {
                    if BACKWARD {
                        *dj = soft_d_theta::<T, V>(*dj, sum, sum_y, y[j]);
                    }
                    shifts = shifts + soft_loss_shifts::<T, V>(theta[j], y[j], m);
                }
                if BACKWARD {
                    let w2_at_max = |k: usize| pivot_half::<T, V, OUT>(&self.w2.rows()[k], at_max);
                    lanes_times_rows(d_theta, self.w2.rows(), None, Some(&w2_at_max), |k, u| {
                        g_a[k] = (u + u) * g_a[k]
                    });
                    let y_max = by_class_mask::<T, V, OUT>(exact, |j| y[j]);
                    let d_max = soft_d_theta_at_max(sum, rho, y_max, y_off);
                    for (j, dj) in d_theta.iter_mut().enumerate() {
                        *dj = <V as Vector>::select(exact(j), d_max, *dj);
                    }
                }
                // Where Σy overflowed, the terms (see `soft_loss_v`).
                let loss = soft_loss_v::<T, V>(shifts, sum_y, ln_s);
                let overflowed = sum_y.neg_abs().simd_eq(splat(T::NEG_INFINITY));
                if overflowed.any() {
                    let terms = (0..OUT).fold(zero, |acc, j| {
                        acc + soft_loss_terms::<T, V>(theta[j], y[j], m, ln_s)
                    });
                    <V as Vector>::select(overflowed, terms, loss)
                } else {
                    loss
                }
            }
        };

        // dL/dx = dL/da · W1ᵀ.
        if BACKWARD {
            lanes_times_rows(g_a, self.w1.rows(), None, None, |i, v| dx[i] = v);
        }
    }
}

/// Calls `f(j)` for every `j < N` in order, the first 16 calls written out
/// (the tests fold away, `N` being a constant), then a loop for the rest.
///
/// For a body too long for LLVM to unroll on its own: the soft-target
/// softmax's exponentials ([`ExpSums::add_lanes`], about 100 instructions
/// for a pair of ymm) stayed a loop of `OUT` passes, each reading the
/// logits back from the stack and spilling the running sums around the
/// loop's edge. Written out (5→3→5, AVX2, Zen 3, best of 51 in three code
/// layouts, three alternating rounds each): `grads_batch` with soft targets
/// 19.1–21.2 → 18.4–20.6 ns per sample, lower in every layout;
/// `input_grad_batch` with soft targets 13.2–15.4 → 12.2–15.3 ns (each
/// build is either about 12–13 or about 15 ns, by layout alone). In the
/// criterion binary (six alternating rounds, medians) the soft-target
/// sums took 80.2 → 78.2 µs per 4096 samples and the soft-target batch
/// 58.8 → 62.3 µs, both within the rounds' spread (57–66 µs): where the
/// code lies moves these blocks more than the loop did.
#[inline(always)]
fn unrolled<const N: usize>(mut f: impl FnMut(usize)) {
    macro_rules! each {
        ($($j:literal)*) => { $( if $j < N { f($j) } )* };
    }
    each!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    for j in 16..N {
        f(j)
    }
}

/// The lanes whose label is class `j`. A label travels in its lane as the
/// bit pattern of its index ([`Mlp::block_targets`]), so it needs no
/// conversion on the way in, and is compared as an integer: as floats,
/// small indices are subnormal, which a denormals-are-zero mode would read
/// as zero.
#[inline(always)]
fn label_mask<T: Real, V: Vector<Elem = T>>(labels: &V, j: usize) -> V {
    labels.bits_eq(j as u32)
}

/// In each lane, `value(j)` for the class `j < N` whose mask `is_class(j)`
/// holds there, where at most one does (0 where none does): a lane's label
/// logit, or its target at its single maximal logit. (In class order, so
/// that each select can follow the value it takes as soon as it is ready.)
#[inline(always)]
fn by_class_mask<T: Real, V: Vector<Elem = T>, const N: usize>(
    is_class: impl Fn(usize) -> V,
    value: impl Fn(usize) -> V,
) -> V {
    (0..N).fold(<V as Vector>::ZERO, |acc, j| {
        <V as Vector>::select(is_class(j), value(j), acc)
    })
}

/// `row[p]/2` in each lane, for the lane's pivot class `p`: the first `j`
/// whose mask `is_pivot(j)` holds there (the backward product's halved
/// pivot, see `softmax::pivot_unscale`; 0 in a lane no mask holds).
#[inline(always)]
fn pivot_half<T: Real, V: Vector<Elem = T>, const N: usize>(
    row: &[T; N],
    is_pivot: impl Fn(usize) -> V,
) -> V {
    let splat = <V as Vector>::splat;
    let mut w = splat(T::ZERO);
    for (j, &wj) in row.iter().enumerate().rev() {
        w = <V as Vector>::select(is_pivot(j), splat(wj), w);
    }
    w * splat(T::from_f64(0.5))
}

/// `row[l]/2` in each lane for the lane's label `l`: [`pivot_half`] over
/// the label masks, or, where [`Vector::LOOKUP16`] and the row fits 16
/// entries, [`looked_up_half`]: one permute (and a masked load of the row)
/// in place of a masked move per class, and none of the label compares.
/// The same bits either way. (17 instructions fewer per 5→3→5 block;
/// its time moved within the code-layout noise,
/// docs/benchmarks-history-27-41.md, "Session 35". On AMD Zen 3, AVX2,
/// where a lookup is two permutes and a blend: 10.76–10.81 → 10.57–10.64
/// ns per sample, best of 51 in three code layouts, session 38.)
#[inline(always)]
fn label_half<T: Real, V: Vector<Elem = T>, const N: usize>(row: &[T; N], labels: &V) -> V {
    if N <= 16 && <V as Vector>::LOOKUP16 {
        looked_up_half::<T, V, N>(row, labels)
    } else {
        pivot_half::<T, V, N>(row, |j| label_mask::<T, V>(labels, j))
    }
}

/// `row[l]/2` in each lane, `l` the lane's label, by a lookup of the
/// label's bit pattern (see [`label_mask`]) in `row` padded to 16 entries
/// (`N ≤ 16`: the lookup reads the index's low four bits).
#[inline(always)]
fn looked_up_half<T: Real, V: Vector<Elem = T>, const N: usize>(row: &[T; N], labels: &V) -> V {
    let mut table = [T::ZERO; 16];
    let n = N.min(16);
    table[..n].copy_from_slice(&row[..n]);
    <V as Vector>::lookup16(&table, *labels) * <V as Vector>::splat(T::from_f64(0.5))
}

/// How many leading inputs of a block of `n` samples [`lanes_from_rows`]
/// and [`rows_from_lanes`] move in squares of `w = T::Narrow::LANES`
/// inputs by `w` samples (eight `f32`, four `f64`): the whole squares of a
/// full block, none for a partial block or one narrower than `w` (5→3→5).
/// The callers move the rest a lane at a time.
///
/// A square is `w` contiguous loads, one in-register transpose and `w`
/// contiguous stores. Left to per-lane loops, LLVM moves a wide layer's
/// inputs into lanes with `vgatherqps` on AVX-512 (and `dL/dx` back with
/// `vscatterqps`), which Zen 4 runs slowly. With the squares, the
/// 784→128→10 batch went from 4.49 to 3.90 µs per sample there (AVX-512
/// build, best of 51, three alternating rounds), and from 4.52 to 4.24 µs
/// in an AVX2 build on the same core.
#[inline(always)]
const fn square_inputs<T: Real, V: Vector<Elem = T>, const IN: usize>(n: usize) -> usize {
    let w = <T::Narrow as Vector>::LANES;
    if n == <V as Vector>::LANES {
        IN / w * w
    } else {
        0
    }
}

/// The most inputs [`permutes_full_blocks`] moves between rows and lanes by
/// permutes: a full block takes that route only when [`square_inputs`]
/// leaves all its inputs, that is with fewer than `T::Narrow::LANES` of
/// them (at most 7 in `f32`, 3 in `f64`).
const PERMUTED_INPUTS_MAX: usize = MAX_NARROW_LANES - 1;

/// Whether [`lanes_from_rows`] and [`rows_from_lanes`] move all the inputs
/// of a full block by permutes instead, for this shape and build: a network
/// too narrow for squares (fewer than `w` inputs, 5→3→5 in `f32`; so at
/// most [`PERMUTED_INPUTS_MAX`]), on AVX-512 builds, where a two-register
/// permute is one instruction, and for `f32` on AVX2 builds, where it is
/// two `vpermps` and a blend ([`Vector::PERMUTE2`]). A type whose halves
/// permute and itself does not ([`halves_permute`]: the AVX-512 pairs, and
/// `f32x16` on AVX2, two ymm) moves each half's samples on its own, in the
/// half type.
///
/// The block's `IN·LANES` values are contiguous in memory, so they load as
/// `IN` vectors, one load each (through `Mat`'s flat view of the rows;
/// LLVM writes `dL/dx` back in whole halves of vectors), and each column
/// is picked out of them with
/// one permute per pair of vectors and a blend between pairs: for 5→3→5,
/// 15 permutes and 10 blends each way. Moved a lane at a time, the 5→3→5
/// block function held 144 inserts and extracts, which Intel cores run on
/// their one shuffle port, beside half the arithmetic. Measured on an
/// Intel Xeon (Emerald Rapids, AVX-512): 31–32 → 26 cycles per sample of
/// the 5→3→5 batch (best of 51, alternating), and `seed_batch4096`
/// 41.4–45.0 → 32.8–34.5 µs (criterion, three alternating rounds). On
/// AMD Zen 3 (AVX2, session 38), where the block moved its 160 values a
/// lane at a time through the stack (286 scalar loads and stores of 1834
/// instructions per 16-sample block; 1583 instructions this way): 13.7–14.0
/// → 10.8 ns per sample (best of 51, two code layouts, three alternating
/// rounds).
///
/// The row moves test it in a `const` block (and the block's length at run
/// time), so that a debug build, which keeps the locals of every function
/// it compiles, compiles the permute route only for the shapes that take
/// it: its arrays sat in every shape's block frame (331 KB of
/// 784→128→10's, `f32`, AVX2).
const fn permutes_full_blocks<T: Real, V: Vector<Elem = T>, const IN: usize>() -> bool {
    (<V as Vector>::PERMUTE2 || halves_permute::<V>())
        && square_inputs::<T, V, IN>(<V as Vector>::LANES) == 0
}

/// Whether `V` moves rows a half at a time, each in [`Vector::Half`]: a
/// type without a permute of its own whose halves have one (the AVX-512
/// pairs; `f32x16` on AVX2, two ymm).
const fn halves_permute<V: Vector>() -> bool {
    !<V as Vector>::PERMUTE2
        && <<V as Vector>::Half as Vector>::LANES < <V as Vector>::LANES
        && <<V as Vector>::Half as Vector>::PERMUTE2
}

/// The pairs of source vectors a [`pick_lanes`] may read.
const PICK_PAIRS: usize = PERMUTED_INPUTS_MAX.div_ceil(2);

/// For each pair `k` of source vectors, the [`Vector::permute2`] indices
/// of the lanes it supplies, and those lanes as bits.
type Picks = [([u8; 16], u32); PICK_PAIRS];

/// The [`Picks`] that move a block of `lanes` samples of `n` inputs
/// between rows and lanes, with `p` a value's place in memory order:
/// lane `t` of column `j` (`to_lanes`) is value `p = t·n + j`, in vector
/// `p / lanes` of the rows; lane `t` of vector `j` of the rows is
/// `p = j·lanes + t`, lane `p / n` of column `p mod n`.
const fn picks(n: usize, lanes: usize, j: usize, to_lanes: bool) -> Picks {
    let mut out = [([0; 16], 0); PICK_PAIRS];
    // Wider blocks never take this route; the tables are still evaluated
    // for them, so they must not fail.
    if n > PERMUTED_INPUTS_MAX || lanes > 16 {
        return out;
    }
    let mut t = 0;
    while t < lanes {
        let (r, pos) = if to_lanes {
            ((t * n + j) / lanes, (t * n + j) % lanes)
        } else {
            ((j * lanes + t) % n, (j * lanes + t) / n)
        };
        out[r / 2].0[t] = ((r % 2) * lanes + pos) as u8;
        out[r / 2].1 |= 1 << t;
        t += 1;
    }
    out
}

/// Runs `$body` once for each `$j` of `0, 1, …, 6` below `$n`, with `$j`
/// a constant and `$picks` its [`picks`]`($n, LANES, $j, $to_lanes)`,
/// evaluated at compile time (built at run time, in a loop or a closure,
/// the tables cost more than the moves they save).
macro_rules! for_each_pick {
    ($v:ident, $n:expr, $to_lanes:expr, |$j:ident, $picks:ident| $body:block) => {{
        const _: () = assert!(PERMUTED_INPUTS_MAX == 7);
        for_each_pick!(@ $v, $n, $to_lanes, $j, $picks, $body, 0 1 2 3 4 5 6);
    }};
    (@ $v:ident, $n:expr, $to_lanes:expr, $j:ident, $picks:ident, $body:block, $($k:literal)*) => {
        $(if $k < $n {
            let $j: usize = $k;
            let $picks: &Picks = const {
                &picks($n, <$v as Vector>::LANES, $k, $to_lanes)
            };
            $body
        })*
    };
}

/// Lanes picked out of `src` by `picks`: one [`Vector::permute2`] per
/// pair of `src`'s vectors, and a blend of each pair's lanes into the
/// first pair's.
#[inline(always)]
fn pick_lanes<V: Vector, const N: usize>(src: &[V; N], picks: &Picks) -> V {
    let mut out = V::ZERO;
    for (k, &(idx, bits)) in picks.iter().enumerate().take(N.div_ceil(2)) {
        let picked = V::permute2(src[2 * k], src[(2 * k + 1).min(N - 1)], idx);
        out = if k == 0 {
            picked
        } else {
            V::select(V::lane_mask(bits), picked, out)
        };
    }
    out
}

/// The permute route of [`lanes_from_rows`] for one register's block:
/// `flat` holds its `IN·V::LANES` values in memory order.
#[inline(always)]
fn permuted_from_rows<T: Real, V: Vector<Elem = T>, const IN: usize>(flat: &[T]) -> [V; IN] {
    let lanes = V::LANES;
    let flat: [V; IN] = core::array::from_fn(|q| simd::load_at::<V>(flat, q * lanes, T::ZERO));
    let mut x = [V::ZERO; IN];
    for_each_pick!(V, IN, true, |i, picks| {
        x[i] = pick_lanes::<V, IN>(&flat, picks);
    });
    x
}

/// The permute route of [`rows_from_lanes`] for one register's block.
#[inline(always)]
fn permuted_to_rows<T: Real, V: Vector<Elem = T>, const IN: usize>(
    x: &[V; IN],
    xb: &mut [RowVec<IN, T>],
) {
    let lanes = V::LANES;
    for_each_pick!(V, IN, false, |q, picks| {
        let f = pick_lanes::<V, IN>(x, picks);
        for (t, &v) in f.to_array().as_ref().iter().enumerate() {
            let p = q * lanes + t;
            xb[p / IN].row_mut()[p % IN] = v;
        }
    });
}

/// [`lanes_from_rows`] of a block that takes the permutes
/// ([`permutes_full_blocks`]): all `IN` inputs.
#[inline(always)]
fn lanes_from_permuted_rows<T: Real, V: Vector<Elem = T>, const IN: usize>(
    xb: &[RowVec<IN, T>],
    x: &mut [V; IN],
) {
    let lanes = <V as Vector>::LANES;
    // The block's values in memory order, as `IN` vectors: lane `t` of
    // vector `q` is value `q·LANES + t` of the rows read as one slice,
    // one load per vector. (Read element by element, `xb[p / IN]`'s
    // `p % IN`, they are as consecutive, but LLVM merged them only in
    // part: per vector a 32-byte and a 16-byte load and four
    // one-element blends: 36 instructions more per 5→3→5 block, and
    // 2–4% of its time in seven of nine builds of different code
    // layout, session 35; unclear in one, none in one.)
    let all = RowVec::<IN, T>::flat(xb);
    // A `const` test: a debug build keeps a run-time one's untaken
    // branch, and its frame (784→128→10's blocks then overflowed
    // `tests/stack_safety.rs`'s 1 MiB).
    if const { halves_permute::<V>() } {
        let (lo, hi) = all.split_at(lanes / 2 * IN);
        let lo = permuted_from_rows::<T, <V as Vector>::Half, IN>(lo);
        let hi = permuted_from_rows::<T, <V as Vector>::Half, IN>(hi);
        for (xi, (l, h)) in x.iter_mut().zip(lo.into_iter().zip(hi)) {
            *xi = <V as Vector>::from_halves(l, h);
        }
    } else {
        *x = permuted_from_rows::<T, V, IN>(all);
    }
}

/// Moves the leading [`square_inputs`] inputs of a block from the
/// samples' rows into lanes (`x[i]` lane `s` = input `i` of sample `s`),
/// or all of them when [`permutes_full_blocks`]; returns how many it moved.
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
fn lanes_from_rows<T: Real, V: Vector<Elem = T>, const IN: usize>(
    xb: &[RowVec<IN, T>],
    x: &mut [V; IN],
) -> usize {
    let (w, lanes) = (<T::Narrow as Vector>::LANES, <V as Vector>::LANES);
    if const { permutes_full_blocks::<T, V, IN>() } && xb.len() == <V as Vector>::LANES {
        lanes_from_permuted_rows::<T, V, IN>(xb, x);
        return IN;
    }
    let done = square_inputs::<T, V, IN>(xb.len());
    // Every lane of `cols[..w]` is written for each `i0` before it is read.
    let mut cols = [<V as Vector>::ZERO.to_array(); MAX_NARROW_LANES];
    for i0 in (0..done).step_by(w) {
        for g in 0..lanes / w {
            let mut square = [<T::Narrow as Vector>::ZERO; MAX_NARROW_LANES];
            for (r, row) in square[..w].iter_mut().enumerate() {
                *row = simd::load::<T::Narrow>(&xb[g * w + r].row()[i0..i0 + w], T::ZERO);
            }
            <T::Narrow as Vector>::transpose(&mut square[..w]);
            for (col, &v) in cols[..w].iter_mut().zip(&square) {
                simd::store(v, &mut col.as_mut()[g * w..(g + 1) * w]);
            }
        }
        for (k, col) in cols[..w].iter().enumerate() {
            x[i0 + k] = <V as Vector>::from_array(*col);
        }
    }
    done
}

/// [`rows_from_lanes`] of a block that takes the permutes
/// ([`permutes_full_blocks`]): all `IN` inputs.
#[inline(always)]
fn permuted_rows_from_lanes<T: Real, V: Vector<Elem = T>, const IN: usize>(
    x: &[V; IN],
    xb: &mut [RowVec<IN, T>],
) {
    let lanes = <V as Vector>::LANES;
    // Vector `q` of the block's values in memory order, lane `t`: value
    // `p = q·LANES + t`, input `p mod IN` of sample `p / IN`.
    if const { halves_permute::<V>() } {
        // A plain loop, each vector split once (an array `map` can stay
        // a call that copies through memory, as the soft targets'
        // gather did, `Mlp::block_targets`).
        let mut lo = [<V::Half as Vector>::ZERO; IN];
        let mut hi = lo;
        for (v, (l, h)) in x.iter().zip(lo.iter_mut().zip(hi.iter_mut())) {
            (*l, *h) = v.halves();
        }
        let (xlo, xhi) = xb.split_at_mut(lanes / 2);
        permuted_to_rows::<T, <V as Vector>::Half, IN>(&lo, xlo);
        permuted_to_rows::<T, <V as Vector>::Half, IN>(&hi, xhi);
    } else {
        permuted_to_rows::<T, V, IN>(x, xb);
    }
}

/// The inverse of [`lanes_from_rows`]: the leading [`square_inputs`]
/// inputs of a block (or all of them when [`permutes_full_blocks`]) from lanes
/// back to the samples' rows (`xb[s]` element `i` = `x[i]` lane `s`);
/// returns how many it moved.
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
fn rows_from_lanes<T: Real, V: Vector<Elem = T>, const IN: usize>(
    x: &[V; IN],
    xb: &mut [RowVec<IN, T>],
) -> usize {
    let (w, lanes) = (<T::Narrow as Vector>::LANES, <V as Vector>::LANES);
    if const { permutes_full_blocks::<T, V, IN>() } && xb.len() == <V as Vector>::LANES {
        permuted_rows_from_lanes::<T, V, IN>(x, xb);
        return IN;
    }
    let done = square_inputs::<T, V, IN>(xb.len());
    let mut cols = [<V as Vector>::ZERO.to_array(); MAX_NARROW_LANES];
    for i0 in (0..done).step_by(w) {
        for (col, v) in cols[..w].iter_mut().zip(&x[i0..]) {
            *col = v.to_array();
        }
        for g in 0..lanes / w {
            let mut square = [<T::Narrow as Vector>::ZERO; MAX_NARROW_LANES];
            for (v, col) in square[..w].iter_mut().zip(&cols) {
                *v = simd::load::<T::Narrow>(&col.as_ref()[g * w..(g + 1) * w], T::ZERO);
            }
            <T::Narrow as Vector>::transpose(&mut square[..w]);
            for (r, &v) in square[..w].iter().enumerate() {
                simd::store(v, &mut xb[g * w + r].row_mut()[i0..i0 + w]);
            }
        }
    }
    done
}

/// What [`Mlp::block_pass`] leaves in lanes (one sample per lane).
struct BlockPass<V: Vector, const IN: usize, const HID: usize, const OUT: usize> {
    /// The inputs (zero in the padding lanes of a partial block).
    x: [V; IN],
    /// `σ(a)`.
    h: [V; HID],
    /// `dL/dθ`.
    d_theta: [V; OUT],
    /// `dL/da`.
    g_a: [V; HID],
    /// The loss.
    loss: V,
    /// `dL/dx`.
    dx: [V; IN],
}

impl<T: Real, V: Vector<Elem = T>, const IN: usize, const HID: usize, const OUT: usize>
    BlockPass<V, IN, HID, OUT>
{
    /// Each sample's loss into `losses` (as many as it holds).
    #[inline(always)]
    fn scatter_losses(&self, losses: &mut [T]) {
        let loss = self.loss.to_array();
        for_lanes::<V>(losses.len(), |s| losses[s] = loss.as_ref()[s]);
    }

    /// Every lane zero: storage for [`Mlp::block_pass`] to fill.
    #[inline(always)]
    fn zeroed() -> Self {
        let zero = <V as Vector>::ZERO;
        Self {
            x: [zero; IN],
            h: [zero; HID],
            d_theta: [zero; OUT],
            g_a: [zero; HID],
            loss: zero,
            dx: [zero; IN],
        }
    }

    /// Each sample's loss and `dL/dx` back to its own row (as many samples
    /// as `losses` and `dxs` both hold).
    #[inline(always)]
    fn scatter(&self, losses: &mut [T], dxs: &mut [RowVec<IN, T>]) {
        let n = dxs.len().min(losses.len());
        self.scatter_losses(&mut losses[..n]);
        let done = rows_from_lanes::<T, V, IN>(&self.dx, &mut dxs[..n]);
        for (i, dxi) in self.dx.iter().enumerate().skip(done) {
            let col = dxi.to_array();
            for_lanes::<V>(n, |s| dxs[s].row_mut()[i] = col.as_ref()[s]);
        }
    }
}

/// The most bytes of lane arrays for which a shape's batch blocks take two
/// registers' worth of lanes on AVX-512 builds ([`Mlp::BATCH_LANES`]):
/// 32 KiB, 256 vectors of two zmm.
const PAIR_BLOCK_BYTES: usize = 32 * 1024;

/// The most lanes of any batch vector type (the row buffers of
/// [`Mlp::grads_blocks`] are this long).
const MAX_BATCH_LANES: usize = 32;
const _: () = assert!(F32_BATCH_LANES <= MAX_BATCH_LANES && F64_BATCH_LANES <= MAX_BATCH_LANES);

impl<const IN: usize, const HID: usize, const OUT: usize, T: Real> Mlp<IN, HID, OUT, T> {
    /// [`Mlp::grads_batch`]'s accumulation after its length check and
    /// `grads.clear()`: per-sample losses and `dL/dx` into `losses` and
    /// `dxs`, their sums and the parameter gradients added into `grads`.
    ///
    /// Blocks with uniform targets run [`Mlp::block_pass`] (one sample per
    /// lane); a mixed block runs the one-sample kernels and adds its samples
    /// into `grads` directly. The uniform blocks' sums are formed in one of
    /// two ways, chosen by the size of the gradients:
    ///
    /// - small networks ([`LaneSums::FITS`]): every gradient entry keeps one
    ///   partial sum per lane ([`LaneSums`]), so a block costs one
    ///   multiply-add per entry and lane, with no transposes; the lanes'
    ///   sums are added into `grads` at the end, each by pairwise halving;
    /// - larger ones: each block's samples go back to rows and
    ///   [`add_samples`] adds them into `grads`, sample after sample.
    ///
    /// Either way the order of every sum is fixed by the batch alone.
    pub(crate) fn grads_blocks(
        &self,
        xs: &[RowVec<IN, T>],
        targets: &[Target<OUT, T>],
        losses: &mut [T],
        dxs: &mut [RowVec<IN, T>],
        grads: &mut Grads<IN, HID, OUT, T>,
    ) {
        if Self::PAIR_BLOCKS {
            self.grads_blocks_in::<T::Batch>(xs, targets, losses, dxs, grads);
        } else {
            self.grads_blocks_in::<<T::Batch as Vector>::Half>(xs, targets, losses, dxs, grads);
        }
    }

    /// [`Mlp::grads_blocks`] in the lane type `V`.
    #[inline(always)]
    fn grads_blocks_in<V: Vector<Elem = T>>(
        &self,
        xs: &[RowVec<IN, T>],
        targets: &[Target<OUT, T>],
        losses: &mut [T],
        dxs: &mut [RowVec<IN, T>],
        grads: &mut Grads<IN, HID, OUT, T>,
    ) {
        if LaneSums::<V, IN, HID, OUT>::FITS {
            self.grads_blocks_in_lanes::<V>(xs, targets, losses, dxs, grads);
        } else {
            self.grads_each_block::<V>(xs, targets, losses, dxs, grads, &mut ThroughRows);
        }
    }

    /// [`Mlp::grads_blocks`] with per-lane partial sums (in this function's
    /// own stack frame, which large shapes never call for).
    #[inline(never)]
    fn grads_blocks_in_lanes<V: Vector<Elem = T>>(
        &self,
        xs: &[RowVec<IN, T>],
        targets: &[Target<OUT, T>],
        losses: &mut [T],
        dxs: &mut [RowVec<IN, T>],
        grads: &mut Grads<IN, HID, OUT, T>,
    ) {
        let mut sums = LaneSums::<V, IN, HID, OUT>::new();
        self.grads_each_block(xs, targets, losses, dxs, grads, &mut sums);
        sums.add_into(grads);
    }

    /// The block loop of [`Mlp::grads_blocks`]: a uniform block runs
    /// [`Mlp::block_pass`], scatters its losses and `dL/dx`, and hands the
    /// pass to `add`; a mixed block runs the one-sample kernels and adds
    /// each sample into `grads` with [`add_samples`].
    ///
    /// The blocks share one [`BlockPass`], zeroed once per call:
    /// [`Mlp::block_pass`] writes each of its vectors whole (`x` zero in a
    /// partial block's padding lanes), so nothing of one block reaches the
    /// next. Zeroed in each block, as `input_grad_batch` does, it was a
    /// `memset` call per block (LLVM could not see that the pass overwrites
    /// its storage), and the 5→3→5 gradient sums took 16.8 against 15.9 ns
    /// per sample (best of 51, 64-sample batches, Zen 3). `input_grad_batch`
    /// keeps a pass per block: its values need not reach memory, and shared
    /// they cost it 11.3 against 10.8 ns.
    #[inline(always)]
    fn grads_each_block<V: Vector<Elem = T>>(
        &self,
        xs: &[RowVec<IN, T>],
        targets: &[Target<OUT, T>],
        losses: &mut [T],
        dxs: &mut [RowVec<IN, T>],
        grads: &mut Grads<IN, HID, OUT, T>,
        add: &mut impl AddBlock<T, V, IN, HID, OUT>,
    ) {
        let (blocks, rest) = blocks::<T, V, IN, OUT>(xs, targets, losses, dxs);
        let mut pass = BlockPass::zeroed();
        for block in blocks {
            self.grads_block_apart::<V, true>(block, grads, add, &mut pass);
        }
        if let Some(block) = rest {
            self.grads_block_apart::<V, false>(block, grads, add, &mut pass);
        }
    }

    /// One block of [`Mlp::grads_each_block`], in a function of its own
    /// for the full blocks and one for the partial block (as
    /// [`Mlp::input_grad_block_apart`]).
    #[inline(never)]
    fn grads_block_apart<V: Vector<Elem = T>, const FULL: bool>(
        &self,
        (xb, tb, lb, db): Block<'_, IN, OUT, T>,
        grads: &mut Grads<IN, HID, OUT, T>,
        add: &mut impl AddBlock<T, V, IN, HID, OUT>,
        pass: &mut BlockPass<V, IN, HID, OUT>,
    ) {
        let n = if FULL { <V as Vector>::LANES } else { xb.len() };
        let (xb, tb, lb, db) = (&xb[..n], &tb[..n], &mut lb[..n], &mut db[..n]);
        match self.block_targets::<V>(tb) {
            Some(bt) => {
                self.block_pass::<V, true>(xb, &bt, pass);
                pass.scatter(lb, db);
                add.add_block(pass, xb, lb, db, grads);
            }
            None => self.grads_mixed_block((xb, tb, lb, db), grads),
        }
    }

    /// A block of mixed targets in [`Mlp::grads_block_apart`]: the
    /// one-sample kernels, each sample added into `grads` with
    /// [`add_samples`]. Out of line, so that the uniform blocks' function
    /// does not change with this rarer path's code (inlined, a change to
    /// [`add_outers`] moved the 5→3→5 gradient sums by 8%, their hot path
    /// unchanged).
    #[cold]
    #[inline(never)]
    fn grads_mixed_block(
        &self,
        (xb, tb, lb, db): Block<'_, IN, OUT, T>,
        grads: &mut Grads<IN, HID, OUT, T>,
    ) {
        for (((x, t), l), d) in xb.iter().zip(tb).zip(lb.iter_mut()).zip(db.iter_mut()) {
            let hid = self.hidden(x, Some(t));
            let back = self.backward(&hid, t);
            *l = back.loss;
            self.input_grad_product::<T>(&back.d_a, d);
            add_samples(
                grads,
                core::slice::from_ref(x),
                &[hid.h],
                &[back.d_a],
                &[back.d_theta],
                core::slice::from_ref(l),
                core::slice::from_ref(d),
            );
        }
    }
}

/// Where [`Mlp::grads_each_block`] adds each uniform block's pass: into
/// per-lane partial sums ([`LaneSums`]) or, through rows, into the
/// gradients themselves ([`ThroughRows`]). A trait rather than a closure:
/// the block loop calls it from two functions (full blocks and the partial
/// one), and a closure called from two places was compiled out of line,
/// its stack frame on top of the kernel's.
trait AddBlock<T: Real, V: Vector<Elem = T>, const IN: usize, const HID: usize, const OUT: usize> {
    /// Adds a block's gradients (`pass`, with its samples `xb` and their
    /// losses and `dL/dx`) into `self` or `grads`.
    fn add_block(
        &mut self,
        pass: &BlockPass<V, IN, HID, OUT>,
        xb: &[RowVec<IN, T>],
        losses: &[T],
        dxs: &[RowVec<IN, T>],
        grads: &mut Grads<IN, HID, OUT, T>,
    );
}

/// [`add_block_rows`] as an [`AddBlock`].
struct ThroughRows;

impl<T: Real, V: Vector<Elem = T>, const IN: usize, const HID: usize, const OUT: usize>
    AddBlock<T, V, IN, HID, OUT> for ThroughRows
{
    #[inline(always)]
    fn add_block(
        &mut self,
        pass: &BlockPass<V, IN, HID, OUT>,
        xb: &[RowVec<IN, T>],
        losses: &[T],
        dxs: &[RowVec<IN, T>],
        grads: &mut Grads<IN, HID, OUT, T>,
    ) {
        add_block_rows(pass, xb, losses, dxs, grads);
    }
}

impl<T: Real, V: Vector<Elem = T>, const IN: usize, const HID: usize, const OUT: usize>
    AddBlock<T, V, IN, HID, OUT> for LaneSums<V, IN, HID, OUT>
{
    #[inline(always)]
    fn add_block(
        &mut self,
        pass: &BlockPass<V, IN, HID, OUT>,
        xb: &[RowVec<IN, T>],
        _: &[T],
        _: &[RowVec<IN, T>],
        _: &mut Grads<IN, HID, OUT, T>,
    ) {
        self.add(pass, xb.len());
    }
}

/// Adds a uniform block's samples into `grads` through rows: the pass's
/// lanes go back to one row per sample, and [`add_samples`] adds them.
#[inline(always)]
fn add_block_rows<
    T: Real,
    V: Vector<Elem = T>,
    const IN: usize,
    const HID: usize,
    const OUT: usize,
>(
    pass: &BlockPass<V, IN, HID, OUT>,
    xb: &[RowVec<IN, T>],
    losses: &[T],
    dxs: &[RowVec<IN, T>],
    grads: &mut Grads<IN, HID, OUT, T>,
) {
    let n = xb.len().min(losses.len()).min(MAX_BATCH_LANES);
    let mut h = [[T::ZERO; HID]; MAX_BATCH_LANES];
    let mut g_a = [[T::ZERO; HID]; MAX_BATCH_LANES];
    let mut d_theta = [[T::ZERO; OUT]; MAX_BATCH_LANES];
    lanes_to_rows::<T, V, HID>(&pass.h, n, &mut h);
    lanes_to_rows::<T, V, HID>(&pass.g_a, n, &mut g_a);
    lanes_to_rows::<T, V, OUT>(&pass.d_theta, n, &mut d_theta);
    add_samples(
        grads,
        &xb[..n],
        &h[..n],
        &g_a[..n],
        &d_theta[..n],
        &losses[..n],
        &dxs[..n],
    );
}

/// Every gradient of a batch as one partial sum per lane: lane `s` of an
/// entry is the sum, in block order, of the entry's terms from the samples
/// in lane `s` of every block.
struct LaneSums<V: Vector, const IN: usize, const HID: usize, const OUT: usize> {
    loss: V,
    x: [V; IN],
    w1: [[V; HID]; IN],
    b1: [V; HID],
    w2: [[V; OUT]; HID],
    b2: [V; OUT],
}

impl<T: Real, V: Vector<Elem = T>, const IN: usize, const HID: usize, const OUT: usize>
    LaneSums<V, IN, HID, OUT>
{
    /// Whether the partial sums of this shape fit in 16 KiB (half of a
    /// typical L1 data cache): then a block's update, one multiply-add per
    /// entry and lane, stays in L1 and costs less than turning the block
    /// back into rows. Beyond it, [`add_samples`]'s register tiles win.
    const FITS: bool = core::mem::size_of::<Self>() <= 16 * 1024;

    #[inline(always)]
    fn new() -> Self {
        let zero = <V as Vector>::ZERO;
        Self {
            loss: zero,
            x: [zero; IN],
            w1: [[zero; HID]; IN],
            b1: [zero; HID],
            w2: [[zero; OUT]; HID],
            b2: [zero; OUT],
        }
    }

    /// Adds a block's first `n` samples (its other lanes are padding):
    /// `w1[i][k] += x_i·dL/da_k`, `w2[k][j] += h_k·dL/dθ_j`, and the biases,
    /// `dL/dx` and the loss, each lane on its own.
    #[inline(always)]
    fn add(&mut self, pass: &BlockPass<V, IN, HID, OUT>, n: usize) {
        let splat = <V as Vector>::splat;
        let zero = <V as Vector>::ZERO;
        // Padding lanes carry a made-up sample's gradients: zero them (x
        // is already zero there, h is not).
        let live = <V as Vector>::iota().simd_lt(splat(T::from_f64(n as f64)));
        let keep = |v: V| {
            if n >= <V as Vector>::LANES {
                v
            } else {
                <V as Vector>::select(live, v, zero)
            }
        };
        let g_a = pass.g_a.map(keep);
        let d_theta = pass.d_theta.map(keep);
        self.loss = self.loss + keep(pass.loss);
        for (s, &d) in self.x.iter_mut().zip(&pass.dx) {
            *s = *s + keep(d);
        }
        for (row, &xi) in self.w1.iter_mut().zip(&pass.x) {
            for (s, &g) in row.iter_mut().zip(&g_a) {
                *s = xi.mul_add(g, *s);
            }
        }
        for (s, &g) in self.b1.iter_mut().zip(&g_a) {
            *s = *s + g;
        }
        for (row, &hk) in self.w2.iter_mut().zip(&pass.h) {
            for (s, &d) in row.iter_mut().zip(&d_theta) {
                *s = hk.mul_add(d, *s);
            }
        }
        for (s, &d) in self.b2.iter_mut().zip(&d_theta) {
            *s = *s + d;
        }
    }

    /// Adds every entry's lanes into `grads`, by pairwise halving
    /// ([`Vector::reduce_add`], in registers). A sequential fold over the
    /// lanes, lane 0 first, was a chain of 16 scalar adds per entry: 12.6%
    /// of a 64-sample `grads_batch` of 5→3→5 on Zen 3 (18.8 against 17.0 ns
    /// per sample, best of 51).
    fn add_into(&self, grads: &mut Grads<IN, HID, OUT, T>) {
        grads.loss += self.loss.reduce_add();
        for (parts, lanes) in [
            (grads.x.as_mut_slice(), self.x.as_slice()),
            (grads.w1.as_mut_slice(), self.w1.as_flattened()),
            (grads.b1.as_mut_slice(), self.b1.as_slice()),
            (grads.w2.as_mut_slice(), self.w2.as_flattened()),
            (grads.b2.as_mut_slice(), self.b2.as_slice()),
        ] {
            for (g, v) in parts.iter_mut().zip(lanes) {
                *g += v.reduce_add();
            }
        }
    }
}

/// `rows[s][k] = cols[k]`'s lane `s`, for the first `n` lanes.
#[inline(always)]
fn lanes_to_rows<T: Real, V: Vector<Elem = T>, const K: usize>(
    cols: &[V; K],
    n: usize,
    rows: &mut [[T; K]; MAX_BATCH_LANES],
) {
    for (k, col) in cols.iter().enumerate() {
        let col = col.to_array();
        for_lanes::<V>(n, |s| rows[s][k] = col.as_ref()[s]);
    }
}

/// Adds samples' contributions to `grads`, sample after sample in order:
/// the loss, `dL/dx`, `dL/dW1 += xᵀ·dL/da`, `dL/db1 += dL/da`,
/// `dL/dW2 += hᵀ·dL/dθ`, `dL/db2 += dL/dθ` (row `s` of every slice is
/// sample `s`). Each stretch of output stays in a register across all the
/// samples, so a block of samples reads and writes `grads` once.
#[inline(always)]
fn add_samples<T: Real, const IN: usize, const HID: usize, const OUT: usize>(
    grads: &mut Grads<IN, HID, OUT, T>,
    x: &[RowVec<IN, T>],
    h: &[[T; HID]],
    g_a: &[[T; HID]],
    d_theta: &[[T; OUT]],
    losses: &[T],
    dxs: &[RowVec<IN, T>],
) {
    for &l in losses {
        grads.loss += l;
    }
    add_rows(dxs.iter().map(RowVec::row), &mut grads.x.rows_mut()[0]);
    add_rows(g_a.iter(), &mut grads.b1.rows_mut()[0]);
    add_rows(d_theta.iter(), &mut grads.b2.rows_mut()[0]);
    add_outers(x.iter().map(RowVec::row), g_a, grads.w1.rows_mut());
    add_outers(h.iter(), d_theta, grads.w2.rows_mut());
}

/// `out += Σ_s rows[s]`, the rows added one after another.
#[inline(always)]
fn add_rows<'a, T: Real, const C: usize>(
    rows: impl Iterator<Item = &'a [T; C]> + Clone,
    out: &mut [T; C],
) {
    let lanes = <T::Simd as Vector>::LANES;
    let mut start = 0;
    while start < C {
        let mut acc = simd::load_at::<T::Simd>(out, start, T::ZERO);
        for row in rows.clone() {
            acc = acc + simd::load_at::<T::Simd>(row, start, T::ZERO);
        }
        simd::store_at(acc, out, start);
        start += lanes;
    }
}

/// `out += Σ_s u[s]ᵀ·v[s]` (a sum of outer products), each entry receiving
/// `u[s][i]·v[s][j]` by one multiply-add per sample, in sample order: the
/// arithmetic of one `outer` update per sample, with the output read and
/// written once per call instead of once per sample.
///
/// The output goes through register tiles of [`OUTER_ROWS`] rows by
/// [`OUTER_VECS`] vectors ([`add_outer_tile`]), then narrower ones at the
/// edges. Each entry's sum is one chain of multiply-adds, as many as there
/// are samples; a tile keeps eight such chains in flight, where walking
/// one vector of output at a time left one, and each sample's `v` vectors
/// serve every row of the tile. The 784→128→10 gradient sums (`dL/dW1`
/// takes 16 samples per call there) went from 9.5 to 7.8 µs per sample
/// (best of 51, 64-sample batches, AVX2 on Zen 3); tiles of 4 rows by 3
/// vectors gained 1% more. The tiles build their arrays by loops: with
/// `core::array::from_fn` LLVM left the loads' bounds tests in the sample
/// loop and the accumulators in memory, and the sums took 14.8 µs.
#[inline(always)]
fn add_outers<'a, T: Real, const R: usize, const C: usize>(
    u: impl Iterator<Item = &'a [T; R]> + Clone,
    v: &[[T; C]],
    out: &mut [[T; C]; R],
) {
    let (tiled, rest) = out.split_at_mut(R / OUTER_ROWS * OUTER_ROWS);
    for (t, rows) in tiled.chunks_exact_mut(OUTER_ROWS).enumerate() {
        let rows: &mut [[T; C]; OUTER_ROWS] = rows.try_into().expect("chunks are exact");
        add_outer_rows(u.clone(), v, t * OUTER_ROWS, rows);
    }
    for (k, row) in rest.iter_mut().enumerate() {
        add_outer_rows(u.clone(), v, tiled.len() + k, core::array::from_mut(row));
    }
}

/// Rows of output in one register tile of [`add_outers`].
const OUTER_ROWS: usize = 2;
/// Vectors of output per row in one register tile of [`add_outers`]: with
/// [`OUTER_ROWS`], eight accumulators, the four `v` vectors of a sample
/// and a broadcast take 13 of AVX2's 16 registers.
const OUTER_VECS: usize = 4;

/// [`add_outers`] on the `RT` rows `i0..` of the output: whole tiles of
/// [`OUTER_VECS`] vectors, then one vector at a time.
#[inline(always)]
fn add_outer_rows<'a, T: Real, const R: usize, const C: usize, const RT: usize>(
    u: impl Iterator<Item = &'a [T; R]> + Clone,
    v: &[[T; C]],
    i0: usize,
    rows: &mut [[T; C]; RT],
) {
    let lanes = <T::Simd as Vector>::LANES;
    let mut start = 0;
    while start + OUTER_VECS * lanes <= C {
        add_outer_tile::<T, R, C, RT, OUTER_VECS>(u.clone(), v, i0, start, rows);
        start += OUTER_VECS * lanes;
    }
    while start < C {
        add_outer_tile::<T, R, C, RT, 1>(u.clone(), v, i0, start, rows);
        start += lanes;
    }
}

/// One register tile of [`add_outers`]: rows `i0..i0 + RT` (all of
/// `rows`), `VT` vectors of columns from `start`. A tile of several
/// vectors lies inside the rows and reads them through slices of its
/// constant width, so no load needs a bounds test (tested per vector, from
/// `start`, the tests stayed in the sample loop and kept the accumulators
/// in memory); a one-vector tile may stop inside a vector, whose lanes past
/// `C` are padding, neither read nor written.
///
/// Inlined only in optimised builds (as `mat::vec_mat_tile`): inlined
/// eight times unoptimised, its locals took `grads_batch`'s debug-build
/// stack past the 1 MiB of `tests/stack_safety.rs`.
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
fn add_outer_tile<'a, T: Real, const R: usize, const C: usize, const RT: usize, const VT: usize>(
    u: impl Iterator<Item = &'a [T; R]>,
    v: &[[T; C]],
    i0: usize,
    start: usize,
    rows: &mut [[T; C]; RT],
) {
    let lanes = <T::Simd as Vector>::LANES;
    let splat = <T::Simd as Vector>::splat;
    let width = if VT == 1 {
        lanes.min(C - start)
    } else {
        VT * lanes
    };
    let zero = <T::Simd as Vector>::ZERO;
    let mut acc = [[zero; VT]; RT];
    for (acc_r, row) in acc.iter_mut().zip(rows.iter()) {
        let row = &row[start..][..width];
        for (c, a) in acc_r.iter_mut().enumerate() {
            *a = simd::load_at::<T::Simd>(row, c * lanes, T::ZERO);
        }
    }
    for (us, vs) in u.zip(v) {
        let vs = &vs[start..][..width];
        let mut vv = [zero; VT];
        for (c, x) in vv.iter_mut().enumerate() {
            *x = simd::load_at::<T::Simd>(vs, c * lanes, T::ZERO);
        }
        for (r, acc_r) in acc.iter_mut().enumerate() {
            let b = splat(us[i0 + r]);
            for (a, &x) in acc_r.iter_mut().zip(&vv) {
                *a = b.mul_add(x, *a);
            }
        }
    }
    for (row, acc_r) in rows.iter_mut().zip(&acc) {
        let row = &mut row[start..][..width];
        for (c, &a) in acc_r.iter().enumerate() {
            simd::store_at(a, row, c * lanes);
        }
    }
}

/// One block of a batch: its samples, targets, losses and `dL/dx` rows.
type Block<'a, const IN: usize, const OUT: usize, T> = (
    &'a [RowVec<IN, T>],
    &'a [Target<OUT, T>],
    &'a mut [T],
    &'a mut [RowVec<IN, T>],
);

/// A batch (four slices of equal length) cut into blocks of the batch
/// vector's lane count: the full blocks, as chunks of exactly that length,
/// and the partial block at the end, if any.
///
/// Callers run one block function on the full blocks and another on the
/// partial one: in the first every per-lane loop of the kernel has a
/// constant trip count, so the transposes unroll into register moves (no
/// lane array goes through memory, where a vector assembled from scalar
/// stores waits for them to reach the cache) and need no bounds checks.
/// With one loop over all blocks (or one block function passed in as a
/// closure, which LLVM compiled once, for any length), the 5→3→5 batch ran
/// 143.7 instructions per sample against 130.5, and took 17.2 against
/// 13.8 ns per sample (the least best-of-51 time of eight alternating
/// rounds, AVX2); the 784→128→10 gradient sums, 29.4 against 24.0 million
/// instructions per batch of 256.
#[inline(always)]
fn blocks<'a, T: Real, V: Vector<Elem = T>, const IN: usize, const OUT: usize>(
    xs: &'a [RowVec<IN, T>],
    targets: &'a [Target<OUT, T>],
    losses: &'a mut [T],
    dxs: &'a mut [RowVec<IN, T>],
) -> (
    impl Iterator<Item = Block<'a, IN, OUT, T>>,
    Option<Block<'a, IN, OUT, T>>,
) {
    let lanes = <V as Vector>::LANES;
    let full = xs.len() / lanes * lanes;
    let (xs, x_rest) = xs.split_at(full);
    let (targets, t_rest) = targets.split_at(full);
    let (losses, l_rest) = losses.split_at_mut(full);
    let (dxs, d_rest) = dxs.split_at_mut(full);
    let blocks = xs
        .chunks_exact(lanes)
        .zip(targets.chunks_exact(lanes))
        .zip(
            losses
                .chunks_exact_mut(lanes)
                .zip(dxs.chunks_exact_mut(lanes)),
        )
        .map(|((x, t), (l, d))| (x, t, l, d));
    let rest = (!x_rest.is_empty()).then_some((x_rest, t_rest, l_rest, d_rest));
    (blocks, rest)
}

/// Calls `f(s)` for every lane `s < n.min(LANES)`: with a trip count the
/// compiler knows when the block is full (`n == LANES`, every block but the
/// last), so the per-lane gathers and scatters of the block kernels unroll
/// into straight-line moves with no bounds checks.
#[inline(always)]
fn for_lanes<V: Vector>(n: usize, mut f: impl FnMut(usize)) {
    try_for_lanes::<V>(n, |s| {
        f(s);
        Some(())
    });
}

/// [`for_lanes`] that stops at the first lane where `f` gives `None`, and
/// then gives `None` itself.
#[inline(always)]
fn try_for_lanes<V: Vector>(n: usize, mut f: impl FnMut(usize) -> Option<()>) -> Option<()> {
    if n == V::LANES {
        for s in 0..V::LANES {
            f(s)?;
        }
    } else {
        for s in 0..n.min(V::LANES) {
            f(s)?;
        }
    }
    Some(())
}

/// `out_k = Σ_i v[i]·(rows[k][i]/2 − pivot(k))` (with a pivot) or
/// `Σ_i v[i]·rows[k][i] (+ bias[k])` (without) for every row `k`,
/// with `v` in lanes (one sample per lane) and the weights broadcast; each
/// finished `out_k` goes to `emit(k, out_k)`. The bias joins last:
/// starting from it would round every partial sum at its scale
/// (ACCURACY.md, gap 2).
///
/// Rows are done in tiles, one accumulator per row, each loaded `v[i]`
/// reused across the tile's rows, so long products run at FMA throughput:
/// tiles of as many rows as take sixteen registers on AVX-512 (its 32
/// registers) and eight elsewhere, then four-row tiles, then lone rows.
/// A batch vector is two registers on every build (see `simd::F32b`), so
/// that is eight rows, then four, on AVX-512 and four on AVX2. An Intel
/// core with two 512-bit FMA pipes of latency 4 needs at least eight
/// chains in flight, and a tile of `R` rows issues `R + 1` loads per `R`
/// FMAs. Every output is summed in the same order (`i` ascending) whatever
/// the tiling, leftover rows included. `pivot` (the class-label form) is
/// `None` or a per-row lane vector.
///
/// Inlined only in optimised builds, like [`lanes_from_rows`] and
/// [`rows_from_lanes`]: unoptimised, every local of an inlined function
/// keeps its own stack slot, and the four products' tiles took about 60 KiB
/// of a 784→128→10 block's debug-build frame (AVX2; 432 against 370 KiB of
/// stack for `input_grad_batch`, measured in `tests/stack_safety.rs`).
#[cfg_attr(debug_assertions, inline(never))]
#[cfg_attr(not(debug_assertions), inline(always))]
fn lanes_times_rows<T: Real, V: Vector<Elem = T>, const N: usize, const K: usize>(
    v: &[V; N],
    rows: &[[T; N]; K],
    bias: Option<&[T; K]>,
    pivot: Option<&dyn Fn(usize) -> V>,
    mut emit: impl FnMut(usize, V),
) {
    // Measured on AVX2 (784→128→10, best of 51): four single-accumulator
    // rows 6.2–7.4 µs per sample; two rows with even/odd accumulators
    // 7.0–8.7 µs; four rows with even/odd (sixteen registers) spilled,
    // 12.0 µs. On AVX-512 (Intel Xeon, Emerald Rapids; 784→128→10 batch
    // of 256, least of 300 calls, four alternating rounds): eight-row tiles
    // 796–822 µs, sixteen-row tiles 764–801 µs; twenty-four spilled
    // (1.57–1.60 ms). Those were one-register batch vectors; with two
    // (session 36), eight-row tiles of two registers each.
    let registers = <V as Vector>::LANES / <T::Simd as Vector>::LANES;
    let accumulators = if cfg!(target_feature = "avx512f") {
        16
    } else {
        8
    };
    let tile_rows = accumulators / registers;
    let mut k = 0;
    if tile_rows >= 16 {
        while k + 16 <= K {
            lanes_times_rows_tile::<T, V, N, K, 16>(v, rows, k, bias, pivot, &mut emit);
            k += 16;
        }
    }
    if tile_rows >= 8 {
        while k + 8 <= K {
            lanes_times_rows_tile::<T, V, N, K, 8>(v, rows, k, bias, pivot, &mut emit);
            k += 8;
        }
    }
    while k + 4 <= K {
        lanes_times_rows_tile::<T, V, N, K, 4>(v, rows, k, bias, pivot, &mut emit);
        k += 4;
    }
    // The lone rows the four-row tiles leave (at most three) written out:
    // LLVM does not unroll the loop over them once a row's work is two
    // registers wide. (Not `unrolled`: their count, `K mod 4`, cannot be a
    // const argument on stable Rust, and `unrolled` given it at run time
    // left its closures as calls here and in the block's softmax, session
    // 41.)
    macro_rules! lone_rows {
        ($($r:literal)*) => {$(
            if k + $r < K {
                lanes_times_rows_tile::<T, V, N, K, 1>(v, rows, k + $r, bias, pivot, &mut emit);
            }
        )*};
    }
    lone_rows!(0 1 2);
}

/// Rows `k0 .. k0 + R` of [`lanes_times_rows`].
#[inline(always)]
fn lanes_times_rows_tile<
    T: Real,
    V: Vector<Elem = T>,
    const N: usize,
    const K: usize,
    const R: usize,
>(
    v: &[V; N],
    rows: &[[T; N]; K],
    k0: usize,
    bias: Option<&[T; K]>,
    pivot: Option<&dyn Fn(usize) -> V>,
    emit: &mut impl FnMut(usize, V),
) {
    let splat = <V as Vector>::splat;
    let zero = splat(T::ZERO);
    let base: [V; R] = core::array::from_fn(|r| pivot.map_or(zero, |p| p(k0 + r)));
    let mut acc = [zero; R];
    let half = splat(T::from_f64(0.5));
    let w = |r: usize, i: usize| match pivot {
        Some(_) => splat(rows[k0 + r][i]).mul_add(half, -base[r]),
        None => splat(rows[k0 + r][i]),
    };
    for (i, vi) in v.iter().enumerate() {
        for (r, a) in acc.iter_mut().enumerate() {
            *a = vi.mul_add(w(r, i), *a);
        }
    }
    for (r, a) in acc.into_iter().enumerate() {
        emit(k0 + r, bias.map_or(a, |b| a + splat(b[k0 + r])));
    }
}

/// The most bytes of per-part gradient sums [`Mlp::par_grads_batch`]
/// allocates (16 MiB): it caps the number of parts for large networks.
#[cfg(feature = "rayon")]
pub const PAR_GRADS_BYTES: usize = 1 << 24;

/// The least work [`Mlp::par_input_grad_batch`] hands to one part, in
/// multiply-adds per part with each sigmoid or exponential counted as 8
/// (see [`Mlp::PAR_PART_SAMPLES`]): 256 samples of the 5→3→5 network,
/// about 2 µs since session 28 (5 µs when it was chosen), above the
/// 0.4–1.3 µs a woken pool thread takes to start on a part.
#[cfg(feature = "rayon")]
pub const PAR_PART_WORK: usize = 24_064;

/// About the work a pool thread's start-up is worth, in the units of
/// [`PAR_PART_WORK`]: [`Mlp::par_input_grad_batch`] makes the caller's
/// own part longer than each other part by this much (96 samples of
/// 5→3→5, none for a network whose one sample outweighs it), so that the
/// caller, which starts at once, and a helper, which starts later, finish
/// together. Measured on an Intel Xeon (5→3→5, 4096 samples, two threads,
/// the variants interleaved call by call, three rounds of 50 000 calls):
/// a pool thread started on its part 0.80–0.94 µs after the call (p50);
/// the caller's part longer by 64 and 128 samples took the calls' p50
/// from 15.7–16.8 µs to 15.3–16.5 µs, by 256 no better than none.
#[cfg(feature = "rayon")]
const PAR_HEAD_START_WORK: usize = 9_024;

/// The most parts [`Mlp::par_input_grad_batch`], [`Mlp::par_loss_batch`]
/// (whose bookkeeping lives on the stack) and [`Mlp::par_grads_batch`] cut
/// a batch into.
#[cfg(feature = "rayon")]
pub const PAR_PARTS_MAX: usize = 64;

/// One part of a parallel batch, taken by whichever thread claims its index.
#[cfg(feature = "rayon")]
type Slot<P> = std::sync::Mutex<Option<P>>;

/// The slices of a batch that a part of a parallel call holds, cut
/// together at the same sample: a slice, shared or not, or a pair of such
/// (pairs nest, so a part of any number of slices is one value).
#[cfg(feature = "rayon")]
trait Cut: Sized {
    /// The first `k` samples, and the rest.
    fn cut(self, k: usize) -> (Self, Self);
}

#[cfg(feature = "rayon")]
impl<A> Cut for &[A] {
    fn cut(self, k: usize) -> (Self, Self) {
        self.split_at(k)
    }
}

#[cfg(feature = "rayon")]
impl<A> Cut for &mut [A] {
    fn cut(self, k: usize) -> (Self, Self) {
        self.split_at_mut(k)
    }
}

#[cfg(feature = "rayon")]
impl<A: Cut, B: Cut> Cut for (A, B) {
    fn cut(self, k: usize) -> (Self, Self) {
        let ((a, rest_a), (b, rest_b)) = (self.0.cut(k), self.1.cut(k));
        ((a, b), (rest_a, rest_b))
    }
}

/// Cuts a batch of `n` samples into the parts [`run_parts`] hands out:
/// `len` samples each, the first `head` samples longer, the last what is
/// left (at most [`PAR_PARTS_MAX`] parts; the caller's `len` makes sure of
/// it). Returns the slots and how many of them hold a part.
#[cfg(feature = "rayon")]
fn cut_parts<P: Cut>(
    n: usize,
    len: usize,
    head: usize,
    mut rest: P,
) -> ([Slot<P>; PAR_PARTS_MAX], usize) {
    let mut slots: [Slot<P>; PAR_PARTS_MAX] = core::array::from_fn(|_| std::sync::Mutex::new(None));
    let (mut left, mut filled) = (n, 0);
    for slot in &mut slots {
        if left == 0 {
            break;
        }
        // The first part, which the caller claims at once, is longer.
        let k = (len + if filled == 0 { head } else { 0 }).min(left);
        let part;
        (part, rest) = rest.cut(k);
        *slot = std::sync::Mutex::new(Some(part));
        left -= k;
        filled += 1;
    }
    debug_assert_eq!(left, 0, "a batch cut into more than PAR_PARTS_MAX parts");
    (slots, filled)
}

/// Busy-wait iterations before a waiting caller starts yielding its core.
#[cfg(feature = "rayon")]
const SPINS_BEFORE_YIELD: u32 = 1 << 14;

/// Runs `f` on every part, on the calling thread and up to `threads − 1`
/// rayon helper jobs, which claim parts in order from a shared counter until
/// none is left. The caller starts at once (and takes a helper's part if the
/// helper has not started by then), then waits by spinning for the parts
/// other threads are still computing: see [`Mlp::par_input_grad_batch`] for
/// why it spins.
#[cfg(feature = "rayon")]
fn run_parts<P: Send>(slots: &[Slot<P>], threads: usize, f: impl Fn(P) + Sync) {
    use core::sync::atomic::{AtomicUsize, Ordering};

    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    // Counts a part as done when dropped, so a panic cannot leave the
    // caller spinning (the scope then re-raises it).
    struct Done<'a>(&'a AtomicUsize);
    impl Drop for Done<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Release);
        }
    }
    let work = || {
        while let Some(slot) = slots.get(next.fetch_add(1, Ordering::Relaxed)) {
            let _done = Done(&done);
            if let Some(part) = slot.lock().ok().and_then(|mut g| g.take()) {
                f(part);
            }
        }
    };
    rayon::in_place_scope(|scope| {
        for _ in 1..threads.min(slots.len()) {
            scope.spawn(|_| work());
        }
        work();
        // Every part is claimed; the unfinished ones are running on other
        // threads right now.
        let mut spins = 0u32;
        while done.load(Ordering::Acquire) < slots.len() {
            if spins < SPINS_BEFORE_YIELD {
                core::hint::spin_loop();
                spins += 1;
            } else {
                std::thread::yield_now();
            }
        }
    });
}

#[cfg(feature = "rayon")]
impl<const IN: usize, const HID: usize, const OUT: usize, T: Real> Mlp<IN, HID, OUT, T> {
    /// The fewest samples [`Mlp::par_input_grad_batch`] and
    /// [`Mlp::par_loss_batch`] put in one part (before rounding up to a lane
    /// multiple): [`PAR_PART_WORK`] divided by
    /// one sample's work, `IN·HID + HID·OUT + 8·(HID + OUT)` (256 for
    /// 5→3→5; 1 for 784→128→10, whose every sample is microseconds of work).
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::Mlp;
    /// assert_eq!(Mlp::<5, 3, 5>::PAR_PART_SAMPLES, 256);
    /// assert_eq!(Mlp::<784, 128, 10>::PAR_PART_SAMPLES, 1);
    /// ```
    pub const PAR_PART_SAMPLES: usize = {
        let samples = PAR_PART_WORK / Self::WORK_PER_SAMPLE;
        if samples == 0 {
            1
        } else {
            samples
        }
    };

    /// One sample's work in the units of [`PAR_PART_WORK`],
    /// `IN·HID + HID·OUT + 8·(HID + OUT)` (at least 1).
    const WORK_PER_SAMPLE: usize = {
        let work = IN * HID + HID * OUT + 8 * (HID + OUT);
        if work == 0 {
            1
        } else {
            work
        }
    };

    /// How many samples longer than the others the caller's part of
    /// [`Mlp::par_input_grad_batch`] is: [`PAR_HEAD_START_WORK`] in whole
    /// blocks, so every part still starts at a multiple of the lane count
    /// (96 for 5→3→5, 0 for 784→128→10).
    const PAR_HEAD_START_SAMPLES: usize = {
        let lanes = Self::BATCH_LANES;
        PAR_HEAD_START_WORK / Self::WORK_PER_SAMPLE / lanes * lanes
    };

    /// [`Mlp::input_grad_batch`] split across rayon's thread pool (feature
    /// `rayon`).
    ///
    /// The batch is cut into one part per pool thread (each at least
    /// [`Mlp::PAR_PART_SAMPLES`] samples and a multiple of the lane count; at most
    /// [`PAR_PARTS_MAX`] parts), the first, which the caller takes, longer
    /// than the others by about the work a pool thread takes to start (96
    /// samples of 5→3→5, none of 784→128→10). The calling thread and one helper job per
    /// other pool thread claim parts in order from a shared counter until
    /// none is left: the caller starts on the first part at once, and if a
    /// helper has not started by the time the caller is done, the caller
    /// takes that helper's part too. It then waits only for parts other
    /// threads are already computing, and waits by spinning: waking a
    /// sleeping caller was measured at about 10 µs on this project's
    /// virtual machines, an eighth of a 4096-sample batch of the 5→3→5
    /// network. (Rayon's own scope end, which puts the caller to sleep, was
    /// measured slower; smaller parts taken dynamically, no faster.) Batches
    /// too small for two parts, and one-thread pools, run on the caller
    /// alone.
    ///
    /// A caller outside the pool (`main`, say) is one thread more than the
    /// pool has, and whenever an idle pool thread takes a job rayon wakes
    /// the sleeping ones, so on every call an idle pool thread wakes and
    /// polls beside the threads that compute. Where a few percent matter, call
    /// from a thread of the pool: inside [`rayon::ThreadPool::install`], or
    /// with the global pool built by
    /// [`rayon::ThreadPoolBuilder::use_current_thread`]. On a 2-vCPU AMD
    /// Zen 4 (5→3→5, 4096 samples, alternating rounds of 40 000 calls,
    /// `examples/par_probe.rs`) the mean call took less from a pool thread
    /// in ten rounds of eleven (1–14% less; 3% more in the other), and
    /// each pool thread's involuntary context switches went from 18 000–31 000
    /// to a few dozen; criterion's sample means, in six rounds, showed no
    /// difference.
    ///
    /// Each sample's results are bit-identical to the single-threaded call:
    /// every part starts at a multiple of the lane count, so every sample
    /// meets the same kernel in the same lane.
    ///
    /// # Errors
    ///
    /// As [`Mlp::input_grad_batch`].
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Mat, Mlp, RowVec, Target};
    /// let w1: Mat<5, 3> = Mat::from_rows([
    ///     [0.2, -0.1, 0.4], [0.5, 0.3, -0.2], [-0.3, 0.8, 0.1], [0.0, -0.5, 0.6], [0.7, 0.2, -0.4],
    /// ]);
    /// let w2: Mat<3, 5> = Mat::from_rows([
    ///     [0.3, -0.6, 0.1, 0.9, -0.2], [-0.4, 0.2, 0.5, -0.1, 0.3], [0.6, 0.1, -0.7, 0.2, 0.4],
    /// ]);
    /// let mlp = Mlp::new(w1, RowVec::splat(0.1), w2, RowVec::zeros());
    /// let n = 4096;
    /// let xs: Vec<RowVec<5>> = (0..n)
    ///     .map(|s| RowVec::from_row(core::array::from_fn(|i| ((s * 7 + i) % 13) as f32 - 6.0)))
    ///     .collect();
    /// let targets: Vec<Target<5>> = (0..n).map(|s| Target::class(s % 5)).collect::<Result<_, _>>()?;
    /// let (mut losses, mut dxs) = (vec![0.0; n], vec![RowVec::zeros(); n]);
    /// mlp.par_input_grad_batch(&xs, &targets, &mut losses, &mut dxs)?;
    ///
    /// // The same bits as the single-threaded call, whatever the pool's size.
    /// let (mut seq_losses, mut seq_dxs) = (vec![0.0; n], vec![RowVec::zeros(); n]);
    /// mlp.input_grad_batch(&xs, &targets, &mut seq_losses, &mut seq_dxs)?;
    /// assert_eq!((losses, dxs), (seq_losses, seq_dxs));
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    pub fn par_input_grad_batch(
        &self,
        xs: &[RowVec<IN, T>],
        targets: &[Target<OUT, T>],
        losses: &mut [T],
        dxs: &mut [RowVec<IN, T>],
    ) -> Result<(), Error> {
        let n = xs.len();
        check_batch(n, targets, losses, dxs)?;
        Self::par_blocks(n, ((xs, targets), (losses, dxs)), |((x, t), (l, d))| {
            self.input_grad_blocks(x, t, l, d)
        });
        Ok(())
    }

    /// Runs `f` on a batch of `n` samples as [`Mlp::par_input_grad_batch`]
    /// and [`Mlp::par_loss_batch`] split it: on the caller alone for a
    /// one-thread pool or too few samples for two parts of
    /// [`Mlp::PAR_PART_SAMPLES`], else in one part per pool thread (at most
    /// [`PAR_PARTS_MAX`]), each a multiple of the lane count long, the
    /// caller's first part longer by the head start and the last what is
    /// left.
    fn par_blocks<P: Cut + Send>(n: usize, batch: P, f: impl Fn(P) + Sync) {
        let threads = rayon::current_num_threads();
        let parts = threads.min(n / Self::PAR_PART_SAMPLES).min(PAR_PARTS_MAX);
        if threads < 2 || parts < 2 {
            return f(batch);
        }
        let lanes = Self::BATCH_LANES;
        let head = Self::PAR_HEAD_START_SAMPLES;
        let len = (n - head.min(n)).div_ceil(parts).div_ceil(lanes) * lanes;
        let (slots, filled) = cut_parts(n, len, head, batch);
        run_parts(&slots[..filled], threads, f);
    }

    /// [`Mlp::loss_batch`] split across rayon's thread pool (feature
    /// `rayon`), as [`Mlp::par_input_grad_batch`] splits its batch: the
    /// same parts, the same caller's head start (both measured on
    /// `input_grad_batch`, whose samples take longer), the same spinning
    /// wait.
    ///
    /// Each loss is bit-identical to the single-threaded call's (every part
    /// starts at a multiple of the lane count, so every sample meets the
    /// same kernel in the same lane).
    ///
    /// # Errors
    ///
    /// As [`Mlp::loss_batch`].
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::{Mlp, RowVec, Target};
    /// let mlp: Mlp<5, 3, 5> = Mlp::zeros();
    /// let xs = vec![RowVec::splat(0.5); 4096];
    /// let targets = vec![Target::class(2)?; 4096];
    /// let (mut par, mut seq) = (vec![0.0; 4096], vec![0.0; 4096]);
    /// mlp.par_loss_batch(&xs, &targets, &mut par)?;
    /// mlp.loss_batch(&xs, &targets, &mut seq)?;
    /// assert_eq!(par, seq);
    /// // Zero weights: every class is as likely, a loss of ln 5.
    /// assert!((par[4095] - 5f32.ln()).abs() < 1e-6);
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    pub fn par_loss_batch(
        &self,
        xs: &[RowVec<IN, T>],
        targets: &[Target<OUT, T>],
        losses: &mut [T],
    ) -> Result<(), Error> {
        let n = xs.len();
        check_loss_batch(n, targets, losses)?;
        Self::par_blocks(n, ((xs, targets), losses), |((x, t), l)| {
            self.loss_blocks(x, t, l)
        });
        Ok(())
    }

    /// The fewest samples [`Mlp::par_grads_batch`] puts in one part: four
    /// times [`Mlp::PAR_PART_SAMPLES`], but at least 64, so that a part's
    /// own gradient sums (zeroed, then reduced across lanes and added into
    /// the total) stay a small fraction of its work. For 5→3→5 they cost
    /// about 0.23 µs a part, 9% of a part of 256 samples: cut into 16 such
    /// parts, 4096 samples took 28 µs on two threads; in 4 parts of 1024,
    /// 23 µs (one thread: 42 µs). (Measured before session 40 added the
    /// lanes up in registers instead of lane by lane, which took about
    /// 0.1 µs off each part; the part size was not tuned again.)
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::Mlp;
    /// assert_eq!(Mlp::<5, 3, 5>::PAR_GRADS_PART_SAMPLES, 1024);
    /// assert_eq!(Mlp::<784, 128, 10>::PAR_GRADS_PART_SAMPLES, 64);
    /// ```
    pub const PAR_GRADS_PART_SAMPLES: usize = {
        let samples = 4 * Self::PAR_PART_SAMPLES;
        if samples > 64 {
            samples
        } else {
            64
        }
    };

    /// How many parts [`Mlp::par_grads_batch`] cuts a batch of `n` samples
    /// into: as many as hold [`Mlp::PAR_GRADS_PART_SAMPLES`] each, at most
    /// [`PAR_PARTS_MAX`], and at most as many gradient sums as fit in
    /// [`PAR_GRADS_BYTES`] (but always 1 for an empty batch). It depends on
    /// `n` and the network's shape only, never on the thread count.
    ///
    /// # Examples
    ///
    /// ```
    /// use constgrad::Mlp;
    /// assert_eq!(Mlp::<5, 3, 5>::par_grads_parts(0), 1);
    /// assert_eq!(Mlp::<5, 3, 5>::par_grads_parts(2047), 1);
    /// assert_eq!(Mlp::<5, 3, 5>::par_grads_parts(4096), 4);
    /// assert_eq!(Mlp::<784, 128, 10>::par_grads_parts(256), 4);
    /// // 64 parts of 64 samples, but one f64 `Grads` of this shape is
    /// // (784·128 + 784 + 128 + 128·10 + 10 + 1)·8 = 820 440 bytes: 20 fit.
    /// assert_eq!(Mlp::<784, 128, 10, f64>::par_grads_parts(1 << 20), 20);
    /// ```
    pub const fn par_grads_parts(n: usize) -> usize {
        let size = core::mem::size_of::<crate::Grads<IN, HID, OUT, T>>();
        let by_memory = PAR_GRADS_BYTES / if size == 0 { 1 } else { size };
        let mut parts = n / Self::PAR_GRADS_PART_SAMPLES;
        if parts > PAR_PARTS_MAX {
            parts = PAR_PARTS_MAX;
        }
        if parts > by_memory {
            parts = by_memory;
        }
        if parts == 0 {
            1
        } else {
            parts
        }
    }

    /// [`Mlp::grads_batch`] split across rayon's thread pool (feature `rayon`).
    ///
    /// The batch is cut into [`Mlp::par_grads_parts`] parts of equal length
    /// (rounded up to a multiple of the lane count), which the calling
    /// thread and the pool's threads claim in order as in
    /// [`Mlp::par_input_grad_batch`]. Each part sums its samples'
    /// gradients on its own, and the part sums are then added in order.
    ///
    /// Per-sample losses and `dL/dx` are bit-identical to the single-threaded
    /// call. The parameter gradients depend on the batch size and the shape
    /// only, not on the thread count (the parts do not), so they are
    /// deterministic, but differ from [`Mlp::grads_batch`]'s sequential sum
    /// by rounding. This call allocates one [`Grads`] per part (it is the one
    /// allocating entry point, like rayon itself); a batch of one part runs
    /// [`Mlp::grads_batch`]'s kernel on the caller without allocating.
    ///
    /// # Errors
    ///
    /// As [`Mlp::grads_batch`].
    ///
    /// # Examples
    ///
    /// With zero weights every sample's `ŷ` is uniform, `1/5`, and `h = σ(0)
    /// = 1/2`, so the mean gradients of 4096 samples of class 2 (four parts)
    /// are known in closed form: `dL/db2 = ŷ − y`, `dL/dW2 = hᵀ·(ŷ − y)`, and
    /// `dL/db1`, `dL/dW1` vanish since `W2 = 0`.
    ///
    /// ```
    /// use constgrad::{Grads, Mlp, Reduction, RowVec, Target};
    /// let mlp: Mlp<5, 3, 5> = Mlp::zeros();
    /// let n = 4096;
    /// assert_eq!(Mlp::<5, 3, 5>::par_grads_parts(n), 4);
    /// let xs: Vec<RowVec<5>> = (0..n).map(|s| RowVec::splat(s as f32 / 1024.0)).collect();
    /// let targets = vec![Target::class(2)?; n];
    /// let (mut losses, mut dxs) = (vec![0.0; n], vec![RowVec::zeros(); n]);
    /// let mut g = Grads::default();
    /// mlp.par_grads_batch(&xs, &targets, Reduction::Mean, &mut losses, &mut dxs, &mut g)?;
    /// for j in 0..5 {
    ///     let d_theta = 0.2 - if j == 2 { 1.0 } else { 0.0 };
    ///     // A mean of 4096 equal terms: within a few roundings of the value.
    ///     assert!((g.b2[(0, j)] - d_theta).abs() < 1e-6);
    ///     for k in 0..3 {
    ///         assert!((g.w2[(k, j)] - 0.5 * d_theta).abs() < 1e-6);
    ///     }
    /// }
    /// assert_eq!(g.b1, RowVec::zeros());
    /// assert!(g.w1.as_slice().iter().all(|&w| w == 0.0));
    /// # Ok::<(), constgrad::Error>(())
    /// ```
    pub fn par_grads_batch(
        &self,
        xs: &[RowVec<IN, T>],
        targets: &[Target<OUT, T>],
        reduction: crate::Reduction,
        losses: &mut [T],
        dxs: &mut [RowVec<IN, T>],
        grads: &mut crate::Grads<IN, HID, OUT, T>,
    ) -> Result<(), Error> {
        use std::boxed::Box;
        use std::sync::Mutex;
        use std::vec::Vec;

        let n = xs.len();
        check_batch(n, targets, losses, dxs)?;
        grads.clear();
        let parts = Self::par_grads_parts(n);
        if parts < 2 {
            self.grads_blocks(xs, targets, losses, dxs, grads);
        } else {
            let lanes = Self::BATCH_LANES;
            let len = n.div_ceil(parts).div_ceil(lanes) * lanes;
            let mut sums: Vec<Box<crate::Grads<IN, HID, OUT, T>>> =
                (0..n.div_ceil(len)).map(|_| Box::default()).collect();
            let slots: Vec<Mutex<Option<_>>> = xs
                .chunks(len)
                .zip(targets.chunks(len))
                .zip(losses.chunks_mut(len).zip(dxs.chunks_mut(len)))
                .zip(sums.iter_mut())
                .map(|part| Mutex::new(Some(part)))
                .collect();
            run_parts(
                &slots,
                rayon::current_num_threads(),
                |(((x, t), (l, d)), g)| {
                    self.grads_blocks(x, t, l, d, g);
                },
            );
            drop(slots);
            for part in &sums {
                grads.add_assign(part);
            }
        }
        if reduction == crate::Reduction::Mean && n > 0 {
            grads.divide(T::from_f64(n as f64));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The moves between rows and lanes, checked element by element against
    //! their definition, for every input count the permutes serve (and a
    //! few the squares and the lane-at-a-time loops serve), on full and
    //! partial blocks.
    use super::*;

    /// Whether a block of `n` samples moves its rows by permutes: the row
    /// moves' test (a full block of a shape that permutes).
    fn permuted_rows<T: Real, V: Vector<Elem = T>, const IN: usize>(n: usize) -> bool {
        n == <V as Vector>::LANES && permutes_full_blocks::<T, V, IN>()
    }

    /// Rows of distinct values `1000·s + i` move into lanes and back.
    fn round_trip<T: Real, V: Vector<Elem = T>, const IN: usize>() {
        let lanes = <V as Vector>::LANES;
        for n in [lanes, lanes - 1, 1] {
            let value = |s: usize, i: usize| T::from_f64((1000 * s + i) as f64);
            let rows: std::vec::Vec<RowVec<IN, T>> = (0..n)
                .map(|s| RowVec::from_row(core::array::from_fn(|i| value(s, i))))
                .collect();
            let mut x = [<V as Vector>::splat(T::NAN); IN];
            let done = lanes_from_rows::<T, V, IN>(&rows, &mut x);
            let expect_done = if permuted_rows::<T, V, IN>(n) {
                IN
            } else {
                square_inputs::<T, V, IN>(n)
            };
            assert_eq!(done, expect_done, "{IN} inputs, {n} samples");
            for (i, xi) in x.iter().enumerate().take(done) {
                for s in 0..n {
                    assert_eq!(
                        xi.to_array().as_ref()[s],
                        value(s, i),
                        "{} lanes_from_rows, {IN} inputs, {n} samples: input {i} of sample {s}",
                        T::NAME
                    );
                }
            }
            // And back: lane `s` of column `i` holds `value(s, i)`.
            let cols: [V; IN] = core::array::from_fn(|i| {
                let mut a = <V as Vector>::ZERO.to_array();
                for (s, v) in a.as_mut().iter_mut().enumerate() {
                    *v = value(s, i);
                }
                <V as Vector>::from_array(a)
            });
            let mut back = std::vec![RowVec::<IN, T>::splat(T::NAN); n];
            let done = rows_from_lanes::<T, V, IN>(&cols, &mut back);
            assert_eq!(done, expect_done, "{IN} inputs, {n} samples");
            for (s, row) in back.iter().enumerate() {
                for (i, &v) in row.row().iter().enumerate().take(done) {
                    assert_eq!(
                        v,
                        value(s, i),
                        "{} rows_from_lanes, {IN} inputs, {n} samples: input {i} of sample {s}",
                        T::NAME
                    );
                }
            }
        }
    }

    /// [`round_trip`] in the batch type and in its half (half the lanes).
    fn round_trip_both<T: Real, const IN: usize>() {
        round_trip::<T, T::Batch, IN>();
        round_trip::<T, <T::Batch as Vector>::Half, IN>();
    }

    macro_rules! round_trips {
        ($t:ty: $($n:literal)*) => {
            $(round_trip_both::<$t, $n>();)*
        };
    }

    #[test]
    fn rows_move_into_lanes_and_back() {
        round_trips!(f32: 1 2 3 4 5 6 7 8 9 16 17);
        round_trips!(f64: 1 2 3 4 5 6 7 8 9 16 17);
    }

    /// Each lane's entry of a row at its label, halved, by the lookup and
    /// by the label masks: both are `row[l]·½` in every lane, for every
    /// label of rows of 1 to 16 entries (a subnormal one among them).
    fn label_half_picks_the_labels_entry<T: Real, V: Vector<Elem = T>, const N: usize>() {
        let row: [T; N] = core::array::from_fn(|j| match j {
            // Subnormal in either type.
            3 => T::from_f64(if T::EPSILON.to_f64() > 1e-10 {
                1e-40
            } else {
                1e-310
            }),
            _ => T::from_f64((j as f64 + 1.25) * if j % 2 == 0 { 1.0 } else { -1e3 }),
        });
        let lanes = <V as Vector>::LANES;
        for shift in 0..N {
            let label = |s: usize| (s * 7 + shift) % N;
            let mut l = <V as Vector>::ZERO.to_array();
            for (s, v) in l.as_mut().iter_mut().enumerate() {
                *v = <V as Vector>::elem_of_bits(label(s) as u32);
            }
            let labels = <V as Vector>::from_array(l);
            let by_lookup = looked_up_half::<T, V, N>(&row, &labels).to_array();
            let by_masks =
                pivot_half::<T, V, N>(&row, |j| label_mask::<T, V>(&labels, j)).to_array();
            for s in 0..lanes {
                let want = (row[label(s)] * T::from_f64(0.5)).to_f64();
                let got = [
                    by_lookup.as_ref()[s].to_f64(),
                    by_masks.as_ref()[s].to_f64(),
                ];
                assert_eq!(
                    got,
                    [want; 2],
                    "{} N = {N}, lane {s}, label {}",
                    T::NAME,
                    label(s)
                );
            }
        }
    }

    /// [`label_half_picks_the_labels_entry`] in the batch type and its half.
    fn label_half_both<T: Real, const N: usize>() {
        label_half_picks_the_labels_entry::<T, T::Batch, N>();
        label_half_picks_the_labels_entry::<T, <T::Batch as Vector>::Half, N>();
    }

    #[test]
    fn label_half_picks_the_labels_entry_by_lookup_and_by_masks() {
        label_half_both::<f32, 1>();
        label_half_both::<f32, 5>();
        label_half_both::<f32, 16>();
        label_half_both::<f64, 1>();
        label_half_both::<f64, 5>();
        label_half_both::<f64, 16>();
    }

    /// The head start is the documented 96 samples of 5→3→5 (9024 units
    /// of work at 5·3 + 3·5 + 8·(3 + 5) = 94 a sample, six blocks of 16)
    /// and nothing for a network whose one sample outweighs it.
    #[cfg(feature = "rayon")]
    #[test]
    fn the_callers_head_start_is_whole_blocks() {
        assert_eq!(Mlp::<5, 3, 5, f32>::PAR_HEAD_START_SAMPLES, 96);
        assert_eq!(Mlp::<784, 128, 10, f32>::PAR_HEAD_START_SAMPLES, 0);
        assert_eq!(
            Mlp::<5, 3, 5, f64>::PAR_HEAD_START_SAMPLES % F64_BATCH_LANES,
            0
        );
    }

    #[test]
    fn the_permutes_serve_narrow_full_blocks_on_avx2_and_avx512() {
        type B = crate::simd::F32b;
        type H = <B as Vector>::Half;
        let full = F32_BATCH_LANES;
        let permutes = cfg!(any(target_feature = "avx512f", target_feature = "avx2"));
        assert_eq!(permuted_rows::<f32, B, 5>(full), permutes);
        assert!(!permuted_rows::<f32, B, 5>(full - 1));
        assert!(!permuted_rows::<f32, B, 16>(full));
        // A one-register block of the batch type's half, as large shapes
        // run on AVX-512 builds.
        assert_eq!(permuted_rows::<f32, H, 5>(<H as Vector>::LANES), permutes);
        // The labels' entries are looked up where the rows permute.
        assert_eq!(<B as Vector>::LOOKUP16, permutes);
        // f64 permutes only on AVX-512 builds.
        assert_eq!(
            permuted_rows::<f64, crate::simd::F64b, 3>(F64_BATCH_LANES),
            cfg!(target_feature = "avx512f")
        );
    }

    /// The 5→3→5 network takes blocks of two registers' worth of lanes,
    /// 784→128→10 of one register on AVX-512 builds (its lane arrays would
    /// take 234 KB of stack); elsewhere both take the batch type's lanes.
    #[test]
    fn small_shapes_take_pair_blocks_large_ones_single() {
        assert_eq!(Mlp::<5, 3, 5, f32>::BATCH_LANES, F32_BATCH_LANES);
        assert_eq!(Mlp::<5, 3, 5, f64>::BATCH_LANES, F64_BATCH_LANES);
        let large = if cfg!(target_feature = "avx512f") {
            F32_BATCH_LANES / 2
        } else {
            F32_BATCH_LANES
        };
        assert_eq!(Mlp::<784, 128, 10, f32>::BATCH_LANES, large);
    }

    /// `unrolled` calls `f` once for each index below `N`, in order, on
    /// both sides of its written-out 16 calls.
    #[test]
    fn unrolled_calls_every_index_once_in_order() {
        fn calls<const N: usize>() -> std::vec::Vec<usize> {
            let mut seen = std::vec::Vec::new();
            unrolled::<N>(|j| seen.push(j));
            seen
        }
        let upto = |n: usize| (0..n).collect::<std::vec::Vec<_>>();
        assert_eq!(calls::<0>(), upto(0));
        assert_eq!(calls::<1>(), upto(1));
        assert_eq!(calls::<5>(), upto(5));
        assert_eq!(calls::<16>(), upto(16));
        assert_eq!(calls::<17>(), upto(17));
        assert_eq!(calls::<40>(), upto(40));
    }

    /// `add_outers` over `n` samples against `n` one-sample `outer`
    /// updates (`mlp::outer`, walking one vector of output at a time), bit
    /// for bit: every entry takes the same multiply-adds in the same order
    /// whatever the tiles. The shapes take every edge of the tiling: an odd
    /// row left over, one-vector tiles after whole ones, a last vector cut
    /// short, columns fewer than one vector.
    fn outers_match_one_sample_updates<T: Real, const R: usize, const C: usize>(seed: u64) {
        use rand::{rngs::StdRng, Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(seed);
        let mut val = || T::from_f64(rng.gen_range(-2.0..2.0));
        for n in [0, 1, 3, 16] {
            let u: std::vec::Vec<[T; R]> =
                (0..n).map(|_| core::array::from_fn(|_| val())).collect();
            let v: std::vec::Vec<[T; C]> =
                (0..n).map(|_| core::array::from_fn(|_| val())).collect();
            let start: [[T; C]; R] = core::array::from_fn(|_| core::array::from_fn(|_| val()));
            let mut tiled = start;
            add_outers(u.iter(), &v, &mut tiled);
            let mut one_by_one = start;
            for (us, vs) in u.iter().zip(&v) {
                crate::mlp::outer::<T, R, C, true>(us, vs, &mut one_by_one);
            }
            for (i, (a, b)) in tiled.iter().zip(&one_by_one).enumerate() {
                for (j, (x, y)) in a.iter().zip(b).enumerate() {
                    assert!(
                        x.to_f64().to_bits() == y.to_f64().to_bits(),
                        "{R}×{C}, {n} samples, entry ({i}, {j}): {} against {}",
                        x.to_f64(),
                        y.to_f64()
                    );
                }
            }
        }
    }

    #[test]
    fn outer_product_sums_match_one_sample_updates_bit_for_bit() {
        fn both<const R: usize, const C: usize>(seed: u64) {
            outers_match_one_sample_updates::<f32, R, C>(seed);
            outers_match_one_sample_updates::<f64, R, C>(seed);
        }
        both::<1, 1>(1);
        both::<2, 3>(2);
        both::<3, 8>(3);
        both::<5, 10>(4);
        both::<7, 33>(5);
        both::<4, 64>(6);
        both::<3, 70>(7);
        both::<9, 128>(8);
    }
}
