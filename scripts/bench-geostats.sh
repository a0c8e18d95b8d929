#!/bin/sh
# Trend, geographical detector and spatial autocorrelation: the Rust bench and the Python
# baselines, one after the other on the same sizes (see BENCHMARKS.md, "Trend, geodetector,
# spatial autocorrelation").
#
#   scripts/bench-geostats.sh                 # 10 Mpx × 24 years; 100 000 cells × 10 factors; 1000 × 1000 cells, 999 permutations
#   PIXELS=1000000 scripts/bench-geostats.sh  # smaller trend stack
#   PYTHON=/path/to/venv/bin/python scripts/bench-geostats.sh
#
# Python needs: pip install numpy scipy pymannkendall==1.4.3 geodetector==0.2.0 esda libpysal numba
# pymannkendall is timed on MK_SAMPLE pixels and esda's LISA on a LISA_SIDE² raster; both are
# scaled to the full size (a full run of either takes hours / tens of minutes).
set -eu
PIXELS=${PIXELS:-10000000}
YEARS=${YEARS:-24}
CELLS=${CELLS:-100000}
SIDE=${SIDE:-1000}
PERMUTATIONS=${PERMUTATIONS:-999}
MK_SAMPLE=${MK_SAMPLE:-2000}
LISA_SIDE=${LISA_SIDE:-316}
PYTHON=${PYTHON:-python3}
cd "$(dirname "$0")/.."
echo "== machine: $(nproc) cores, $(uname -m), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== Rust (cargo bench -p rsei-core --bench geostats)"
cargo bench -q -p rsei-core --bench geostats -- --pixels "$PIXELS" --years "$YEARS" --cells "$CELLS" --side "$SIDE" --permutations "$PERMUTATIONS"
echo "== Python ($($PYTHON --version 2>&1))"
"$PYTHON" crates/rsei-core/benches/geostats_baseline.py --pixels "$PIXELS" --years "$YEARS" --mk-sample "$MK_SAMPLE" \
    --cells "$CELLS" --side "$SIDE" --lisa-side "$LISA_SIDE" --permutations "$PERMUTATIONS"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
