//! Random forest regression (to be written).
