//! Procedural macros of the `autodiff` crate: `#[differentiable]`. Use them through `autodiff`.
//!
//! The compiler itself lives in `autodiff-macros-core`, as plain functions over
//! `proc_macro2` tokens; this crate only declares the macros and documents them.
#![warn(missing_docs)]

use proc_macro::TokenStream;

/// Differentiates a function at compile time.
///
/// For `fn name(p1: T1, ...) -> R` it emits `name` (the same function), `name_grad`
/// (value and gradient, when `R` is `f32`/`f64`), `name_vjp` (value and vector-Jacobian
/// product), the gradient struct `NameGrad` with one field per differentiated parameter,
/// and `name_graph()`. Arguments: `wrt(a, b)` differentiates only those parameters;
/// `custom_vjp = backward` takes the gradient from the user's `backward` function.
///
/// For training loops it also emits `name_grad_with(ws, p1, ...)` and
/// `name_vjp_with(ws, p1, ..., d_out)`, which take a `&mut autodiff::Workspace<NameGrad>`
/// first and return the value with a `&NameGrad` that lives in the workspace: the
/// buffers of every intermediate matrix and adjoint are reused from one call to the next,
/// so a steady-state call does not allocate (see `docs/workspace.md` for what still does).
///
/// | item | meaning |
/// | --- | --- |
/// | `name_grad(p1, ...) -> (R, NameGrad)` | value and gradient (`R` is `f32`, `f64` or the function's `T: Real`) |
/// | `name_vjp(p1, ..., d_out: R) -> (R, NameGrad)` | value and vector-Jacobian product; `d_out` has the result's type (`(f64, f64)` for a tuple result, a `Vec`, a matrix, a `#[derive(Tangent)]` struct) |
/// | `name_grad_with(ws, p1, ...) -> (R, &NameGrad)` | `name_grad` reusing the buffers of `ws: &mut Workspace<NameGrad>` |
/// | `name_vjp_with(ws, p1, ..., d_out: R) -> (R, &NameGrad)` | `name_vjp` reusing the buffers of `ws` |
/// | `NameGrad` | one public field per differentiated parameter, of its owned type |
/// | `name_graph() -> Graph` | the computation graph |
///
/// | supported | refused with a compile error |
/// | --- | --- |
/// | `let`, `let mut`, assignment, `+= -= *= /=`, blocks, literals, `&x` | type parameters not bounded by `Real`, a second scalar type parameter |
/// | parts of matrices: `m.row(i)`, `m.column(j)`, `m.rows(i, n)`, `m.columns(j, n)`, `m.fixed_rows::<N>(i)`, `m.fixed_columns::<N>(j)`, `m.view((i, j), (r, c))`, `m.fixed_view::<R, C>(i, j)` (owned values of the types `.into_owned()` gives), `.into_owned()`, `.clone_owned()`, `a.cross(&b)` | writes through mutable views (`row_mut`, `view_mut`, `set_row`, ...) |
/// | `+ - * /`, unary `-`, comparisons (no gradient), `as f32` / `as f64` (differentiable) | `from_vec(v)` of a differentiated `Vec` into another type than `DVector` |
/// | `out[i] = ..`, `m[(i, j)] += ..` into a local `vec![0.0; n]` or `DMatrix::zeros(r, c)` | struct update syntax `Model { w, ..base }` |
/// | tuples `(a, b)` (locals, results, nested), `t.0`, `let (a, b) = g(x);`, `let Model { w, b } = m;` | other `let` patterns (`let [a, b] = ..`) |
/// | struct literals `Model { w: a * 2.0, b: c }` of `#[derive(Tangent)]` structs: fields read, passed by `&`, returned | |
/// | `Vector3::new(a, b, c)`, `Matrix2::new(..)`, `DVector::from_vec(vec![a, b])`, `DVector::from_vec(v)`, `vec![a, b]`, `vec![x; n]`, `[a, b]`, `DMatrix::from_fn(r, c, \|i, j\| ..)` from differentiated values | `from_fn` sizes that depend on a differentiated value |
/// | every op of the op table (`autodiff::op_table`; the README lists them): `x.exp()`, `a.atan2(b)`, `x.clamp(lo, hi)`, `relu(x)`, `m.transpose()`, ... | `unsafe`, `async`, `?`, macros, items |
/// | `stop_gradient(x)` | `&mut`, unknown methods on differentiated values |
/// | `if`/`else`, `if let`, `let .. else`, `match` (statement and value) on values that are not differentiated | a `match` pattern binding part of a differentiated value |
/// | `for` over ranges, slices and iterator chains, `while`, `while let`, `loop`, `break`/`continue` (labelled too), early `return` | loop bounds that depend on a differentiated value |
/// | `&[T]`, `Vec<T>`, `[T; N]` parameters; `iter().zip().map().sum()` / `fold` chains | closures other than `let f = \|a\| ..` (called) and `map` / `fold` arguments |
/// | calls to other `#[differentiable]` functions; methods in a `#[differentiable] impl` block | `&mut self` methods, trait `impl` blocks |
/// | calls to plain functions on values that are not differentiated | a plain function called with a differentiated argument (mark it `#[differentiable]` or give it a `custom_vjp`) |
/// | generic functions and `impl` blocks over one `T: Real` (literals are values of `T`) | a differentiated `f64` parameter next to `T` |
///
/// A type parameter bounded by `Real` (in the prelude; implemented for `f32` and `f64`)
/// stands for the scalar everywhere, and the items are generic the same way:
///
/// ```text
/// #[differentiable]
/// fn loss<T: Real>(w: &DMatrix<T>, x: &DMatrix<T>, b: T) -> T {
///     let h = (w * x).map(|e| (e * 0.5 + b).tanh());
///     h.component_mul(&h).sum() + b * b
/// }
/// // loss_grad::<f32>(&w, &x, b) -> (f32, LossGrad<f32>); loss_graph() (not generic: one graph for every scalar type).
/// ```
///
/// A float literal in such a body is `<T as Real>::c(lit)`, unless it stands next to a
/// visibly `f64` value (`n as f64 * 0.5`, `0.5f64`, a variable declared `f64`, the argument
/// of `T::c(..)` or `T::from(..)`). `T::exp(x)` is `x.exp()`; `x.floor()`, `x.signum()`,
/// `x.is_nan()` and the other gradient-free float methods are emitted through the
/// runtime's `FloatMethods` (on `T: Real`, `num_traits::Float` and `nalgebra::RealField`
/// both define them). The `f64` instantiation computes bit for bit what the same function
/// written for `f64` computes.
///
/// On an `impl` block of a `#[derive(Tangent)]` type, the attribute differentiates the
/// methods that carry `#[differentiable]` (or `#[differentiable(wrt(self, x))]`) and
/// leaves the others alone:
///
/// ```text
/// #[differentiable]
/// impl Model {
///     #[differentiable(wrt(self))]
///     fn loss(&self, x: &DMatrix<f64>, labels: &[usize]) -> f64 { .. }
/// }
/// // model.loss_grad(&x, &labels) -> (f64, ModelLossGrad), with the field `self_: Model`;
/// // also loss_vjp, Model::loss_graph(), and the _with variants.
/// ```
#[proc_macro_attribute]
pub fn differentiable(attr: TokenStream, item: TokenStream) -> TokenStream {
    autodiff_macros_core::differentiable(attr.into(), item.into()).into()
}

/// Implements `Tangent` for a struct, field by field (named or tuple fields).
///
/// Every field must implement `Tangent` with the same scalar type (`f32` or `f64`);
/// `visit_named` names the leaves after the fields (`w1`, `layers.0`). A field marked
/// `#[tangent(skip)]` (a configuration value, an activation choice) is not a parameter:
/// `zero_like` clones it and the visits ignore it. Generic structs are supported.
///
/// ```text
/// #[derive(Clone, Tangent)]
/// struct Mlp {
///     w1: DMatrix<f64>,
///     b1: RowDVector<f64>,
///     w2: DMatrix<f64>,
///     b2: RowDVector<f64>,
/// }
/// ```
#[proc_macro_derive(Tangent, attributes(tangent))]
pub fn derive_tangent(input: TokenStream) -> TokenStream {
    autodiff_macros_core::derive_tangent(input.into()).into()
}
