//! Benchmarks of the cool-down stores.

fn main() {}
