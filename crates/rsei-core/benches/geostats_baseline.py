"""Python baselines of the three workloads of `geostats.rs`, on data of the same sizes and kind
(differently seeded: numpy's generator, not SplitMix64):

(a) trend: Mann-Kendall (tie-corrected variance, continuity correction) and the Theil-Sen slope
    per pixel over a stack of `--years` layers of `--pixels` pixels with 2 % missing values, then
    Benjamini-Hochberg classes at q = 0.05. Two implementations:
      * pymannkendall 1.4.3 `original_test` looped over a sample of `--mk-sample` pixels, the time
        scaled to all pixels (a loop over 10 M pixels would take hours);
      * a vectorised numpy version written for this comparison (chunks of pixels; S from the
        signs of all pairwise differences, the tie term from sorted columns, the slope as the
        nan-median of the pairwise slopes), checked against pymannkendall on the sample.
(b) geodetector: PyPI `geodetector` 0.2.0, `OptimalDiscretizer` (quantile and equal intervals,
    k = 3..8; its Fisher-Jenks is exact O(k n^2) and does not finish at 100 000 cells) on 10
    factors of `--cells` cells, then `GeoDetector` (factor, interaction, risk, ecological
    detectors) on the chosen strata.
(c) spatial: PySAL (libpysal queen weights of the valid cells of a `--side`^2 raster with 1 %
    nodata; esda `Moran` and `Moran_Local` with `--permutations` permutations, numba).

Usage (scripts/bench-geostats.sh runs it beside the Rust bench):
    pip install numpy scipy pymannkendall==1.4.3 geodetector==0.2.0 esda libpysal numba
    python3 crates/rsei-core/benches/geostats_baseline.py [--pixels N] [--years Y] [--mk-sample S]
        [--cells C] [--side W] [--lisa-side L] [--permutations P] [--jobs J] [--skip trend,geodetector,spatial]
"""
import argparse
import time

import numpy as np


def best_of(n, f):
    best, out = float("inf"), None
    for _ in range(n):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


# --------------------------------------------------------------------------------------------
# (a) trend
# --------------------------------------------------------------------------------------------

def mk_sen_vectorised(x):
    """x: (years, pixels) float64 with NaN = missing. Returns slope, z, p, n (NaN where not tested)."""
    from scipy.special import ndtr

    t_n, m = x.shape
    pairs = [(i, j) for i in range(t_n) for j in range(i + 1, t_n)]
    ii = np.array([p[0] for p in pairs])
    jj = np.array([p[1] for p in pairs])
    d = x[jj] - x[ii]  # (pairs, pixels), NaN where either is missing
    s = np.nansum(np.sign(d), axis=0)
    # median of the valid pairwise slopes: sort each column (NaN last), pick the middle one(s)
    slopes = np.sort(d / (jj - ii)[:, None], axis=0)
    k = np.isfinite(slopes).sum(axis=0)
    lo = np.maximum((k - 1) // 2, 0)
    hi = np.maximum(k // 2, 0)
    cols = np.arange(m)
    with np.errstate(all="ignore"):
        slope = np.where(k > 0, 0.5 * (slopes[lo, cols] + slopes[hi, cols]), np.nan)
    n = np.isfinite(x).sum(axis=0).astype(np.float64)
    xs = np.sort(x, axis=0)  # NaN last
    term = np.zeros(m)
    run = np.ones(m)
    for i in range(1, t_n):
        same = xs[i] == xs[i - 1]
        term += np.where(same, 0.0, run * (run - 1) * (2 * run + 5))
        run = np.where(same, run + 1, 1.0)
    term += run * (run - 1) * (2 * run + 5)
    var = (n * (n - 1) * (2 * n + 5) - term) / 18.0
    with np.errstate(all="ignore"):
        z = np.where(s > 0, (s - 1) / np.sqrt(var), np.where(s < 0, (s + 1) / np.sqrt(var), 0.0))
    tested = (n >= 4) & (var > 0)
    p = np.where(tested, 2 * ndtr(-np.abs(z)), np.nan)
    return np.where(n >= 2, slope, np.nan), np.where(tested, z, np.nan), p, n


def bh_classes(p, z, q=0.05):
    ok = np.isfinite(p)
    ps = p[ok]
    order = np.argsort(ps, kind="stable")
    m = len(ps)
    adj = ps[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(adj[::-1])[::-1]
    qv = np.empty(m)
    qv[order] = np.minimum(adj, 1.0)
    cls = np.zeros(len(p), dtype=np.uint8)
    sig = qv <= q
    zz = z[ok]
    cls_ok = np.where(~sig, 2, np.where(zz > 0, 3, 1))
    cls[ok] = cls_ok
    return cls


def trend(args):
    import pymannkendall as mk

    rng = np.random.default_rng(3)
    npx, years = args.pixels, args.years
    b = (rng.random(npx) - 0.5) * 0.02
    x = np.empty((years, npx), dtype=np.float32)
    for t in range(years):
        v = 0.5 + b * t + 0.05 * rng.standard_normal(npx)
        v[rng.random(npx) < 0.02] = np.nan
        x[t] = v
    print(f"trend: {npx} pixels × {years} years, 2 % missing")

    # pymannkendall, looped over a sample
    sample = min(args.mk_sample, npx)
    xs = x[:, :sample].astype(np.float64)

    def loop():
        out = []
        for k in range(sample):
            r = mk.original_test(xs[:, k])
            out.append((r.slope, r.z, r.p))
        return out

    t_loop, res = best_of(1, loop)
    per_px = t_loop / sample
    print(f"  pymannkendall {mk.__version__} original_test looped: {sample} pixels in {t_loop:.2f} s "
          f"({per_px * 1e6:.0f} µs/pixel) → {per_px * npx:.0f} s for {npx} pixels (scaled)")

    # vectorised numpy, same sample first: the numbers must agree with pymannkendall
    slope, z, p, _ = mk_sen_vectorised(xs)
    ref = np.array(res)
    # pymannkendall drops missing values and closes the gaps (slopes per position among the
    # valid values); here, as in rsei, the time axis keeps them: compare slopes on complete series
    full = np.isfinite(xs).all(axis=0)
    assert np.allclose(slope[full], ref[full, 0], rtol=1e-9, atol=1e-12), "slope differs from pymannkendall"
    assert np.allclose(z, ref[:, 1], rtol=1e-9, atol=1e-12, equal_nan=True), "z differs from pymannkendall"
    assert np.allclose(p, ref[:, 2], rtol=1e-6, atol=1e-12, equal_nan=True), "p differs from pymannkendall"

    chunk = args.chunk

    def vec():
        slope = np.empty(npx)
        z = np.empty(npx)
        p = np.empty(npx)
        for a in range(0, npx, chunk):
            s, zz, pp, _ = mk_sen_vectorised(x[:, a:a + chunk].astype(np.float64))
            slope[a:a + chunk], z[a:a + chunk], p[a:a + chunk] = s, zz, pp
        return bh_classes(p, z)

    t_vec, cls = best_of(1, vec)
    counts = np.bincount(cls, minlength=4)
    print(f"  numpy vectorised (chunks of {chunk} pixels) + BH: {t_vec:.2f} s ({npx / t_vec / 1e6:.3f} Mpx/s); "
          f"improvement {counts[3]}, degradation {counts[1]}, not significant {counts[2]}, not tested {counts[0]}")


# --------------------------------------------------------------------------------------------
# (b) geodetector
# --------------------------------------------------------------------------------------------

def geodetector_bench(args):
    import pandas as pd
    from geodetector import GeoDetector, OptimalDiscretizer

    rng = np.random.default_rng(42)
    n = args.cells
    cols = {}
    for f in range(10):
        if f % 3 == 0:
            cols[f"x{f}"] = rng.random(n) * 1000.0
        elif f % 3 == 1:
            cols[f"x{f}"] = np.minimum(np.exp(rng.standard_normal(n) * 2.0 + 10.0), 1e9)
        else:
            cols[f"x{f}"] = rng.random(n) ** 3 * 50.0
    a = cols["x0"] / 1000.0
    b = (np.log(cols["x1"]) - 10.0) / 4.0
    c = cols["x2"] / 50.0
    y = 0.4 * a + 0.2 * np.tanh(b) + 0.3 * np.sin(6 * c) + 0.1 * rng.standard_normal(n)
    X = pd.DataFrame(cols)

    def run():
        od = OptimalDiscretizer(discretize_methods=["quantile", "equal"], k_range=(3, 8)).fit(X, y)
        Xd = od.transform(X).astype("int64").astype("category")
        data = pd.concat([pd.Series(y, name="y"), Xd], axis=1)
        gd = GeoDetector(factors=list(X.columns), target="y").fit(data)
        return od, gd

    t, (od, gd) = best_of(1, run)
    print(f"geodetector (PyPI geodetector 0.2.0): {n} cells × 10 factors, OptimalDiscretizer (quantile, equal × k 3..8) "
          f"+ factor, interaction, risk, ecological detectors: {t:.2f} s")
    q = gd.q_values_.set_index("variable")["q_value"]
    print(f"  x0: {od.best_method_.get('x0')} k={od.best_k_.get('x0')} q={q['x0']:.4f}")


# --------------------------------------------------------------------------------------------
# (c) spatial autocorrelation
# --------------------------------------------------------------------------------------------

def spatial(args):
    import scipy.sparse as sp
    from esda import Moran, Moran_Local
    from libpysal.weights import WSP

    rng = np.random.default_rng(7)

    def field(side):
        r, c = np.divmod(np.arange(side * side), side)
        v = np.sin(r / 37.0) * np.cos(c / 53.0) + 0.5 * rng.standard_normal(side * side)
        v[rng.random(side * side) < 0.01] = np.nan
        return v

    side = args.side
    v = field(side)
    valid = np.isfinite(v)

    def weights(side, valid):
        idx = np.full(side * side, -1, dtype=np.int64)
        idx[valid] = np.arange(valid.sum())
        grid = idx.reshape(side, side)
        rows, cols = [], []
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                if (dr, dc) == (0, 0):
                    continue
                a = grid[max(dr, 0):side + min(dr, 0), max(dc, 0):side + min(dc, 0)]
                b = grid[max(-dr, 0):side + min(-dr, 0), max(-dc, 0):side + min(-dc, 0)]
                ok = (a >= 0) & (b >= 0)
                rows.append(b[ok])
                cols.append(a[ok])
        rows, cols = np.concatenate(rows), np.concatenate(cols)
        m = int(valid.sum())
        a = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(m, m))
        w = WSP(a).to_W(silence_warnings=True)
        w.transform = "r"
        return w

    tw, w = best_of(1, lambda: weights(side, valid))
    y = v[valid]
    # compile esda's numba kernels before timing (a small problem of the same kind)
    from libpysal.weights import lat2W
    w0 = lat2W(20, 20, rook=False)
    w0.transform = "r"
    Moran_Local(rng.standard_normal(400), w0, permutations=9, n_jobs=args.jobs, seed=1)
    print(f"queen weights (libpysal, from a sparse matrix): {w.n} valid cells of {side}×{side}: {tw:.2f} s")
    perms = args.permutations
    tm, m = best_of(1, lambda: Moran(y, w, permutations=perms))
    print(f"global Moran's I (esda), {perms} permutations: {tm:.2f} s (I = {m.I:.4f}, z_norm = {m.z_norm:.1f}, p_sim = {m.p_sim})")
    ls = args.lisa_side or side
    if ls != side:
        vl = field(ls)
        wl = weights(ls, np.isfinite(vl))
        yl = vl[np.isfinite(vl)]
    else:
        wl, yl = w, y
    tl, lm = best_of(1, lambda: Moran_Local(yl, wl, permutations=perms, n_jobs=args.jobs, seed=1))
    sig = lm.p_sim < 0.05
    scaled = "" if ls == side else f" → {tl * w.n / wl.n:.0f} s for {w.n} cells (scaled by cells)"
    print(f"LISA (esda Moran_Local, numba, n_jobs={args.jobs}), {perms} conditional permutations on {wl.n} cells: {tl:.2f} s"
          f"{scaled} ({int(sig.sum())} cells with p_sim < 0.05)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pixels", type=int, default=10_000_000)
    ap.add_argument("--years", type=int, default=24)
    ap.add_argument("--mk-sample", type=int, default=2000)
    ap.add_argument("--chunk", type=int, default=20_000)
    ap.add_argument("--cells", type=int, default=100_000)
    ap.add_argument("--side", type=int, default=1000)
    ap.add_argument("--permutations", type=int, default=999)
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--lisa-side", type=int, default=0, help="side of the LISA raster (default: --side); smaller sides are timed and scaled")
    ap.add_argument("--skip", default="")
    args = ap.parse_args()
    skip = set(s for s in args.skip.split(",") if s)
    print(f"numpy {np.__version__}")
    if "trend" not in skip:
        trend(args)
    if "geodetector" not in skip:
        geodetector_bench(args)
    if "spatial" not in skip:
        spatial(args)


if __name__ == "__main__":
    main()
