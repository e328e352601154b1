//! The checker for the generated random programs (`tests/random_programs.rs`).
//!
//! For each program and each of a few seeded points `(x, n)` it checks:
//! 1. `name_grad` returns the forward function's value;
//! 2. every partial derivative matches a central finite difference, unless the function is
//!    not smooth at that point (a branch switch, a `max` tie or a `relu`/`abs` kink within
//!    the step), which shows as two step sizes disagreeing; such points are counted, and
//!    more than a tenth of them fails the test;
//! 3. `name_vjp(.., d)` gives the same value and `d` times the gradient;
//! 4. the same program written over `autodiff::dynamic::Tensor` gives the same value and
//!    gradient.
//!
//! Failures are collected and reported together, each with the program's source.

use autodiff::dynamic::Tensor;
use autodiff::nalgebra::{DMatrix, RowDVector};

/// The parameters of a generated matrix program: `a` (R x K), `w` (K x C), `bias` (1 x C), `s`.
pub type MatrixParams = (DMatrix<f64>, DMatrix<f64>, RowDVector<f64>, f64);

/// Flattens the parameters, each matrix column-major, in the order `a, w, bias, s`.
fn flatten(p: &MatrixParams) -> Vec<f64> {
    let mut v = p.0.as_slice().to_vec();
    v.extend_from_slice(p.1.as_slice());
    v.extend_from_slice(p.2.as_slice());
    v.push(p.3);
    v
}

/// The inverse of [`flatten`] for shapes `(R, K, C)`.
fn unflatten(v: &[f64], (r, k, c): (usize, usize, usize)) -> MatrixParams {
    let (a, rest) = v.split_at(r * k);
    let (w, rest) = rest.split_at(k * c);
    let (bias, s) = rest.split_at(c);
    (
        DMatrix::from_column_slice(r, k, a),
        DMatrix::from_column_slice(k, c, w),
        RowDVector::from_row_slice(bias),
        s[0],
    )
}

/// Points per program.
const POINTS: usize = 3;

/// Runs the checks and collects failures.
pub struct Checker {
    state: u64,
    programs: usize,
    points: usize,
    non_smooth: usize,
    dynamic_checked: usize,
    failures: Vec<String>,
}

impl Checker {
    /// A checker whose points are drawn from `seed`.
    pub fn new(seed: u64) -> Self {
        Checker {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            programs: 0,
            points: 0,
            non_smooth: 0,
            dynamic_checked: 0,
            failures: Vec::new(),
        }
    }

    /// A uniform number in `[0, 1)` (xorshift64*).
    fn uniform(&mut self) -> f64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        let r = self.state.wrapping_mul(0x2545_F491_4F6C_DD1D);
        (r >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Checks one program of `P` parameters; see the module docs.
    pub fn check<const P: usize>(
        &mut self,
        source: &str,
        forward: impl Fn(&[f64; P], usize) -> f64,
        grad: impl Fn(&[f64; P], usize) -> (f64, [f64; P]),
        vjp: impl Fn(&[f64; P], usize, f64) -> (f64, [f64; P]),
        dynamic: impl Fn(&[Tensor; P], usize) -> Tensor,
    ) {
        self.programs += 1;
        for _ in 0..POINTS {
            let x: [f64; P] = std::array::from_fn(|_| 3.0 * self.uniform() - 1.5);
            let n = (self.uniform() * 4.0) as usize;
            self.points += 1;
            if let Err(message) = self.check_point(&x, n, &forward, &grad, &vjp, &dynamic) {
                self.failures.push(format!(
                    "at x = {x:?}, n = {n}: {message}\n--- program ---\n{source}"
                ));
            }
        }
    }

    /// Checks one matrix program (see [`MatrixParams`]) at a few seeded points: the same
    /// checks as [`Self::check`], element by element, and the dynamic engine where the
    /// program has a `Tensor` version.
    pub fn check_matrix(
        &mut self,
        source: &str,
        shape: (usize, usize, usize),
        forward: impl Fn(&MatrixParams) -> f64,
        grad: impl Fn(&MatrixParams) -> (f64, MatrixParams),
        vjp: impl Fn(&MatrixParams, f64) -> (f64, MatrixParams),
        dynamic: Option<impl Fn(&[Tensor; 4]) -> Tensor>,
    ) {
        self.programs += 1;
        let (r, k, c) = shape;
        let len = r * k + k * c + c + 1;
        for _ in 0..POINTS {
            let x: Vec<f64> = (0..len).map(|_| 3.0 * self.uniform() - 1.5).collect();
            self.points += 1;
            let flat_forward = |v: &[f64]| forward(&unflatten(v, shape));
            let flat_grad = |v: &[f64]| {
                let (value, g) = grad(&unflatten(v, shape));
                (value, flatten(&g))
            };
            let flat_vjp = |v: &[f64], d: f64| {
                let (value, g) = vjp(&unflatten(v, shape), d);
                (value, flatten(&g))
            };
            let flat_dynamic = dynamic.as_ref().map(|f| {
                move |x: &[f64]| {
                    let p = unflatten(x, shape);
                    let leaves = [
                        Tensor::from(p.0).requires_grad(),
                        Tensor::from(p.1).requires_grad(),
                        Tensor::from(DMatrix::from_row_slice(1, c, p.2.as_slice())).requires_grad(),
                        Tensor::scalar(p.3).requires_grad(),
                    ];
                    let y = f(&leaves);
                    (y, leaves)
                }
            });
            let result = self.check_flat(&x, &flat_forward, &flat_grad, &flat_vjp);
            let result = result.and_then(|g| match &flat_dynamic {
                None => Ok(()),
                Some(run) => {
                    let (y, leaves) = run(&x);
                    compare_dynamic(&y, &leaves, forward(&unflatten(&x, shape)), &g)?;
                    self.dynamic_checked += 1;
                    Ok(())
                }
            });
            if let Err(message) = result {
                self.failures.push(format!(
                    "at shape (R, K, C) = {shape:?}, parameters {x:?}: {message}\n--- program ---\n{source}"
                ));
            }
        }
    }

    /// The value, vjp and finite-difference checks on a flat parameter vector; returns the
    /// gradient.
    fn check_flat(
        &mut self,
        x: &[f64],
        forward: &impl Fn(&[f64]) -> f64,
        grad: &impl Fn(&[f64]) -> (f64, Vec<f64>),
        vjp: &impl Fn(&[f64], f64) -> (f64, Vec<f64>),
    ) -> Result<Vec<f64>, String> {
        let value = forward(x);
        let (v, g) = grad(x);
        if v.to_bits() != value.to_bits() {
            return Err(format!("name_grad value {v:e} != forward value {value:e}"));
        }
        if !value.is_finite() || g.iter().any(|d| !d.is_finite()) {
            return Err(format!("non-finite value {value:e} or gradient {g:?}"));
        }
        let d_out = 0.7;
        let (vv, gv) = vjp(x, d_out);
        if vv.to_bits() != value.to_bits() {
            return Err(format!("name_vjp value {vv:e} != forward value {value:e}"));
        }
        for (i, (&a, &b)) in gv.iter().zip(&g).enumerate() {
            if !close(a, d_out * b, 1e-12) {
                return Err(format!(
                    "name_vjp(d_out = {d_out}) gives element {i} = {a:e}, expected {d_out} * {b:e}"
                ));
            }
        }
        let mut smooth = true;
        for i in 0..x.len() {
            let fd = |h: f64| {
                let (mut lo, mut hi) = (x.to_vec(), x.to_vec());
                lo[i] -= h;
                hi[i] += h;
                (forward(&hi) - forward(&lo)) / (2.0 * h)
            };
            let h = 1e-5 * x[i].abs().max(1.0);
            let (d1, d2) = (fd(h), fd(h / 4.0));
            if !close(d1, d2, 1e-4) {
                smooth = false;
                continue;
            }
            if !close(g[i], d2, 1e-4) {
                return Err(format!(
                    "element {i} of the flat gradient (a, w, bias, s): name_grad {:e}, central \
                     difference {d2:e}",
                    g[i]
                ));
            }
        }
        if !smooth {
            self.non_smooth += 1;
        }
        Ok(g)
    }

    fn check_point<const P: usize>(
        &mut self,
        x: &[f64; P],
        n: usize,
        forward: &impl Fn(&[f64; P], usize) -> f64,
        grad: &impl Fn(&[f64; P], usize) -> (f64, [f64; P]),
        vjp: &impl Fn(&[f64; P], usize, f64) -> (f64, [f64; P]),
        dynamic: &impl Fn(&[Tensor; P], usize) -> Tensor,
    ) -> Result<(), String> {
        let value = forward(x, n);
        let (v, g) = grad(x, n);
        if v.to_bits() != value.to_bits() {
            return Err(format!("name_grad value {v:e} != forward value {value:e}"));
        }
        if !value.is_finite() || g.iter().any(|d| !d.is_finite()) {
            return Err(format!("non-finite value {value:e} or gradient {g:?}"));
        }

        // vjp with a cotangent that is not 1.
        let d_out = 0.7;
        let (vv, gv) = vjp(x, n, d_out);
        if vv.to_bits() != value.to_bits() {
            return Err(format!("name_vjp value {vv:e} != forward value {value:e}"));
        }
        for i in 0..P {
            if !close(gv[i], d_out * g[i], 1e-12) {
                return Err(format!(
                    "name_vjp(d_out = {d_out}) gives d/dx{i} = {:e}, expected {d_out} * {:e}",
                    gv[i], g[i]
                ));
            }
        }

        // Central differences, with a smoothness test at two step sizes.
        let mut smooth = true;
        for i in 0..P {
            let fd = |h: f64| {
                let (mut lo, mut hi) = (*x, *x);
                lo[i] -= h;
                hi[i] += h;
                (forward(&hi, n) - forward(&lo, n)) / (2.0 * h)
            };
            let h = 1e-5 * x[i].abs().max(1.0);
            let (d1, d2) = (fd(h), fd(h / 4.0));
            if !close(d1, d2, 1e-4) {
                smooth = false;
                continue;
            }
            if !close(g[i], d2, 1e-4) {
                return Err(format!(
                    "d/dx{i}: name_grad {:e}, central difference {d2:e} (step {:e}: {d1:e})",
                    g[i],
                    h / 4.0
                ));
            }
        }
        if !smooth {
            self.non_smooth += 1;
        }

        // The dynamic engine on the same program.
        let t: [Tensor; P] = std::array::from_fn(|i| Tensor::scalar(x[i]).requires_grad());
        let y = dynamic(&t, n);
        if !close(y.item(), value, 1e-12) {
            return Err(format!("dynamic engine value {:e} != {value:e}", y.item()));
        }
        if y.requires_grad_flag() {
            y.backward()
                .map_err(|e| format!("dynamic engine backward failed: {e}"))?;
        }
        for i in 0..P {
            let gd = t[i].grad().map_or(0.0, |g| g.item());
            if !close(gd, g[i], 1e-9) {
                return Err(format!(
                    "d/dx{i}: static engine {:e}, dynamic engine {gd:e}",
                    g[i]
                ));
            }
        }
        self.dynamic_checked += 1;
        Ok(())
    }

    /// Fails with every collected failure; prints the counts.
    pub fn finish(self) {
        eprintln!(
            "random programs: {} programs at {} points; {} points not smooth within the step \
             (finite differences skipped there); {} points checked against the dynamic engine",
            self.programs, self.points, self.non_smooth, self.dynamic_checked
        );
        assert!(
            self.failures.is_empty(),
            "{} of {} points failed:\n\n{}",
            self.failures.len(),
            self.points,
            self.failures.join("\n\n")
        );
        assert!(
            self.non_smooth * 10 <= self.points,
            "{} of {} points were not smooth: the generator makes too many kinks",
            self.non_smooth,
            self.points
        );
    }
}

/// The dynamic engine's value and leaf gradients (flattened like [`flatten`]) against the
/// static engine's.
fn compare_dynamic(y: &Tensor, leaves: &[Tensor; 4], value: f64, g: &[f64]) -> Result<(), String> {
    if !close(y.item(), value, 1e-12) {
        return Err(format!("dynamic engine value {:e} != {value:e}", y.item()));
    }
    if y.requires_grad_flag() {
        y.backward()
            .map_err(|e| format!("dynamic engine backward failed: {e}"))?;
    }
    let mut flat = Vec::new();
    for leaf in leaves {
        match leaf.grad() {
            Some(t) => flat.extend_from_slice(t.value().as_slice()),
            None => flat.extend(std::iter::repeat_n(0.0, leaf.len())),
        }
    }
    for (i, (&d, &s)) in flat.iter().zip(g).enumerate() {
        if !close(d, s, 1e-9) {
            return Err(format!(
                "element {i} of the flat gradient: static engine {s:e}, dynamic engine {d:e}"
            ));
        }
    }
    Ok(())
}

/// `|a - b| <= rel * (1 + max(|a|, |b|))`.
fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * (1.0 + a.abs().max(b.abs()))
}
