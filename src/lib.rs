//! rsei pipelines (to be written).
