//! Code generation from the IR: the forward code, the reverse (adjoint) code, the
//! gradient struct and the graph. Generated names use the reserved prefix `__ad`.

pub mod aggregates;
pub mod callee;
pub mod dual_items;
pub mod forward;
pub mod fused;
pub mod graph;
pub mod items;
pub mod reverse;
pub mod short_paths;
pub mod tape;

use crate::ir::{Eqn, Func, Op, RuleRef, Stmt, VarId};
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use std::collections::BTreeSet;

pub use crate::lower::var_ident as primal;

/// The adjoint of `v`.
pub fn adjoint(v: VarId) -> syn::Ident {
    format_ident!("__adj_{}", v)
}

/// The adjoint of `v` as a place: its own variable, or for a field of an active struct
/// (`m.w1`) the field of the struct's adjoint (`__adj_0.w1`).
pub fn adjoint_place(f: &Func, v: VarId) -> TokenStream {
    match &f.vars[v].field_of {
        Some((base, member)) if f.active(*base) => {
            let b = adjoint_place(f, *base);
            quote!(#b.#member)
        }
        _ => {
            let a = adjoint(v);
            quote!(#a)
        }
    }
}

/// Whether `v`'s adjoint is a field of another adjoint (and so declares nothing).
pub fn adjoint_is_field(f: &Func, v: VarId) -> bool {
    matches!(&f.vars[v].field_of, Some((base, _)) if f.active(*base))
}

/// The pullback closure of the call defining `v`.
pub fn pullback(v: VarId) -> syn::Ident {
    format_ident!("__pb_{}", v)
}

/// The tape of the control-flow statement whose first output is `v`.
pub fn tape(v: VarId) -> syn::Ident {
    format_ident!("__tape_{}", v)
}

/// `v` as an operand: a reference to its value (`&__ad_3`, or `__ad_3` when it is one).
pub fn operand(f: &Func, v: VarId) -> TokenStream {
    let id = primal(v);
    if f.vars[v].seq {
        quote!(&#id[..])
    } else if f.vars[v].by_ref {
        quote!(#id)
    } else {
        quote!(&#id)
    }
}

/// `v` as the argument of a call written `g(&v)`: a reference to it as it is, which
/// coerces to what the callee takes (`&Vec<f64>` to `&[f64]`).
pub fn borrowed_arg(f: &Func, v: VarId) -> TokenStream {
    let id = primal(v);
    if f.vars[v].by_ref {
        quote!(#id)
    } else {
        quote!(&#id)
    }
}

/// `v` as an argument of a call: borrowed as written (`g(&v)`), else a copy of it. A field
/// of a borrowed struct passed by value (`g(self.b)`: valid Rust only for a `Copy` field)
/// is a value of its own in the user's code (see [`owned`]), so that a generic callee
/// sees `T`.
pub fn call_arg(f: &Func, v: VarId, borrowed: bool) -> TokenStream {
    if borrowed {
        borrowed_arg(f, v)
    } else if f.vars[v].field_of.is_some() && !f.vars[v].seq {
        owned(f, v)
    } else {
        cloned(f, v)
    }
}

/// The one rule for a value the generated code holds by reference where the user's code
/// has a value of its own: a field of a borrowed struct passed by value (`g(self.b)`),
/// given to an owned join (`return self.b;` joined with an owned slot), or put into an
/// aggregate (`(self.b, x)`, `Model { w: m.w }`) is an owned copy of what the reference
/// points to, so the pullback that keeps it owns it (a slice becomes a `Vec`); an owned
/// value is cloned.
pub fn owned(f: &Func, v: VarId) -> TokenStream {
    if f.vars[v].by_ref {
        let id = primal(v);
        let span = f.vars[v].span;
        quote_spanned!(span=> ::std::borrow::ToOwned::to_owned(#id))
    } else {
        cloned(f, v)
    }
}

/// An owned copy of `v` (a no-op for scalars; shares the reference for borrowed values).
pub fn cloned(f: &Func, v: VarId) -> TokenStream {
    let id = primal(v);
    let span = f.vars[v].span;
    quote_spanned!(span=> ::core::clone::Clone::clone(&#id))
}

/// A tuple expression or pattern of `items`: `()`, `(a,)`, `(a, b,)`.
pub fn tuple(items: &[TokenStream]) -> TokenStream {
    if items.is_empty() {
        quote!(())
    } else {
        quote!((#(#items,)*))
    }
}

/// The rule value of an op (`::autodiff::__private::Exp` or `...::PowI(__ad_4)`).
pub fn rule_value(r: &crate::ir::RuleRef) -> TokenStream {
    let ty = crate::rules::marker_type(r.op);
    let rule = match r.param {
        // `m[(i, j)]`: the index is one tuple value, the rule takes two fields.
        Some(p) if r.op == autodiff_ops::OpId::Index2 => {
            let p = primal(p);
            quote!(#ty(#p.0, #p.1))
        }
        // A view (`m.rows(i, n)`): the parameter is the rule, built where it was written.
        Some(p) if r.info().arity == autodiff_ops::Arity::UnaryParams => {
            let p = primal(p);
            quote!(#p)
        }
        Some(p) => {
            let p = primal(p);
            quote!(#ty(#p))
        }
        None => quote!(#ty),
    };
    if r.saved {
        quote!(::autodiff::__private::Saved(#rule))
    } else {
        rule
    }
}

/// The reverse pass of `f` after its recorded forward code: adjoint declarations, the
/// seed `__ad_dout`, and the statements in reverse.
pub fn reverse_body(f: &Func) -> TokenStream {
    let rev = reverse::Reverse::new(f);
    let mut top = tape::defined_in(&f.body);
    top.extend(f.params.iter().map(|p| p.var));
    let declare = rev.declare(&top);
    let seed = if f.active(f.ret) {
        let a = adjoint_place(f, f.ret);
        quote!(::autodiff::__private::accumulate(&mut #a, &__ad_dout);)
    } else {
        quote!()
    };
    let body = rev.block(&f.body);
    quote!(#declare #seed #body)
}

/// Straight-line vector-Jacobian product code of `f` for cotangent `__ad_dout`: the
/// recorded forward code then the reverse code. Leaves every adjoint in scope.
///
/// When the last statement gives the result, its cotangent is `__ad_dout` itself, known
/// before the statement runs: a fused chain summed into the result ([`Op::FusedSum`]) then
/// takes one loop for the sum and the chain's cotangents, and a binary rule with one
/// differentiated operand one call for its value and that operand's cotangent (see
/// [`LastWithCotangent`]).
pub fn vjp_body(f: &Func) -> TokenStream {
    if let Some((e, how, rest)) = last_with_cotangent(f) {
        return with_cotangent_last(f, e, how, rest);
    }
    let fwd = forward::Forward::new(f, true).top(&f.body);
    let rev = reverse_body(f);
    quote!(#fwd #rev)
}

/// Whether [`vjp_body`] runs `f`'s last statement with the result's cotangent known (a
/// fused sum or a binary rule that shares work between value and VJP).
pub fn runs_last_with_cotangent(f: &Func) -> bool {
    last_with_cotangent(f).is_some()
}

/// How [`vjp_body`] runs the last statement of a function when that statement gives the
/// result, whose cotangent `__ad_dout` is then known before the statement runs.
enum LastWithCotangent<'f> {
    /// A fused chain summed into the result: one loop gives the sum and adds the chain's
    /// cotangents.
    FusedSum(&'f Func),
    /// A binary rule whose left operand alone is differentiated
    /// (`cross_entropy(&logits, labels)`): one call, `binary_forward_vjp_lhs`, where the op
    /// can share work between its value and its vector-Jacobian product.
    Binary(&'f RuleRef),
}

/// `f`'s last statement when [`vjp_body`] runs it with the result's cotangent (the result
/// then has no adjoint variable), with the statements before it.
fn last_with_cotangent(f: &Func) -> Option<(&Eqn, LastWithCotangent<'_>, &[Stmt])> {
    let (Stmt::Eqn(e), rest) = f.body.stmts.split_last()? else {
        return None;
    };
    if e.out != f.ret || !f.active(f.ret) {
        return None;
    }
    let how = match &e.op {
        Op::FusedSum(inner) => LastWithCotangent::FusedSum(inner),
        Op::Binary(r) if f.active(e.args[0]) && !f.active(e.args[1]) && e.args[0] != e.args[1] => {
            LastWithCotangent::Binary(r)
        }
        _ => return None,
    };
    Some((e, how, rest))
}

/// [`vjp_body`] for a function whose last statement `e` is run with its cotangent: the
/// forward code of `rest`, the adjoints (none for the result), `e` with its cotangent,
/// then the reverse code of `rest`.
fn with_cotangent_last(
    f: &Func,
    e: &Eqn,
    how: LastWithCotangent<'_>,
    rest: &[Stmt],
) -> TokenStream {
    let rest = crate::ir::Block {
        stmts: rest.to_vec(),
    };
    let fwd = forward::Forward::new(f, true).top(&rest);
    let rev = reverse::Reverse::new(f);
    let mut top = tape::defined_in(&f.body);
    top.extend(f.params.iter().map(|p| p.var));
    top.remove(&f.ret);
    let declare = rev.declare(&top);
    let out = primal(e.out);
    // `__ad_dout` is the signature's (call-site hygiene), not the user's tokens'.
    let dout = quote!(__ad_dout);
    let last = match how {
        LastWithCotangent::FusedSum(inner) => {
            fused::reverse(f, e, inner, true, dout, Some(quote!(#out)))
        }
        LastWithCotangent::Binary(r) => {
            let rule = rule_value(r);
            let (a, b) = (operand(f, e.args[0]), operand(f, e.args[1]));
            let ga = adjoint_place(f, e.args[0]);
            let span = e.span;
            quote_spanned! {span=>
                let #out = ::autodiff::__private::binary_forward_vjp_lhs(#rule, #a, #b, &#dout, &mut #ga);
            }
        }
    };
    let body = rev.block(&rest);
    quote!(#fwd #declare #last #body)
}

/// The cotangent of parameter `i` after [`vjp_body`]: its finished adjoint, a zero of its
/// shape when nothing reached it, or `NotDifferentiated` when it is excluded by `wrt`.
pub fn param_cotangent(f: &Func, i: usize) -> TokenStream {
    let p = &f.params[i];
    if !p.wrt {
        return quote!(::autodiff::__private::NotDifferentiated);
    }
    let primal_ref = operand(f, p.var);
    if p.seq {
        // Sized when declared: the adjoint is the gradient.
        if f.active(p.var) {
            let a = adjoint(p.var);
            return quote!(#a);
        }
        let ty = &f.vars[p.var].ty;
        return quote!(::autodiff::__private::seq_adjoint::<_, #ty>(#primal_ref));
    }
    if f.active(p.var) && definitely_contributed(f, p.var) {
        let a = adjoint(p.var);
        quote!(::autodiff::__private::finish_contributed(#a, #primal_ref))
    } else if f.active(p.var) {
        let a = adjoint(p.var);
        quote!(::autodiff::__private::finish(#a, #primal_ref))
    } else {
        quote!(::autodiff::__private::finish(::autodiff::__private::adjoint_zero(), #primal_ref))
    }
}

/// Whether the adjoint of `v` receives a contribution on every path: `v` is an active
/// operand of an active operation in the function's top-level block (not only inside
/// branches or loops, which may run zero times).
pub fn definitely_contributed(f: &Func, v: crate::ir::VarId) -> bool {
    f.body.stmts.iter().any(|s| match s {
        Stmt::Eqn(e) => {
            f.active(e.out)
                && e.args.contains(&v)
                && matches!(
                    e.op,
                    Op::Unary(_) | Op::Binary(_) | Op::Field(_) | Op::Call { .. }
                )
        }
        _ => false,
    }) || (f.ret == v)
}

/// The values defined directly in `block` that a rule op made, in order: owned values whose buffers come
/// from the installed workspace pool (`autodiff::Workspace`), so the generated code gives
/// them back when it is done with them. Values made by clones (branch joins, loop
/// carries), user calls and opaque expressions are left to drop.
pub fn pooled_values(f: &Func, block: &crate::ir::Block) -> Vec<VarId> {
    // A float has no buffer to give back.
    let shapes = crate::pass::shape::infer(f);
    block
        .stmts
        .iter()
        .filter_map(|s| match s {
            Stmt::Eqn(e)
                if matches!(
                    e.op,
                    Op::Unary(_) | Op::Binary(_) | Op::Fused(_) | Op::Map(_)
                ) && !f.vars[e.out].by_ref
                    && shapes[e.out] != crate::pass::shape::Shape::Scalar =>
            {
                Some(e.out)
            }
            _ => None,
        })
        .collect()
}

/// `recycle_value(v);` for each of `vars`: gives their buffers back to the pool.
pub fn recycle_values(vars: impl IntoIterator<Item = VarId>) -> TokenStream {
    let ids = vars.into_iter().map(primal);
    quote!(#(::autodiff::__private::recycle_value(#ids);)*)
}

/// `recycle(adjoint);` for every adjoint declared at the top of the reverse pass that is
/// still there at its end: not a parameter's (returned), not a loop output's (moved into
/// the loop's carry) and not a call result's (moved into the callee's pullback).
pub fn recycle_adjoints(f: &Func) -> TokenStream {
    let mut params: BTreeSet<VarId> = f.params.iter().map(|p| p.var).collect();
    if last_with_cotangent(f).is_some() {
        // Computed with its cotangents in one call: the result has no adjoint.
        params.insert(f.ret);
    }
    recycle_block_adjoints(f, &f.body, &tape::defined_in(&f.body), params)
}

/// `recycle(adjoint);` for the adjoints of the variables `defined` in `block` (declared at
/// the start of its reverse code) that are still there at its end: not in `moved`, not a
/// nested loop output's and not a call result's.
pub fn recycle_block_adjoints(
    f: &Func,
    block: &crate::ir::Block,
    defined: &BTreeSet<VarId>,
    mut moved: BTreeSet<VarId>,
) -> TokenStream {
    for s in &block.stmts {
        match s {
            Stmt::For { outs, .. } => moved.extend(outs.iter().copied()),
            Stmt::Eqn(e) if matches!(e.op, Op::Call { .. }) => {
                moved.insert(e.out);
            }
            _ => {}
        }
    }
    // A float's adjoint has no buffer to give back.
    let shapes = crate::pass::shape::infer(f);
    let adjs = defined
        .iter()
        .copied()
        .filter(|&v| f.active(v) && !adjoint_is_field(f, v) && !moved.contains(&v))
        .filter(|&v| shapes[v] != crate::pass::shape::Shape::Scalar)
        .map(adjoint);
    quote!(#(::autodiff::__private::recycle(#adjs);)*)
}

/// Whether `path` is `::autodiff::__private::..`: a call the macro itself wrote.
pub fn is_runtime_path(path: &syn::Path) -> bool {
    let mut segs = path.segments.iter().map(|s| s.ident.to_string());
    path.leading_colon.is_some()
        && segs.next().as_deref() == Some("autodiff")
        && segs.next().as_deref() == Some("__private")
}
