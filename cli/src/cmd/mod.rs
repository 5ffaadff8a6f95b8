//! One module per top-level command.

pub mod address;
pub mod completions;
pub mod demo;
pub mod history;
pub mod sandbox;
pub mod sync;
pub mod wallet;
