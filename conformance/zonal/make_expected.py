#!/usr/bin/env python3
"""Writes the zonal-statistics conformance inputs and the expected results of two reference tools.

Inputs (written here, committed):
  raster.asc        40 x 30 ESRI ASCII grid, 100 m cells, x 500000..504000, y 4397000..4400000
                    (EPSG:32650), values k/8 in 0..99.875 (exact in binary), nodata -9999.
  polygons.geojson  8 polygons: a triangle, a square with a hole, a two-part multipolygon, a polygon
                    partly outside the raster, a wavy 40-gon, a rectangle whose edges run exactly
                    through cell centres, a tiny triangle inside one cell, one polygon outside.

Expected results (committed):
  expected_coverage_mean.csv   exactextract (Python package, `pip install exactextract numpy`):
                               coverage-weighted count (sum of fractions), mean, stdev, min, max.
  expected_coverage_cells.csv  exactextract's per-cell coverage fractions (cell_id = row * 40 + col).
  expected_centre_mean.csv     pixel-centre rule: one `gdal_rasterize` mask per polygon (default
                               rule, no ALL_TOUCHED), then count, mean and population std over the
                               valid cells of the mask (computed here with numpy).
  expected_centre_cells.csv    the cells of each gdal_rasterize mask (id, row, col).

Run from this folder:  python3 make_expected.py   (needs gdal_rasterize and gdal_translate on PATH)
"""

import csv
import json
import math
import os
import subprocess
import tempfile

import numpy as np
from exactextract import exact_extract
from exactextract.raster import NumPyRasterSource

ROWS, COLS = 30, 40
X0, Y0, CELL = 500000.0, 4400000.0, 100.0
NODATA = -9999.0
HERE = os.path.dirname(os.path.abspath(__file__))


def make_raster():
    v = np.empty((ROWS, COLS), dtype=np.float64)
    for r in range(ROWS):
        for c in range(COLS):
            k = (r * 37 + c * 91 + (r * c) % 13 + (r * r * c) % 29) % 800
            v[r, c] = k / 8.0
            if (r * 7 + c * 3) % 23 == 0:
                v[r, c] = NODATA
    return v


def write_asc(path, v):
    with open(path, "w") as f:
        f.write(f"ncols {COLS}\nnrows {ROWS}\nxllcorner {X0:.1f}\nyllcorner {Y0 - ROWS * CELL:.1f}\n")
        f.write(f"cellsize {CELL:.1f}\nNODATA_value {NODATA:.0f}\n")
        for r in range(ROWS):
            f.write(" ".join(("%g" % x) for x in v[r]) + "\n")


def ring(pts):
    pts = [list(p) for p in pts]
    return pts + [pts[0]]


def polygons():
    feats = []

    def add(fid, name, geom):
        feats.append({"type": "Feature", "id": fid, "properties": {"id": fid, "name": name}, "geometry": geom})

    add(1, "triangle", {"type": "Polygon", "coordinates": [ring([(500130, 4397250), (502870, 4397730), (501210, 4399640)])]})
    add(2, "square_with_hole", {"type": "Polygon", "coordinates": [
        ring([(502100, 4398120), (503650, 4398120), (503650, 4399480), (502100, 4399480)]),
        ring([(502530, 4398570), (502530, 4399030), (503210, 4399030), (503210, 4398570)])]})
    penta = [(500600 + 230 * math.cos(2 * math.pi * i / 5 + 0.3), 4399500 + 230 * math.sin(2 * math.pi * i / 5 + 0.3)) for i in range(5)]
    quad = [(503300, 4397100), (503900, 4397150), (503850, 4397700), (503350, 4397620)]
    add(3, "multipolygon", {"type": "MultiPolygon", "coordinates": [[ring(penta)], [ring(quad)]]})
    add(4, "partly_outside", {"type": "Polygon", "coordinates": [ring([(503520, 4399310), (504870, 4399310), (504870, 4400420), (503520, 4400420)])]})
    wavy = []
    for i in range(40):
        a = 2 * math.pi * i / 40
        rr = 650 + 150 * math.sin(5 * a)
        wavy.append((501500 + rr * math.cos(a), 4398200 + rr * math.sin(a)))
    add(5, "wavy", {"type": "Polygon", "coordinates": [ring(wavy)]})
    add(6, "on_centres", {"type": "Polygon", "coordinates": [ring([(500850, 4397450), (501450, 4397450), (501450, 4397950), (500850, 4397950)])]})
    add(7, "tiny", {"type": "Polygon", "coordinates": [ring([(502020, 4397320), (502080, 4397330), (502050, 4397380)])]})
    add(8, "outside", {"type": "Polygon", "coordinates": [ring([(510000, 4390000), (511000, 4390000), (511000, 4391000)])]})
    return feats


def read_asc(path):
    """Cell values of an ASCII grid (header lines start with a keyword)."""
    values = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if parts and parts[0][0].isalpha():
                continue
            values.extend(float(x) for x in parts)
    return np.array(values)


def main():
    v = make_raster()
    write_asc(os.path.join(HERE, "raster.asc"), v)
    feats = polygons()
    fc = {"type": "FeatureCollection", "name": "polygons",
          "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::32650"}},
          "features": feats}
    vec_path = os.path.join(HERE, "polygons.geojson")
    with open(vec_path, "w") as f:
        json.dump(fc, f, indent=1)

    # --- exactextract, coverage rule -------------------------------------------------------
    rs = NumPyRasterSource(v, X0, Y0 - ROWS * CELL, X0 + COLS * CELL, Y0, nodata=NODATA)
    res = exact_extract(rs, feats, ["count", "mean", "stdev", "min", "max", "cell_id", "coverage"], include_cols=["id"])
    with open(os.path.join(HERE, "expected_coverage_mean.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "weighted_count", "mean", "stdev", "min", "max"])
        for r in res:
            p = r["properties"]
            num = lambda x: "nan" if x is None else repr(float(x))  # noqa: E731
            w.writerow([r["id"], num(p["count"]), num(p["mean"]), num(p["stdev"]), num(p["min"]), num(p["max"])])
    with open(os.path.join(HERE, "expected_coverage_cells.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "cell_id", "coverage"])
        for r in res:
            p = r["properties"]
            for cid, cov in zip(p["cell_id"], p["coverage"]):
                w.writerow([r["id"], int(cid), repr(float(np.float32(cov)))])

    # --- gdal_rasterize, pixel-centre rule -------------------------------------------------
    rows_out = []
    cells_out = []
    with tempfile.TemporaryDirectory() as tmp:
        for ft in feats:
            fid = ft["id"]
            tif = os.path.join(tmp, f"m{fid}.tif")
            asc = os.path.join(tmp, f"m{fid}.asc")
            subprocess.run(["gdal_rasterize", "-q", "-burn", "1", "-init", "0", "-ot", "Byte",
                            "-te", str(X0), str(Y0 - ROWS * CELL), str(X0 + COLS * CELL), str(Y0),
                            "-ts", str(COLS), str(ROWS), "-where", f"id = {fid}", vec_path, tif], check=True)
            subprocess.run(["gdal_translate", "-q", "-of", "AAIGrid", tif, asc], check=True)
            m = read_asc(asc)
            m = m.reshape(ROWS, COLS)
            inside = m == 1
            for rr, cc in zip(*np.nonzero(inside)):
                cells_out.append([fid, int(rr), int(cc)])
            vals = v[inside & (v != NODATA)]
            n = len(vals)
            mean = float(vals.mean()) if n else float("nan")
            std = float(vals.std()) if n else float("nan")
            rows_out.append([fid, int(inside.sum()), n, repr(mean), repr(std)])
    with open(os.path.join(HERE, "expected_centre_mean.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "mask_cells", "count", "mean", "std"])
        w.writerows(rows_out)
    with open(os.path.join(HERE, "expected_centre_cells.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["id", "row", "col"])
        w.writerows(cells_out)


if __name__ == "__main__":
    main()
