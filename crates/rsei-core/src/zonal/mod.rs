//! Zonal statistics over polygons (being written).
