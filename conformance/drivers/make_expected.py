#!/usr/bin/python3
"""Writes the inputs and the GDAL reference outputs of the driver conformance tests.

Run from this folder with the system Python (it needs numpy and GDAL's Python bindings, Debian
package python3-gdal, which also provides gdal_proximity.py):

    cd conformance/drivers && /usr/bin/python3 make_expected.py

Inputs (synthetic, deterministic):
  dem.tif             36 x 44 Float32 DEM, 90 m cells, EPSG:32650, nodata -9999 (a 2 x 2 hole and
                      one single nodata cell), hills and a ridge with slopes from 0 to ~50 degrees
  mines.geojson       9 mine polygons in EPSG:32650 (0.02 to 30 km2; two of them, 0.02 and 0.6 km2,
                      hold no cell centre of the 1 km grid)
Reference outputs:
  slope_gdaldem.tif   gdaldem slope dem.tif (defaults: Horn, degrees, no -compute_edges)
  mines_burn.tif      gdal_rasterize -burn 1 (pixel-centre rule) of mines.geojson on a 60 x 70 grid
                      of 1000 m cells, origin (400000, 4500000)
  proximity_gdal.tif  gdal_proximity.py mines_burn.tif -distunits GEO (distance in metres from each
                      cell centre to the nearest burned cell centre)
"""

import json
import math
import subprocess

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()
EPSG = 32650


def srs_wkt():
    s = osr.SpatialReference()
    s.ImportFromEPSG(EPSG)
    return s.ExportToWkt()


def write_dem(path):
    rows, cols, cell = 36, 44, 90.0
    x0, y0 = 500000.0, 4400000.0
    z = np.zeros((rows, cols), dtype=np.float64)
    for r in range(rows):
        for c in range(cols):
            x = (c + 0.5) * cell
            y = (r + 0.5) * cell
            z[r, c] = (
                300.0
                + 250.0 * math.exp(-((x - 1400) ** 2 + (y - 1200) ** 2) / (2 * 600.0**2))
                + 180.0 * math.exp(-((x - 3000) ** 2 + (y - 2300) ** 2) / (2 * 450.0**2))
                + 0.12 * x
                + 40.0 * math.sin(x / 310.0) * math.cos(y / 270.0)
                + 3.0 * math.sin(7.0 * x + 3.0 * y)  # rough texture
            )
    # a sharp ridge
    for r in range(rows):
        c = 30 + r // 6
        if c < cols:
            z[r, c] += 120.0
    # non-integer values exercise the f32 window sums
    z = (z * 1.000123).astype(np.float32)
    z[10:12, 20:22] = -9999.0
    z[25, 7] = -9999.0
    ds = gdal.GetDriverByName("GTiff").Create(path, cols, rows, 1, gdal.GDT_Float32, ["COMPRESS=DEFLATE"])
    ds.SetGeoTransform([x0, cell, 0.0, y0, 0.0, -cell])
    ds.SetProjection(srs_wkt())
    b = ds.GetRasterBand(1)
    b.SetNoDataValue(-9999.0)
    b.WriteArray(z)
    ds = None


def blob(cx, cy, rx, ry, n, angle, wobble, seed):
    rng = np.random.RandomState(seed)
    pts = []
    for k in range(n):
        t = 2 * math.pi * k / n
        f = 1.0 + wobble * (rng.rand() - 0.5)
        ex, ey = rx * f * math.cos(t), ry * f * math.sin(t)
        ca, sa = math.cos(angle), math.sin(angle)
        pts.append([round(cx + ex * ca - ey * sa, 3), round(cy + ex * sa + ey * ca, 3)])
    pts.append(pts[0])
    return pts


def write_mines(path):
    x0, y0 = 400000.0, 4500000.0
    specs = [
        # centre offset (km east, km south), radii (m), vertices, angle, wobble
        (12.3, 9.7, 2600, 1500, 14, 0.4, 0.3),
        (40.1, 14.2, 3100, 2100, 18, -0.2, 0.25),
        (55.6, 8.8, 900, 700, 10, 0.9, 0.2),
        (21.7, 33.4, 1800, 2900, 16, 0.1, 0.35),
        (61.2, 47.9, 1200, 1100, 12, 0.0, 0.1),
        (8.4, 51.3, 700, 1600, 9, 1.2, 0.3),
        (34.9, 44.1, 450, 420, 8, 0.3, 0.1),
        (47.5, 29.6, 2200, 800, 12, 0.7, 0.2),
        (27.95, 20.45, 80, 80, 6, 0.0, 0.0),  # too small: no 1 km cell centre inside
    ]
    feats = []
    for i, (u, v, rx, ry, n, ang, wob) in enumerate(specs):
        ring = blob(x0 + u * 1000, y0 - v * 1000, rx, ry, n, ang, wob, 100 + i)
        feats.append({"type": "Feature", "properties": {"id": i + 1}, "geometry": {"type": "Polygon", "coordinates": [ring]}})
    fc = {
        "type": "FeatureCollection",
        "name": "mines",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::%d" % EPSG}},
        "features": feats,
    }
    with open(path, "w") as f:
        json.dump(fc, f, indent=1)
        f.write("\n")


def run(args):
    print("+", " ".join(args))
    subprocess.run(args, check=True)


if __name__ == "__main__":
    write_dem("dem.tif")
    run(["gdaldem", "slope", "-q", "dem.tif", "slope_gdaldem.tif", "-co", "COMPRESS=DEFLATE"])
    write_mines("mines.geojson")
    run(["gdal_rasterize", "-q", "-burn", "1", "-init", "0", "-ot", "Byte", "-a_srs", "EPSG:%d" % EPSG,
         "-te", "400000", "4440000", "470000", "4500000", "-tr", "1000", "1000", "-co", "COMPRESS=DEFLATE",
         "mines.geojson", "mines_burn.tif"])
    run(["gdal_proximity.py", "-q", "mines_burn.tif", "proximity_gdal.tif", "-distunits", "GEO", "-ot", "Float32",
         "-co", "COMPRESS=DEFLATE"])
    for f in ["slope_gdaldem.tif", "mines_burn.tif", "proximity_gdal.tif"]:
        ds = gdal.Open(f)  # keep the dataset alive while its band is read
        a = ds.GetRasterBand(1).ReadAsArray()
        print(f, a.shape, a.dtype, float(a.min()), float(a.max()))
