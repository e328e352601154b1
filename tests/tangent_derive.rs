//! `#[derive(Tangent)]` on user structs: named, tuple, generic, nested, skipped fields.

use autodiff::nalgebra::{DMatrix, RowDVector, SVector};
use autodiff::prelude::*;

#[derive(Debug, Clone, PartialEq, Tangent)]
struct Mlp {
    w1: DMatrix<f64>,
    b1: RowDVector<f64>,
    w2: DMatrix<f64>,
    b2: f64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Activation {
    Relu,
}

#[derive(Debug, Clone, PartialEq, Tangent)]
struct Deep {
    #[tangent(skip)]
    activation: Activation,
    layers: Vec<Mlp>,
    head: (SVector<f64, 2>, f64),
}

#[derive(Debug, Clone, PartialEq, Tangent)]
struct Pair(DMatrix<f32>, f32);

#[derive(Debug, Clone, PartialEq, Tangent)]
struct Generic<T: Copy> {
    w: Vec<T>,
    r#b: T,
}

fn mlp(seed: f64) -> Mlp {
    Mlp {
        w1: DMatrix::from_fn(2, 3, |i, j| seed + (i * 3 + j) as f64),
        b1: RowDVector::from_fn(3, |_, j| seed - j as f64),
        w2: DMatrix::from_fn(3, 1, |i, _| seed * i as f64),
        b2: seed,
    }
}

fn flat<P: Tangent<Scalar = f64>>(p: &P) -> Vec<f64> {
    let mut out = Vec::new();
    p.visit(&mut |leaf| out.extend_from_slice(leaf));
    out
}

fn names<P: Tangent>(p: &P) -> Vec<String> {
    let mut out = Vec::new();
    p.visit_named("", &mut |name, _| out.push(name.to_string()));
    out
}

#[test]
fn a_struct_is_the_concatenation_of_its_fields() {
    let m = mlp(1.0);
    let mut expected = m.w1.as_slice().to_vec();
    expected.extend_from_slice(m.b1.as_slice());
    expected.extend_from_slice(m.w2.as_slice());
    expected.push(m.b2);
    assert_eq!(flat(&m), expected);
    assert_eq!(m.num_elements(), 6 + 3 + 3 + 1);
    assert_eq!(names(&m), ["w1", "b1", "w2", "b2"]);
    assert_eq!(
        m.norm_squared(),
        expected.iter().map(|x| x * x).sum::<f64>()
    );
}

#[test]
fn arithmetic_goes_field_by_field() {
    let (a, b) = (mlp(1.0), mlp(-0.5));
    let mut c = a.clone();
    c.add_assign(&b);
    c.scale(3.0);
    let expected: Vec<f64> = flat(&a)
        .iter()
        .zip(flat(&b))
        .map(|(x, y)| 3.0 * (x + y))
        .collect();
    assert_eq!(flat(&c), expected);
    let dot: f64 = flat(&a).iter().zip(flat(&b)).map(|(x, y)| x * y).sum();
    assert_eq!(a.dot(&b), dot);
    let z = a.zero_like();
    assert_eq!(z.w1.shape(), (2, 3));
    assert!(flat(&z).iter().all(|&x| x == 0.0));
}

#[test]
fn nested_structs_get_dotted_names_and_skip_their_config() {
    let d = Deep {
        activation: Activation::Relu,
        layers: vec![mlp(1.0), mlp(2.0)],
        head: (SVector::from([1.0, 2.0]), 3.0),
    };
    assert_eq!(
        names(&d),
        [
            "layers.0.w1",
            "layers.0.b1",
            "layers.0.w2",
            "layers.0.b2",
            "layers.1.w1",
            "layers.1.b1",
            "layers.1.w2",
            "layers.1.b2",
            "head.0",
            "head.1"
        ]
    );
    let z = d.zero_like();
    assert_eq!(z.activation, Activation::Relu);
    assert_eq!(z.num_elements(), d.num_elements());
    let at = d.locate(13).unwrap();
    assert_eq!((at.parameter.as_str(), at.index), ("layers.1.w1", 0));

    let mut other = d.clone();
    other.layers[1].w2 = DMatrix::zeros(1, 3);
    let err = d.check_structure(&other).unwrap_err();
    assert_eq!(err.path, "layers.1.w2");
    assert_eq!(
        (err.expected.as_str(), err.found.as_str()),
        ("3x1 matrix", "1x3 matrix")
    );
}

#[test]
fn tuple_and_generic_structs_work_in_f32() {
    let p = Pair(DMatrix::from_element(2, 2, 1.5_f32), 2.0);
    assert_eq!(names(&p), ["0", "1"]);
    assert_eq!(p.norm_squared(), 4.0 * 2.25 + 4.0);

    let g = Generic {
        w: vec![1.0_f32, 2.0],
        b: 3.0,
    };
    assert_eq!(names(&g), ["w", "b"]);
    let mut h = g.zero_like();
    h.add_assign(&g);
    assert_eq!(h, g);
}
