#!/usr/bin/env bash
# Builds ranger's command-line program (C++, MIT licence) for the side-by-side comparison.
# ranger's sources ship inside the skranger source package on PyPI; they are built outside the
# repository and never committed.
#
#   crates/rsei-forest/conformance/build_ranger.sh [BUILD_DIR]     (default /work/ranger-build)
#
# ranger 0.12.1's command line forces one thread whenever --nthreads is given (a check meant for
# the regularisation option sits outside its `if`); the build moves that check back inside the
# `if`, as later ranger versions do, so that --nthreads 2 really uses two threads.
set -euo pipefail
BUILD_DIR="${1:-/work/ranger-build}"
mkdir -p "$BUILD_DIR/bin"
cd "$BUILD_DIR"
if [ ! -f skranger-0.8.0.tar.gz ]; then
  pip download --no-binary :all: --no-deps skranger==0.8.0 -d .
fi
rm -rf skranger-0.8.0 && tar xzf skranger-0.8.0.tar.gz
SRC="$BUILD_DIR/skranger-0.8.0/skranger/ranger/src"
python3 - "$SRC/utility/ArgumentHandler.cpp" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
old = """      }
    }
  }

  if (nthreads != 1) {
    std::cout << "Warning: Paralellization deactivated (regularization used)." << std::endl;
    nthreads = 1;
  }
}"""
new = """      }
    }
    if (nthreads != 1) {
      std::cout << "Warning: Paralellization deactivated (regularization used)." << std::endl;
      nthreads = 1;
    }
  }
}"""
if s.count(old) == 1:
    open(p, "w").write(s.replace(old, new))
PY
cd "$SRC"
g++ -O2 -std=c++14 -pthread -I. -Iutility -IForest -ITree main.cpp utility/*.cpp Forest/*.cpp Tree/*.cpp \
  -o "$BUILD_DIR/bin/ranger"
"$BUILD_DIR/bin/ranger" --version | head -3
echo "built $BUILD_DIR/bin/ranger"
