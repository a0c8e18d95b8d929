//! Vector (OGR) reading and GEOS geometry operations (to be written).
