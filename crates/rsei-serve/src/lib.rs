//! # rsei-serve — a read-only map viewer of rsei results
