//! The subcommands, one file each: its arguments, its help, and its `run`. Arguments are turned
//! into an [`Import`](crate::Import) once, here, and resolved before any input
//! is read.

pub mod check;
pub mod completions;
pub mod connection;
pub mod explain;
pub mod import;
pub mod inputs;
pub mod man;
pub mod policy;
pub mod prepare;
pub mod rules;
pub mod upload;
