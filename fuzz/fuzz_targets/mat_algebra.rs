//! Shape-typed algebra on several shapes (including empty ones):
//! `(AB)ᵀ = BᵀAᵀ` within a dot product's rounding bound, transpose involution
//! (bit-exact), `&a * &b == a.matmul(&b)`, correctly rounded Hadamard
//! products, `try_from_slice` round trips and `SliceLength` errors, `get`.
//! See `constgrad_fuzz::checks::check_mat`.
#![no_main]

use arbitrary::Arbitrary;
use constgrad_fuzz::{checks, enforce, F32};
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    shape: u8,
    a: [F32; 81],
    b: [F32; 160],
    c: [F32; 81],
    data: Vec<F32>,
    get: (u8, u8),
}

fn mat<const R: usize, const C: usize>(v: &[F32]) -> [[f32; C]; R] {
    core::array::from_fn(|i| core::array::from_fn(|j| v[i * C + j].0))
}

fn run<const R: usize, const C: usize, const K: usize>(input: &Input) {
    let data: Vec<f32> = input.data.iter().take(200).map(|v| v.0).collect();
    let get = (usize::from(input.get.0 % 24), usize::from(input.get.1 % 24));
    enforce(
        "mat_algebra",
        checks::check_mat::<R, C, K>(mat(&input.a), mat(&input.b), mat(&input.c), &data, get),
    );
}

fuzz_target!(init: constgrad_fuzz::init(), |input: Input| {
    match input.shape % 9 {
        0 => run::<1, 1, 1>(&input),
        1 => run::<3, 5, 4>(&input),
        2 => run::<2, 9, 17>(&input),
        3 => run::<5, 3, 5>(&input),
        4 => run::<8, 8, 8>(&input),
        5 => run::<1, 17, 1>(&input),
        6 => run::<9, 9, 9>(&input),
        7 => run::<0, 4, 3>(&input),
        _ => run::<2, 0, 3>(&input),
    }
});
