//! Parsing of `#[differentiable(...)]` arguments: `wrt(a, b)`, `custom_vjp = path`, and the
//! flags `jvp`, `hvp` and `checkpoint`.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, Path, Token};

/// The parsed attribute arguments.
#[derive(Default)]
pub struct Args {
    /// `wrt(a, b)`: the differentiated parameters; `None` means all of them.
    pub wrt: Option<Vec<Ident>>,
    /// `custom_vjp = g_backward`: the user's backward function.
    pub custom_vjp: Option<Path>,
    /// `jvp`: also emit `name_jvp`, forward mode.
    pub jvp: Option<Ident>,
    /// `hvp`: also emit `name_hvp` and `name_hessian`, forward-over-reverse.
    pub hvp: Option<Ident>,
    /// `checkpoint`: callers recompute this function's intermediates in their reverse pass
    /// instead of keeping them.
    pub checkpoint: Option<Ident>,
}

impl Args {
    /// Whether the second-order or forward-mode items are asked for.
    pub fn wants_dual(&self) -> bool {
        self.jvp.is_some() || self.hvp.is_some()
    }
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = Args::default();
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            if key == "wrt" {
                if args.wrt.is_some() {
                    return Err(syn::Error::new(key.span(), "`wrt` is given twice"));
                }
                let content;
                syn::parenthesized!(content in input);
                let names = Punctuated::<Ident, Token![,]>::parse_terminated(&content)?;
                if names.is_empty() {
                    return Err(syn::Error::new(
                        key.span(),
                        "`wrt()` names no parameter; list at least one, as in `wrt(w, b)`",
                    ));
                }
                args.wrt = Some(names.into_iter().collect());
            } else if key == "custom_vjp" {
                if args.custom_vjp.is_some() {
                    return Err(syn::Error::new(key.span(), "`custom_vjp` is given twice"));
                }
                input.parse::<Token![=]>()?;
                args.custom_vjp = Some(input.parse()?);
            } else if key == "jvp" || key == "hvp" || key == "checkpoint" {
                let slot = match key.to_string().as_str() {
                    "jvp" => &mut args.jvp,
                    "hvp" => &mut args.hvp,
                    _ => &mut args.checkpoint,
                };
                if slot.is_some() {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("`{key}` is given twice"),
                    ));
                }
                *slot = Some(key);
            } else {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown argument `{key}`; #[differentiable] takes `wrt(a, b)`, `custom_vjp = backward_fn`, `jvp`, `hvp` and `checkpoint`"
                    ),
                ));
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(args)
    }
}
