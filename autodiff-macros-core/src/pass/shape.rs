//! Shape analysis: which values are known to be scalars or matrices, from the parameter
//! types and the ops (`dot` gives a scalar, `component_mul` a matrix, a `+` with a matrix
//! operand a matrix). The graph names a `*` between matrices `MmBackward0`; fusion only
//! fuses chains known to run over matrices.

use crate::ir::{Block, Func, Op, Stmt};
use autodiff_ops::Kind as OpKind;

/// The shape of every variable of `f`.
pub fn infer(f: &Func) -> Vec<Shape> {
    let mut shapes = vec![Shape::Unknown; f.vars.len()];
    infer_block(f, &f.body, &mut shapes);
    shapes
}

/// What a value is, as far as the signature and the ops tell: enough to name a `*`
/// between matrices `MmBackward0`, as PyTorch does, instead of `MulBackward0`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A float.
    Scalar,
    /// A matrix or vector.
    Matrix,
    /// Not known from the signature and the ops.
    Unknown,
}

fn infer_block(f: &Func, b: &Block, shapes: &mut [Shape]) {
    use crate::sig::{classify, Kind};
    let join = |a: Shape, b: Shape| match (a, b) {
        (Shape::Matrix, _) | (_, Shape::Matrix) => Shape::Matrix,
        (Shape::Scalar, Shape::Scalar) => Shape::Scalar,
        _ => Shape::Unknown,
    };
    for s in &b.stmts {
        match s {
            Stmt::Eqn(e) => {
                let arg = |k: usize| e.args.get(k).map_or(Shape::Unknown, |&a| shapes[a]);
                shapes[e.out] = match &e.op {
                    Op::Param(_) => match f.vars[e.out].ty.as_ref().map(classify) {
                        Some(Kind::Scalar) => Shape::Scalar,
                        Some(Kind::Matrix) => Shape::Matrix,
                        _ => Shape::Unknown,
                    },
                    Op::Opaque(syn::Expr::Lit(_)) => Shape::Scalar,
                    Op::Opaque(x) if reads_a_float(f, x, &e.args) => Shape::Scalar,
                    Op::Opaque(c) if crate::generics::is_scalar_constant(c) => Shape::Scalar,
                    Op::Opaque(_) | Op::Field(_) | Op::Call { .. } | Op::Construct(_) => {
                        Shape::Unknown
                    }
                    Op::FromFn(_) => Shape::Matrix,
                    Op::StopGradient | Op::Map(_) => arg(0),
                    Op::FusedSum(_) => Shape::Scalar,
                    Op::Fused(_) => e
                        .args
                        .iter()
                        .fold(Shape::Unknown, |acc, &a| join(acc, shapes[a])),
                    Op::Unary(r) | Op::Binary(r) => match r.info().kind {
                        OpKind::Reduce => Shape::Scalar,
                        OpKind::Componentwise => Shape::Matrix,
                        _ if e.args.len() == 1 => arg(0),
                        _ => join(arg(0), arg(1)),
                    },
                };
            }
            Stmt::Branch { arms, outs, .. } => {
                for arm in arms {
                    infer_block(f, &arm.block, shapes);
                }
                for k in 0..outs.len() {
                    let first = shapes[arms[0].outs[k]];
                    let same = arms.iter().all(|a| shapes[a.outs[k]] == first);
                    shapes[outs[k]] = if same { first } else { Shape::Unknown };
                }
            }
            Stmt::For {
                carried_in,
                params,
                body,
                outs,
                ..
            } => {
                for k in 0..params.len() {
                    shapes[params[k]] = shapes[carried_in[k]];
                    shapes[outs[k]] = shapes[carried_in[k]];
                }
                infer_block(f, body, shapes);
            }
        }
    }
}

/// An expression that takes no gradient but is known to give a float: an element of a
/// sequence parameter (`x[i]`; a slice, `Vec` or array of floats) or a cast to a float
/// type (`n as f64`).
fn reads_a_float(f: &Func, x: &syn::Expr, args: &[crate::ir::VarId]) -> bool {
    match x {
        syn::Expr::Index(ix) if !matches!(*ix.index, syn::Expr::Range(_)) => {
            let syn::Expr::Path(base) = &*ix.expr else {
                return false;
            };
            args.iter()
                .any(|&a| f.vars[a].seq && base.path.is_ident(&crate::lower::var_ident(a)))
        }
        syn::Expr::Cast(c) => {
            matches!(&*c.ty, syn::Type::Path(t) if t.path.is_ident("f64") || t.path.is_ident("f32"))
        }
        syn::Expr::Paren(p) => reads_a_float(f, &p.expr, args),
        _ => false,
    }
}
