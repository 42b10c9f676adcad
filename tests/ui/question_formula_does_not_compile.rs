// The question's formula: ((ŷ − y)·W2ᵀ) ∘ σ'(a) · W1.
// (1×5 · 5×3) ∘ 1×3 is a 1×3 row, and a 1×3 row cannot be multiplied by the
// 5×3 matrix W1: the inner dimensions (3 and 5) differ. The correct product
// is with W1ᵀ (3×5).
use constgrad::Mat;

fn main() {
    let d_theta = Mat::<1, 5>::zeros();
    let w1 = Mat::<5, 3>::zeros();
    let w2 = Mat::<3, 5>::zeros();
    let s_prime = Mat::<1, 3>::zeros();
    let _dl_dx = d_theta.matmul(&w2.transpose()).hadamard(&s_prime).matmul(&w1);
}
