//! Elementwise ops and the arithmetic operators. Every value and derivative here comes
//! from the shared rules in [`crate::rules`]: unary ops apply an [`ElementwiseRule`]'s
//! `f`/`df` elementwise, binary ops go through the rules' broadcasting dispatch
//! ([`BinaryOp`] between matrices, and between a matrix and an `f64` constant).

use std::ops;
use std::rc::Rc;

use nalgebra::DMatrix;

use super::double_backward::{broadcast_vjp, TensorDerivative, TensorPartials};
use super::error::{GradError, Shape};
use super::node::{BackwardFn, GradSink, Read, Recorder, Saves};
use super::tensor::Tensor;
#[allow(unused_imports)] // the table's markers, named by the generated methods
use crate::rules::*;
use autodiff_ops::Reads;

type Matrix = DMatrix<f64>;

/// What a binary op tells the user when its shapes do not broadcast.
const BROADCAST_HINT: &str = "shapes must be equal, or one operand must be 1x1, a 1 x n row \
                              or an m x 1 column that broadcasts to the other";

/// Checks that `a` and `b` broadcast (each dimension equal, or 1 in one of them), as the
/// rules' dispatch requires, and returns the error naming both shapes otherwise.
fn check_broadcast(op: &'static str, a: Shape, b: Shape) -> Result<(), GradError> {
    let fits = |x: usize, y: usize| x == y || x == 1 || y == 1;
    if fits(a.0, b.0) && fits(a.1, b.1) {
        Ok(())
    } else {
        Err(GradError::ShapeMismatch {
            op,
            left: a,
            right: b,
            hint: BROADCAST_HINT,
        })
    }
}

/// Backward of a unary elementwise op: `gx = g * df(x, y)`, computed in `g`'s buffer
/// when the input has no gradient yet.
/// It keeps only what the rule's derivative reads (its row's `reads`: the input, the
/// output or both); the value it does not keep is passed as the one it does, which the
/// formula ignores.
struct Elementwise<R> {
    rule: R,
    x: Option<Rc<Matrix>>,
    y: Option<Rc<Matrix>>,
}

impl<R: ElementwiseRule + TensorDerivative> BackwardFn for Elementwise<R> {
    fn backward(&self, g: Matrix, sink: &mut GradSink<'_>) {
        let rule = self.rule;
        let saved = self
            .x
            .as_ref()
            .or(self.y.as_ref())
            .expect("an elementwise backward keeps a value");
        let x = self.x.as_ref().unwrap_or(saved).as_slice();
        let y = self.y.as_ref().unwrap_or(saved).as_slice();
        sink.add_map(0, g, |k, gk| gk * rule.df(x[k], y[k]));
    }

    fn backward_recorded(&self, g: &Tensor, r: &Recorder<'_>) -> [Option<Tensor>; 2] {
        // As above, the value not kept stands in for the one the derivative ignores.
        let x = self.x.as_ref().map(|x| r.input(0, x));
        let y = self.y.as_ref().map(|y| r.output(y));
        let (x, y) = match (x, y) {
            (Some(x), Some(y)) => (x, y),
            (Some(x), None) => (x.clone(), x),
            (None, Some(y)) => (y.clone(), y),
            (None, None) => unreachable!("an elementwise backward keeps a value"),
        };
        [Some(g * &R::df_tensor(self.rule, &x, &y)), None]
    }
}

/// Backward of an op whose derivative is a constant `c` (negation): `gx = c * g`.
/// It saves no values, so (as in PyTorch) it can be backpropagated more than once.
struct Scale {
    c: f64,
}

impl BackwardFn for Scale {
    fn backward(&self, g: Matrix, sink: &mut GradSink<'_>) {
        sink.add_scaled(0, self.c, g);
    }

    fn saves_values(&self) -> bool {
        false
    }

    fn backward_recorded(&self, g: &Tensor, _r: &Recorder<'_>) -> [Option<Tensor>; 2] {
        [Some(g * self.c), None]
    }
}

/// Backward of a binary elementwise op between two tensors, through the rules'
/// broadcasting dispatch (which sums a broadcast operand's gradient back to its shape).
struct Binary<Op, R> {
    op: Op,
    /// The scalar rule of `op`, whose [`TensorPartials`] a recorded backward uses.
    rule: R,
    a: Rc<Matrix>,
    b: Rc<Matrix>,
    y: Rc<Matrix>,
}

impl<Op: Copy, R: TensorPartials> BackwardFn for Binary<Op, R>
where
    Matrix: BinaryOp<Op, Matrix, Output = Matrix>,
{
    fn backward(&self, g: Matrix, sink: &mut GradSink<'_>) {
        let (op, a, b, y) = (self.op, &*self.a, &*self.b, &*self.y);
        sink.add_with(0, a.shape(), |ga, _beta| {
            binary_vjp_lhs(op, a, b, y, &g, ga)
        });
        sink.add_with(1, b.shape(), |gb, _beta| {
            binary_vjp_rhs(op, a, b, y, &g, gb)
        });
    }

    fn backward_recorded(&self, g: &Tensor, r: &Recorder<'_>) -> [Option<Tensor>; 2] {
        let (a, b, y) = (r.input(0, &self.a), r.input(1, &self.b), r.output(&self.y));
        let rule = self.rule;
        [
            r.needs(0)
                .then(|| broadcast_vjp(g, &R::da_tensor(rule, &a, &b, &y), a.shape())),
            r.needs(1)
                .then(|| broadcast_vjp(g, &R::db_tensor(rule, &a, &b, &y), b.shape())),
        ]
    }
}

/// Backward of `tensor op c` for an `f64` constant `c`.
struct ConstRight<R> {
    rule: R,
    a: Rc<Matrix>,
    c: f64,
    y: Rc<Matrix>,
}

impl<R: BinaryRule + TensorPartials> BackwardFn for ConstRight<R> {
    fn backward(&self, g: Matrix, sink: &mut GradSink<'_>) {
        let (a, y) = (&*self.a, &*self.y);
        sink.add_with(0, a.shape(), |ga, _beta| {
            binary_vjp_lhs(self.rule, a, &self.c, y, &g, ga)
        });
    }

    fn backward_recorded(&self, g: &Tensor, r: &Recorder<'_>) -> [Option<Tensor>; 2] {
        let (a, y) = (r.input(0, &self.a), r.output(&self.y));
        let b = Tensor::scalar(self.c);
        let da = R::da_tensor(self.rule, &a, &b, &y);
        [Some(broadcast_vjp(g, &da, a.shape())), None]
    }
}

/// Backward of `c op tensor` for an `f64` constant `c`.
struct ConstLeft<R> {
    rule: R,
    c: f64,
    b: Rc<Matrix>,
    y: Rc<Matrix>,
}

impl<R: BinaryRule + TensorPartials> BackwardFn for ConstLeft<R> {
    fn backward(&self, g: Matrix, sink: &mut GradSink<'_>) {
        let (b, y) = (&*self.b, &*self.y);
        sink.add_with(0, b.shape(), |gb, _beta| {
            binary_vjp_rhs(self.rule, &self.c, b, y, &g, gb)
        });
    }

    fn backward_recorded(&self, g: &Tensor, r: &Recorder<'_>) -> [Option<Tensor>; 2] {
        // The tensor is the node's only input.
        let (b, y) = (r.input(0, &self.b), r.output(&self.y));
        let a = Tensor::scalar(self.c);
        let db = R::db_tensor(self.rule, &a, &b, &y);
        [Some(broadcast_vjp(g, &db, b.shape())), None]
    }
}

/// Backward of `a + b` or `a - b` where no operand is broadcast (equal shapes, or an
/// `f64` constant): `ga = ca * g`, `gb = cb * g`, the constant partials read from the
/// rule once. It saves no values, so, as PyTorch's `AddBackward0`, it can be
/// backpropagated more than once; the first contribution reuses `g`'s buffer.
struct Linear {
    ca: f64,
    cb: f64,
}

impl BackwardFn for Linear {
    fn backward(&self, g: Matrix, sink: &mut GradSink<'_>) {
        if sink.needs(1) {
            sink.add_scaled_ref(1, self.cb, &g);
        }
        sink.add_scaled(0, self.ca, g);
    }

    fn saves_values(&self) -> bool {
        false
    }

    fn backward_recorded(&self, g: &Tensor, r: &Recorder<'_>) -> [Option<Tensor>; 2] {
        let scaled = |c: f64| if c == 1.0 { g.clone() } else { g * c };
        [
            r.needs(0).then(|| scaled(self.ca)),
            r.needs(1).then(|| scaled(self.cb)),
        ]
    }
}

/// What a binary op's backward reads, for each kind of operands.
#[derive(Clone, Copy)]
struct BinarySaves {
    /// Between two tensors.
    tensors: Saves,
    /// A tensor (input 0) with a constant.
    tensor_const: Saves,
    /// A constant with a tensor (which is input 0 of the node).
    const_tensor: Saves,
}

impl BinarySaves {
    /// What the rule's `reads` says, for any operands.
    fn of<R: BinaryRule>() -> BinarySaves {
        let saves = Saves::reads(R::READS);
        BinarySaves {
            tensors: saves,
            tensor_const: saves,
            const_tensor: saves,
        }
    }
}

/// `a * b`: each tensor for the other's gradient; nothing with a constant (`d(cx)/dx = c`).
const MUL_SAVES: BinarySaves = BinarySaves {
    tensors: Saves::PRODUCT,
    tensor_const: Saves::NOTHING,
    const_tensor: Saves::NOTHING,
};

/// `a / b`: `b` always, `a` for `b`'s gradient; nothing for `x / c`; `x` for `c / x`.
const DIV_SAVES: BinarySaves = BinarySaves {
    tensors: Saves {
        inputs: [Read::ForOther, Read::Yes],
        output: false,
    },
    tensor_const: Saves::NOTHING,
    const_tensor: Saves::INPUT,
};

/// An operand of a binary op: a tensor, or an `f64` constant.
#[derive(Clone, Copy)]
enum Operand<'a> {
    Tensor(&'a Tensor),
    Const(f64),
}

/// `op(a, b)` elementwise with broadcasting, recorded as `name`; `rule` is `op`'s scalar
/// rule, which the dispatch applies where an operand is a constant; `saves` says what
/// the backward reads.
fn binary_op<Op, R>(
    (op, rule): (Op, R),
    name: &'static str,
    label: &'static str,
    a: Operand<'_>,
    b: Operand<'_>,
    saves: BinarySaves,
) -> Result<Tensor, GradError>
where
    Op: Copy + 'static,
    R: BinaryRule + TensorPartials + 'static,
    Matrix: BinaryOp<Op, Matrix, Output = Matrix>,
{
    match (a, b) {
        (Operand::Tensor(ta), Operand::Tensor(tb)) => {
            let (av, bv) = (ta.value_rc(), tb.value_rc());
            check_broadcast(label, av.shape(), bv.shape())?;
            let y = Rc::new(binary(op, &*av, &*bv));
            Ok(Tensor::from_op(
                y,
                name,
                [Some(ta), Some(tb)],
                saves.tensors,
                |y| {
                    Box::new(Binary {
                        op,
                        rule,
                        a: av,
                        b: bv,
                        y: Rc::clone(y),
                    })
                },
            ))
        }
        (Operand::Tensor(ta), Operand::Const(c)) => {
            let av = ta.value_rc();
            let y = Rc::new(binary(rule, &*av, &c));
            Ok(Tensor::from_op(
                y,
                name,
                [Some(ta), None],
                saves.tensor_const,
                |y| {
                    Box::new(ConstRight {
                        rule,
                        a: av,
                        c,
                        y: Rc::clone(y),
                    })
                },
            ))
        }
        (Operand::Const(c), Operand::Tensor(tb)) => {
            let bv = tb.value_rc();
            let y = Rc::new(binary(rule, &c, &*bv));
            Ok(Tensor::from_op(
                y,
                name,
                [Some(tb), None],
                saves.const_tensor,
                |y| {
                    Box::new(ConstLeft {
                        rule,
                        c,
                        b: bv,
                        y: Rc::clone(y),
                    })
                },
            ))
        }
        (Operand::Const(x), Operand::Const(z)) => Ok(Tensor::scalar(rule.f(x, z))),
    }
}

/// `a + b` or `a - b`: the [`Linear`] backward, which saves nothing, when no operand is
/// broadcast; otherwise the general broadcasting one.
fn linear<R>(
    rule: R,
    name: &'static str,
    label: &'static str,
    a: Operand<'_>,
    b: Operand<'_>,
) -> Result<Tensor, GradError>
where
    R: ElementwiseBinary + BinaryRule + TensorPartials + 'static,
    Matrix: BinaryOp<R, Matrix, Output = Matrix> + BinaryOp<R, f64, Output = Matrix>,
    f64: BinaryOp<R, Matrix, Output = Matrix>,
{
    // The partial derivatives of Add and Sub are constants: read them from the rule.
    let (ca, cb) = (rule.da(0.0, 0.0, 0.0), rule.db(0.0, 0.0, 0.0));
    match (a, b) {
        (Operand::Tensor(ta), Operand::Tensor(tb)) if ta.shape() == tb.shape() => {
            let y = Rc::new(binary(rule, &*ta.value_rc(), &*tb.value_rc()));
            Ok(Tensor::from_op(
                y,
                name,
                [Some(ta), Some(tb)],
                Saves::NOTHING,
                |_| Box::new(Linear { ca, cb }),
            ))
        }
        (Operand::Tensor(ta), Operand::Const(c)) => {
            let y = Rc::new(binary(rule, &*ta.value_rc(), &c));
            Ok(Tensor::from_op(
                y,
                name,
                [Some(ta), None],
                Saves::NOTHING,
                |_| Box::new(Linear { ca, cb: 0.0 }),
            ))
        }
        (Operand::Const(c), Operand::Tensor(tb)) => {
            let y = Rc::new(binary(rule, &c, &*tb.value_rc()));
            // The tensor is the node's only input, so it takes the right partial.
            Ok(Tensor::from_op(
                y,
                name,
                [Some(tb), None],
                Saves::NOTHING,
                |_| Box::new(Linear { ca: cb, cb: 0.0 }),
            ))
        }
        _ => binary_op((rule, rule), name, label, a, b, BinarySaves::of::<R>()),
    }
}

/// Operators cannot return errors: a shape mismatch panics with the error's message.
fn or_panic(result: Result<Tensor, GradError>) -> Tensor {
    result.unwrap_or_else(|e| panic!("{e}"))
}

/// The `Tensor` methods of the op table's rows (`autodiff_ops::for_each_op!`): one per
/// unary row written as a method or function (`x.exp()`, `x.relu()`), and one per binary
/// row with a `tensor` name (`a.atan2(&b)`, broadcast).
macro_rules! tensor_methods {
    (
        unary: [$({ $u:ident, $usyn:ident $uname:ident, $utorch:literal, reads $ureads:ident,
                   fuses $ufuses:literal, simd $usimd:literal, smooth ($ulo:literal, $uhi:literal), $udoc:literal, $($urest:tt)* }),* $(,)?],
        binary: [$({ $b:ident, $bsyn:ident $bname:ident, $btorch:literal, reads $breads:ident,
                    fuses $bfuses:literal, tensor $btensor:tt, smooth ($blo:literal, $bhi:literal), $bdoc:literal, $($brest:tt)* }),* $(,)?],
        param: [$($prest:tt)*],
        structural: [$($srest:tt)*],
    ) => {
        $(tensor_methods!(@unary $usyn $uname, $u, $utorch, $udoc);)*
        $(tensor_methods!(@binary $btensor, $b, $btorch, $bdoc);)*
    };
    (@unary operator $name:ident, $($rest:tt)*) => {};
    (@unary $syn:ident $name:ident, $rule:ident, $torch:literal, $doc:literal) => {
        impl Tensor {
            #[doc = concat!("Elementwise: ", $doc, " (`", $torch, "`)")]
            pub fn $name(&self) -> Tensor {
                self.unary($rule)
            }
        }
    };
    (@binary -, $($rest:tt)*) => {};
    (@binary $name:ident, $rule:ident, $torch:literal, $doc:literal) => {
        impl Tensor {
            #[doc = concat!("Elementwise with broadcasting: ", $doc, " (`", $torch, "`)")]
            ///
            /// # Panics
            /// If the shapes do not broadcast, naming both.
            pub fn $name(&self, other: &Tensor) -> Tensor {
                let (a, b) = (Operand::Tensor(self), Operand::Tensor(other));
                let saves = BinarySaves::of::<$rule>();
                or_panic(binary_op(($rule, $rule), $torch, stringify!($name), a, b, saves))
            }
        }
    };
}

autodiff_ops::for_each_op!(tensor_methods);

impl Tensor {
    /// A copy of this tensor (sharing the value, copied on write), recorded as
    /// `CloneBackward0` (the gradient passes through): what a recorded backward pass
    /// stores as a leaf's first gradient, as PyTorch's `AccumulateGrad` does.
    pub(crate) fn recorded_clone(&self) -> Tensor {
        Tensor::from_op(
            self.value_rc(),
            "CloneBackward0",
            [Some(self), None],
            Saves::NOTHING,
            |_| Box::new(Linear { ca: 1.0, cb: 0.0 }),
        )
    }

    /// Applies an elementwise rule, recording its backward.
    fn unary<R: ElementwiseRule + TensorDerivative + 'static>(&self, rule: R) -> Tensor {
        let x = self.value_rc();
        let y = Rc::new(x.map(|v| rule.f(v)));
        let (keep_x, keep_y) = match R::READS {
            Reads::Input => (true, false),
            Reads::Output => (false, true),
            // A constant derivative reads nothing; the backward still needs a buffer's length.
            Reads::Nothing => (true, false),
            Reads::Both => (true, true),
        };
        Tensor::from_op(
            y,
            <R as ElementwiseRule>::TORCH_NAME,
            [Some(self), None],
            // What the rule's derivative reads (a `Nothing` rule keeps its input only
            // for the length, which an update in place does not change).
            Saves::reads(R::READS),
            |y| {
                Box::new(Elementwise {
                    rule,
                    x: keep_x.then_some(x),
                    y: keep_y.then(|| Rc::clone(y)),
                })
            },
        )
    }

    /// `x = exp(x)` elementwise in place, as `tensor.exp_()`: recorded as `ExpBackward0`
    /// (which saves the result, so a later in-place update of the tensor makes its
    /// backward fail) on a tensor with a `grad_fn`; rules and errors as [`Tensor::sub_`].
    ///
    /// ```
    /// use autodiff_runtime::dynamic::Tensor;
    /// let x = Tensor::scalar(0.0).requires_grad();
    /// let z = &x * 2.0;
    /// z.exp_()?;
    /// assert_eq!((z.item(), z.grad_fn()), (1.0, Some("ExpBackward0")));
    /// z.backward()?;
    /// assert_eq!(x.grad().unwrap().item(), 2.0); // d exp(2x)/dx at 0
    /// # Ok::<(), autodiff_runtime::dynamic::GradError>(())
    /// ```
    pub fn exp_(&self) -> Result<(), GradError> {
        self.map_in_place("exp_", |v| Exp.f(v), Tensor::exp)
    }

    /// `x = tanh(x)` elementwise in place (`TanhBackward0` when recorded); as
    /// [`Tensor::exp_`].
    pub fn tanh_(&self) -> Result<(), GradError> {
        self.map_in_place("tanh_", |v| Tanh.f(v), Tensor::tanh)
    }

    /// `x = sigmoid(x)` elementwise in place (`SigmoidBackward0` when recorded); as
    /// [`Tensor::exp_`].
    pub fn sigmoid_(&self) -> Result<(), GradError> {
        self.map_in_place("sigmoid_", |v| Sigmoid.f(v), Tensor::sigmoid)
    }

    /// `x = max(x, 0)` elementwise in place (`ReluBackward0` when recorded); as
    /// [`Tensor::exp_`].
    pub fn relu_(&self) -> Result<(), GradError> {
        self.map_in_place("relu_", |v| Relu.f(v), Tensor::relu)
    }

    /// `x.clamp(lo, hi)` elementwise with constant bounds (`ClampBackward1`): gradient 1
    /// where `lo <= x <= hi` (PyTorch's choice at the bounds), 0 outside.
    ///
    /// # Panics
    /// If `lo > hi` or a bound is NaN, as `f64::clamp`.
    pub fn clamp(&self, lo: f64, hi: f64) -> Tensor {
        assert!(
            lo <= hi,
            "Tensor::clamp: the lower bound {lo} is not at most the upper bound {hi}; pass lo <= hi"
        );
        self.unary(ClampTo::new(lo, hi))
    }

    /// `self * b + c` elementwise with broadcasting, recorded as a product and a sum
    /// (as PyTorch's `addcmul`, it rounds twice; the static engine's scalar `mul_add`
    /// rounds once).
    ///
    /// # Panics
    /// If the shapes do not broadcast, naming both.
    pub fn mul_add(&self, b: &Tensor, c: &Tensor) -> Tensor {
        &(self * b) + c
    }

    /// `x^n` elementwise for an integer `n` (`PowBackward0`).
    pub fn powi(&self, n: i32) -> Tensor {
        self.unary(PowI(n))
    }

    /// `x^e` elementwise for a constant exponent (`PowBackward0`, PyTorch's name for a
    /// tensor raised to a scalar).
    pub fn powf(&self, e: f64) -> Tensor {
        let (tensor, exponent) = (Operand::Tensor(self), Operand::Const(e));
        or_panic(binary_op(
            (Powf, Powf),
            "PowBackward0",
            "powf",
            tensor,
            exponent,
            BinarySaves::of::<Powf>(),
        ))
    }

    /// `x^e` elementwise with a tensor exponent, broadcast (`PowBackward1`).
    ///
    /// # Panics
    /// If the shapes do not broadcast, naming both.
    pub fn pow(&self, e: &Tensor) -> Tensor {
        let name = <Powf as BinaryRule>::TORCH_NAME;
        let (a, b) = (Operand::Tensor(self), Operand::Tensor(e));
        or_panic(binary_op(
            (Powf, Powf),
            name,
            "pow",
            a,
            b,
            BinarySaves::of::<Powf>(),
        ))
    }

    /// Elementwise maximum, broadcast; ties split the gradient (`MaximumBackward0`).
    ///
    /// # Panics
    /// If the shapes do not broadcast, naming both.
    pub fn maximum(&self, other: &Tensor) -> Tensor {
        let name = <Max as BinaryRule>::TORCH_NAME;
        let (a, b) = (Operand::Tensor(self), Operand::Tensor(other));
        or_panic(binary_op(
            (Max, Max),
            name,
            "maximum",
            a,
            b,
            BinarySaves::of::<Max>(),
        ))
    }

    /// Elementwise minimum, broadcast; ties split the gradient (`MinimumBackward0`).
    ///
    /// # Panics
    /// If the shapes do not broadcast, naming both.
    pub fn minimum(&self, other: &Tensor) -> Tensor {
        let name = <Min as BinaryRule>::TORCH_NAME;
        let (a, b) = (Operand::Tensor(self), Operand::Tensor(other));
        or_panic(binary_op(
            (Min, Min),
            name,
            "minimum",
            a,
            b,
            BinarySaves::of::<Min>(),
        ))
    }

    /// `self + other` with broadcasting (`AddBackward0`).
    ///
    /// # Errors
    /// [`GradError::ShapeMismatch`] naming both shapes if they do not broadcast.
    pub fn try_add(&self, other: &Tensor) -> Result<Tensor, GradError> {
        apply('+', Operand::Tensor(self), Operand::Tensor(other))
    }

    /// `self - other` with broadcasting (`SubBackward0`); errors as [`Tensor::try_add`].
    pub fn try_sub(&self, other: &Tensor) -> Result<Tensor, GradError> {
        apply('-', Operand::Tensor(self), Operand::Tensor(other))
    }

    /// `self * other` elementwise with broadcasting (`MulBackward0`); errors as
    /// [`Tensor::try_add`]. The matrix product is [`Tensor::matmul`].
    pub fn try_mul(&self, other: &Tensor) -> Result<Tensor, GradError> {
        apply('*', Operand::Tensor(self), Operand::Tensor(other))
    }

    /// `self / other` elementwise with broadcasting (`DivBackward0`); errors as
    /// [`Tensor::try_add`].
    pub fn try_div(&self, other: &Tensor) -> Result<Tensor, GradError> {
        apply('/', Operand::Tensor(self), Operand::Tensor(other))
    }
}

/// `a op b` for any pair of operands and `op` one of `+ - * /`.
fn apply(op: char, a: Operand<'_>, b: Operand<'_>) -> Result<Tensor, GradError> {
    match op {
        '+' => linear(Add, <Add as BinaryRule>::TORCH_NAME, "add", a, b),
        // PyTorch records `c - x` for a constant `c` as `RsubBackward1`.
        '-' if matches!(a, Operand::Const(_)) => linear(Sub, "RsubBackward1", "sub", a, b),
        '-' => linear(Sub, <Sub as BinaryRule>::TORCH_NAME, "sub", a, b),
        // Between two matrices `Mul` is the matrix product; the elementwise one is
        // `ComponentMul`, with `Mul`'s rule against a constant.
        '*' => binary_op(
            (ComponentMul, Mul),
            <Mul as BinaryRule>::TORCH_NAME,
            "mul",
            a,
            b,
            MUL_SAVES,
        ),
        _ => binary_op(
            (Div, Div),
            <Div as BinaryRule>::TORCH_NAME,
            "div",
            a,
            b,
            DIV_SAVES,
        ),
    }
}

macro_rules! binary_operator {
    ($Trait:ident, $method:ident, $op:literal) => {
        impl ops::$Trait<&Tensor> for &Tensor {
            type Output = Tensor;
            /// Elementwise with broadcasting; panics naming both shapes if they do not broadcast.
            fn $method(self, rhs: &Tensor) -> Tensor {
                or_panic(apply($op, Operand::Tensor(self), Operand::Tensor(rhs)))
            }
        }
        impl ops::$Trait<Tensor> for Tensor {
            type Output = Tensor;
            /// Elementwise with broadcasting; panics naming both shapes if they do not broadcast.
            fn $method(self, rhs: Tensor) -> Tensor {
                or_panic(apply($op, Operand::Tensor(&self), Operand::Tensor(&rhs)))
            }
        }
        impl ops::$Trait<&Tensor> for Tensor {
            type Output = Tensor;
            /// Elementwise with broadcasting; panics naming both shapes if they do not broadcast.
            fn $method(self, rhs: &Tensor) -> Tensor {
                or_panic(apply($op, Operand::Tensor(&self), Operand::Tensor(rhs)))
            }
        }
        impl ops::$Trait<Tensor> for &Tensor {
            type Output = Tensor;
            /// Elementwise with broadcasting; panics naming both shapes if they do not broadcast.
            fn $method(self, rhs: Tensor) -> Tensor {
                or_panic(apply($op, Operand::Tensor(self), Operand::Tensor(&rhs)))
            }
        }
        impl ops::$Trait<f64> for &Tensor {
            type Output = Tensor;
            /// Elementwise with the constant broadcast.
            fn $method(self, rhs: f64) -> Tensor {
                or_panic(apply($op, Operand::Tensor(self), Operand::Const(rhs)))
            }
        }
        impl ops::$Trait<f64> for Tensor {
            type Output = Tensor;
            /// Elementwise with the constant broadcast.
            fn $method(self, rhs: f64) -> Tensor {
                or_panic(apply($op, Operand::Tensor(&self), Operand::Const(rhs)))
            }
        }
        impl ops::$Trait<&Tensor> for f64 {
            type Output = Tensor;
            /// Elementwise with the constant broadcast.
            fn $method(self, rhs: &Tensor) -> Tensor {
                or_panic(apply($op, Operand::Const(self), Operand::Tensor(rhs)))
            }
        }
        impl ops::$Trait<Tensor> for f64 {
            type Output = Tensor;
            /// Elementwise with the constant broadcast.
            fn $method(self, rhs: Tensor) -> Tensor {
                or_panic(apply($op, Operand::Const(self), Operand::Tensor(&rhs)))
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
    Tensor::from_op(
        y,
        <Neg as OpName>::TORCH_NAME,
        [Some(t), None],
        Saves::NOTHING,
        |_| Box::new(Scale { c }),
    )
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
