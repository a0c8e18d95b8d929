"""Expected RSEI for `tests/conformance.rs`, computed with numpy (np.cov with ddof=1, np.linalg.eigh).

A 20 × 30 synthetic study area: four correlated indicators with a few NaN pixels and a water mask.
Writes rsei_numpy_inputs.csv (ndvi, wet, ndbsi, lst, usable, rsei expected; 'nan' for nodata) and
rsei_numpy_model.csv (name,value: pc1 loadings, eigenvalues, contribution, normalised means).
Usage: python3 make_rsei_numpy.py   (needs numpy)
"""
import os

import numpy as np

out_dir = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(2024)
rows, cols = 20, 30
n = rows * cols
g = rng.random(n)
ndvi = (0.1 + 0.7 * g + 0.05 * rng.random(n)).astype(np.float32)
wet = (-0.2 + 0.15 * g + 0.08 * rng.random(n)).astype(np.float32)
ndbsi = (0.3 - 0.5 * g + 0.1 * rng.random(n)).astype(np.float32)
lst = (35.0 - 12.0 * g + 6.0 * rng.random(n)).astype(np.float32)
ndvi[[5, 77, 300]] = np.nan
lst[[12, 450]] = np.nan
usable = rng.random(n) > 0.1  # ~10 % water / invalid

x = np.stack([ndvi, wet, ndbsi, lst]).astype(np.float64)
use = usable & np.all(np.isfinite(x), axis=0)
xv = x[:, use]
lo, hi = xv.min(axis=1), xv.max(axis=1)
ni = (xv - lo[:, None]) / (hi - lo)[:, None]
cov = np.cov(ni, ddof=1)
vals, vecs = np.linalg.eigh(cov)
order = np.argsort(vals)[::-1]
vals, vecs = vals[order], vecs[:, order]
pc1 = vecs[:, 0]
if pc1[0] + pc1[1] < 0:
    pc1 = -pc1
means = ni.mean(axis=1)
r0 = pc1 @ (ni - means[:, None])
r = (r0 - r0.min()) / (r0.max() - r0.min())
rsei = np.full(n, np.nan)
rsei[use] = r

with open(os.path.join(out_dir, "rsei_numpy_inputs.csv"), "w") as f:
    f.write("ndvi,wet,ndbsi,lst,usable,rsei\n")
    for i in range(n):
        f.write(f"{repr(float(ndvi[i]))},{repr(float(wet[i]))},{repr(float(ndbsi[i]))},{repr(float(lst[i]))},{int(usable[i])},{repr(float(rsei[i]))}\n")
with open(os.path.join(out_dir, "rsei_numpy_model.csv"), "w") as f:
    f.write("name,value\n")
    f.write(f"rows,{rows}\ncols,{cols}\nn,{int(use.sum())}\n")
    for k, v in enumerate(pc1):
        f.write(f"pc1_{k},{repr(float(v))}\n")
    for k, v in enumerate(vals):
        f.write(f"eigenvalue_{k},{repr(float(v))}\n")
    for k, v in enumerate(means):
        f.write(f"mean_{k},{repr(float(v))}\n")
    f.write(f"contribution,{repr(float(vals[0] / vals.sum()))}\n")
print(f"{int(use.sum())} pixels used; PC1 {pc1}; contribution {vals[0] / vals.sum():.4f}")
