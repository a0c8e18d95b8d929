"""Expected values for `tests/conformance.rs` from the real MOD09A1 subset in shared/data
(MOD09A1.A2017193.h18v04.006.2017202035302.hdf, 66 × 73 cells, Val Camonica, Alps).

Extracts the QA layers and the seven reflectance bands with gdal_translate (GDAL 3.6), then decodes
QA with numpy bit operations written independently from the Rust code, and computes the indicators
in float64. Writes:
  mod09_real_qa.csv          one row per distinct (qc, state) pair: count, valid under the default rules
  mod09_real_pixels.csv      every 10th pixel: seven DNs and WET, NDBSI, MNDWI, NDVI (float64; 'nan' for nodata)
Usage: python3 make_mod09_real.py [path to shared/data]   (needs numpy and gdal_translate)
"""
import collections
import os
import subprocess
import sys
import tempfile

import numpy as np

data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../../../../shared/data")
hdf = os.path.join(data, "modis/MOD09A1.A2017193.h18v04.006.2017202035302.hdf")
grid = "MOD_Grid_500m_Surface_Reflectance_463"
out_dir = os.path.dirname(os.path.abspath(__file__))


def layer(name, dtype):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "x.bin")
        subprocess.run(["gdal_translate", "-q", "-of", "ENVI", f'HDF4_EOS:EOS_GRID:"{hdf}":{grid}:{name}', p], check=True)
        return np.fromfile(p, dtype=dtype)


qc = layer("sur_refl_qc_500m", "<u4").astype(np.uint64)
st = layer("sur_refl_state_500m", "<u2").astype(np.uint64)
dn = [layer(f"sur_refl_b0{k}", "<i2").astype(np.int64) for k in range(1, 8)]


def bits(v, lo, n):
    return (v >> lo) & ((1 << n) - 1)


# METHOD §1 default rules
valid = (
    (qc != 4294967295)
    & (st != 65535)
    & np.isin(bits(st, 0, 2), [0, 3])
    & (bits(st, 2, 1) == 0)
    & (bits(st, 8, 2) <= 1)
    & (bits(st, 10, 1) == 0)
    & (bits(st, 13, 1) == 0)
    & (bits(st, 15, 1) == 0)
    & np.isin(bits(qc, 0, 2), [0, 1])
)
pairs = collections.Counter(zip(qc.tolist(), st.tolist()))
vmap = {}
for q, s, v in zip(qc.tolist(), st.tolist(), valid.tolist()):
    vmap[(q, s)] = v
with open(os.path.join(out_dir, "mod09_real_qa.csv"), "w") as f:
    f.write("qc,state,count,valid\n")
    for (q, s), c in sorted(pairs.items()):
        f.write(f"{q},{s},{c},{int(vmap[(q, s)])}\n")

rho = [d.astype(np.float64) * 1e-4 for d in dn]
r, n, b, g, n2, s1, s2 = rho
with np.errstate(divide="ignore", invalid="ignore"):
    def ratio(a, d):
        o = a / d
        o[d == 0] = np.nan
        return o
    wet = 0.1147 * r + 0.2489 * n + 0.2408 * b + 0.3132 * g - 0.3122 * n2 - 0.6416 * s1 - 0.5087 * s2
    si = ratio((s1 + r) - (n + b), (s1 + r) + (n + b))
    A = ratio(2 * s1, s1 + n)
    B = ratio(n, n + r) + ratio(g, g + s1)
    ndbsi = (si + ratio(A - B, A + B)) / 2
    mndwi = ratio(g - s1, g + s1)
    ndvi = ratio(n - r, n + r)
with open(os.path.join(out_dir, "mod09_real_pixels.csv"), "w") as f:
    f.write("b1,b2,b3,b4,b5,b6,b7,wet,ndbsi,mndwi,ndvi\n")
    for i in range(0, qc.size, 10):
        f.write(",".join(str(d[i]) for d in dn) + "," + ",".join(repr(float(v[i])) for v in (wet, ndbsi, mndwi, ndvi)) + "\n")
print(f"{qc.size} pixels, {int(valid.sum())} valid by QA, {len(pairs)} distinct (qc, state) pairs")
