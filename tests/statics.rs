//! Networks, gradients and optimiser state of any size can live in `static`s
//! (`Mlp::ZERO`, `Grads::ZERO`, `const Momentum::new`), be filled in place and
//! used from a thread with a 256 KiB stack, without ever being staged on the
//! stack. The gradient is checked against central differences of an
//! independent f64 evaluation (`gradcheck`).

use std::sync::Mutex;

use constgrad::{gradcheck, Grads, Mlp, Momentum, Reduction, RowVec, Target};

static NET: Mutex<Mlp<784, 128, 10>> = Mutex::new(Mlp::ZERO);
static GRADS: Mutex<Grads<784, 128, 10>> = Mutex::new(Grads::ZERO);
static OPT: Mutex<Momentum<784, 128, 10>> = Mutex::new(Momentum::new(0.9));
static BATCH_NET: Mutex<Mlp<784, 128, 10>> = Mutex::new(Mlp::ZERO);
static BATCH_GRADS: Mutex<Grads<784, 128, 10>> = Mutex::new(Grads::ZERO);
static ONE_GRADS: Mutex<Grads<784, 128, 10>> = Mutex::new(Grads::ZERO);

#[test]
fn a_mnist_sized_network_in_a_static_trains_on_a_256_kib_stack() {
    let worker = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(|| {
            let mut net = NET.lock().expect("not poisoned");
            let mut seed = 0x1234_5678_u64;
            net.fill_with(|_, i, j| {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                let u = (seed >> 40) as f32 / (1u32 << 24) as f32;
                0.05 * (2.0 * u - 1.0) + 1e-4 * ((i + j) % 3) as f32
            });
            let mut x = RowVec::<784>::zeros();
            for (i, v) in x.row_mut().iter_mut().enumerate() {
                *v = ((i * 37) % 101) as f32 / 101.0;
            }
            let target = Target::class(3).expect("3 < 10");

            let (loss, dx) = net.input_grad(&x, &target);
            let mut grads = GRADS.lock().expect("not poisoned");
            net.grads_into(&x, &target, &mut grads);
            assert_eq!(grads.x, dx);
            assert_eq!(grads.loss, loss);

            // One momentum step lowers the loss on this sample.
            OPT.lock()
                .expect("not poisoned")
                .step(&mut net, &grads, 0.05);
            let after = net.loss(&x, &target);
            assert!(after < loss, "loss {loss} → {after}");
        });
    worker
        .expect("spawn")
        .join()
        .expect("no stack overflow or failure");

    // dL/dx of the trained network against f64 central differences, 1e-4 of
    // the natural scale (f32 kernel ~1e-6; FD in f64 ~1e-9).
    let net = NET.lock().expect("not poisoned");
    let mut x = RowVec::<784>::zeros();
    for (i, v) in x.row_mut().iter_mut().enumerate() {
        *v = ((i * 37) % 101) as f32 / 101.0;
    }
    let report = gradcheck::check_input_grad(&net, &x, &Target::class(3).expect("3 < 10"), 1e-4);
    assert!(report.passed(), "{report}");
}

/// The batched calls hold a block of samples in SIMD lanes, so they need
/// more stack than the one-sample ones: for 784→128→10 they fit in 320 KiB
/// in release builds and 1 MiB in debug builds (README, "Large networks").
/// Three copies of one sample (a partial block) must sum to three times its
/// one-sample gradients, up to rounding.
#[test]
fn batched_calls_of_a_mnist_sized_network_fit_the_documented_stack() {
    let kib = if cfg!(debug_assertions) { 1024 } else { 320 };
    let worker = std::thread::Builder::new()
        .stack_size(kib * 1024)
        .spawn(|| {
            let mut net = BATCH_NET.lock().expect("not poisoned");
            net.fill_with(|_, i, j| 0.01 * (((3 * i + 7 * j) % 11) as f32 - 5.0));
            let mut x = RowVec::<784>::zeros();
            for (i, v) in x.row_mut().iter_mut().enumerate() {
                *v = ((i * 37) % 101) as f32 / 101.0;
            }
            let target = Target::class(3).expect("3 < 10");
            let mut one = ONE_GRADS.lock().expect("not poisoned");
            net.grads_into(&x, &target, &mut one);

            let (xs, ts) = ([x; 3], [target; 3]);
            let (mut losses, mut dxs) = ([0.0f32; 3], [RowVec::zeros(); 3]);
            net.input_grad_batch(&xs, &ts, &mut losses, &mut dxs)
                .expect("equal lengths");
            let mut batch = BATCH_GRADS.lock().expect("not poisoned");
            net.grads_batch(&xs, &ts, Reduction::Sum, &mut losses, &mut dxs, &mut batch)
                .expect("equal lengths");
            let close = |a: f32, b: f32| (a - b).abs() <= 1e-5 * (b.abs() + 1e-3);
            assert!(
                close(batch.loss, 3.0 * one.loss),
                "{} vs 3 × {}",
                batch.loss,
                one.loss
            );
            for (part, got, want) in [
                ("x", batch.x.as_slice(), one.x.as_slice()),
                ("w1", batch.w1.as_slice(), one.w1.as_slice()),
                ("b1", batch.b1.as_slice(), one.b1.as_slice()),
                ("w2", batch.w2.as_slice(), one.w2.as_slice()),
                ("b2", batch.b2.as_slice(), one.b2.as_slice()),
            ] {
                for (i, (g, w)) in got.iter().zip(want).enumerate() {
                    assert!(close(*g, 3.0 * w), "{part}[{i}]: {g} vs 3 × {w}");
                }
            }
        });
    worker
        .expect("spawn")
        .join()
        .expect("no stack overflow or failure");
}
