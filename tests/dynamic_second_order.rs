//! Second order on the dynamic engine: `grad`, `grad_create_graph`, `hvp` and
//! `Tensor::backward_create_graph` (PyTorch's `torch.autograd.grad` and
//! `create_graph=True`).
//!
//! Every op's second derivatives are checked against central finite differences of the
//! exact first gradient (`grad`, the plain pass): for `f` of inputs `x_j`, row `(j, l)`
//! of the Hessian from a recorded pass (`grad` of `sum(grad_create_graph(f)[j] * e_l)`)
//! must match `(grad(f)(x + h e_jl) - grad(f)(x - h e_jl)) / 2h` for every element,
//! on scalar, vector and matrix shapes. Each op appears in a linear use (`sum(w op(x))`)
//! and inside a nonlinear one, so that both what its backward reads and the gradient
//! flowing into it are differentiated. The elementwise rows of the op table are
//! enumerated in `autodiff-runtime`'s unit tests (`dynamic/double_backward.rs`).

use std::cell::Cell;
use std::rc::Rc;

use autodiff::dynamic::{grad, grad_create_graph, hvp, no_grad, GradError, Tensor};
use autodiff::nalgebra::DMatrix;

type Matrix = DMatrix<f64>;

/// Deterministic values in `[lo, hi)` (xorshift64*).
fn matrix((rows, cols): (usize, usize), lo: f64, hi: f64, seed: u64) -> Matrix {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    Matrix::from_fn(rows, cols, |_, _| {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        let u = (state.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64;
        lo + (hi - lo) * u
    })
}

fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1.0)
}

fn leaves(values: &[Matrix]) -> Vec<Tensor> {
    values
        .iter()
        .map(|v| Tensor::from(v.clone()).requires_grad())
        .collect()
}

/// The exact first gradient (the plain pass) at `values`.
fn first(values: &[Matrix], f: &dyn Fn(&[Tensor]) -> Tensor) -> Vec<Matrix> {
    let xs = leaves(values);
    let refs: Vec<&Tensor> = xs.iter().collect();
    grad(&f(&xs), &refs)
        .unwrap()
        .iter()
        .map(Tensor::value)
        .collect()
}

/// The full Hessian of `f` at `inputs` against central differences of `grad`, and the
/// recorded first gradient against the plain one. Returns whether the Hessian has an
/// element that is not 0.
fn check_hessian(what: &str, inputs: &[Matrix], f: &dyn Fn(&[Tensor]) -> Tensor) -> bool {
    let exact = first(inputs, f);
    {
        let xs = leaves(inputs);
        let refs: Vec<&Tensor> = xs.iter().collect();
        let recorded = grad_create_graph(&f(&xs), &refs).unwrap();
        for (i, (r, e)) in recorded.iter().zip(&exact).enumerate() {
            assert_eq!(r.shape(), e.shape(), "{what}: gradient {i}'s shape");
            for (a, b) in r.value().iter().zip(e.iter()) {
                assert!(
                    close(*a, *b, 1e-12),
                    "{what}: recorded gradient {i}: {a}, plain {b}"
                );
            }
        }
    }
    let h = 1e-5;
    let mut nonzero = false;
    for (j, xj) in inputs.iter().enumerate() {
        for l in 0..xj.len() {
            let xs = leaves(inputs);
            let refs: Vec<&Tensor> = xs.iter().collect();
            let g = grad_create_graph(&f(&xs), &refs).unwrap();
            let mut e = Matrix::zeros(xj.nrows(), xj.ncols());
            e[l] = 1.0;
            let pick = (&g[j] * &Tensor::from(e)).sum();
            let row: Vec<Matrix> = if pick.requires_grad_flag() {
                grad(&pick, &refs)
                    .unwrap()
                    .iter()
                    .map(Tensor::value)
                    .collect()
            } else {
                inputs
                    .iter()
                    .map(|x| Matrix::zeros(x.nrows(), x.ncols()))
                    .collect()
            };
            let shifted = |s: f64| {
                let mut values = inputs.to_vec();
                values[j][l] += s;
                first(&values, f)
            };
            let (plus, minus) = (shifted(h), shifted(-h));
            for i in 0..inputs.len() {
                for k in 0..inputs[i].len() {
                    let fd = (plus[i][k] - minus[i][k]) / (2.0 * h);
                    let an = row[i][k];
                    nonzero |= an != 0.0;
                    assert!(
                        close(an, fd, 1e-6),
                        "{what}: d2f/dx{j}[{l}]dx{i}[{k}] = {an}, finite differences {fd}"
                    );
                }
            }
        }
    }
    nonzero
}

/// [`check_hessian`] of a test that means to check something.
fn check_nonzero_hessian(what: &str, inputs: &[Matrix], f: &dyn Fn(&[Tensor]) -> Tensor) {
    assert!(
        check_hessian(what, inputs, f),
        "{what}: the Hessian is zero, so the check checks nothing"
    );
}

/// `f` as a linear and as a nonlinear use of `op`, on each of `shapes` (one shape per
/// input of `op`, values in `[lo, hi)`).
fn check_op(
    name: &str,
    shapes: &[&[(usize, usize)]],
    (lo, hi): (f64, f64),
    op: &dyn Fn(&[Tensor]) -> Tensor,
) {
    let mut nonzero = false;
    for (s, shapes) in shapes.iter().enumerate() {
        let inputs: Vec<Matrix> = shapes
            .iter()
            .enumerate()
            .map(|(i, &shape)| matrix(shape, lo, hi, 1 + 10 * s as u64 + i as u64))
            .collect();
        let out_shape = no_grad(|| op(&leaves(&inputs)).shape());
        let w = Tensor::from(matrix(out_shape, -1.0, 1.0, 99 + s as u64));
        let linear = |xs: &[Tensor]| (&op(xs) * &w).sum();
        let nonlinear = |xs: &[Tensor]| (&op(xs) * &w).sin().sum();
        let what = format!("{name} on {shapes:?}");
        // A linear op has a zero Hessian in a linear use: only the nonlinear one checks it.
        if !name_is_linear(name) {
            check_nonzero_hessian(&format!("{what} in sum(w op)"), &inputs, &linear);
        }
        nonzero |= check_hessian(&format!("{what} in sum(sin(w op))"), &inputs, &nonlinear);
    }
    assert!(
        nonzero,
        "{name}: every Hessian is zero, so the check checks nothing"
    );
}

fn name_is_linear(name: &str) -> bool {
    [
        "t", "sum", "mean", "neg", "x + c", "c + x", "x - c", "c - x", "x * c", "c * x", "x / c",
        "a + b", "a - b", "copy_", "zero_", "add_", "sub_", "clamp", "powi(1)", "maximum",
        "minimum",
    ]
    .contains(&name)
}

const SCALAR: (usize, usize) = (1, 1);
const VECTOR: (usize, usize) = (3, 1);
const MATRIX: (usize, usize) = (2, 3);

#[test]
fn seed_x_cubed_has_first_derivative_12_and_second_derivative_12_at_2() {
    type Cube = fn(&Tensor) -> Tensor;
    let cubes: [(&str, Cube); 2] = [("powi(3)", |x| x.powi(3)), ("x * x * x", |x| &(x * x) * x)];
    for (name, cube) in cubes {
        let x = Tensor::scalar(2.0).requires_grad();
        let y = cube(&x);
        assert_eq!(grad(&y, &[&x]).unwrap()[0].item(), 12.0, "{name}");
        let y = cube(&x);
        let dy = grad_create_graph(&y, &[&x]).unwrap().remove(0);
        assert_eq!(dy.item(), 12.0, "{name}");
        assert!(dy.grad_fn().is_some(), "{name}: the gradient is recorded");
        let d2y = grad(&dy, &[&x]).unwrap().remove(0);
        assert_eq!(d2y.item(), 12.0, "{name}");
        assert!(x.grad().is_none(), "{name}");
    }
}

#[test]
fn elementwise_ops_outside_the_table_rows_and_constant_operands() {
    let all: &[&[(usize, usize)]] = &[&[SCALAR], &[VECTOR], &[MATRIX]];
    let positive = (0.5, 2.0);
    type Op = fn(&[Tensor]) -> Tensor;
    let ops: &[(&str, (f64, f64), Op)] = &[
        ("powi(0)", positive, |x| &x[0].powi(0) * &x[0].exp()),
        ("powi(1)", positive, |x| x[0].powi(1)),
        ("powi(2)", positive, |x| x[0].powi(2)),
        ("powi(3)", positive, |x| x[0].powi(3)),
        ("powi(-2)", positive, |x| x[0].powi(-2)),
        ("powf(2.5)", positive, |x| x[0].powf(2.5)),
        ("powf(0)", positive, |x| &x[0].powf(0.0) * &x[0].exp()),
        ("clamp", (-2.0, 2.0), |x| x[0].clamp(-1.0, 1.0)),
        ("neg", (-2.0, 2.0), |x| -&x[0]),
        ("x + c", (-2.0, 2.0), |x| &x[0] + 2.0),
        ("c + x", (-2.0, 2.0), |x| 2.0 + &x[0]),
        ("x - c", (-2.0, 2.0), |x| &x[0] - 2.0),
        ("c - x", (-2.0, 2.0), |x| 2.0 - &x[0]),
        ("x * c", (-2.0, 2.0), |x| &x[0] * 3.0),
        ("c * x", (-2.0, 2.0), |x| 3.0 * &x[0]),
        ("x / c", (-2.0, 2.0), |x| &x[0] / 3.0),
        ("c / x", positive, |x| 3.0 / &x[0]),
        ("x * x", (-2.0, 2.0), |x| &x[0] * &x[0]),
        ("x / x^2", positive, |x| &x[0] / &x[0].powi(2)),
    ];
    for &(name, range, op) in ops {
        check_op(name, all, range, &op);
    }
}

#[test]
fn binary_ops_with_broadcasting() {
    let shapes: &[&[(usize, usize)]] = &[
        &[SCALAR, SCALAR],
        &[VECTOR, VECTOR],
        &[MATRIX, MATRIX],
        &[MATRIX, (1, 3)],
        &[(1, 3), MATRIX],
        &[MATRIX, (2, 1)],
        &[(2, 1), (1, 3)],
        &[MATRIX, SCALAR],
        &[SCALAR, MATRIX],
    ];
    type Op = fn(&[Tensor]) -> Tensor;
    let ops: &[(&str, (f64, f64), Op)] = &[
        ("a + b", (-2.0, 2.0), |x| &x[0] + &x[1]),
        ("a - b", (-2.0, 2.0), |x| &x[0] - &x[1]),
        ("a * b", (-2.0, 2.0), |x| &x[0] * &x[1]),
        ("a / b", (0.5, 2.0), |x| &x[0] / &x[1]),
        ("pow", (0.5, 2.0), |x| x[0].pow(&x[1])),
        ("maximum", (-2.0, 2.0), |x| x[0].maximum(&x[1])),
        ("minimum", (-2.0, 2.0), |x| x[0].minimum(&x[1])),
        ("atan2", (0.5, 2.0), |x| x[0].atan2(&x[1])),
        ("hypot", (0.5, 2.0), |x| x[0].hypot(&x[1])),
        ("mul_add", (-2.0, 2.0), |x| x[0].mul_add(&x[1], &x[0])),
    ];
    for &(name, range, op) in ops {
        check_op(name, shapes, range, &op);
    }
}

#[test]
fn matrix_ops_reductions_softmax_and_losses() {
    type Op = fn(&[Tensor]) -> Tensor;
    let unary: &[&[(usize, usize)]] = &[&[SCALAR], &[VECTOR], &[MATRIX], &[(3, 4)]];
    let ops: &[(&str, Op)] = &[
        ("t", |x| x[0].t()),
        ("sum", |x| x[0].sum()),
        ("mean", |x| x[0].mean()),
        ("sum of squares", |x| (&x[0] * &x[0]).sum()),
        ("mean of exp", |x| x[0].exp().mean()),
    ];
    for &(name, op) in ops {
        check_op(name, unary, (-2.0, 2.0), &op);
    }
    // Per row: a row of one element has a constant softmax.
    let rows: &[&[(usize, usize)]] = &[&[(1, 3)], &[MATRIX], &[(3, 4)]];
    check_op("softmax", rows, (-2.0, 2.0), &|x: &[Tensor]| x[0].softmax());
    check_op("log_softmax", rows, (-2.0, 2.0), &|x: &[Tensor]| {
        x[0].log_softmax()
    });
    let products: &[&[(usize, usize)]] = &[
        &[SCALAR, SCALAR],
        &[(1, 3), VECTOR],
        &[VECTOR, (1, 2)],
        &[MATRIX, (3, 2)],
    ];
    check_op("matmul", products, (-2.0, 2.0), &|x: &[Tensor]| {
        x[0].matmul(&x[1])
    });
    check_op(
        "matmul of t",
        &[&[MATRIX, MATRIX]],
        (-2.0, 2.0),
        &|x: &[Tensor]| x[0].t().matmul(&x[1]),
    );
    let pairs: &[&[(usize, usize)]] = &[&[SCALAR, SCALAR], &[VECTOR, VECTOR], &[MATRIX, MATRIX]];
    check_op("mse", pairs, (-2.0, 2.0), &|x: &[Tensor]| x[0].mse(&x[1]));
    check_op("mse of tanh", pairs, (-2.0, 2.0), &|x: &[Tensor]| {
        x[0].tanh().mse(&x[1])
    });
    let logits: &[&[(usize, usize)]] = &[&[(1, 3)], &[(3, 4)]];
    check_op("cross_entropy", logits, (-2.0, 2.0), &|x: &[Tensor]| {
        let labels: Vec<usize> = (0..x[0].shape().0).map(|i| (2 * i + 1) % 3).collect();
        x[0].cross_entropy(&labels)
    });
    check_op(
        "cross_entropy of x^2",
        logits,
        (-2.0, 2.0),
        &|x: &[Tensor]| {
            let labels: Vec<usize> = (0..x[0].shape().0).map(|i| i % 3).collect();
            (&x[0] * &x[0]).cross_entropy(&labels)
        },
    );
}

#[test]
fn recorded_in_place_ops() {
    type Op = fn(&[Tensor]) -> Tensor;
    let shapes: &[&[(usize, usize)]] = &[&[SCALAR, SCALAR], &[MATRIX, MATRIX], &[MATRIX, (1, 3)]];
    let ops: &[(&str, Op)] = &[
        ("add_", |x| {
            let z = &x[0] * 1.0;
            z.add_(&x[1]).unwrap();
            z
        }),
        ("sub_", |x| {
            let z = &x[0] * 1.0;
            z.sub_(&x[1]).unwrap();
            z
        }),
        ("mul_", |x| {
            let z = &x[0] * 1.0;
            z.mul_(&x[1]).unwrap();
            z
        }),
        ("div_", |x| {
            let z = &x[0] * 1.0;
            z.div_(&x[1].exp()).unwrap();
            z
        }),
        ("exp_", |x| {
            let z = &x[0] * &x[1];
            z.exp_().unwrap();
            z
        }),
        ("tanh_", |x| {
            let z = &x[0] * &x[1];
            z.tanh_().unwrap();
            z
        }),
        ("sigmoid_", |x| {
            let z = &x[0] * &x[1];
            z.sigmoid_().unwrap();
            z
        }),
        ("relu_", |x| {
            let z = &x[0] * &x[1];
            z.relu_().unwrap();
            &z * &x[0]
        }),
    ];
    for &(name, op) in ops {
        check_op(name, shapes, (0.5, 1.5), &op);
    }
    let same: &[&[(usize, usize)]] = &[&[SCALAR, SCALAR], &[MATRIX, MATRIX]];
    check_op("copy_", same, (0.5, 1.5), &|x: &[Tensor]| {
        let z = &x[0] * 1.0;
        z.copy_(&x[1]).unwrap();
        &z + &x[0]
    });
    check_op("zero_", same, (0.5, 1.5), &|x: &[Tensor]| {
        let z = &x[0] * 1.0;
        z.zero_().unwrap();
        &z + &x[1]
    });
}

/// A small MLP's loss: `X W1 + b1`, tanh, `W2`, `+ b2`, then cross-entropy (or mse
/// against a target).
fn mlp(params: &[Tensor], mse: bool) -> Tensor {
    let x = Tensor::from(matrix((4, 3), -1.0, 1.0, 5));
    let hidden = (&x.matmul(&params[0]) + &params[1]).tanh();
    let out = &hidden.matmul(&params[2]) + &params[3];
    if mse {
        out.mse(&Tensor::from(matrix((4, 2), -1.0, 1.0, 6)))
    } else {
        out.cross_entropy(&[0, 1, 1, 0])
    }
}

#[test]
fn tape_hessian_vector_product_of_a_small_mlp_matches_finite_differences() {
    let shapes = [(3, 5), (1, 5), (5, 2), (1, 2)];
    let values: Vec<Matrix> = shapes
        .iter()
        .enumerate()
        .map(|(i, &s)| matrix(s, -1.0, 1.0, 20 + i as u64))
        .collect();
    let vs: Vec<Matrix> = shapes
        .iter()
        .enumerate()
        .map(|(i, &s)| matrix(s, -1.0, 1.0, 40 + i as u64))
        .collect();
    for use_mse in [false, true] {
        let f = |p: &[Tensor]| mlp(p, use_mse);
        // The two-line recipe.
        let params = leaves(&values);
        let refs: Vec<&Tensor> = params.iter().collect();
        let g = grad_create_graph(&f(&params), &refs).unwrap();
        let dot = g
            .iter()
            .zip(&vs)
            .map(|(g, v)| (g * &Tensor::from(v.clone())).sum())
            .reduce(|a, b| &a + &b)
            .unwrap();
        let recipe = grad(&dot, &refs).unwrap();
        // The convenience.
        let params = leaves(&values);
        let refs: Vec<&Tensor> = params.iter().collect();
        let v_tensors: Vec<Tensor> = vs.iter().map(|v| Tensor::from(v.clone())).collect();
        let v_refs: Vec<&Tensor> = v_tensors.iter().collect();
        let hv = hvp(&f(&params), &refs, &v_refs).unwrap();
        // Finite differences of the gradient along v.
        let h = 1e-5;
        let along = |s: f64| {
            let shifted: Vec<Matrix> = values.iter().zip(&vs).map(|(x, v)| x + v * s).collect();
            first(&shifted, &f)
        };
        let (plus, minus) = (along(h), along(-h));
        for i in 0..shapes.len() {
            for k in 0..values[i].len() {
                let fd = (plus[i][k] - minus[i][k]) / (2.0 * h);
                let (a, b) = (recipe[i].value()[k], hv[i].value()[k]);
                assert_eq!(a, b, "hvp and the recipe, parameter {i}[{k}]");
                assert!(
                    close(a, fd, 1e-6),
                    "mse {use_mse}: (H v) of parameter {i}[{k}] = {a}, finite differences {fd}"
                );
            }
        }
        assert!(params.iter().all(|p| p.grad().is_none()));
    }
}

#[test]
fn the_full_hessian_of_a_small_mlp_matches_finite_differences() {
    let values: Vec<Matrix> = [(3, 2), (1, 2), (2, 2), (1, 2)]
        .iter()
        .enumerate()
        .map(|(i, &s)| matrix(s, -1.0, 1.0, 60 + i as u64))
        .collect();
    check_nonzero_hessian("mlp with cross_entropy", &values, &|p: &[Tensor]| {
        mlp(p, false)
    });
    check_nonzero_hessian("mlp with mse", &values, &|p: &[Tensor]| mlp(p, true));
}

#[test]
fn grad_leaves_every_grad_field_untouched() {
    let x = Tensor::vector(&[1.0, 2.0]).requires_grad();
    let h = x.powi(2);
    h.retain_grad().unwrap();
    let y = h.sum();
    assert!(x.grad().is_none() && h.grad().is_none());
    let g = grad(&y, &[&x]).unwrap();
    assert_eq!(g[0].value().as_slice(), &[2.0, 4.0]);
    assert!(x.grad().is_none() && h.grad().is_none());
    let y = x.powi(3).sum();
    let g = grad_create_graph(&y, &[&x]).unwrap();
    assert!(x.grad().is_none());
    let g2 = grad(&g[0].sum(), &[&x]).unwrap();
    assert_eq!(g2[0].value().as_slice(), &[6.0, 12.0]);
    assert!(x.grad().is_none());
    // An existing gradient is left as it is.
    (&x * 2.0).sum().backward().unwrap();
    let before = x.grad().unwrap().value();
    grad(&x.powi(2).sum(), &[&x]).unwrap();
    assert_eq!(x.grad().unwrap().value(), before);
}

#[test]
fn backward_create_graph_then_backward_accumulates_the_second_derivative_as_pytorch() {
    // PyTorch: x = tensor(2., requires_grad=True); y = x**3; y.backward(create_graph=True)
    // gives x.grad = 12 with a grad_fn; x.grad.backward() then adds 6x = 12: x.grad = 24.
    let cubes: [fn(&Tensor) -> Tensor; 2] = [|x| x.powi(3), |x| &(x * x) * x];
    for cube in cubes {
        let x = Tensor::scalar(2.0).requires_grad();
        cube(&x).backward_create_graph().unwrap();
        let g = x.grad().unwrap();
        assert_eq!(g.item(), 12.0);
        assert_eq!(g.grad_fn(), Some("CloneBackward0"));
        g.backward().unwrap();
        assert_eq!(x.grad().unwrap().item(), 24.0);
    }
    // A second recorded pass adds out of place, and stays differentiable.
    let x = Tensor::scalar(2.0).requires_grad();
    x.powi(3).backward_create_graph().unwrap();
    x.powi(2).backward_create_graph().unwrap();
    let g = x.grad().unwrap();
    assert_eq!((g.item(), g.grad_fn()), (16.0, Some("AddBackward0")));
    // d/dx (3x^2 + 2x) = 6x + 2 = 14.
    assert_eq!(grad(&g, &[&x]).unwrap()[0].item(), 14.0);
    // A retained non-leaf also gets a recorded gradient.
    let x = Tensor::scalar(3.0).requires_grad();
    let h = x.powi(2);
    h.retain_grad().unwrap();
    h.powi(2).backward_create_graph().unwrap();
    let gh = h.grad().unwrap();
    assert_eq!(gh.item(), 18.0); // 2 h
    assert_eq!(grad(&gh, &[&x]).unwrap()[0].item(), 12.0); // d(2 x^2)/dx = 4x
}

#[test]
fn grad_create_graph_keeps_the_graph_usable() {
    let x = Tensor::vector(&[0.5, 1.5]).requires_grad();
    let y = x.exp().sum();
    let g1 = grad_create_graph(&y, &[&x]).unwrap();
    let g2 = grad_create_graph(&y, &[&x]).unwrap();
    assert_eq!(g1[0].value(), g2[0].value());
    y.backward().unwrap();
    assert_eq!(x.grad().unwrap().value(), g1[0].value());
    // The plain pass freed y's graph.
    assert!(matches!(grad(&y, &[&x]), Err(GradError::GraphFreed { .. })));
}

#[test]
fn grad_frees_the_graph_as_backward_does() {
    let x = Tensor::scalar(2.0).requires_grad();
    let y = x.powi(3);
    grad(&y, &[&x]).unwrap();
    let err = grad(&y, &[&x]).unwrap_err();
    assert!(matches!(err, GradError::GraphFreed { op: "PowBackward0" }));
    assert!(err.to_string().contains("backward_retain_graph"));
}

#[test]
fn unused_and_constant_inputs_get_zeros_of_their_shape() {
    let x = Tensor::scalar(2.0).requires_grad();
    let unused = Tensor::zeros(2, 3).requires_grad();
    let constant = Tensor::ones(3, 1);
    for g in [
        grad(&(&x * 3.0), &[&x, &unused, &constant]).unwrap(),
        grad_create_graph(&(&x * 3.0), &[&x, &unused, &constant]).unwrap(),
    ] {
        assert_eq!(g[0].item(), 3.0);
        assert_eq!(g[1].value(), Matrix::zeros(2, 3));
        assert_eq!(g[2].value(), Matrix::zeros(3, 1));
    }
    // A gradient that is constant has no grad_fn; hvp of a linear function is zero.
    let g = grad_create_graph(&(&x * 3.0), &[&x]).unwrap();
    assert!(g[0].grad_fn().is_none());
    let hv = hvp(&(&x * 3.0), &[&x], &[&Tensor::scalar(1.0)]).unwrap();
    assert_eq!(hv[0].item(), 0.0);
}

#[test]
fn inputs_may_be_non_leaf_tensors_and_repeat() {
    let x = Tensor::vector(&[1.0, 2.0]).requires_grad();
    let h = x.powi(2);
    let y = h.sin().sum();
    let g = grad_create_graph(&y, &[&h, &x, &h]).unwrap();
    let hv = h.value();
    for k in 0..2 {
        assert!(close(g[0].value()[k], hv[k].cos(), 1e-15));
        assert!(close(
            g[1].value()[k],
            hv[k].cos() * 2.0 * x.value()[k],
            1e-15
        ));
    }
    assert_eq!(g[0].value(), g[2].value());
    // d/dx of dy/dh = -sin(h) 2x.
    let d = grad_create_graph(&g[0].sum(), &[&x]).unwrap();
    for k in 0..2 {
        let xk = x.value()[k];
        assert!(close(d[0].value()[k], -(xk * xk).sin() * 2.0 * xk, 1e-14));
    }
    // The returned gradients do not alias: updating one leaves the other.
    no_grad(|| g[0].zero_()).unwrap();
    assert_ne!(g[2].value(), g[0].value());
}

#[test]
fn errors_are_values_that_say_what_to_do() {
    let x = Tensor::vector(&[1.0, 2.0]).requires_grad();
    let y = x.powi(2);
    for (op, err) in [
        ("grad", grad(&y, &[&x]).unwrap_err()),
        (
            "grad_create_graph",
            grad_create_graph(&y, &[&x]).unwrap_err(),
        ),
        (
            "backward_create_graph",
            y.backward_create_graph().unwrap_err(),
        ),
    ] {
        assert_eq!(err, GradError::NonScalarOutput { op, shape: (2, 1) });
        assert!(err.to_string().contains("sum()"), "{err}");
    }
    assert_eq!(
        grad(&Tensor::scalar(1.0), &[&x]).unwrap_err(),
        GradError::NoGrad
    );
    let err = hvp(&y.sum(), &[&x], &[]).unwrap_err();
    assert_eq!(
        err,
        GradError::VectorCount {
            inputs: 1,
            vectors: 0
        }
    );
    assert!(matches!(
        hvp(&y.sum(), &[&x], &[&Tensor::scalar(1.0)]),
        Err(GradError::ShapeMismatch { op: "hvp", .. })
    ));
    // A value the recorded pass needs, updated in place: refused before anything runs.
    let z = &x * 2.0;
    let w = (&z * &z).sum();
    z.add_(&Tensor::scalar(1.0)).unwrap();
    for err in [
        grad_create_graph(&w, &[&x]).unwrap_err(),
        w.backward_create_graph().unwrap_err(),
        grad(&w, &[&x]).unwrap_err(),
    ] {
        assert!(
            matches!(
                err,
                GradError::ModifiedInPlace {
                    op: "MulBackward0",
                    ..
                }
            ),
            "{err}"
        );
    }
    assert!(x.grad().is_none());
}

#[test]
fn in_place_updates_after_a_recorded_pass_are_caught_in_the_next() {
    // The recorded gradient reads x; updating x in place makes differentiating it fail.
    let x = Tensor::vector(&[1.0, 2.0]).requires_grad();
    let g = grad_create_graph(&x.powi(3).sum(), &[&x])
        .unwrap()
        .remove(0);
    no_grad(|| x.add_(&Tensor::scalar(1.0))).unwrap();
    assert!(matches!(
        grad(&g.sum(), &[&x]),
        Err(GradError::ModifiedInPlace {
            op: "PowBackward0",
            ..
        })
    ));
}

#[test]
fn hooks_run_in_grad_and_in_recorded_passes() {
    let calls = Rc::new(Cell::new(0));
    let x = Tensor::scalar(2.0).requires_grad();
    let counter = Rc::clone(&calls);
    x.register_hook(move |g| {
        counter.set(counter.get() + 1);
        Some(g * 2.0)
    })
    .unwrap();
    assert_eq!(grad(&x.powi(3), &[&x]).unwrap()[0].item(), 24.0);
    let g = grad_create_graph(&x.powi(3), &[&x]).unwrap().remove(0);
    assert_eq!(g.item(), 24.0);
    // The hook doubles the gradient of x in the second pass too: 2 * (2 * 6x).
    assert_eq!(grad(&g, &[&x]).unwrap()[0].item(), 48.0);
    assert_eq!(calls.get(), 3);
}

#[test]
fn recorded_passes_record_under_no_grad_too() {
    let x = Tensor::scalar(2.0).requires_grad();
    let y = x.powi(3);
    let g = no_grad(|| grad_create_graph(&y, &[&x])).unwrap().remove(0);
    assert!(g.grad_fn().is_some());
    assert_eq!(grad(&g, &[&x]).unwrap()[0].item(), 12.0);
    assert!(autodiff::dynamic::is_grad_enabled());
}

#[test]
fn third_order_through_a_composition() {
    // f = sin(x)^2 e^x at x = 0.7: third derivative by nesting grad_create_graph.
    let x0: f64 = 0.7;
    let x = Tensor::scalar(x0).requires_grad();
    let f = &x.sin().powi(2) * &x.exp();
    let d1 = grad_create_graph(&f, &[&x]).unwrap().remove(0);
    let d2 = grad_create_graph(&d1, &[&x]).unwrap().remove(0);
    let d3 = grad(&d2, &[&x]).unwrap().remove(0);
    // sin^2 e^x = (1 - cos 2x) e^x / 2; d^n/dx^n [cos(2x) e^x] = 5^(n/2) e^x cos(2x + n atan 2).
    let phi = 2f64.atan();
    let nth = |n: i32| {
        0.5 * x0.exp()
            * (1.0 - 5f64.powf(f64::from(n) / 2.0) * (2.0 * x0 + f64::from(n) * phi).cos())
    };
    assert!(close(d1.item(), nth(1), 1e-13));
    assert!(close(d2.item(), nth(2), 1e-13));
    assert!(close(d3.item(), nth(3), 1e-13));
}
