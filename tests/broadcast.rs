//! `Broadcast` (`add_row`, `sub_row`, `add_column`, `sub_column`) against the forward code
//! `#[differentiable]` generates for the same operators: equal bit for bit, in f64 and f32,
//! on shapes with and without remainders of the vector width.

use autodiff::data::Rng;
use autodiff::nalgebra::{DMatrix, DVector, RowDVector};
use autodiff::prelude::*;

#[differentiable]
fn row_add<T: Real>(h: &DMatrix<T>, b: &RowDVector<T>) -> DMatrix<T> {
    h + b
}

#[differentiable]
fn row_sub<T: Real>(h: &DMatrix<T>, b: &RowDVector<T>) -> DMatrix<T> {
    h - b
}

#[differentiable]
fn column_add<T: Real>(h: &DMatrix<T>, c: &DVector<T>) -> DMatrix<T> {
    h + c
}

#[differentiable]
fn column_sub<T: Real>(h: &DMatrix<T>, c: &DVector<T>) -> DMatrix<T> {
    h - c
}

/// A dense layer, as in `examples/train.rs`.
#[differentiable]
fn dense(x: &DMatrix<f64>, w: &DMatrix<f64>, b: &RowDVector<f64>) -> DMatrix<f64> {
    x * w + b
}

#[differentiable]
fn dense32(x: &DMatrix<f32>, w: &DMatrix<f32>, b: &RowDVector<f32>) -> DMatrix<f32> {
    x * w + b
}

fn bits64(m: &DMatrix<f64>) -> Vec<u64> {
    m.iter().map(|v| v.to_bits()).collect()
}

fn bits32(m: &DMatrix<f32>) -> Vec<u32> {
    m.iter().map(|v| v.to_bits()).collect()
}

/// Values of all signs and magnitudes, with a few that round when added.
fn matrix(rng: &mut Rng, rows: usize, cols: usize) -> DMatrix<f64> {
    DMatrix::from_fn(rows, cols, |_, _| {
        rng.normal() * 10f64.powi(rng.below(7) as i32 - 3)
    })
}

const SHAPES: [(usize, usize); 6] = [(1, 1), (1, 5), (3, 1), (4, 3), (7, 9), (33, 17)];

#[test]
fn row_and_column_broadcasts_equal_the_macro_bit_for_bit_f64() {
    let mut rng = Rng::new(18);
    for (r, c) in SHAPES {
        let h = matrix(&mut rng, r, c);
        let b = RowDVector::from_iterator(c, matrix(&mut rng, 1, c).iter().copied());
        let col = DVector::from_iterator(r, matrix(&mut rng, r, 1).iter().copied());
        assert_eq!(bits64(&h.add_row(&b)), bits64(&row_add(&h, &b)), "{r}x{c}");
        assert_eq!(bits64(&h.sub_row(&b)), bits64(&row_sub(&h, &b)), "{r}x{c}");
        assert_eq!(
            bits64(&h.add_column(&col)),
            bits64(&column_add(&h, &col)),
            "{r}x{c}"
        );
        assert_eq!(
            bits64(&h.sub_column(&col)),
            bits64(&column_sub(&h, &col)),
            "{r}x{c}"
        );
        // And the value the macro's reverse code saw: `name_vjp` returns the forward value.
        let (y, _) = row_add_vjp(&h, &b, DMatrix::from_element(r, c, 1.0));
        assert_eq!(bits64(&h.add_row(&b)), bits64(&y));
    }
}

#[test]
fn row_and_column_broadcasts_equal_the_macro_bit_for_bit_f32() {
    let mut rng = Rng::new(19);
    for (r, c) in SHAPES {
        let h = matrix(&mut rng, r, c).map(|v| v as f32);
        let b = RowDVector::from_iterator(c, matrix(&mut rng, 1, c).iter().map(|&v| v as f32));
        let col = DVector::from_iterator(r, matrix(&mut rng, r, 1).iter().map(|&v| v as f32));
        assert_eq!(bits32(&h.add_row(&b)), bits32(&row_add(&h, &b)), "{r}x{c}");
        assert_eq!(bits32(&h.sub_row(&b)), bits32(&row_sub(&h, &b)), "{r}x{c}");
        assert_eq!(
            bits32(&h.add_column(&col)),
            bits32(&column_add(&h, &col)),
            "{r}x{c}"
        );
        assert_eq!(
            bits32(&h.sub_column(&col)),
            bits32(&column_sub(&h, &col)),
            "{r}x{c}"
        );
    }
}

#[test]
fn a_dense_layer_in_plain_code_equals_the_macro_bit_for_bit() {
    // nalgebra's `&x * &w` rounds differently in the last bit on some elements (the
    // macro's kernel uses fused multiply-adds); `matmul` is the macro's kernel.
    let mut rng = Rng::new(20);
    for (n, d, k) in [(30, 4, 16), (30, 16, 3), (64, 64, 10), (5, 3, 2)] {
        let x = matrix(&mut rng, n, d);
        let w = matrix(&mut rng, d, k);
        let b = RowDVector::from_iterator(k, matrix(&mut rng, 1, k).iter().copied());
        assert_eq!(
            bits64(&x.matmul(&w).add_row(&b)),
            bits64(&dense(&x, &w, &b)),
            "{n}x{d} times {d}x{k}"
        );
    }
}

#[test]
fn a_hidden_layer_in_plain_code_equals_the_macro_bit_for_bit_f32() {
    let mut rng = Rng::new(21);
    let x = matrix(&mut rng, 40, 64).map(|v| v as f32);
    let w = matrix(&mut rng, 64, 32).map(|v| v as f32);
    let b = RowDVector::from_iterator(32, matrix(&mut rng, 1, 32).iter().map(|&v| v as f32));
    assert_eq!(
        bits32(&x.matmul(&w).add_row(&b)),
        bits32(&dense32(&x, &w, &b))
    );
}

#[test]
#[should_panic(expected = "matrix product: cannot multiply a 3x4 matrix by a 2x5 matrix")]
fn a_product_of_the_wrong_shapes_panics_naming_both_shapes() {
    let _ = DMatrix::<f64>::zeros(3, 4).matmul(&DMatrix::zeros(2, 5));
}

#[test]
#[should_panic(expected = "add_row: cannot add a 1x2 row vector to each row of a 3x4 matrix")]
fn a_row_of_the_wrong_width_panics_naming_both_shapes() {
    let _ = DMatrix::<f64>::zeros(3, 4).add_row(&RowDVector::zeros(2));
}

#[test]
#[should_panic(
    expected = "add_column: cannot add a 2x1 column vector to each column of a 3x4 matrix"
)]
fn a_column_of_the_wrong_height_panics_naming_both_shapes() {
    let _ = DMatrix::<f64>::zeros(3, 4).add_column(&DVector::zeros(2));
}

#[test]
fn the_four_methods_compute_numpys_broadcasts() {
    let m = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    let r = RowDVector::from_row_slice(&[1.0, 10.0, 100.0]);
    let c = DVector::from_column_slice(&[1.0, 10.0]);
    // numpy: m + r, m - r, m + c[:, None], m - c[:, None]
    assert_eq!(
        m.add_row(&r),
        DMatrix::from_row_slice(2, 3, &[2.0, 12.0, 103.0, 5.0, 15.0, 106.0])
    );
    assert_eq!(
        m.sub_row(&r),
        DMatrix::from_row_slice(2, 3, &[0.0, -8.0, -97.0, 3.0, -5.0, -94.0])
    );
    assert_eq!(
        m.add_column(&c),
        DMatrix::from_row_slice(2, 3, &[2.0, 3.0, 4.0, 14.0, 15.0, 16.0])
    );
    assert_eq!(
        m.sub_column(&c),
        DMatrix::from_row_slice(2, 3, &[0.0, 1.0, 2.0, -6.0, -5.0, -4.0])
    );
}

#[test]
fn fixed_size_matrices_keep_their_type() {
    use autodiff::nalgebra::{Matrix2x3, RowVector3};
    let m = Matrix2x3::new(1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0);
    let y: Matrix2x3<f32> = m.add_row(&RowVector3::new(1.0, 1.0, 1.0));
    assert_eq!(y, Matrix2x3::new(2.0, 3.0, 4.0, 5.0, 6.0, 7.0));
}

#[test]
#[should_panic(expected = "add_row: cannot add a 1x1 row vector to each row of a 2x3 matrix")]
fn a_one_element_row_is_not_a_row_of_the_width() {
    // NumPy would broadcast a (1, 1) array; `add_row` asks for a row of the matrix's width.
    let _ = DMatrix::<f64>::zeros(2, 3).add_row(&RowDVector::zeros(1));
}

#[test]
#[should_panic(
    expected = "sub_column: cannot subtract a 3x1 column vector from each column of a 2x3 matrix"
)]
fn subtracting_a_column_of_the_wrong_height_panics_naming_both_shapes() {
    let _ = DMatrix::<f64>::zeros(2, 3).sub_column(&DVector::zeros(3));
}
