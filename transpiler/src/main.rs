//! The `flint` binary.

fn main() {}
