//! The runtime's paths, shortened: every `::autodiff::__private::name` the expansion
//! writes becomes `alias::name`, with one `use ::autodiff::__private as alias;` next to
//! the generated items. The generated code names the runtime at nearly every
//! statement (rules, adjoint helpers, recycling), so this takes five of every eight
//! tokens of each such path out of what rustc has to parse and resolve.
//!
//! The alias is named after the item (`__ad_p_loss`), so that two expansions in one
//! module do not collide, and resolves at the call site like the items it sits beside.

use proc_macro2::{Group, Ident, Spacing, Span, TokenStream, TokenTree};
use quote::quote;

/// `tokens` with every `::autodiff::__private::` replaced by `alias::`, and the `use`
/// that defines `alias` in front; `tokens` as they are when they name no such path.
pub fn shorten(tokens: TokenStream, alias: &Ident) -> TokenStream {
    let mut found = false;
    let body = rewrite(tokens, alias, &mut found);
    if !found {
        return body;
    }
    quote! {
        #[doc(hidden)]
        #[allow(unused_imports)]
        use ::autodiff::__private as #alias;
        #body
    }
}

/// The keywords after which the generated code writes a path: `impl ::autodiff::..`.
const KEYWORDS: &[&str] = &[
    "as", "impl", "for", "dyn", "in", "return", "let", "mut", "move", "where", "if", "else",
    "match", "break", "const", "static", "type", "use", "pub", "ref", "unsafe", "loop", "while",
];

/// Whether `trees[i..]` starts with `:: autodiff :: __private ::`.
fn is_private_path(trees: &[TokenTree], i: usize) -> bool {
    let colons = |k: usize| {
        matches!((trees.get(k), trees.get(k + 1)),
            (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':')
    };
    let ident =
        |k: usize, name: &str| matches!(trees.get(k), Some(TokenTree::Ident(id)) if id == name);
    // A leading `::` starts a path unless it continues one (`a::autodiff::..`,
    // `Vec<T>::autodiff`): after an identifier that is not a keyword, or after `>`.
    let starts_path = match i.checked_sub(1).map(|k| &trees[k]) {
        Some(TokenTree::Ident(id)) => KEYWORDS.iter().any(|k| id == k),
        Some(TokenTree::Punct(p)) => p.as_char() != '>',
        _ => true,
    };
    starts_path
        && colons(i)
        && ident(i + 2, "autodiff")
        && colons(i + 3)
        && ident(i + 5, "__private")
        && colons(i + 6)
}

fn rewrite(tokens: TokenStream, alias: &Ident, found: &mut bool) -> TokenStream {
    let trees: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = Vec::with_capacity(trees.len());
    let mut i = 0;
    while i < trees.len() {
        if is_private_path(&trees, i) {
            *found = true;
            let span = trees[i + 2].span().resolved_at(Span::call_site());
            out.push(TokenTree::Ident(Ident::new(&alias.to_string(), span)));
            // The last `::` of the path, now after the alias.
            out.push(trees[i + 6].clone());
            out.push(trees[i + 7].clone());
            i += 8;
            continue;
        }
        match &trees[i] {
            TokenTree::Group(g) => {
                let mut group = Group::new(g.delimiter(), rewrite(g.stream(), alias, found));
                group.set_span(g.span());
                out.push(TokenTree::Group(group));
            }
            other => out.push(other.clone()),
        }
        i += 1;
    }
    out.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short(ts: TokenStream) -> String {
        shorten(ts, &Ident::new("__ad_p_f", Span::call_site())).to_string()
    }

    #[test]
    fn private_paths_become_the_alias_everywhere_and_others_stay() {
        let out = short(quote! {
            fn f() { ::autodiff::__private::binary(::autodiff::__private::Mul, &a, &b); ::autodiff::Graph::new(); x::autodiff::__private::y }
        });
        assert_eq!(
            out,
            quote! {
                #[doc(hidden)]
                #[allow(unused_imports)]
                use ::autodiff::__private as __ad_p_f;
                fn f() { __ad_p_f::binary(__ad_p_f::Mul, &a, &b); ::autodiff::Graph::new(); x::autodiff::__private::y }
            }
            .to_string()
        );
    }

    #[test]
    fn tokens_without_private_paths_are_kept_as_they_are() {
        let ts = quote!(
            fn f(x: f64) -> f64 {
                x
            }
        );
        assert_eq!(short(ts.clone()), ts.to_string());
    }

    #[test]
    fn a_path_after_an_identifier_is_not_shortened_but_one_after_a_keyword_is() {
        let out = short(quote!(a::autodiff::__private::b));
        assert_eq!(out, quote!(a::autodiff::__private::b).to_string());
        let out = short(quote!(<T as ::autodiff::__private::Tangent>::Scalar));
        assert!(
            out.ends_with(&quote!(<T as __ad_p_f::Tangent>::Scalar).to_string()),
            "{out}"
        );
    }
}
