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
    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        self.errors.push_spanned(
            e.while_token,
            format!("`while` loops are not supported {WHERE}; use `for i in a..b`"),
        );
    }
    fn visit_expr_loop(&mut self, e: &'ast syn::ExprLoop) {
        self.errors.push_spanned(
            e.loop_token,
            format!("`loop` is not supported {WHERE}; use `for i in a..b`"),
        );
    }
    fn visit_expr_match(&mut self, e: &'ast syn::ExprMatch) {
        self.errors.push_spanned(
            e.match_token,
            format!("`match` is not supported {WHERE}; use `if`/`else`"),
        );
    }
    fn visit_expr_return(&mut self, e: &'ast syn::ExprReturn) {
        self.errors.push_spanned(
            e,
            format!("early `return` is not supported {WHERE}; end the function with its result expression"),
        );
    }
    fn visit_expr_break(&mut self, e: &'ast syn::ExprBreak) {
        self.errors.push_spanned(
            e,
            format!("`break` is not supported {WHERE}; loops run over a whole range"),
        );
    }
    fn visit_expr_continue(&mut self, e: &'ast syn::ExprContinue) {
        self.errors.push_spanned(
            e,
            format!("`continue` is not supported {WHERE}; use `if` inside the loop body"),
        );
    }
    fn visit_expr_closure(&mut self, e: &'ast syn::ExprClosure) {
        self.errors.push_spanned(
            e,
            format!("closures are not supported {WHERE} except as the argument of `.map(|e| ...)`"),
        );
    }
    fn visit_expr_method_call(&mut self, e: &'ast syn::ExprMethodCall) {
        if e.method == "map" && e.args.len() == 1 {
            if let syn::Expr::Closure(c) = &e.args[0] {
                self.visit_expr(&e.receiver);
                self.visit_expr(&c.body);
                return;
            }
        }
        visit::visit_expr_method_call(self, e);
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
            format!(
                "`if let` and `let` conditions are not supported {WHERE}; use a boolean condition"
            ),
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
    fn visit_local(&mut self, l: &'ast syn::Local) {
        if let Some(init) = &l.init {
            if let Some((else_token, _)) = &init.diverge {
                self.errors.push_spanned(
                    else_token,
                    format!("`let ... else` is not supported {WHERE}"),
                );
            }
        }
        visit::visit_local(self, l);
    }
}
