//! One module per top-level command.

pub mod address;
pub mod completions;
pub mod demo;
pub mod sandbox;
pub mod wallet;
