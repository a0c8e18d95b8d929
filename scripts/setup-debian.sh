#!/usr/bin/env sh
# Installs the system packages rsei needs on Debian/Ubuntu: GDAL (library, headers and command-line
# tools, used by the conformance tests), pkg-config, OpenSSL headers (TLS of the STAC client), Chromium (the headless browser check of the
# HTML report, tests/report.rs), and Python 3 with CA certificates (scripts/fetch-test-data.py takes the
# real Landsat scenes of tests/landsat_real.rs from PyPI). Uses sudo when not run as root.
set -eu
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends libgdal-dev gdal-bin pkg-config libssl-dev chromium python3 ca-certificates
