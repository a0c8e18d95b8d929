#!/bin/sh
# Re-creates the font subsets embedded for PNG text rendering (needs `pip install fonttools`
# and the DejaVu fonts, e.g. Debian's fonts-dejavu-core). Covered: ASCII, Latin-1 + Latin
# Extended-A, Greek, general punctuation (dashes, quotes, ellipsis, per mille), super- and
# subscripts (km², CO₂), arrows, minus and a few maths signs (−, ±, ≤, ≥, ≈, ∞), and the
# geometric shapes ● ▲ ■.
set -eu
SRC=${1:-/usr/share/fonts/truetype/dejavu}
HERE=$(dirname "$0")
U="U+0020-007E,U+00A0-017F,U+0391-03A9,U+03B1-03C9,U+2010-2027,U+2030,U+2032,U+2033,U+2070-209F,U+2190-2193,U+2212,U+2213,U+2215,U+221E,U+2248,U+2260,U+2264,U+2265,U+25CF,U+25B2,U+25A0"
for f in DejaVuSans DejaVuSans-Bold; do
  pyftsubset "$SRC/$f.ttf" --unicodes="$U" --layout-features='' --no-hinting \
    --drop-tables+=GPOS,GSUB,GDEF,kern,FFTM --name-IDs='*' --output-file="$HERE/$f-subset.ttf"
done
