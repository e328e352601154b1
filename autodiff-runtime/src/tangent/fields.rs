//! [`TangentFields`]: a struct seen as the tuple of its fields, so that one generic
//! [`Tangent`] impl (and the [`Adjoint`] helpers below) serve every struct that says
//! how to take it apart, instead of a field-by-field impl written out for each.
//!
//! The gradient structs that `#[differentiable]` generates (`LossGrad { w, x }`) use it:
//! each one implements this small trait (its field tuple, the field names, and four
//! conversions), and gets `Tangent` from the blanket impl here. Their trees, names and
//! flat order are exactly those of a field-by-field impl: the fields in declaration
//! order, named by their field names.
//!
//! ```
//! use autodiff_runtime::tangent::{FieldMuts, FieldRefs, Tangent, TangentFields};
//!
//! struct Pair {
//!     w: f64,
//!     v: Vec<f64>,
//! }
//! impl TangentFields for Pair {
//!     type Fields = (f64, Vec<f64>);
//!     const NAMES: &'static [&'static str] = &["w", "v"];
//!     fn fields(&self) -> FieldRefs<'_, Self> {
//!         (&self.w, &self.v)
//!     }
//!     fn fields_mut(&mut self) -> FieldMuts<'_, Self> {
//!         (&mut self.w, &mut self.v)
//!     }
//!     fn from_fields(f: Self::Fields) -> Self {
//!         Pair { w: f.0, v: f.1 }
//!     }
//!     fn into_fields(self) -> Self::Fields {
//!         (self.w, self.v)
//!     }
//! }
//!
//! let p = Pair { w: 3.0, v: vec![1.0, 2.0] };
//! assert_eq!(p.num_elements(), 3);
//! let mut names = Vec::new();
//! p.visit_named("", &mut |name, leaf| names.push((name.to_string(), leaf.len())));
//! assert_eq!(names, [("w".to_string(), 1), ("v".to_string(), 2)]);
//! ```

// The visitor signatures are the `Tangent` trait's.
#![allow(clippy::type_complexity)]

use super::{child_path, StructureMismatch, Tangent};
use crate::rules::{Adjoint, Real};

/// A struct as the tuple of its fields (1 to 12 of them, all [`Tangent`] with one
/// scalar type). Every implementor is [`Tangent`] through the blanket impl of this module.
pub trait TangentFields: Sized {
    /// The owned fields as a tuple, in declaration order: `(f64, DMatrix<f64>)`.
    type Fields: FieldTuple;
    /// The field names, in the same order (`visit_named` paths and structure errors).
    const NAMES: &'static [&'static str];
    /// The fields, borrowed: `(&self.w, &self.b)`.
    fn fields(&self) -> FieldRefs<'_, Self>;
    /// The fields, borrowed mutably.
    fn fields_mut(&mut self) -> FieldMuts<'_, Self>;
    /// The struct from its fields.
    fn from_fields(fields: Self::Fields) -> Self;
    /// The fields, moved out.
    fn into_fields(self) -> Self::Fields;
}

/// The tuple of shared borrows of `T`'s fields.
pub type FieldRefs<'a, T> = <<T as TangentFields>::Fields as FieldTuple>::Refs<'a>;
/// The tuple of mutable borrows of `T`'s fields.
pub type FieldMuts<'a, T> = <<T as TangentFields>::Fields as FieldTuple>::Muts<'a>;

/// A tuple of [`Tangent`] values with one scalar type, operated on through borrows of
/// its elements (the fields of a struct, see [`TangentFields`]).
pub trait FieldTuple: Sized {
    /// The scalar type of every element.
    type Scalar: Real;
    /// `(&A, &B, ..)`.
    type Refs<'a>: Copy
    where
        Self: 'a;
    /// `(&mut A, &mut B, ..)`.
    type Muts<'a>
    where
        Self: 'a;
    /// [`Tangent::zero_like`] of each element.
    fn zero_like(of: Self::Refs<'_>) -> Self;
    /// [`Tangent::visit`] of each element, in order.
    fn visit(of: Self::Refs<'_>, f: &mut dyn FnMut(&[Self::Scalar]));
    /// [`Tangent::visit_mut`] of each element, in order.
    fn visit_mut(of: Self::Muts<'_>, f: &mut dyn FnMut(&mut [Self::Scalar]));
    /// [`Tangent::visit_zip`] of each pair of elements.
    fn visit_zip(
        a: Self::Refs<'_>,
        b: Self::Refs<'_>,
        f: &mut dyn FnMut(&[Self::Scalar], &[Self::Scalar]),
    );
    /// [`Tangent::visit_zip_mut`] of each pair of elements.
    fn visit_zip_mut(
        a: Self::Muts<'_>,
        b: Self::Refs<'_>,
        f: &mut dyn FnMut(&mut [Self::Scalar], &[Self::Scalar]),
    );
    /// [`Tangent::visit_named`] of each element, named `prefix.names[k]`.
    fn visit_named(
        of: Self::Refs<'_>,
        names: &[&str],
        prefix: &str,
        f: &mut dyn FnMut(&str, &[Self::Scalar]),
    );
    /// [`Tangent::visit_named_shaped`] of each element, named `prefix.names[k]`.
    fn visit_named_shaped(
        of: Self::Refs<'_>,
        names: &[&str],
        prefix: &str,
        f: &mut dyn FnMut(&str, &[usize], &[Self::Scalar]),
    );
    /// [`Tangent::check_structure`] of each pair, the mismatch placed under its name.
    fn check_structure(
        a: Self::Refs<'_>,
        b: Self::Refs<'_>,
        names: &[&str],
    ) -> Result<(), StructureMismatch>;
}

/// The [`Adjoint`] operations of a [`FieldTuple`] whose elements are adjoints, on borrows
/// of the fields (see [`fields_accumulate`] and its siblings).
pub trait AdjointFieldTuple: FieldTuple {
    /// [`Adjoint::adjoint_zero`] of each element.
    fn adjoint_zero() -> Self;
    /// [`Adjoint::accumulate`] of each pair.
    fn accumulate(acc: Self::Muts<'_>, other: Self::Refs<'_>);
    /// [`Adjoint::finish`] of each element against its primal.
    fn finish(self, primal: Self::Refs<'_>) -> Self;
    /// [`Adjoint::recycle`] of each element.
    fn recycle(self);
}

#[diagnostic::do_not_recommend]
impl<T: TangentFields> Tangent for T {
    type Scalar = <T::Fields as FieldTuple>::Scalar;

    fn zero_like(&self) -> Self {
        T::from_fields(FieldTuple::zero_like(self.fields()))
    }
    fn visit(&self, f: &mut dyn FnMut(&[Self::Scalar])) {
        T::Fields::visit(self.fields(), f)
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut [Self::Scalar])) {
        T::Fields::visit_mut(self.fields_mut(), f)
    }
    fn visit_zip(&self, other: &Self, f: &mut dyn FnMut(&[Self::Scalar], &[Self::Scalar])) {
        T::Fields::visit_zip(self.fields(), other.fields(), f)
    }
    fn visit_zip_mut(
        &mut self,
        other: &Self,
        f: &mut dyn FnMut(&mut [Self::Scalar], &[Self::Scalar]),
    ) {
        T::Fields::visit_zip_mut(self.fields_mut(), other.fields(), f)
    }
    fn visit_named(&self, prefix: &str, f: &mut dyn FnMut(&str, &[Self::Scalar])) {
        T::Fields::visit_named(self.fields(), T::NAMES, prefix, f)
    }
    fn visit_named_shaped(&self, prefix: &str, f: &mut dyn FnMut(&str, &[usize], &[Self::Scalar])) {
        T::Fields::visit_named_shaped(self.fields(), T::NAMES, prefix, f)
    }
    fn check_structure(&self, other: &Self) -> Result<(), StructureMismatch> {
        T::Fields::check_structure(self.fields(), other.fields(), T::NAMES)
    }
}

/// [`Adjoint::adjoint_zero`] of a [`TangentFields`] struct: a symbolic zero per field.
#[inline]
pub fn fields_adjoint_zero<T: TangentFields>() -> T
where
    T::Fields: AdjointFieldTuple,
{
    T::from_fields(AdjointFieldTuple::adjoint_zero())
}

/// [`Adjoint::accumulate`] of a [`TangentFields`] struct, field by field.
#[inline]
pub fn fields_accumulate<T: TangentFields>(acc: &mut T, other: &T)
where
    T::Fields: AdjointFieldTuple,
{
    T::Fields::accumulate(acc.fields_mut(), other.fields())
}

/// [`Adjoint::finish`] of a [`TangentFields`] struct, field by field.
#[inline]
pub fn fields_finish<T: TangentFields>(adjoint: T, primal: &T) -> T
where
    T::Fields: AdjointFieldTuple,
{
    T::from_fields(adjoint.into_fields().finish(primal.fields()))
}

/// [`Adjoint::recycle`] of a [`TangentFields`] struct, field by field.
#[inline]
pub fn fields_recycle<T: TangentFields>(adjoint: T)
where
    T::Fields: AdjointFieldTuple,
{
    adjoint.into_fields().recycle()
}

fn name<'a>(names: &[&'a str], k: usize) -> &'a str {
    names.get(k).copied().unwrap_or("?")
}

macro_rules! field_tuple {
    ($(($first:ident $fi:tt $(, $t:ident $i:tt)*)),+ $(,)?) => {$(
        impl<$first: Tangent $(, $t: Tangent<Scalar = $first::Scalar>)*> FieldTuple
            for ($first, $($t,)*)
        {
            type Scalar = $first::Scalar;
            type Refs<'a> = (&'a $first, $(&'a $t,)*) where Self: 'a;
            type Muts<'a> = (&'a mut $first, $(&'a mut $t,)*) where Self: 'a;

            fn zero_like(of: Self::Refs<'_>) -> Self {
                (of.$fi.zero_like(), $(of.$i.zero_like(),)*)
            }
            fn visit(of: Self::Refs<'_>, f: &mut dyn FnMut(&[Self::Scalar])) {
                of.$fi.visit(f);
                $(of.$i.visit(f);)*
            }
            fn visit_mut(of: Self::Muts<'_>, f: &mut dyn FnMut(&mut [Self::Scalar])) {
                of.$fi.visit_mut(f);
                $(of.$i.visit_mut(f);)*
            }
            fn visit_zip(
                a: Self::Refs<'_>,
                b: Self::Refs<'_>,
                f: &mut dyn FnMut(&[Self::Scalar], &[Self::Scalar]),
            ) {
                a.$fi.visit_zip(b.$fi, f);
                $(a.$i.visit_zip(b.$i, f);)*
            }
            fn visit_zip_mut(
                a: Self::Muts<'_>,
                b: Self::Refs<'_>,
                f: &mut dyn FnMut(&mut [Self::Scalar], &[Self::Scalar]),
            ) {
                a.$fi.visit_zip_mut(b.$fi, f);
                $(a.$i.visit_zip_mut(b.$i, f);)*
            }
            fn visit_named(
                of: Self::Refs<'_>,
                names: &[&str],
                prefix: &str,
                f: &mut dyn FnMut(&str, &[Self::Scalar]),
            ) {
                of.$fi.visit_named(&child_path(prefix, name(names, $fi)), f);
                $(of.$i.visit_named(&child_path(prefix, name(names, $i)), f);)*
            }
            fn visit_named_shaped(
                of: Self::Refs<'_>,
                names: &[&str],
                prefix: &str,
                f: &mut dyn FnMut(&str, &[usize], &[Self::Scalar]),
            ) {
                of.$fi.visit_named_shaped(&child_path(prefix, name(names, $fi)), f);
                $(of.$i.visit_named_shaped(&child_path(prefix, name(names, $i)), f);)*
            }
            fn check_structure(
                a: Self::Refs<'_>,
                b: Self::Refs<'_>,
                names: &[&str],
            ) -> Result<(), StructureMismatch> {
                a.$fi.check_structure(b.$fi).map_err(|e| e.within(name(names, $fi)))?;
                $(a.$i.check_structure(b.$i).map_err(|e| e.within(name(names, $i)))?;)*
                Ok(())
            }
        }

        impl<$first: Tangent + Adjoint $(, $t: Tangent<Scalar = $first::Scalar> + Adjoint)*>
            AdjointFieldTuple for ($first, $($t,)*)
        {
            #[inline]
            fn adjoint_zero() -> Self {
                ($first::adjoint_zero(), $($t::adjoint_zero(),)*)
            }
            #[inline]
            fn accumulate(acc: Self::Muts<'_>, other: Self::Refs<'_>) {
                acc.$fi.accumulate(other.$fi);
                $(acc.$i.accumulate(other.$i);)*
            }
            #[inline]
            fn finish(self, primal: Self::Refs<'_>) -> Self {
                (self.$fi.finish(primal.$fi), $(self.$i.finish(primal.$i),)*)
            }
            #[inline]
            fn recycle(self) {
                self.$fi.recycle();
                $(self.$i.recycle();)*
            }
        }
    )+};
}

field_tuple!(
    (A 0),
    (A 0, B 1),
    (A 0, B 1, C 2),
    (A 0, B 1, C 2, D 3),
    (A 0, B 1, C 2, D 3, E 4),
    (A 0, B 1, C 2, D 3, E 4, F 5),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10),
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11),
);
