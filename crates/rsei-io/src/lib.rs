//! GDAL I/O (to be written).
