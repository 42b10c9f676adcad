//! Softmax, log-softmax, logsumexp and cross-entropy, from one pass over the
//! logits.
//!
//! # Derivation
//!
//! With `m = max_j θ_j` and `e_j = e^(θ_j − m) ∈ [0, 1]`, `s = Σ_j e_j ≥ 1`:
//!
//! - `softmax(θ)_j = e_j / s` (no overflow: every `e_j ≤ 1`);
//! - `logsumexp(θ) = m + ln s`;
//! - `log_softmax(θ)_j = (θ_j − m) − ln s`, never `ln(softmax)`, so no `ln 0`;
//! - `xent(y, θ) = Σ_j y_j·(logsumexp(θ) − θ_j) = Σ_j y_j·(m − θ_j) + Σy·ln s`.
//!
//! Both parts of the last line are `≥ 0` when `y ≥ 0`, so the loss is `≥ 0`
//! without cancellation (the kernels sum the first part and `Σy` beside
//! the exponentials and finish with one FMA after `ln s`: [`soft_loss_v`]).
//! `ln s` is computed as `ln(1 + ρ)` where
//! `ρ = s − 1 = Σ_{j: θ_j ≠ m} e_j + (number of maxima − 1)` is summed
//! directly (the maxima contribute exactly 1 each), so a confident row with a
//! tiny loss keeps its relative precision instead of rounding `1 + ρ` first.
//!
//! # Another shift
//!
//! The formulas hold for any finite shift `m`: every `θ_j − m` moves with it,
//! and `softmax`, `logsumexp` and the loss do not change. The maximum is the
//! shift that keeps every `e_j ≤ 1` whatever the logits. A row may take the
//! logit of a chosen class `c` instead, `m = θ_c`, when its logits are known
//! to lie within a spread `D` of each other, with `e^±D` far inside the
//! type's range (the network kernels establish this once per network, see
//! `Mlp`'s `needs_max_shift`): a class label's own class, or for
//! probabilities `y ≥ 0` their first largest entry ([`nonnegative_mode`]).
//! (A target with a negative entry keeps the maximum: its loss terms need
//! not be outweighed by the mode's, and fuzzing found one whose tiny loss
//! lost its relative accuracy to the cancellation below.) Then:
//!
//! - `e_c = 1` exactly, and the maxima bookkeeping below counts the lanes
//!   equal to `θ_c` (each with `e = 1`), so `ρ = Σ_{j≠c} e_j`;
//! - the class-label loss `(m − θ_l) + ln(1 + ρ)` is `ln(1 + ρ)`: still
//!   `≥ 0`, and still relatively accurate when tiny (`ρ` small);
//! - the soft-target loss keeps its form, but a shift `y_j·(θ_c − θ_j)`
//!   with `θ_j > θ_c` is negative. Then `ln s > θ_j − θ_c`, so `Σy·ln s`
//!   exceeds every such shift's magnitude by at least the mode's own
//!   `y_c·ln s`, with `y_c ≥ y_j`: that margin outweighs every rounding,
//!   and the total stays `≥ 0` for `y ≥ 0`. The parts may each be up to
//!   about `N` times the loss, and their rounding grows with `max θ − θ_c`
//!   ([`soft_loss_v`]);
//! - `softmax_j = e_j / s` as before, with `s = 1 + ρ` up to `N·e^D`;
//! - [`soft_d_theta_at_max`]'s form matters where `ŷ_j` rounds close to 1
//!   while `dL/dθ_j = ŷ_j·Σy − y_j` is small, so `y_j ≈ Σy`: at the first
//!   maximal logit, when it is also the target's mode (for `y ≥ 0`, only
//!   the mode can carry more than half of `Σy`). Then `θ_c` is the
//!   maximum's value, and every value is the one the maximum gives.
//!   Otherwise every class takes the plain form ([`soft_exact_at_shift`]): the
//!   first maximal logit `p` has `y_p ≤ Σy/2`, so its `dL/dθ_p` is small
//!   only where `ŷ_p ≈ y_p/Σy ≤ ½`, which no rounding near 1 affects. (The
//!   exact form on the other classes within `e_j ∈ [½, 2]`, where `1 − e_j`
//!   is still exact, cost accuracy: it rounds three times where the plain
//!   form rounds once, and on a 5→3→5 network of `tests/relative_accuracy.rs`
//!   whose `dL/dh` cancels, that took the relative error of `dL/dx` from
//!   below 1e-5 to 2.3e-5.)
//!
//! What it saves is the maximum: on the one-sample kernels, its horizontal
//! reduction lies on the chain between the logits and the exponentials.
//!
//! `θ_j − m` is rounded, and `e^x` turns an absolute error in `x` into the
//! same relative error: half an ulp of `|θ_j − m| ≈ 100` is 64 f32 ulps of
//! `e_j`. So the difference is split exactly into `d + err` (TwoSum,
//! [`exp_minus_max`]) and `e_j = e^(d + err)` takes `err` into `exp`'s reduced
//! argument (`exp_v_guarded_plus`), where it costs no rounding. Every `e_j`
//! is then within about an ulp, and the row kernels within 4–10 ulps
//! (`ACCURACY.md`).
//! The batch kernels skip this (see [`ExpSums::add_lanes`]).
//!
//! Lanes past the end of the row are padded with `−∞` before the max and the
//! exponentials (so they contribute `e = 0`), never with 0.
//!
//! # Special values
//!
//! A `−∞` logit is a probability of exactly 0 (fine as long as some logit is
//! finite). NaN anywhere makes every output NaN. A `+∞` logit gives
//! `logsumexp = +∞`, NaN softmax everywhere, and a log-softmax of `−∞` at
//! the finite logits (the limit: their probabilities tend to 0) and NaN at
//! the `+∞` ones; the cross-entropy is `+∞` if the target puts mass on a
//! finite logit only, NaN if on a `+∞` one. A row of all `−∞` gives
//! `logsumexp = −∞` and NaN softmax / log-softmax. An empty row (`N = 0`)
//! has `logsumexp = −∞` and cross-entropy 0.

use core::ops::{Add, Div, Mul, Sub};

use crate::math::exp::{exp_v_guarded_plus, exp_v_nonpositive};
use crate::math::ln::ln_1p_v;
use crate::real::{LoadAs, Real};
use crate::simd::{self, Vector};

/// `m`, `s` and `ρ = s − 1` of a row of logits; see the module docs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RowStats<T> {
    /// The shift `m`: `max_j θ_j`, or a chosen class's logit (see "Another
    /// shift" in the module docs).
    pub shift: T,
    /// `s = Σ_j e^(θ_j − m)`.
    pub sum: T,
    /// `ρ = s − 1`, summed without cancellation.
    pub rest: T,
    /// How many logits equal the shift (each with `e = 1`).
    pub ties: T,
}

impl<T: Real> RowStats<T> {
    /// `ln s`, accurately. (One lane of the narrowest vector: on AVX-512 a
    /// zmm would only lengthen the one-sample kernels' last step.)
    #[inline(always)]
    pub fn ln_sum(&self) -> T {
        simd::lane(self.ln_sum_narrow(), 0)
    }

    /// `ln s = ln(1 + ρ)` in every lane of the narrowest vector.
    #[inline(always)]
    fn ln_sum_narrow(&self) -> T::Narrow {
        ln_1p_v::<T, T::Narrow>(<T::Narrow as Vector>::splat(self.rest))
    }

    /// The soft-target loss of a row whose targets sum to `sum_y`:
    /// [`soft_loss_v`] of `shifts()`, the row's sum of [`soft_loss_shifts`],
    /// in the vector that holds `ln s`; or, where `Σy` is not finite (it may
    /// overflow where the loss does not), `terms(ln s)`, the row's sum of
    /// [`soft_loss_terms`]. One rule for the register and the row kernels;
    /// the batch kernel applies it lane by lane.
    #[inline(always)]
    pub fn soft_loss(&self, sum_y: T, shifts: impl FnOnce() -> T, terms: impl FnOnce(T) -> T) -> T {
        if !sum_y.is_finite() {
            return terms(self.ln_sum());
        }
        let splat = <T::Narrow as Vector>::splat;
        let ln_s = self.ln_sum_narrow();
        simd::lane(
            soft_loss_v::<T, T::Narrow>(splat(shifts()), splat(sum_y), ln_s),
            0,
        )
    }

    /// The cross-entropy for class label `l`, from its logit `θ_l`:
    /// `(m − θ_l) + ln(1 + ρ)`.
    #[inline(always)]
    pub fn class_loss(&self, theta_l: T) -> T {
        (self.shift - theta_l) + self.ln_sum()
    }
}

// The lanewise pieces below are shared by every execution shape: a row
// chunk (lanes are entries of one row), a whole row in one register, or a
// batch block (lanes are samples, one `θ_j` per vector). Each shape differs
// only in how it reduces across lanes.

/// Running lanewise sums of `e = e^(θ − m)`: `s`, `ρ` without the maxima,
/// and the number of maxima (each contributes exactly 1 to `s`); for long
/// rows ([`long_row`]), also what each lane's `ρ` lost to rounding
/// ([`ExpSums::add_long`]).
#[derive(Clone, Copy)]
pub(crate) struct ExpSums<T: Real, V: Vector<Elem = T>> {
    pub sum: V,
    rest: V,
    rest_lost: V,
    ties: V,
}

impl<T: Real, V: Vector<Elem = T>> ExpSums<T, V> {
    /// Empty sums. The running sums start at `−0`, the identity of
    /// floating-point addition (`x + (−0) = x` for every `x`, `+0` and NaN
    /// included; `x + (+0)` turns `−0` into `+0`), so the compiler drops
    /// the first add of a row that fits one vector, which `+0` would keep
    /// on the chain of the one-sample kernels' two tails. The same values
    /// for every row that adds at least one vector.
    #[inline(always)]
    pub fn new() -> Self {
        let identity = V::splat(-T::ZERO);
        Self {
            sum: identity,
            rest: identity,
            // Subtracted (`kahan`), where `+0` is the identity.
            rest_lost: V::splat(T::ZERO),
            ties: identity,
        }
    }

    /// [`ExpSums::add`] for one vector of a long row ([`long_row`]), whose
    /// lanes each sum `N/LANES` terms: each lane's `ρ` is a compensated sum
    /// (Kahan's: `rest_lost` carries what the running sum rounded away), so
    /// `ρ` and `s` do not drift with the row's length
    /// ([`ExpSums::long_row_stats`]). Plain sums lost up to 16 f32 ulps of
    /// `softmax` at N = 1000 and 38 at 4096 (the plain `s`), and 129 of the
    /// soft-target loss at 4096 ([`soft_xent`]). `s` is not summed: it is
    /// `1 + ρ` (the loop is bound by its adds, and this one would be a
    /// third).
    #[inline(always)]
    pub fn add_long(&mut self, theta: V, m: V) -> V {
        let e = exp_minus_max::<T, V>(theta, m);
        let off_max = self.count_maxima(e, theta, m);
        (self.rest, self.rest_lost) = kahan(self.rest, self.rest_lost, off_max);
        e
    }

    /// The statistics of a row summed by [`ExpSums::add_long`]: the lanes
    /// reduced with their lost parts ([`sum2`]), and `s = 1 + ρ` rounded
    /// once, which is closer than a plain sum of the `e_j`. (A `+∞` shift,
    /// the maximum, makes `s` NaN, as the plain sum's NaN `e^(∞ − ∞)`
    /// would.)
    #[inline(always)]
    pub fn long_row_stats(&self, shift: T) -> RowStats<T> {
        let ties = self.ties.reduce_add();
        let (hi, lo) = kahan_total(self.rest, self.rest_lost, &[ties - T::ONE]);
        let (s_hi, s_lo) = two_sum(T::ONE, hi);
        RowStats {
            shift,
            sum: if shift == T::INFINITY {
                T::NAN
            } else {
                s_hi + (s_lo + lo)
            },
            rest: hi + lo,
            ties,
        }
    }

    /// Adds `e^(θ − m)` (returned) for the logits `theta` and shift `m`, of
    /// a row whose tail lanes are padded with `−∞` (see `exp_v_guarded`),
    /// with `θ − m` taken exactly ([`exp_minus_max`]).
    #[inline(always)]
    pub fn add(&mut self, theta: V, m: V) -> V {
        self.add_exp(exp_minus_max::<T, V>(theta, m), theta, m)
    }

    /// [`ExpSums::add`] for lanes that are samples of a batch, with no
    /// padding to guard against, and without recovering the rounding of
    /// `θ − m`: a batch's `θ` comes out of its own products, whose rounding
    /// (a few ulps of `|θ|`, amplified by `e^x` alike) is of the same order,
    /// so the recovery would buy little there, for 6% of the 5→3→5 batch's
    /// time (docs/benchmarks-history-27-41.md). Within `|θ − m|·ε/2`
    /// relative of `add`'s.
    #[inline(always)]
    pub fn add_lanes(&mut self, theta: V, m: V) -> V {
        self.add_exp(exp_v_nonpositive::<T, V>(theta - m), theta, m)
    }

    /// Adds `e = e^(θ − m)` (returned).
    #[inline(always)]
    fn add_exp(&mut self, e: V, theta: V, m: V) -> V {
        self.sum = self.sum + e;
        self.rest = self.rest + self.count_maxima(e, theta, m);
        e
    }

    /// Counts the lanes at the maximum (`θ = m`, whose `e` is exactly 1) and
    /// returns `e` with them zeroed: what `ρ` sums.
    #[inline(always)]
    fn count_maxima(&mut self, e: V, theta: V, m: V) -> V {
        let at_max = theta.simd_eq(m);
        self.ties = self.ties + (at_max & V::splat(T::ONE));
        V::select(at_max, V::splat(T::ZERO), e)
    }

    /// The lanes whose maximum is not tied (one `θ = m`): where that class
    /// takes [`soft_d_theta_at_max`]'s form.
    #[inline(always)]
    pub fn single_max_lanes(&self) -> V {
        self.ties.simd_eq(V::splat(T::ONE))
    }

    /// `ρ = s − 1` of every lane (each lane its own row).
    #[inline(always)]
    pub fn rest_lanes(&self) -> V {
        self.rest + (self.ties - V::splat(T::ONE))
    }

    /// The statistics of one row spread across the lanes.
    #[inline(always)]
    pub fn row_stats(&self, shift: T) -> RowStats<T> {
        let ties = self.ties.reduce_add();
        RowStats {
            shift,
            sum: self.sum.reduce_add(),
            rest: self.rest.reduce_add() + (ties - T::ONE),
            ties,
        }
    }
}

/// `e^(θ − m)` with `θ − m` taken exactly: [`two_sum`] splits it into the
/// rounded difference `d` and its rounding error `err`, and `e^(d + err)`
/// takes `err` into `exp`'s reduced argument at no rounding
/// (`exp_v_guarded_plus`). `e^x` turns an absolute error in `x` into the
/// same relative error, so the rounding of `d` alone would cost up to
/// `|θ − m|·ε/2` relative (64 f32 ulps at `|θ − m| ≈ 100`, 512 f64 ulps near
/// 700). `err` is NaN where `θ` is `−∞`; the exponential ignores it there,
/// since its result is 0.
#[inline(always)]
fn exp_minus_max<T: Real, V: Vector<Elem = T>>(theta: V, m: V) -> V {
    let (d, err) = two_sum(theta, -m);
    exp_v_guarded_plus::<T, V>(d, err)
}

/// Soft-target loss shifts `y·(m − θ)`, 0 where `y = 0` (so a `−∞` logit
/// with no target mass costs nothing). Their sum and `Σy` give the loss
/// ([`soft_loss_v`]).
#[inline(always)]
pub(crate) fn soft_loss_shifts<T: Real, V: Vector<Elem = T>>(theta: V, y: V, m: V) -> V {
    let zero = V::splat(T::ZERO);
    V::select(y.simd_eq(zero), zero, y * (m - theta))
}

/// The soft-target loss `L = Σ_j y_j·(m − θ_j) + Σy·ln s`, one FMA from the
/// sum of [`soft_loss_shifts`] and `Σy`.
///
/// Both sums are taken before `ln s` is known, beside the exponentials, so
/// that one FMA is all that follows the logarithm, which is the last link
/// of a one-sample call. (Until session 26 the terms were
/// `y_j·((m − θ_j) + ln s)`, each `y_j·(−ln ŷ_j)`, summed after the
/// logarithm: a horizontal sum more at the end of the call, 2–3 ns of the
/// 5→3→5 soft-target `loss` and `input_grad`.)
///
/// For `y ≥ 0` shifted by the maximum, every term is non-negative and
/// nothing cancels. Shifted by the target's mode `q` instead (see "Another
/// shift" above), `m − θ_j` is negative where `θ_j > θ_q`; but then `L ≥
/// y_q·ln s ≥ y_j·(θ_j − θ_q)`, so the sum of the shifts and `Σy·ln s` are
/// each at most about `OUT·L` and their rounding grows with `max θ − m`
/// (the fuzz model budgets `(2·OUT + 6)·ε/2` of it per unit of target).
///
/// `Σy` alone may overflow where the loss does not (targets near the
/// largest finite value; the fuzzer found both `∞·0 = NaN` and a finite
/// loss of 9.3e36 returned as `+∞`). Where it is not finite, the kernels
/// take the terms [`soft_loss_terms`] instead, on a branch that waits only
/// for `Σy`.
#[inline(always)]
pub(crate) fn soft_loss_v<T: Real, V: Vector<Elem = T>>(shifts: V, sum_y: V, ln_s: V) -> V {
    sum_y.mul_add(ln_s, shifts)
}

/// The soft-target loss terms `y·((m − θ) + ln s)`, each `y_j·(−ln ŷ_j)`,
/// 0 where `y = 0`: the loss of a row whose `Σy` overflows
/// ([`soft_loss_v`]).
#[inline(always)]
pub(crate) fn soft_loss_terms<T: Real, V: Vector<Elem = T>>(theta: V, y: V, m: V, ln_s: V) -> V {
    let zero = V::splat(T::ZERO);
    V::select(y.simd_eq(zero), zero, y * ((m - theta) + ln_s))
}

/// `Σ x` as a pair `(hi, lo)` with `hi + lo` the sum to within about
/// `n·ε²·Σ|x|` (Ogita, Rump and Oishi's Sum2: every addition's rounding
/// error, recovered by TwoSum, is summed apart in `lo`).
#[inline(always)]
pub(crate) fn sum2<X: Copy + Add<Output = X> + Sub<Output = X>>(
    xs: impl IntoIterator<Item = X>,
    zero: X,
) -> (X, X) {
    xs.into_iter().fold((zero, zero), |(hi, lo), x| {
        let (sum, lost) = two_sum(hi, x);
        (sum, lo + lost)
    })
}

/// One step of Kahan's compensated sum: `sum + x` with `lost`, the running
/// correction (the true total is `sum − lost`), folded in first. Its error
/// stays within `2ε·Σ|x|` however many terms are added.
#[inline(always)]
fn kahan<X: Copy + Add<Output = X> + Sub<Output = X>>(sum: X, lost: X, x: X) -> (X, X) {
    let y = x - lost;
    let t = sum + y;
    (t, (t - sum) - y)
}

/// The total of lanewise [`kahan`] sums (running sums `sum`, corrections
/// `lost`) and of `extra`, as a pair `(hi, lo)`: the lanes and `extra`
/// reduced by [`sum2`], less the lanes' corrections. Both long-row sums use
/// it ([`ExpSums::long_row_stats`], [`soft_xent`]).
#[inline(always)]
fn kahan_total<T: Real, V: Vector<Elem = T>>(sum: V, lost: V, extra: &[T]) -> (T, T) {
    let lanes = sum.to_array();
    let (hi, lo) = sum2(lanes.as_ref().iter().chain(extra).copied(), T::ZERO);
    (hi, lo - lost.reduce_add())
}

/// `a + b` as `(sum, lost)` with `sum + lost` exact (Knuth's TwoSum: `sum`
/// the rounded sum, `lost` its rounding error), for any order of
/// magnitudes.
#[inline(always)]
pub(crate) fn two_sum<X: Copy + Add<Output = X> + Sub<Output = X>>(a: X, b: X) -> (X, X) {
    let sum = a + b;
    let back = sum - a;
    (sum, (a - (sum - back)) + (b - back))
}

/// Soft-target `dL/dθ_j = ŷ_j·Σy − y_j` from the row's `e_j = e^(θ_j − m)`,
/// its `s` and `sum_y = Σy`: one divide and one FMA, which keeps `y_j`
/// exact, so that where `ŷ_j` is small `dL/dθ_j ≈ −y_j` is within half an
/// ulp. The accurate form for every class but a confident row's maximum
/// ([`soft_d_theta_at_max`]), and the one the backward product takes for
/// every class, that one included (see there).
#[inline(always)]
pub(crate) fn soft_d_theta<T: Real, V: Vector<Elem = T>>(e: V, s: V, sum_y: V, y: V) -> V {
    (e / s).mul_add(sum_y, -y)
}

/// Soft-target `dL/dθ_p` at a row's single maximal logit `p` (whose
/// `e_p = 1`; see [`soft_exact_at_shift`]) in the form that keeps its
/// relative accuracy: `(Σ_{i≠p} y_i − y_p·ρ)/s`, the cancellation-free
/// `(e_j·Σ_{i≠j} y_i − y_j·Σ_{i≠j} e_i)/s` at `e_p = 1`, where
/// `Σ_{i≠p} e_i = ρ` (summed apart, [`ExpSums`]). The plain
/// [`soft_d_theta`] loses a confident row's small `dL/dθ_p`: `ŷ_p` rounds
/// to within an ulp of 1, which leaves `ε/|dL/dθ_p|` relative accuracy
/// (ACCURACY.md, gap 3). `y_off = Σ_{i≠p} y_i` is the plain sum of the
/// other entries ([`soft_y_sums`]), which cancels nowhere for `y ≥ 0`;
/// what cancellation is left is the row's own (`ŷ` close to `y/Σy`), which
/// the logits' rounding bounds anyway. Every other class, and tied maxima,
/// have `ŷ_j ≤ ½`, where the plain form is the accurate one.
///
/// Only `dL/dθ` itself (`grads`) needs this form. The backward product
/// takes `dL/dθ` against halved differences from this same class (see
/// [`pivot_unscale`]), so the class's own term is multiplied by
/// `W2ᵀ_p/2 − W2ᵀ_p/2 = 0` (to the last bit of a subnormal weight's half):
/// the kernels give the product the plain form of every class, and
/// `input_grad` never forms this one (session 25: 5% of the 5→3→5 soft
/// `input_grad`). Scalars and vectors alike.
#[inline(always)]
pub(crate) fn soft_d_theta_at_max<X>(s: X, rho: X, y: X, y_off: X) -> X
where
    X: Copy + Sub<Output = X> + Mul<Output = X> + Div<Output = X>,
{
    (y_off - y * rho) / s
}

/// `Σy` and the sum of the entries off the `exact` lanes (`Σ_{i≠p} y_i`
/// for [`soft_d_theta_at_max`]'s class), both plain sums, from a row's
/// `(y, exact)` chunks, reduced across the lanes. The register and chunked
/// kernels share it, so that they sum in the same order.
#[inline(always)]
pub(crate) fn soft_y_sums<T: Real, V: Vector<Elem = T>>(
    chunks: impl IntoIterator<Item = (V, V)>,
) -> (T, T) {
    let (all, off) = soft_y_sum_lanes(chunks);
    (all.reduce_add(), off.reduce_add())
}

/// [`soft_y_sums`] before the reduction: each lane's own sums (in a batch
/// block, each sample's, over its classes in order).
#[inline(always)]
pub(crate) fn soft_y_sum_lanes<T: Real, V: Vector<Elem = T>>(
    chunks: impl IntoIterator<Item = (V, V)>,
) -> (V, V) {
    let zero = V::splat(T::ZERO);
    chunks
        .into_iter()
        .fold((zero, zero), |(all, off), (y, exact)| {
            (all + y, off + V::select(exact, zero, y))
        })
}

/// Whether a one-sample row gives [`soft_d_theta_at_max`]'s form to the
/// class at its shift: when the shift is the maximum's value `max` and no
/// other logit ties it. That class is then the first maximal logit, the
/// only one whose `ŷ_j` can round close to 1; every other class has
/// `ŷ_j ≤ ½`, where the plain form is the accurate one, and so do tied
/// maxima. When the shift is a smaller logit, the target's mode, every
/// class takes the plain form (see "Another shift" in the module docs).
///
/// With a single exact class `p`, its `Σ_{i≠p} y_i` is the plain sum of the
/// other entries, which for `y ≥ 0` cancels nowhere: no compensated `Σy` is
/// needed. The batch kernels, which shift every soft-target lane by its
/// maximum, take the same rule lane by lane
/// ([`ExpSums::single_max_lanes`]); until session 25 they took the exact
/// form wherever `e_j ≥ ½`, with `Σy` as a [`sum2`] pair, which cost their
/// soft-target block about 2.5%.
#[inline(always)]
pub(crate) fn soft_exact_at_shift<T: Real>(stats: &RowStats<T>, max: T) -> bool {
    stats.shift == max && stats.ties == T::ONE
}

/// The index of the first entry of `row` equal to `v`, as
/// `Iterator::position` gives it, but without a branch on the data: a scan
/// from the last entry down, each match replacing the answer (a select).
/// The soft-target kernels take the first maximal logit as their pivot,
/// and its position changes from call to call; `position` exits its loop
/// on a branch there. (5→3→5 soft-target `input_grad` on AMD Zen 3, best
/// of 51, the lowest of three rounds in each of three code layouts:
/// 63.9–64.5 → 61.9–62.5 ns.)
#[inline(always)]
pub(crate) fn first_equal<T: Real>(row: &[T], v: T) -> Option<usize> {
    let mut first = None;
    for (j, &t) in row.iter().enumerate().rev() {
        first = if t == v { Some(j) } else { first };
    }
    first
}

/// The mode of a soft target `y ≥ 0`, its first largest entry: the class
/// whose logit shifts the row when the network bounds its logits (see
/// "Another shift" in the module docs). `None` for an empty target and for
/// one with a negative or NaN entry, which keeps the maximum. One pass.
#[inline(always)]
pub(crate) fn nonnegative_mode<T: Real>(y: &[T]) -> Option<usize> {
    let mut best: Option<(usize, T)> = None;
    for (j, &v) in y.iter().enumerate() {
        if v >= T::ZERO {
            if best.is_none_or(|(_, top)| v > top) {
                best = Some((j, v));
            }
        } else {
            return None;
        }
    }
    best.map(|(j, _)| j)
}

/// Class-label `e_j` off the label and 0 on it, the one masked row both
/// class-label signals start from: `dL/dθ` is `q = e_off/s` off the label
/// and `−Σq` on it (the cancellation-free form of `ŷ_l − 1`), and the
/// backward product takes `e_off` with the label as pivot
/// ([`pivot_unscale`]).
#[inline(always)]
pub(crate) fn class_e<T: Real, V: Vector<Elem = T>>(e: V, is_label: V) -> V {
    V::select(is_label, V::splat(T::ZERO), e)
}

/// The class-label `dL/dh = Σ_j ŷ_j·(W2ᵀ_j − W2ᵀ_l) = u/(s/2)` from the
/// product `u = Σ_j e_off_j·(W2ᵀ_j/2 − W2ᵀ_l/2)` of [`class_e`]'s values,
/// against halved differences from the label, the pivot.
///
/// Pivoting: `dL/dh = Σ_j dL/dθ_j·W2ᵀ_j`, and since `Σ_j dL/dθ_j = 0`, it is
/// also `Σ_j dL/dθ_j·(W2ᵀ_j − W2ᵀ_p)` for any class `p`, which never uses
/// `dL/dθ_p`. Taking `p` at the largest `|dL/dθ_p|` keeps that term's
/// rounding, and the mismatch it leaves in `Σ_j dL/dθ_j`, from being
/// amplified when the columns of `W2` nearly cancel: the label for class
/// targets (whose `dL/dθ_l = −Σ_{j≠l} ŷ_j` is not even formed), the first
/// maximal logit for soft ones ([`row_max`], then its first lane; on a confident row its
/// `|dL/dθ_p| ≈ Σ_{j≠p} y_j` leads), which take `dL/dθ` itself and double the
/// product instead of dividing it. (Soft targets keep this pivot when their
/// row is shifted by the target's mode instead of the maximum: with the
/// mode as pivot, on confident rows that disagree with their target,
/// `tests/relative_accuracy.rs` measured up to 1.26e-5 relative error on
/// 33-9-17 against 7.54e-6.) Halving keeps the difference of two
/// finite weights finite and is exact, except that a subnormal weight
/// loses its last bit (`2^-150` absolute). Dividing the class product once,
/// rather than each `e_j` before it, takes the denominator's horizontal sum
/// and the divide off the one-sample kernels' critical path (the product
/// runs while they do) and rounds once instead of once per class.
#[inline(always)]
pub(crate) fn pivot_unscale<T: Real, V: Vector<Elem = T>>(u: V, s: V) -> V {
    u / (s * V::splat(T::from_f64(0.5)))
}

/// Whether a row of `N` entries is long: more than `T::Row`'s 16 `f32` or
/// 8 `f64` lanes, on every build. A long row's lanes each sum several
/// terms, with compensation ([`ExpSums::add_long`], [`row_sum`]); a
/// shorter row is one vector, one term per lane, summed plainly.
#[inline(always)]
const fn long_row<T: Real, const N: usize>() -> bool {
    N > <T::Row as Vector>::LANES
}

/// Whether a row of `N` entries is one vector of `T::Row` rather than of
/// `T::Simd`: not long, but longer than `T::Simd` (on AVX2 and SSE2
/// builds, 9 to 16 `f32` or 5 to 8 `f64`; on AVX-512, whose `T::Simd` is
/// as wide, none). Until session 43 such rows were long rows on those
/// builds: the serial reduction of their compensated lanes (Sum2 across
/// eight lanes) was the longest link of a 10-logit `softmax` on AVX2.
#[inline(always)]
const fn one_row_vector<T: Real, const N: usize>() -> bool {
    <T::Simd as Vector>::LANES < N && !long_row::<T, N>()
}

/// `max_j θ_j`, a vector at a time (lanes past the end padded with `−∞`),
/// with raw-`max` semantics: a NaN may be dropped (the sums that follow
/// make a NaN row's results NaN).
#[inline(always)]
pub(crate) fn row_max<T: Real, const N: usize>(theta: &[T; N]) -> T {
    if one_row_vector::<T, N>() {
        row_max_in::<T, T::Row, N>(theta)
    } else {
        row_max_in::<T, T::Simd, N>(theta)
    }
}

/// [`row_max`] in vectors of `V`.
#[inline(always)]
fn row_max_in<T: Real, V: Vector<Elem = T>, const N: usize>(theta: &[T; N]) -> T {
    let ninf = T::NEG_INFINITY;
    let mut vmax = V::splat(ninf);
    let mut start = 0;
    while start < N {
        vmax = vmax.max(simd::load_at::<V>(theta, start, ninf));
        start += V::LANES;
    }
    vmax.reduce_max()
}

/// Writes `e_j = e^(θ_j − m)` into `e` and returns the row's statistics.
#[inline(always)]
pub(crate) fn exp_shifted<T: Real, const N: usize>(theta: &[T; N], e: &mut [T; N]) -> RowStats<T> {
    exp_shifted_by(theta, e, None)
}

/// [`exp_shifted`] with the shift `m = θ_c` when a class `c` is given (see
/// "Another shift" in the module docs; the caller vouches for the logits'
/// spread), with no pass for the maximum.
#[inline(always)]
pub(crate) fn exp_shifted_by<T: Real, const N: usize>(
    theta: &[T; N],
    e: &mut [T; N],
    class: Option<usize>,
) -> RowStats<T> {
    if one_row_vector::<T, N>() {
        exp_shifted_in::<T, T::Row, N>(theta, e, class)
    } else {
        exp_shifted_in::<T, T::Simd, N>(theta, e, class)
    }
}

/// [`exp_shifted_by`] in vectors of `V`.
#[inline(always)]
fn exp_shifted_in<T: Real, V: Vector<Elem = T>, const N: usize>(
    theta: &[T; N],
    e: &mut [T; N],
    class: Option<usize>,
) -> RowStats<T> {
    let ninf = T::NEG_INFINITY;
    let shift = match class.and_then(|c| theta.get(c)) {
        Some(&theta_c) => theta_c,
        // Pass 1: the maximum.
        None => row_max_in::<T, V, N>(theta),
    };
    let m = V::splat(shift);
    // Pass 2: the exponentials, their sum, and the sum without the maxima.
    // (A row of one vector has one term per lane: nothing to compensate.)
    let long = long_row::<T, N>();
    let mut sums = ExpSums::<T, V>::new();
    let mut start = 0;
    while start < N {
        let v = simd::load_at::<V>(theta, start, ninf);
        let ev = if long {
            sums.add_long(v, m)
        } else {
            sums.add(v, m)
        };
        simd::store_at(ev, e, start);
        start += V::LANES;
    }
    if long {
        sums.long_row_stats(shift)
    } else {
        sums.row_stats(shift)
    }
}

/// `row_j ← row_j / den` over a row, vectorized (a true division).
#[inline(always)]
pub(crate) fn div_row<T: Real, const N: usize>(row: &mut [T; N], den: T) {
    if one_row_vector::<T, N>() {
        div_row_in::<T, T::Row, N>(row, den);
    } else {
        div_row_in::<T, T::Simd, N>(row, den);
    }
}

/// [`div_row`] in vectors of `V`.
#[inline(always)]
fn div_row_in<T: Real, V: Vector<Elem = T>, const N: usize>(row: &mut [T; N], den: T) {
    let d = V::splat(den);
    let mut start = 0;
    while start < N {
        let v = simd::load_at::<V>(row, start, T::ZERO);
        simd::store_at(v / d, row, start);
        start += V::LANES;
    }
}

/// The soft-target loss `Σ_j y_j·(m − θ_j) + Σy·ln s` ([`soft_loss_v`]),
/// with terms where `y_j = 0` counted as 0 (so a `−∞` logit with zero target
/// mass costs nothing), or where `Σy` is not finite the sum of
/// [`soft_loss_terms`]. `y` may be stored narrower than `T` (see
/// [`LoadAs`]).
#[inline(always)]
pub(crate) fn soft_xent<T: Real, U: LoadAs<T>, const N: usize>(
    theta: &[T; N],
    y: &[U; N],
    stats: &RowStats<T>,
) -> T {
    let m = <T::Simd as Vector>::splat(stats.shift);
    let theta_at = |start| simd::load_at::<T::Simd>(theta, start, T::ZERO);
    let sum_y = row_sum::<T, N>(|start| U::load_over(y, start));
    stats.soft_loss(
        sum_y,
        || {
            row_sum::<T, N>(|start| {
                soft_loss_shifts::<T, T::Simd>(theta_at(start), U::load_over(y, start), m)
            })
        },
        |ln_s| {
            let ln_s = <T::Simd as Vector>::splat(ln_s);
            row_sum::<T, N>(|start| {
                soft_loss_terms::<T, T::Simd>(theta_at(start), U::load_over(y, start), m, ln_s)
            })
        },
    )
}

/// `Σ` over a row of `N` entries, given as vectors `part(start)` of
/// `T::Simd::LANES` entries each (padded with 0). A long row
/// ([`long_row`]) is summed with compensated lanes as well, as
/// `ExpSums::add_long` (plain sums lost 129 f32 ulps of the soft-target
/// loss at 4096); an infinite part, or a compensated lane that overflows
/// where the plain one did not, would make the correction NaN, so the plain
/// sum stands wherever either is not finite (`+∞` for target mass at a `−∞`
/// logit).
#[inline(always)]
fn row_sum<T: Real, const N: usize>(part: impl Fn(usize) -> T::Simd) -> T {
    let lanes = <T::Simd as Vector>::LANES;
    let long = long_row::<T, N>();
    let zero = <T::Simd as Vector>::splat(T::ZERO);
    let (mut acc, mut comp, mut lost) = (zero, zero, zero);
    let mut start = 0;
    while start < N {
        let v = part(start);
        acc = acc + v;
        if long {
            (comp, lost) = kahan(comp, lost, v);
        }
        start += lanes;
    }
    let plain = acc.reduce_add();
    if long && plain.is_finite() {
        let (hi, lo) = kahan_total(comp, lost, &[]);
        let sum = hi + lo;
        if sum.is_finite() {
            return sum;
        }
    }
    plain
}

#[cfg(test)]
mod tests {
    use super::{first_equal, long_row, one_row_vector};
    use crate::simd::{F32_LANES, F64_LANES};

    /// The documented rule (`math::softmax`'s docs, ACCURACY.md): rows of up
    /// to 16 `f32` or 8 `f64` entries are one vector on every build, longer
    /// ones long; and a row takes the wider `T::Row` only past `T::Simd`.
    #[test]
    fn rows_of_up_to_16_f32_or_8_f64_are_one_vector() {
        assert!(!long_row::<f32, 16>() && long_row::<f32, 17>());
        assert!(!long_row::<f64, 8>() && long_row::<f64, 9>());
        assert!(!one_row_vector::<f32, 8>() && !one_row_vector::<f32, 17>());
        assert_eq!(one_row_vector::<f32, 9>(), F32_LANES < 9);
        assert_eq!(one_row_vector::<f32, 16>(), F32_LANES < 16);
        assert!(!one_row_vector::<f64, 4>() && !one_row_vector::<f64, 9>());
        assert_eq!(one_row_vector::<f64, 5>(), F64_LANES < 5);
    }

    #[test]
    fn first_equal_finds_what_position_finds() {
        let nan = f32::NAN;
        let rows: [&[f32]; 8] = [
            &[],
            &[1.0],
            &[0.5, 2.0, 2.0, 1.0, 2.0],
            &[2.0, 1.0, 2.0],
            &[0.0, -0.0, 3.0],
            &[nan, 1.0, nan],
            &[-1.0, -2.0, -1.0, -3.0],
            &[
                4.0, 3.0, 2.0, 1.0, 0.0, -1.0, -2.0, -3.0, -4.0, 4.0, 3.0, 2.0, 1.0, 0.0, -1.0,
                -2.0, -3.0,
            ],
        ];
        for row in rows {
            for v in [2.0, 1.0, -0.0, 0.0, -1.0, 3.0, 4.0, -4.0, nan, 7.0] {
                let expected = row.iter().position(|&t| t == v);
                assert_eq!(first_equal(row, v), expected, "{row:?}, {v}");
            }
        }
    }
}
