//! `autodiff::argmin::Problem`: argmin's solvers on `#[differentiable]` functions.

use autodiff::argmin::core::{CostFunction, Executor, Gradient, State};
use autodiff::argmin::solver::linesearch::condition::ArmijoCondition;
use autodiff::argmin::solver::linesearch::{BacktrackingLineSearch, MoreThuenteLineSearch};
use autodiff::argmin::solver::quasinewton::LBFGS;
use autodiff::argmin::Problem;
use autodiff::nalgebra::{DMatrix, DVector};
use autodiff::prelude::*;

/// A linear least-squares model with a matrix and a vector parameter.
#[derive(Debug, Clone, Tangent)]
struct Linear {
    w: DMatrix<f64>,
    b: DVector<f64>,
}

#[differentiable(wrt(m))]
fn squared_error(m: &Linear, x: &DMatrix<f64>, y: &DMatrix<f64>) -> f64 {
    let pred = &m.w * x;
    let r = pred - y;
    (r.map(|v| v * v)).sum() + m.b.dot(&m.b)
}

fn data() -> (DMatrix<f64>, DMatrix<f64>) {
    let x = DMatrix::from_fn(3, 8, |i, j| {
        ((i * 7 + j * 3) % 5) as f64 - 2.0 + 0.1 * j as f64
    });
    let y = DMatrix::from_fn(2, 8, |i, j| (i as f64 + 1.0) * (j as f64).sin());
    (x, y)
}

fn start() -> Linear {
    Linear {
        w: DMatrix::from_element(2, 3, 0.5),
        b: DVector::from_element(4, 1.0),
    }
}

#[test]
fn flatten_and_unflatten_follow_the_visit_order() {
    let m = Linear {
        w: DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        b: DVector::from_vec(vec![7.0, 8.0]),
    };
    let problem = Problem::new(&m, |m: &Linear| (0.0, m.clone()));
    let flat = problem.flatten(&m);
    // nalgebra stores column by column.
    assert_eq!(flat, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0, 7.0, 8.0]);
    let back = problem.unflatten(&flat);
    assert_eq!(back.w, m.w);
    assert_eq!(back.b, m.b);
}

#[test]
#[should_panic(expected = "the point has 3 elements but the parameters have 8")]
fn unflatten_names_both_lengths() {
    let m = Linear {
        w: DMatrix::zeros(2, 3),
        b: DVector::zeros(2),
    };
    let problem = Problem::new(&m, |m: &Linear| (0.0, m.clone()));
    problem.unflatten(&[1.0, 2.0, 3.0]);
}

#[test]
fn cost_and_gradient_at_one_point_run_the_function_once() {
    let (x, y) = data();
    let problem = Problem::new(&start(), |m: &Linear| {
        let (v, g) = squared_error_grad(m, &x, &y);
        (v, g.m)
    });
    let p = problem.flatten(&start());
    let value = problem.cost(&p).unwrap();
    let grad = problem.gradient(&p).unwrap();
    assert_eq!(problem.evaluations(), 1);
    let (v, g) = squared_error_grad(&start(), &x, &y);
    assert_eq!(value, v);
    assert_eq!(grad, problem.flatten(&g.m));
    // A new point runs it again.
    let mut q = p.clone();
    q[0] += 1.0;
    problem.gradient(&q).unwrap();
    assert_eq!(problem.evaluations(), 2);
}

#[test]
fn with_value_answers_costs_from_the_plain_function() {
    let (x, y) = data();
    let problem = Problem::new(&start(), |m: &Linear| {
        let (v, g) = squared_error_grad(m, &x, &y);
        (v, g.m)
    })
    .with_value(|m: &Linear| squared_error(m, &x, &y));
    let p = problem.flatten(&start());
    let value = problem.cost(&p).unwrap();
    assert_eq!((problem.evaluations(), problem.value_evaluations()), (0, 1));
    assert_eq!(value, squared_error(&start(), &x, &y));
    problem.gradient(&p).unwrap();
    // After the gradient, the cost at the same point comes from that run.
    assert_eq!(problem.cost(&p).unwrap(), value);
    assert_eq!((problem.evaluations(), problem.value_evaluations()), (1, 1));
}

#[differentiable]
fn log_barrier(x: f64) -> f64 {
    -x.ln() + 5.0 * x
}

#[differentiable]
fn sqrt_at(x: f64) -> f64 {
    x.sqrt()
}

#[test]
fn a_non_finite_gradient_is_named() {
    let problem = Problem::new(&1.0, |&x: &f64| {
        let (v, g) = sqrt_at_grad(x);
        (v, g.x)
    });
    // sqrt(0) = 0 with gradient +inf.
    assert_eq!(problem.cost(&vec![0.0]).unwrap(), 0.0);
    let err = problem.gradient(&vec![0.0]).unwrap_err().to_string();
    assert!(err.contains("element 0 is inf"), "{err}");
}

#[test]
fn outside_the_domain_the_cost_is_infinite_and_the_gradient_an_error() {
    let problem = Problem::new(&1.0, |&x: &f64| {
        let (v, g) = log_barrier_grad(x);
        (v, g.x)
    });
    assert_eq!(problem.cost(&vec![-1.0]).unwrap(), f64::INFINITY);
    let err = problem.gradient(&vec![-1.0]).unwrap_err().to_string();
    assert!(err.contains("value is NaN"), "{err}");
    // A backtracking line search steps back from the infinite costs, and L-BFGS finds the
    // minimum at 0.2 (from 3 its first trial step, along -4.67, lands at -1.67).
    let search = BacktrackingLineSearch::new(ArmijoCondition::new(1e-4).unwrap());
    let result = Executor::new(&problem, LBFGS::new(search, 5))
        .configure(|s| s.param(vec![3.0]).max_iters(50))
        .run()
        .unwrap();
    let best = result.state().get_best_param().unwrap()[0];
    assert!((best - 0.2).abs() < 1e-6, "{best}");
}

#[test]
fn lbfgs_reaches_the_least_squares_solution() {
    let (x, y) = data();
    let problem = Problem::new(&start(), |m: &Linear| {
        let (v, g) = squared_error_grad(m, &x, &y);
        (v, g.m)
    });
    let x0 = problem.flatten(&start());
    let result = Executor::new(&problem, LBFGS::new(MoreThuenteLineSearch::new(), 7))
        .configure(|s| s.param(x0).max_iters(200))
        .run()
        .unwrap();
    let best = problem.unflatten(result.state().get_best_param().unwrap());
    // Independent answer: the normal equations, w = y x^T (x x^T)^-1, b = 0.
    let xxt = &x * x.transpose();
    let w = &y * x.transpose() * xxt.try_inverse().unwrap();
    assert!((&best.w - &w).amax() < 1e-6, "{} vs {}", best.w, w);
    assert!(best.b.amax() < 1e-6, "{}", best.b);
}
