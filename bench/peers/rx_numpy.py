"""Global RX in NumPy, the peer of bench/xrf.ts: the same algorithm as main/xrf/rx-onnx.ts.

    /usr/bin/python3 bench/peers/rx_numpy.py CUBE.f32 N B [BLOCK] [SCORES_OUT.f64]

CUBE.f32: n·B float32 values, pixel-interleaved (what bench/xrf.ts writes). Steps: float64 mean;
per block of BLOCK pixels Z = X − μ in float64, C += ZᵀZ (BLAS dgemm); C /= n; pseudo-inverse
factor W (rank × B) from numpy.linalg.eigh with eigenvalues below 1e-10·λmax dropped; per block
score = ‖Z Wᵀ‖² (dgemm). Prints one JSON line: seconds per step and in all, BLAS threads.
"""
import json, sys, time
import numpy as np

path, n, B = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
block = int(sys.argv[4]) if len(sys.argv) > 4 else 32768
X = np.fromfile(path, dtype=np.float32).reshape(n, B)
t0 = time.perf_counter()
mu = X.mean(axis=0, dtype=np.float64)
t1 = time.perf_counter()
C = np.zeros((B, B))
for s in range(0, n, block):
    Z = X[s:s + block].astype(np.float64) - mu
    C += Z.T @ Z
C /= n
t2 = time.perf_counter()
lam, V = np.linalg.eigh(C)
keep = lam > 1e-10 * lam.max()
W = (V[:, keep] / np.sqrt(lam[keep])).T          # rank × B, WᵀW = C⁺
t3 = time.perf_counter()
scores = np.empty(n)
Wt = np.ascontiguousarray(W.T)
for s in range(0, n, block):
    T = (X[s:s + block].astype(np.float64) - mu) @ Wt
    scores[s:s + block] = np.einsum("ij,ij->i", T, T)
t4 = time.perf_counter()
if len(sys.argv) > 5:
    scores.tofile(sys.argv[5])
try:
    from threadpoolctl import threadpool_info
    blas = [(i.get("internal_api"), i.get("num_threads")) for i in threadpool_info()]
except Exception:
    blas = "unknown"
print(json.dumps({"mean_s": t1 - t0, "covariance_s": t2 - t1, "factor_s": t3 - t2, "scores_s": t4 - t3, "total_s": t4 - t0,
                  "rank": int(keep.sum()), "numpy": np.__version__, "blas": str(blas)}))
