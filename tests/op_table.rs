//! Every elementwise row of the op table (`autodiff_ops::for_each_op!`), through the macro:
//! on a scalar and elementwise on a matrix, against central differences and against the
//! dynamic engine's `Tensor` method of the same row. A row added to the table is tested
//! here with no edit.

use autodiff::dynamic::Tensor;
use autodiff::nalgebra::DMatrix;

/// Central difference of `f` at `x`.
fn central(f: impl Fn(f64) -> f64, x: f64) -> f64 {
    let h = 1e-6 * x.abs().max(1.0);
    (f(x + h) - f(x - h)) / (2.0 * h)
}

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-6 * (1.0 + a.abs().max(b.abs())),
        "{what}: {a} vs {b}"
    );
}

/// Points of `[lo, hi]` at least 0.1 from 0 (where `abs` and `relu` have kinks).
fn points(lo: f64, hi: f64) -> Vec<f64> {
    (0..=12)
        .map(|k| lo + (hi - lo) * (0.03 + 0.94 * k as f64 / 12.0))
        .filter(|v: &f64| v.abs() >= 0.1)
        .collect()
}

macro_rules! unary_rows {
    ($u:ident, operator $($rest:tt)*) => {};
    // The body is spelled here, in tokens the attribute sees (it does not expand macros).
    ($u:ident, method $name:ident, $torch:literal, $simd:literal, $lo:literal, $hi:literal) => {
        unary_rows!(@module [x] [x.$name()] $name, $u, $torch, $lo, $hi);
    };
    ($u:ident, function $name:ident, $torch:literal, $simd:literal, $lo:literal, $hi:literal) => {
        unary_rows!(@module [x] [$name(x)] $name, $u, $torch, $lo, $hi);
    };
    (@module [$x:ident] [$($body:tt)*] $name:ident, $marker:ident, $torch:literal, $lo:literal, $hi:literal) => {
        #[allow(non_snake_case, dead_code)]
        mod $marker {
            use autodiff::nalgebra::DMatrix;
            use autodiff::prelude::*;

            #[differentiable]
            pub fn scalar($x: f64) -> f64 {
                $($body)*
            }

            #[differentiable]
            pub fn matrix($x: &DMatrix<f64>) -> f64 {
                let y = $($body)*;
                y.sum()
            }

            /// The rule on values a loop makes, so the reverse reads them from the tape
            /// (only what the op table says it reads).
            #[differentiable(wrt(x0))]
            pub fn looped(x0: f64, n: usize) -> f64 {
                let mut s = 0.0;
                for _i in 0..n {
                    let $x = x0 + 0.0 * s;
                    s += $($body)*;
                }
                s
            }

            #[test]
            fn scalar_matrix_and_tensor_gradients_agree_with_central_differences() {
                let xs = super::points($lo, $hi);
                for &x in &xs {
                    let (v, g) = scalar_grad(x);
                    assert_eq!(v, scalar(x));
                    super::close(g.$x, super::central(scalar, x), concat!(stringify!($name), " scalar"));
                    let (lv, lg) = looped_grad(x, 3);
                    assert_eq!(lv, looped(x, 3));
                    super::close(lg.x0, super::central(|x| looped(x, 3), x), concat!(stringify!($name), " in a loop"));
                }
                let m = DMatrix::from_row_slice(1, xs.len(), &xs);
                let (v, g) = matrix_grad(&m);
                let t = super::Tensor::from(m.clone()).requires_grad();
                let y = t.$name().sum();
                assert_eq!(y.grad_fn(), Some("SumBackward0"));
                super::close(v, y.item(), concat!(stringify!($name), " tensor value"));
                y.backward().unwrap();
                let tg = t.grad().unwrap().value();
                for (k, &x) in xs.iter().enumerate() {
                    super::close(g.$x[k], scalar_grad(x).1.$x, concat!(stringify!($name), " matrix"));
                    super::close(tg[k], g.$x[k], concat!(stringify!($name), " tensor"));
                }
                assert_eq!(super::Tensor::from(m).requires_grad().$name().grad_fn(), Some($torch));
            }
        }
    };
}

macro_rules! binary_rows {
    ($b:ident, operator $($rest:tt)*) => {};
    ($marker:ident, $syn:ident $name:ident, $tensor:tt, $torch:literal, $lo:literal, $hi:literal) => {
        #[allow(non_snake_case, dead_code)]
        mod $marker {
            use autodiff::prelude::*;

            #[differentiable]
            pub fn scalar(a: f64, b: f64) -> f64 {
                a.$name(b)
            }

            /// The rule on values a loop makes (see the unary rows' `looped`).
            #[differentiable(wrt(a0, b0))]
            pub fn looped(a0: f64, b0: f64, n: usize) -> f64 {
                let mut s = 0.0;
                for _i in 0..n {
                    let a = a0 + 0.0 * s;
                    let b = b0 - 0.0 * s;
                    s += a.$name(b);
                }
                s
            }

            #[test]
            fn both_partials_agree_with_central_differences() {
                let xs = super::points($lo, $hi);
                for (i, &a) in xs.iter().enumerate() {
                    // Pairs that never tie (`max`, `min`).
                    let b = xs[(i * 5 + 3) % xs.len()] * 0.9;
                    let (v, g) = scalar_grad(a, b);
                    assert_eq!(v, scalar(a, b));
                    super::close(g.a, super::central(|a| scalar(a, b), a), concat!(stringify!($name), " d/da"));
                    super::close(g.b, super::central(|b| scalar(a, b), b), concat!(stringify!($name), " d/db"));
                    let (_, lg) = looped_grad(a, b, 3);
                    super::close(lg.a0, super::central(|a| looped(a, b, 3), a), concat!(stringify!($name), " d/da in a loop"));
                    super::close(lg.b0, super::central(|b| looped(a, b, 3), b), concat!(stringify!($name), " d/db in a loop"));
                    binary_rows!(@tensor $tensor, a, b, v, g);
                }
            }
        }
    };
    (@tensor -, $($rest:tt)*) => {};
    (@tensor $method:ident, $a:ident, $b:ident, $v:ident, $g:ident) => {
        let (ta, tb) = (super::Tensor::scalar($a).requires_grad(), super::Tensor::scalar($b).requires_grad());
        let y = ta.$method(&tb);
        super::close(y.item(), $v, "tensor value");
        y.backward().unwrap();
        super::close(ta.grad().unwrap().item(), $g.a, "tensor d/da");
        super::close(tb.grad().unwrap().item(), $g.b, "tensor d/db");
    };
}

autodiff_ops::for_each_unary_row!(unary_rows);
autodiff_ops::for_each_binary_row!(binary_rows);

mod ternary {
    use autodiff::prelude::*;

    #[differentiable]
    fn clamped(x: f64, lo: f64, hi: f64) -> f64 {
        x.clamp(lo, hi) * 2.0
    }

    #[differentiable]
    fn fma(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c).sin()
    }

    #[test]
    fn clamp_sends_the_gradient_to_the_operand_taken() {
        let g = clamped_grad(0.5, 0.0, 1.0).1;
        assert_eq!((g.x, g.lo, g.hi), (2.0, 0.0, 0.0));
        let g = clamped_grad(-3.0, 0.0, 1.0).1;
        assert_eq!((g.x, g.lo, g.hi), (0.0, 2.0, 0.0));
        let g = clamped_grad(3.0, 0.0, 1.0).1;
        assert_eq!((g.x, g.lo, g.hi), (0.0, 0.0, 2.0));
        // PyTorch's choice at the bounds: the gradient goes to `x`.
        let g = clamped_grad(1.0, 0.0, 1.0).1;
        assert_eq!((g.x, g.lo, g.hi), (2.0, 0.0, 0.0));
        assert_eq!(clamped_grad(0.25, 0.0, 1.0).0, 0.5);
    }

    #[test]
    fn mul_add_is_one_rounding_and_its_partials_are_exact() {
        let (a, b, c) = (0.1, 10.0, -1.0);
        let (v, g) = fma_grad(a, b, c);
        assert_eq!(v, a.mul_add(b, c).sin());
        let d = a.mul_add(b, c).cos();
        assert_eq!((g.a, g.b, g.c), (d * b, d * a, d));
    }
}

#[test]
fn every_elementwise_row_is_a_tensor_method() {
    // The rows' `Tensor` methods exist (the modules above call them) and name their row.
    let x = Tensor::from(DMatrix::from_element(1, 1, 0.5)).requires_grad();
    assert_eq!(x.atan().grad_fn(), Some("AtanBackward0"));
    assert_eq!(x.atan2(&x).grad_fn(), Some("Atan2Backward0"));
}

#[test]
fn tensor_clamp_and_mul_add_match_the_static_gradients() {
    let x = Tensor::vector(&[-2.0, 0.0, 0.5, 1.0, 3.0]).requires_grad();
    let y = x.clamp(0.0, 1.0).sum();
    assert_eq!(y.item(), 2.5);
    y.backward().unwrap();
    assert_eq!(
        x.grad().unwrap().value().as_slice(),
        &[0.0, 1.0, 1.0, 1.0, 0.0]
    );

    let (a, b, c) = (
        Tensor::scalar(0.5).requires_grad(),
        Tensor::scalar(3.0).requires_grad(),
        Tensor::scalar(-1.0).requires_grad(),
    );
    let y = a.mul_add(&b, &c);
    assert_eq!(y.item(), 0.5);
    y.backward().unwrap();
    let g = |t: &Tensor| t.grad().unwrap().item();
    assert_eq!((g(&a), g(&b), g(&c)), (3.0, 0.5, 1.0));
}

mod path_calls {
    use autodiff::prelude::*;

    #[differentiable]
    fn f(a: f64, b: f64) -> f64 {
        f64::max(a, b) + f64::exp(a) * f64::atan2(a, b) + f64::clamp(b, 0.0, 1.0)
    }

    #[differentiable]
    fn g(x: f32) -> f32 {
        f32::sin(x) + std::f32::consts::PI * f32::floor(x)
    }

    #[test]
    fn float_path_calls_are_the_method_calls() {
        let (a, b): (f64, f64) = (0.7, 0.4);
        let plain = a.max(b) + a.exp() * a.atan2(b) + b.clamp(0.0, 1.0);
        let (v, grad) = f_grad(a, b);
        assert_eq!(v, plain);
        let da = 1.0 + a.exp() * a.atan2(b) + a.exp() * b / (a * a + b * b);
        let db = a.exp() * -a / (a * a + b * b) + 1.0;
        assert!((grad.a - da).abs() < 1e-12 && (grad.b - db).abs() < 1e-12);
        let (v, grad) = g_grad(1.5);
        assert_eq!(v, 1.5f32.sin() + std::f32::consts::PI);
        assert_eq!(grad.x, 1.5f32.cos());
    }
}

mod sizes_of_differentiated_values {
    use autodiff::nalgebra::DVector;
    use autodiff::prelude::*;

    // A length carries no gradient: it may bound a loop or index a vector even when the
    // vector is differentiated.
    #[differentiable]
    fn weighted(alphas: &DVector<f64>, x: f64) -> f64 {
        let mut acc = 0.0;
        for j in 0..alphas.len() {
            acc += alphas[j] * x.powi(j as i32);
        }
        acc + alphas[alphas.len() - 1]
    }

    #[test]
    fn loop_bounds_and_indices_may_read_a_length() {
        let a = DVector::from_vec(vec![1.0, 2.0, 3.0]);
        let (v, g) = weighted_grad(&a, 2.0);
        assert_eq!(v, 1.0 + 4.0 + 12.0 + 3.0);
        assert_eq!(g.alphas.as_slice(), &[1.0, 2.0, 5.0]);
        assert_eq!(g.x, 2.0 + 2.0 * 3.0 * 2.0);
    }
}

mod compound_assignment_on_integers {
    use autodiff::nalgebra::DVector;
    use autodiff::prelude::*;

    // `idx += 1` on a `usize` is kept as written; `acc += ..` on a float is differentiated.
    #[differentiable]
    fn every_other(v: &DVector<f64>) -> f64 {
        let mut idx = 0;
        let mut acc = 0.0;
        for _ in 0..(v.len() / 2) {
            acc += v[idx] * v[idx];
            idx += 2;
        }
        acc
    }

    #[test]
    fn integer_counters_may_be_updated_in_place() {
        let v = DVector::from_vec(vec![1.0, 5.0, 2.0, 7.0, 3.0]);
        let (value, g) = every_other_grad(&v);
        assert_eq!(value, 1.0 + 4.0);
        assert_eq!(g.v.as_slice(), &[2.0, 0.0, 4.0, 0.0, 0.0]);
    }
}
