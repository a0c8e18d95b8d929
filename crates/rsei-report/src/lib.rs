//! Reporting (to be written).
