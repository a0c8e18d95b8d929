"""Straightforward numpy implementation of the two RSEI-core stages timed by `throughput.rs`,
on the same size (4800 × 4800 synthetic pixels), for comparison.

(a) indicators WET, NDBSI, MNDWI, NDVI from seven reflectance bands (zero denominators → NaN);
(b) RSEI stage from four indicators: min-max normalisation, covariance PCA, PC1 orientation,
    RSEI0, rescale to [0, 1] and five grades.

Usage: python3 crates/rsei-core/benches/numpy_baseline.py [side]   (needs `pip install numpy`)
Prints Mpx/s (best of 3 runs). numpy runs these element-wise operations on one thread.
"""
import sys
import time

import numpy as np

WET = np.array([0.1147, 0.2489, 0.2408, 0.3132, -0.3122, -0.6416, -0.5087], dtype=np.float32)


def ratio(num, den):
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    out[den == 0] = np.nan
    return out


def indicators(b):
    red, nir, blue, green, _, swir1, _ = b
    wet = np.tensordot(WET, b, axes=1)
    si = ratio((swir1 + red) - (nir + blue), (swir1 + red) + (nir + blue))
    a = ratio(2 * swir1, swir1 + nir)
    bb = ratio(nir, nir + red) + ratio(green, green + swir1)
    ibi = ratio(a - bb, a + bb)
    ndbsi = (si + ibi) * 0.5
    mndwi = ratio(green - swir1, green + swir1)
    ndvi = ratio(nir - red, nir + red)
    return wet, ndbsi, mndwi, ndvi


def rsei(ind, valid):
    x = np.stack(ind)  # 4 × n
    use = valid & np.all(np.isfinite(x), axis=0)
    xv = x[:, use].astype(np.float64)
    lo = xv.min(axis=1)
    hi = xv.max(axis=1)
    ni = (xv - lo[:, None]) / (hi - lo)[:, None]
    cov = np.cov(ni)
    vals, vecs = np.linalg.eigh(cov)
    order = np.argsort(vals)[::-1]
    vals, vecs = vals[order], vecs[:, order]
    pc1 = vecs[:, 0]
    if pc1[0] + pc1[1] < 0:
        pc1 = -pc1
    r0 = pc1 @ (ni - ni.mean(axis=1)[:, None])
    r = (r0 - r0.min()) / (r0.max() - r0.min())
    out = np.full(x.shape[1], np.nan, dtype=np.float32)
    out[use] = r
    grades = np.bincount(np.minimum((r / 0.2).astype(np.int64), 4), minlength=5)
    return out, pc1, vals[0] / vals.sum(), grades


def best_of(n, f):
    best, out = float("inf"), None
    for _ in range(n):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def main():
    side = int(sys.argv[1]) if len(sys.argv) > 1 else 4800
    n = side * side
    mpx = n / 1e6
    rng = np.random.default_rng(42)
    g = rng.random(n, dtype=np.float32)
    base = np.array([0.20, 0.15, 0.08, 0.12, 0.18, 0.30, 0.25], dtype=np.float32)
    slope = np.array([-0.15, 0.30, -0.05, -0.05, 0.25, -0.15, -0.17], dtype=np.float32)
    b = np.empty((7, n), dtype=np.float32)
    for k in range(7):
        b[k] = base[k] + slope[k] * g + 0.02 * rng.random(n, dtype=np.float32)
    print(f"synthetic {side} × {side} = {mpx:.2f} Mpx; numpy {np.__version__}; best of 3 runs")
    secs, (wet, ndbsi, mndwi, ndvi) = best_of(3, lambda: indicators(b))
    print(f"indicators (WET, NDBSI, MNDWI, NDVI) from 7 bands, numpy: {mpx / secs:7.1f} Mpx/s ({secs:.3f} s)")
    lst = (38.0 - 15.0 * ndvi + 3.0 * rng.random(n, dtype=np.float32)).astype(np.float32)
    valid = ~(mndwi > 0)
    secs, (_, pc1, contrib, _) = best_of(3, lambda: rsei([ndvi, wet, ndbsi, lst], valid))
    print(f"RSEI stage (normalise, PCA, RSEI0, rescale, grades), numpy: {mpx / secs:7.1f} Mpx/s ({secs:.3f} s)")
    print(f"  PC1 = {np.round(pc1, 3)}, contribution {contrib:.3f}")


if __name__ == "__main__":
    main()
