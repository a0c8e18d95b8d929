#!/usr/bin/env bash
# Side-by-side benchmark on Friedman #1: rsei-forest, ranger and scikit-learn, one after another,
# on the same data (make_friedman1(14300, 10, noise=1, random_state=0): rows 0..10000 train, rows
# 10000..14300 validation; make_friedman1(1_000_000, 10, noise=1, random_state=1) for prediction).
#
#   crates/rsei-forest/conformance/bench_side_by_side.sh [--skip-ranger-predict] [--skip-sklearn]
#
# Needs: cargo, python3 with numpy and scikit-learn, ranger built by build_ranger.sh (it is built
# if missing). Every tool uses 2 threads, 1000 trees, 3 predictors per node, 5 as R's nodesize
# (scikit-learn: min_samples_split=4, see friedman_reference.py).
#   * rsei-forest: fit with permutation importance (%IncMSE); predict = compiled batch predictor,
#     data already in memory (cargo bench target `forest`).
#   * ranger: fit with --impmeasure 3 (permutation importance) and --write; times include reading
#     the CSV and writing the forest. Predict: --predict on a CSV of 1 000 000 rows (time includes
#     reading the forest and the CSV).
#   * scikit-learn: fit without importance; predict on the in-memory array.
# Wall-clock seconds (Python's time.perf_counter / cargo bench's Instant).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
RANGER_BUILD="${RANGER_BUILD:-/work/ranger-build}"
RANGER="$RANGER_BUILD/bin/ranger"
WORK="${TMPDIR:-/tmp}/rsei-forest-bench"
SKIP_RANGER_PREDICT=0
SKIP_SKLEARN=0
for a in "$@"; do
  case "$a" in
    --skip-ranger-predict) SKIP_RANGER_PREDICT=1 ;;
    --skip-sklearn) SKIP_SKLEARN=1 ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done
mkdir -p "$WORK"
[ -x "$RANGER" ] || "$HERE/build_ranger.sh" "$RANGER_BUILD"

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. rsei-forest (cargo bench target).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target-forest}"
(cd "$ROOT" && cargo bench -q -p rsei-forest --bench forest -- --threads 2 --json) | tee "$WORK/ours.txt"
OURS_JSON="$(grep '^{' "$WORK/ours.txt" | tail -1)"

# 2. Data files for ranger, then ranger and scikit-learn.
python3 - "$WORK" "$RANGER" "$SKIP_RANGER_PREDICT" "$SKIP_SKLEARN" "$OURS_JSON" <<'PY'
import json, os, re, subprocess, sys, time
import numpy as np
from sklearn.datasets import make_friedman1

work, ranger, skip_rp, skip_sk, ours = sys.argv[1], sys.argv[2], sys.argv[3] == "1", sys.argv[4] == "1", json.loads(sys.argv[5])
X, y = make_friedman1(n_samples=14300, n_features=10, noise=1, random_state=0)
Xtr, ytr, Xte, yte = X[:10000], y[:10000], X[10000:], y[10000:]
Xbig, ybig = make_friedman1(n_samples=1_000_000, n_features=10, noise=1, random_state=1)
var_pop = float(np.var(ytr))

def write_csv(path, A, b):
    if not os.path.exists(path):
        hdr = ",".join([f"x{i}" for i in range(A.shape[1])] + ["y"])
        np.savetxt(path, np.column_stack([A, b]), delimiter=",", header=hdr, comments="", fmt="%.17g")

def r2(obs, pred):
    return 1.0 - float(np.sum((obs - pred) ** 2)) / float(np.sum((obs - obs.mean()) ** 2))

rows = [("rsei-forest", ours["fit_s"], "yes", ours["predict_s"], ours["valid_r2"], ours["oob_var_explained_frac"])]

train, test, big = (os.path.join(work, f) for f in ("train.csv", "test.csv", "big.csv"))
write_csv(train, Xtr, ytr); write_csv(test, Xte, yte)
pre = os.path.join(work, "rg")
t = time.perf_counter()
out = subprocess.run([ranger, "--file", train, "--depvarname", "y", "--treetype", "3", "--ntree", "1000", "--mtry", "3",
                      "--targetpartitionsize", "5", "--nthreads", "2", "--impmeasure", "3", "--seed", "42",
                      "--write", "--outprefix", pre, "--verbose"], check=True, capture_output=True, text=True).stdout
fit_s = time.perf_counter() - t
mse = float(re.search(r"Overall OOB prediction error:\s*([0-9.eE+-]+)", out).group(1))
subprocess.run([ranger, "--file", test, "--depvarname", "y", "--treetype", "3", "--predict", pre + ".forest",
                "--nthreads", "2", "--outprefix", pre + "_te"], check=True, capture_output=True)
vals = [float(v) for line in open(pre + "_te.prediction").read().split("\n")[1:] for v in line.split() if v]
rg_r2 = r2(yte, np.array(vals[: len(yte)]))
pred_s = float("nan")
if not skip_rp:
    write_csv(big, Xbig, ybig)
    t = time.perf_counter()
    subprocess.run([ranger, "--file", big, "--depvarname", "y", "--treetype", "3", "--predict", pre + ".forest",
                    "--nthreads", "2", "--outprefix", pre + "_big"], check=True, capture_output=True)
    pred_s = time.perf_counter() - t
rows.append(("ranger 0.12.1", fit_s, "yes", pred_s, rg_r2, 1.0 - mse / var_pop))

if not skip_sk:
    from sklearn.ensemble import RandomForestRegressor
    rf = RandomForestRegressor(n_estimators=1000, max_features=3, min_samples_split=4, min_samples_leaf=1,
                               bootstrap=True, oob_score=True, n_jobs=2, random_state=42)
    t = time.perf_counter(); rf.fit(Xtr, ytr); fit_s = time.perf_counter() - t
    oob = rf.oob_prediction_
    sk_var = 1.0 - float(np.mean((ytr - oob) ** 2)) / var_pop
    t = time.perf_counter(); rf.predict(Xbig); pred_s = time.perf_counter() - t
    rows.append(("scikit-learn", fit_s, "no", pred_s, r2(yte, rf.predict(Xte)), sk_var))

print()
print("| tool | fit 1000 trees (s) | %IncMSE | predict 1 000 000 rows (s) | validation R² | OOB % Var explained |")
print("|---|---:|:---:|---:|---:|---:|")
for name, f, imp, p, r, v in rows:
    print(f"| {name} | {f:.2f} | {imp} | {p:.2f} | {r:.4f} | {100 * v:.2f} |")
ours_fit = rows[0][1]
print(f"\nrsei-forest fit / ranger fit = {ours_fit / rows[1][1]:.3f}")
PY
