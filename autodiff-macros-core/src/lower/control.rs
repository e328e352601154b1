//! Lowering of control flow into the IR's two structured statements.
//!
//! `if`, `if let`, `let .. else` and `match` become a [`Stmt::Branch`]; `for`, `while`
//! and `loop` become a [`Stmt::For`] (over `lo..` when nothing bounds it). Exits are
//! flags: `break` sets its loop's flag (and the flags of the loops it leaves), which
//! ends the loop after the iteration; `continue` sets a flag of the iteration; `return`
//! stores its value in the function's return slot, sets the return flag and ends every
//! enclosing loop. The statements after one that may exit run under a branch on those
//! flags, so the code generators, the passes and the reverse pass see no exits at all:
//! the reverse replays the arms and iterations that ran, from the tape.

use super::{is_compound, var_ident, Lowerer, Res};
use crate::ir::{Arm, Block, Head, Stmt, VarId};
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::Expr;

/// A loop being lowered: the flags its exits set (binding names).
pub(super) struct LoopCtx {
    label: Option<String>,
    /// Ends the loop after this iteration.
    brk: Option<String>,
    /// Skips the rest of this iteration.
    cont: Option<String>,
    /// For a `loop` used as a value: the slot `break value` fills.
    value: Option<String>,
}

/// The early-return slots of a function whose body contains `return`.
pub(super) struct ReturnCtx {
    /// Binding of the `bool` set by `return`.
    pub flag: String,
    /// Binding of the value returned.
    pub value: String,
}

/// The binding name of the return flag.
pub(super) const RETURN_FLAG: &str = "__ad_returned";
/// The binding name of the return slot.
pub(super) const RETURN_VALUE: &str = "__ad_return";

/// What an arm of a [`Stmt::Branch`] runs.
pub(super) enum ArmBody<'a> {
    /// Statements, with a tail value when one is wanted.
    Stmts(&'a [syn::Stmt]),
    /// One expression (`if` arms written as `else if`, `match` arms).
    Expr(&'a Expr),
    /// Nothing: the `else` of an `if` without one.
    Empty,
    /// Nothing, on the path where an exit was taken: its value, when one is wanted, is
    /// never read.
    Skipped,
}

/// One arm to lower.
pub(super) struct ArmSpec<'a> {
    pat: Option<&'a syn::Pat>,
    guard: Option<&'a Expr>,
    body: ArmBody<'a>,
}

/// The exits (`break`, `continue`, `return`) in a piece of code, outside closures.
#[derive(Default)]
pub(super) struct Exits {
    /// `return` anywhere.
    pub ret: bool,
    /// `break` without a label, not inside a nested loop.
    own_break: bool,
    /// `continue` without a label, not inside a nested loop.
    own_continue: bool,
    /// Labels of labelled `break`s anywhere.
    labeled_breaks: Vec<String>,
    /// Labels of labelled `continue`s anywhere.
    labeled_continues: Vec<String>,
}

impl Exits {
    /// The exits in `stmts`.
    pub fn of_stmts(stmts: &[syn::Stmt]) -> Self {
        let mut v = ExitVisitor {
            exits: Exits::default(),
            depth: 0,
        };
        for s in stmts {
            v.visit_stmt(s);
        }
        v.exits
    }

    fn of_stmt(stmt: &syn::Stmt) -> Self {
        Self::of_stmts(std::slice::from_ref(stmt))
    }

    /// Whether code after this may be skipped.
    fn any(&self) -> bool {
        self.ret
            || self.own_break
            || self.own_continue
            || !self.labeled_breaks.is_empty()
            || !self.labeled_continues.is_empty()
    }

    /// Whether a loop labelled `label` with this body needs a flag that ends it.
    fn ends_loop(&self, label: Option<&str>) -> bool {
        self.own_break
            || self.ret
            || !self.labeled_breaks.is_empty()
            || self
                .labeled_continues
                .iter()
                .any(|l| Some(l.as_str()) != label)
    }

    /// Whether a loop labelled `label` with this body needs a flag that skips the rest
    /// of an iteration.
    fn skips_iteration(&self, label: Option<&str>) -> bool {
        self.own_continue
            || self
                .labeled_continues
                .iter()
                .any(|l| Some(l.as_str()) == label)
    }

    /// Whether an exit in this body leaves the loops around it (so their flags are carried).
    fn leaves_enclosing(&self) -> bool {
        self.ret || !self.labeled_breaks.is_empty() || !self.labeled_continues.is_empty()
    }
}

struct ExitVisitor {
    exits: Exits,
    depth: usize,
}

impl ExitVisitor {
    fn nested(&mut self, f: impl FnOnce(&mut Self)) {
        self.depth += 1;
        f(self);
        self.depth -= 1;
    }
}

impl<'ast> Visit<'ast> for ExitVisitor {
    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    fn visit_item(&mut self, _: &'ast syn::Item) {}
    fn visit_expr_for_loop(&mut self, e: &'ast syn::ExprForLoop) {
        self.visit_expr(&e.expr);
        self.nested(|v| v.visit_block(&e.body));
    }
    fn visit_expr_while(&mut self, e: &'ast syn::ExprWhile) {
        self.nested(|v| syn::visit::visit_expr_while(v, e));
    }
    fn visit_expr_loop(&mut self, e: &'ast syn::ExprLoop) {
        self.nested(|v| v.visit_block(&e.body));
    }
    fn visit_expr_break(&mut self, e: &'ast syn::ExprBreak) {
        match &e.label {
            Some(l) => self.exits.labeled_breaks.push(l.ident.to_string()),
            None if self.depth == 0 => self.exits.own_break = true,
            None => {}
        }
        syn::visit::visit_expr_break(self, e);
    }
    fn visit_expr_continue(&mut self, e: &'ast syn::ExprContinue) {
        match &e.label {
            Some(l) => self.exits.labeled_continues.push(l.ident.to_string()),
            None if self.depth == 0 => self.exits.own_continue = true,
            None => {}
        }
    }
    fn visit_expr_return(&mut self, e: &'ast syn::ExprReturn) {
        self.exits.ret = true;
        syn::visit::visit_expr_return(self, e);
    }
}

/// Whether `e` never finishes normally (it ends with `return`, `break` or `continue`).
fn diverges(e: &Expr) -> bool {
    match e {
        Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => true,
        Expr::Paren(p) => diverges(&p.expr),
        Expr::Block(b) => diverges_stmts(&b.block.stmts),
        _ => false,
    }
}

fn diverges_stmts(stmts: &[syn::Stmt]) -> bool {
    match stmts.last() {
        Some(syn::Stmt::Expr(e, _)) => diverges(e),
        _ => false,
    }
}

/// A pattern identifier that binds a value (`x`, `mut x`, `ref x`, `x @ ..`), not a unit
/// variant or constant written bare (`None`, `Red`, `MAX`).
fn is_binding(p: &syn::PatIdent) -> bool {
    p.by_ref.is_some()
        || p.mutability.is_some()
        || p.subpat.is_some()
        || !p.ident.to_string().starts_with(|c: char| c.is_uppercase())
}

/// The names a pattern binds, in order, each once.
fn pattern_bindings(pat: &syn::Pat) -> Vec<(syn::Ident, bool)> {
    struct Collect(Vec<(syn::Ident, bool)>);
    impl<'ast> Visit<'ast> for Collect {
        fn visit_pat_ident(&mut self, p: &'ast syn::PatIdent) {
            if is_binding(p) && !self.0.iter().any(|(i, _)| *i == p.ident) {
                self.0.push((p.ident.clone(), p.mutability.is_some()));
            }
            if let Some((_, sub)) = &p.subpat {
                self.visit_pat(sub);
            }
        }
        fn visit_expr(&mut self, _: &'ast Expr) {}
    }
    let mut c = Collect(Vec::new());
    c.visit_pat(pat);
    c.0
}

/// Names assigned (`x = ..`, `x += ..`) anywhere in `stmts`, in order of appearance.
fn assigned_names(stmts: &[syn::Stmt]) -> Vec<String> {
    struct Assigned(Vec<String>);
    impl Assigned {
        fn target(&mut self, e: &Expr) {
            // `out[i] = ..` assigns `out`.
            let e = match e {
                Expr::Index(ix) => &*ix.expr,
                e => e,
            };
            if let Expr::Path(p) = e {
                if let Some(i) = p.path.get_ident() {
                    let n = i.to_string();
                    if !self.0.contains(&n) {
                        self.0.push(n);
                    }
                }
            }
        }
    }
    impl<'ast> Visit<'ast> for Assigned {
        fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
            self.target(&a.left);
            syn::visit::visit_expr_assign(self, a);
        }
        fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
            if is_compound(&b.op) {
                self.target(&b.left);
            }
            syn::visit::visit_expr_binary(self, b);
        }
        fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
    }
    let mut a = Assigned(Vec::new());
    for s in stmts {
        a.visit_stmt(s);
    }
    a.0
}

/// How a loop iterates.
#[allow(clippy::large_enum_variant)] // built once per loop
pub(super) enum Iteration {
    /// `for pat in lo..hi` (or `lo..=hi`).
    Range {
        pat: syn::Pat,
        lo: Expr,
        hi: Expr,
        inclusive: bool,
    },
    /// `loop`, and `while` (whose condition is the body's first statement).
    Unbounded,
}

impl Lowerer<'_> {
    /// A fresh binding name for a flag of the lowering.
    fn fresh_name(&mut self, what: &str) -> String {
        self.fresh += 1;
        format!("__ad_{what}{}", self.fresh)
    }

    /// `let mut name = value;` for a name of the lowering.
    fn bind_flag(&mut self, name: &str, value: bool, span: Span) {
        let v = self.constant_bool(value, span);
        self.bind(name.to_string(), v, true);
    }

    fn constant_bool(&mut self, value: bool, span: Span) -> VarId {
        let lit = syn::LitBool::new(value, span);
        self.opaque(&Expr::Lit(syn::ExprLit {
            attrs: Vec::new(),
            lit: syn::Lit::Bool(lit),
        }))
    }

    /// `name = true;` for a flag of the lowering.
    fn set_flag(&mut self, name: &str, span: Span) {
        let v = self.constant_bool(true, span);
        if let Some(b) = self.lookup_mut(name) {
            b.id = v;
        }
    }

    /// A value of the join's type that is never read (the value of an arm that exits):
    /// `Default::default()`, its type inferred from the other arms.
    fn unread_value(&mut self, span: Span) -> VarId {
        let e: Expr = syn::parse_quote_spanned!(span=> ::core::default::Default::default());
        self.opaque(&e)
    }

    /// The condition under which the statements after an exit run: no flag of the
    /// innermost loop nor the return flag is set.
    fn guard_condition(&self, span: Span) -> Expr {
        let mut flags: Vec<syn::Ident> = Vec::new();
        if let Some(l) = self.loops.last() {
            for name in l.brk.iter().chain(&l.cont) {
                flags.push(syn::Ident::new(name, span));
            }
        }
        if let Some(r) = &self.ret {
            flags.push(syn::Ident::new(&r.flag, span));
        }
        if flags.is_empty() {
            return syn::parse_quote_spanned!(span=> true);
        }
        syn::parse_quote_spanned!(span=> !(#(#flags)||*))
    }

    /// Lowers `stmts[i]` and what follows it when `stmts[i]` may exit: the rest runs only
    /// when no exit was taken. Returns the tail value when `want_value`.
    pub(super) fn lower_rest_guarded(
        &mut self,
        stmt: &syn::Stmt,
        rest: &[syn::Stmt],
        want_value: bool,
    ) -> Option<Res<Option<VarId>>> {
        if rest.is_empty() || !Exits::of_stmt(stmt).any() {
            return None;
        }
        let span = stmt.span();
        let cond = self.guard_condition(span);
        let arms = vec![
            ArmSpec {
                pat: None,
                guard: None,
                body: ArmBody::Stmts(rest),
            },
            ArmSpec {
                pat: None,
                guard: None,
                body: ArmBody::Skipped,
            },
        ];
        let head = Head::If(self.rename(&cond));
        Some(self.lower_choice(head, &cond, arms, want_value, span))
    }

    /// `if cond { .. } else { .. }` and `if let pat = e { .. } else { .. }`.
    pub(super) fn lower_if(&mut self, i: &syn::ExprIf, want_value: bool) -> Res<Option<VarId>> {
        let else_body = match &i.else_branch {
            Some((_, e)) => match &**e {
                Expr::Block(b) if b.label.is_none() => ArmBody::Stmts(&b.block.stmts),
                other => ArmBody::Expr(other),
            },
            None => ArmBody::Empty,
        };
        let then_body = ArmBody::Stmts(&i.then_branch.stmts);
        if let Expr::Let(l) = &*i.cond {
            let wild = syn::Pat::Wild(syn::PatWild {
                attrs: Vec::new(),
                underscore_token: Default::default(),
            });
            let arms = vec![
                ArmSpec {
                    pat: Some(&l.pat),
                    guard: None,
                    body: then_body,
                },
                ArmSpec {
                    pat: Some(&wild),
                    guard: None,
                    body: else_body,
                },
            ];
            let head = Head::Match(self.rename(&l.expr));
            return self.lower_choice(head, &l.expr, arms, want_value, i.if_token.span);
        }
        if self.reads_varied(&i.cond) && !Self::is_simple(&i.cond) {
            self.error(
                &i.cond,
                "this condition is too complex; compute it with `let` first",
            );
            return Err(());
        }
        let arms = vec![
            ArmSpec {
                pat: None,
                guard: None,
                body: then_body,
            },
            ArmSpec {
                pat: None,
                guard: None,
                body: else_body,
            },
        ];
        let head = Head::If(self.rename(&i.cond));
        self.lower_choice(head, &i.cond, arms, want_value, i.if_token.span)
    }

    /// `match scrutinee { pat if guard => body, .. }`.
    pub(super) fn lower_match(
        &mut self,
        m: &syn::ExprMatch,
        want_value: bool,
    ) -> Res<Option<VarId>> {
        if m.arms.is_empty() {
            self.error(
                m.match_token,
                "a `match` with no arms never finishes; a #[differentiable] function must return a value",
            );
            return Err(());
        }
        if !Self::is_simple(&m.expr) {
            self.error(
                &m.expr,
                "this `match` scrutinee is too complex; compute it with `let` first",
            );
            return Err(());
        }
        let arms = m
            .arms
            .iter()
            .map(|a| ArmSpec {
                pat: Some(&a.pat),
                guard: a.guard.as_ref().map(|(_, g)| &**g),
                body: ArmBody::Expr(&a.body),
            })
            .collect();
        let head = Head::Match(self.rename(&m.expr));
        self.lower_choice(head, &m.expr, arms, want_value, m.match_token.span)
    }

    /// `let pat = e else { diverge };` followed by `rest`: a `match` whose first arm runs
    /// the rest with the pattern's bindings and whose second runs `diverge`.
    pub(super) fn lower_let_else(
        &mut self,
        local: &syn::Local,
        init: &syn::LocalInit,
        diverge: &Expr,
        rest: &[syn::Stmt],
        want_value: bool,
    ) -> Res<Option<VarId>> {
        if !diverges(diverge) {
            self.error(
                diverge,
                "the `else` of `let .. else` must end with `return`, `break` or `continue`",
            );
            return Err(());
        }
        let wild = syn::Pat::Wild(syn::PatWild {
            attrs: Vec::new(),
            underscore_token: Default::default(),
        });
        let arms = vec![
            ArmSpec {
                pat: Some(&local.pat),
                guard: None,
                body: ArmBody::Stmts(rest),
            },
            ArmSpec {
                pat: Some(&wild),
                guard: None,
                body: ArmBody::Expr(diverge),
            },
        ];
        let head = Head::Match(self.rename(&init.expr));
        self.lower_choice(head, &init.expr, arms, want_value, local.let_token.span)
    }

    /// The pattern with its bindings renamed to new variables (bound in the current
    /// scope), and those variables.
    fn bind_pattern(&mut self, pat: &syn::Pat) -> (syn::Pat, Vec<VarId>) {
        let mut binds = Vec::new();
        for (ident, mutable) in pattern_bindings(pat) {
            let v = self.new_var(Some(ident.to_string()), ident.span(), false);
            self.bind(ident.to_string(), v, mutable);
            binds.push(v);
        }
        struct Rename<'a, 'e>(&'a Lowerer<'e>);
        impl VisitMut for Rename<'_, '_> {
            fn visit_pat_ident_mut(&mut self, p: &mut syn::PatIdent) {
                if is_binding(p) {
                    if let Some(b) = self.0.lookup(&p.ident.to_string()) {
                        let mut ident = var_ident(b.id);
                        ident.set_span(Span::call_site().located_at(p.ident.span()));
                        p.ident = ident;
                    }
                }
                if let Some((_, sub)) = &mut p.subpat {
                    self.visit_pat_mut(sub);
                }
            }
            fn visit_field_pat_mut(&mut self, f: &mut syn::FieldPat) {
                // `Point { x, .. }` binds `x`: once renamed it needs the `x:` written out.
                if f.colon_token.is_none() {
                    f.colon_token = Some(Default::default());
                }
                syn::visit_mut::visit_field_pat_mut(self, f);
            }
            fn visit_expr_mut(&mut self, _: &mut Expr) {}
        }
        let mut renamed = pat.clone();
        Rename(self).visit_pat_mut(&mut renamed);
        (renamed, binds)
    }

    /// The arms of one `if` or `match`: each lowered from the same bindings, then the
    /// bindings any arm assigned joined into new variables.
    fn lower_choice(
        &mut self,
        head: Head,
        head_expr: &Expr,
        specs: Vec<ArmSpec<'_>>,
        want_value: bool,
        span: Span,
    ) -> Res<Option<VarId>> {
        let mut reads = self.refs(head_expr);
        let head_varied = self.reads_varied_beyond_sizes(head_expr);
        let names = self.binding_names();
        let before = self.snapshot();
        let mut lowered: Vec<(Arm, Vec<VarId>, Option<VarId>)> = Vec::new();
        let mut failed = false;
        for spec in specs {
            self.restore(&before);
            self.stmts.push(Vec::new());
            self.scopes.push(Vec::new());
            let (pat, binds) = match spec.pat {
                Some(p) => {
                    let (renamed, binds) = self.bind_pattern(p);
                    if head_varied && !binds.is_empty() {
                        self.error(
                            p,
                            "this pattern binds part of a differentiated value, which would lose its gradient; match on a value that is not differentiated, or compare differentiated values in a guard or an `if`",
                        );
                        failed = true;
                    }
                    (Some(renamed), binds)
                }
                None => (None, Vec::new()),
            };
            let guard = spec.guard.map(|g| {
                reads.extend(self.refs(g).into_iter().filter(|v| !binds.contains(v)));
                self.rename(g)
            });
            let value = match spec.body {
                ArmBody::Stmts(stmts) => {
                    if want_value && diverges_stmts(stmts) {
                        let r = self.lower_stmts(stmts, false);
                        r.map(|_| Some(self.unread_value(span)))
                    } else {
                        self.lower_stmts(stmts, want_value)
                    }
                }
                ArmBody::Expr(e) if want_value && diverges(e) => self
                    .lower_stmt_expr(e)
                    .map(|_| Some(self.unread_value(e.span()))),
                ArmBody::Expr(e) if want_value => self.lower_expr(e).map(Some),
                ArmBody::Expr(e) => self.lower_stmt_expr(e).map(|_| None),
                ArmBody::Empty => Ok(None),
                ArmBody::Skipped => Ok(want_value.then(|| self.unread_value(span))),
            };
            self.scopes.pop();
            let block = Block {
                stmts: self.stmts.pop().unwrap_or_default(),
            };
            let after = self.snapshot();
            let value = match value {
                Ok(v) => v,
                Err(()) => {
                    failed = true;
                    None
                }
            };
            let arm = Arm {
                pat,
                guard,
                binds,
                block,
                outs: Vec::new(),
            };
            lowered.push((arm, after, value));
        }
        self.restore(&before);
        if failed {
            return Err(());
        }
        let mut outs = Vec::new();
        let mut joined = before.clone();
        for k in 0..before.len() {
            if lowered.iter().any(|(_, after, _)| after[k] != before[k]) {
                let varied = lowered.iter().any(|(_, after, _)| self.varied_of(after[k]));
                let by_ref = lowered
                    .iter()
                    .all(|(_, after, _)| self.vars[after[k]].by_ref);
                let out = self.new_var(Some(names[k].0.clone()), span, varied);
                self.vars[out].by_ref = by_ref;
                outs.push(out);
                for (arm, after, _) in &mut lowered {
                    arm.outs.push(after[k]);
                }
                joined[k] = out;
            }
        }
        self.restore(&joined);
        let mut value = None;
        if want_value {
            if lowered.iter().any(|(_, _, v)| v.is_none()) {
                self.error(
                    syn::Ident::new("if", span),
                    "this `if` or `match` is used as a value, so every arm must end with an expression (and an `if` needs an `else`)",
                );
                return Err(());
            }
            let vals: Vec<VarId> = lowered.iter().filter_map(|(_, _, v)| *v).collect();
            let varied = vals.iter().any(|&v| self.varied_of(v));
            let by_ref = vals.iter().all(|&v| self.vars[v].by_ref);
            let out = self.new_var(None, span, varied);
            self.vars[out].by_ref = by_ref;
            outs.push(out);
            for ((arm, _, _), v) in lowered.iter_mut().zip(vals) {
                arm.outs.push(v);
            }
            value = Some(out);
        }
        reads.dedup();
        let arms = lowered.into_iter().map(|(arm, _, _)| arm).collect();
        if let Some(s) = self.stmts.last_mut() {
            s.push(Stmt::Branch {
                head,
                reads,
                arms,
                outs,
                span,
            });
        }
        Ok(value)
    }

    /// `break`, `break 'label`: ends the loops up to the target.
    pub(super) fn lower_break(&mut self, b: &syn::ExprBreak) -> Res<()> {
        let target = self.loop_target(b.label.as_ref(), b.span())?;
        if let Some(e) = &b.expr {
            let Some(slot) = self.loops[target].value.clone() else {
                self.error(e, "`break` with a value needs a `loop` whose value is used");
                return Err(());
            };
            let v = self.lower_expr(e)?;
            if let Some(b) = self.lookup_mut(&slot) {
                b.id = v;
            }
        }
        let span = b.span();
        for k in target..self.loops.len() {
            if let Some(name) = self.loops[k].brk.clone() {
                self.set_flag(&name, span);
            }
        }
        Ok(())
    }

    /// `continue`, `continue 'label`: ends the loops inside the target and skips the rest
    /// of the target's iteration.
    pub(super) fn lower_continue(&mut self, c: &syn::ExprContinue) -> Res<()> {
        let target = self.loop_target(c.label.as_ref(), c.span())?;
        let span = c.span();
        for k in target + 1..self.loops.len() {
            if let Some(name) = self.loops[k].brk.clone() {
                self.set_flag(&name, span);
            }
        }
        if let Some(name) = self.loops[target].cont.clone() {
            self.set_flag(&name, span);
        }
        Ok(())
    }

    fn loop_target(&mut self, label: Option<&syn::Lifetime>, span: Span) -> Res<usize> {
        let found = match label {
            Some(l) => {
                let name = l.ident.to_string();
                self.loops
                    .iter()
                    .rposition(|c| c.label.as_deref() == Some(name.as_str()))
            }
            None => self.loops.len().checked_sub(1),
        };
        match found {
            Some(k) => Ok(k),
            None => {
                self.errors.push(syn::Error::new(
                    span,
                    match label {
                        Some(l) => format!("no enclosing loop is labelled `{l}`"),
                        None => "`break` and `continue` must be inside a loop".to_string(),
                    },
                ));
                Err(())
            }
        }
    }

    /// `return value`: stores it, sets the return flag and ends every enclosing loop.
    pub(super) fn lower_return(&mut self, r: &syn::ExprReturn) -> Res<()> {
        let Some(value) = &r.expr else {
            self.error(
                r,
                "a #[differentiable] function returns a value: `return value`",
            );
            return Err(());
        };
        let v = self.lower_expr(value)?;
        let Some(ctx) = &self.ret else {
            self.error(r, "`return` is not supported here");
            return Err(());
        };
        let (flag, slot) = (ctx.flag.clone(), ctx.value.clone());
        if let Some(b) = self.lookup_mut(&slot) {
            b.id = v;
        }
        let span = r.span();
        self.set_flag(&flag, span);
        for k in 0..self.loops.len() {
            if let Some(name) = self.loops[k].brk.clone() {
                self.set_flag(&name, span);
            }
        }
        Ok(())
    }

    /// `for pat in lo..hi`, `while cond`, `loop`: one [`Stmt::For`], with an exit flag
    /// when something in the body can end it early.
    pub(super) fn lower_loop(
        &mut self,
        label: Option<&syn::Label>,
        iteration: Iteration,
        body: &[syn::Stmt],
        value: Option<String>,
        span: Span,
    ) -> Res<()> {
        let label_name = label.map(|l| l.name.ident.to_string());
        let exits = Exits::of_stmts(body);
        if let Some(slot) = &value {
            let v = self.unread_value(span);
            self.bind(slot.clone(), v, true);
        }
        let brk = exits.ends_loop(label_name.as_deref()).then(|| {
            let name = self.fresh_name("break");
            self.bind_flag(&name, false, span);
            name
        });
        let cont = exits
            .skips_iteration(label_name.as_deref())
            .then(|| self.fresh_name("continue"));
        let (lo, hi, inclusive, index_pat) = match iteration {
            Iteration::Range {
                pat,
                lo,
                hi,
                inclusive,
            } => {
                if self.reads_varied_beyond_sizes(&lo) || self.reads_varied_beyond_sizes(&hi) {
                    self.error(
                        quote::quote!(#lo .. #hi),
                        "loop bounds must not depend on a differentiated value",
                    );
                    return Err(());
                }
                (lo, Some(hi), inclusive, Some(pat))
            }
            Iteration::Unbounded => (syn::parse_quote_spanned!(span=> 0usize), None, false, None),
        };
        let index_name = match &index_pat {
            Some(syn::Pat::Ident(pi)) if pi.subpat.is_none() && pi.by_ref.is_none() => {
                Some(pi.ident.to_string())
            }
            Some(syn::Pat::Wild(_)) | None => None,
            Some(other) => {
                self.error(other, "the loop variable must be a plain name or `_`");
                return Err(());
            }
        };
        let mut bound_vars = self.refs(&lo);
        if let Some(hi) = &hi {
            bound_vars.extend(self.refs(hi));
        }
        let lo = self.rename(&lo);
        let hi = hi.as_ref().map(|h| self.rename(h));

        // The outer mutable variables the body assigns are carried across iterations,
        // with the flags its exits set.
        let mut assigned = assigned_names(body);
        assigned.extend(brk.clone());
        assigned.extend(value.clone());
        if exits.leaves_enclosing() {
            // A labelled exit sets the flags (and the `break` value) of an outer loop.
            for l in &self.loops {
                assigned.extend(l.brk.clone());
                assigned.extend(l.cont.clone());
                assigned.extend(l.value.clone());
            }
        }
        if exits.ret {
            if let Some(r) = &self.ret {
                assigned.push(r.flag.clone());
                assigned.push(r.value.clone());
            }
        }
        let names = self.binding_names();
        let start = self.snapshot();
        let mut slots: Vec<usize> = Vec::new();
        for name in &assigned {
            if let Some(k) = names.iter().rposition(|(n, _)| n == name) {
                if names[k].1 && !slots.contains(&k) {
                    slots.push(k);
                }
            }
        }
        let carried_in: Vec<VarId> = slots.iter().map(|&k| start[k]).collect();
        let mut assumed: Vec<bool> = carried_in.iter().map(|&v| self.varied_of(v)).collect();
        self.loops.push(LoopCtx {
            label: label_name,
            brk: brk.clone(),
            cont: cont.clone(),
            value,
        });
        // Forward activity of the carried values: the body is lowered under what is
        // known before the loop; when a carried value becomes varied in the body, the
        // activity pass finds the loop's fixpoint on that IR, and the body is lowered
        // again (with the values found varied so far) only if one of the choices made
        // while lowering it read a mark the fixpoint changed.
        let result = loop {
            let var_mark = self.vars.len();
            let err_mark = self.errors.len();
            let query_mark = self.queried.borrow().len();
            super::LOOP_BODIES_LOWERED.with(|n| n.set(n.get() + 1));
            let mut ids = start.clone();
            let mut params = Vec::new();
            for (j, &k) in slots.iter().enumerate() {
                let p = self.new_var(Some(names[k].0.clone()), span, assumed[j]);
                self.vars[p].by_ref = self.vars[carried_in[j]].by_ref;
                ids[k] = p;
                params.push(p);
            }
            self.restore(&ids);
            let index = self.new_var(index_name.clone(), span, false);
            self.stmts.push(Vec::new());
            self.scopes.push(Vec::new());
            if let Some(n) = &index_name {
                self.bind(n.clone(), index, false);
            }
            if let Some(c) = &cont {
                self.bind_flag(c, false, span);
            }
            let r = self.lower_stmts(body, false);
            self.scopes.pop();
            let body_block = Block {
                stmts: self.stmts.pop().unwrap_or_default(),
            };
            let end = self.snapshot();
            let body_outs: Vec<VarId> = slots.iter().map(|&k| end[k]).collect();
            let grew: Vec<usize> = (0..slots.len())
                .filter(|&j| self.vars[body_outs[j]].varied && !assumed[j])
                .collect();
            if !grew.is_empty() {
                for &j in &grew {
                    assumed[j] = true;
                    self.vars[params[j]].varied = true;
                }
                crate::pass::varied::carried(&params, &body_block, &body_outs, &mut self.vars, &[]);
                let stale = super::RELOWER_ON_GROWTH.with(|r| r.get())
                    || self.queried.borrow()[query_mark..]
                        .iter()
                        .any(|&v| self.vars[v].varied);
                if stale {
                    self.queried.borrow_mut().truncate(query_mark);
                    self.vars.truncate(var_mark);
                    self.errors.truncate(err_mark);
                    self.restore(&start);
                    continue;
                }
                for (j, &p) in params.iter().enumerate() {
                    assumed[j] = self.vars[p].varied;
                }
            }
            if r.is_err() {
                break Err(());
            }
            let mut after = start.clone();
            let mut outs = Vec::new();
            for (j, &k) in slots.iter().enumerate() {
                let o = self.new_var(Some(names[k].0.clone()), span, assumed[j]);
                self.vars[o].by_ref = self.vars[params[j]].by_ref;
                after[k] = o;
                outs.push(o);
            }
            let exit = brk.as_ref().and_then(|name| {
                let k = names.iter().rposition(|(n, _)| n == name)?;
                let j = slots.iter().position(|&s| s == k)?;
                Some(body_outs[j])
            });
            self.restore(&after);
            break Ok(Stmt::For {
                index,
                lo: lo.clone(),
                hi: hi.clone(),
                inclusive,
                bound_vars: bound_vars.clone(),
                carried_in: carried_in.clone(),
                params,
                body: body_block,
                body_outs,
                outs,
                exit,
                span,
            });
        };
        self.loops.pop();
        let stmt = result?;
        if let Some(s) = self.stmts.last_mut() {
            s.push(stmt);
        }
        Ok(())
    }

    /// `for pat in range { .. }`.
    pub(super) fn lower_for(&mut self, f: &syn::ExprForLoop) -> Res<()> {
        let mut range = &*f.expr;
        while let Expr::Paren(p) = range {
            range = &p.expr;
        }
        let (lo, hi, inclusive) = match range {
            Expr::Range(r) => match (&r.start, &r.end) {
                (Some(lo), Some(hi)) => (
                    (**lo).clone(),
                    (**hi).clone(),
                    matches!(r.limits, syn::RangeLimits::Closed(_)),
                ),
                _ => {
                    self.error(r, "a loop range needs both bounds: `for i in a..b`");
                    return Err(());
                }
            },
            other => {
                if let Some(indexed) = self.for_over_chain(f) {
                    return self.lower_for(&indexed);
                }
                self.error(
                    other,
                    "#[differentiable] loops run over an integer range (`for i in a..b`), a slice or vector (`for v in x.iter()`, `for &v in x`), or a chain of `iter`, `enumerate`, `zip`, `map`, `copied` over them",
                );
                return Err(());
            }
        };
        let iteration = Iteration::Range {
            pat: (*f.pat).clone(),
            lo,
            hi,
            inclusive,
        };
        self.lower_loop(
            f.label.as_ref(),
            iteration,
            &f.body.stmts,
            None,
            f.for_token.span,
        )
    }

    /// `while cond { .. }` is `loop { if !(cond) { break; } .. }`; `while let pat = e`
    /// is `loop { let pat = e else { break; }; .. }`.
    pub(super) fn lower_while(&mut self, w: &syn::ExprWhile) -> Res<()> {
        let span = w.while_token.span;
        let check: syn::Stmt = match &*w.cond {
            Expr::Let(l) => {
                let (pat, e) = (&l.pat, &l.expr);
                syn::parse_quote_spanned!(span=> let #pat = #e else { break; };)
            }
            cond => syn::parse_quote_spanned!(span=> if !(#cond) { break; }),
        };
        let mut body = vec![check];
        body.extend(w.body.stmts.iter().cloned());
        self.lower_loop(w.label.as_ref(), Iteration::Unbounded, &body, None, span)
    }

    /// `loop { .. }`; as a value (`want_value`), the value of the `break` that ended it.
    pub(super) fn lower_loop_expr(
        &mut self,
        l: &syn::ExprLoop,
        want_value: bool,
    ) -> Res<Option<VarId>> {
        if want_value && !Exits::of_stmts(&l.body.stmts).own_break {
            self.error(
                l.loop_token,
                "this `loop` is used as a value but has no `break value`; a #[differentiable] function must finish",
            );
            return Err(());
        }
        let slot = want_value.then(|| self.fresh_name("loop_value"));
        let span = l.loop_token.span;
        self.lower_loop(
            l.label.as_ref(),
            Iteration::Unbounded,
            &l.body.stmts,
            slot.clone(),
            span,
        )?;
        Ok(slot.and_then(|s| self.lookup(&s).map(|b| b.id)))
    }
}
