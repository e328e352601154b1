//! Lowering: `syn` function body to [`ir::Func`] in A-normal form.
//!
//! Each operation becomes one equation whose operands are variables; an expression that
//! reads no differentiated value (a literal, a loop bound, `i as f64`, a comparison) is
//! kept as one opaque equation, emitted as written with its variables renamed.
//! Mutable variables are put in SSA form: an assignment makes a new variable, `if` joins
//! what its branches assigned, `for` carries what its body assigns. Forward activity
//! (`varied`: depends on a differentiated parameter) is `pass::varied`'s: lowering applies
//! its rule to each value it defines, because how an expression is lowered depends on
//! whether it reads a varied value (kept whole as an opaque expression or not; an index,
//! loop bound or `match` binding that reads one is refused), and records the marks those
//! choices read as unset. A loop body is lowered once, under the marks known before the
//! loop; the pass finds the carried values' fixpoint on that IR, and only a body whose
//! recorded choices the fixpoint changes is lowered again.

use crate::errors::Errors;
use crate::ir::{Block, Eqn, Func, Op, Param, RuleRef, Stmt, VarId, VarInfo};
use crate::rules::{self, Entry, Shape};
use crate::sig::{Kind, Signature};
use autodiff_ops::OpId;
use proc_macro2::Span;
use quote::{format_ident, ToTokens};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{BinOp, Expr, UnOp};

thread_local! {
    /// How many loop bodies lowering has lowered on this thread (each body once, unless
    /// a choice depended on a carried value's activity: `lower_loop`).
    static LOOP_BODIES_LOWERED: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// How many loop bodies have been lowered on this thread so far (for tests that count
/// the lowering work of a function).
pub fn loop_bodies_lowered() -> usize {
    LOOP_BODIES_LOWERED.with(|n| n.get())
}

thread_local! {
    /// Lower a loop body again whenever its carried values' activity grew, as lowering
    /// did before activity was a pass (for a test that compares the two).
    static RELOWER_ON_GROWTH: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// See [`crate::relower_loops_on_growth`].
pub fn relower_loops_on_growth(on: bool) {
    RELOWER_ON_GROWTH.with(|r| r.set(on));
}

/// The name of variable `v` in generated code.
pub fn var_ident(v: VarId) -> syn::Ident {
    format_ident!("__ad_{}", v)
}

mod aggregates;
mod control;
mod iterators;
mod views;

use control::{Exits, LoopCtx, ReturnCtx, RETURN_FLAG, RETURN_VALUE};

struct Binding {
    name: String,
    id: VarId,
    mutable: bool,
}

/// A closure bound with `let f = |a| ..;`: inlined where it is called, reading the
/// bindings it captured when it was defined.
#[derive(Clone)]
struct ClosureDef {
    closure: syn::ExprClosure,
    captured: Vec<(String, VarId)>,
}

struct Lowerer<'e> {
    errors: &'e mut Errors,
    vars: Vec<VarInfo>,
    scopes: Vec<Vec<Binding>>,
    stmts: Vec<Vec<Stmt>>,
    /// The loops around the code being lowered, innermost last.
    loops: Vec<LoopCtx>,
    /// The return slots, when the body contains `return`.
    ret: Option<ReturnCtx>,
    /// Counter for the names of flags.
    fresh: usize,
    /// The differentiable methods `self.name(..)` may call (in a `#[differentiable] impl`).
    siblings: Vec<crate::sig::Sibling>,
    /// The closures bound with `let`, by the placeholder variable of their binding.
    closures: Vec<(VarId, ClosureDef)>,
    /// The variables a choice of the lowering read as not varied (see
    /// [`Lowerer::varied`]).
    queried: std::cell::RefCell<Vec<VarId>>,
    /// In a `from_fn` closure lowered with the enclosing variables: the first variable
    /// of the closure. Reading an enclosing variable's mark to compute a closure
    /// variable's is a choice too (the enclosing function's passes do not revisit the
    /// closure).
    enclosing: VarId,
}

type Res<T> = Result<T, ()>;

/// Lowers `item`'s body. Records problems in `errors` and returns `None` if there were any.
pub fn lower(item: &syn::ItemFn, sig: &Signature, errors: &mut Errors) -> Option<Func> {
    let before = errors.len();
    crate::check::unsupported_syntax(&item.block, errors);
    if errors.len() > before {
        return None;
    }
    let mut l = Lowerer {
        errors,
        vars: Vec::new(),
        scopes: vec![Vec::new()],
        stmts: vec![Vec::new()],
        loops: Vec::new(),
        ret: None,
        fresh: 0,
        siblings: sig
            .method
            .as_ref()
            .map(|m| m.siblings.clone())
            .unwrap_or_default(),
        closures: Vec::new(),
        queried: Default::default(),
        enclosing: 0,
    };
    let mut params = Vec::new();
    for (i, p) in sig.params.iter().enumerate() {
        let var = l.new_var(Some(p.ident.to_string()), p.ident.span(), p.wrt);
        // A borrowed differentiable value is used as the reference it is (`x * w` on
        // `&DMatrix`); a borrowed constant (`&[usize]`) is passed on as a whole value.
        // A differentiated sequence is read as a slice; one that is not is a constant.
        let seq = p.kind == Kind::Sequence && p.wrt;
        l.vars[var].seq = p.kind == Kind::Sequence;
        l.vars[var].by_ref =
            p.by_ref && p.kind != Kind::Constant && (seq || p.kind != Kind::Sequence);
        l.vars[var].ty = Some(p.owned_ty.clone());
        l.stmts[0].push(Stmt::Eqn(Eqn {
            out: var,
            op: Op::Param(i),
            args: Vec::new(),
            span: p.ident.span(),
        }));
        l.bind(p.ident.to_string(), var, false);
        params.push(Param {
            ident: p.ident.clone(),
            wrt: p.wrt,
            var,
            seq,
        });
    }
    let stmts = &item.block.stmts;
    let ret = if Exits::of_stmts(stmts).ret {
        l.lower_with_returns(stmts, &sig.ret, item.block.brace_token.span.close())
    } else {
        l.lower_stmts(stmts, true)
    };
    let body = Block {
        stmts: l.stmts.pop().unwrap_or_default(),
    };
    let ret = match ret {
        Ok(Some(r)) => Some(r),
        Ok(None) => {
            l.errors.push(syn::Error::new(
                item.block.brace_token.span.close(),
                "a #[differentiable] function must end with the expression it returns",
            ));
            None
        }
        Err(()) => None,
    };
    let queried = l.queried.take();
    let vars = l.vars;
    if errors.len() > before {
        return None;
    }
    let func = Func {
        vars,
        params,
        body,
        ret: ret?,
        captured: Vec::new(),
    };
    // Every choice was made on the marks the activity pass computes.
    debug_assert!({
        let mut g = func.clone();
        crate::pass::varied::run(&mut g);
        queried.iter().all(|&v| !g.vars[v].varied)
    });
    Some(func)
}

impl Lowerer<'_> {
    /// A body that contains `return`: the return slot (`Default::default()` of the
    /// result type until a `return` fills it) and flag, the tail written as `return tail;`,
    /// and the slot's value at the end as the result.
    fn lower_with_returns(
        &mut self,
        stmts: &[syn::Stmt],
        ret_ty: &syn::Type,
        end: Span,
    ) -> Res<Option<VarId>> {
        let span = Span::call_site();
        let init: Expr = syn::parse_quote_spanned!(span=> ::core::default::Default::default());
        let slot = self.opaque(&init);
        self.vars[slot].ty = Some(ret_ty.clone());
        self.bind(RETURN_VALUE.to_string(), slot, true);
        let flag: Expr = syn::parse_quote_spanned!(span=> false);
        let flag = self.opaque(&flag);
        self.bind(RETURN_FLAG.to_string(), flag, true);
        self.ret = Some(ReturnCtx {
            flag: RETURN_FLAG.to_string(),
            value: RETURN_VALUE.to_string(),
        });
        let mut stmts = stmts.to_vec();
        match stmts.last_mut() {
            Some(syn::Stmt::Expr(e, semi @ None)) => {
                let tail = e.clone();
                *e = Expr::Return(syn::ExprReturn {
                    attrs: Vec::new(),
                    return_token: syn::Token![return](tail.span()),
                    expr: Some(Box::new(tail)),
                });
                *semi = Some(Default::default());
            }
            Some(syn::Stmt::Expr(Expr::Return(_), Some(_))) => {}
            _ => {
                self.errors.push(syn::Error::new(
                    end,
                    "a #[differentiable] function must end with the expression it returns (or a `return`)",
                ));
                return Err(());
            }
        }
        self.lower_stmts(&stmts, false)?;
        Ok(self.lookup(RETURN_VALUE).map(|b| b.id))
    }

    /// `let name = |params| body;`: kept, with the bindings its body reads, to be inlined
    /// at each call.
    fn define_closure(&mut self, name: &syn::Ident, c: &syn::ExprClosure) {
        struct Names(Vec<String>);
        impl<'ast> Visit<'ast> for Names {
            fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
                if let Some(i) = p.path.get_ident() {
                    self.0.push(i.to_string());
                }
            }
        }
        let mut names = Names(Vec::new());
        names.visit_expr(&c.body);
        let captured = names
            .0
            .into_iter()
            .filter_map(|n| self.lookup(&n).map(|b| (n, b.id)))
            .collect();
        let placeholder = self.new_var(Some(name.to_string()), name.span(), false);
        self.closures.push((
            placeholder,
            ClosureDef {
                closure: c.clone(),
                captured,
            },
        ));
        self.bind(name.to_string(), placeholder, false);
    }

    fn closure_def(&self, id: VarId) -> Option<&ClosureDef> {
        self.closures.iter().find(|(v, _)| *v == id).map(|(_, d)| d)
    }

    fn mentions_closure(&self, e: &Expr) -> bool {
        !self.closures.is_empty() && self.refs(e).iter().any(|&v| self.closure_def(v).is_some())
    }

    /// `f(args)` for a closure `f` bound with `let`: its body, with its parameters bound to
    /// the arguments and the names it captured read as they were when it was defined.
    fn call_closure(&mut self, c: &syn::ExprCall) -> Option<Res<VarId>> {
        let Expr::Path(p) = &*c.func else { return None };
        let name = p.path.get_ident()?.to_string();
        let id = self.lookup(&name)?.id;
        let def = self.closure_def(id)?.clone();
        if def.closure.inputs.len() != c.args.len() {
            self.error(
                c,
                format!(
                    "the closure `{name}` takes {} argument(s), found {}",
                    def.closure.inputs.len(),
                    c.args.len()
                ),
            );
            return Some(Err(()));
        }
        // The arguments are evaluated where the call is, before the closure's scope; a
        // tuple argument for a tuple pattern element by element.
        let mut parts: Vec<(syn::Pat, &Expr)> = Vec::new();
        for (pat, a) in def.closure.inputs.iter().zip(&c.args) {
            flatten_argument(pat, a, &mut parts);
        }
        let mut args = Vec::new();
        for (pat, a) in parts {
            match self.lower_expr(a) {
                Ok(v) => args.push((pat, v)),
                Err(()) => return Some(Err(())),
            }
        }
        self.scopes.push(Vec::new());
        for (n, v) in &def.captured {
            self.bind(n.clone(), *v, false);
        }
        let mut stmts = Vec::new();
        for (k, (pat, v)) in args.into_iter().enumerate() {
            self.fresh += 1;
            let arg_name = format!("__ad_arg{}_{k}", self.fresh);
            self.bind(arg_name.clone(), v, false);
            let value = syn::Ident::new(&arg_name, c.span());
            iterators::bind(&pat, syn::parse_quote!(#value), &mut stmts);
        }
        let body = &def.closure.body;
        let block: Expr = syn::parse_quote!({ #(#stmts)* #body });
        let r = self.lower_expr(&block);
        self.scopes.pop();
        Some(r)
    }

    fn new_var(&mut self, name: Option<String>, span: Span, varied: bool) -> VarId {
        self.vars.push(VarInfo {
            name,
            by_ref: false,
            varied,
            useful: false,
            live: false,
            ty: None,
            span,
            field_of: None,
            seq: false,
        });
        self.vars.len() - 1
    }

    fn bind(&mut self, name: String, id: VarId, mutable: bool) {
        if let Some(scope) = self.scopes.last_mut() {
            scope.push(Binding { name, id, mutable });
        }
    }

    fn lookup(&self, name: &str) -> Option<&Binding> {
        self.scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|b| b.name == name)
    }

    fn lookup_mut(&mut self, name: &str) -> Option<&mut Binding> {
        self.scopes
            .iter_mut()
            .rev()
            .flat_map(|s| s.iter_mut().rev())
            .find(|b| b.name == name)
    }

    /// The ids of every visible binding, innermost last (to detect and undo assignments).
    fn snapshot(&self) -> Vec<VarId> {
        self.scopes
            .iter()
            .flat_map(|s| s.iter().map(|b| b.id))
            .collect()
    }

    fn restore(&mut self, snap: &[VarId]) {
        for (b, id) in self.scopes.iter_mut().flat_map(|s| s.iter_mut()).zip(snap) {
            b.id = *id;
        }
    }

    fn binding_names(&self) -> Vec<(String, bool)> {
        self.scopes
            .iter()
            .flat_map(|s| s.iter().map(|b| (b.name.clone(), b.mutable)))
            .collect()
    }

    /// `out = op(args)`. `out`'s forward-activity mark is set by `pass::varied`'s rule (a
    /// parameter keeps the mark it was created with).
    fn push_eqn(&mut self, out: VarId, op: Op, args: Vec<VarId>, span: Span) -> VarId {
        let e = Eqn {
            out,
            op,
            args,
            span,
        };
        if !matches!(e.op, Op::Param(_)) {
            let captured = match &e.op {
                Op::Map(inner) | Op::Fused(inner) | Op::FusedSum(inner) => &inner.captured[..],
                _ => &[],
            };
            for &a in e.args.iter().chain(captured) {
                // Only records the marks of a `from_fn` closure's enclosing values.
                self.varied_of(a);
            }
            self.vars[out].varied = crate::pass::varied::eqn(&e, &self.vars, &[]);
        }
        if let Some(s) = self.stmts.last_mut() {
            s.push(Stmt::Eqn(e));
        }
        out
    }

    /// The bindings an expression reads, in order of appearance.
    fn refs(&self, e: &Expr) -> Vec<VarId> {
        self.refs_except(e, "")
    }

    /// The bindings an expression reads, except `shadowed` (a closure's argument).
    fn refs_except(&self, e: &Expr, shadowed: &str) -> Vec<VarId> {
        struct Refs<'a, 'e> {
            l: &'a Lowerer<'e>,
            out: Vec<VarId>,
            shadowed: &'a str,
        }
        impl<'ast> Visit<'ast> for Refs<'_, '_> {
            fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
                if let Some(id) = p.path.get_ident().filter(|_| p.qself.is_none()) {
                    if *id == self.shadowed {
                        return;
                    }
                    if let Some(b) = self.l.lookup(&id.to_string()) {
                        if !self.out.contains(&b.id) {
                            self.out.push(b.id);
                        }
                    }
                }
            }
            // The elements of `vec![..]` are read too (syn does not look into macros).
            fn visit_expr_macro(&mut self, m: &'ast syn::ExprMacro) {
                if let Some(parts) = vec_macro(m) {
                    for e in parts.exprs() {
                        for v in self.l.refs_except(e, self.shadowed) {
                            if !self.out.contains(&v) {
                                self.out.push(v);
                            }
                        }
                    }
                }
            }
        }
        let mut r = Refs {
            l: self,
            out: Vec::new(),
            shadowed,
        };
        r.visit_expr(e);
        r.out
    }

    /// `e` with every variable it reads renamed to its SSA name.
    fn rename(&self, e: &Expr) -> Expr {
        self.rename_except(e, "")
    }

    /// [`Self::rename`], leaving `shadowed` (a closure's argument) as written.
    fn rename_except(&self, e: &Expr, shadowed: &str) -> Expr {
        struct Rename<'a, 'e> {
            l: &'a Lowerer<'e>,
            shadowed: &'a str,
        }
        impl VisitMut for Rename<'_, '_> {
            // `vec![..]` as the call it stands for, so that its elements are renamed.
            fn visit_expr_mut(&mut self, e: &mut Expr) {
                if let Expr::Macro(m) = e {
                    if let Some(parts) = vec_macro(m) {
                        *e = parts.call();
                    }
                }
                syn::visit_mut::visit_expr_mut(self, e);
            }
            fn visit_expr_path_mut(&mut self, p: &mut syn::ExprPath) {
                let found = p
                    .path
                    .get_ident()
                    .filter(|id| p.qself.is_none() && **id != self.shadowed)
                    .and_then(|id| self.l.lookup(&id.to_string()).map(|b| (b.id, id.span())));
                if let Some((id, span)) = found {
                    let mut ident = var_ident(id);
                    // Resolve at the call site (our `let`s live there) but point at the user's
                    // token: a name that came from a `macro_rules!` argument has that
                    // macro's hygiene, which would hide our bindings from it.
                    ident.set_span(Span::call_site().located_at(span));
                    p.path = ident.into();
                }
            }
        }
        let mut e = e.clone();
        Rename { l: self, shadowed }.visit_expr_mut(&mut e);
        e
    }

    /// Whether `v` is varied, for a choice of how to lower. A `false` is recorded, so
    /// that a loop whose body was lowered before its carried values' marks were known can
    /// tell whether the body would be lowered the same way under the marks the activity
    /// pass finds (`lower_loop`); a `true` stays true there (marks only grow towards the
    /// fixpoint).
    fn varied(&self, v: VarId) -> bool {
        let b = self.vars[v].varied;
        if !b {
            self.queried.borrow_mut().push(v);
        }
        b
    }

    /// `query`, a choice that holds when any of the marks it reads is set: when it holds,
    /// it holds at the fixpoint too, and the marks it read as unset do not matter.
    fn any_varied(&self, query: impl FnOnce() -> bool) -> bool {
        let mark = self.queried.borrow().len();
        let found = query();
        if found {
            self.queried.borrow_mut().truncate(mark);
        }
        found
    }

    /// Whether `v` is varied, to compute the mark of a value defined from it (the rule of
    /// `pass::varied`, which recomputes these marks). Recorded as a choice when `v` is
    /// outside a `from_fn` closure being lowered.
    fn varied_of(&self, v: VarId) -> bool {
        if v < self.enclosing {
            return self.varied(v);
        }
        self.vars[v].varied
    }

    fn reads_varied(&self, e: &Expr) -> bool {
        self.any_varied(|| self.refs(e).iter().any(|&v| self.varied(v)))
    }

    /// [`Self::reads_varied_beyond_sizes`], recorded as one choice.
    fn reads_varied_beyond_sizes(&self, e: &Expr) -> bool {
        self.any_varied(|| self.reads_beyond_sizes(e))
    }

    /// Whether `e` reads a differentiated value other than through its size
    /// (`alphas.len()`, `m.nrows()`, `m.shape()`), which carries no gradient: what loop
    /// bounds and indices may not do.
    fn reads_beyond_sizes(&self, e: &Expr) -> bool {
        struct Sizes<'a, 'e> {
            l: &'a Lowerer<'e>,
            found: bool,
        }
        impl<'ast> Visit<'ast> for Sizes<'_, '_> {
            fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
                if m.args.is_empty() && rules::is_size_query(&m.method.to_string()) {
                    return;
                }
                syn::visit::visit_expr_method_call(self, m);
            }
            fn visit_expr_path(&mut self, p: &'ast syn::ExprPath) {
                let e = Expr::Path(p.clone());
                self.found |= self.l.reads_varied(&e);
            }
            fn visit_expr_macro(&mut self, m: &'ast syn::ExprMacro) {
                if let Some(parts) = vec_macro(m) {
                    for e in parts.exprs() {
                        self.found |= self.l.reads_varied_beyond_sizes(e);
                    }
                }
            }
        }
        let mut v = Sizes {
            l: self,
            found: false,
        };
        v.visit_expr(e);
        v.found
    }

    /// Whether `e` can be kept whole as an opaque expression (no nested control flow).
    fn is_simple(e: &Expr) -> bool {
        struct Simple(bool);
        impl<'ast> Visit<'ast> for Simple {
            fn visit_expr(&mut self, e: &'ast Expr) {
                match e {
                    Expr::Block(_)
                    | Expr::If(_)
                    | Expr::ForLoop(_)
                    | Expr::While(_)
                    | Expr::Loop(_)
                    | Expr::Match(_)
                    | Expr::Return(_)
                    | Expr::Break(_)
                    | Expr::Continue(_)
                    | Expr::Let(_)
                    | Expr::Assign(_) => self.0 = false,
                    _ => syn::visit::visit_expr(self, e),
                }
            }
        }
        let mut s = Simple(true);
        s.visit_expr(e);
        s.0
    }

    /// Whether `e` calls a method or op function that has a rule (`abs`, `tanh`,
    /// `component_mul`, `relu`, ...). Such an expression is lowered op by op even when
    /// nothing in it is differentiated, so that it means the same as it would on a
    /// differentiated value (`x.abs() + 1.0` on a matrix is a broadcast, which plain
    /// nalgebra code does not accept). Other constant expressions (`i as f64`, `n + 1`,
    /// `v.len()`) are kept as written.
    fn uses_rules(e: &Expr) -> bool {
        struct Uses(bool);
        impl<'ast> Visit<'ast> for Uses {
            fn visit_expr_method_call(&mut self, m: &'ast syn::ExprMethodCall) {
                let name = m.method.to_string();
                if name == "map" || rules::method(&name).is_some_and(|e| e.shape != Shape::NonDiff)
                {
                    self.0 = true;
                }
                syn::visit::visit_expr_method_call(self, m);
            }
            fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
                if let Expr::Path(p) = &*c.func {
                    if let Some(last) = p.path.segments.last() {
                        if rules::function(&last.ident.to_string()).is_some() {
                            self.0 = true;
                        }
                    }
                }
                syn::visit::visit_expr_call(self, c);
            }
            fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}
        }
        let mut u = Uses(false);
        u.visit_expr(e);
        u.0
    }

    fn opaque(&mut self, e: &Expr) -> VarId {
        let args = self.refs(e);
        let mut renamed = self.rename(e);
        crate::generics::disambiguate(&mut renamed);
        let out = self.new_var(None, e.span(), false);
        // `&xs[i]`: the value is a reference, passed to rules as it is.
        self.vars[out].by_ref = matches!(e, Expr::Reference(_));
        self.push_eqn(out, Op::Opaque(renamed), args, e.span())
    }

    fn error(&mut self, tokens: impl ToTokens, msg: impl std::fmt::Display) {
        self.errors.push_spanned(tokens, msg);
    }

    /// Lowers statements; returns the value of the tail expression when `want_value`.
    fn lower_stmts(&mut self, stmts: &[syn::Stmt], want_value: bool) -> Res<Option<VarId>> {
        let mut value = None;
        for (i, stmt) in stmts.iter().enumerate() {
            let last = i + 1 == stmts.len();
            if let syn::Stmt::Local(local) = stmt {
                if let Some(init) = &local.init {
                    if let Some((_, diverge)) = &init.diverge {
                        let rest = &stmts[i + 1..];
                        return self.lower_let_else(local, init, diverge, rest, want_value);
                    }
                }
            }
            // A statement that fails is reported and skipped, so later ones are checked too.
            match stmt {
                syn::Stmt::Local(local) => {
                    let _ = self.lower_local(local);
                }
                syn::Stmt::Expr(e, semi) => {
                    if last && semi.is_none() && want_value {
                        value = Some(self.lower_expr(e)?);
                    } else {
                        let _ = self.lower_stmt_expr(e);
                    }
                }
                syn::Stmt::Item(item) => self.error(
                    item,
                    "items are not supported in #[differentiable] functions; define them outside the function",
                ),
                syn::Stmt::Macro(m) => self.error(
                    &m.mac,
                    "macro calls are not supported in #[differentiable] functions; compute values outside and pass them in",
                ),
            }
            // After a statement that may exit, the rest runs only when it did not.
            if !last {
                if let Some(r) = self.lower_rest_guarded(stmt, &stmts[i + 1..], want_value) {
                    return r;
                }
            }
        }
        Ok(value)
    }

    fn lower_local(&mut self, local: &syn::Local) -> Res<()> {
        let (pat, ty) = match &local.pat {
            syn::Pat::Type(pt) => (&*pt.pat, Some((*pt.ty).clone())),
            p => (p, None),
        };
        let Some(init) = &local.init else {
            self.error(
                local,
                "a `let` in a #[differentiable] function needs a value: `let x = ...;`",
            );
            return Err(());
        };
        match pat {
            syn::Pat::Ident(pi)
                if pi.subpat.is_none() && matches!(&*init.expr, Expr::Closure(_)) =>
            {
                let Expr::Closure(c) = &*init.expr else {
                    return Err(());
                };
                self.define_closure(&pi.ident, c);
                Ok(())
            }
            syn::Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                let before = self.vars.len();
                let v = self.lower_expr(&init.expr)?;
                let fresh = v >= before;
                if fresh {
                    if self.vars[v].name.is_none() {
                        self.vars[v].name = Some(pi.ident.to_string());
                    }
                    // `let a = self.a;` copies the field (the only way it compiles as
                    // written), so the binding is an owned value, not a borrow of it: the
                    // projection itself is the copy. (Other by-value uses of a borrowed
                    // field copy where they use it: `codegen::owned`.)
                    if matches!(&*init.expr, Expr::Field(_)) {
                        self.vars[v].by_ref = false;
                    }
                    if ty.is_some() {
                        self.vars[v].ty = ty;
                    }
                }
                self.bind(pi.ident.to_string(), v, pi.mutability.is_some());
                Ok(())
            }
            syn::Pat::Wild(_) => {
                self.lower_expr(&init.expr)?;
                Ok(())
            }
            syn::Pat::Tuple(_) | syn::Pat::Struct(_) => self.lower_destructure(pat, &init.expr),
            other => {
                self.error(
                    other,
                    "only names, `_`, tuples `(a, b)` and struct patterns `Model { w, b }` can be bound by `let` in #[differentiable] functions",
                );
                Err(())
            }
        }
    }

    fn assign(&mut self, target: &Expr, value: VarId) -> Res<()> {
        if let Expr::Index(ix) = target {
            return self.assign_element(ix, value);
        }
        let name = match target {
            Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
            _ => None,
        };
        let Some(name) = name else {
            self.error(
                target,
                "only assignment to a variable (`x = ...`) or to an element of a local vector or matrix (`out[i] = ...`, `m[(i, j)] = ...`) is supported in #[differentiable] functions",
            );
            return Err(());
        };
        match self.lookup_mut(&name) {
            Some(b) if b.mutable => {
                b.id = value;
                if self.vars[value].name.is_none() {
                    self.vars[value].name = Some(name);
                }
                Ok(())
            }
            Some(_) => {
                self.error(
                    target,
                    format!("cannot assign twice to `{name}`: declare it with `let mut {name}`"),
                );
                Err(())
            }
            None => {
                self.error(target, format!("cannot find variable `{name}`"));
                Err(())
            }
        }
    }

    /// `out[i] = value`: `out` becomes `index_set(out, value, i)`, with the gradient of
    /// both (the old element's is zero: it was overwritten).
    fn assign_element(&mut self, ix: &syn::ExprIndex, value: VarId) -> Res<()> {
        if self.reads_varied_beyond_sizes(&ix.index) {
            self.error(
                &ix.index,
                "an index must not depend on a differentiated value",
            );
            return Err(());
        }
        let old = match &*ix.expr {
            Expr::Path(p) if p.qself.is_none() => p.path.get_ident().and_then(|i| {
                let b = self.lookup(&i.to_string())?;
                Some((b.id, b.mutable, i.to_string()))
            }),
            _ => None,
        };
        let Some((old, mutable, name)) = old else {
            self.error(
                &ix.expr,
                "only elements of a local vector or matrix can be written (`out[i] = ...` with `let mut out = vec![0.0; n];`)",
            );
            return Err(());
        };
        if !mutable {
            self.error(
                &ix.expr,
                format!(
                    "cannot assign to an element of `{name}`: declare it with `let mut {name}`"
                ),
            );
            return Err(());
        }
        if self.vars[old].by_ref {
            self.error(
                &ix.expr,
                format!("`{name}` is borrowed; write into an owned copy: `let mut {name} = {name}.clone();`"),
            );
            return Err(());
        }
        let idx = self.opaque(&ix.index);
        let path: syn::Path = syn::parse_quote!(::autodiff::__private::index_set);
        let new = self.push_call(
            path,
            vec![false, false, false],
            vec![old, value, idx],
            ix.span(),
        );
        self.vars[new].name = Some(name.clone());
        if let Some(b) = self.lookup_mut(&name) {
            b.id = new;
        }
        Ok(())
    }

    fn lower_stmt_expr(&mut self, e: &Expr) -> Res<()> {
        match e {
            Expr::Assign(a) => {
                let v = self.lower_expr(&a.right)?;
                self.assign(&a.left, v)
            }
            // `a op= b` is `a = a op (b)`: differentiated as that, and kept as written where
            // nothing in it is differentiated (`idx += 1` on a `usize`).
            Expr::Binary(b) if simple_op(&b.op).is_some() => {
                let op = simple_op(&b.op).ok_or(())?;
                let right = Expr::Paren(syn::ExprParen {
                    attrs: Vec::new(),
                    paren_token: Default::default(),
                    expr: b.right.clone(),
                });
                let value = Expr::Binary(syn::ExprBinary {
                    attrs: Vec::new(),
                    left: b.left.clone(),
                    op,
                    right: Box::new(right),
                });
                let v = self.lower_expr(&value)?;
                self.assign(&b.left, v)
            }
            Expr::If(i) => self.lower_if(i, false).map(|_| ()),
            Expr::Match(m) => self.lower_match(m, false).map(|_| ()),
            Expr::ForLoop(f) => self.lower_for(f),
            Expr::While(w) => self.lower_while(w),
            Expr::Loop(l) => self.lower_loop_expr(l, false).map(|_| ()),
            Expr::Break(b) => self.lower_break(b),
            Expr::Continue(c) => self.lower_continue(c),
            Expr::Return(r) => self.lower_return(r),
            Expr::Block(b) => {
                self.scopes.push(Vec::new());
                let r = self.lower_stmts(&b.block.stmts, false);
                self.scopes.pop();
                r.map(|_| ())
            }
            Expr::Paren(p) => self.lower_stmt_expr(&p.expr),
            other if self.refuse_in_place(other) => Err(()),
            other => {
                self.error(
                    other,
                    "this statement has no effect; statements in #[differentiable] functions are `let`, assignments, `if` and `for`",
                );
                Err(())
            }
        }
    }

    fn apply_unary(&mut self, entry: Entry, x: VarId, param: Option<VarId>, span: Span) -> VarId {
        let out = self.new_var(None, span, false);
        let rule = RuleRef {
            param,
            ..RuleRef::new(entry.op.expect("a differentiable entry has an op"))
        };
        self.push_eqn(out, Op::Unary(rule), vec![x], span)
    }

    fn apply_binary(
        &mut self,
        entry: Entry,
        a: VarId,
        b: VarId,
        param: Option<VarId>,
        span: Span,
    ) -> VarId {
        let out = self.new_var(None, span, false);
        let rule = RuleRef {
            param,
            ..RuleRef::new(entry.op.expect("a differentiable entry has an op"))
        };
        self.push_eqn(out, Op::Binary(rule), vec![a, b], span)
    }

    fn lower_expr(&mut self, e: &Expr) -> Res<VarId> {
        match e {
            Expr::Paren(p) => return self.lower_expr(&p.expr),
            Expr::Group(g) => return self.lower_expr(&g.expr),
            // A borrow of a constant (`&c.sd`, `&e[0]`) is kept as written.
            Expr::Reference(r)
                if !(Self::is_simple(e) && !self.reads_varied(e) && !Self::uses_rules(e)) =>
            {
                return self.lower_expr(&r.expr)
            }
            Expr::Block(b) if b.label.is_none() => {
                self.scopes.push(Vec::new());
                let r = self.lower_stmts(&b.block.stmts, true);
                self.scopes.pop();
                return match r? {
                    Some(v) => Ok(v),
                    None => {
                        self.error(b, "this block has no value; end it with an expression");
                        Err(())
                    }
                };
            }
            Expr::If(i) => return self.lower_if(i, true)?.ok_or(()),
            Expr::Match(m) => return self.lower_match(m, true)?.ok_or(()),
            Expr::Loop(l) => return self.lower_loop_expr(l, true)?.ok_or(()),
            Expr::Macro(m) => {
                if let Some(parts) = vec_macro(m) {
                    if parts.exprs().iter().any(|p| self.reads_varied(p)) {
                        return self.lower_vec_macro(&parts, m.span());
                    }
                    return Ok(self.opaque(&parts.call()));
                }
            }
            _ => {}
        }
        if let Expr::Path(p) = e {
            if let Some(ident) = p.path.get_ident().filter(|_| p.qself.is_none()) {
                if let Some(b) = self.lookup(&ident.to_string()) {
                    let id = b.id;
                    if self.closure_def(id).is_some() {
                        self.error(
                            p,
                            format!("the closure `{ident}` can only be called here (`{ident}(..)`); #[differentiable] inlines it where it is called"),
                        );
                        return Err(());
                    }
                    return Ok(id);
                }
            }
        }
        if let Expr::Call(c) = e {
            if let Some(r) = self.call_closure(c) {
                return r;
            }
        }
        // Sizes of differentiated values (`x.len()`) carry no gradient.
        if Self::is_simple(e)
            && !self.reads_varied_beyond_sizes(e)
            && !Self::uses_rules(e)
            && !self.mentions_closure(e)
        {
            return Ok(self.opaque(e));
        }
        match e {
            Expr::Unary(u) => match u.op {
                UnOp::Neg(_) => {
                    let x = self.lower_expr(&u.expr)?;
                    Ok(self.apply_unary(rules::negation(), x, None, e.span()))
                }
                UnOp::Deref(_) => self.lower_expr(&u.expr),
                _ => Ok(self.opaque(e)),
            },
            Expr::Binary(b) => match rules::operator(&b.op) {
                Some(entry) if !is_compound(&b.op) => {
                    let lhs = self.lower_expr(&b.left)?;
                    let rhs = self.lower_expr(&b.right)?;
                    Ok(self.apply_binary(entry, lhs, rhs, None, e.span()))
                }
                Some(_) => {
                    self.error(
                        e,
                        "compound assignment is a statement; write it on its own line",
                    );
                    Err(())
                }
                None => Ok(self.opaque(e)),
            },
            Expr::Cast(c) => self.lower_cast(c),
            Expr::MethodCall(m) => self.lower_method(m),
            Expr::Call(c) => self.lower_call(c),
            Expr::Field(f) => {
                let base = self.lower_expr(&f.base)?;
                Ok(self.project(base, f.member.clone(), e.span()))
            }
            Expr::Index(ix) => self.lower_index(ix),
            Expr::Tuple(t) => self.lower_tuple(t),
            Expr::Array(a) => self.lower_array(a),
            Expr::Struct(s) => self.lower_struct(s),
            Expr::Path(p) => Ok(self.opaque(&Expr::Path(p.clone()))),
            other => {
                self.error(
                    other,
                    "this expression is not supported on differentiated values in #[differentiable] functions",
                );
                Err(())
            }
        }
    }

    /// `x as f32` / `x as f64` on a differentiated float is differentiable (PyTorch's
    /// `.float()`, `.double()`); a cast to an integer cuts the gradient, as in PyTorch.
    fn lower_cast(&mut self, c: &syn::ExprCast) -> Res<VarId> {
        let target = match &*c.ty {
            syn::Type::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
            _ => None,
        };
        let name = match target.as_deref() {
            Some("f32") => "cast_f32",
            Some("f64") => "cast_f64",
            _ => return Ok(self.opaque(&Expr::Cast(c.clone()))),
        };
        let x = self.lower_expr(&c.expr)?;
        if !self.varied(x) {
            return Ok(self.opaque(&Expr::Cast(c.clone())));
        }
        let ident = format_ident!("{}", name);
        let path: syn::Path = syn::parse_quote!(::autodiff::__private::#ident);
        Ok(self.push_call(path, vec![false], vec![x], c.span()))
    }

    fn lower_index(&mut self, ix: &syn::ExprIndex) -> Res<VarId> {
        if self.reads_varied_beyond_sizes(&ix.index) {
            self.error(
                &ix.index,
                "an index must not depend on a differentiated value",
            );
            return Err(());
        }
        let base = self.lower_expr(&ix.expr)?;
        let (op, idx) = match &*ix.index {
            Expr::Tuple(t) if t.elems.len() == 2 => (OpId::Index2, Expr::Tuple(t.clone())),
            other => (OpId::Index, other.clone()),
        };
        let idx_var = self.opaque(&idx);
        let entry = Entry {
            op: Some(op),
            shape: Shape::UnaryParam,
        };
        Ok(self.apply_unary(entry, base, Some(idx_var), ix.span()))
    }

    fn lower_method(&mut self, m: &syn::ExprMethodCall) -> Res<VarId> {
        if let Some(block) = self.reduce_chain(m) {
            return self.lower_expr(&block?);
        }
        let name = m.method.to_string();
        let on_self =
            matches!(&*m.receiver, Expr::Path(p) if p.path.is_ident(crate::methods::SELF));
        if let Some(sib) = self
            .siblings
            .iter()
            .find(|s| on_self && s.name == name)
            .cloned()
        {
            // `self.other(..)`: a call of the other method's free function.
            let mut args = vec![self.lower_expr(&m.receiver)?];
            let mut borrowed = vec![sib.by_ref];
            for a in &m.args {
                borrowed.push(matches!(a, Expr::Reference(_)));
                args.push(self.lower_expr(a)?);
            }
            return Ok(self.push_call(sib.free.into(), borrowed, args, m.span()));
        }
        if name == "map" && m.args.len() == 1 {
            if let Expr::Closure(c) = &m.args[0] {
                return self.lower_map(m, c);
            }
        }
        if name == "clone" && m.args.is_empty() {
            let x = self.lower_expr(&m.receiver)?;
            if !self.vars[x].by_ref || !self.varied(x) {
                return Ok(x);
            }
            // An owned copy of a borrowed differentiated value (`h0.clone()`), so that it
            // can be reassigned from owned values (`h = block(w, &h)` in a loop).
            let path: syn::Path = syn::parse_quote!(::autodiff::__private::clone_value);
            return Ok(self.push_call(path, vec![true], vec![x], m.span()));
        }
        if let Some(view) = self.lower_view(m) {
            return view;
        }
        let Some(entry) = rules::method(&name) else {
            if !self.reads_varied(&Expr::MethodCall(m.clone())) {
                return Ok(self.opaque(&Expr::MethodCall(m.clone())));
            }
            self.error(
                &m.method,
                format!(
                    "unknown method `{name}` on a differentiated value; #[differentiable] supports {}",
                    rules::supported_methods()
                ),
            );
            return Err(());
        };
        let expected = match entry.shape {
            Shape::Unary => 0,
            Shape::UnaryParam | Shape::Binary => 1,
            Shape::Ternary => 2,
            // Lowered by `lower_view` above.
            Shape::UnaryParams => return Err(()),
            Shape::NonDiff => return Ok(self.opaque(&Expr::MethodCall(m.clone()))),
        };
        if m.args.len() != expected {
            self.error(
                m,
                format!(
                    "`{name}` takes {expected} argument(s) here, found {}",
                    m.args.len()
                ),
            );
            return Err(());
        }
        let x = self.lower_expr(&m.receiver)?;
        match entry.shape {
            Shape::Unary => Ok(self.apply_unary(entry, x, None, m.span())),
            Shape::UnaryParam => {
                if self.reads_varied(&m.args[0]) {
                    self.error(
                        &m.args[0],
                        format!("the argument of `{name}` must not depend on a differentiated value; use `powf` for a differentiated exponent"),
                    );
                    return Err(());
                }
                let p = self.opaque(&m.args[0]);
                Ok(self.apply_unary(entry, x, Some(p), m.span()))
            }
            Shape::Ternary => {
                // A call of the runtime's function of that name, which differentiates
                // all three operands.
                let op = entry.op.expect("a ternary entry has an op");
                let mut args = vec![x];
                for a in &m.args {
                    args.push(self.lower_expr(a)?);
                }
                let borrowed = vec![false; args.len()];
                Ok(self.push_call(rules::call_path(op), borrowed, args, m.span()))
            }
            _ => {
                let y = self.lower_expr(&m.args[0])?;
                Ok(self.apply_binary(entry, x, y, None, m.span()))
            }
        }
    }

    /// `x.map(|e| body)`: the body becomes a scalar function of `e` with its own IR.
    fn lower_map(&mut self, m: &syn::ExprMethodCall, c: &syn::ExprClosure) -> Res<VarId> {
        let param = match c.inputs.iter().collect::<Vec<_>>().as_slice() {
            [syn::Pat::Ident(pi)] => pi.ident.clone(),
            [syn::Pat::Type(pt)] => match &*pt.pat {
                syn::Pat::Ident(pi) => pi.ident.clone(),
                other => {
                    self.error(
                        other,
                        "the `map` closure takes one named argument: `|e| ...`",
                    );
                    return Err(());
                }
            },
            _ => {
                self.error(
                    &c.inputs,
                    "the `map` closure takes one named argument: `|e| ...`",
                );
                return Err(());
            }
        };
        let pname = param.to_string();
        let hoisted = self.hoist_projections(&c.body, &pname)?;
        let captured = self.refs_except(&hoisted, &pname);
        let body = self.rename_except(&hoisted, &pname);
        let x = self.lower_expr(&m.receiver)?;
        // The closure's variables are numbered after the enclosing function's, so its
        // generated names never shadow an enclosing value the body reads.
        let placeholder = VarInfo {
            name: None,
            by_ref: false,
            varied: false,
            useful: false,
            live: false,
            ty: None,
            span: c.span(),
            field_of: None,
            seq: false,
        };
        let mut nested = Lowerer {
            errors: &mut *self.errors,
            vars: vec![placeholder; self.vars.len()],
            scopes: vec![Vec::new()],
            stmts: vec![Vec::new()],
            loops: Vec::new(),
            ret: None,
            fresh: 0,
            siblings: Vec::new(),
            closures: Vec::new(),
            queried: Default::default(),
            enclosing: 0,
        };
        let pvar = nested.new_var(Some(pname.clone()), param.span(), true);
        nested.push_eqn(pvar, Op::Param(0), Vec::new(), param.span());
        nested.bind(pname, pvar, false);
        let ret = nested.lower_expr(&body);
        let func_body = Block {
            stmts: nested.stmts.pop().unwrap_or_default(),
        };
        let mut func = Func {
            vars: nested.vars,
            params: vec![Param {
                ident: param,
                wrt: true,
                var: pvar,
                seq: false,
            }],
            body: func_body,
            ret: ret?,
            captured,
        };
        crate::pass::activity::run(&mut func);
        crate::pass::dce::run(&mut func);
        let reads_varied = self.any_varied(|| func.captured.iter().any(|&v| self.varied(v)));
        let out = self.new_var(None, m.span(), false);
        // A closure that reads a differentiated value from outside is differentiated as
        // the matrix operations it stands for (`|e| e * t` is `x * t`).
        if reads_varied && !crate::pass::inline_map::can_inline(x, out, &func, &self.vars) {
            self.error(
                &c.body,
                "this `map` closure reads a differentiated value from outside, so it must be elementwise arithmetic and functions of its argument and that value (`|e| (e * t).tanh()`); write other bodies with matrix operations",
            );
            return Err(());
        }
        Ok(self.push_eqn(out, Op::Map(Box::new(func)), vec![x], m.span()))
    }

    fn lower_call(&mut self, c: &syn::ExprCall) -> Res<VarId> {
        let Expr::Path(fp) = &*c.func else {
            self.error(
                &c.func,
                "only calls of named functions are supported in #[differentiable] functions",
            );
            return Err(());
        };
        let last = fp
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        if last == "stop_gradient" {
            if c.args.len() != 1 {
                self.error(c, "`stop_gradient` takes one argument");
                return Err(());
            }
            let x = self.lower_expr(&c.args[0])?;
            let out = self.new_var(None, c.span(), false);
            self.vars[out].by_ref = false;
            return Ok(self.push_eqn(out, Op::StopGradient, vec![x], c.span()));
        }
        // `f64::exp(x)`, `f32::max(a, b)`: a method of the float types in path-call syntax
        // is the method call on its first argument.
        if let Some(m) = float_method_call(fp, c) {
            return self.lower_method(&m);
        }
        if let Some(r) = self.lower_constructor_call(c) {
            return r;
        }
        if let Some(entry) = rules::function(&last) {
            let expected = if entry.shape == Shape::Binary { 2 } else { 1 };
            if c.args.len() != expected {
                self.error(
                    c,
                    format!(
                        "`{last}` takes {expected} argument(s), found {}",
                        c.args.len()
                    ),
                );
                return Err(());
            }
            let x = self.lower_expr(&c.args[0])?;
            if entry.shape == Shape::Binary {
                let y = self.lower_expr(&c.args[1])?;
                return Ok(self.apply_binary(entry, x, y, None, c.span()));
            }
            return Ok(self.apply_unary(entry, x, None, c.span()));
        }
        let mut args = Vec::new();
        let mut borrowed = Vec::new();
        for a in &c.args {
            borrowed.push(matches!(a, Expr::Reference(_)));
            args.push(self.lower_expr(a)?);
        }
        Ok(self.push_call(fp.path.clone(), borrowed, args, c.span()))
    }

    /// `out = path(args)`, a call of a differentiable function (the user's, or a runtime
    /// op such as `clamp`); `out` is differentiated when any argument is.
    fn push_call(
        &mut self,
        path: syn::Path,
        borrowed: Vec<bool>,
        args: Vec<VarId>,
        span: Span,
    ) -> VarId {
        let out = self.new_var(None, span, false);
        let op = Op::Call {
            path,
            borrowed,
            recompute: false,
        };
        self.push_eqn(out, op, args, span)
    }
}

fn is_compound(op: &BinOp) -> bool {
    matches!(
        op,
        BinOp::AddAssign(_) | BinOp::SubAssign(_) | BinOp::MulAssign(_) | BinOp::DivAssign(_)
    )
}

/// The arguments of `vec![..]`.
#[allow(clippy::large_enum_variant)] // one per `vec!`, never stored
pub(crate) enum VecMacro {
    /// `vec![x; n]`.
    Repeat(Expr, Expr),
    /// `vec![a, b, c]`.
    List(Vec<Expr>),
}

impl VecMacro {
    /// The expressions inside.
    pub fn exprs(&self) -> Vec<&Expr> {
        match self {
            VecMacro::Repeat(x, n) => vec![x, n],
            VecMacro::List(items) => items.iter().collect(),
        }
    }

    /// The same vector built by a function call (whose variables can be renamed).
    fn call(&self) -> Expr {
        match self {
            VecMacro::Repeat(x, n) => syn::parse_quote!(
                ::autodiff::__private::vec_of(#x, #n)
            ),
            VecMacro::List(items) => syn::parse_quote!(::std::vec::Vec::from([#(#items),*])),
        }
    }
}

/// `vec![..]` as its arguments, or `None` for another macro.
pub(crate) fn vec_macro(m: &syn::ExprMacro) -> Option<VecMacro> {
    if !m.mac.path.is_ident("vec") {
        return None;
    }
    let parse = |input: syn::parse::ParseStream| -> syn::Result<VecMacro> {
        if input.is_empty() {
            return Ok(VecMacro::List(Vec::new()));
        }
        let first: Expr = input.parse()?;
        if input.peek(syn::Token![;]) {
            input.parse::<syn::Token![;]>()?;
            let n: Expr = input.parse()?;
            return Ok(VecMacro::Repeat(first, n));
        }
        let mut items = vec![first];
        while input.peek(syn::Token![,]) {
            input.parse::<syn::Token![,]>()?;
            if input.is_empty() {
                break;
            }
            items.push(input.parse()?);
        }
        Ok(VecMacro::List(items))
    };
    syn::parse::Parser::parse2(parse, m.mac.tokens.clone()).ok()
}

/// The parts of a closure argument: a tuple value for a tuple pattern element by element,
/// anything else whole (types and `&` taken off the pattern).
fn flatten_argument<'a>(pat: &syn::Pat, arg: &'a Expr, out: &mut Vec<(syn::Pat, &'a Expr)>) {
    match (pat, arg) {
        (syn::Pat::Type(pt), a) => flatten_argument(&pt.pat, a, out),
        (syn::Pat::Paren(p), a) => flatten_argument(&p.pat, a, out),
        (syn::Pat::Tuple(pt), Expr::Tuple(t)) if pt.elems.len() == t.elems.len() => {
            for (p, a) in pt.elems.iter().zip(&t.elems) {
                flatten_argument(p, a, out);
            }
        }
        (syn::Pat::Tuple(pt), Expr::Paren(p)) => {
            flatten_argument(&syn::Pat::Tuple(pt.clone()), &p.expr, out)
        }
        (p, a) => out.push((p.clone(), a)),
    }
}

/// `f64::name(a, rest..)` (or `f32::`, `core::f64::`, `std::f64::`) where `name` is a method
/// the macro knows, as the method call `a.name(rest..)`.
fn float_method_call(fp: &syn::ExprPath, c: &syn::ExprCall) -> Option<syn::ExprMethodCall> {
    let segments: Vec<String> = fp
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let (ty, name) = match segments.as_slice() {
        [ty, name] => (ty.as_str(), name),
        [root, ty, name] if root == "std" || root == "core" => (ty.as_str(), name),
        _ => return None,
    };
    if !matches!(ty, "f64" | "f32") || fp.qself.is_some() || rules::method(name).is_none() {
        return None;
    }
    call_as_method(c, fp.path.segments.last()?.ident.clone())
}

/// The call `Ty::method(a, rest..)` as the method call `a.method(rest..)`; `None` without
/// arguments.
pub(crate) fn call_as_method(c: &syn::ExprCall, method: syn::Ident) -> Option<syn::ExprMethodCall> {
    let mut args = c.args.iter().cloned();
    let receiver = args.next()?;
    Some(syn::ExprMethodCall {
        attrs: Vec::new(),
        receiver: Box::new(receiver),
        dot_token: Default::default(),
        method,
        turbofish: None,
        paren_token: c.paren_token,
        args: args.collect(),
    })
}

/// The operator of a compound assignment (`+` for `+=`), spanned as written.
fn simple_op(op: &BinOp) -> Option<BinOp> {
    use syn::token;
    Some(match op {
        BinOp::AddAssign(t) => BinOp::Add(token::Plus(t.spans[0])),
        BinOp::SubAssign(t) => BinOp::Sub(token::Minus(t.spans[0])),
        BinOp::MulAssign(t) => BinOp::Mul(token::Star(t.spans[0])),
        BinOp::DivAssign(t) => BinOp::Div(token::Slash(t.spans[0])),
        BinOp::RemAssign(t) => BinOp::Rem(token::Percent(t.spans[0])),
        BinOp::BitXorAssign(t) => BinOp::BitXor(token::Caret(t.spans[0])),
        BinOp::BitAndAssign(t) => BinOp::BitAnd(token::And(t.spans[0])),
        BinOp::BitOrAssign(t) => BinOp::BitOr(token::Or(t.spans[0])),
        BinOp::ShlAssign(t) => BinOp::Shl(token::Shl([t.spans[0], t.spans[1]])),
        BinOp::ShrAssign(t) => BinOp::Shr(token::Shr([t.spans[0], t.spans[1]])),
        _ => return None,
    })
}
