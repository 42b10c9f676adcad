// The correct formula: (((ŷ − y)·W2ᵀ) ∘ σ'(a))·W1ᵀ, a 1×5 row like x.
use constgrad::Mat;

fn main() {
    let d_theta = Mat::<1, 5>::zeros();
    let w1 = Mat::<5, 3>::zeros();
    let w2 = Mat::<3, 5>::zeros();
    let s_prime = Mat::<1, 3>::zeros();
    let dl_dx: Mat<1, 5> = d_theta.matmul(&w2.transpose()).hadamard(&s_prime).matmul(&w1.transpose());
    assert_eq!(dl_dx, Mat::<1, 5>::zeros());
}
