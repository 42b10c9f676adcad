//! `forward`, `loss`, `input_grad`, `input_grad_accurate`, `grads` and `grads_into` make no heap
//! allocation, proven with a counting global allocator.
//!
//! This file is its own test binary, so the allocator below is the global
//! allocator of this binary only. It counts allocations made on the thread
//! that is measuring (a thread-local counter), so the test harness's own
//! threads cannot disturb the count; and the counter is itself tested to
//! see a `Vec`'s allocation.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::hint::black_box;

use constgrad::math;
use constgrad::{Grads, Mat, Mlp, Real, RowVec, Target};

/// The system allocator, counting every `alloc`, `alloc_zeroed` and
/// `realloc` made on the current thread.
struct CountingAllocator;

thread_local! {
    /// Allocations made on this thread so far. `const`-initialized and
    /// without a destructor, so the allocator can touch it at any time.
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count_one() {
    // `try_with` fails only during thread teardown, when nothing is measured.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged; counting touches only a thread-local `Cell`, never allocates.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded contract of `GlobalAlloc::alloc`.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_one();
        // SAFETY: forwarded contract of `GlobalAlloc::alloc_zeroed`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        // SAFETY: forwarded contract of `GlobalAlloc::realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract of `GlobalAlloc::dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Runs `f` and returns how many allocations it made on this thread.
fn allocations_during<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    let after = ALLOCATIONS.with(Cell::get);
    (after - before, out)
}

#[test]
fn counter_counts_heap_allocations() {
    let (n, v) = allocations_during(|| black_box(Vec::<u64>::with_capacity(black_box(16))));
    assert!(n >= 1, "a Vec allocation was not counted ({n})");
    drop(v);
    let (n, b) = allocations_during(|| black_box(Box::new(black_box([1u8; 64]))));
    assert!(n >= 1, "a Box allocation was not counted ({n})");
    drop(b);
    let (n, ()) = allocations_during(|| {
        black_box([0u64; 16]);
    });
    assert_eq!(n, 0, "a stack array was counted");
}

/// A deterministic, well-scaled network (no random generator needed here:
/// only the absence of allocation is tested).
fn network<const IN: usize, const HID: usize, const OUT: usize, T: Real>(
) -> (Mlp<IN, HID, OUT, T>, RowVec<IN, T>) {
    let fill = |m: &mut [T], phase: f64| {
        for (i, v) in m.iter_mut().enumerate() {
            *v = T::from_f64(((i as f64 + phase) * 0.7).sin());
        }
    };
    let (mut w1, mut b1) = (Mat::<IN, HID, T>::zeros(), RowVec::<HID, T>::zeros());
    let (mut w2, mut b2) = (Mat::<HID, OUT, T>::zeros(), RowVec::<OUT, T>::zeros());
    let mut x = RowVec::<IN, T>::zeros();
    fill(w1.as_mut_slice(), 0.1);
    fill(b1.as_mut_slice(), 0.2);
    fill(w2.as_mut_slice(), 0.3);
    fill(b2.as_mut_slice(), 0.4);
    fill(x.as_mut_slice(), 0.5);
    (Mlp::new(w1, b1, w2, b2), x)
}

/// Every per-sample entry point, once to warm up (nothing lazy may be
/// allocated on first use either: the warm-up call is counted too) and then
/// counted call by call.
fn check<const IN: usize, const HID: usize, const OUT: usize, T: Real>() {
    let (n, (mlp, x)) = allocations_during(network::<IN, HID, OUT, T>);
    assert_eq!(n, 0, "Mlp::new allocated");
    let mut y = [T::ZERO; OUT];
    y[0] = T::from_f64(0.25);
    y[OUT - 1] = T::from_f64(0.75);
    let targets = [Target::class(OUT - 1).unwrap(), Target::probs(y)];
    let shape = format!("{IN}→{HID}→{OUT} {}", T::NAME);
    for target in &targets {
        let mlp = black_box(&mlp);
        let x = black_box(&x);
        let target = black_box(target);
        for round in ["warm-up", "measured"] {
            let calls: [(&str, usize); 6] = [
                (
                    "forward",
                    allocations_during(|| black_box(mlp.forward(x))).0,
                ),
                (
                    "loss",
                    allocations_during(|| black_box(mlp.loss(x, target))).0,
                ),
                (
                    "input_grad",
                    allocations_during(|| black_box(mlp.input_grad(x, target))).0,
                ),
                (
                    "input_grad_accurate",
                    allocations_during(|| black_box(mlp.input_grad_accurate(x, target))).0,
                ),
                (
                    "grads",
                    allocations_during(|| black_box(mlp.grads(x, target))).0,
                ),
                (
                    "grads_into",
                    allocations_during(|| {
                        let mut g = Grads::default();
                        mlp.grads_into(x, target, &mut g);
                        black_box(g)
                    })
                    .0,
                ),
            ];
            for (name, n) in calls {
                assert_eq!(n, 0, "{shape}: {name} ({round}) made {n} heap allocations");
            }
        }
    }

    // The batched entry points, on caller-provided slices: a full block of
    // either precision's batch lanes and a partial one, class labels and
    // probability rows mixed (so the one-sample fallback runs too).
    const N: usize = 19;
    let xs: Vec<RowVec<IN, T>> = vec![x; N];
    let ts: Vec<Target<OUT, T>> = (0..N).map(|k| targets[usize::from(k % 7 == 3)]).collect();
    let mut losses = vec![T::ZERO; N];
    let mut dxs = vec![RowVec::<IN, T>::zeros(); N];
    let mut g = Box::<Grads<IN, HID, OUT, T>>::default();
    for round in ["warm-up", "measured"] {
        let (n, r) = allocations_during(|| {
            black_box(&mlp).input_grad_batch(black_box(&xs), &ts, &mut losses, &mut dxs)
        });
        r.expect("matching lengths");
        assert_eq!(
            n, 0,
            "{shape}: input_grad_batch ({round}) made {n} heap allocations"
        );
        let (n, r) = allocations_during(|| {
            black_box(&mlp).grads_batch(
                black_box(&xs),
                &ts,
                constgrad::Reduction::Mean,
                &mut losses,
                &mut dxs,
                &mut g,
            )
        });
        r.expect("matching lengths");
        assert_eq!(
            n, 0,
            "{shape}: grads_batch ({round}) made {n} heap allocations"
        );
    }
}

#[test]
fn mlp_entry_points_make_no_heap_allocation() {
    check::<5, 3, 5, f32>();
    check::<5, 3, 5, f64>();
    check::<1, 1, 2, f32>();
    check::<33, 17, 9, f32>();
    check::<33, 17, 9, f64>();
    check::<64, 32, 10, f32>();
}

#[test]
fn math_kernels_and_matrix_algebra_make_no_heap_allocation() {
    let theta = black_box(RowVec::from_row([
        0.5f32, -1.0, 2.0, 0.0, 3.0, -4.0, 1.5, 0.25, -0.5,
    ]));
    let target = black_box(Target::class(4).unwrap());
    let a = black_box(Mat::<3, 9, f32>::splat(0.5));
    let mut buf = black_box([0.1f64; 19]);
    let (n, ()) = allocations_during(|| {
        black_box(math::exp(&theta));
        black_box(math::sigmoid(&theta));
        black_box(math::softmax(&theta));
        black_box(math::log_softmax(&theta));
        black_box(math::logsumexp(&theta));
        black_box(math::cross_entropy(&theta, &target));
        math::exp_in_place(&mut buf);
        math::sigmoid_in_place(&mut buf);
        black_box(theta.matmul(&a.transpose()));
        black_box(a.transpose().matmul(&a));
        black_box(theta.hadamard(&theta));
        black_box(Mat::<3, 3, f32>::try_from_slice(&[0.0; 9]).is_ok());
    });
    assert_eq!(n, 0, "math kernels / Mat algebra made {n} heap allocations");
}
