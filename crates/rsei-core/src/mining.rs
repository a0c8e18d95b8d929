//! Mining-impact analysis (to be written).
