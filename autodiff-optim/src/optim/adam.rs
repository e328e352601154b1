//! [`Adam`], as `torch.optim.Adam`, and the update shared with [`AdamW`](super::AdamW).

use super::state::FlatState;
use super::{check, lerp, OptimError};
use autodiff_runtime::tangent::Tangent;

/// Adam with optional AMSGrad and L2 weight decay, exactly as `torch.optim.Adam`:
///
/// ```text
/// g = grad (negated if maximize) + weight_decay * p
/// m = lerp(m, g, 1 - beta1)                   v = beta2 * v + (1 - beta2) * g * g
/// v_max = max(v_max, v)        if amsgrad     (then v_max replaces v below)
/// denom = sqrt(v) / sqrt(1 - beta2^t) + eps
/// p = p - lr / (1 - beta1^t) * m / denom
/// ```
///
/// Defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0, amsgrad off.
#[derive(Debug, Clone)]
pub struct Adam {
    pub(super) hyper: AdamHyper,
    state: FlatState<3>,
}

/// The hyperparameters of Adam and AdamW.
#[derive(Debug, Clone, Copy)]
pub(super) struct AdamHyper {
    pub(super) lr: f64,
    pub(super) beta1: f64,
    pub(super) beta2: f64,
    pub(super) eps: f64,
    pub(super) weight_decay: f64,
    pub(super) amsgrad: bool,
    pub(super) maximize: bool,
    /// AdamW: decay the parameter (`p *= 1 - lr * wd`) instead of adding `wd * p` to the gradient.
    pub(super) decoupled: bool,
}

impl AdamHyper {
    pub(super) fn new(lr: f64, weight_decay: f64, decoupled: bool) -> Self {
        AdamHyper {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay,
            amsgrad: false,
            maximize: false,
            decoupled,
        }
    }

    fn validate(&self) -> Result<(), OptimError> {
        check("lr", self.lr, self.lr >= 0.0, "lr >= 0")?;
        check("eps", self.eps, self.eps >= 0.0, "eps >= 0")?;
        check(
            "betas[0]",
            self.beta1,
            (0.0..1.0).contains(&self.beta1),
            "0 <= beta1 < 1",
        )?;
        check(
            "betas[1]",
            self.beta2,
            (0.0..1.0).contains(&self.beta2),
            "0 <= beta2 < 1",
        )?;
        check(
            "weight_decay",
            self.weight_decay,
            self.weight_decay >= 0.0,
            "weight_decay >= 0",
        )
    }
}

/// One Adam / AdamW step over `state` = (exp_avg, exp_avg_sq, max_exp_avg_sq).
pub(super) fn adam_step<P: Tangent>(
    h: &AdamHyper,
    state: &mut FlatState<3>,
    params: &mut P,
    grads: &P,
) -> Result<(), OptimError> {
    h.validate()?;
    let AdamHyper {
        lr,
        beta1,
        beta2,
        eps,
        weight_decay,
        amsgrad,
        maximize,
        decoupled,
    } = *h;
    let t = (state.steps() + 1) as f64;
    let bias_correction1 = 1.0 - beta1.powf(t);
    let bias_correction2 = 1.0 - beta2.powf(t);
    let step_size = lr / bias_correction1;
    let bias_correction2_sqrt = bias_correction2.powf(0.5);
    state.step(params, grads, |mut p, g, [m, v, v_max]| {
        let mut g = if maximize { -g } else { g };
        if weight_decay != 0.0 {
            if decoupled {
                p *= 1.0 - lr * weight_decay;
            } else {
                g += weight_decay * p;
            }
        }
        *m = lerp(*m, g, 1.0 - beta1);
        *v = *v * beta2 + (1.0 - beta2) * g * g;
        let second = if amsgrad {
            *v_max = v_max.max(*v);
            *v_max
        } else {
            *v
        };
        let denom = second.sqrt() / bias_correction2_sqrt + eps;
        p + -step_size * (*m / denom)
    })
}

impl Adam {
    /// Adam with learning rate `lr` and torch's defaults.
    pub fn new(lr: f64) -> Self {
        Adam {
            hyper: AdamHyper::new(lr, 0.0, false),
            state: FlatState::default(),
        }
    }

    /// L2 penalty added to the gradient (default 0). For decoupled decay use [`AdamW`](super::AdamW).
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.hyper.weight_decay = weight_decay;
        self
    }
}

/// The builder methods, `LearningRate` and `Optimizer` that [`Adam`] and
/// [`AdamW`](super::AdamW) share: both are `adam_step` over an `AdamHyper`, differing only
/// in their defaults and in how `weight_decay` applies.
macro_rules! adam_family {
    ($ty:ident) => {
        impl $ty {
            /// Coefficients of the running averages of the gradient and its square (default (0.9, 0.999)).
            pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
                self.hyper.beta1 = beta1;
                self.hyper.beta2 = beta2;
                self
            }

            /// Added to the denominator for numerical stability (default 1e-8).
            pub fn eps(mut self, eps: f64) -> Self {
                self.hyper.eps = eps;
                self
            }

            /// Use the AMSGrad variant (default false).
            pub fn amsgrad(mut self, amsgrad: bool) -> Self {
                self.hyper.amsgrad = amsgrad;
                self
            }

            /// Maximise the objective instead of minimising it (default false).
            pub fn maximize(mut self, maximize: bool) -> Self {
                self.hyper.maximize = maximize;
                self
            }
        }

        impl $crate::optim::LearningRate for $ty {
            fn lr(&self) -> f64 {
                self.hyper.lr
            }
            fn set_lr(&mut self, lr: f64) {
                self.hyper.lr = lr;
            }
        }

        $crate::optim::saved_state::optimizer_state!(
            $ty,
            ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        );

        impl<P: ::autodiff_runtime::tangent::Tangent> $crate::optim::Optimizer<P> for $ty {
            fn step(&mut self, params: &mut P, grads: &P) -> Result<(), $crate::optim::OptimError> {
                $crate::optim::adam::adam_step(&self.hyper, &mut self.state, params, grads)
            }
            fn steps_taken(&self) -> u64 {
                self.state.steps()
            }
            fn reset(&mut self) {
                self.state.reset();
            }
        }
    };
}
pub(super) use adam_family;

adam_family!(Adam);
