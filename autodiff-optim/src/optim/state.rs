//! The transactional step every optimizer runs: validate, compute into scratch, commit.

use super::OptimError;
use autodiff_runtime::rules::Real;
use autodiff_runtime::tangent::{ElementLocation, Tangent};

/// `K` flat state buffers (one value per parameter element, in the flat order of
/// [`Tangent`]) plus the scratch space that makes a step all-or-nothing.
#[derive(Debug, Clone, Default)]
pub(crate) struct FlatState<const K: usize> {
    /// The committed state; empty before the first step.
    bufs: Option<[Vec<f64>; K]>,
    /// Scratch for the next state.
    next: Vec<[f64; K]>,
    /// Scratch for the next parameters.
    params_next: Vec<f64>,
    steps: u64,
}

impl<const K: usize> FlatState<K> {
    /// Successful steps so far.
    pub(crate) fn steps(&self) -> u64 {
        self.steps
    }

    /// The step count and the committed buffers (`None` before the first step).
    pub(crate) fn snapshot(&self) -> (u64, Option<&[Vec<f64>; K]>) {
        (self.steps, self.bufs.as_ref())
    }

    /// Replaces the step count and the buffers (`K` of the same length, or `None`).
    /// `Err` (and nothing changed) when they are not.
    pub(crate) fn restore(
        &mut self,
        steps: u64,
        bufs: Option<Vec<Vec<f64>>>,
    ) -> Result<(), String> {
        let bufs = match bufs {
            None => None,
            Some(bufs) => {
                let bufs: [Vec<f64>; K] = bufs
                    .try_into()
                    .map_err(|b: Vec<Vec<f64>>| format!("{} buffers, expected {K}", b.len()))?;
                if bufs.iter().any(|b| b.len() != bufs[0].len()) {
                    let lens: Vec<usize> = bufs.iter().map(Vec::len).collect();
                    return Err(format!("buffers of different lengths {lens:?}"));
                }
                Some(bufs)
            }
        };
        self.reset();
        self.bufs = bufs;
        self.steps = steps;
        Ok(())
    }

    /// Forgets everything.
    pub(crate) fn reset(&mut self) {
        *self = FlatState {
            bufs: None,
            next: Vec::new(),
            params_next: Vec::new(),
            steps: 0,
        };
    }

    /// One step: `rule(p, g, state)` gets a parameter, its gradient and its state (zeros on
    /// the first step), updates the state in place and returns the new parameter. Nothing is
    /// written unless every new parameter and state value is finite.
    pub(crate) fn step<P: Tangent>(
        &mut self,
        params: &mut P,
        grads: &P,
        mut rule: impl FnMut(f64, f64, &mut [f64; K]) -> f64,
    ) -> Result<(), OptimError> {
        params.check_structure(grads)?;
        let n = params.num_elements();
        if let Some(bufs) = &self.bufs {
            let state = bufs.first().map_or(n, Vec::len);
            if state != n {
                return Err(OptimError::StateMismatch { state, params: n });
            }
        }
        if let Some((i, value)) = grads.first_non_finite() {
            let at = ElementLocation::of(grads, i);
            return Err(OptimError::NonFiniteGradient { at, value });
        }
        if let Some((i, value)) = params.first_non_finite() {
            let at = ElementLocation::of(params, i);
            return Err(OptimError::NonFiniteParameter { at, value });
        }

        let bufs = self
            .bufs
            .get_or_insert_with(|| std::array::from_fn(|_| vec![0.0; n]));
        self.next.clear();
        self.params_next.clear();
        let (next, params_next) = (&mut self.next, &mut self.params_next);
        let mut bad = None;
        let mut offset = 0;
        params.visit_zip(grads, &mut |p, g| {
            for (j, (p, g)) in p.iter().zip(g).enumerate() {
                let i = offset + j;
                let mut s: [f64; K] = std::array::from_fn(|k| bufs[k][i]);
                let new_p = rule(p.to_f64_lossless(), g.to_f64_lossless(), &mut s);
                let rounded = <P::Scalar as Real>::c(new_p);
                let finite =
                    num_traits::Float::is_finite(rounded) && s.iter().all(|v| v.is_finite());
                if !finite && bad.is_none() {
                    bad = Some(i);
                }
                next.push(s);
                params_next.push(new_p);
            }
            offset += p.len();
        });
        if let Some(i) = bad {
            let at = ElementLocation::of(params, i);
            return Err(OptimError::NonFiniteUpdate { at });
        }

        for (i, s) in self.next.iter().enumerate() {
            for (buf, v) in bufs.iter_mut().zip(s) {
                buf[i] = *v;
            }
        }
        let mut values = self.params_next.iter();
        params.visit_mut(&mut |leaf| {
            for (x, v) in leaf.iter_mut().zip(&mut values) {
                *x = <P::Scalar as Real>::c(*v);
            }
        });
        self.steps += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::optim::{Adam, OptimError, Optimizer, RmsProp, Sgd};
    use autodiff_runtime::nalgebra::{DMatrix, DVector};

    type Params = (DMatrix<f64>, DVector<f64>);

    fn params() -> Params {
        (
            DMatrix::from_row_slice(2, 2, &[1.0, -2.0, 0.5, 3.0]),
            DVector::from_row_slice(&[0.25, -0.75]),
        )
    }

    #[test]
    fn a_non_finite_gradient_is_refused_and_nothing_changes() {
        let mut opt = Adam::new(0.1);
        let mut p = params();
        let g = params();
        opt.step(&mut p, &g).unwrap();
        let (before, m_before) = (p.clone(), opt.clone());

        let mut bad = params();
        bad.1[1] = f64::NAN;
        let err = opt.step(&mut p, &bad).unwrap_err();
        match &err {
            OptimError::NonFiniteGradient { at, value } => {
                assert_eq!(
                    (at.parameter.as_str(), at.index, at.flat_index),
                    ("1", 1, 5)
                );
                assert!(value.is_nan());
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(err
            .to_string()
            .contains("the gradient of `1`[1] (flat index 5) is NaN"));
        assert_eq!(p, before);
        assert_eq!(<Adam as Optimizer<Params>>::steps_taken(&opt), 1);
        // The state is untouched too: the next good step equals one from the saved copy.
        let mut q = before.clone();
        let mut m = m_before;
        opt.step(&mut p, &g).unwrap();
        m.step(&mut q, &g).unwrap();
        assert_eq!(p, q);
    }

    #[test]
    fn an_overflowing_update_is_refused() {
        let mut opt = Sgd::new(1e300);
        let mut p = 1.0_f64;
        let err = opt.step(&mut p, &1e300).unwrap_err();
        assert!(matches!(err, OptimError::NonFiniteUpdate { .. }), "{err:?}");
        assert_eq!(p, 1.0);
        // f32 parameters overflow when rounded, even though the f64 update is finite.
        let mut opt = Sgd::new(2.0);
        let mut q = [1.0_f32, 2.0];
        let err = opt.step(&mut q, &[1.0, -1e38_f32 * 4.0]).unwrap_err();
        assert!(
            matches!(err, OptimError::NonFiniteGradient { .. }),
            "{err:?}"
        );
        let err = opt.step(&mut q, &[1.0, -3e38_f32]).unwrap_err();
        match err {
            OptimError::NonFiniteUpdate { at } => assert_eq!(at.flat_index, 1),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(q, [1.0, 2.0]);
    }

    #[test]
    fn structure_and_state_mismatches_are_errors() {
        let mut opt = RmsProp::new(0.01);
        let mut p = params();
        let wrong = (DMatrix::zeros(1, 4), DVector::zeros(2));
        let err = opt.step(&mut p, &wrong).unwrap_err();
        assert!(
            err.to_string()
                .contains("expected a 2x2 matrix, found a 1x4 matrix"),
            "{err}"
        );

        let mut v = vec![1.0_f64, 2.0];
        opt.step(&mut v, &vec![0.1, 0.1]).unwrap();
        let mut longer = vec![1.0_f64, 2.0, 3.0];
        let err = opt.step(&mut longer, &vec![0.1; 3]).unwrap_err();
        assert_eq!(
            err,
            OptimError::StateMismatch {
                state: 2,
                params: 3
            }
        );
        <RmsProp as Optimizer<Vec<f64>>>::reset(&mut opt);
        opt.step(&mut longer, &vec![0.1; 3]).unwrap();
    }

    #[test]
    fn hyperparameters_are_checked_like_torch() {
        let mut p = 1.0_f64;
        let err = Sgd::new(0.1).nesterov(true).step(&mut p, &1.0).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid momentum: 0; expected momentum > 0 with nesterov(true)"
        );
        let err = Adam::new(0.1)
            .betas(1.0, 0.9)
            .step(&mut p, &1.0)
            .unwrap_err();
        assert!(err.to_string().starts_with("invalid betas[0]: 1"), "{err}");
        let err = Sgd::new(-1.0).step(&mut p, &1.0).unwrap_err();
        assert!(matches!(
            err,
            OptimError::InvalidHyperparameter { name: "lr", .. }
        ));
        assert_eq!(p, 1.0);
    }

    #[test]
    fn an_optimizer_chosen_at_run_time_works_boxed() {
        use crate::optim::{AdamW, LearningRate};
        let choices: Vec<Box<dyn Optimizer<Params>>> = vec![
            Box::new(Sgd::new(0.1).momentum(0.9)),
            Box::new(AdamW::new(0.1)),
            Box::new(RmsProp::new(0.1)),
        ];
        for mut opt in choices {
            let mut p = params();
            let start = p.clone();
            opt.step(&mut p, &start).unwrap();
            assert_ne!(p, start);
            assert_eq!(opt.steps_taken(), 1);
            opt.set_lr(0.5);
            assert_eq!(opt.lr(), 0.5);
        }
    }

    #[test]
    fn f32_parameters_follow_the_f64_update_rounded_once() {
        let mut p32 = [0.3_f32, -1.1];
        let mut p64 = [0.3_f32 as f64, -1.1_f32 as f64];
        let (mut a, mut b) = (Adam::new(0.01), Adam::new(0.01));
        for _ in 0..3 {
            let g32 = p32.map(|x| 2.0 * x);
            let g64 = p64.map(|x| 2.0 * x);
            a.step(&mut p32, &g32).unwrap();
            b.step(&mut p64, &g64).unwrap();
        }
        for (x, y) in p32.iter().zip(&p64) {
            assert!((*x as f64 - y).abs() < 1e-6, "{x} vs {y}");
        }
    }
}
