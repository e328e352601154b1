//! Error collection: every problem in a function is reported in one compile.

/// Collects `syn::Error`s; [`Errors::finish`] combines them into one.
#[derive(Default)]
pub struct Errors {
    errors: Vec<syn::Error>,
}

impl Errors {
    /// Records an error spanned on `tokens`.
    pub fn push_spanned<T: quote::ToTokens>(&mut self, tokens: T, message: impl std::fmt::Display) {
        self.errors.push(syn::Error::new_spanned(tokens, message));
    }

    /// Records an error.
    pub fn push(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    /// How many errors were recorded (a checkpoint for [`Errors::truncate`]).
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    /// Forgets the errors recorded after checkpoint `len` (work that is redone).
    pub fn truncate(&mut self, len: usize) {
        self.errors.truncate(len);
    }

    /// `Ok(())` when nothing was recorded, else all errors combined.
    pub fn finish(self) -> syn::Result<()> {
        let mut iter = self.errors.into_iter();
        match iter.next() {
            None => Ok(()),
            Some(mut first) => {
                for e in iter {
                    first.combine(e);
                }
                Err(first)
            }
        }
    }
}
