//! `exp` and `sigmoid` (f32 and f64) on slices of any length, starting at any
//! offset (so every value meets every lane position and the padded tail):
//! documented ulp bounds and special values against f64 / double-double
//! references. See `constgrad_fuzz::checks::check_exp_f32` and friends.
#![no_main]

use arbitrary::Arbitrary;
use constgrad::math::{exp_in_place, sigmoid_in_place};
use constgrad_fuzz::{checks, enforce, F32, F64};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    start: u8,
    f32s: Vec<F32>,
    f64s: Vec<F64>,
}

fuzz_target!(init: constgrad_fuzz::init(), |input: Input| {
    let start = usize::from(input.start % 24);
    let xs: Vec<f32> = input.f32s.iter().take(72).map(|v| v.0).collect();
    let bits32 = |v: f32| u64::from(v.to_bits());
    enforce(
        "exp_f32",
        checks::check_in_place(&xs, start, exp_in_place::<f32>, checks::check_exp_f32, bits32),
    );
    enforce(
        "sigmoid_f32",
        checks::check_in_place(&xs, start, sigmoid_in_place::<f32>, checks::check_sigmoid_f32, bits32),
    );
    let xs: Vec<f64> = input.f64s.iter().take(40).map(|v| v.0).collect();
    let start = start % 12;
    enforce(
        "exp_f64",
        checks::check_in_place(&xs, start, exp_in_place::<f64>, checks::check_exp_f64, f64::to_bits),
    );
    enforce(
        "sigmoid_f64",
        checks::check_in_place(&xs, start, sigmoid_in_place::<f64>, checks::check_sigmoid_f64, f64::to_bits),
    );
});
