#!/usr/bin/env python3
"""exactextract on the inputs written by `cargo bench -p rsei-core --bench zonal -- --write DIR`.

Usage: bench_exactextract.py DIR
Reads DIR/raster.txt (rows cols x0 y0 cell nodata), DIR/raster.f32 (little-endian float32, row-major,
memory-mapped) and DIR/polygons.geojson; writes DIR/exactextract_coverage.csv (id, weighted count,
mean) and prints the time of the exact_extract call and the peak resident memory.
"""

import csv
import json
import os
import resource
import sys
import time

import numpy as np
from exactextract import exact_extract
from exactextract.raster import NumPyRasterSource


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "raster.txt")) as f:
        rows, cols, x0, y0, cell, nodata = f.read().split()
    rows, cols = int(rows), int(cols)
    x0, y0, cell, nodata = float(x0), float(y0), float(cell), float(nodata)
    arr = np.memmap(os.path.join(d, "raster.f32"), dtype="<f4", mode="r", shape=(rows, cols))
    rs = NumPyRasterSource(arr, x0, y0 - rows * cell, x0 + cols * cell, y0, nodata=nodata)
    with open(os.path.join(d, "polygons.geojson")) as f:
        feats = json.load(f)["features"]
    t = time.perf_counter()
    res = exact_extract(rs, feats, ["count", "mean"], include_cols=["id"])
    dt = time.perf_counter() - t
    with open(os.path.join(d, "exactextract_coverage.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "weighted_count", "mean"])
        for r in res:
            p = r["properties"]
            m = p["mean"]
            w.writerow([r["id"], repr(float(p["count"])), "nan" if m is None else repr(float(m))])
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"| exactextract {__import__('exactextract').__version__} (Python), coverage rule, 1 thread | {dt:.2f} s | "
          f"{len(res)} polygons | peak RSS {peak:.0f} MiB |")


if __name__ == "__main__":
    main()
