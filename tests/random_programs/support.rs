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

/// `|a - b| <= rel * (1 + max(|a|, |b|))`.
fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * (1.0 + a.abs().max(b.abs()))
}
