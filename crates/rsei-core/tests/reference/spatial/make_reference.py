"""Expected values for tests/spatial_reference.rs (writes expected.json beside this file).

Packages used to make the committed expected.json (Python 3.11):
    esda 2.9.0, libpysal 4.14.1, numpy 2.4.6, scipy 1.17.1 (numba not installed)

Run from this folder:
    python -m venv venv && venv/bin/pip install esda==2.9.0 libpysal==4.14.1
    venv/bin/python make_reference.py

Two fixed 12 x 15 rasters (row-major, a few NaN cells, values rounded to float32 so that the
Rust test can pass them as f32 without changing them):
  * "clustered": a smooth surface (two bumps and a gradient) plus a little noise,
  * "random": independent normal values,
both from numpy's default_rng with fixed seeds. For each raster and each of two weights,
  * queen contiguity: libpysal.weights.lat2W(12, 15, rook=False) restricted to the valid cells
    with libpysal.weights.w_subset,
  * distance band: libpysal.weights.DistanceBand on the cell centres (x = col * 1000 m,
    y = row * 800 m), threshold 2100 m, binary,
both row-standardised, it records S0, S1, S2, esda.Moran (I, EI, VI_norm, z_norm, p_norm,
VI_rand, z_rand, p_rand, p_sim with 9999 permutations after np.random.seed(1)) and
esda.Moran_Local (Is, q, EIc, VIc, p_sim with 9999 permutations, seed=1). Permutation
p-values depend on numpy's generator; the Rust test compares them statistically only.
"""

import json
import os
import warnings

import numpy as np
import libpysal
import esda
import scipy

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS, COLS = 12, 15
NAN_CELLS = [(0, 0), (2, 7), (5, 3), (6, 12), (9, 9), (11, 14), (4, 10), (8, 1)]


def rasters():
    rng = np.random.default_rng(7)
    r, c = np.mgrid[0:ROWS, 0:COLS]
    smooth = (np.exp(-((r - 3) ** 2 + (c - 4) ** 2) / 8.0) * 2.0
              - np.exp(-((r - 8) ** 2 + (c - 11) ** 2) / 6.0) * 1.5 + 0.05 * c)
    clustered = smooth + rng.normal(0, 0.05, smooth.shape)
    rnd = np.random.default_rng(11).normal(0, 1, (ROWS, COLS))
    out = {}
    for name, a in [("clustered", clustered), ("random", rnd)]:
        a = a.astype(np.float32).astype(np.float64)
        for (i, j) in NAN_CELLS:
            a[i, j] = np.nan
        out[name] = a.ravel()
    return out


def weights(valid_ids):
    queen = libpysal.weights.w_subset(libpysal.weights.lat2W(ROWS, COLS, rook=False), valid_ids)
    coords = np.array([((i % COLS) * 1000.0, (i // COLS) * 800.0) for i in valid_ids])
    band = libpysal.weights.DistanceBand(coords, threshold=2100.0, binary=True, ids=valid_ids, silence_warnings=True)
    return {"queen": queen, "band": band}


def main():
    warnings.simplefilter("ignore")
    out = {"rows": ROWS, "cols": COLS, "versions": {"esda": esda.__version__, "libpysal": libpysal.__version__,
                                                     "numpy": np.__version__, "scipy": scipy.__version__},
           "rasters": {}, "cases": []}
    for name, v in rasters().items():
        out["rasters"][name] = [None if np.isnan(x) else float(x) for x in v]
        valid_ids = [int(i) for i in np.flatnonzero(~np.isnan(v))]
        y = v[valid_ids]
        for wname, w in weights(valid_ids).items():
            assert list(w.id_order) == valid_ids
            w.transform = "r"
            assert not w.islands
            np.random.seed(1)
            m = esda.Moran(y, w, permutations=9999)
            lm = esda.Moran_Local(y, w, permutations=9999, seed=1)
            out["cases"].append({
                "raster": name, "weights": wname, "n": int(w.n),
                "cardinalities": [int(w.cardinalities[i]) for i in valid_ids],
                "s0": float(w.s0), "s1": float(w.s1), "s2": float(w.s2),
                "I": float(m.I), "EI": float(m.EI), "VI_norm": float(m.VI_norm), "z_norm": float(m.z_norm),
                "p_norm": float(m.p_norm), "VI_rand": float(m.VI_rand), "z_rand": float(m.z_rand),
                "p_rand": float(m.p_rand), "p_sim": float(m.p_sim),
                "Is": lm.Is.tolist(), "q": [int(x) for x in lm.q], "EIc": lm.EIc.tolist(), "VIc": lm.VIc.tolist(),
                "local_p_sim": lm.p_sim.tolist(),
                "fdr_cut": float(esda.fdr(lm.p_sim, 0.05)),
            })
    with open(os.path.join(HERE, "expected.json"), "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
