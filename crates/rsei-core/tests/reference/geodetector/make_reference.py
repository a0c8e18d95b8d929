"""Expected values for tests/geodetector_reference.rs (writes expected.json beside this file).

Packages used to make the committed expected.json (Python 3.11):
    geodetector 0.2.0, mapclassify 2.10.0, numpy 2.4.6, pandas 3.1.1, scipy 1.17.1

Run from this folder:
    python -m venv venv && venv/bin/pip install geodetector==0.2.0 "scipy==1.17.1"
    venv/bin/python make_reference.py

Deterministic: no random numbers except numpy's seeded default_rng for the synthetic
continuous factors.

What it writes:
  * "package": the PyPI geodetector 0.2.0 results on its own example table disease.csv
    (GeoDetector.fit: factor q and p, pairwise interaction q and type, risk Welch t tests,
    ecological F and two-sided p). The package drops single-cell strata (gdverse rule).
  * "published": the q and p values printed in the package's README (METADATA), as published.
  * "r_definition": the same detectors computed here directly from the R geodetector / GD
    definitions (single-cell strata kept: zero within variance, counted in N, L and lambda;
    p = 1 - F_nc(F; L-1, N-L, lambda) by scipy.stats.ncf.sf).
  * "ncf": scipy.stats.ncf.sf on a grid of (F, d1, d2, lambda), "f": scipy.stats.f cdf/sf,
    "t": two-sided Student t p-values (scipy.stats.t.sf * 2).
  * "breaks": mapclassify FisherJenks / EqualInterval / Quantiles class upper bounds on a
    seeded sample, and the package's q of every (method, k) candidate of its
    OptimalDiscretizer on a synthetic response.
"""

import json
import os

import numpy as np
import pandas as pd
from scipy import stats

import geodetector
from geodetector import GeoDetector
from geodetector._stats import q_statistic
import mapclassify

HERE = os.path.dirname(os.path.abspath(__file__))


def r_factor(y, x):
    """R geodetector::factor_detector (single-cell strata kept)."""
    y = np.asarray(y, float)
    levels = np.unique(x)
    n = len(y)
    l = len(levels)
    var = y.var(ddof=1)
    ssw = 0.0
    m1 = 0.0
    m2 = 0.0
    for h in levels:
        yh = y[x == h]
        if len(yh) > 1:
            ssw += ((yh - yh.mean()) ** 2).sum()
        m1 += yh.mean() ** 2
        m2 += np.sqrt(len(yh)) * yh.mean()
    q = 1 - ssw / (var * (n - 1))
    lam = (m1 - m2 ** 2 / n) / (var * (n - 1) / n)
    f = (n - l) * q / ((l - 1) * (1 - q))
    p = stats.ncf.sf(f, l - 1, n - l, lam)
    return dict(q=q, f=f, df1=l - 1, df2=n - l, lam=lam, p=float(p),
                singletons=int(sum((x == h).sum() == 1 for h in levels)))


def overlay(a, b):
    return pd.factorize(pd.Series([f"{i}_{j}" for i, j in zip(a, b)]))[0]


def main():
    df = pd.read_csv(os.path.join(HERE, "disease.csv"), encoding="utf-8-sig")
    factors = ["type", "region", "level"]
    gd = GeoDetector(factors=factors, target="incidence")
    gd.fit(df)
    y = df["incidence"].to_numpy(float)

    package = {"factor": {}, "interaction": [], "ecological": [], "risk": {}}
    for _, r in gd.q_values_.iterrows():
        package["factor"][r["variable"]] = {"q": float(r["q_value"]), "p": float(r["p_value"])}
    for pr in gd.interaction_detector_.pairs_ if hasattr(gd, "interaction_detector_") else []:
        pass
    from geodetector.detectors import InteractionDetector
    idet = InteractionDetector().fit(df[factors], y)
    for pr in idet.pairs_:
        package["interaction"].append({
            "a": pr["factor_1"], "b": pr["factor_2"],
            "q1": float(pr["q_1_pair"]), "q2": float(pr["q_2_pair"]), "q12": float(pr["q_12"]),
            "type": int(pr["interaction_type"]),
        })
    for _, r in gd.ecological_result_.iterrows():
        package["ecological"].append({"a": r["factor_1"], "b": r["factor_2"],
                                      "f": float(r["f_stat"]), "p": float(r["p_value"])})
    for f, tab in gd.risk_result_.items():
        package["risk"][f] = [{"s1": int(r["stratum_1"]), "s2": int(r["stratum_2"]),
                               "t": float(r["t_stat"]), "p": float(r["p_value"])}
                              for _, r in tab.iterrows()]

    # R definition (singletons kept)
    r_def = {"factor": {}, "interaction": [], "ecological": []}
    for f in factors:
        r_def["factor"][f] = r_factor(y, df[f].to_numpy())
    for i in range(len(factors)):
        for j in range(i + 1, len(factors)):
            a, b = df[factors[i]].to_numpy(), df[factors[j]].to_numpy()
            ov = r_factor(y, overlay(a, b))
            r_def["interaction"].append({"a": factors[i], "b": factors[j], "q12": ov["q"],
                                         "p12": ov["p"], "lam12": ov["lam"], "singletons": ov["singletons"]})
            q1, q2 = r_def["factor"][factors[i]]["q"], r_def["factor"][factors[j]]["q"]
            fv = (1 - q1) / (1 - q2)
            n = len(y)
            r_def["ecological"].append({"a": factors[i], "b": factors[j], "f": fv,
                                        "p_upper": float(stats.f.sf(fv, n - 1, n - 1))})

    # distributions
    grid = []
    for (f, d1, d2, lam) in [
        (1.5, 4, 180, 0.8), (0.3, 4, 180, 0.8), (3.0, 8, 176, 2.5), (2.2, 6, 178, 1.2),
        (50.0, 2, 40, 3.0), (0.01, 1, 10, 0.5), (5.0, 1, 5, 20.0), (21.0, 10, 1000, 200.0), (30.0, 10, 1000, 200.0),
        (25.0, 7, 99_992, 40.0), (60.0, 7, 99_992, 12.0), (3600.0, 3, 30, 1e4), (4200.0, 3, 30, 1e4),
        (167_000.0, 3, 50_000, 5e5), (170_000.0, 3, 50_000, 5e5), (28.256118897688445, 4, 180, 101.92557585546326),
        (2.0, 20, 20, 0.0), (0.5, 2.5, 7.5, 3.3), (12.0, 5, 300, 60.0), (1.8, 9, 999_990, 7.0),
    ]:
        grid.append({"f": f, "d1": d1, "d2": d2, "lam": lam, "sf": float(stats.ncf.sf(f, d1, d2, lam))
                     if lam > 0 else float(stats.f.sf(f, d1, d2))})
    fgrid = [{"f": f, "d1": d1, "d2": d2, "cdf": float(stats.f.cdf(f, d1, d2)), "sf": float(stats.f.sf(f, d1, d2))}
             for (f, d1, d2) in [(1.7, 184, 184), (0.9, 184, 184), (3.0, 5, 12), (0.2, 5, 12), (1.01, 99_999, 99_999)]]
    tgrid = [{"t": t, "df": d, "p": float(2 * stats.t.sf(abs(t), d))}
             for (t, d) in [(2.1, 14.3), (-0.4, 3.2), (9.5, 80.7), (25.0, 120.0), (1.0, 1.0), (0.0, 7.0)]]

    # discretisation on a seeded sample
    rng = np.random.default_rng(20240517)
    x = np.round(rng.gamma(2.0, 3.0, 400), 6)
    yv = np.round(np.sin(x / 3.0) + 0.1 * x + rng.normal(0, 0.3, 400), 6)
    br = {"x": x.tolist(), "y": yv.tolist(), "natural": {}, "equal": {}, "quantile": {}, "candidates": []}
    for k in range(3, 9):
        br["natural"][str(k)] = mapclassify.FisherJenks(x, k=k).bins[:-1].tolist()
        br["equal"][str(k)] = mapclassify.EqualInterval(x, k=k).bins[:-1].tolist()
        br["quantile"][str(k)] = mapclassify.Quantiles(x, k=k).bins[:-1].tolist()
        for m, cls in [("natural", mapclassify.FisherJenks), ("equal", mapclassify.EqualInterval),
                       ("quantile", mapclassify.Quantiles)]:
            bins = cls(x, k=k).bins
            lab = np.digitize(x, bins, right=True)
            counts = np.bincount(lab, minlength=k)
            br["candidates"].append({"method": m, "k": k, "q": float(q_statistic(yv, lab)),
                                     "min_count": int(counts.min())})

    out = {
        "versions": {"geodetector": geodetector.__version__ if hasattr(geodetector, "__version__") else "0.2.0",
                     "mapclassify": mapclassify.__version__, "numpy": np.__version__,
                     "scipy": __import__("scipy").__version__, "pandas": pd.__version__},
        "published": {"type": {"q": 0.3857, "p": 0.372145}, "region": {"q": 0.6378, "p": 0.000129},
                      "level": {"q": 0.6067, "p": 0.043382}},
        "package": package,
        "r_definition": r_def,
        "ncf": grid,
        "f": fgrid,
        "t": tgrid,
        "breaks": br,
    }
    with open(os.path.join(HERE, "expected.json"), "w") as fh:
        json.dump(out, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
