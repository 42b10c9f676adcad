// The answer's formula again, with its two factors named: the compiler then
// reports the shape clash at the Hadamard product itself, 1×3 ∘ 1×5.
use constgrad::Mat;

fn main() {
    let d_theta = Mat::<1, 5>::zeros();
    let w1 = Mat::<5, 3>::zeros();
    let w2 = Mat::<3, 5>::zeros();
    let h_minus_h2 = Mat::<1, 3>::zeros();
    let dl_dh: Mat<1, 3> = d_theta.matmul(&w2.transpose());
    let slope_times_w1t: Mat<1, 5> = h_minus_h2.matmul(&w1.transpose());
    let _dl_dx = dl_dh.hadamard(&slope_times_w1t);
}
