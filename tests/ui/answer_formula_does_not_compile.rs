// The answer's formula: ((ŷ − y)·W2ᵀ) ∘ ((h − h∘h)·W1ᵀ).
// (h − h∘h)·W1ᵀ is 1×3 · 3×5 = 1×5, and the elementwise product of the 1×3
// row (ŷ − y)·W2ᵀ with a 1×5 row is not defined. The correct order applies
// σ'(a) first and W1ᵀ last.
use constgrad::Mat;

fn main() {
    let d_theta = Mat::<1, 5>::zeros();
    let w1 = Mat::<5, 3>::zeros();
    let w2 = Mat::<3, 5>::zeros();
    let h_minus_h2 = Mat::<1, 3>::zeros();
    let _dl_dx = d_theta
        .matmul(&w2.transpose())
        .hadamard(&h_minus_h2.matmul(&w1.transpose()));
}
