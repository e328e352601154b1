//! The items `#[differentiable]` emits: the forward function, the hidden pullback,
//! `name_grad`, `name_vjp`, `NameGrad`, `name_graph`, and the `wrt` table callers check.

use super::forward::Forward;
use super::primal;
use super::tape::reverse_reads;
use crate::generics::ItemGenerics;
use crate::ir::{Block, Func, Op, Stmt};
use crate::sig::Signature;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned, ToTokens};
use syn::ext::IdentExt;
use syn::visit_mut::VisitMut;

/// Lints that generated code may trip and the user cannot act on.
pub fn allow_lints() -> TokenStream {
    quote!(#[allow(unused_variables, unused_mut, unused_parens, unused_braces, non_snake_case, clippy::all, clippy::pedantic)])
}

/// The hidden pullback of `name`.
pub fn pullback_ident(name: &syn::Ident) -> syn::Ident {
    format_ident!("__ad_pullback_{}", name.unraw())
}

/// The hidden `wrt` table of `name`.
pub fn wrt_ident(name: &syn::Ident) -> syn::Ident {
    format_ident!("__ad_wrt_{}", name.unraw())
}

fn with_last(path: &syn::Path, f: impl Fn(&syn::Ident) -> syn::Ident) -> syn::Path {
    let mut p = path.clone();
    if let Some(last) = p.segments.last_mut() {
        last.ident = f(&last.ident);
        last.arguments = syn::PathArguments::None;
    }
    p
}

/// `path::to::g` gives `path::to::__ad_pullback_g`.
pub fn pullback_path(path: &syn::Path) -> syn::Path {
    with_last(path, pullback_ident)
}

/// `path::to::g` gives `path::to::__ad_vjp_g`, its value and vector-Jacobian product.
pub fn direct_path(path: &syn::Path) -> syn::Path {
    with_last(path, |i| format_ident!("__ad_vjp_{}", i.unraw()))
}

/// `path::to::g` gives `path::to::__ad_wrt_g`.
pub fn wrt_path(path: &syn::Path) -> syn::Path {
    with_last(path, wrt_ident)
}

/// Names of the generated items of one function.
pub struct Names {
    /// `name`.
    pub name: syn::Ident,
    /// `name_grad`.
    pub grad: syn::Ident,
    /// `name_vjp`.
    pub vjp: syn::Ident,
    /// `name_grad_with`.
    pub grad_with: syn::Ident,
    /// `name_vjp_with`.
    pub vjp_with: syn::Ident,
    /// `name_graph`.
    pub graph: syn::Ident,
    /// `NameGrad`.
    pub grad_struct: syn::Ident,
    /// The hidden pullback.
    pub pullback: syn::Ident,
    /// The hidden wrt table.
    pub wrt: syn::Ident,
    /// The hidden straight-line vector-Jacobian product behind `name_grad` and `name_vjp`.
    pub direct: syn::Ident,
}

impl Names {
    /// The names for function `name` with signature `sig`: a method's gradient struct is
    /// named after its type and itself (`ModelLossGrad`).
    pub fn for_sig(name: &syn::Ident, sig: Option<&Signature>) -> Self {
        let mut names = Names::new(name);
        if let Some(m) = sig.and_then(|s| s.method.as_ref()) {
            names.grad_struct = m.grad_struct.clone();
        }
        names
    }

    /// The names for function `name`.
    pub fn new(name: &syn::Ident) -> Self {
        // A raw identifier (`r#type`) names its items without the `r#`: `type_grad`, `TypeGrad`.
        let base = name.unraw();
        let camel = super::graph::upper_camel(&base.to_string());
        Names {
            name: name.clone(),
            grad: format_ident!("{}_grad", base),
            vjp: format_ident!("{}_vjp", base),
            grad_with: format_ident!("{}_grad_with", base),
            vjp_with: format_ident!("{}_vjp_with", base),
            graph: format_ident!("{}_graph", base),
            grad_struct: format_ident!("{}Grad", camel),
            pullback: pullback_ident(name),
            wrt: wrt_ident(name),
            direct: format_ident!("__ad_vjp_{}", base),
        }
    }
}

/// The signature's parameters with every elided reference lifetime named, and the names.
pub(super) fn named_lifetimes(sig: &syn::Signature) -> (Vec<syn::FnArg>, Vec<syn::Lifetime>) {
    struct Namer(Vec<syn::Lifetime>);
    impl VisitMut for Namer {
        fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
            if r.lifetime.is_none() {
                let lt = syn::Lifetime::new(&format!("'__ad_l{}", self.0.len()), r.and_token.span);
                r.lifetime = Some(lt.clone());
                self.0.push(lt);
            }
            syn::visit_mut::visit_type_reference_mut(self, r);
        }
    }
    let mut namer = Namer(Vec::new());
    let mut inputs: Vec<syn::FnArg> = sig.inputs.iter().cloned().collect();
    for input in &mut inputs {
        if let syn::FnArg::Typed(pt) = input {
            namer.visit_type_mut(&mut pt.ty);
        }
    }
    (inputs, namer.0)
}

/// The tuple of cotangent types, one per parameter: its owned type where it is
/// differentiated, `NotDifferentiated` where `wrt` excludes it.
pub(super) fn cotangent_types(sig: &Signature) -> TokenStream {
    let cots: Vec<TokenStream> = sig
        .params
        .iter()
        .map(|p| {
            let t = &p.owned_ty;
            if p.wrt {
                quote!(#t)
            } else {
                quote!(::autodiff::__private::NotDifferentiated)
            }
        })
        .collect();
    super::tuple(&cots)
}

/// The pullback's declared result: `(R, impl FnOnce(R) -> (cotangents...) + use<..>)`.
fn pullback_signature(item: &syn::ItemFn, sig: &Signature, names: &Names) -> TokenStream {
    let (inputs, lifetimes) = named_lifetimes(&item.sig);
    let ret = &sig.ret;
    let cot = cotangent_types(sig);
    let vis = &item.vis;
    let name = &names.pullback;
    let generics = ItemGenerics::of(&item.sig);
    let extra: Vec<TokenStream> = lifetimes.iter().map(ToTokens::to_token_stream).collect();
    let decl = generics.decl(&extra);
    let used = generics.use_list(&lifetimes);
    let where_clause = generics.where_clause();
    quote! {
        #vis fn #name #decl(#(#inputs),*) -> (#ret, impl ::core::ops::FnOnce(#ret) -> #cot + use<#used>) #where_clause
    }
}

/// The signature of the hidden straight-line VJP: the parameters plus `__ad_dout`,
/// returning the value and one cotangent per parameter.
fn direct_signature(item: &syn::ItemFn, sig: &Signature, names: &Names) -> TokenStream {
    let inputs = &item.sig.inputs;
    let ret = &sig.ret;
    let cot = cotangent_types(sig);
    let vis = &item.vis;
    let name = &names.direct;
    let comma = if inputs.is_empty() || inputs.trailing_punct() {
        quote!()
    } else {
        quote!(,)
    };
    let generics = ItemGenerics::of(&item.sig);
    let decl = generics.decl(&[]);
    let where_clause = generics.where_clause();
    quote!(#vis fn #name #decl(#inputs #comma __ad_dout: #ret) -> (#ret, #cot) #where_clause)
}

/// The entry points shared by ordinary and custom-VJP functions: `name_grad`, `name_vjp`,
/// `NameGrad`, the wrt table, and `name_graph` with the given body.
fn entry_points(
    item: &syn::ItemFn,
    sig: &Signature,
    names: &Names,
    graph_body: TokenStream,
    stub: bool,
) -> TokenStream {
    let vis = &item.vis;
    let ret = &sig.ret;
    let inputs = &item.sig.inputs;
    let args: Vec<&syn::Ident> = sig.params.iter().map(|p| &p.ident).collect();
    let Names {
        name,
        grad,
        vjp,
        grad_with,
        vjp_with,
        graph,
        grad_struct,
        pullback: _,
        wrt,
        direct,
    } = names;
    // The workspace parameter of the `_with` entry points: `ws`, unless a parameter has
    // that name.
    let ws = if args.iter().any(|a| a.unraw() == "ws") {
        format_ident!("__ad_ws")
    } else {
        format_ident!("ws")
    };
    let generics = ItemGenerics::of(&item.sig);
    let decl = generics.decl(&[]);
    let decl_w = generics.decl(&[quote!('__ad_w)]);
    let where_clause = generics.where_clause();
    let fish = generics.turbofish();
    // The gradient struct is generic over the parameters its fields mention.
    let struct_generics =
        generics.for_fields(sig.params.iter().filter(|p| p.wrt).map(|p| &p.owned_ty));
    let (_, struct_args, struct_where) = struct_generics.split_for_impl();
    let grad_ty = quote!(#grad_struct #struct_args);
    let fields: Vec<TokenStream> = sig
        .params
        .iter()
        .filter(|p| p.wrt)
        .map(|p| {
            let (id, t) = (&p.ident, &p.owned_ty);
            let doc = format!("Gradient with respect to `{id}`.");
            quote!(#[doc = #doc] pub #id: #t)
        })
        .collect();
    let inits: Vec<TokenStream> = sig
        .params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.wrt)
        .map(|(k, p)| {
            let id = &p.ident;
            let k = syn::Index::from(k);
            quote!(#id: __ad_cot.#k)
        })
        .collect();
    let flags: Vec<bool> = sig.params.iter().map(|p| p.wrt).collect();
    let n = flags.len();
    let struct_doc = format!("Gradient of [`{name}`], one field per differentiated parameter.");
    let vjp_doc =
        format!("Value of [`{name}`] and the vector-Jacobian product with cotangent `d_out`.");
    let grad_doc = format!("Value of [`{name}`] and its gradient.");
    let with_doc = format!(
        "The buffers of the intermediate matrices and adjoints come from `{ws}` and go back to \
         it, and the gradient stays in `{ws}` until the next call (which reuses its buffers \
         too): from the second call with the same shapes on, they are not allocated again. \
         See `autodiff::Workspace` for what still allocates (loop tapes, the packing buffers \
         of large matrix products)."
    );
    let grad_with_doc = format!(
        "[`{grad}`] with reusable buffers: the value of [`{name}`] and a reference to its gradient, \
         which lives in `{ws}`.\n\n{with_doc}"
    );
    let vjp_with_doc = format!(
        "[`{vjp}`] with reusable buffers: the value of [`{name}`] and a reference to the \
         vector-Jacobian product with cotangent `d_out`, which lives in `{ws}`.\n\n{with_doc} \
         A matrix-valued result is the caller's: give it back with \
         `Workspace::recycle` to reuse its buffer too."
    );
    // The graph is the same for every scalar type and const parameter: the function is
    // not generic, so `name_graph()` needs no turbofish.
    let graph_doc = format!("The computation graph of [`{name}`], built at compile time.");
    let lints = allow_lints();
    let (grad_with_body, vjp_with_body) = if stub {
        (
            quote!(::core::unreachable!()),
            quote!(::core::unreachable!()),
        )
    } else {
        (
            quote! {
                #ws.run(move || {
                    let (__ad_value, __ad_cot) = #direct #fish(#(#args,)* ::autodiff::__private::one());
                    (__ad_value, #grad_struct { #(#inits),* })
                })
            },
            quote! {
                #ws.run(move || {
                    let (__ad_value, __ad_cot) = #direct #fish(#(#args,)* d_out);
                    (__ad_value, #grad_struct { #(#inits),* })
                })
            },
        )
    };
    let (grad_body, vjp_body) = if stub {
        (
            quote!(::core::unreachable!()),
            quote!(::core::unreachable!()),
        )
    } else {
        (
            quote! {
                let (__ad_value, __ad_cot) = #direct #fish(#(#args,)* ::autodiff::__private::one());
                (__ad_value, #grad_struct { #(#inits),* })
            },
            quote! {
                let (__ad_value, __ad_cot) = #direct #fish(#(#args,)* d_out);
                (__ad_value, #grad_struct { #(#inits),* })
            },
        )
    };
    let grad_fn = if sig.ret_scalar {
        quote! {
            #[doc = #grad_doc]
            #lints
            #vis fn #grad #decl(#inputs) -> (#ret, #grad_ty) #where_clause {
                #grad_body
            }

            #[doc = #grad_with_doc]
            #lints
            #vis fn #grad_with #decl_w(#ws: &'__ad_w mut ::autodiff::Workspace<#grad_ty>, #inputs) -> (#ret, &'__ad_w #grad_ty) #where_clause {
                #grad_with_body
            }
        }
    } else {
        quote!()
    };
    let comma = if inputs.is_empty() || inputs.trailing_punct() {
        quote!()
    } else {
        quote!(,)
    };
    let grad_struct_item: syn::ItemStruct = syn::parse_quote! {
        #[doc = #struct_doc]
        #[derive(Debug, Clone)]
        #vis struct #grad_struct #struct_generics #struct_where {
            #(#fields,)*
        }
    };
    let tangent_impl = crate::derive_tangent::expand_fields(&grad_struct_item)
        .unwrap_or_else(syn::Error::into_compile_error);
    quote! {
        #grad_struct_item
        #tangent_impl

        #grad_fn

        #[doc = #vjp_doc]
        #lints
        #vis fn #vjp #decl(#inputs #comma d_out: #ret) -> (#ret, #grad_ty) #where_clause {
            #vjp_body
        }

        #[doc = #vjp_with_doc]
        #lints
        #vis fn #vjp_with #decl_w(#ws: &'__ad_w mut ::autodiff::Workspace<#grad_ty>, #inputs #comma d_out: #ret) -> (#ret, &'__ad_w #grad_ty) #where_clause {
            #vjp_with_body
        }

        #[doc = #graph_doc]
        #lints
        #vis fn #graph() -> ::autodiff::Graph {
            #graph_body
        }

        #[doc(hidden)]
        #[allow(non_upper_case_globals)]
        #vis const #wrt: [bool; #n] = [#(#flags),*];
    }
}

/// Compile-time checks that no differentiated value flows into a parameter a callee
/// excludes with `wrt`.
fn call_checks(f: &Func, block: &Block, out: &mut Vec<TokenStream>) {
    for s in &block.stmts {
        match s {
            Stmt::Eqn(e) => {
                if let Op::Call { path, .. } = &e.op {
                    if super::callee::local_callee(path).is_some() || super::is_runtime_path(path) {
                        // Checked through the callee's trait (`callee::checks`); the
                        // runtime's own callees (`index_set`, `repeat_vec`) differentiate
                        // every float they take.
                        continue;
                    }
                    let table = wrt_path(path);
                    let callee = path
                        .segments
                        .last()
                        .map(|s| s.ident.to_string())
                        .unwrap_or_default();
                    for (k, &a) in e.args.iter().enumerate() {
                        if f.vars[a].varied {
                            let span = f.vars[a].span;
                            let msg = format!(
                                "argument {} of `{callee}` depends on a differentiated parameter, but `{callee}` does not differentiate with respect to that parameter (see its `wrt`); wrap the argument in `stop_gradient(..)` if that is intended",
                                k + 1
                            );
                            out.push(quote_spanned!(span=> const _: () = ::core::assert!(#table[#k], #msg);));
                        }
                    }
                }
            }
            other => {
                for b in other.blocks() {
                    call_checks(f, b, out);
                }
            }
        }
    }
}

/// Whether a call in `block` lends a callee a value owned by the body (`g(&s)` with `s`
/// a local or a by-value parameter, not a reference): the callee's pullback borrows it.
fn lends_a_local(f: &Func, block: &Block) -> bool {
    block.stmts.iter().any(|s| match s {
        Stmt::Eqn(e) => match &e.op {
            // A recomputed call keeps no pullback: nothing borrows past its block.
            Op::Call {
                recompute: true, ..
            } => false,
            Op::Call { borrowed, .. } => e
                .args
                .iter()
                .zip(borrowed)
                .any(|(&a, &b)| b && !f.vars[a].by_ref),
            _ => false,
        },
        other => other.blocks().into_iter().any(|b| lends_a_local(f, b)),
    })
}

/// The parameters as arguments of a call that must leave them usable afterwards: references
/// as they are, values cloned.
fn owned_call_args(sig: &Signature) -> Vec<TokenStream> {
    sig.params
        .iter()
        .map(|p| {
            let id = &p.ident;
            if p.by_ref {
                quote!(#id)
            } else {
                quote!(::core::clone::Clone::clone(&#id))
            }
        })
        .collect()
}

/// Every item for an ordinary differentiable function. With `checkpoint`, the pullback
/// that callers record keeps only the arguments and recomputes the forward pass when it
/// runs (`jax.checkpoint`): the same straight-line code computes the gradient either way.
pub fn generate(item: &syn::ItemFn, sig: &Signature, f: &Func, checkpoint: bool) -> TokenStream {
    let names = Names::for_sig(&item.sig.ident, Some(sig));
    let ret_var = primal(f.ret);
    let ret_ty = &sig.ret;

    let plain_forward = Forward::new(f, false);
    let plain = plain_forward.block(&f.body);
    let mut checks = Vec::new();
    call_checks(f, &f.body, &mut checks);
    let attrs = &item.attrs;
    let vis = &item.vis;
    let fn_sig = &item.sig;
    let lints = allow_lints();
    let pooled = super::pooled_values(f, &f.body);
    let not_ret = |v: &usize| *v != f.ret;
    let forward_recycles = super::recycle_values(
        pooled
            .iter()
            .copied()
            .filter(not_ret)
            .filter(|v| !plain_forward.moved().contains(v)),
    );
    let forward_fn = quote! {
        #(#attrs)*
        #lints
        #vis #fn_sig {
            #(#checks)*
            #plain
            #forward_recycles
            #ret_var
        }
    };

    let body = super::vjp_body(f);
    let recorded = Forward::new(f, true).top(&f.body);
    let reverse = super::reverse_body(f);
    let cots: Vec<TokenStream> = (0..f.params.len())
        .map(|i| super::param_cotangent(f, i))
        .collect();
    let cot = super::tuple(&cots);
    let reads = reverse_reads(f, &f.body);
    let value = if reads.contains(&f.ret) {
        quote!(::core::clone::Clone::clone(&#ret_var))
    } else {
        quote!(#ret_var)
    };
    // Intermediate values go back to the workspace pool where they are last owned: in the
    // pullback closure if it reads them (it captured them), before it otherwise; the
    // returned value never (unless the closure keeps the original of a clone).
    // A value the recorded forward moved (into a loop's carry) is not given back here.
    let recorded_moved = Forward::new(f, true).moved().clone();
    let (read, unread): (Vec<usize>, Vec<usize>) = pooled
        .iter()
        .filter(|v| !recorded_moved.contains(v))
        .partition(|v| reads.contains(v));
    let recycle_read = super::recycle_values(read);
    let recycle_unread = super::recycle_values(unread.into_iter().filter(not_ret));
    let recycle_adjoints = super::recycle_adjoints(f);
    // The caller's adjoint of this call's result: its buffer came from the pool (a
    // float's has none).
    let recycle_dout = if sig.ret_scalar {
        quote!()
    } else {
        quote!(::autodiff::__private::recycle_value(__ad_dout);)
    };
    let pb_sig = pullback_signature(item, sig, &names);
    let keeps_arguments = checkpoint || lends_a_local(f, &f.body);
    let pullback_fn = if keeps_arguments {
        // A callee's pullback borrows a value of this body (`g(&s)`): a closure cannot
        // both own that value and hold the borrow, so this pullback keeps only the
        // arguments and runs the straight-line vector-Jacobian product (forward again,
        // then reverse) when it is called. A `checkpoint` function does this by request.
        let name = &names.name;
        let direct = &names.direct;
        let fish = ItemGenerics::of(&item.sig).turbofish();
        let idents: Vec<&syn::Ident> = sig.params.iter().map(|p| &p.ident).collect();
        let call_args = owned_call_args(sig);
        quote! {
            #[doc(hidden)]
            #[inline]
            #lints
            #pb_sig {
                let __ad_value = #name #fish(#(#call_args),*);
                (__ad_value, move |__ad_dout: #ret_ty| {
                    let (__ad_again, __ad_cot) = #direct #fish(#(#idents,)* __ad_dout);
                    ::autodiff::__private::recycle_value(__ad_again);
                    __ad_cot
                })
            }
        }
    } else {
        quote! {
            #[doc(hidden)]
            #[inline]
            #lints
            #pb_sig {
                #recorded
                #recycle_unread
                (#value, move |__ad_dout: #ret_ty| {
                    #reverse
                    let __ad_cot = #cot;
                    #recycle_read
                    #recycle_adjoints
                    #recycle_dout
                    __ad_cot
                })
            }
        }
    };
    let recycle_all = super::recycle_values(
        pooled
            .iter()
            .copied()
            .filter(not_ret)
            .filter(|v| !recorded_moved.contains(v)),
    );
    let direct_sig = direct_signature(item, sig, &names);
    // One reverse body, not two: for a scalar result the straight-line VJP is the pullback
    // called at once (inlined, the same code), unless its last statement runs with the
    // known cotangent (a fused sum, `cross_entropy`), which only the straight-line form
    // does, or the pullback itself calls the straight-line form (it lends a local).
    let thin = sig.ret_scalar && !super::runs_last_with_cotangent(f) && !keeps_arguments;
    let direct_fn = if thin {
        let pullback = &names.pullback;
        let fish = ItemGenerics::of(&item.sig).turbofish();
        let idents: Vec<&syn::Ident> = sig.params.iter().map(|p| &p.ident).collect();
        quote! {
            #[doc(hidden)]
            #[inline(always)]
            #lints
            #direct_sig {
                let (__ad_value, __ad_pb) = #pullback #fish(#(#idents),*);
                (__ad_value, __ad_pb(__ad_dout))
            }
        }
    } else {
        quote! {
            #[doc(hidden)]
            #[inline(always)]
            #lints
            #direct_sig {
                #body
                let __ad_result = (#ret_var, #cot);
                #recycle_all
                #recycle_adjoints
                __ad_result
            }
        }
    };
    let graph_body = super::graph::body(f, &names.name.to_string());
    let entries = entry_points(item, sig, &names, graph_body, false);
    let callee_items = super::callee::callee_items(item, sig, &names, false);
    let callee_checks = super::callee::checks(f);
    quote! {
        #forward_fn
        #pullback_fn
        #direct_fn
        #entries
        #callee_items
        #callee_checks
    }
}

/// Every item for a function with a user-supplied backward (`custom_vjp = backward`).
pub fn generate_custom(item: &syn::ItemFn, sig: &Signature, backward: &syn::Path) -> TokenStream {
    let names = Names::for_sig(&item.sig.ident, Some(sig));
    let name = &names.name;
    let ret_ty = &sig.ret;
    let lints = allow_lints();
    let call_args = owned_call_args(sig);
    let idents: Vec<&syn::Ident> = sig.params.iter().map(|p| &p.ident).collect();
    let single = sig.params.len() == 1;
    let cots: Vec<TokenStream> = sig
        .params
        .iter()
        .enumerate()
        .map(|(k, p)| {
            if !p.wrt {
                quote!(::autodiff::__private::NotDifferentiated)
            } else if single {
                quote!(__ad_c)
            } else {
                let k = syn::Index::from(k);
                quote!(__ad_c.#k)
            }
        })
        .collect();
    let cot = super::tuple(&cots);
    let pb_sig = pullback_signature(item, sig, &names);
    let fish = ItemGenerics::of(&item.sig).turbofish();
    let span = syn::spanned::Spanned::span(backward);
    let pullback_fn = quote! {
        #[doc(hidden)]
        #[inline]
        #lints
        #pb_sig {
            let __ad_value = #name #fish(#(#call_args),*);
            (__ad_value, move |__ad_dout: #ret_ty| {
                let __ad_c = #backward(#(#idents,)* __ad_dout);
                #cot
            })
        }
    };
    let _ = span;
    let direct_sig = direct_signature(item, sig, &names);
    let pullback = &names.pullback;
    let direct_fn = quote! {
        #[doc(hidden)]
        #[inline(always)]
        #lints
        #direct_sig {
            let (__ad_value, __ad_pb) = #pullback #fish(#(#idents),*);
            (__ad_value, __ad_pb(__ad_dout))
        }
    };
    let labels: Vec<(String, bool)> = sig
        .params
        .iter()
        .map(|p| (p.ident.to_string(), p.wrt))
        .collect();
    let graph_body = super::graph::custom_body(&labels, &name.to_string());
    let entries = entry_points(item, sig, &names, graph_body, false);
    let callee_items = super::callee::callee_items(item, sig, &names, false);
    quote! {
        #item
        #pullback_fn
        #direct_fn
        #entries
        #callee_items
    }
}

/// What is emitted when the function has errors: the user's function as written, the
/// generated items with bodies that never run (so callers see one error, not ten), and
/// the errors.
pub fn fallback(item: &syn::ItemFn, sig: Option<&Signature>, error: syn::Error) -> TokenStream {
    let err = error.to_compile_error();
    let Some(sig) = sig else {
        return quote!(#item #err);
    };
    let names = Names::for_sig(&item.sig.ident, Some(sig));
    let entries = entry_points(item, sig, &names, quote!(::core::unreachable!()), true);
    let callee_items = super::callee::callee_items(item, sig, &names, true);
    quote! {
        #item
        #entries
        #callee_items
        #err
    }
}
