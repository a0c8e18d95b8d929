#!/usr/bin/env python3
"""Fetches the real Landsat Collection 2 scenes used by the tests into .test-data/ (not committed).

The scenes are the test data of eodatasets3 0.30.5 (Geoscience Australia, Apache-2.0), taken
from its source distribution on PyPI: real USGS Landsat products, every band reduced to 60 x 60
cells (about 4 km) with the metadata of the full scene kept:

  LC08_L2SP_098084_20210503_20210508_02_T1   Landsat 8 OLI/TIRS, C2 L2SP (73 % cloud)
  LE07_L2SP_090084_20210331_20210426_02_T1   Landsat 7 ETM+ SLC-off, C2 L2SP
  LT05_L2SP_090084_19980308_20200909_02_T1   Landsat 5 TM, C2 L2SP (MTL.json too)
  LC08_L1TP_090084_20160121_20200907_02_T1   Landsat 8 C2 Level-1 (must be refused)

The archive is checked against its SHA-256 before anything is extracted. Usage:
  scripts/fetch-test-data.py [DEST]      (default: .test-data/ beside scripts/)
Prints the destination folder. Needs only Python 3 and access to PyPI.
"""
import hashlib
import io
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request

URL = "https://files.pythonhosted.org/packages/37/58/a54987cbbf086fd1e345a53b3099b1ded9738412ea0f20452af7705cfcdf/eodatasets3-0.30.5.tar.gz"
SHA256 = "b025b3bcf679df2bac90c9feef4cc69baa8e320edc0265cf611c1d632ed2f9f8"
PREFIX = "eodatasets3-0.30.5/tests/integration/data/"
SCENES = [
    "LC08_L2SP_098084_20210503_20210508_02_T1",
    "LE07_L2SP_090084_20210331_20210426_02_T1",
    "LT05_L2SP_090084_19980308_20200909_02_T1",
    "LC08_L1TP_090084_20160121_20200907_02_T1",
]
NAME = "landsat-c2"


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", ".test-data"))
    dest = os.path.join(root, NAME)
    done = os.path.join(dest, "COMPLETE")
    if os.path.exists(done):
        print(dest)
        return
    os.makedirs(root, exist_ok=True)
    data = None
    local = os.environ.get("RSEI_EODATASETS3_SDIST")  # an already downloaded copy
    if local:
        with open(local, "rb") as f:
            data = f.read()
    else:
        with urllib.request.urlopen(URL, timeout=300) as r:
            data = r.read()
    got = hashlib.sha256(data).hexdigest()
    if got != SHA256:
        sys.exit(f"fetch-test-data: {URL}: SHA-256 {got}, expected {SHA256}; not extracted")
    tmp = tempfile.mkdtemp(prefix=".landsat-c2-", dir=root)
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
        for m in t.getmembers():
            if not m.isfile() or not m.name.startswith(PREFIX):
                continue
            rel = m.name[len(PREFIX):]
            if rel.split("/")[0] not in SCENES or ".." in rel.split("/"):
                continue
            out = os.path.join(tmp, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with t.extractfile(m) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
    with open(os.path.join(tmp, "SOURCE.txt"), "w") as f:
        f.write(f"{URL}\nsha256 {SHA256}\nLicence: Apache-2.0 (eodatasets3, Geoscience Australia)\n")
    with open(os.path.join(tmp, "COMPLETE"), "w") as f:
        f.write("\n".join(SCENES) + "\n")
    if os.path.exists(dest):
        shutil.rmtree(dest)
    os.rename(tmp, dest)
    print(dest)


if __name__ == "__main__":
    main()
