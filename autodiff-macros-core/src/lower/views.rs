//! Parts of matrices as nalgebra writes them: `m.row(i)`, `m.rows(i, n)`,
//! `m.fixed_view::<R, C>(i, j)`, ... (the op table's [`Arity::UnaryParams`] rows), and
//! `into_owned()` / `clone_owned()` of their results.
//!
//! A view's rule is built from the method's arguments and const generics as the user
//! wrote them (`::autodiff::__private::FixedView::<2, 2>(i, j)`): one opaque value, the
//! rule's parameter, which must not depend on a differentiated value. The rule returns an
//! owned matrix, so `into_owned()` and `clone_owned()` after it are the value itself.
//! The mutable views (`row_mut`, `view_mut`, ...) write into a matrix in place, which is
//! refused with what to write instead.

use super::{Lowerer, Res};
use crate::ir::VarId;
use crate::rules::{self, Shape};
use autodiff_ops::Arity;
use syn::spanned::Spanned;
use syn::Expr;

/// Methods that write into a matrix through a mutable view or in place.
const IN_PLACE: &[&str] = &[
    "row_mut",
    "column_mut",
    "rows_mut",
    "columns_mut",
    "fixed_rows_mut",
    "fixed_columns_mut",
    "view_mut",
    "fixed_view_mut",
    "view_range_mut",
    "set_row",
    "set_column",
    "copy_from",
    "fill",
    "swap_rows",
    "swap_columns",
];

/// The refusal of an in-place write `name` (one of [`IN_PLACE`]).
fn in_place_message(name: &str) -> String {
    format!(
        "`{name}` writes into a matrix in place, which #[differentiable] does not differentiate; \
         read parts as values (`m.row(i)`, `m.rows(i, n)`, `m.view((i, j), (r, c))`) and write \
         single elements of a local matrix by index (`out[(i, j)] = ..`)"
    )
}

/// The first in-place write ([`IN_PLACE`]) in the method chain `e`, if any.
pub(super) fn in_place_call(e: &Expr) -> Option<&syn::ExprMethodCall> {
    match e {
        Expr::MethodCall(m) if IN_PLACE.contains(&m.method.to_string().as_str()) => Some(m),
        Expr::MethodCall(m) => in_place_call(&m.receiver),
        Expr::Index(i) => in_place_call(&i.expr),
        Expr::Assign(a) => in_place_call(&a.left),
        Expr::Binary(b) => in_place_call(&b.left),
        Expr::Paren(p) => in_place_call(&p.expr),
        _ => None,
    }
}

impl Lowerer<'_> {
    /// A statement or assignment target that writes through a mutable view: the spanned
    /// refusal, reported; `true` if there was one.
    pub(super) fn refuse_in_place(&mut self, e: &Expr) -> bool {
        match in_place_call(e) {
            Some(m) => {
                let msg = in_place_message(&m.method.to_string());
                self.error(&m.method, msg);
                true
            }
            None => false,
        }
    }

    /// `m.row(i)` and the other views, `x.into_owned()`, `x.clone_owned()`, and the
    /// refusal of the mutable views; `None` for any other method.
    pub(super) fn lower_view(&mut self, m: &syn::ExprMethodCall) -> Option<Res<VarId>> {
        let name = m.method.to_string();
        if IN_PLACE.contains(&name.as_str()) {
            self.error(&m.method, in_place_message(&name));
            return Some(Err(()));
        }
        if matches!(name.as_str(), "into_owned" | "clone_owned") && m.args.is_empty() {
            return Some(self.lower_owned(m));
        }
        let entry = rules::method(&name).filter(|e| e.shape == Shape::UnaryParams)?;
        let op = entry.op?;
        Some(self.lower_view_op(m, entry, op))
    }

    /// `x.into_owned()` / `x.clone_owned()`: the value itself where it is owned (every
    /// view's rule returns an owned matrix), an owned copy of a borrowed one.
    fn lower_owned(&mut self, m: &syn::ExprMethodCall) -> Res<VarId> {
        let x = self.lower_expr(&m.receiver)?;
        if !self.vars[x].by_ref || !self.varied(x) {
            return Ok(x);
        }
        let path: syn::Path = syn::parse_quote!(::autodiff::__private::clone_value);
        Ok(self.push_call(path, vec![true], vec![x], m.span()))
    }

    fn lower_view_op(
        &mut self,
        m: &syn::ExprMethodCall,
        entry: rules::Entry,
        op: autodiff_ops::OpId,
    ) -> Res<VarId> {
        let name = m.method.to_string();
        let usage = op.info().usage();
        debug_assert_eq!(op.info().arity, Arity::UnaryParams);
        // The table's usage (`m.fixed_view::<R, C>(i, j)`) says how many arguments and
        // const generics the method takes.
        if let Ok(spec) = syn::parse_str::<syn::ExprMethodCall>(&usage) {
            let generics = |t: &Option<syn::AngleBracketedGenericArguments>| {
                t.as_ref().map_or(0, |t| t.args.len())
            };
            if m.args.len() != spec.args.len()
                || generics(&m.turbofish) != generics(&spec.turbofish)
            {
                self.error(m, format!("`{name}` is called as `{usage}`"));
                return Err(());
            }
        }
        for a in &m.args {
            if self.reads_varied_beyond_sizes(a) {
                self.error(
                    a,
                    format!("the arguments of `{name}` are positions and sizes: they must not depend on a differentiated value"),
                );
                return Err(());
            }
        }
        let x = self.lower_expr(&m.receiver)?;
        let marker = rules::marker_type(op);
        let turbofish = &m.turbofish;
        let args = m.args.iter();
        let span = m.method.span();
        let rule: Expr = syn::parse_quote_spanned!(span=> #marker #turbofish (#(#args),*));
        let p = self.opaque(&rule);
        Ok(self.apply_unary(entry, x, Some(p), m.span()))
    }
}
