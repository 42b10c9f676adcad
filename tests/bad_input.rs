//! Bad input: wrong slice lengths and out-of-range labels are errors that
//! say what was expected; NaN, ±∞ and subnormal values go through every
//! public function of the core API without a panic, and a NaN reaches
//! exactly the outputs that depend on it.
//!
//! "Depends on" is read off the formulas: `a_k = Σ_i x_i·W1_ik + b1_k` (so
//! any `x_i` touches every `a_k`, `W1_ik` and `b1_k` only `a_k`),
//! `θ_j = Σ_k h_k·W2_kj + b2_j`, and every `ŷ_j`, the loss and every gradient
//! depend on every `θ_j` through the softmax's normalizer (and on the target
//! through `Σy`).

use constgrad::math;
use constgrad::{Error, Label, Mat, Mlp, Real, RowVec, Target};

// --------------------------------------------------------------- errors --

#[test]
fn try_from_slice_with_wrong_length_says_what_was_expected() {
    for len in [0usize, 1, 5, 7, 12, 100] {
        let data = vec![1.5f32; len];
        let err = Mat::<2, 3>::try_from_slice(&data).unwrap_err();
        assert_eq!(
            err,
            Error::SliceLength {
                expected: 6,
                got: len
            }
        );
        let msg = err.to_string();
        assert!(
            msg.contains('6') && msg.contains(&len.to_string()),
            "message should give the expected (6) and actual ({len}) lengths: {msg:?}"
        );
        let err = RowVec::<4, f64>::try_from_slice(&vec![0.0; len]).unwrap_err();
        assert_eq!(
            err,
            Error::SliceLength {
                expected: 4,
                got: len
            }
        );
        let msg = err.to_string();
        assert!(
            msg.contains('4') && msg.contains(&len.to_string()),
            "{msg:?}"
        );
    }
    // The right length fills the matrix row-major.
    let data: Vec<f32> = (0..6).map(|v| v as f32).collect();
    let m = Mat::<2, 3>::try_from_slice(&data).unwrap();
    for i in 0..2 {
        for j in 0..3 {
            assert_eq!(m[(i, j)], data[i * 3 + j]);
        }
    }
    // A zero-sized matrix accepts exactly the empty slice.
    assert!(Mat::<0, 3>::try_from_slice(&[]).is_ok());
    assert_eq!(
        Mat::<0, 3>::try_from_slice(&[1.0]).unwrap_err(),
        Error::SliceLength {
            expected: 0,
            got: 1
        }
    );
}

#[test]
fn label_out_of_range_says_what_was_expected() {
    for label in [5usize, 6, 1000, usize::MAX] {
        let err = Label::<5>::new(label).unwrap_err();
        assert_eq!(err, Error::LabelOutOfRange { label, classes: 5 });
        let msg = err.to_string();
        assert!(
            msg.contains(&label.to_string()) && msg.contains('5') && msg.contains('4'),
            "message should give the label ({label}), the class count (5) and the valid range (0..=4): {msg:?}"
        );
        assert_eq!(Label::<5>::try_from(label).unwrap_err(), err);
        assert_eq!(Target::<5, f32>::class(label).unwrap_err(), err);
    }
    for label in 0..5 {
        assert_eq!(Label::<5>::new(label).unwrap().get(), label);
    }
    // No classes at all: every label is out of range, and the message says so.
    let msg = Label::<0>::new(0).unwrap_err().to_string();
    assert!(msg.contains('0'), "{msg:?}");
    // Errors are std errors (usable with `?` into Box<dyn Error>).
    let boxed: Box<dyn std::error::Error> = Box::new(Label::<2>::new(2).unwrap_err());
    assert!(!boxed.to_string().is_empty());
}

#[test]
fn mat_get_out_of_range_is_none() {
    let m = Mat::<2, 3>::splat(1.0);
    assert_eq!(m.get(1, 2), Some(&1.0));
    assert_eq!(m.get(2, 0), None);
    assert_eq!(m.get(0, 3), None);
    assert_eq!(m.get(usize::MAX, usize::MAX), None);
}

// ------------------------------------------------- non-finite: the Mlp --

const IN: usize = 7;
const HID: usize = 9;
const OUT: usize = 5;

/// Where a special value is planted.
#[derive(Clone, Copy, Debug)]
enum Slot {
    X(usize),
    W1(usize, usize),
    B1(usize),
    W2(usize, usize),
    B2(usize),
    /// An entry of a soft target.
    Y(usize),
}

fn all_slots() -> Vec<Slot> {
    let mut s = Vec::new();
    for i in 0..IN {
        s.push(Slot::X(i));
        for k in 0..HID {
            s.push(Slot::W1(i, k));
        }
    }
    for k in 0..HID {
        s.push(Slot::B1(k));
        for j in 0..OUT {
            s.push(Slot::W2(k, j));
        }
    }
    for j in 0..OUT {
        s.push(Slot::B2(j));
        s.push(Slot::Y(j));
    }
    s
}

/// A network's parameters, an input and a soft target.
struct Parts<T> {
    w1: Mat<IN, HID, T>,
    b1: RowVec<HID, T>,
    w2: Mat<HID, OUT, T>,
    b2: RowVec<OUT, T>,
    x: RowVec<IN, T>,
    y: RowVec<OUT, T>,
}

/// A well-scaled deterministic network, input and soft target.
fn parts<T: Real>() -> Parts<T> {
    let fill = |m: &mut [T], scale: f64, phase: f64| {
        for (n, v) in m.iter_mut().enumerate() {
            *v = T::from_f64(scale * (n as f64 * 0.37 + phase).sin());
        }
    };
    let mut p = Parts {
        w1: Mat::zeros(),
        b1: RowVec::zeros(),
        w2: Mat::zeros(),
        b2: RowVec::zeros(),
        x: RowVec::zeros(),
        y: RowVec::from_row([0.1, 0.2, 0.0, 0.3, 0.4].map(T::from_f64)),
    };
    fill(p.w1.as_mut_slice(), 1.0, 0.0);
    fill(p.b1.as_mut_slice(), 0.1, 1.0);
    fill(p.w2.as_mut_slice(), 1.0, 2.0);
    fill(p.b2.as_mut_slice(), 0.1, 3.0);
    fill(p.x.as_mut_slice(), 1.0, 4.0);
    p
}

/// Every output of every `Mlp` entry point, flattened with names, for a
/// network with `value` planted at `slot` and the given target kind.
fn run_everything<T: Real>(slot: Option<(Slot, T)>, soft: bool) -> Vec<(String, T)> {
    let Parts {
        mut w1,
        mut b1,
        mut w2,
        mut b2,
        mut x,
        mut y,
    } = parts::<T>();
    if let Some((slot, v)) = slot {
        match slot {
            Slot::X(i) => x[(0, i)] = v,
            Slot::W1(i, k) => w1[(i, k)] = v,
            Slot::B1(k) => b1[(0, k)] = v,
            Slot::W2(k, j) => w2[(k, j)] = v,
            Slot::B2(j) => b2[(0, j)] = v,
            Slot::Y(j) => y[(0, j)] = v,
        }
    }
    let mlp = Mlp::new(w1, b1, w2, b2);
    let target = if soft {
        Target::Probs(y)
    } else {
        Target::class(3).unwrap()
    };
    let mut out = Vec::new();
    let mut push = |name: &str, m: &[T]| {
        for (n, &v) in m.iter().enumerate() {
            out.push((format!("{name}[{n}]"), v));
        }
    };
    let f = mlp.forward(&x);
    push("forward.a", f.a.as_slice());
    push("forward.h", f.h.as_slice());
    push("forward.θ", f.theta.as_slice());
    push("forward.ŷ", f.y_hat.as_slice());
    push("loss()", &[mlp.loss(&x, &target)]);
    let (l, dx) = mlp.input_grad(&x, &target);
    push("input_grad.L", &[l]);
    push("input_grad.dx", dx.as_slice());
    let g = mlp.grads(&x, &target);
    push("grads.L", &[g.loss]);
    push("grads.x", g.x.as_slice());
    push("grads.W1", g.w1.as_slice());
    push("grads.b1", g.b1.as_slice());
    push("grads.W2", g.w2.as_slice());
    push("grads.b2", g.b2.as_slice());
    let mut into = constgrad::Grads::default();
    mlp.grads_into(&x, &target, &mut into);
    assert_eq!(
        format!("{into:?}"),
        format!("{g:?}"),
        "grads_into and grads disagree"
    );
    out
}

/// Whether the output called `name` depends on the input at `slot`.
fn depends(name: &str, slot: Slot) -> bool {
    let index = |prefix: &str| -> Option<usize> {
        name.strip_prefix(prefix)?
            .strip_prefix('[')?
            .strip_suffix(']')?
            .parse()
            .ok()
    };
    if let Some(k) = index("forward.a").or_else(|| index("forward.h")) {
        return match slot {
            Slot::X(_) => true,
            Slot::W1(_, kk) | Slot::B1(kk) => kk == k,
            Slot::W2(..) | Slot::B2(_) | Slot::Y(_) => false,
        };
    }
    if let Some(j) = index("forward.θ") {
        return match slot {
            Slot::X(_) | Slot::W1(..) | Slot::B1(_) => true,
            Slot::W2(_, jj) | Slot::B2(jj) => jj == j,
            Slot::Y(_) => false,
        };
    }
    if name.starts_with("forward.ŷ") {
        return !matches!(slot, Slot::Y(_));
    }
    // The loss and every gradient depend on everything.
    true
}

fn check_nan_propagation<T: Real>() {
    for soft in [false, true] {
        let clean = run_everything::<T>(None, soft);
        assert!(
            clean.iter().all(|(_, v)| v.is_finite()),
            "clean network gives non-finite outputs"
        );
        for slot in all_slots() {
            if matches!(slot, Slot::Y(_)) && !soft {
                continue;
            }
            let dirty = run_everything::<T>(Some((slot, T::NAN)), soft);
            for ((name, v), (_, c)) in dirty.iter().zip(&clean) {
                if depends(name, slot) {
                    assert!(
                        v.is_nan(),
                        "{} NaN at {slot:?} (soft target: {soft}) should reach {name}, got {v:?}",
                        T::NAME
                    );
                } else {
                    assert!(
                        v.to_f64().to_bits() == c.to_f64().to_bits(),
                        "{} NaN at {slot:?} changed {name}, which does not depend on it: {v:?} vs {c:?}",
                        T::NAME
                    );
                }
            }
        }
    }
}

#[test]
fn nan_anywhere_in_the_network_reaches_exactly_the_outputs_it_touches_f32() {
    check_nan_propagation::<f32>();
}

#[test]
fn nan_anywhere_in_the_network_reaches_exactly_the_outputs_it_touches_f64() {
    check_nan_propagation::<f64>();
}

/// ±∞ anywhere: no panic (the calls complete), and the loss is never a
/// negative number (NaN, +∞ or ≥ 0) while the target is non-negative (a
/// target entry of −∞ legitimately gives a loss of −∞).
fn check_infinities<T: Real>() {
    for soft in [false, true] {
        for slot in all_slots() {
            for v in [T::INFINITY, T::NEG_INFINITY] {
                if matches!(slot, Slot::Y(_)) && !soft {
                    continue;
                }
                let out = run_everything::<T>(Some((slot, v)), soft);
                for (name, value) in &out {
                    let negative_target = matches!(slot, Slot::Y(_)) && v.to_f64() < 0.0;
                    if (name.contains(".L") || name == "loss()[0]") && !negative_target {
                        assert!(
                            value.is_nan() || value.to_f64() >= 0.0,
                            "{} {v:?} at {slot:?}: {name} = {value:?}",
                            T::NAME
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn infinities_anywhere_never_panic_f32() {
    check_infinities::<f32>();
}

#[test]
fn infinities_anywhere_never_panic_f64() {
    check_infinities::<f64>();
}

/// Values whose forward intermediates are finite give a finite loss and
/// finite gradients: subnormal parameters, inputs and targets, and huge but
/// finite ones (inputs and `W1` of 1e18, `W2` and `b2` of 1e30 in `f32`:
/// `a` ~ 1e36, `θ` ~ 1e30, all below `f32::MAX`).
fn check_finite_in_finite_out<T: Real>() {
    let sub = if T::NAME == "f32" {
        f64::from(f32::MIN_POSITIVE) / 8.0
    } else {
        f64::MIN_POSITIVE / 8.0
    };
    let cases: [(&str, f64, f64, f64); 4] = [
        ("subnormal everything", sub, sub, sub),
        ("subnormal weights, unit inputs", 1.0, sub, sub),
        ("huge", 1e18, 1e18, 1e30),
        ("huge input, tiny weights", 1e30, 1e-30, 1.0),
    ];
    for (what, sx, s1, s2) in cases {
        let Parts {
            w1, b1, w2, b2, x, ..
        } = parts::<T>();
        let sc =
            |m: &[T], s: f64| -> Vec<T> { m.iter().map(|v| T::from_f64(v.to_f64() * s)).collect() };
        let mlp = Mlp::<IN, HID, OUT, T>::new(
            Mat::try_from_slice(&sc(w1.as_slice(), s1)).unwrap(),
            RowVec::try_from_slice(&sc(b1.as_slice(), s1)).unwrap(),
            Mat::try_from_slice(&sc(w2.as_slice(), s2)).unwrap(),
            RowVec::try_from_slice(&sc(b2.as_slice(), s2)).unwrap(),
        );
        let x = RowVec::<IN, T>::try_from_slice(&sc(x.as_slice(), sx)).unwrap();
        let soft_y = [sub, 0.5, 0.0, 0.25, 0.25].map(T::from_f64);
        for target in [Target::class(0).unwrap(), Target::probs(soft_y)] {
            let f = mlp.forward(&x);
            for (name, v) in [
                ("a", f.a.as_slice()),
                ("h", f.h.as_slice()),
                ("θ", f.theta.as_slice()),
                ("ŷ", f.y_hat.as_slice()),
            ] {
                assert!(
                    v.iter().all(|t| t.is_finite()),
                    "{} {what}: forward {name} = {v:?}",
                    T::NAME
                );
            }
            let g = mlp.grads(&x, &target);
            assert!(
                g.loss.is_finite() && g.loss.to_f64() >= 0.0,
                "{} {what}: loss {:?}",
                T::NAME,
                g.loss
            );
            for (name, v) in [
                ("x", g.x.as_slice()),
                ("W1", g.w1.as_slice()),
                ("b1", g.b1.as_slice()),
                ("W2", g.w2.as_slice()),
                ("b2", g.b2.as_slice()),
            ] {
                assert!(
                    v.iter().all(|t| t.is_finite()),
                    "{} {what} ({target:?}): dL/d{name} = {v:?}",
                    T::NAME
                );
            }
            let (l, dx) = mlp.input_grad(&x, &target);
            assert!(l.is_finite() && dx.row().iter().all(|t| t.is_finite()));
            assert!(mlp.loss(&x, &target).is_finite());
        }
    }
}

#[test]
fn finite_and_subnormal_inputs_give_finite_loss_and_gradients() {
    check_finite_in_finite_out::<f32>();
    check_finite_in_finite_out::<f64>();
}

// --------------------------------- non-finite: math kernels and algebra --

/// The special values planted one at a time.
fn specials<T: Real>() -> [T; 6] {
    let sub = if T::NAME == "f32" {
        f64::from(f32::from_bits(1))
    } else {
        f64::from_bits(1)
    };
    [
        T::NAN,
        T::INFINITY,
        T::NEG_INFINITY,
        T::from_f64(sub),
        T::from_f64(-sub),
        T::from_f64(-0.0),
    ]
}

/// Elementwise kernels: a special value at position `j` changes output `j`
/// only; NaN gives NaN there. Row kernels: NaN anywhere makes every output
/// NaN (documented); other specials never panic.
fn check_math_specials<T: Real>() {
    const N: usize = 11;
    let base: [T; N] = core::array::from_fn(|j| T::from_f64(j as f64 * 0.3 - 1.5));
    let clean_exp = math::exp(&RowVec::from_row(base));
    let clean_sig = math::sigmoid(&RowVec::from_row(base));
    for v in specials::<T>() {
        for j in 0..N {
            let mut row = base;
            row[j] = v;
            let r = RowVec::from_row(row);
            for (name, got, clean) in [
                ("exp", math::exp(&r), clean_exp),
                ("sigmoid", math::sigmoid(&r), clean_sig),
            ] {
                for jj in 0..N {
                    let (g, c) = (got[(0, jj)], clean[(0, jj)]);
                    if jj == j {
                        assert_eq!(g.is_nan(), v.is_nan(), "{name}({v:?}) = {g:?}");
                    } else {
                        assert!(
                            g.to_f64().to_bits() == c.to_f64().to_bits(),
                            "{name}: {v:?} at {j} changed output {jj}"
                        );
                    }
                }
            }
            let mut slice = row;
            math::exp_in_place(&mut slice);
            math::sigmoid_in_place(&mut slice);
            let sm = math::softmax(&r);
            let lsm = math::log_softmax(&r);
            let lse = math::logsumexp(&r);
            let ce_class = math::cross_entropy(&r, &Target::class(j).unwrap());
            let ce_soft = math::cross_entropy(&r, &Target::probs([T::from_f64(1.0 / N as f64); N]));
            if v.is_nan() {
                assert!(
                    sm.row().iter().all(|t| t.is_nan()),
                    "softmax with NaN: {sm:?}"
                );
                assert!(
                    lsm.row().iter().all(|t| t.is_nan()),
                    "log_softmax with NaN: {lsm:?}"
                );
                assert!(lse.is_nan() && ce_class.is_nan() && ce_soft.is_nan());
            }
            // A soft target with the special value.
            let mut y = [T::from_f64(1.0 / N as f64); N];
            y[j] = v;
            let ce = math::cross_entropy(&RowVec::from_row(base), &Target::probs(y));
            if v.is_nan() {
                assert!(ce.is_nan(), "cross_entropy with NaN target = {ce:?}");
            }
        }
    }
}

#[test]
fn math_kernels_never_panic_and_propagate_nan() {
    check_math_specials::<f32>();
    check_math_specials::<f64>();
}

/// `transpose`, `matmul`, `hadamard`, `add`, `sub`, `scale`, `map`: a NaN at
/// `(i, k)` of the left operand reaches row `i` of a product and `(i, k)` of
/// an elementwise result, nothing else.
#[test]
fn matrix_algebra_propagates_nan_to_what_it_touches() {
    let a0: Mat<3, 4> = Mat::from_rows([
        [1.0, 2.0, 3.0, 4.0],
        [-1.0, 0.5, 0.25, 2.0],
        [0.0, 1.0, -2.0, 3.0],
    ]);
    let b: Mat<4, 2> = Mat::from_rows([[1.0, 0.0], [0.0, 1.0], [2.0, -1.0], [0.5, 0.5]]);
    for v in specials::<f32>() {
        for i in 0..3 {
            for k in 0..4 {
                let mut a = a0;
                a[(i, k)] = v;
                let t = a.transpose();
                assert_eq!(
                    t[(k, i)].to_bits(),
                    v.to_bits(),
                    "transpose moves ({i},{k})"
                );
                let p = a.matmul(&b);
                for (ii, row) in p.rows().iter().enumerate() {
                    for &val in row {
                        if v.is_nan() {
                            assert_eq!(val.is_nan(), ii == i, "matmul row {ii}, NaN at ({i},{k})");
                        } else if ii != i {
                            assert!(val.is_finite());
                        }
                    }
                }
                for (name, m) in [
                    ("hadamard", a.hadamard(&a0)),
                    ("add", a.add(&a0)),
                    ("sub", a.sub(&a0)),
                    ("scale", a.scale(2.0)),
                    ("map", a.map(|x| x * 3.0)),
                ] {
                    for ii in 0..3 {
                        for kk in 0..4 {
                            let val = m[(ii, kk)];
                            if (ii, kk) == (i, k) {
                                // (±∞ · 0 is NaN too, so only NaN → NaN is asserted.)
                                assert!(!v.is_nan() || val.is_nan(), "{name} at ({i},{k}): {val}");
                            } else {
                                assert!(val.is_finite(), "{name}: ({i},{k}) touched ({ii},{kk})");
                            }
                        }
                    }
                }
            }
        }
    }
}
