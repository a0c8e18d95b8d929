//! Tile rendering and time-series lookup benchmark (filled in below).
fn main() {}
