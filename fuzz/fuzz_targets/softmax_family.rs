//! softmax, log_softmax, logsumexp and cross_entropy (class and soft
//! targets) on rows of N = 0, 1, 2, 5, 8, 9, 17 logits: ranges, sums, signs,
//! accuracy against an f64 reference, and the documented special values for
//! rows with ±∞ and NaN. See `constgrad_fuzz::checks::check_softmax_row`.
#![no_main]

use arbitrary::Arbitrary;
use constgrad_fuzz::{checks, enforce, F32};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    n: u8,
    label: u8,
    theta: [F32; 17],
    y: [F32; 17],
}

fn run<const N: usize>(input: &Input) {
    let theta: [f32; N] = core::array::from_fn(|j| input.theta[j].0);
    let y: [f32; N] = core::array::from_fn(|j| input.y[j].0);
    // Mostly valid labels; 1 in 16 far out of range (must be rejected).
    let label = if input.label >= 240 {
        usize::from(input.label)
    } else {
        usize::from(input.label) % N.max(1)
    };
    enforce(
        "softmax_row",
        checks::check_softmax_row::<N>(theta, label, y),
    );
}

fuzz_target!(init: constgrad_fuzz::init(), |input: Input| {
    match input.n % 8 {
        0 => run::<0>(&input),
        1 => run::<1>(&input),
        2 => run::<2>(&input),
        3 => run::<5>(&input),
        4 => run::<8>(&input),
        5 => run::<9>(&input),
        _ => run::<17>(&input),
    }
});
