//! Conversions to and from other crates' types, behind features:
//! `nalgebra` (`SMatrix`) and `serde` (serialisation of `Mat` and `Mlp`, so
//! trained weights can be saved).

#[cfg(feature = "nalgebra")]
mod nalgebra_impls {
    use crate::{Mat, Real};

    impl<const R: usize, const C: usize, T: Real + nalgebra::Scalar> From<Mat<R, C, T>>
        for nalgebra::SMatrix<T, R, C>
    {
        /// The same matrix in nalgebra's type, element for element.
        ///
        /// # Examples
        ///
        /// ```
        /// let m = constgrad::Mat::from_rows([[1.0f32, 2.0], [3.0, 4.0]]);
        /// let n: nalgebra::SMatrix<f32, 2, 2> = m.into();
        /// assert_eq!(n[(1, 0)], 3.0);
        /// ```
        fn from(m: Mat<R, C, T>) -> Self {
            Self::from_fn(|i, j| m.rows()[i][j])
        }
    }

    impl<const R: usize, const C: usize, T: Real + nalgebra::Scalar>
        From<nalgebra::SMatrix<T, R, C>> for Mat<R, C, T>
    {
        /// The same matrix in constgrad's type, element for element.
        ///
        /// # Examples
        ///
        /// ```
        /// let n = nalgebra::SMatrix::<f32, 2, 3>::from_fn(|i, j| (10 * i + j) as f32);
        /// let m: constgrad::Mat<2, 3> = n.into();
        /// assert_eq!(m[(1, 2)], 12.0);
        /// ```
        fn from(n: nalgebra::SMatrix<T, R, C>) -> Self {
            let mut m = Mat::zeros();
            for (i, row) in m.rows_mut().iter_mut().enumerate() {
                for (j, v) in row.iter_mut().enumerate() {
                    *v = n[(i, j)];
                }
            }
            m
        }
    }
}

#[cfg(feature = "serde")]
mod serde_impls {
    use core::fmt;
    use core::marker::PhantomData;

    use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};
    use serde::ser::{Serialize, SerializeStruct, SerializeTuple, Serializer};

    use crate::{Mat, Mlp, Real, RowVec};

    struct Row<'a, T, const C: usize>(&'a [T; C]);

    impl<T: Serialize, const C: usize> Serialize for Row<'_, T, C> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut t = s.serialize_tuple(C)?;
            for v in self.0 {
                t.serialize_element(v)?;
            }
            t.end()
        }
    }

    /// A matrix serialises as its rows: `[[a, b, c], [d, e, f]]` in JSON.
    impl<const R: usize, const C: usize, T: Real + Serialize> Serialize for Mat<R, C, T> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut t = s.serialize_tuple(R)?;
            for row in self.rows() {
                t.serialize_element(&Row(row))?;
            }
            t.end()
        }
    }

    struct RowVisitor<T, const C: usize>(PhantomData<T>);

    impl<'de, T: Real + Deserialize<'de>, const C: usize> Visitor<'de> for RowVisitor<T, C> {
        type Value = [T; C];
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a row of {C} numbers")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<[T; C], A::Error> {
            let mut row = [T::ZERO; C];
            for (j, v) in row.iter_mut().enumerate() {
                *v = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(j, &self))?;
            }
            if seq.next_element::<de::IgnoredAny>()?.is_some() {
                return Err(de::Error::invalid_length(C + 1, &self));
            }
            Ok(row)
        }
    }

    struct RowSeed<T, const C: usize>(PhantomData<T>);

    impl<'de, T: Real + Deserialize<'de>, const C: usize> de::DeserializeSeed<'de> for RowSeed<T, C> {
        type Value = [T; C];
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<[T; C], D::Error> {
            d.deserialize_tuple(C, RowVisitor::<T, C>(PhantomData))
        }
    }

    struct MatVisitor<T, const R: usize, const C: usize>(PhantomData<T>);

    impl<'de, T: Real + Deserialize<'de>, const R: usize, const C: usize> Visitor<'de>
        for MatVisitor<T, R, C>
    {
        type Value = Mat<R, C, T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "a {R}×{C} matrix as {R} rows of {C} numbers")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Mat<R, C, T>, A::Error> {
            let mut m = Mat::zeros();
            for (i, row) in m.rows_mut().iter_mut().enumerate() {
                *row = seq
                    .next_element_seed(RowSeed::<T, C>(PhantomData))?
                    .ok_or_else(|| de::Error::invalid_length(i, &self))?;
            }
            if seq.next_element::<de::IgnoredAny>()?.is_some() {
                return Err(de::Error::invalid_length(R + 1, &self));
            }
            Ok(m)
        }
    }

    impl<'de, const R: usize, const C: usize, T: Real + Deserialize<'de>> Deserialize<'de>
        for Mat<R, C, T>
    {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_tuple(R, MatVisitor::<T, R, C>(PhantomData))
        }
    }

    /// A network serialises as its parameters `{w1, b1, w2, b2}`; the
    /// transposed layouts are rebuilt on deserialisation.
    impl<const IN: usize, const HID: usize, const OUT: usize, T: Real + Serialize> Serialize
        for Mlp<IN, HID, OUT, T>
    {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            let mut st = s.serialize_struct("Mlp", 4)?;
            st.serialize_field("w1", self.w1())?;
            st.serialize_field("b1", self.b1())?;
            st.serialize_field("w2", self.w2())?;
            st.serialize_field("b2", self.b2())?;
            st.end()
        }
    }

    #[derive(serde::Deserialize)]
    #[serde(bound = "T: Real + Deserialize<'de>", deny_unknown_fields)]
    struct Params<const IN: usize, const HID: usize, const OUT: usize, T> {
        w1: Mat<IN, HID, T>,
        b1: RowVec<HID, T>,
        w2: Mat<HID, OUT, T>,
        b2: RowVec<OUT, T>,
    }

    impl<'de, const IN: usize, const HID: usize, const OUT: usize, T: Real + Deserialize<'de>>
        Deserialize<'de> for Mlp<IN, HID, OUT, T>
    {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            let p = Params::<IN, HID, OUT, T>::deserialize(d)?;
            Ok(Mlp::new(p.w1, p.b1, p.w2, p.b2))
        }
    }
}
