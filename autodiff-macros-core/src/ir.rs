//! The intermediate representation: a function body in A-normal form.
//!
//! Every operation is one [`Eqn`] whose operands are variables; every intermediate value
//! has its own [`VarId`] (static single assignment). Mutable user variables become a new
//! variable at each assignment; control flow is structured: [`Stmt::Branch`] (`if`,
//! `match`) joins the variables its arms assign into fresh variables, and [`Stmt::For`]
//! (also `while` and `loop`) carries the variables its body assigns from one iteration to
//! the next. `break`, `continue` and `return` are lowered into this form: they set flags
//! that guard the statements after them and end the loops around them, so the code
//! generators see only these two statements.

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
    /// Whether the value depends on a differentiated parameter (forward activity:
    /// `pass::varied`).
    pub varied: bool,
    /// Whether the value reaches the output through differentiable operations
    /// (backward activity; filled in by the activity pass).
    pub useful: bool,
    /// Whether the value is used at all (filled in by dead-code removal).
    pub live: bool,
    /// A type annotation the user wrote on the binding.
    pub ty: Option<syn::Type>,
    /// A slice, `Vec` or array of floats: rules read it as a slice (`&x[..]`).
    pub seq: bool,
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
        /// Inside a branch or loop, lending a value of that block (`g(&w)`): the callee's
        /// pullback would borrow what the block drops, so the tape keeps the arguments
        /// and the reverse pass calls the callee's vector-Jacobian product on them
        /// (recomputing its forward) instead (see `pass::recompute`).
        recompute: bool,
    },
    /// A value built from its operands, one component each (`(a, b)`, `Model { w, b }`,
    /// `Vector3::new(x, y, z)`, `vec![a, b]`, `[a, b]`): see `lower::aggregates`. A
    /// component is read back with [`Op::Field`] (`t.0`, `m.w`).
    Construct(Ctor),
    /// `DMatrix::from_fn(r, c, |i, j| body)` (or `DVector::from_fn`): `args` are the sizes
    /// then the enclosing values the closure reads.
    FromFn(Box<FromFn>),
}

/// What an [`Op::Construct`] builds.
#[derive(Clone)]
pub enum Ctor {
    /// `(a, b, ..)`.
    Tuple,
    /// `Path { field: a, .. }`, one member per operand.
    Struct(syn::Path, Vec<syn::Member>),
    /// `Vector3::new(a, b, c)`, `Matrix2::new(..)`: nalgebra's element constructor, whose
    /// operands are the entries in row-major order.
    New(syn::Path),
    /// `DVector::from_vec(vec![a, b])`: the entries in storage order.
    FromVec(syn::Path),
    /// `vec![a, b]`.
    Vec,
    /// `[a, b]`.
    Array,
}

/// The closure of an [`Op::FromFn`].
#[derive(Clone)]
pub struct FromFn {
    /// The matrix type whose `from_fn` is called, as written (`DMatrix`).
    pub ty: syn::Path,
    /// How many of the equation's operands are sizes (given to `from_fn` before the closure).
    pub sizes: usize,
    /// The closure as a scalar function of its two (not differentiated) index parameters;
    /// it reads the enclosing function's variables directly (`captured`).
    pub body: Func,
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
// Statements are built once per expansion and moved rarely: boxing the large variants
// would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum Stmt {
    /// One operation.
    Eqn(Eqn),
    /// A choice between arms, `if cond { .. } else { .. }` or `match scrutinee { .. }`,
    /// joining `arms[a].outs[k]` (the values at the end of the arm taken) into `outs[k]`.
    Branch {
        /// What chooses the arm: never differentiated.
        head: Head,
        /// Variables the head and the guards read.
        reads: Vec<VarId>,
        /// The arms in order: for [`Head::If`], `then` then `else` (empty when absent).
        arms: Vec<Arm>,
        /// The joined variables.
        outs: Vec<VarId>,
        /// The `if` or `match` keyword.
        span: Span,
    },
    /// `for index in lo..hi { body }` (or `lo..` when `hi` is `None`, as `loop` and
    /// `while` lower) carrying `params[k]` from `carried_in[k]` (first
    /// iteration) or `body_outs[k]` (later ones) to `outs[k]` after the loop.
    For {
        /// The loop variable (never differentiated).
        index: VarId,
        /// The lower bound, renamed.
        lo: syn::Expr,
        /// The upper bound, renamed; `None` for a loop that only `exit` ends.
        hi: Option<syn::Expr>,
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
        /// A `bool` in `body_outs` that ends the loop after an iteration where it is true
        /// (`break`, and `return` inside the loop, set it).
        exit: Option<VarId>,
        /// The `for`, `while` or `loop` keyword.
        span: Span,
    },
}

/// What chooses the arm of a [`Stmt::Branch`].
#[derive(Clone)]
pub enum Head {
    /// `if cond`: the first arm when the (renamed) condition holds, else the second.
    If(syn::Expr),
    /// `match scrutinee`: the first arm whose pattern and guard match.
    Match(syn::Expr),
}

/// One arm of a [`Stmt::Branch`].
#[derive(Clone)]
pub struct Arm {
    /// The pattern (renamed) for [`Head::Match`]; `None` for the arms of an `if`.
    pub pat: Option<syn::Pat>,
    /// The guard (renamed): `pat if guard => ..`.
    pub guard: Option<syn::Expr>,
    /// The variables the pattern binds (never differentiated).
    pub binds: Vec<VarId>,
    /// The arm's statements.
    pub block: Block,
    /// The joined variables' values at the end of the arm.
    pub outs: Vec<VarId>,
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
    /// A differentiated slice, `Vec` or array: read as a slice (`&x[..]`), with an
    /// adjoint of the gradient's type sized when declared.
    pub seq: bool,
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

    /// How often each variable is read (every [`Func::visit_reads`] site). A variable
    /// read once is dead after that read.
    pub fn use_counts(&self) -> Vec<usize> {
        let mut n = vec![0; self.vars.len()];
        self.visit_reads(&mut |v, _| n[v] += 1);
        n
    }

    /// Calls `visit` for every read of a variable, in program order (a loop's body once):
    /// by equations (their arguments, rule parameters, what nested functions capture),
    /// branch heads and joins, loop bounds and carries, and the result.
    pub fn visit_reads(&self, visit: &mut impl FnMut(VarId, ReadSite)) {
        fn block(b: &Block, visit: &mut impl FnMut(VarId, ReadSite)) {
            for s in &b.stmts {
                match s {
                    Stmt::Eqn(e) => {
                        for (k, &a) in e.args.iter().enumerate() {
                            visit(a, ReadSite::Arg { eqn: e.out, k });
                        }
                        if let Op::Unary(r) | Op::Binary(r) = &e.op {
                            if let Some(p) = r.param {
                                visit(p, ReadSite::Other);
                            }
                        }
                        let captured = match &e.op {
                            Op::Map(inner) | Op::Fused(inner) | Op::FusedSum(inner) => {
                                &inner.captured[..]
                            }
                            Op::FromFn(ff) => &ff.body.captured[..],
                            _ => &[],
                        };
                        captured.iter().for_each(|&c| visit(c, ReadSite::Other));
                    }
                    Stmt::Branch { reads, arms, .. } => {
                        reads.iter().for_each(|&r| visit(r, ReadSite::Other));
                        for arm in arms {
                            block(&arm.block, visit);
                            arm.outs.iter().for_each(|&o| visit(o, ReadSite::Other));
                        }
                    }
                    Stmt::For {
                        bound_vars,
                        carried_in,
                        body,
                        body_outs,
                        outs,
                        ..
                    } => {
                        bound_vars.iter().for_each(|&v| visit(v, ReadSite::Other));
                        for (k, &v) in carried_in.iter().enumerate() {
                            visit(v, ReadSite::CarryIn { lp: outs[0], k });
                        }
                        block(body, visit);
                        for (k, &v) in body_outs.iter().enumerate() {
                            visit(v, ReadSite::CarryOut { lp: outs[0], k });
                        }
                    }
                }
            }
        }
        block(&self.body, visit);
        visit(self.ret, ReadSite::Other);
    }
}

/// Where [`Func::visit_reads`] sees a variable read.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ReadSite {
    /// Operand `k` of the equation defining `eqn`.
    Arg {
        /// The equation's output.
        eqn: VarId,
        /// The operand's position.
        k: usize,
    },
    /// Carried value `k` entering the loop whose first output is `lp`.
    CarryIn {
        /// The loop's first output.
        lp: VarId,
        /// The carried value's position.
        k: usize,
    },
    /// Carried value `k` at the end of an iteration of the loop whose first output is `lp`.
    CarryOut {
        /// The loop's first output.
        lp: VarId,
        /// The carried value's position.
        k: usize,
    },
    /// Any other read: a rule parameter, a capture, a branch head or join, a loop bound,
    /// the result.
    Other,
}

impl Stmt {
    /// The blocks nested directly in this statement (arms, loop body), in order.
    pub fn blocks(&self) -> Vec<&Block> {
        match self {
            Stmt::Eqn(_) => Vec::new(),
            Stmt::Branch { arms, .. } => arms.iter().map(|a| &a.block).collect(),
            Stmt::For { body, .. } => vec![body],
        }
    }

    /// [`Stmt::blocks`], mutably.
    pub fn blocks_mut(&mut self) -> Vec<&mut Block> {
        match self {
            Stmt::Eqn(_) => Vec::new(),
            Stmt::Branch { arms, .. } => arms.iter_mut().map(|a| &mut a.block).collect(),
            Stmt::For { body, .. } => vec![body],
        }
    }

    /// The variables this statement defines in the enclosing block.
    pub fn defs(&self) -> &[VarId] {
        match self {
            Stmt::Eqn(e) => std::slice::from_ref(&e.out),
            Stmt::Branch { outs, .. } | Stmt::For { outs, .. } => outs,
        }
    }
}
