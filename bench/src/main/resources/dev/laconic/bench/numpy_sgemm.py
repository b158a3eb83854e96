"""The OpenBLAS peer of `./laconic bench roofline`: numpy float32 matmul on the roofline's shapes.

Reads one JSON object on stdin:
  {"threads": 2, "warmup": 2, "min_reps": 5, "min_seconds": 1.0,
   "cases": [{"name": "...", "kind": "fwd" | "dx" | "dw", "t": T, "n": N, "k": K}, ...]}
and prints one JSON object on stdout:
  {"numpy": "2.x", "blas": {...threadpoolctl info...}, "gflops": {"<name>": GFLOP/s, ...}}

The three kinds are the linear layer's forward and backward (Laconic's Ops.matmul/matmulBackward):
  fwd: y[T,N]  = x[T,K] . w[N,K]^T
  dx:  dx[T,K] = dy[T,N] . w[N,K]
  dw:  dw[N,K] = dy[T,N]^T . x[T,K]
each 2*T*N*K flops; numpy hands all three to sgemm with transpose flags (no copies: out= is preallocated).
The caller sets OPENBLAS_NUM_THREADS (before numpy loads) and removes OPENBLAS_CORETYPE, so OpenBLAS
picks its kernel for this CPU; the kernel it picked is reported (threadpoolctl, else OpenBLAS's
get_corename through ctypes).
"""
import ctypes
import json
import sys
import time

try:
    import numpy as np
except ImportError:
    print("numpy is not installed for " + sys.executable, file=sys.stderr)
    sys.exit(3)


def blas_info(threads):
    """What BLAS numpy runs, and the OpenBLAS core type it chose (e.g. SkylakeX, Zen, Haswell)."""
    try:
        import threadpoolctl
        infos = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
        if infos:
            i = infos[0]
            return {"internal_api": i.get("internal_api"), "architecture": i.get("architecture"),
                    "version": i.get("version"), "num_threads": i.get("num_threads"),
                    "source": "threadpoolctl"}, threadpoolctl
    except ImportError:
        pass
    # No threadpoolctl: find the loaded OpenBLAS in our memory map and ask it directly.
    info = {"internal_api": "unknown", "architecture": "unknown", "num_threads": threads, "source": "ctypes"}
    try:
        with open("/proc/self/maps") as f:
            libs = sorted({line.split()[-1] for line in f if "openblas" in line.lower() and ".so" in line})
        for path in libs:
            lib = ctypes.CDLL(path)
            for sym in ("scipy_openblas_get_corename64_", "scipy_openblas_get_corename",
                        "openblas_get_corename64_", "openblas_get_corename"):
                fn = getattr(lib, sym, None)
                if fn is not None:
                    fn.restype = ctypes.c_char_p
                    info.update(internal_api="openblas", architecture=fn().decode())
                    return info, None
    except OSError:
        pass
    return info, None


def best_seconds(fn, warmup, min_reps, min_seconds):
    """Best wall time of fn() after warm-up, over at least min_reps runs and min_seconds."""
    for _ in range(warmup):
        fn()
    best, reps, start = float("inf"), 0, time.perf_counter()
    while reps < min_reps or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        reps += 1
    return best


def run_case(case, rng, cfg):
    t, n, k, kind = case["t"], case["n"], case["k"], case["kind"]
    w = rng.standard_normal((n, k), dtype=np.float32)
    if kind == "fwd":
        x, out = rng.standard_normal((t, k), dtype=np.float32), np.empty((t, n), np.float32)
        fn = lambda: np.matmul(x, w.T, out=out)
    elif kind == "dx":
        dy, out = rng.standard_normal((t, n), dtype=np.float32), np.empty((t, k), np.float32)
        fn = lambda: np.matmul(dy, w, out=out)
    elif kind == "dw":
        dy, x = rng.standard_normal((t, n), dtype=np.float32), rng.standard_normal((t, k), dtype=np.float32)
        fn = lambda: np.matmul(dy.T, x, out=w)
    else:
        raise ValueError("unknown kind " + kind)
    sec = best_seconds(fn, cfg.get("warmup", 2), cfg.get("min_reps", 5), cfg.get("min_seconds", 1.0))
    return 2.0 * t * n * k / sec / 1e9


def main():
    cfg = json.load(sys.stdin)
    threads = int(cfg["threads"])
    _, threadpoolctl = blas_info(threads)
    limiter = threadpoolctl.threadpool_limits(limits=threads, user_api="blas") if threadpoolctl else None
    try:
        info, _ = blas_info(threads)  # after the limit, so num_threads shows what the timings used
        rng = np.random.default_rng(1234)
        gflops = {c["name"]: run_case(c, rng, cfg) for c in cfg["cases"]}
    finally:
        if limiter is not None:
            limiter.restore_original_limits()
    json.dump({"numpy": np.__version__, "python": sys.version.split()[0], "blas": info, "gflops": gflops},
              sys.stdout)
    print()


if __name__ == "__main__":
    main()
