//! The intermediate representation: a function body in A-normal form.
//!
//! Every operation is one [`Eqn`] whose operands are variables; every intermediate value
//! has its own [`VarId`] (static single assignment). Mutable user variables become a new
//! variable at each assignment; control flow is structured: [`Stmt::If`] joins the
//! variables its branches assign into fresh variables, and [`Stmt::For`] carries the
//! variables its body assigns from one iteration to the next.

use proc_macro2::Span;

/// Index of a variable in [`Func::vars`].
pub type VarId = usize;

/// What the compiler knows about one variable.
#[derive(Clone)]
pub struct VarInfo {
    /// The user's name, where the variable came from a binding (for graphs and debugging).
    pub name: Option<String>,
    /// Whether the Rust value is a reference (`&DMatrix` parameters, struct fields).
    pub by_ref: bool,
    /// Whether the value depends on a differentiated parameter (forward activity).
    pub varied: bool,
    /// Whether the value reaches the output through differentiable operations
    /// (backward activity; filled in by the activity pass).
    pub useful: bool,
    /// Whether the value is used at all (filled in by dead-code removal).
    pub live: bool,
    /// A type annotation the user wrote on the binding.
    pub ty: Option<syn::Type>,
    /// Where the value was written.
    pub span: Span,
    /// For `m.w1`: the struct variable and the field. Its adjoint is the field of the
    /// struct's adjoint, so contributions land in place with no buffer of their own.
    pub field_of: Option<(VarId, syn::Member)>,
}

impl VarInfo {
    /// Whether the reverse pass computes an adjoint for this variable.
    pub fn active(&self) -> bool {
        self.varied && self.useful
    }
}

/// A derivative rule: a row of the op table.
#[derive(Clone)]
pub struct RuleRef {
    /// The op (its properties: `op.info()`).
    pub op: autodiff_ops::OpId,
    /// A constructor argument known only at run time (the `n` of `powi(n)`).
    pub param: Option<VarId>,
    /// In a fused loop's reverse code: the op's output was saved by the forward loop,
    /// so the rule is applied as `Saved(rule)` to `(x, y)` and returns `y`.
    pub saved: bool,
}

impl RuleRef {
    /// The rule of `op` with no parameter.
    pub fn new(op: autodiff_ops::OpId) -> Self {
        RuleRef {
            op,
            param: None,
            saved: false,
        }
    }

    /// The op's row.
    pub fn info(&self) -> &'static autodiff_ops::OpInfo {
        self.op.info()
    }
}

/// One operation.
#[derive(Clone)]
pub enum Op {
    /// The function's `index`-th parameter.
    Param(usize),
    /// An expression that takes no gradient, emitted as written with its variables
    /// renamed: literals, constants, casts, comparisons, non-differentiable methods.
    /// `args` are the variables it reads.
    Opaque(syn::Expr),
    /// A unary rule (`exp`, `powi(n)`, `sum`, ...): `args = [x]`.
    Unary(RuleRef),
    /// A binary rule (`+`, `*`, `powf`, `dot`, ...): `args = [a, b]`.
    Binary(RuleRef),
    /// `stop_gradient(x)`: the value of `x` without its gradient.
    StopGradient,
    /// `x.map(|e| body)`: `args = [x]`; the body is a scalar function of its own,
    /// differentiated with respect to `e`.
    Map(Box<Func>),
    /// A fused chain of elementwise operations (see `pass::fuse`): `args` are its
    /// inputs; the function computes one output element from one element of each.
    Fused(Box<Func>),
    /// A fused chain followed by `.sum()`: the sum over every element of the chain's
    /// value (the function computes one element), with no matrix of the elements.
    FusedSum(Box<Func>),
    /// A field of a struct parameter (`m.w1`): `args = [m]`.
    Field(syn::Member),
    /// A call to another `#[differentiable]` function; `borrowed[k]` says whether the
    /// user wrote `&` before argument `k`.
    Call {
        /// The callee as written.
        path: syn::Path,
        /// Per argument: written with a leading `&`.
        borrowed: Vec<bool>,
    },
}

/// `out = op(args)`.
#[derive(Clone)]
pub struct Eqn {
    /// The variable defined.
    pub out: VarId,
    /// The operation.
    pub op: Op,
    /// The operands.
    pub args: Vec<VarId>,
    /// The user's tokens for this operation.
    pub span: Span,
}

/// A statement of a [`Block`].
#[derive(Clone)]
pub enum Stmt {
    /// One operation.
    Eqn(Eqn),
    /// `if cond { then } else { els }`, joining `then_outs[k]` / `else_outs[k]` into `outs[k]`.
    If {
        /// The condition, renamed, reading `cond_vars`; never differentiated.
        cond: syn::Expr,
        /// Variables the condition reads.
        cond_vars: Vec<VarId>,
        /// The `then` branch.
        then_block: Block,
        /// The `else` branch (empty when absent).
        else_block: Block,
        /// The joined variables.
        outs: Vec<VarId>,
        /// Their values at the end of `then_block`.
        then_outs: Vec<VarId>,
        /// Their values at the end of `else_block`.
        else_outs: Vec<VarId>,
        /// The `if` keyword.
        span: Span,
    },
    /// `for index in lo..hi { body }` carrying `params[k]` from `carried_in[k]` (first
    /// iteration) or `body_outs[k]` (later ones) to `outs[k]` after the loop.
    For {
        /// The loop variable (never differentiated).
        index: VarId,
        /// The lower bound, renamed.
        lo: syn::Expr,
        /// The upper bound, renamed.
        hi: syn::Expr,
        /// `..=` instead of `..`.
        inclusive: bool,
        /// Variables the bounds read.
        bound_vars: Vec<VarId>,
        /// Carried values before the loop.
        carried_in: Vec<VarId>,
        /// Carried values at the start of an iteration.
        params: Vec<VarId>,
        /// The loop body.
        body: Block,
        /// Carried values at the end of an iteration.
        body_outs: Vec<VarId>,
        /// Carried values after the loop.
        outs: Vec<VarId>,
        /// The `for` keyword.
        span: Span,
    },
}

/// A sequence of statements.
#[derive(Clone, Default)]
pub struct Block {
    /// The statements in order.
    pub stmts: Vec<Stmt>,
}

/// A parameter of the differentiated function.
#[derive(Clone)]
pub struct Param {
    /// Its name.
    pub ident: syn::Ident,
    /// Whether the gradient is taken with respect to it.
    pub wrt: bool,
    /// Its variable.
    pub var: VarId,
}

/// A lowered function body.
#[derive(Clone)]
pub struct Func {
    /// Every variable.
    pub vars: Vec<VarInfo>,
    /// The parameters in order.
    pub params: Vec<Param>,
    /// The body.
    pub body: Block,
    /// The variable returned.
    pub ret: VarId,
    /// For a nested function (a `map` closure, a fused chain): the enclosing function's
    /// variables its code reads directly (kept alive, and saved where the reverse needs them).
    pub captured: Vec<VarId>,
}

impl Func {
    /// Whether `v` gets an adjoint.
    pub fn active(&self, v: VarId) -> bool {
        self.vars[v].active()
    }
}
