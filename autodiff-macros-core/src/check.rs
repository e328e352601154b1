//! Refuses the syntax #[differentiable] does not support, wherever it appears in the
//! body, with a message that names the construct and what to use instead.

use crate::errors::Errors;
use syn::visit::{self, Visit};

/// Records an error for every unsupported construct in `block`.
pub fn unsupported_syntax(block: &syn::Block, errors: &mut Errors) {
    let mut v = Checker { errors };
    v.visit_block(block);
}

struct Checker<'a> {
    errors: &'a mut Errors,
}

const WHERE: &str = "in #[differentiable] functions";

impl<'ast> Visit<'ast> for Checker<'_> {
    fn visit_expr_if(&mut self, e: &'ast syn::ExprIf) {
        // `if let pat = e` is supported; a `let` anywhere else (let chains) is not.
        match &*e.cond {
            syn::Expr::Let(l) => self.visit_expr(&l.expr),
            cond => self.visit_expr(cond),
        }
        self.visit_block(&e.then_branch);
        if let Some((_, els)) = &e.else_branch {
            self.visit_expr(els);
        }
    }
    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        match &*e.cond {
            syn::Expr::Let(l) => self.visit_expr(&l.expr),
            cond => self.visit_expr(cond),
        }
        self.visit_block(&e.body);
    }
    fn visit_expr_block(&mut self, e: &'ast syn::ExprBlock) {
        if let Some(label) = &e.label {
            self.errors.push_spanned(
                &label.name,
                format!("labelled blocks are not supported {WHERE}; use a labelled loop or `if`"),
            );
            return;
        }
        visit::visit_expr_block(self, e);
    }
    fn visit_expr_closure(&mut self, e: &'ast syn::ExprClosure) {
        self.errors.push_spanned(
            e,
            format!("closures are supported {WHERE} when bound with `let f = |a| ..;` and called, or as the argument of `map` and `fold`"),
        );
    }
    fn visit_expr_method_call(&mut self, e: &'ast syn::ExprMethodCall) {
        // The closures of `map` and `fold` are inlined.
        let closure_at = match (e.method.to_string().as_str(), e.args.len()) {
            ("map", 1) => Some(0),
            ("fold", 2) => Some(1),
            _ => None,
        };
        if let Some(k) = closure_at {
            if let syn::Expr::Closure(c) = &e.args[k] {
                self.visit_expr(&e.receiver);
                for (j, a) in e.args.iter().enumerate() {
                    if j != k {
                        self.visit_expr(a);
                    }
                }
                self.visit_expr(&c.body);
                return;
            }
        }
        visit::visit_expr_method_call(self, e);
    }
    fn visit_expr_call(&mut self, e: &'ast syn::ExprCall) {
        // The closure of nalgebra's `from_fn` is lowered as a function of its own.
        let from_fn = matches!(&*e.func, syn::Expr::Path(p)
            if p.path.segments.last().is_some_and(|s| s.ident == "from_fn"));
        if let (true, Some(syn::Expr::Closure(c))) = (from_fn, e.args.last()) {
            for a in e.args.iter().take(e.args.len() - 1) {
                self.visit_expr(a);
            }
            self.visit_expr(&c.body);
            return;
        }
        visit::visit_expr_call(self, e);
    }
    fn visit_local(&mut self, l: &'ast syn::Local) {
        // `let f = |a| ..;` is inlined where it is called.
        if let Some(init) = &l.init {
            if let syn::Expr::Closure(c) = &*init.expr {
                self.visit_expr(&c.body);
                return;
            }
        }
        visit::visit_local(self, l);
    }
    fn visit_expr_unsafe(&mut self, e: &'ast syn::ExprUnsafe) {
        self.errors.push_spanned(
            e.unsafe_token,
            format!("`unsafe` blocks are not supported {WHERE}"),
        );
    }
    fn visit_expr_async(&mut self, e: &'ast syn::ExprAsync) {
        self.errors.push_spanned(
            e.async_token,
            format!("`async` blocks are not supported {WHERE}"),
        );
    }
    fn visit_expr_await(&mut self, e: &'ast syn::ExprAwait) {
        self.errors
            .push_spanned(e, format!("`.await` is not supported {WHERE}"));
    }
    fn visit_expr_macro(&mut self, e: &'ast syn::ExprMacro) {
        // `vec![x; n]` and `vec![a, b]` are read as the vectors they build.
        if let Some(parts) = crate::lower::vec_macro(e) {
            for p in parts.exprs() {
                self.visit_expr(p);
            }
            return;
        }
        self.errors.push_spanned(
            &e.mac,
            format!(
                "macro calls are not supported {WHERE}; compute values outside and pass them in"
            ),
        );
    }
    fn visit_stmt_macro(&mut self, s: &'ast syn::StmtMacro) {
        self.errors.push_spanned(
            &s.mac,
            format!(
                "macro calls are not supported {WHERE}; compute values outside and pass them in"
            ),
        );
    }
    fn visit_expr_try(&mut self, e: &'ast syn::ExprTry) {
        self.errors.push_spanned(
            e.question_token,
            format!("the `?` operator is not supported {WHERE}"),
        );
    }
    fn visit_expr_try_block(&mut self, e: &'ast syn::ExprTryBlock) {
        self.errors.push_spanned(
            e.try_token,
            format!("`try` blocks are not supported {WHERE}"),
        );
    }
    fn visit_expr_yield(&mut self, e: &'ast syn::ExprYield) {
        self.errors
            .push_spanned(e, format!("`yield` is not supported {WHERE}"));
    }
    fn visit_expr_let(&mut self, e: &'ast syn::ExprLet) {
        self.errors.push_spanned(
            e.let_token,
            format!("`let` is supported {WHERE} as the whole condition of an `if` or `while`, not inside a longer condition; nest the `if let`s"),
        );
    }
    fn visit_expr_reference(&mut self, e: &'ast syn::ExprReference) {
        if let Some(m) = &e.mutability {
            self.errors.push_spanned(
                m,
                format!("`&mut` borrows are not supported {WHERE}; bind a new value with `let`"),
            );
            return;
        }
        visit::visit_expr_reference(self, e);
    }
    fn visit_item(&mut self, i: &'ast syn::Item) {
        self.errors.push_spanned(
            i,
            format!("items are not supported {WHERE}; define them outside the function"),
        );
    }
}
