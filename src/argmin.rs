//! [argmin](https://argmin-rs.org) solvers on `#[differentiable]` functions (the default
//! feature `argmin`).
//!
//! [`Problem`] turns a function that returns a value and its gradient (a `name_grad`, or a
//! closure around one) into an argmin `CostFunction` + `Gradient` over a flat `Vec<f64>`,
//! so L-BFGS, BFGS, conjugate gradient, steepest descent and the line searches of argmin
//! run on it with exact gradients. The parameters can be any [`Tangent`] value (a scalar,
//! a matrix, a tuple, a `#[derive(Tangent)]` struct): the problem flattens them in the
//! order of [`Tangent::visit`] and rebuilds them for every evaluation.
//!
//! argmin asks for the cost and the gradient at a point in two calls; the problem runs the
//! function once per point and answers the second call from that evaluation.
//!
//! ```
//! use autodiff::argmin::core::{Executor, State};
//! use autodiff::argmin::solver::linesearch::MoreThuenteLineSearch;
//! use autodiff::argmin::solver::quasinewton::LBFGS;
//! use autodiff::argmin::Problem;
//! use autodiff::prelude::*;
//!
//! /// Rosenbrock's function, minimum 0 at (1, 1).
//! #[differentiable]
//! fn rosenbrock(x: f64, y: f64) -> f64 {
//!     (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2)
//! }
//!
//! let problem = Problem::new(&(-1.2, 1.0), |&(x, y): &(f64, f64)| {
//!     let (value, g) = rosenbrock_grad(x, y);
//!     (value, (g.x, g.y))
//! });
//! let start = problem.flatten(&(-1.2, 1.0));
//! let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7);
//! let result = Executor::new(problem, solver)
//!     .configure(|state| state.param(start).max_iters(100))
//!     .run()
//!     .unwrap();
//! let best = result.state().get_best_param().unwrap();
//! assert!((best[0] - 1.0).abs() < 1e-6 && (best[1] - 1.0).abs() < 1e-6);
//! ```

use std::cell::{Cell, RefCell};
use std::fmt;

use autodiff_runtime::rules::Real;
use autodiff_runtime::tangent::Tangent;

/// argmin's core: `Executor`, `State`, the problem traits, `Error`.
pub use ::argmin::core;
/// argmin's solvers: `quasinewton::{LBFGS, BFGS}`, `linesearch`, `conjugategradient`, ...
pub use ::argmin::solver;

/// A function with its gradient, as an argmin problem over the flattened parameters.
///
/// `value_and_grad(&params)` returns the value and the gradient with respect to `params`,
/// of the same structure as `params`; argmin sees `params` as one `Vec<f64>` (`f32`
/// parameters are widened, and rounded back when the problem rebuilds them).
/// Where the value is not finite (outside the function's domain, or an overflow) the cost
/// is `+inf`, so that a backtracking line search steps back; a gradient asked for there,
/// or a non-finite gradient anywhere, is an argmin error ([`NonFiniteEvaluation`]) that
/// names the first non-finite element, so a solver stops instead of walking into NaN.
pub struct Problem<P, F, V = FromGradient> {
    template: P,
    value_and_grad: F,
    value: V,
    last: RefCell<Option<Evaluation>>,
    evaluations: Cell<usize>,
    value_runs: Cell<usize>,
}

/// How a [`Problem`] computes a value alone (for the trial points of a line search).
pub trait ValueOnly<P> {
    /// The value at `params`, or `None` to run the gradient function instead.
    fn value_only(&self, params: &P) -> Option<f64>;
}

/// The default of [`Problem`]: values come from the gradient function, one run per point.
#[derive(Debug, Clone, Copy, Default)]
pub struct FromGradient;

impl<P> ValueOnly<P> for FromGradient {
    fn value_only(&self, _: &P) -> Option<f64> {
        None
    }
}

impl<P, V: Fn(&P) -> f64> ValueOnly<P> for V {
    fn value_only(&self, params: &P) -> Option<f64> {
        Some(self(params))
    }
}

/// The value and the flat gradient at one point.
struct Evaluation {
    at: Vec<f64>,
    value: f64,
    gradient: Vec<f64>,
}

/// A non-finite value or gradient, reported through argmin's error type.
#[derive(Debug)]
pub struct NonFiniteEvaluation {
    /// The value of the function at the point.
    pub value: f64,
    /// The flat index and value of the first non-finite gradient element, if any.
    pub gradient: Option<(usize, f64)>,
}

impl fmt::Display for NonFiniteEvaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.gradient {
            Some((i, g)) => write!(
                f,
                "the gradient is not finite at the point (element {i} is {g}, value {}): \
                 check the function's domain at these parameters, or bound them",
                self.value
            ),
            None => write!(
                f,
                "the function's value is {} at the point: check its domain at these \
                 parameters, or bound them",
                self.value
            ),
        }
    }
}

impl std::error::Error for NonFiniteEvaluation {}

impl<P, F> Problem<P, F>
where
    P: Tangent + Clone,
    P::Scalar: Real,
    F: Fn(&P) -> (f64, P),
{
    /// A problem over parameters shaped like `like` (their values are not used, only their
    /// structure: matrix sizes, vector lengths).
    pub fn new(like: &P, value_and_grad: F) -> Self {
        Self {
            template: like.clone(),
            value_and_grad,
            value: FromGradient,
            last: RefCell::new(None),
            evaluations: Cell::new(0),
            value_runs: Cell::new(0),
        }
    }

    /// Computes values alone with `value` (the plain function, `name` itself) where argmin
    /// asks for a cost without a gradient, as a backtracking line search does at its trial
    /// points; a point whose gradient was already computed still answers from that run.
    /// Without it, every point runs `value_and_grad` once, which suits line searches that
    /// ask for both at every point (More-Thuente, Hager-Zhang).
    pub fn with_value<V: Fn(&P) -> f64>(self, value: V) -> Problem<P, F, V> {
        Problem {
            template: self.template,
            value_and_grad: self.value_and_grad,
            value,
            last: self.last,
            evaluations: self.evaluations,
            value_runs: self.value_runs,
        }
    }
}

impl<P, F, V> Problem<P, F, V>
where
    P: Tangent + Clone,
    P::Scalar: Real,
    F: Fn(&P) -> (f64, P),
    V: ValueOnly<P>,
{
    /// The parameters as the flat vector argmin works on (the starting point of a solver).
    pub fn flatten(&self, params: &P) -> Vec<f64> {
        if let Err(e) = self.template.check_structure(params) {
            panic!("Problem::flatten: the parameters do not have the problem's structure: {e}");
        }
        let mut flat = Vec::with_capacity(params.num_elements());
        params.visit(&mut |s| flat.extend(s.iter().map(|v| v.to_f64_lossless())));
        flat
    }

    /// The parameters at a flat point of argmin's (a solver's best parameters, say).
    ///
    /// # Panics
    /// If `flat` does not have one element per parameter element, naming both lengths.
    pub fn unflatten(&self, flat: &[f64]) -> P {
        let expected = self.template.num_elements();
        assert_eq!(
            flat.len(),
            expected,
            "Problem::unflatten: the point has {} elements but the parameters have {expected}",
            flat.len()
        );
        let mut params = self.template.clone();
        let mut at = 0;
        params.visit_mut(&mut |s| {
            for (dst, &src) in s.iter_mut().zip(&flat[at..]) {
                *dst = P::Scalar::c(src);
            }
            at += s.len();
        });
        params
    }

    /// How many times the gradient function has been run.
    pub fn evaluations(&self) -> usize {
        self.evaluations.get()
    }

    /// How many times the value function of [`with_value`](Problem::with_value) has been run.
    pub fn value_evaluations(&self) -> usize {
        self.value_runs.get()
    }

    /// The value at `flat`; `+inf` where the value is not finite (see the type's docs).
    fn cost_at(&self, flat: &[f64]) -> Result<f64, core::Error> {
        let value = match self.cached(flat) {
            Some(value) => value,
            None => match self.value.value_only(&self.unflatten(flat)) {
                Some(value) => {
                    self.value_runs.set(self.value_runs.get() + 1);
                    value
                }
                None => {
                    self.evaluate(flat)?;
                    self.cached(flat).unwrap_or(f64::INFINITY)
                }
            },
        };
        Ok(if value.is_finite() {
            value
        } else {
            f64::INFINITY
        })
    }

    /// The value of the last evaluation, if it was at `flat`.
    fn cached(&self, flat: &[f64]) -> Option<f64> {
        let last = self.last.borrow();
        let e = last.as_ref()?;
        let same = e.at.len() == flat.len()
            && e.at
                .iter()
                .zip(flat)
                .all(|(a, b)| a.to_bits() == b.to_bits());
        same.then_some(e.value)
    }

    /// The gradient at `flat`, or an error naming what is not finite.
    fn gradient_at(&self, flat: &[f64]) -> Result<Vec<f64>, core::Error> {
        self.evaluate(flat)?;
        let last = self.last.borrow();
        let e = last.as_ref().expect("evaluate stores its evaluation");
        let bad = e.gradient.iter().position(|g| !g.is_finite());
        if !e.value.is_finite() || bad.is_some() {
            return Err(NonFiniteEvaluation {
                value: e.value,
                gradient: bad.map(|i| (i, e.gradient[i])),
            }
            .into());
        }
        Ok(e.gradient.clone())
    }

    /// Runs the function at `flat` unless the last evaluation was at the same point.
    fn evaluate(&self, flat: &[f64]) -> Result<(), core::Error> {
        if self.cached(flat).is_some() {
            return Ok(());
        }
        let params = self.unflatten(flat);
        let (value, grad) = (self.value_and_grad)(&params);
        self.evaluations.set(self.evaluations.get() + 1);
        if let Err(e) = self.template.check_structure(&grad) {
            return Err(core::Error::msg(format!(
                "the gradient does not have the parameters' structure: {e}"
            )));
        }
        let gradient = self.flatten(&grad);
        *self.last.borrow_mut() = Some(Evaluation {
            at: flat.to_vec(),
            value,
            gradient,
        });
        Ok(())
    }
}

impl<P, F, V> core::CostFunction for Problem<P, F, V>
where
    P: Tangent + Clone,
    P::Scalar: Real,
    F: Fn(&P) -> (f64, P),
    V: ValueOnly<P>,
{
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, param: &Vec<f64>) -> Result<f64, core::Error> {
        self.cost_at(param)
    }
}

impl<P, F, V> core::Gradient for Problem<P, F, V>
where
    P: Tangent + Clone,
    P::Scalar: Real,
    F: Fn(&P) -> (f64, P),
    V: ValueOnly<P>,
{
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, param: &Vec<f64>) -> Result<Vec<f64>, core::Error> {
        self.gradient_at(param)
    }
}

/// A borrowed problem is a problem too, so that the caller keeps it (to
/// [`unflatten`](Problem::unflatten) the solution, or to read
/// [`evaluations`](Problem::evaluations)) while argmin's `Executor` owns the reference.
impl<P, F, V> core::CostFunction for &Problem<P, F, V>
where
    P: Tangent + Clone,
    P::Scalar: Real,
    F: Fn(&P) -> (f64, P),
    V: ValueOnly<P>,
{
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, param: &Vec<f64>) -> Result<f64, core::Error> {
        self.cost_at(param)
    }
}

impl<P, F, V> core::Gradient for &Problem<P, F, V>
where
    P: Tangent + Clone,
    P::Scalar: Real,
    F: Fn(&P) -> (f64, P),
    V: ValueOnly<P>,
{
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, param: &Vec<f64>) -> Result<Vec<f64>, core::Error> {
        self.gradient_at(param)
    }
}
