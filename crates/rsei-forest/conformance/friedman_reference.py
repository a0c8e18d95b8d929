"""Reference accuracy of scikit-learn and ranger on Friedman #1, for tests/forest.rs.

Data: sklearn.datasets.make_friedman1(n_samples=14300, n_features=10, noise=1, random_state=0);
rows 0..10000 train, rows 10000..14300 validation (the Rust tests regenerate the same numbers bit
for bit, see tests/support/mod.rs).

Forests (1000 trees, 3 predictors tried per node, bootstrap of n with replacement, seed 42):
* ranger (C++, built by build_ranger.sh): --treetype 3 --ntree 1000 --mtry 3
  --targetpartitionsize 5 --nthreads 2 --impmeasure 3. ranger counts bootstrap duplicates in a
  node's size and splits a node only if it holds more than 5 cases: R's nodesize = 5 exactly.
* scikit-learn RandomForestRegressor(n_estimators=1000, max_features=3, bootstrap=True,
  oob_score=True). scikit-learn weights bootstrap duplicates instead of repeating them, and its
  min_samples_split counts *distinct* rows. R's rule "split if more than 5 bootstrap cases" (6 or
  more cases, i.e. about 6 × 0.632 ≈ 3.8 distinct rows) is mapped to min_samples_split=4,
  min_samples_leaf=1.

Written: friedman_reference.json with, per tool, the validation R² (fraction), RMSE and MAE on the
4300 validation rows, and the OOB "% Var explained" as a fraction:
1 − MSE_OOB / var_pop(y_train) (var_pop divides by n, as R's randomForest does).

Run (from this folder):  python3 friedman_reference.py [--ranger /work/ranger-build/bin/ranger]
"""
import argparse
import json
import os
import re
import subprocess
import tempfile
import time

import numpy as np
import sklearn
from sklearn.datasets import make_friedman1
from sklearn.ensemble import RandomForestRegressor


def metrics(y, yhat):
    ss_res = float(np.sum((y - yhat) ** 2))
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    return {
        "valid_r2": 1.0 - ss_res / ss_tot,
        "valid_rmse": float(np.sqrt(ss_res / len(y))),
        "valid_mae": float(np.mean(np.abs(y - yhat))),
    }


def friedman():
    X, y = make_friedman1(n_samples=14300, n_features=10, noise=1, random_state=0)
    return X[:10000], y[:10000], X[10000:], y[10000:]


def run_sklearn(Xtr, ytr, Xte, yte):
    rf = RandomForestRegressor(
        n_estimators=1000, max_features=3, min_samples_split=4, min_samples_leaf=1,
        bootstrap=True, oob_score=True, n_jobs=2, random_state=42,
    )
    t = time.perf_counter()
    rf.fit(Xtr, ytr)
    fit_s = time.perf_counter() - t
    oob = rf.oob_prediction_
    ok = ~np.isnan(oob)
    mse_oob = float(np.mean((ytr[ok] - oob[ok]) ** 2))
    out = metrics(yte, rf.predict(Xte))
    out["oob_var_explained_frac"] = 1.0 - mse_oob / float(np.var(ytr))
    out["fit_s"] = fit_s
    out["version"] = sklearn.__version__
    out["params"] = "n_estimators=1000, max_features=3, min_samples_split=4, min_samples_leaf=1, bootstrap=True, random_state=42"
    return out


def write_csv(path, X, y):
    hdr = ",".join([f"x{i}" for i in range(X.shape[1])] + ["y"])
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header=hdr, comments="", fmt="%.17g")


def run_ranger(exe, Xtr, ytr, Xte, yte):
    with tempfile.TemporaryDirectory() as d:
        train, test = os.path.join(d, "train.csv"), os.path.join(d, "test.csv")
        write_csv(train, Xtr, ytr)
        write_csv(test, Xte, yte)
        pre = os.path.join(d, "rg")
        t = time.perf_counter()
        res = subprocess.run(
            [exe, "--file", train, "--depvarname", "y", "--treetype", "3", "--ntree", "1000",
             "--mtry", "3", "--targetpartitionsize", "5", "--nthreads", "2", "--impmeasure", "3",
             "--seed", "42", "--write", "--outprefix", pre, "--verbose"],
            check=True, capture_output=True, text=True)
        fit_s = time.perf_counter() - t
        mse_oob = float(re.search(r"Overall OOB prediction error:\s*([0-9.eE+-]+)", res.stdout).group(1))
        subprocess.run(
            [exe, "--file", test, "--depvarname", "y", "--treetype", "3", "--predict", pre + ".forest",
             "--nthreads", "2", "--outprefix", pre + "_pred"],
            check=True, capture_output=True, text=True)
        with open(pre + "_pred.prediction") as f:
            lines = f.read().split("\n")
        vals = [float(v) for line in lines[1:] for v in line.split() if v]
        yhat = np.array(vals[: len(yte)])
        imp = {}
        with open(pre + ".importance") as f:
            for line in f:
                k, v = line.split(":")
                imp[k.strip()] = float(v)
    out = metrics(yte, yhat)
    out["oob_var_explained_frac"] = 1.0 - mse_oob / float(np.var(ytr))
    out["fit_s_including_forest_write"] = fit_s
    out["permutation_importance_raw"] = imp
    out["version"] = "ranger 0.12.1 (from skranger 0.8.0 sources)"
    out["params"] = "--treetype 3 --ntree 1000 --mtry 3 --targetpartitionsize 5 --nthreads 2 --impmeasure 3 --seed 42"
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ranger", default="/work/ranger-build/bin/ranger")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "friedman_reference.json"))
    a = ap.parse_args()
    Xtr, ytr, Xte, yte = friedman()
    result = {
        "data": "make_friedman1(n_samples=14300, n_features=10, noise=1, random_state=0); train rows 0..10000, validation rows 10000..14300",
        "units": "valid_r2 and oob_var_explained_frac are fractions (0..1); rmse, mae in response units",
        "sklearn": run_sklearn(Xtr, ytr, Xte, yte),
        "ranger": run_ranger(a.ranger, Xtr, ytr, Xte, yte),
    }
    with open(a.out, "w") as f:
        json.dump(result, f, indent=2, sort_keys=True)
        f.write("\n")
    print(json.dumps(result, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
