//! [`Tangent`]: a tree of float parameters (a "pytree"), seen as one flat vector.
//!
//! Optimizers, clipping, gradient checking and the training loop are generic over
//! `Tangent`, so they work the same for a single `f64`, a `DMatrix<f32>`, a tuple
//! `(DMatrix<f64>, RowDVector<f64>)`, a `Vec` of layers, or a user's model struct with
//! `#[derive(Tangent)]`:
//!
//! ```
//! use autodiff_runtime::nalgebra::{DMatrix, RowDVector};
//! use autodiff_runtime::tangent::Tangent;
//!
//! let mut layer = (DMatrix::from_element(2, 3, 1.0_f64), RowDVector::from_element(3, 0.5));
//! assert_eq!(layer.num_elements(), 9);
//! assert_eq!(layer.norm_squared(), 6.0 + 3.0 * 0.25);
//!
//! let mut names = Vec::new();
//! layer.visit_named("layer", &mut |name, leaf| names.push((name.to_string(), leaf.len())));
//! assert_eq!(names, [("layer.0".to_string(), 6), ("layer.1".to_string(), 3)]);
//!
//! let step = layer.zero_like();
//! layer.add_assign(&step);
//! layer.scale(2.0);
//! assert_eq!(layer.1[0], 1.0);
//! ```
//!
//! # The flat view
//!
//! Every implementation visits its *leaves* (contiguous runs of scalars) in one fixed
//! order: matrices in nalgebra's column-major storage order, struct fields and tuple
//! elements in declaration order, `Vec` and array items by index. The concatenation of
//! the leaves is the flat vector that "flat index" means in error messages, and the one
//! in which optimizers keep their state. A `Vec<f64>` or `[f32; N]` is a single leaf.
//!
//! # Structure
//!
//! Two values have the same *structure* when their flat views line up leaf by leaf:
//! same matrix shapes, same `Vec` lengths. The element-wise operations
//! ([`Tangent::add_assign`], [`Tangent::visit_zip_mut`], ...) require it and panic
//! otherwise, as nalgebra's own `+` does on a shape mismatch; [`Tangent::check_structure`]
//! reports a mismatch as an error instead, and the optimizers, clipping and
//! [`gradcheck`](crate::gradcheck::gradcheck) call it before they touch anything.

// The visitor signatures (`&mut dyn FnMut(&mut [S], &[S])`) are the public API; aliases
// would only hide them.
#![allow(clippy::type_complexity)]

use std::fmt;

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, OMatrix};

use crate::rules::Real;

mod fields;
pub use fields::{
    fields_accumulate, fields_adjoint_zero, fields_finish, fields_recycle, AdjointFieldTuple,
    FieldMuts, FieldRefs, FieldTuple, TangentFields,
};

/// A tree of float parameters (or of their gradients) that can be added, scaled and
/// visited as flat slices.
///
/// Implemented for `f32`, `f64`, every owned nalgebra matrix (`DMatrix`, `DVector`,
/// `RowDVector`, `SMatrix`, `SVector`, ...), arrays `[P; N]`, `Vec<P>`, tuples of 2 to 6
/// elements with the same [`Tangent::Scalar`], and structs with `#[derive(Tangent)]`.
///
/// An implementation provides the visits ([`visit`](Tangent::visit),
/// [`visit_mut`](Tangent::visit_mut), [`visit_zip`](Tangent::visit_zip),
/// [`visit_zip_mut`](Tangent::visit_zip_mut), [`visit_named`](Tangent::visit_named)),
/// [`zero_like`](Tangent::zero_like) and [`check_structure`](Tangent::check_structure);
/// the arithmetic is derived from the visits. All visits must walk the leaves in the
/// same order (see the [module docs](self)).
pub trait Tangent {
    /// The element type of every leaf: `f32` or `f64`.
    type Scalar: Real;

    /// A value of the same structure with every element `0`.
    fn zero_like(&self) -> Self
    where
        Self: Sized;

    /// Calls `f` on every leaf, in the flat order.
    fn visit(&self, f: &mut dyn FnMut(&[Self::Scalar]));

    /// Calls `f` on every leaf, mutably, in the flat order.
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut [Self::Scalar]));

    /// Calls `f` on every pair of corresponding leaves of `self` and `other`.
    ///
    /// # Panics
    /// When `other` does not have the structure of `self` (see [`Tangent::check_structure`]).
    fn visit_zip(&self, other: &Self, f: &mut dyn FnMut(&[Self::Scalar], &[Self::Scalar]));

    /// Calls `f` on every pair of corresponding leaves, the leaf of `self` mutably.
    /// This is the loop every optimizer runs: `f(param_leaf, grad_leaf)`.
    ///
    /// # Panics
    /// When `other` does not have the structure of `self` (see [`Tangent::check_structure`]).
    fn visit_zip_mut(
        &mut self,
        other: &Self,
        f: &mut dyn FnMut(&mut [Self::Scalar], &[Self::Scalar]),
    );

    /// Calls `f` on every leaf with its dotted path below `prefix`, like PyTorch's
    /// `named_parameters`: struct fields by name (`w1`), tuple, array and `Vec` items by
    /// index (`layers.0.w`). A leaf at the root gets `prefix` itself.
    fn visit_named(&self, prefix: &str, f: &mut dyn FnMut(&str, &[Self::Scalar]));

    /// [`visit_named`](Tangent::visit_named) with each leaf's shape: `[]` for a scalar,
    /// `[n]` for a `Vec` or array of scalars, `[rows, cols]` for a matrix or a tensor.
    /// The leaf's elements are in the flat order (column-major: the first index varies
    /// fastest). `io::save` writes the leaves with these shapes.
    ///
    /// The default reports every leaf as one-dimensional; containers forward to their
    /// items (as `#[derive(Tangent)]` does), leaves with more structure override it.
    fn visit_named_shaped(&self, prefix: &str, f: &mut dyn FnMut(&str, &[usize], &[Self::Scalar])) {
        self.visit_named(prefix, &mut |name, leaf| f(name, &[leaf.len()], leaf))
    }

    /// `Ok` when `other` has the same structure as `self`; otherwise the first leaf that
    /// differs, with its path and both shapes. Allocation-free when the structures match:
    /// containers add their segment of the path on the way out of an error
    /// ([`StructureMismatch::within`]).
    fn check_structure(&self, other: &Self) -> Result<(), StructureMismatch>;

    /// The number of scalars in the flat view.
    fn num_elements(&self) -> usize {
        let mut n = 0;
        self.visit(&mut |leaf| n += leaf.len());
        n
    }

    /// `self += other`, element by element.
    ///
    /// # Panics
    /// When the structures differ.
    fn add_assign(&mut self, other: &Self) {
        self.visit_zip_mut(other, &mut |a, b| {
            for (x, y) in a.iter_mut().zip(b) {
                *x += *y;
            }
        });
    }

    /// `self *= factor`, element by element.
    fn scale(&mut self, factor: Self::Scalar) {
        self.visit_mut(&mut |a| {
            for x in a {
                *x *= factor;
            }
        });
    }

    /// The inner product of the flat views, accumulated in `f64`.
    ///
    /// # Panics
    /// When the structures differ.
    fn dot(&self, other: &Self) -> f64 {
        let mut sum = 0.0;
        self.visit_zip(other, &mut |a, b| {
            for (x, y) in a.iter().zip(b) {
                sum += x.to_f64_lossless() * y.to_f64_lossless();
            }
        });
        sum
    }

    /// The squared L2 norm of the flat view, accumulated in `f64`.
    fn norm_squared(&self) -> f64 {
        let mut sum = 0.0;
        self.visit(&mut |a| {
            for x in a {
                let x = x.to_f64_lossless();
                sum += x * x;
            }
        });
        sum
    }

    /// Whether every element is finite (neither NaN nor infinite).
    fn is_finite(&self) -> bool {
        self.first_non_finite().is_none()
    }

    /// The flat index and value of the first element that is NaN or infinite.
    fn first_non_finite(&self) -> Option<(usize, f64)> {
        let mut start = 0;
        let mut found = None;
        self.visit(&mut |leaf| {
            if found.is_none() {
                if let Some(i) = leaf.iter().position(|x| !num_traits::Float::is_finite(*x)) {
                    found = Some((start + i, leaf[i].to_f64_lossless()));
                }
            }
            start += leaf.len();
        });
        found
    }

    /// Where flat index `index` lives: the leaf's name (as in
    /// [`visit_named`](Tangent::visit_named) with an empty prefix) and the index inside
    /// the leaf. `None` when `index >= self.num_elements()`.
    fn locate(&self, index: usize) -> Option<ElementLocation> {
        let mut start = 0;
        let mut found = None;
        self.visit_named("", &mut |name, leaf| {
            if found.is_none() && index < start + leaf.len() {
                found = Some(ElementLocation {
                    flat_index: index,
                    parameter: name.to_string(),
                    index: index - start,
                });
            }
            start += leaf.len();
        });
        found
    }

    /// Fast path for containers: `items` seen as one leaf, when `Self` is a scalar.
    ///
    /// `Vec<P>` and `[P; N]` use it so that a `Vec<f64>` is visited as one slice rather
    /// than element by element. Only scalar types override the default (`None`).
    #[doc(hidden)]
    fn items_as_leaf(items: &[Self]) -> Option<&[Self::Scalar]>
    where
        Self: Sized,
    {
        let _ = items;
        None
    }

    /// Mutable counterpart of [`Tangent::items_as_leaf`].
    #[doc(hidden)]
    fn items_as_leaf_mut(items: &mut [Self]) -> Option<&mut [Self::Scalar]>
    where
        Self: Sized,
    {
        let _ = items;
        None
    }
}

/// Two values that should have the same structure do not (see [`Tangent::check_structure`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StructureMismatch {
    /// Dotted path of the first leaf or container that differs (`""` for the root).
    pub path: String,
    /// The shape of the reference value (`"2x3 matrix"`, `"Vec of length 4"`).
    pub expected: String,
    /// The shape of the value that was checked against it.
    pub found: String,
}

impl fmt::Display for StructureMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = if self.path.is_empty() {
            "the root".to_string()
        } else {
            format!("`{}`", self.path)
        };
        write!(
            f,
            "structure mismatch at {at}: expected a {}, found a {}; \
             gradients and optimizer state must have the shapes of the parameters",
            self.expected, self.found
        )
    }
}

impl StructureMismatch {
    /// The same mismatch seen from the parent: `segment` (a field name or an index) is
    /// put in front of the path.
    pub fn within(mut self, segment: &str) -> Self {
        self.path = if self.path.is_empty() {
            segment.to_string()
        } else {
            format!("{segment}.{}", self.path)
        };
        self
    }
}

impl std::error::Error for StructureMismatch {}

/// One element of a [`Tangent`]: its flat index, and the leaf and index inside it.
///
/// Displays as `` `w1`[3] (flat index 7) ``; a leaf at the root is shown as `the value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ElementLocation {
    /// Index in the flat view.
    pub flat_index: usize,
    /// The leaf's dotted path (`"layers.0.w"`), `""` for a leaf at the root.
    pub parameter: String,
    /// Index inside the leaf (column-major for matrices).
    pub index: usize,
}

impl ElementLocation {
    /// The location of `index` in `value`, or a bare flat index if it is out of range.
    pub fn of<P: Tangent + ?Sized>(value: &P, index: usize) -> Self {
        value.locate(index).unwrap_or(ElementLocation {
            flat_index: index,
            parameter: String::new(),
            index,
        })
    }
}

impl fmt::Display for ElementLocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.parameter.is_empty() {
            write!(f, "the value[{}]", self.index)?;
        } else {
            write!(f, "`{}`[{}]", self.parameter, self.index)?;
        }
        write!(f, " (flat index {})", self.flat_index)
    }
}

/// The path of child `name` below `prefix`: `"name"` at the root, else `"prefix.name"`.
/// Used by `visit_named` implementations, including the derived ones.
pub fn child_path(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn length_mismatch(what: &str, a: usize, b: usize) -> ! {
    panic!(
        "Tangent: {what} of length {a} paired with one of length {b}; \
         call `check_structure` first to get an error instead"
    )
}

macro_rules! scalar_tangent {
    ($($t:ty),*) => {$(
        impl Tangent for $t {
            type Scalar = $t;
            #[inline]
            fn zero_like(&self) -> Self {
                0.0
            }
            #[inline]
            fn visit(&self, f: &mut dyn FnMut(&[$t])) {
                f(std::slice::from_ref(self))
            }
            #[inline]
            fn visit_mut(&mut self, f: &mut dyn FnMut(&mut [$t])) {
                f(std::slice::from_mut(self))
            }
            #[inline]
            fn visit_zip(&self, other: &Self, f: &mut dyn FnMut(&[$t], &[$t])) {
                f(std::slice::from_ref(self), std::slice::from_ref(other))
            }
            #[inline]
            fn visit_zip_mut(&mut self, other: &Self, f: &mut dyn FnMut(&mut [$t], &[$t])) {
                f(std::slice::from_mut(self), std::slice::from_ref(other))
            }
            fn visit_named(&self, prefix: &str, f: &mut dyn FnMut(&str, &[$t])) {
                f(prefix, std::slice::from_ref(self))
            }
            fn visit_named_shaped(&self, prefix: &str, f: &mut dyn FnMut(&str, &[usize], &[$t])) {
                f(prefix, &[], std::slice::from_ref(self))
            }
            fn check_structure(&self, _other: &Self) -> Result<(), StructureMismatch> {
                Ok(())
            }
            #[inline]
            fn add_assign(&mut self, other: &Self) {
                *self += *other;
            }
            #[inline]
            fn scale(&mut self, factor: $t) {
                *self *= factor;
            }
            #[inline]
            fn dot(&self, other: &Self) -> f64 {
                (*self as f64) * (*other as f64)
            }
            fn items_as_leaf(items: &[Self]) -> Option<&[$t]> {
                Some(items)
            }
            fn items_as_leaf_mut(items: &mut [Self]) -> Option<&mut [$t]> {
                Some(items)
            }
        }
    )*};
}
scalar_tangent!(f32, f64);

impl<T: Real, R: Dim, C: Dim> Tangent for OMatrix<T, R, C>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Scalar = T;

    fn zero_like(&self) -> Self {
        let (r, c) = self.shape_generic();
        Self::zeros_generic(r, c)
    }
    fn visit(&self, f: &mut dyn FnMut(&[T])) {
        f(self.as_slice())
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut [T])) {
        f(self.as_mut_slice())
    }
    fn visit_zip(&self, other: &Self, f: &mut dyn FnMut(&[T], &[T])) {
        assert_same_shape(self.shape(), other.shape());
        f(self.as_slice(), other.as_slice())
    }
    fn visit_zip_mut(&mut self, other: &Self, f: &mut dyn FnMut(&mut [T], &[T])) {
        assert_same_shape(self.shape(), other.shape());
        f(self.as_mut_slice(), other.as_slice())
    }
    fn visit_named(&self, prefix: &str, f: &mut dyn FnMut(&str, &[T])) {
        f(prefix, self.as_slice())
    }
    fn visit_named_shaped(&self, prefix: &str, f: &mut dyn FnMut(&str, &[usize], &[T])) {
        let (rows, cols) = self.shape();
        f(prefix, &[rows, cols], self.as_slice())
    }
    fn check_structure(&self, other: &Self) -> Result<(), StructureMismatch> {
        if self.shape() == other.shape() {
            Ok(())
        } else {
            Err(StructureMismatch {
                path: String::new(),
                expected: shape_name(self.shape()),
                found: shape_name(other.shape()),
            })
        }
    }
}

fn shape_name((r, c): (usize, usize)) -> String {
    format!("{r}x{c} matrix")
}

fn assert_same_shape(a: (usize, usize), b: (usize, usize)) {
    if a != b {
        panic!(
            "Tangent: a {} paired with a {}; call `check_structure` first to get an error instead",
            shape_name(a),
            shape_name(b)
        );
    }
}

/// Visits of a slice of tangents (shared by `Vec<P>` and `[P; N]`).
mod items {
    use super::{child_path, length_mismatch, StructureMismatch, Tangent};

    pub(super) fn visit<P: Tangent>(items: &[P], f: &mut dyn FnMut(&[P::Scalar])) {
        match P::items_as_leaf(items) {
            Some(leaf) => f(leaf),
            None => items.iter().for_each(|p| p.visit(f)),
        }
    }

    pub(super) fn visit_mut<P: Tangent>(items: &mut [P], f: &mut dyn FnMut(&mut [P::Scalar])) {
        if let Some(leaf) = P::items_as_leaf_mut(items) {
            return f(leaf);
        }
        items.iter_mut().for_each(|p| p.visit_mut(f))
    }

    pub(super) fn visit_zip<P: Tangent>(
        items: &[P],
        other: &[P],
        f: &mut dyn FnMut(&[P::Scalar], &[P::Scalar]),
    ) {
        if items.len() != other.len() {
            length_mismatch("sequence", items.len(), other.len());
        }
        match (P::items_as_leaf(items), P::items_as_leaf(other)) {
            (Some(a), Some(b)) => f(a, b),
            _ => items.iter().zip(other).for_each(|(a, b)| a.visit_zip(b, f)),
        }
    }

    pub(super) fn visit_zip_mut<P: Tangent>(
        items: &mut [P],
        other: &[P],
        f: &mut dyn FnMut(&mut [P::Scalar], &[P::Scalar]),
    ) {
        if items.len() != other.len() {
            length_mismatch("sequence", items.len(), other.len());
        }
        if let Some(b) = P::items_as_leaf(other) {
            if let Some(a) = P::items_as_leaf_mut(items) {
                return f(a, b);
            }
        }
        items
            .iter_mut()
            .zip(other)
            .for_each(|(a, b)| a.visit_zip_mut(b, f))
    }

    pub(super) fn visit_named<P: Tangent>(
        items: &[P],
        prefix: &str,
        f: &mut dyn FnMut(&str, &[P::Scalar]),
    ) {
        match P::items_as_leaf(items) {
            Some(leaf) => f(prefix, leaf),
            None => {
                for (i, p) in items.iter().enumerate() {
                    p.visit_named(&child_path(prefix, &i.to_string()), f);
                }
            }
        }
    }

    pub(super) fn visit_named_shaped<P: Tangent>(
        items: &[P],
        prefix: &str,
        f: &mut dyn FnMut(&str, &[usize], &[P::Scalar]),
    ) {
        match P::items_as_leaf(items) {
            Some(leaf) => f(prefix, &[leaf.len()], leaf),
            None => {
                for (i, p) in items.iter().enumerate() {
                    p.visit_named_shaped(&child_path(prefix, &i.to_string()), f);
                }
            }
        }
    }

    pub(super) fn check_structure<P: Tangent>(
        items: &[P],
        other: &[P],
        kind: &str,
    ) -> Result<(), StructureMismatch> {
        if items.len() != other.len() {
            return Err(StructureMismatch {
                path: String::new(),
                expected: format!("{kind} of length {}", items.len()),
                found: format!("{kind} of length {}", other.len()),
            });
        }
        for (i, (a, b)) in items.iter().zip(other).enumerate() {
            a.check_structure(b).map_err(|e| e.within(&i.to_string()))?;
        }
        Ok(())
    }
}

impl<P: Tangent> Tangent for Vec<P> {
    type Scalar = P::Scalar;

    fn zero_like(&self) -> Self {
        self.iter().map(P::zero_like).collect()
    }
    fn visit(&self, f: &mut dyn FnMut(&[P::Scalar])) {
        items::visit(self, f)
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut [P::Scalar])) {
        items::visit_mut(self, f)
    }
    fn visit_zip(&self, other: &Self, f: &mut dyn FnMut(&[P::Scalar], &[P::Scalar])) {
        items::visit_zip(self, other, f)
    }
    fn visit_zip_mut(&mut self, other: &Self, f: &mut dyn FnMut(&mut [P::Scalar], &[P::Scalar])) {
        items::visit_zip_mut(self, other, f)
    }
    fn visit_named(&self, prefix: &str, f: &mut dyn FnMut(&str, &[P::Scalar])) {
        items::visit_named(self, prefix, f)
    }
    fn visit_named_shaped(&self, prefix: &str, f: &mut dyn FnMut(&str, &[usize], &[P::Scalar])) {
        items::visit_named_shaped(self, prefix, f)
    }
    fn check_structure(&self, other: &Self) -> Result<(), StructureMismatch> {
        items::check_structure(self, other, "Vec")
    }
}

impl<P: Tangent, const N: usize> Tangent for [P; N] {
    type Scalar = P::Scalar;

    fn zero_like(&self) -> Self {
        std::array::from_fn(|i| self[i].zero_like())
    }
    fn visit(&self, f: &mut dyn FnMut(&[P::Scalar])) {
        items::visit(self, f)
    }
    fn visit_mut(&mut self, f: &mut dyn FnMut(&mut [P::Scalar])) {
        items::visit_mut(self, f)
    }
    fn visit_zip(&self, other: &Self, f: &mut dyn FnMut(&[P::Scalar], &[P::Scalar])) {
        items::visit_zip(self, other, f)
    }
    fn visit_zip_mut(&mut self, other: &Self, f: &mut dyn FnMut(&mut [P::Scalar], &[P::Scalar])) {
        items::visit_zip_mut(self, other, f)
    }
    fn visit_named(&self, prefix: &str, f: &mut dyn FnMut(&str, &[P::Scalar])) {
        items::visit_named(self, prefix, f)
    }
    fn visit_named_shaped(&self, prefix: &str, f: &mut dyn FnMut(&str, &[usize], &[P::Scalar])) {
        items::visit_named_shaped(self, prefix, f)
    }
    fn check_structure(&self, other: &Self) -> Result<(), StructureMismatch> {
        items::check_structure(self, other, "array")
    }
}

macro_rules! tuple_tangent {
    ($first:ident $(, $rest:ident)*; $($idx:tt),+) => {
        impl<$first: Tangent $(, $rest: Tangent<Scalar = $first::Scalar>)*> Tangent
            for ($first, $($rest),*)
        {
            type Scalar = $first::Scalar;

            fn zero_like(&self) -> Self {
                ($(self.$idx.zero_like(),)+)
            }
            fn visit(&self, f: &mut dyn FnMut(&[Self::Scalar])) {
                $(self.$idx.visit(f);)+
            }
            fn visit_mut(&mut self, f: &mut dyn FnMut(&mut [Self::Scalar])) {
                $(self.$idx.visit_mut(f);)+
            }
            fn visit_zip(&self, other: &Self, f: &mut dyn FnMut(&[Self::Scalar], &[Self::Scalar])) {
                $(self.$idx.visit_zip(&other.$idx, f);)+
            }
            fn visit_zip_mut(
                &mut self,
                other: &Self,
                f: &mut dyn FnMut(&mut [Self::Scalar], &[Self::Scalar]),
            ) {
                $(self.$idx.visit_zip_mut(&other.$idx, f);)+
            }
            fn visit_named(&self, prefix: &str, f: &mut dyn FnMut(&str, &[Self::Scalar])) {
                $(self.$idx.visit_named(&child_path(prefix, stringify!($idx)), f);)+
            }
            fn visit_named_shaped(
                &self,
                prefix: &str,
                f: &mut dyn FnMut(&str, &[usize], &[Self::Scalar]),
            ) {
                $(self.$idx.visit_named_shaped(&child_path(prefix, stringify!($idx)), f);)+
            }
            fn check_structure(&self, other: &Self) -> Result<(), StructureMismatch> {
                $(self.$idx.check_structure(&other.$idx).map_err(|e| e.within(stringify!($idx)))?;)+
                Ok(())
            }
        }
    };
}
tuple_tangent!(A, B; 0, 1);
tuple_tangent!(A, B, C; 0, 1, 2);
tuple_tangent!(A, B, C, D; 0, 1, 2, 3);
tuple_tangent!(A, B, C, D, E; 0, 1, 2, 3, 4);
tuple_tangent!(A, B, C, D, E, F; 0, 1, 2, 3, 4, 5);

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::{DMatrix, DVector, Matrix2x3, RowDVector, SVector};

    fn flat<P: Tangent>(p: &P) -> Vec<f64> {
        let mut out = Vec::new();
        p.visit(&mut |leaf| out.extend(leaf.iter().map(|x| x.to_f64_lossless())));
        out
    }

    #[test]
    fn matrices_visit_in_column_major_order() {
        let m = DMatrix::from_row_slice(2, 2, &[1.0_f64, 2.0, 3.0, 4.0]);
        assert_eq!(flat(&m), [1.0, 3.0, 2.0, 4.0]);
        let s = Matrix2x3::new(1.0_f32, 2.0, 3.0, 4.0, 5.0, 6.0);
        assert_eq!(flat(&s), [1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
        assert_eq!(s.num_elements(), 6);
    }

    #[test]
    fn arithmetic_matches_the_flat_vectors() {
        let a = (
            DMatrix::from_row_slice(2, 2, &[1.0_f64, -2.0, 3.0, 0.5]),
            RowDVector::from_row_slice(&[4.0, 5.0]),
            vec![7.0_f64, 8.0],
        );
        let b = (
            DMatrix::from_row_slice(2, 2, &[0.5_f64, 1.0, -1.0, 2.0]),
            RowDVector::from_row_slice(&[-1.0, 2.0]),
            vec![1.0_f64, -3.0],
        );
        let (fa, fb) = (flat(&a), flat(&b));
        let dot: f64 = fa.iter().zip(&fb).map(|(x, y)| x * y).sum();
        assert_eq!(a.dot(&b), dot);
        assert_eq!(a.norm_squared(), fa.iter().map(|x| x * x).sum::<f64>());

        let mut c = a.clone();
        c.add_assign(&b);
        c.scale(-2.0);
        let expected: Vec<f64> = fa.iter().zip(&fb).map(|(x, y)| -2.0 * (x + y)).collect();
        assert_eq!(flat(&c), expected);

        let z = a.zero_like();
        assert_eq!(z.0.shape(), (2, 2));
        assert_eq!(z.2.len(), 2);
        assert!(flat(&z).iter().all(|&x| x == 0.0));
    }

    #[test]
    fn named_leaves_follow_the_containers() {
        let p = (
            vec![
                DVector::from_element(2, 1.0_f64),
                DVector::from_element(3, 1.0),
            ],
            [SVector::<f64, 2>::zeros(), SVector::zeros()],
            3.0_f64,
            vec![1.0_f64, 2.0, 3.0],
        );
        let mut names = Vec::new();
        p.visit_named("model", &mut |n, leaf| {
            names.push(format!("{n}:{}", leaf.len()))
        });
        assert_eq!(
            names,
            [
                "model.0.0:2",
                "model.0.1:3",
                "model.1.0:2",
                "model.1.1:2",
                "model.2:1",
                "model.3:3"
            ]
        );
        let at = |i| p.locate(i).map(|l| (l.parameter, l.index));
        assert_eq!(at(0), Some(("0.0".to_string(), 0)));
        assert_eq!(at(4), Some(("0.1".to_string(), 2)));
        assert_eq!(at(9), Some(("2".to_string(), 0)));
        assert_eq!(at(12), Some(("3".to_string(), 2)));
        assert_eq!(at(13), None);
        assert_eq!(
            ElementLocation::of(&p, 4).to_string(),
            "`0.1`[2] (flat index 4)"
        );
        assert_eq!(
            ElementLocation::of(&2.0_f64, 0).to_string(),
            "the value[0] (flat index 0)"
        );
    }

    #[test]
    fn shaped_leaves_give_scalars_vectors_and_matrices_their_shapes() {
        let p = (
            2.0_f64,
            vec![1.0_f64, 2.0, 3.0],
            [DMatrix::<f64>::zeros(2, 3), DMatrix::zeros(1, 4)],
            RowDVector::<f64>::zeros(5),
        );
        let mut seen = Vec::new();
        p.visit_named_shaped("", &mut |n, shape, leaf| {
            seen.push((n.to_string(), shape.to_vec(), leaf.len()))
        });
        let expected: Vec<(String, Vec<usize>, usize)> = vec![
            ("0".into(), vec![], 1),
            ("1".into(), vec![3], 3),
            ("2.0".into(), vec![2, 3], 6),
            ("2.1".into(), vec![1, 4], 4),
            ("3".into(), vec![1, 5], 5),
        ];
        assert_eq!(seen, expected);
    }

    #[test]
    fn structure_mismatches_name_the_leaf_and_both_shapes() {
        let a = (3.0_f64, vec![DMatrix::<f64>::zeros(2, 3)]);
        let b = (1.0_f64, vec![DMatrix::<f64>::zeros(3, 2)]);
        let err = a.check_structure(&b).unwrap_err();
        assert_eq!(err.path, "1.0");
        assert_eq!(
            err.to_string(),
            "structure mismatch at `1.0`: expected a 2x3 matrix, found a 3x2 matrix; \
             gradients and optimizer state must have the shapes of the parameters"
        );
        let short = vec![1.0_f64];
        let err = vec![1.0_f64, 2.0].check_structure(&short).unwrap_err();
        assert_eq!(err.path, "");
        assert_eq!(
            (err.expected.as_str(), err.found.as_str()),
            ("Vec of length 2", "Vec of length 1")
        );
        assert!(a.check_structure(&a.zero_like()).is_ok());
    }

    #[test]
    #[should_panic(expected = "a 2x3 matrix paired with a 3x2 matrix")]
    fn zipping_mismatched_matrices_panics_with_both_shapes() {
        let mut a = DMatrix::<f64>::zeros(2, 3);
        a.add_assign(&DMatrix::zeros(3, 2));
    }

    #[test]
    fn is_finite_sees_every_leaf() {
        let mut p = (1.0_f32, [2.0_f32, 3.0]);
        assert!(p.is_finite());
        p.1[1] = f32::NAN;
        assert!(!p.is_finite());
        let (index, value) = p.first_non_finite().unwrap();
        assert_eq!(index, 2);
        assert!(value.is_nan());
    }
}
