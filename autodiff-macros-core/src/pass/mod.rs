//! Passes over the IR, one per file, each documenting what it guarantees.

pub mod activity;
pub mod copies;
pub mod dce;
pub mod fuse;
pub mod inline_map;
pub mod recompute;
pub mod shape;
pub mod varied;
