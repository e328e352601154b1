//! Laws every `Tangent` must satisfy, checked on random values against the flat vectors
//! the visits produce: arithmetic is element-wise, `dot` and `norm_squared` are the
//! Euclidean ones, `locate` agrees with the visit order.

use autodiff::nalgebra::{DMatrix, RowDVector, SVector};
use autodiff::prelude::*;
use proptest::prelude::*;

#[derive(Debug, Clone, PartialEq, Tangent)]
struct Model {
    w: DMatrix<f64>,
    b: RowDVector<f64>,
    head: [SVector<f64, 2>; 2],
    extra: Vec<f64>,
    scale: f64,
}

fn model(rows: usize, cols: usize, extra: usize) -> impl Strategy<Value = Model> {
    let n = rows * cols + cols + 4 + extra + 1;
    prop::collection::vec(-10.0..10.0_f64, n).prop_map(move |v| {
        let mut it = v.into_iter();
        let mut next = || it.next().unwrap_or(0.0);
        Model {
            w: DMatrix::from_fn(rows, cols, |_, _| next()),
            b: RowDVector::from_fn(cols, |_, _| next()),
            head: [
                SVector::from_fn(|_, _| next()),
                SVector::from_fn(|_, _| next()),
            ],
            extra: (0..extra).map(|_| next()).collect(),
            scale: next(),
        }
    })
}

fn pair() -> impl Strategy<Value = (Model, Model)> {
    (1..4usize, 1..4usize, 0..3usize).prop_flat_map(|(r, c, e)| (model(r, c, e), model(r, c, e)))
}

fn flat(m: &Model) -> Vec<f64> {
    let mut out = Vec::new();
    m.visit(&mut |leaf| out.extend_from_slice(leaf));
    out
}

proptest! {
    #[test]
    fn arithmetic_is_elementwise_on_the_flat_view((a, b) in pair(), k in -3.0..3.0_f64) {
        let (fa, fb) = (flat(&a), flat(&b));
        prop_assert_eq!(fa.len(), a.num_elements());

        let mut c = a.clone();
        c.add_assign(&b);
        c.scale(k);
        let expected: Vec<f64> = fa.iter().zip(&fb).map(|(x, y)| (x + y) * k).collect();
        prop_assert_eq!(flat(&c), expected);

        let dot: f64 = fa.iter().zip(&fb).map(|(x, y)| x * y).sum();
        prop_assert!((a.dot(&b) - dot).abs() <= 1e-9 * (1.0 + dot.abs()));
        prop_assert!((a.dot(&b) - b.dot(&a)).abs() <= 1e-9 * (1.0 + dot.abs()));
        prop_assert!((a.norm_squared() - a.dot(&a)).abs() <= 1e-9 * (1.0 + a.norm_squared()));

        let z = a.zero_like();
        prop_assert!(flat(&z).iter().all(|&x| x == 0.0));
        prop_assert!(a.check_structure(&z).is_ok());
    }

    #[test]
    fn zipped_visits_pair_the_same_elements((a, b) in pair()) {
        let mut pairs = Vec::new();
        a.visit_zip(&b, &mut |x, y| pairs.extend(x.iter().copied().zip(y.iter().copied())));
        let expected: Vec<(f64, f64)> = flat(&a).into_iter().zip(flat(&b)).collect();
        prop_assert_eq!(pairs, expected);
    }

    #[test]
    fn locate_follows_the_visit_order((a, _) in pair()) {
        let mut expected = Vec::new();
        a.visit_named("", &mut |name, leaf| {
            for i in 0..leaf.len() {
                expected.push((name.to_string(), i));
            }
        });
        for (flat_index, (name, index)) in expected.into_iter().enumerate() {
            let at = a.locate(flat_index).unwrap();
            prop_assert_eq!((at.parameter, at.index, at.flat_index), (name, index, flat_index));
        }
        prop_assert!(a.locate(a.num_elements()).is_none());
    }
}
