//! Networks, gradients and optimiser state of any size can live in `static`s
//! (`Mlp::ZERO`, `Grads::ZERO`, `const Momentum::new`), be filled in place and
//! used from a thread with a 256 KiB stack, without ever being staged on the
//! stack. The gradient is checked against central differences of an
//! independent f64 evaluation (`gradcheck`).

use std::sync::Mutex;

use constgrad::{gradcheck, Grads, Mlp, Momentum, RowVec, Target};

static NET: Mutex<Mlp<784, 128, 10>> = Mutex::new(Mlp::ZERO);
static GRADS: Mutex<Grads<784, 128, 10>> = Mutex::new(Grads::ZERO);
static OPT: Mutex<Momentum<784, 128, 10>> = Mutex::new(Momentum::new(0.9));

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
