//! Elementwise ops and the arithmetic operators. Every derivative here comes from the
//! shared rules in [`crate::rules`]: unary ops apply an [`ElementwiseRule`]'s `f`/`df`
//! elementwise, binary ops a [`BinaryRule`]'s `f`/`da`/`db` with broadcasting.

use std::ops;
use std::rc::Rc;

use nalgebra::DMatrix;

use super::broadcast::{add_reduced, at, broadcast_shape, zip_broadcast};
use super::error::{GradError, Shape};
use super::node::{BackwardFn, GradSink};
use super::tensor::Tensor;
use crate::rules::{
    Abs, Add, BinaryRule, Cos, Cosh, Div, ElementwiseRule, Exp, ExpM1, Ln, Ln1p, Log10, Log2, Max,
    Min, Mul, Neg, PowI, Powf, Recip, Relu, Sigmoid, Sin, Sinh, Softplus, Sqrt, Sub, Tan, Tanh,
};

/// Backward of a unary elementwise op: `gx = g * df(x, y)`.
struct Elementwise<R> {
    rule: R,
    x: Rc<DMatrix<f64>>,
    y: Rc<DMatrix<f64>>,
}

impl<R: ElementwiseRule> BackwardFn for Elementwise<R> {
    fn backward(&self, g: DMatrix<f64>, sink: &mut GradSink<'_>) {
        let (rule, x, y) = (self.rule, self.x.as_slice(), self.y.as_slice());
        sink.add_map(0, g, |k, gk| gk * rule.df(x[k], y[k]));
    }
}

/// Backward of an op whose derivative is a constant `c` (negation): `gx = c * g`.
/// It saves no values, so (as in PyTorch) it can be backpropagated more than once.
struct Scale {
    c: f64,
}

impl BackwardFn for Scale {
    fn backward(&self, g: DMatrix<f64>, sink: &mut GradSink<'_>) {
        sink.add_scaled(0, self.c, g);
    }

    fn saves_values(&self) -> bool {
        false
    }
}

/// Backward of a binary elementwise op with broadcasting:
/// `ga = reduce(g * da(a, b, y))`, `gb = reduce(g * db(a, b, y))`.
struct Binary<R> {
    rule: R,
    a: Rc<DMatrix<f64>>,
    b: Rc<DMatrix<f64>>,
    y: Rc<DMatrix<f64>>,
}

impl<R: BinaryRule> BackwardFn for Binary<R> {
    fn backward(&self, g: DMatrix<f64>, sink: &mut GradSink<'_>) {
        let (rule, a, b, y) = (self.rule, &*self.a, &*self.b, &*self.y);
        if a.shape() == b.shape() {
            let (sa, sb, sy, sg) = (a.as_slice(), b.as_slice(), y.as_slice(), g.as_slice());
            if sink.needs(1) {
                sink.add_with(1, b.shape(), |acc, _beta| {
                    for (k, acc) in acc.iter_mut().enumerate() {
                        *acc += sg[k] * rule.db(sa[k], sb[k], sy[k]);
                    }
                });
            }
            sink.add_map(0, g, |k, gk| gk * rule.da(sa[k], sb[k], sy[k]));
        } else {
            let out = g.shape();
            if sink.needs(1) {
                add_reduced(sink, 1, b.shape(), out, |i, j| {
                    g[(i, j)] * rule.db(at(a, i, j), at(b, i, j), y[(i, j)])
                });
            }
            if sink.needs(0) {
                add_reduced(sink, 0, a.shape(), out, |i, j| {
                    g[(i, j)] * rule.da(at(a, i, j), at(b, i, j), y[(i, j)])
                });
            }
        }
    }
}

/// Backward of `a + b` and `a - b`: `ga = ca * g`, `gb = cb * g`, each reduced to its
/// operand's shape. Saves no values, as PyTorch's `AddBackward0`.
struct Linear {
    ca: f64,
    cb: f64,
    a: Shape,
    b: Shape,
}

impl BackwardFn for Linear {
    fn backward(&self, g: DMatrix<f64>, sink: &mut GradSink<'_>) {
        let out = g.shape();
        if sink.needs(1) {
            if self.b == out {
                sink.add_scaled_ref(1, self.cb, &g);
            } else {
                let cb = self.cb;
                add_reduced(sink, 1, self.b, out, |i, j| cb * g[(i, j)]);
            }
        }
        if sink.needs(0) {
            if self.a == out {
                sink.add_scaled(0, self.ca, g);
            } else {
                let ca = self.ca;
                add_reduced(sink, 0, self.a, out, |i, j| ca * g[(i, j)]);
            }
        }
    }

    fn saves_values(&self) -> bool {
        false
    }
}

/// An operand of a binary op: a tensor, or an `f64` constant (broadcast as 1x1).
#[derive(Clone, Copy)]
enum Operand<'a> {
    Tensor(&'a Tensor),
    Const(f64),
}

impl Operand<'_> {
    fn value(self) -> Rc<DMatrix<f64>> {
        match self {
            Operand::Tensor(t) => t.value_rc(),
            Operand::Const(c) => Rc::new(DMatrix::from_element(1, 1, c)),
        }
    }
}

fn operand_tensor<'a>(operand: Operand<'a>) -> Option<&'a Tensor> {
    match operand {
        Operand::Tensor(t) => Some(t),
        Operand::Const(_) => None,
    }
}

/// `rule(a, b)` elementwise with broadcasting, recorded as `name`.
fn binary<R: BinaryRule + 'static>(
    rule: R,
    name: &'static str,
    op: &'static str,
    a: Operand<'_>,
    b: Operand<'_>,
) -> Result<Tensor, GradError> {
    let (av, bv) = (a.value(), b.value());
    let shape = broadcast_shape(op, av.shape(), bv.shape())?;
    let y = Rc::new(zip_broadcast(&av, &bv, shape, |x, z| rule.f(x, z)));
    Ok(Tensor::from_op(
        y,
        name,
        [operand_tensor(a), operand_tensor(b)],
        |y| {
            Box::new(Binary {
                rule,
                a: av,
                b: bv,
                y: Rc::clone(y),
            })
        },
    ))
}

/// `rule(a, b)` for a rule whose partial derivatives are constants (`Add`, `Sub`): they
/// are read once from the rule, and the backward scales `g` instead of evaluating them
/// per element.
fn linear<R: BinaryRule + 'static>(
    rule: R,
    name: &'static str,
    op: &'static str,
    a: Operand<'_>,
    b: Operand<'_>,
) -> Result<Tensor, GradError> {
    let (av, bv) = (a.value(), b.value());
    let shape = broadcast_shape(op, av.shape(), bv.shape())?;
    let y = Rc::new(zip_broadcast(&av, &bv, shape, |x, z| rule.f(x, z)));
    let backward = Linear {
        ca: rule.da(0.0, 0.0, 0.0),
        cb: rule.db(0.0, 0.0, 0.0),
        a: av.shape(),
        b: bv.shape(),
    };
    Ok(Tensor::from_op(
        y,
        name,
        [operand_tensor(a), operand_tensor(b)],
        |_| Box::new(backward),
    ))
}

/// Operators cannot return errors: a shape mismatch panics with the error's message.
fn or_panic(result: Result<Tensor, GradError>) -> Tensor {
    result.unwrap_or_else(|e| panic!("{e}"))
}

macro_rules! elementwise_methods {
    ($($(#[$doc:meta])* $method:ident => $rule:expr;)*) => {
        impl Tensor {
            $(
                $(#[$doc])*
                pub fn $method(&self) -> Tensor {
                    self.unary($rule)
                }
            )*
        }
    };
}

elementwise_methods! {
    /// `e^x` elementwise (`ExpBackward0`).
    exp => Exp;
    /// Natural logarithm elementwise (`LogBackward0`).
    ln => Ln;
    /// Base-10 logarithm elementwise (`Log10Backward0`).
    log10 => Log10;
    /// Base-2 logarithm elementwise (`Log2Backward0`).
    log2 => Log2;
    /// Square root elementwise (`SqrtBackward0`).
    sqrt => Sqrt;
    /// `1 / x` elementwise (`ReciprocalBackward0`).
    recip => Recip;
    /// Sine elementwise (`SinBackward0`).
    sin => Sin;
    /// Cosine elementwise (`CosBackward0`).
    cos => Cos;
    /// Tangent elementwise (`TanBackward0`).
    tan => Tan;
    /// Hyperbolic tangent elementwise (`TanhBackward0`).
    tanh => Tanh;
    /// Hyperbolic sine elementwise (`SinhBackward0`).
    sinh => Sinh;
    /// Hyperbolic cosine elementwise (`CoshBackward0`).
    cosh => Cosh;
    /// Absolute value elementwise; its gradient is 0 at 0, as in PyTorch (`AbsBackward0`).
    abs => Abs;
    /// `e^x - 1` elementwise, accurate near 0 (`Expm1Backward0`).
    exp_m1 => ExpM1;
    /// `ln(1 + x)` elementwise, accurate near 0 (`Log1PBackward0`).
    ln_1p => Ln1p;
    /// Logistic sigmoid elementwise, stable for any input (`SigmoidBackward0`).
    sigmoid => Sigmoid;
    /// `max(x, 0)` elementwise; its gradient is 0 at 0, as in PyTorch (`ReluBackward0`).
    relu => Relu;
    /// `ln(1 + e^x)` elementwise, stable for any input (`SoftplusBackward0`).
    softplus => Softplus;
}

impl Tensor {
    /// Applies an elementwise rule, recording its backward.
    fn unary<R: ElementwiseRule + 'static>(&self, rule: R) -> Tensor {
        let x = self.value_rc();
        let y = Rc::new(x.map(|v| rule.f(v)));
        Tensor::from_op(y, R::TORCH_NAME, [Some(self), None], |y| {
            Box::new(Elementwise {
                rule,
                x,
                y: Rc::clone(y),
            })
        })
    }

    /// `x^n` elementwise for an integer `n` (`PowBackward0`).
    pub fn powi(&self, n: i32) -> Tensor {
        self.unary(PowI(n))
    }

    /// `x^e` elementwise for a constant exponent (`PowBackward0`, PyTorch's name for a
    /// tensor raised to a scalar).
    pub fn powf(&self, e: f64) -> Tensor {
        or_panic(binary(
            Powf,
            "PowBackward0",
            "powf",
            Operand::Tensor(self),
            Operand::Const(e),
        ))
    }

    /// `x^e` elementwise with a tensor exponent, broadcast (`PowBackward1`).
    ///
    /// # Panics
    /// If the shapes do not broadcast.
    pub fn pow(&self, e: &Tensor) -> Tensor {
        or_panic(binary(
            Powf,
            Powf::TORCH_NAME,
            "pow",
            Operand::Tensor(self),
            Operand::Tensor(e),
        ))
    }

    /// Elementwise maximum, broadcast; ties split the gradient (`MaximumBackward0`).
    ///
    /// # Panics
    /// If the shapes do not broadcast.
    pub fn maximum(&self, other: &Tensor) -> Tensor {
        or_panic(binary(
            Max,
            Max::TORCH_NAME,
            "maximum",
            Operand::Tensor(self),
            Operand::Tensor(other),
        ))
    }

    /// Elementwise minimum, broadcast; ties split the gradient (`MinimumBackward0`).
    ///
    /// # Panics
    /// If the shapes do not broadcast.
    pub fn minimum(&self, other: &Tensor) -> Tensor {
        or_panic(binary(
            Min,
            Min::TORCH_NAME,
            "minimum",
            Operand::Tensor(self),
            Operand::Tensor(other),
        ))
    }

    /// `self + other` with broadcasting (`AddBackward0`).
    ///
    /// # Errors
    /// [`GradError::ShapeMismatch`] naming both shapes if they do not broadcast.
    pub fn try_add(&self, other: &Tensor) -> Result<Tensor, GradError> {
        linear(
            Add,
            Add::TORCH_NAME,
            "add",
            Operand::Tensor(self),
            Operand::Tensor(other),
        )
    }

    /// `self - other` with broadcasting (`SubBackward0`); errors as [`Tensor::try_add`].
    pub fn try_sub(&self, other: &Tensor) -> Result<Tensor, GradError> {
        linear(
            Sub,
            Sub::TORCH_NAME,
            "sub",
            Operand::Tensor(self),
            Operand::Tensor(other),
        )
    }

    /// `self * other` elementwise with broadcasting (`MulBackward0`); errors as
    /// [`Tensor::try_add`]. The matrix product is [`Tensor::matmul`].
    pub fn try_mul(&self, other: &Tensor) -> Result<Tensor, GradError> {
        binary(
            Mul,
            Mul::TORCH_NAME,
            "mul",
            Operand::Tensor(self),
            Operand::Tensor(other),
        )
    }

    /// `self / other` elementwise with broadcasting (`DivBackward0`); errors as
    /// [`Tensor::try_add`].
    pub fn try_div(&self, other: &Tensor) -> Result<Tensor, GradError> {
        binary(
            Div,
            Div::TORCH_NAME,
            "div",
            Operand::Tensor(self),
            Operand::Tensor(other),
        )
    }
}

/// `a op b` for any pair of operands; a shape mismatch panics.
fn apply(op: char, a: Operand<'_>, b: Operand<'_>) -> Tensor {
    or_panic(match op {
        '+' => linear(Add, Add::TORCH_NAME, "add", a, b),
        // PyTorch records `c - x` for a constant `c` as `RsubBackward1`.
        '-' if matches!(a, Operand::Const(_)) => linear(Sub, "RsubBackward1", "sub", a, b),
        '-' => linear(Sub, Sub::TORCH_NAME, "sub", a, b),
        '*' => binary(Mul, Mul::TORCH_NAME, "mul", a, b),
        _ => binary(Div, Div::TORCH_NAME, "div", a, b),
    })
}

macro_rules! binary_operator {
    ($Trait:ident, $method:ident, $op:literal) => {
        impl ops::$Trait<&Tensor> for &Tensor {
            type Output = Tensor;
            /// Elementwise with broadcasting; panics naming both shapes if they do not broadcast.
            fn $method(self, rhs: &Tensor) -> Tensor {
                apply($op, Operand::Tensor(self), Operand::Tensor(rhs))
            }
        }
        impl ops::$Trait<Tensor> for Tensor {
            type Output = Tensor;
            /// Elementwise with broadcasting; panics naming both shapes if they do not broadcast.
            fn $method(self, rhs: Tensor) -> Tensor {
                apply($op, Operand::Tensor(&self), Operand::Tensor(&rhs))
            }
        }
        impl ops::$Trait<&Tensor> for Tensor {
            type Output = Tensor;
            /// Elementwise with broadcasting; panics naming both shapes if they do not broadcast.
            fn $method(self, rhs: &Tensor) -> Tensor {
                apply($op, Operand::Tensor(&self), Operand::Tensor(rhs))
            }
        }
        impl ops::$Trait<Tensor> for &Tensor {
            type Output = Tensor;
            /// Elementwise with broadcasting; panics naming both shapes if they do not broadcast.
            fn $method(self, rhs: Tensor) -> Tensor {
                apply($op, Operand::Tensor(self), Operand::Tensor(&rhs))
            }
        }
        impl ops::$Trait<f64> for &Tensor {
            type Output = Tensor;
            /// Elementwise with the constant broadcast.
            fn $method(self, rhs: f64) -> Tensor {
                apply($op, Operand::Tensor(self), Operand::Const(rhs))
            }
        }
        impl ops::$Trait<f64> for Tensor {
            type Output = Tensor;
            /// Elementwise with the constant broadcast.
            fn $method(self, rhs: f64) -> Tensor {
                apply($op, Operand::Tensor(&self), Operand::Const(rhs))
            }
        }
        impl ops::$Trait<&Tensor> for f64 {
            type Output = Tensor;
            /// Elementwise with the constant broadcast.
            fn $method(self, rhs: &Tensor) -> Tensor {
                apply($op, Operand::Const(self), Operand::Tensor(rhs))
            }
        }
        impl ops::$Trait<Tensor> for f64 {
            type Output = Tensor;
            /// Elementwise with the constant broadcast.
            fn $method(self, rhs: Tensor) -> Tensor {
                apply($op, Operand::Const(self), Operand::Tensor(&rhs))
            }
        }
    };
}

binary_operator!(Add, add, '+');
binary_operator!(Sub, sub, '-');
binary_operator!(Mul, mul, '*');
binary_operator!(Div, div, '/');

fn negate(t: &Tensor) -> Tensor {
    let y = Rc::new(t.value_ref().map(|v| Neg.f(v)));
    // Neg's derivative is the constant df = -1; read it from the rule once.
    let c = Neg.df(0.0, 0.0);
    Tensor::from_op(y, Neg::TORCH_NAME, [Some(t), None], |_| {
        Box::new(Scale { c })
    })
}

impl ops::Neg for &Tensor {
    type Output = Tensor;
    /// `-x` elementwise (`NegBackward0`).
    fn neg(self) -> Tensor {
        negate(self)
    }
}

impl ops::Neg for Tensor {
    type Output = Tensor;
    /// `-x` elementwise (`NegBackward0`).
    fn neg(self) -> Tensor {
        negate(&self)
    }
}
