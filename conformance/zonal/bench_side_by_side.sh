#!/usr/bin/env bash
# rsei's zonal statistics and exactextract on the same inputs (written once), then a comparison of
# the coverage-weighted means. Default size: 10 000 polygons over a 10 000 × 10 000 raster.
#
# usage: conformance/zonal/bench_side_by_side.sh [DIR] [extra bench arguments, e.g. --rows 2000 --cols 2000 --polygons 1000]
# needs: cargo; a Python with `pip install exactextract numpy` (set PYTHON=/path/to/python, default python3)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DIR=${1:-$(mktemp -d /tmp/rsei-zonal-bench.XXXXXX)}
shift || true
PY=${PYTHON:-python3}
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
cargo bench -q -p rsei-core --bench zonal --no-run

echo "== inputs: $DIR"
echo "== rsei, in memory, $(nproc) threads (writes the inputs and our means)"
cargo bench -q -p rsei-core --bench zonal -- --write "$DIR" "$@"
echo "== rsei, in memory, 1 thread"
RAYON_NUM_THREADS=1 cargo bench -q -p rsei-core --bench zonal -- "$@"
echo "== rsei, streamed from $DIR/raster.f32 by row strips"
cargo bench -q -p rsei-core --bench zonal -- --stream "$DIR"
echo "== exactextract"
"$PY" "$ROOT/conformance/zonal/bench_exactextract.py" "$DIR"

echo "== comparison of the coverage-weighted means"
"$PY" - "$DIR" <<'EOF'
import csv, math, sys
d = sys.argv[1]
def read(name):
    with open(f"{d}/{name}") as f:
        return {int(r["id"]): (float(r["weighted_count"]), float(r["mean"])) for r in csv.DictReader(f)}
ours, ee, st = read("ours_coverage.csv"), read("exactextract_coverage.csv"), read("ours_coverage_streamed.csv")
assert ours.keys() == ee.keys(), "different polygon sets"
worst_m = worst_w = 0.0
for k, (w, m) in ours.items():
    we, me = ee[k]
    if math.isnan(m) or math.isnan(me):
        assert math.isnan(m) and math.isnan(me), f"polygon {k}: {m} vs {me}"
        continue
    worst_m = max(worst_m, abs(m - me) / abs(me))
    worst_w = max(worst_w, abs(w - we) / we)
same = all(ours[k] == st[k] or (math.isnan(ours[k][1]) and math.isnan(st[k][1])) for k in ours)
print(f"{len(ours)} polygons: max relative difference of the means {worst_m:.2e}, of Σ coverage {worst_w:.2e}; "
      f"streamed == in memory: {same}")
if worst_m > 1e-9 or not same:
    sys.exit("MISMATCH")
EOF
