//! Parsing of `#[differentiable(...)]` arguments: `wrt(a, b)` and `custom_vjp = path`.

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
            } else {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "unknown argument `{key}`; #[differentiable] takes `wrt(a, b)` and `custom_vjp = backward_fn`"
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
