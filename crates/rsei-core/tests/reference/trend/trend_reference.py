"""Reference values for `rsei_core::trend` from pymannkendall 1.4.3 and statsmodels.

Writes `trend_expected.json` beside this file, read by `crates/rsei-core/tests/trend_reference.rs`.
Every input is written literally below; nothing is random.

Usage (from the repository root):
    pip install pymannkendall==1.4.3 numpy statsmodels
    python3 crates/rsei-core/tests/reference/trend/trend_reference.py

Sections of the output:
- `series`: per series, `pymannkendall.original_test`, `hamed_rao_modification_test` (alpha 0.05,
  lag None) and `sens_slope`. Missing values are `null` in the JSON (NaN in Python). For series
  with missing values the Hamed-Rao result is left out: pymannkendall detrends by the position
  among the valid values, `rsei_core::trend` by the time index (documented there). The perfectly
  linear series is also left out of Hamed-Rao: pymannkendall returns NaN there (the ranks of the
  detrended series are all tied, so the autocorrelation is 0/0).
- `bh`: Benjamini-Hochberg q-values and rejections at 0.05 from
  `statsmodels.stats.multitest.multipletests(method="fdr_bh")` on the non-missing p-values
  (statsmodels does not skip NaN, so the NaN positions are put back afterwards).
- `pixels`: a 3 x 4 stack of 8 layers (values exactly representable in float32), the
  per-pixel `original_test` of every pixel with at least 4 valid, non-constant values,
  and BH q-values over those pixels (`q` from pymannkendall's p, `q_sf` from `p_sf`).
- `p_sf` beside every `p`: the same two-sided p-value as `2 * norm.sf(|z|)`. pymannkendall
  computes `2 * (1 - norm.cdf(|z|))`, which cancels for small p (absolute error ~1e-16);
  `rsei_core::trend` computes the upper tail directly, as `p_sf` does.
- `normal`: `scipy.stats.norm.sf` and `norm.ppf` on fixed arguments (checks the erfc and
  quantile approximations in Rust to ~1e-12 relative).
- `hamed_rao_time_index` for series with gaps: the Hamed-Rao variant documented in
  `rsei_core::trend` (detrending by the time index instead of the position among the valid
  values; ranks and autocorrelation over the valid values in order), written out below with
  pymannkendall's own pieces. For a series without gaps it equals `hamed_rao_modification_test`
  (asserted below).
- `pixels_random`: 48 pixels x 24 layers from a fixed linear congruential generator (multiples
  of 1/64 with ties, ~8 % missing, one all-missing pixel), with `original_test`, the Hamed-Rao
  variant above (alpha 0.05, all lags) and BH q-values over the tested pixels.
"""
import json
import math
import os
import sys

import numpy as np
import pymannkendall as mk
from scipy.stats import norm, rankdata
from statsmodels.stats.multitest import multipletests

assert mk.__version__ == "1.4.3", f"expected pymannkendall 1.4.3, found {mk.__version__}"

N = None  # missing

SERIES = {
    # 15 values, rising with noise, no ties
    "rising": [0.31, 0.35, 0.33, 0.38, 0.40, 0.37, 0.42, 0.45, 0.44, 0.47, 0.46, 0.50, 0.52, 0.51, 0.55],
    # 20 values, falling, with tie groups of 2 and 3 (and 4 of 0.52? no: three 0.52 and two 0.47 ...)
    "falling_ties": [0.62, 0.60, 0.60, 0.61, 0.58, 0.58, 0.58, 0.55, 0.57, 0.55,
                     0.52, 0.53, 0.52, 0.52, 0.50, 0.49, 0.50, 0.47, 0.47, 0.45],
    # 25 values, noise around 0.5 without a trend
    "noisy_no_trend": [0.512, 0.487, 0.530, 0.471, 0.499, 0.525, 0.468, 0.503, 0.541, 0.477,
                       0.494, 0.519, 0.482, 0.536, 0.462, 0.508, 0.527, 0.473, 0.515, 0.489,
                       0.458, 0.532, 0.501, 0.479, 0.521],
    # 30 values of an AR(1) process (phi = 0.9) with a small drift, rounded to 4 decimals:
    # strong positive autocorrelation, Hamed-Rao roughly doubles var(S)
    "autocorrelated": [0.4, 0.408, 0.4039, 0.3881, 0.3828, 0.3675, 0.3749, 0.4074, 0.4003, 0.3914,
                       0.4059, 0.4164, 0.4211, 0.4048, 0.4083, 0.4262, 0.4017, 0.3976, 0.3652, 0.3485,
                       0.3226, 0.3316, 0.3193, 0.3392, 0.355, 0.3626, 0.323, 0.3271, 0.3408, 0.3566],
    # 16 values alternating high/low with a tiny drift: negative lag-1 autocorrelation,
    # Hamed-Rao shrinks var(S)
    "alternating": [0.5 + 0.001 * i if i % 2 == 0 else 0.3 + 0.001 * i for i in range(16)],
    # 12 yearly values with two missing years (time index keeps the gaps)
    "gaps": [0.41, 0.44, N, 0.43, 0.47, 0.46, N, 0.50, 0.49, 0.53, 0.52, 0.56],
    # 10 values on a line: Sen slope 1, tau 1 (Hamed-Rao left out, see above)
    "linear": [float(i) for i in range(10)],
    # 10 values with a tie group of 4 and ties among the slopes
    "ties_only_two_levels": [1.0, 1.0, 2.0, 1.0, 2.0, 2.0, 1.0, 2.0, 2.0, 2.0],
}
NO_HAMED_RAO = {"gaps", "linear"}


def f(v):
    """JSON number, or null for NaN."""
    v = float(v)
    return None if math.isnan(v) else v


def mk_dict(r):
    return {
        "trend": r.trend,
        "h": bool(r.h),
        "p": f(r.p),
        "p_sf": f(2.0 * norm.sf(abs(r.z))),
        "z": f(r.z),
        "tau": f(r.Tau),
        "s": f(r.s),
        "var_s": f(r.var_s),
        "slope": f(r.slope),
        "intercept": f(r.intercept),
    }


def arr(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


out = {"generator": "pymannkendall " + mk.__version__ + ", numpy " + np.__version__, "alpha": 0.05, "series": [], "bh": {}, "pixels": {}}

for name, values in SERIES.items():
    x = arr(values)
    entry = {"name": name, "values": [f(v) for v in x], "original": mk_dict(mk.original_test(x, alpha=0.05))}
    sen = mk.sens_slope(x)
    entry["sens_slope"] = {"slope": f(sen.slope), "intercept": f(sen.intercept)}
    if name not in NO_HAMED_RAO:
        hr = mk.hamed_rao_modification_test(x, alpha=0.05)
        entry["hamed_rao"] = mk_dict(hr)
        # the correction factor n/n* (var_s ratio), for information
        entry["hamed_rao_factor"] = f(hr.var_s / entry["original"]["var_s"])
    out["series"].append(entry)

# Benjamini-Hochberg: p-values with ties, a NaN, an exact 0 and an exact 1
P = [0.010, 0.040, 0.030, 0.0001, N, 0.040, 0.200, 0.049, 0.800, 0.0, 1.0, 0.012, 0.035, 0.6, 0.0005]
p = arr(P)
ok = ~np.isnan(p)
rej, q_ok, _, _ = multipletests(p[ok], alpha=0.05, method="fdr_bh")
q = np.full(p.shape, np.nan)
q[ok] = q_ok
rej_all = np.zeros(p.shape, dtype=bool)
rej_all[ok] = rej
out["bh"] = {"p": [f(v) for v in p], "q": [f(v) for v in q], "level": 0.05, "reject": [bool(v) for v in rej_all]}

# Per-pixel stack: 8 layers of 3 x 4 pixels, multiples of 1/64 (exact in float32).
# Pixel k's series is PIX[k]; layer t holds PIX[k][t] for every pixel k (row-major).
PIX = [
    [10, 12, 11, 14, 15, 15, 17, 19],        # rising, one tie
    [30, 28, 29, 25, 24, 26, 21, 20],        # falling
    [20, 22, 19, 21, 20, 23, 18, 21],        # no trend
    [N, N, N, N, N, N, N, N],                # no data (e.g. water)
    [15, N, 16, N, N, N, N, 18],             # 3 valid years: insufficient
    [12, 12, 12, N, 12, 12, 12, 12],         # constant
    [5, N, 7, 8, N, 11, 12, 14],             # rising with gaps (6 valid)
    [40, 41, 39, 40, 42, 38, 41, 40],        # no trend, ties
    [9, 8, 8, 7, 6, 6, 4, 3],                # falling, ties
    [N, 20, 21, 22, N, 24, 25, N],           # strictly rising with gaps (5 valid)
    [33, 31, 35, 30, 36, 29, 37, 28],        # alternating, no trend
    [1, 2, 3, 4, 5, 6, 7, 8],                # strictly rising
]
ROWS, COLS, T = 3, 4, 8
stack = np.array([[np.nan if v is None else v / 64.0 for v in px] for px in PIX], dtype=np.float32)  # pixels x T
assert stack.shape == (ROWS * COLS, T)
pix = {"rows": ROWS, "cols": COLS, "layers": [[f(stack[k, t]) for k in range(ROWS * COLS)] for t in range(T)], "min_years": 4}
expected = []
ps = []
for k in range(ROWS * COLS):
    x = stack[k].astype(np.float64)
    valid = x[~np.isnan(x)]
    if len(valid) < 4:
        expected.append({"status": "no_data" if len(valid) == 0 else "insufficient", "n": int(len(valid))})
        continue
    if np.all(valid == valid[0]):
        expected.append({"status": "constant", "n": int(len(valid))})
        continue
    r = mk.original_test(x, alpha=0.05)
    d = mk_dict(r)
    d["status"] = "tested"
    d["n"] = int(len(valid))
    expected.append(d)
    ps.append((k, r.p))
rej, qv, _, _ = multipletests([pp for _, pp in ps], alpha=0.05, method="fdr_bh")
_, qv_sf, _, _ = multipletests([expected[k]["p_sf"] for k, _ in ps], alpha=0.05, method="fdr_bh")
for (k, _), qq, qs, rr in zip(ps, qv, qv_sf, rej):
    expected[k]["q"] = f(qq)
    expected[k]["q_sf"] = f(qs)
    expected[k]["bh_reject"] = bool(rr)
pix["expected"] = expected
out["pixels"] = pix


def hamed_rao_time_index(values, alpha=0.05):
    """Hamed-Rao (1998), lag = all, detrended by the time index t (0-based) as x_t - (t + 1) * slope.

    Identical to pymannkendall's hamed_rao_modification_test when nothing is missing."""
    x_old = np.asarray(values, dtype=float)
    t = np.arange(len(x_old))[~np.isnan(x_old)]
    x = x_old[~np.isnan(x_old)]
    n = len(x)
    base = mk.original_test(x_old, alpha=alpha)
    s, var_s = base.s, base.var_s
    slope = mk.sens_slope(x_old).slope
    ranks = rankdata(x - (t + 1) * slope)
    y = ranks - ranks.mean()
    acov = (np.correlate(y, y, "full") / (n * np.ones(2 * n - 1)))[n - 1:]
    acf = acov / acov[0]
    bound = norm.ppf(1 - alpha / 2) / np.sqrt(n)
    sni = 0
    for i in range(1, n):
        if not (-bound <= acf[i] <= bound):
            sni += (n - i) * (n - i - 1) * (n - i - 2) * acf[i]
    factor = 1 + (2 / (n * (n - 1) * (n - 2))) * sni
    var_c = var_s * factor
    if not var_c > 0:
        return {"status": "degenerate", "factor": f(factor)}
    z = (s - 1) / np.sqrt(var_c) if s > 0 else ((s + 1) / np.sqrt(var_c) if s < 0 else 0.0)
    p = 2 * (1 - norm.cdf(abs(z)))
    h = abs(z) > norm.ppf(1 - alpha / 2)
    trend = "decreasing" if (z < 0 and h) else ("increasing" if (z > 0 and h) else "no trend")
    return {"status": "tested", "trend": trend, "h": bool(h), "p": f(p), "p_sf": f(2.0 * norm.sf(abs(z))), "z": f(z),
            "var_s": f(var_c), "factor": f(factor)}


for entry in out["series"]:
    x = arr(entry["values"])
    if np.isnan(x).any():
        entry["hamed_rao_time_index"] = hamed_rao_time_index(x)
    elif "hamed_rao" in entry:
        mine = hamed_rao_time_index(x)
        for k in ("p", "z", "var_s"):
            assert mine[k] == entry["hamed_rao"][k], (entry["name"], k, mine[k], entry["hamed_rao"][k])

# Normal distribution: upper tail and quantiles from scipy
Z = [0.0, 1e-8, 0.1, 0.5, 0.6629, 1.0, 1.2, 1.959963984540054, 2.5, 3.0, 3.7, 4.0, 4.5, 5.0, 6.0, 7.5, 8.0, 10.0, 20.0, 30.0, -0.3, -1.5, -2.2, -6.0]
PQ = [1e-300, 1e-20, 1e-10, 1e-5, 0.001, 0.01, 0.025, 0.05, 0.075, 0.1, 0.2, 0.3, 0.45, 0.5, 0.6, 0.9, 0.925, 0.95, 0.975, 0.99, 0.999, 0.99999]
out["normal"] = {
    "sf": [{"z": z, "sf": f(norm.sf(z)), "cdf": f(norm.cdf(z))} for z in Z],
    "ppf": [{"p": p, "z": f(norm.ppf(p))} for p in PQ],
}

# Random stack: a fixed LCG (Knuth's MMIX constants), 48 pixels x 24 layers
R_PIX, R_T = 48, 24
state = 20240601


def lcg():
    global state
    state = (6364136223846793005 * state + 1442695040888963407) % (1 << 64)
    return state >> 33


rstack = np.full((R_PIX, R_T), np.nan)
for k in range(R_PIX):
    drift = (lcg() % 7) - 3          # -3..3 sixty-fourths per 4 years
    base = 20 + lcg() % 20
    for t in range(R_T):
        u = lcg()
        if k == 5 or u % 13 == 0:
            continue                 # missing (pixel 5: all missing)
        rstack[k, t] = (base + (drift * t) // 4 + (u >> 8) % 9 - 4) / 64.0
rstack = rstack.astype(np.float32)
rpix = {"pixels": R_PIX, "layers": [[f(rstack[k, t]) for k in range(R_PIX)] for t in range(R_T)], "min_years": 4, "alpha": 0.05}
rexp, rps = [], []
for k in range(R_PIX):
    x = rstack[k].astype(np.float64)
    valid = x[~np.isnan(x)]
    if len(valid) < 4:
        rexp.append({"status": "no_data" if len(valid) == 0 else "insufficient", "n": int(len(valid))})
        continue
    if np.all(valid == valid[0]):
        rexp.append({"status": "constant", "n": int(len(valid))})
        continue
    d = mk_dict(mk.original_test(x, alpha=0.05))
    d["status"] = "tested"
    d["n"] = int(len(valid))
    d["hamed_rao"] = hamed_rao_time_index(x)
    rexp.append(d)
    rps.append((k, d["p"]))
rej, qv, _, _ = multipletests([pp for _, pp in rps], alpha=0.05, method="fdr_bh")
_, qv_sf, _, _ = multipletests([rexp[k]["p_sf"] for k, _ in rps], alpha=0.05, method="fdr_bh")
for (k, _), qq, qs, rr in zip(rps, qv, qv_sf, rej):
    rexp[k]["q"] = f(qq)
    rexp[k]["q_sf"] = f(qs)
    rexp[k]["bh_reject"] = bool(rr)
rpix["expected"] = rexp
out["pixels_random"] = rpix

path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "trend_expected.json")
with open(path, "w") as fh:
    json.dump(out, fh, indent=1, allow_nan=False)
    fh.write("\n")
print(f"wrote {path}", file=sys.stderr)
