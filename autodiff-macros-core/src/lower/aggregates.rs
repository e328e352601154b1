//! Values built from several differentiated values, and taken apart again.
//!
//! A tuple `(a, b)`, a struct literal `Model { w, b }`, nalgebra's element constructors
//! (`Vector3::new(x, y, z)`, `Matrix2::new(..)`, `DVector::from_vec(vec![a, b])`),
//! `vec![a, b]` and `[a, b]` become one [`Op::Construct`] whose operands are the
//! components; `t.0` and `m.w` are [`Op::Field`] projections (their adjoint is the
//! component of the aggregate's adjoint), and `let (a, b) = g(x);` one projection per
//! name. `DMatrix::from_fn(r, c, |i, j| body)` whose closure reads differentiated values
//! is one [`Op::FromFn`] with the closure as a scalar function of its own.

use super::{Binding, Lowerer, Res};
use crate::ir::{Block, Ctor, Eqn, FromFn, Func, Op, Param, Stmt, VarId};
use crate::sig::{classify, Kind};
use proc_macro2::Span;
use quote::format_ident;
use syn::spanned::Spanned;
use syn::Expr;

impl Lowerer<'_> {
    /// `out = ctor(args)`: differentiated when any component is.
    fn push_construct(&mut self, ctor: Ctor, args: Vec<VarId>, span: Span) -> VarId {
        let out = self.new_var(None, span, false);
        self.push_eqn(out, Op::Construct(ctor), args, span)
    }

    fn lower_all<'a>(&mut self, items: impl IntoIterator<Item = &'a Expr>) -> Res<Vec<VarId>> {
        items.into_iter().map(|e| self.lower_expr(e)).collect()
    }

    /// `(a, b, ..)`.
    pub(super) fn lower_tuple(&mut self, t: &syn::ExprTuple) -> Res<VarId> {
        let args = self.lower_all(&t.elems)?;
        Ok(self.push_construct(Ctor::Tuple, args, t.span()))
    }

    /// `[a, b, ..]`.
    pub(super) fn lower_array(&mut self, a: &syn::ExprArray) -> Res<VarId> {
        let args = self.lower_all(&a.elems)?;
        Ok(self.push_construct(Ctor::Array, args, a.span()))
    }

    /// `vec![a, b, ..]` with differentiated elements, or `vec![x; n]` of a differentiated
    /// `x` (a runtime op; the length must not be differentiated).
    pub(super) fn lower_vec_macro(&mut self, parts: &super::VecMacro, span: Span) -> Res<VarId> {
        match parts {
            super::VecMacro::List(items) => {
                let args = self.lower_all(items)?;
                Ok(self.push_construct(Ctor::Vec, args, span))
            }
            super::VecMacro::Repeat(x, n) => {
                if self.reads_varied_beyond_sizes(n) {
                    self.error(
                        n,
                        "the length of `vec![x; n]` must not depend on a differentiated value",
                    );
                    return Err(());
                }
                let x = self.lower_expr(x)?;
                let n = self.opaque(n);
                let path: syn::Path = syn::parse_quote!(::autodiff::__private::repeat_vec);
                Ok(self.push_call(path, vec![false, false], vec![x, n], span))
            }
        }
    }

    /// `Path { field: value, .. }`.
    pub(super) fn lower_struct(&mut self, s: &syn::ExprStruct) -> Res<VarId> {
        if let Some(rest) = &s.rest {
            self.error(
                rest,
                "a struct literal of differentiated values must name every field (`..base` is not supported); write each field",
            );
            return Err(());
        }
        if s.qself.is_some() {
            self.error(
                &s.path,
                "write the struct's name (`Model { .. }`) in a literal of differentiated values",
            );
            return Err(());
        }
        let mut members = Vec::new();
        let mut args = Vec::new();
        for fv in &s.fields {
            members.push(fv.member.clone());
            args.push(self.lower_expr(&fv.expr)?);
        }
        Ok(self.push_construct(Ctor::Struct(s.path.clone(), members), args, s.span()))
    }

    /// `Ty::new(..)`, `Ty::from_vec(vec![..])` and `Ty::from_fn(.., |i, j| ..)` for a
    /// nalgebra type `Ty`, or `None` for another call.
    pub(super) fn lower_constructor_call(&mut self, c: &syn::ExprCall) -> Option<Res<VarId>> {
        let Expr::Path(fp) = &*c.func else {
            return None;
        };
        if fp.qself.is_some() || fp.path.segments.len() < 2 {
            return None;
        }
        let mut ty = fp.path.clone();
        let last = ty.segments.pop()?.into_value().ident.to_string();
        ty.segments.pop_punct();
        let as_type = syn::Type::Path(syn::TypePath {
            qself: None,
            path: ty.clone(),
        });
        if classify(&as_type) != Kind::Matrix {
            return None;
        }
        match last.as_str() {
            "new" if new_arity(&ty).is_some_and(|n| n != c.args.len()) => {
                let n = new_arity(&ty).unwrap_or_default();
                let name = ty
                    .segments
                    .last()
                    .map(|s| s.ident.to_string())
                    .unwrap_or_default();
                self.error(
                    c,
                    format!(
                        "`{name}::new` takes {n} entries (row by row), found {}",
                        c.args.len()
                    ),
                );
                Some(Err(()))
            }
            "new" => Some(
                self.lower_all(&c.args)
                    .map(|args| self.push_construct(Ctor::New(ty), args, c.span())),
            ),
            "from_vec" if c.args.len() == 1 => {
                let items = match &c.args[0] {
                    Expr::Macro(m) => match super::vec_macro(m) {
                        Some(super::VecMacro::List(items)) => items,
                        _ => return None,
                    },
                    _ if ty.segments.last().is_some_and(|s| s.ident == "DVector") => {
                        // A differentiated `Vec` as a whole: a runtime op.
                        let v = match self.lower_expr(&c.args[0]) {
                            Ok(v) => v,
                            Err(()) => return Some(Err(())),
                        };
                        let path: syn::Path =
                            syn::parse_quote!(::autodiff::__private::dvector_from_vec);
                        return Some(Ok(self.push_call(path, vec![false], vec![v], c.span())));
                    }
                    _ => {
                        self.error(
                            &c.args[0],
                            "`from_vec` of a differentiated `Vec` is supported for `DVector::from_vec(v)`; for other types write the elements out (`RowDVector::from_vec(vec![a, b])`) or build the matrix with `zeros` and write its elements",
                        );
                        return Some(Err(()));
                    }
                };
                Some(
                    self.lower_all(&items)
                        .map(|args| self.push_construct(Ctor::FromVec(ty), args, c.span())),
                )
            }
            "from_fn" => Some(self.lower_from_fn(ty, c)),
            _ => None,
        }
    }

    /// `Ty::from_fn(sizes.., |i, j| body)`: the closure becomes a scalar function of its
    /// own, reading the enclosing values it names; the sizes must not be differentiated.
    fn lower_from_fn(&mut self, ty: syn::Path, c: &syn::ExprCall) -> Res<VarId> {
        let n = c.args.len();
        let Some(Expr::Closure(closure)) = c.args.last() else {
            self.error(
                c,
                "`from_fn` of differentiated values takes its closure written in place: `DMatrix::from_fn(r, c, |i, j| ..)`",
            );
            return Err(());
        };
        if closure.inputs.len() != 2 {
            self.error(
                &closure.inputs,
                "the `from_fn` closure takes the row and column indices: `|i, j| ..`",
            );
            return Err(());
        }
        let mut params = Vec::new();
        for (k, p) in closure.inputs.iter().enumerate() {
            let p = match p {
                syn::Pat::Type(pt) => &*pt.pat,
                p => p,
            };
            match p {
                syn::Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                    params.push((pi.ident.clone(), true));
                }
                syn::Pat::Wild(w) => {
                    let span = Span::call_site().located_at(w.span());
                    params.push((format_ident!("__ad_index_{}", k, span = span), false));
                }
                other => {
                    self.error(
                        other,
                        "the `from_fn` closure takes the row and column indices as names: `|i, j| ..`",
                    );
                    return Err(());
                }
            }
        }
        let mut args = Vec::new();
        for size in c.args.iter().take(n - 1) {
            if self.reads_varied_beyond_sizes(size) {
                self.error(size, "a size must not depend on a differentiated value");
                return Err(());
            }
            args.push(self.opaque(size));
        }
        let sizes = args.len();
        // The closure is lowered with the enclosing bindings visible (read, not assigned:
        // `from_fn` runs it once per element) and its indices bound to its parameters.
        let enclosing = self.vars.len();
        let scopes: Vec<Vec<Binding>> = self
            .scopes
            .iter()
            .map(|s| {
                s.iter()
                    .map(|b| Binding {
                        name: b.name.clone(),
                        id: b.id,
                        mutable: false,
                    })
                    .collect()
            })
            .collect();
        let mut nested = Lowerer {
            errors: &mut *self.errors,
            vars: self.vars.clone(),
            scopes,
            stmts: vec![Vec::new()],
            loops: Vec::new(),
            ret: None,
            fresh: self.fresh,
            siblings: self.siblings.clone(),
            closures: self.closures.clone(),
            queried: Default::default(),
            enclosing,
        };
        nested.scopes.push(Vec::new());
        let mut func_params = Vec::new();
        for (k, (ident, named)) in params.into_iter().enumerate() {
            let v = nested.new_var(Some(ident.to_string()), ident.span(), false);
            nested.push_eqn(v, Op::Param(k), Vec::new(), ident.span());
            if named {
                nested.bind(ident.to_string(), v, false);
            }
            func_params.push(Param {
                ident,
                wrt: false,
                var: v,
                seq: false,
            });
        }
        let ret = nested.lower_expr(&closure.body);
        let fresh = nested.fresh;
        // The enclosing marks the closure's lowering read are this lowering's choices.
        let queried = nested.queried.take();
        self.queried
            .borrow_mut()
            .extend(queried.into_iter().filter(|&v| v < enclosing));
        let body = Block {
            stmts: nested.stmts.pop().unwrap_or_default(),
        };
        let vars = nested.vars;
        self.fresh = fresh;
        let ret = ret?;
        let mut captured = Vec::new();
        reads_below(&body, enclosing, &mut captured);
        if ret < enclosing && !captured.contains(&ret) {
            captured.push(ret);
        }
        captured.sort_unstable();
        let mut func = Func {
            vars,
            params: func_params,
            body,
            ret,
            captured: captured.clone(),
        };
        crate::pass::activity::run(&mut func);
        crate::pass::dce::run(&mut func);
        // The closure's variables are numbered after the enclosing function's: keep the
        // enclosing table that long, so later variables do not reuse its numbers.
        while self.vars.len() < func.vars.len() {
            let span = closure.span();
            self.new_var(None, span, false);
        }
        args.extend(captured);
        let out = self.new_var(None, c.span(), false);
        let op = Op::FromFn(Box::new(FromFn {
            ty,
            sizes,
            body: func,
        }));
        Ok(self.push_eqn(out, op, args, c.span()))
    }

    /// `let pat = value;` for a tuple or struct pattern: each name bound to its component
    /// (a projection, or the element itself when `value` is a tuple written out).
    pub(super) fn lower_destructure(&mut self, pat: &syn::Pat, init: &Expr) -> Res<()> {
        if let (syn::Pat::Tuple(pt), Expr::Tuple(t)) = (pat, strip_parens(init)) {
            if pt.elems.len() == t.elems.len() && !pt.elems.iter().any(is_rest) {
                for (p, e) in pt.elems.iter().zip(&t.elems) {
                    self.bind_pattern_expr(p, e)?;
                }
                return Ok(());
            }
        }
        let v = self.lower_expr(init)?;
        self.bind_components(pat, v)
    }

    fn bind_pattern_expr(&mut self, pat: &syn::Pat, e: &Expr) -> Res<()> {
        match pat {
            syn::Pat::Wild(_) => self.lower_expr(e).map(|_| ()),
            syn::Pat::Tuple(_) | syn::Pat::Struct(_) | syn::Pat::Paren(_) => {
                self.lower_destructure(pat, e)
            }
            _ => {
                let v = self.lower_expr(e)?;
                self.bind_components(pat, v)
            }
        }
    }

    /// Binds the names of `pat` to the components of `v`.
    fn bind_components(&mut self, pat: &syn::Pat, v: VarId) -> Res<()> {
        match pat {
            syn::Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                if self.vars[v].name.is_none() {
                    self.vars[v].name = Some(pi.ident.to_string());
                }
                self.bind(pi.ident.to_string(), v, pi.mutability.is_some());
                Ok(())
            }
            syn::Pat::Wild(_) => Ok(()),
            syn::Pat::Paren(p) => self.bind_components(&p.pat, v),
            syn::Pat::Tuple(pt) if !pt.elems.iter().any(is_rest) => {
                for (k, p) in pt.elems.iter().enumerate() {
                    if matches!(p, syn::Pat::Wild(_)) {
                        continue;
                    }
                    let member = syn::Member::Unnamed(syn::Index {
                        index: k as u32,
                        span: p.span(),
                    });
                    let c = self.project(v, member, p.span());
                    self.bind_components(p, c)?;
                }
                Ok(())
            }
            syn::Pat::Struct(ps) if ps.qself.is_none() => {
                for fp in &ps.fields {
                    let c = self.project(v, fp.member.clone(), fp.span());
                    self.bind_components(&fp.pat, c)?;
                }
                Ok(())
            }
            other => {
                self.error(
                    other,
                    "only names, `_`, tuples `(a, b)` and struct patterns `Model { w, b }` can be bound by `let` in #[differentiable] functions",
                );
                Err(())
            }
        }
    }

    /// `base.member` (a field expression, or a name of a destructuring `let`).
    pub(super) fn project(&mut self, base: VarId, member: syn::Member, span: Span) -> VarId {
        // A component of a tuple built here is the value it was built from. (A struct
        // literal stays built and read by field: rustc would call a struct that the
        // generated code never builds dead code.)
        if let Some(c) = self.stmts.iter().find_map(|b| component(b, base, &member)) {
            return c;
        }
        let out = self.new_var(None, span, false);
        // A field of a borrowed struct is borrowed; of an owned one (`self` by value, a
        // tuple built here), copied, so the pullback can own it.
        self.vars[out].by_ref = self.vars[base].by_ref;
        self.vars[out].field_of = Some((base, member.clone()));
        if let Some(name) = &self.vars[base].name {
            let field = match &member {
                syn::Member::Named(n) => n.to_string(),
                syn::Member::Unnamed(i) => i.index.to_string(),
            };
            self.vars[out].name = Some(format!("{name}.{field}"));
        }
        self.push_eqn(out, Op::Field(member), vec![base], span)
    }
}

impl Lowerer<'_> {
    /// `body` (of a `map` closure with argument `shadowed`) with every projection of a
    /// differentiated enclosing value (`m.b`, `t.0`) lowered before the closure and read
    /// as a captured value, so that its gradient reaches the aggregate.
    pub(super) fn hoist_projections(&mut self, body: &Expr, shadowed: &str) -> Res<Expr> {
        struct Hoist<'a, 'e> {
            l: &'a mut Lowerer<'e>,
            shadowed: &'a str,
            failed: bool,
        }
        fn root(e: &Expr) -> Option<&syn::Ident> {
            match e {
                Expr::Field(f) => root(&f.base),
                Expr::Paren(p) => root(&p.expr),
                Expr::Path(p) if p.qself.is_none() => p.path.get_ident(),
                _ => None,
            }
        }
        impl syn::visit_mut::VisitMut for Hoist<'_, '_> {
            fn visit_expr_mut(&mut self, e: &mut Expr) {
                if let Expr::Field(_) = e {
                    let outside = root(e).is_some_and(|r| *r != self.shadowed);
                    if outside && self.l.reads_varied(e) {
                        let span = e.span();
                        match self.l.lower_expr(e) {
                            Ok(v) => {
                                self.l.fresh += 1;
                                let name = format!("__ad_proj{}", self.l.fresh);
                                self.l.bind(name.clone(), v, false);
                                let ident =
                                    syn::Ident::new(&name, Span::call_site().located_at(span));
                                *e = syn::parse_quote!(#ident);
                            }
                            Err(()) => self.failed = true,
                        }
                        return;
                    }
                }
                syn::visit_mut::visit_expr_mut(self, e);
            }
            fn visit_expr_closure_mut(&mut self, _: &mut syn::ExprClosure) {}
        }
        let mut body = body.clone();
        let mut h = Hoist {
            l: self,
            shadowed,
            failed: false,
        };
        syn::visit_mut::VisitMut::visit_expr_mut(&mut h, &mut body);
        if h.failed {
            return Err(());
        }
        Ok(body)
    }
}

/// The number of entries nalgebra's `Ty::new` takes for a fixed-size alias
/// (`Vector3`: 3, `RowVector2`: 2, `Matrix2`: 4, `Matrix2x3`: 6), or `None` for another type.
fn new_arity(ty: &syn::Path) -> Option<usize> {
    let name = ty.segments.last()?.ident.to_string();
    let dims = ["RowVector", "Vector", "Matrix"]
        .iter()
        .find_map(|p| name.strip_prefix(p).map(|rest| (*p, rest)))?;
    let num = |s: &str| s.parse::<usize>().ok().filter(|&n| n > 0);
    match dims {
        ("Matrix", rest) => match rest.split_once('x') {
            Some((r, c)) => Some(num(r)? * num(c)?),
            None => num(rest).map(|n| n * n),
        },
        (_, rest) => num(rest),
    }
}

/// The operand that `member` of `v` was built from, when `stmts` (or a block in them)
/// builds `v` as a tuple.
fn component(stmts: &[Stmt], v: VarId, member: &syn::Member) -> Option<VarId> {
    stmts.iter().find_map(|s| match s {
        Stmt::Eqn(e) if e.out == v => match (&e.op, member) {
            (Op::Construct(Ctor::Tuple), syn::Member::Unnamed(i)) => {
                e.args.get(i.index as usize).copied()
            }
            _ => None,
        },
        Stmt::Eqn(_) => None,
        s => s
            .blocks()
            .into_iter()
            .find_map(|b| component(&b.stmts, v, member)),
    })
}

fn is_rest(p: &syn::Pat) -> bool {
    matches!(p, syn::Pat::Rest(_))
}

fn strip_parens(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip_parens(&p.expr),
        Expr::Group(g) => strip_parens(&g.expr),
        e => e,
    }
}

/// The variables numbered below `limit` (the enclosing function's) that `block` reads.
fn reads_below(block: &Block, limit: VarId, out: &mut Vec<VarId>) {
    let add = |v: VarId, out: &mut Vec<VarId>| {
        if v < limit && !out.contains(&v) {
            out.push(v);
        }
    };
    for s in &block.stmts {
        match s {
            Stmt::Eqn(Eqn { op, args, .. }) => {
                for &a in args {
                    add(a, out);
                }
                match op {
                    Op::Unary(r) | Op::Binary(r) => {
                        if let Some(p) = r.param {
                            add(p, out);
                        }
                    }
                    Op::Map(inner) | Op::Fused(inner) | Op::FusedSum(inner) => {
                        for &c in &inner.captured {
                            add(c, out);
                        }
                    }
                    _ => {}
                }
            }
            Stmt::Branch {
                reads, arms, outs, ..
            } => {
                for &r in reads {
                    add(r, out);
                }
                for arm in arms {
                    reads_below(&arm.block, limit, out);
                    for &o in &arm.outs {
                        add(o, out);
                    }
                }
                let _ = outs;
            }
            Stmt::For {
                bound_vars,
                carried_in,
                body,
                body_outs,
                ..
            } => {
                for &v in bound_vars.iter().chain(carried_in).chain(body_outs) {
                    add(v, out);
                }
                reads_below(body, limit, out);
            }
        }
    }
}
