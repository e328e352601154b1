//! The function signature: which parameters are differentiated, and what they are.

use crate::args::Args;
use crate::errors::Errors;
use quote::ToTokens;
use syn::{FnArg, ItemFn, Pat, ReturnType, Type};

/// What a parameter's type is, as far as syntax tells.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// `f32` or `f64`, or a type parameter bounded by `Real`.
    Scalar,
    /// A nalgebra matrix or vector.
    Matrix,
    /// Another type: a `#[derive(Tangent)]` struct.
    Struct,
    /// A slice, `Vec` or array of `f32`/`f64`: read as a slice, with a gradient of type
    /// `Vec<T>` (or `[T; N]` for arrays).
    Sequence,
    /// Integers, booleans, slices, strings, ...: never differentiated.
    Constant,
}

/// One parameter.
#[derive(Clone)]
pub struct SigParam {
    /// Its name.
    pub ident: syn::Ident,
    /// Its type as written.
    pub ty: Type,
    /// The owned type of its gradient (`&DMatrix<f64>` gives `DMatrix<f64>`).
    pub owned_ty: Type,
    /// What it is.
    pub kind: Kind,
    /// Whether it is passed by reference.
    pub by_ref: bool,
    /// Whether the gradient is taken with respect to it.
    pub wrt: bool,
}

/// The analysed signature.
#[derive(Clone)]
pub struct Signature {
    /// The parameters in order.
    pub params: Vec<SigParam>,
    /// The return type.
    pub ret: Type,
    /// Whether the return type is `f32` or `f64` (then `name_grad` exists).
    pub ret_scalar: bool,
    /// For a method of a `#[differentiable] impl` block, lowered as a free function.
    pub method: Option<MethodInfo>,
}

/// What a method of a `#[differentiable] impl` block adds to its signature.
#[derive(Clone)]
pub struct MethodInfo {
    /// The gradient struct's name: type name + method name + `Grad` (`ModelLossGrad`).
    pub grad_struct: syn::Ident,
    /// The block's differentiable methods: `self.name(..)` calls the free function.
    pub siblings: Vec<Sibling>,
}

/// A differentiable method of the same block.
#[derive(Clone)]
pub struct Sibling {
    /// The method's name.
    pub name: String,
    /// The free function it is lowered to.
    pub free: syn::Ident,
    /// Whether its receiver is `&self` (else `self`).
    pub by_ref: bool,
}

const INTEGERS: &[&str] = &[
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "bool",
    "char", "str", "String", "Vec", "Option", "HashMap", "BTreeMap",
];

const MATRIX_PREFIXES: &[&str] = &[
    "DMatrix",
    "DVector",
    "RowDVector",
    "SMatrix",
    "SVector",
    "RowSVector",
    "OMatrix",
    "OVector",
    "Matrix",
    "Vector",
    "RowVector",
];

/// The element type of a sequence of floats: `[T]`, `[T; N]`, `Vec<T>`.
pub fn sequence_elem(ty: &Type) -> Option<&Type> {
    let elem = match ty {
        Type::Slice(s) => &*s.elem,
        Type::Array(a) => &*a.elem,
        Type::Path(p) if p.qself.is_none() => {
            let last = p.path.segments.last()?;
            if last.ident != "Vec" {
                return None;
            }
            match &last.arguments {
                syn::PathArguments::AngleBracketed(a) if a.args.len() == 1 => match &a.args[0] {
                    syn::GenericArgument::Type(t) => t,
                    _ => return None,
                },
                _ => return None,
            }
        }
        Type::Paren(p) => return sequence_elem(&p.elem),
        _ => return None,
    };
    (classify(elem) == Kind::Scalar).then_some(elem)
}

pub fn classify(ty: &Type) -> Kind {
    if sequence_elem(ty).is_some() {
        return Kind::Sequence;
    }
    match ty {
        Type::Path(p) if p.qself.is_none() => {
            let Some(last) = p.path.segments.last() else {
                return Kind::Struct;
            };
            let name = last.ident.to_string();
            let scalar_param = p.path.segments.len() == 1
                && last.arguments.is_empty()
                && crate::generics::is_scalar_param(&name);
            if name == "f32" || name == "f64" || scalar_param {
                Kind::Scalar
            } else if INTEGERS.contains(&name.as_str()) {
                Kind::Constant
            } else if MATRIX_PREFIXES.iter().any(|m| {
                name.strip_prefix(m)
                    .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == 'x'))
            }) {
                Kind::Matrix
            } else {
                Kind::Struct
            }
        }
        // `<Mlp as DualStruct<S>>::Twin`: a struct's dual twin (see `dual_twin`).
        Type::Path(p) if p.qself.is_some() => Kind::Struct,
        Type::Paren(p) => classify(&p.elem),
        Type::Group(g) => classify(&g.elem),
        _ => Kind::Constant,
    }
}

/// Checks the signature and resolves `wrt`. Records every problem in `errors`.
pub fn analyze(item: &ItemFn, args: &Args, errors: &mut Errors) -> Option<Signature> {
    let sig = &item.sig;
    let before = errors.len();
    if let Some(t) = &sig.asyncness {
        errors.push_spanned(
            t,
            "`async fn` cannot be #[differentiable]; differentiate a plain `fn`",
        );
    }
    if let Some(t) = &sig.unsafety {
        errors.push_spanned(t, "`unsafe fn` cannot be #[differentiable]");
    }
    if let Some(t) = &sig.constness {
        errors.push_spanned(t, "`const fn` cannot be #[differentiable]");
    }
    if let Some(v) = &sig.variadic {
        errors.push_spanned(v, "variadic functions cannot be #[differentiable]");
    }
    let ret = match &sig.output {
        ReturnType::Type(_, ty) => Some((**ty).clone()),
        ReturnType::Default => {
            errors.push_spanned(
                &sig.ident,
                "a #[differentiable] function must return a value, such as `-> f64`",
            );
            None
        }
    };

    let mut params = Vec::new();
    for input in &sig.inputs {
        match input {
            FnArg::Receiver(r) => errors.push_spanned(
                r,
                "a method is differentiated when its `impl` block carries the attribute too: `#[differentiable] impl Model { #[differentiable] fn loss(&self, ..) -> f64 { .. } }`",
            ),
            FnArg::Typed(pt) => {
                let ident = match &*pt.pat {
                    Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                        pi.ident.clone()
                    }
                    other => {
                        errors.push_spanned(
                            other,
                            "parameters of a #[differentiable] function must be plain names, like `w: f64`",
                        );
                        continue;
                    }
                };
                let ty = (*pt.ty).clone();
                let (by_ref, owned_ty) = match &ty {
                    Type::Reference(r) if r.mutability.is_some() => {
                        errors.push_spanned(
                            &ty,
                            "`&mut` parameters are not supported in #[differentiable] functions; pass by value or by `&`",
                        );
                        continue;
                    }
                    Type::Reference(r) => (true, (*r.elem).clone()),
                    _ => (false, ty.clone()),
                };
                // A slice's gradient is a `Vec` of its elements.
                let owned_ty = match (&owned_ty, sequence_elem(&owned_ty)) {
                    (Type::Slice(_), Some(elem)) => syn::parse_quote!(::std::vec::Vec<#elem>),
                    _ => owned_ty,
                };
                let kind = classify(&owned_ty);
                params.push(SigParam {
                    ident,
                    ty,
                    owned_ty,
                    kind,
                    by_ref,
                    wrt: false,
                });
            }
        }
    }

    match &args.wrt {
        Some(names) => {
            for name in names {
                match params.iter_mut().find(|p| p.ident == *name) {
                    None => errors.push_spanned(
                        name,
                        format!(
                            "`wrt` names `{name}`, which is not a parameter of `{}`",
                            sig.ident
                        ),
                    ),
                    Some(p) if p.kind == Kind::Constant => errors.push_spanned(
                        name,
                        format!(
                            "`{name}` has type `{}`, which cannot be differentiated; only f32, f64, slices, `Vec`s and arrays of them, nalgebra matrices and #[derive(Tangent)] structs can",
                            p.ty.to_token_stream()
                        ),
                    ),
                    Some(p) => p.wrt = true,
                }
            }
        }
        None => {
            for p in &mut params {
                if p.kind == Kind::Constant {
                    errors.push_spanned(
                        &p.ty,
                        format!(
                            "parameter `{}` of type `{}` cannot be differentiated; name the differentiated parameters with #[differentiable(wrt(...))]",
                            p.ident,
                            p.ty.to_token_stream()
                        ),
                    );
                } else {
                    p.wrt = true;
                }
            }
        }
    }

    if errors.len() > before {
        return None;
    }
    let ret = ret?;
    let ret_scalar = matches!(classify(&ret), Kind::Scalar);
    Some(Signature {
        params,
        ret,
        ret_scalar,
        method: None,
    })
}
