"""Reference values of numpy's legacy RandomState (MT19937) and of scikit-learn's make_friedman1.

Run:  python3 numpy_randomstate.py > numpy_randomstate_values.txt
The Rust test support (tests/support/mod.rs) re-implements RandomState and make_friedman1 and
checks itself against the printed values (exact to the last bit: printed with repr()).
"""
import numpy as np
import sklearn
from sklearn.datasets import make_friedman1

print(f"# numpy {np.__version__}, scikit-learn {sklearn.__version__}")

# randint over the full 32-bit range returns the raw MT19937 outputs.
rs = np.random.RandomState(0)
print("raw_u32 seed=0 first5:", *[int(v) for v in rs.randint(0, 2**32, size=5, dtype=np.uint64)])

rs = np.random.RandomState(0)
print("random_sample seed=0 first5:", *[repr(float(v)) for v in rs.random_sample(5)])

rs = np.random.RandomState(12345)
print("random_sample seed=12345 first3:", *[repr(float(v)) for v in rs.random_sample(3)])

rs = np.random.RandomState(0)
print("standard_normal seed=0 first5:", *[repr(float(v)) for v in rs.standard_normal(5)])

# make_friedman1 as used by the conformance and the benchmark.
X, y = make_friedman1(n_samples=14300, n_features=10, noise=1, random_state=0)
print("friedman X[0,:]:", *[repr(float(v)) for v in X[0]])
print("friedman X[14299,:]:", *[repr(float(v)) for v in X[14299]])
print("friedman y[0:3]:", *[repr(float(v)) for v in y[:3]])
print("friedman y[9999]:", repr(float(y[9999])))
print("friedman y[14299]:", repr(float(y[14299])))
print("friedman sum(y):", repr(float(np.sum(y, dtype=np.float64))))
