//! Conversions: arrays both ways (always), `nalgebra::SMatrix` (feature
//! `nalgebra`) and serde round trips (feature `serde`).

use constgrad::Mat;
#[cfg(feature = "serde")]
use constgrad::{Mlp, RowVec};

#[test]
fn arrays_convert_both_ways() {
    let rows = [[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let m: Mat<2, 3> = rows.into();
    let back: [[f32; 3]; 2] = m.into();
    assert_eq!(back, rows);
    assert_eq!(
        Mat::from(rows).transpose().rows(),
        &[[1.0, 4.0], [2.0, 5.0], [3.0, 6.0]]
    );
}

#[test]
fn debug_prints_as_a_matrix() {
    let m = Mat::from_rows([[1.0f32, 2.0], [3.0, 4.0]]);
    assert_eq!(format!("{m:?}"), "Mat<2×2> [[1.0, 2.0], [3.0, 4.0]]");
    assert_eq!(
        format!("{m:#?}"),
        "Mat<2×2> [\n    [1.0, 2.0],\n    [3.0, 4.0],\n]"
    );
}

#[cfg(feature = "nalgebra")]
#[test]
fn nalgebra_round_trip_keeps_every_element() {
    let m = Mat::<3, 4, f64>::from_rows(core::array::from_fn(|i| {
        core::array::from_fn(|j| (i * 10 + j) as f64)
    }));
    let n: nalgebra::SMatrix<f64, 3, 4> = m.into();
    for i in 0..3 {
        for j in 0..4 {
            assert_eq!(n[(i, j)], m[(i, j)]);
        }
    }
    // The product agrees with nalgebra's, an independent implementation.
    let b = Mat::<4, 2, f64>::from_rows([[1.0, -1.0], [0.5, 2.0], [0.0, 3.0], [-2.0, 1.0]]);
    let nb: nalgebra::SMatrix<f64, 4, 2> = b.into();
    let prod: Mat<3, 2, f64> = (n * nb).into();
    assert_eq!(prod, m.matmul(&b));
}

#[cfg(feature = "serde")]
#[test]
fn serde_round_trip_restores_the_network() {
    let mlp = Mlp::<3, 2, 2>::new(
        Mat::from_rows([[0.1, -0.2], [0.3, 0.4], [-0.5, 0.6]]),
        RowVec::from_row([0.01, -0.02]),
        Mat::from_rows([[1.5, -1.5], [0.25, 0.75]]),
        RowVec::from_row([0.0, 1.0]),
    );
    let json = serde_json::to_string(&mlp).expect("serialise");
    assert_eq!(
        json,
        r#"{"w1":[[0.1,-0.2],[0.3,0.4],[-0.5,0.6]],"b1":[[0.01,-0.02]],"w2":[[1.5,-1.5],[0.25,0.75]],"b2":[[0.0,1.0]]}"#
    );
    let back: Mlp<3, 2, 2> = serde_json::from_str(&json).expect("deserialise");
    assert_eq!(back, mlp); // includes the rebuilt transposed layouts
}

#[cfg(feature = "serde")]
#[test]
fn serde_rejects_wrong_shapes_with_a_message() {
    let err = serde_json::from_str::<Mat<2, 2>>("[[1.0, 2.0], [3.0]]").unwrap_err();
    assert!(err.to_string().contains("a row of 2 numbers"), "{err}");
    let err =
        serde_json::from_str::<Mat<2, 2>>("[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]").unwrap_err();
    assert!(err.to_string().contains("2×2 matrix"), "{err}");
}
