//! Loops and iterator chains over slices, vectors and ranges, written as index loops.
//!
//! `for v in x.iter()`, `for (i, v) in x.iter().enumerate()`, `for (a, b) in
//! x.iter().zip(y)` and chains ending in `sum()`, `product()` or `fold(init, |acc, v| ..)`
//! (through `map`, `zip`, `enumerate`, `copied`, `cloned`) become `for` loops over
//! `0..len` that read `x[i]`: the element of a differentiated sequence is then an
//! [`Index`](autodiff_ops::OpId::Index) of it, with its gradient, and a `map` closure is
//! inlined into the loop body, so it may read any differentiated value around it.

use super::{Lowerer, Res};
use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::Expr;

/// An iterator chain read as an index loop: its length and its element at index `i`.
struct Chain {
    len: Expr,
    elem: Box<dyn Fn(&Expr) -> Expr>,
}

/// The closure's parameter and body, for `map` and `fold`.
fn closure_parts(e: &Expr, arity: usize) -> Option<(Vec<syn::Pat>, Expr)> {
    let Expr::Closure(c) = e else { return None };
    if c.inputs.len() != arity {
        return None;
    }
    let pats = c
        .inputs
        .iter()
        .map(|p| match p {
            syn::Pat::Type(pt) => (*pt.pat).clone(),
            p => p.clone(),
        })
        .collect();
    Some((pats, (*c.body).clone()))
}

/// `let pat = value;` as statements, a tuple pattern over a tuple value split into one
/// `let` per element and `&v` read as `v` (elements are read by value), so that only
/// plain bindings remain.
pub(super) fn bind(pat: &syn::Pat, value: Expr, out: &mut Vec<syn::Stmt>) {
    match (pat, value) {
        (syn::Pat::Reference(r), value) => bind(&r.pat, value, out),
        (syn::Pat::Paren(p), value) => bind(&p.pat, value, out),
        (syn::Pat::Tuple(pt), Expr::Tuple(t)) if pt.elems.len() == t.elems.len() => {
            for (p, v) in pt.elems.iter().zip(t.elems) {
                bind(p, v, out);
            }
        }
        (syn::Pat::Wild(_), _) => {}
        (pat, value) => out.push(syn::parse_quote_spanned!(pat.span()=> let #pat = #value;)),
    }
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Paren(p) => strip(&p.expr),
        Expr::Reference(r) => strip(&r.expr),
        Expr::Group(g) => strip(&g.expr),
        e => e,
    }
}

/// `e` as an iterator chain, or `None` when it is not one this lowering reads;
/// `by_ref(x)` tells whether the elements of sequence `x` are read as `&x[i]`.
fn chain(e: &Expr, by_ref: &dyn Fn(&Expr) -> bool) -> Option<Chain> {
    match strip(e) {
        Expr::Range(r) => {
            let lo = r.start.as_deref().cloned()?;
            let hi = r.end.as_deref().cloned()?;
            let len: Expr = match r.limits {
                syn::RangeLimits::HalfOpen(_) => syn::parse_quote!(((#hi) - (#lo))),
                syn::RangeLimits::Closed(_) => syn::parse_quote!(((#hi) + 1 - (#lo))),
            };
            Some(Chain {
                len,
                elem: Box::new(move |i| syn::parse_quote!(((#lo) + #i))),
            })
        }
        Expr::MethodCall(m) => {
            let name = m.method.to_string();
            match (name.as_str(), m.args.len()) {
                ("iter" | "into_iter", 0) => seq(&m.receiver, by_ref),
                ("copied" | "cloned", 0) => chain(&m.receiver, &|_| false),
                ("rev", 0) => {
                    let inner = chain(&m.receiver, by_ref)?;
                    let (len, elem) = (inner.len, inner.elem);
                    let n = len.clone();
                    Some(Chain {
                        len,
                        elem: Box::new(move |i| elem(&syn::parse_quote!((#n - 1 - #i)))),
                    })
                }
                ("enumerate", 0) => {
                    let inner = chain(&m.receiver, by_ref)?;
                    let elem = inner.elem;
                    Some(Chain {
                        len: inner.len,
                        elem: Box::new(move |i| {
                            let e = elem(i);
                            syn::parse_quote!((#i, #e))
                        }),
                    })
                }
                ("zip", 1) => {
                    let a = chain(&m.receiver, by_ref)?;
                    let b = chain(&m.args[0], by_ref).or_else(|| seq(&m.args[0], by_ref))?;
                    let (la, lb) = (a.len, b.len);
                    let (ea, eb) = (a.elem, b.elem);
                    Some(Chain {
                        len: syn::parse_quote!(::core::cmp::min(#la, #lb)),
                        elem: Box::new(move |i| {
                            let (x, y) = (ea(i), eb(i));
                            syn::parse_quote!((#x, #y))
                        }),
                    })
                }
                ("map", 1) => {
                    let inner = chain(&m.receiver, by_ref)?;
                    let (pats, body) = closure_parts(&m.args[0], 1)?;
                    let elem = inner.elem;
                    Some(Chain {
                        len: inner.len,
                        elem: Box::new(move |i| {
                            let mut stmts = Vec::new();
                            bind(&pats[0], elem(i), &mut stmts);
                            let body = body.clone();
                            syn::parse_quote!({ #(#stmts)* #body })
                        }),
                    })
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// A sequence `x` read by index: `x[i]` (`&x[i]` when `by_ref(x)`, as `iter()` yields).
fn seq(x: &Expr, by_ref: &dyn Fn(&Expr) -> bool) -> Option<Chain> {
    let x = strip(x).clone();
    if !matches!(x, Expr::Path(_) | Expr::Field(_)) {
        return None;
    }
    let by_ref = by_ref(&x);
    let len: Expr = syn::parse_quote!(#x.len());
    Some(Chain {
        len,
        elem: Box::new(move |i| {
            if by_ref {
                syn::parse_quote!((&#x[#i]))
            } else {
                syn::parse_quote!(#x[#i])
            }
        }),
    })
}

impl Lowerer<'_> {
    fn iterator_index(&mut self, span: Span) -> syn::Ident {
        self.fresh += 1;
        syn::Ident::new(&format!("__ad_it{}", self.fresh), span)
    }

    /// Whether the elements of sequence `x` are read by reference (`&x[i]`), as `iter()`
    /// yields them: those of a sequence that is not differentiated. A differentiated
    /// element is read by value (an `Index` op), which arithmetic treats the same.
    fn elements_by_ref(&self, x: &Expr) -> bool {
        !self.reads_varied(x)
    }

    /// `for pat in chain { body }` as `for i in 0..len { let pat = elem(i); body }`, or
    /// `None` when `iterable` is not a chain this lowering reads.
    pub(super) fn for_over_chain(&mut self, f: &syn::ExprForLoop) -> Option<syn::ExprForLoop> {
        let by_ref = |x: &Expr| self.elements_by_ref(x);
        let c = chain(&f.expr, &by_ref).or_else(|| seq(&f.expr, &by_ref))?;
        let i = self.iterator_index(f.for_token.span);
        let mut stmts = Vec::new();
        bind(&f.pat, (c.elem)(&syn::parse_quote!(#i)), &mut stmts);
        stmts.extend(f.body.stmts.iter().cloned());
        let len = c.len;
        let label = &f.label;
        Some(syn::parse_quote_spanned! {f.for_token.span=>
            #label for #i in 0..#len { #(#stmts)* }
        })
    }

    /// `chain.sum()`, `chain.product()`, `chain.fold(init, |acc, v| ..)` over a chain that
    /// reads differentiated values, as a block with an index loop; `None` otherwise.
    pub(super) fn reduce_chain(&mut self, m: &syn::ExprMethodCall) -> Option<Res<Expr>> {
        let name = m.method.to_string();
        let whole = Expr::MethodCall(m.clone());
        if !matches!(name.as_str(), "sum" | "product" | "fold") || !self.reads_varied(&whole) {
            return None;
        }
        let by_ref = |x: &Expr| self.elements_by_ref(x);
        let c = chain(&m.receiver, &by_ref)?;
        let span = m.method.span();
        let i = self.iterator_index(span);
        self.fresh += 1;
        let acc = syn::Ident::new(&format!("__ad_acc{}", self.fresh), span);
        let elem = (c.elem)(&syn::parse_quote!(#i));
        let len = c.len;
        let (init, step): (Expr, Expr) = match (name.as_str(), m.args.len()) {
            ("sum", 0) => (
                crate::generics::literal(
                    syn::parse_quote_spanned!(span=> 0.0),
                    m.turbofish.as_ref(),
                ),
                syn::parse_quote!(#acc + #elem),
            ),
            ("product", 0) => (
                crate::generics::literal(
                    syn::parse_quote_spanned!(span=> 1.0),
                    m.turbofish.as_ref(),
                ),
                syn::parse_quote!(#acc * #elem),
            ),
            ("fold", 2) => {
                let Some((pats, body)) = closure_parts(&m.args[1], 2) else {
                    self.error(
                        &m.args[1],
                        "`fold` takes a closure of two arguments here: `|acc, v| ..`",
                    );
                    return Some(Err(()));
                };
                let mut stmts = Vec::new();
                bind(&pats[0], syn::parse_quote!(#acc), &mut stmts);
                bind(&pats[1], elem, &mut stmts);
                (m.args[0].clone(), syn::parse_quote!({ #(#stmts)* #body }))
            }
            _ => return None,
        };
        Some(Ok(syn::parse_quote_spanned! {span=>
            {
                let mut #acc = #init;
                for #i in 0..#len {
                    #acc = #step;
                }
                #acc
            }
        }))
    }
}
