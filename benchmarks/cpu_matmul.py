"""What this CPU's matmul units give: fp32, bf16 and int8 (torch._int_mm) throughput at a re-ranker's shapes,
forward and backward, in one run, with bf16 as a ratio of fp32. Tells whether bf16 training or inference pays
here (it does on AVX512-BF16/AMX cores; on CPUs without them torch falls back to a scalar gemm).
Usage: python benchmarks/cpu_matmul.py [--tokens 16384] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import torch


def best_ms(fn, repeats: int = 3) -> float:
    fn()  # first call builds kernels
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=16384, help="rows: a step of 64 pairs x 256 tokens")
    parser.add_argument("--json")
    args = parser.parse_args()
    torch.manual_seed(0)
    m, k, n = args.tokens, 384, 1536  # MiniLM's FFN: 384 -> 1536
    flop = 2 * m * k * n
    rows = {}
    for name, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
        a, w, g = torch.randn(m, k, dtype=dtype), torch.randn(n, k, dtype=dtype), torch.randn(m, n, dtype=dtype)
        rows[name] = {"forward x @ W^T ms": best_ms(lambda: a @ w.t()),
                      "backward dx = dy @ W ms": best_ms(lambda: g @ w),
                      "backward dW = dy^T @ x ms": best_ms(lambda: g.t() @ a)}
    a8 = torch.randint(-128, 127, (m, k), dtype=torch.int8)
    w8 = torch.randint(-128, 127, (k, n), dtype=torch.int8)
    rows["int8"] = {"forward x @ W^T ms": best_ms(lambda: torch._int_mm(a8, w8))}
    for row in rows.values():
        for key in list(row):
            row[key.replace(" ms", " GFLOP/s")] = flop / (row[key] / 1000) / 1e9
    ratio = {key: rows["bf16"][key] / rows["fp32"][key] for key in rows["fp32"] if key.endswith(" ms")}
    result = {
        "benchmark": "cpu_matmul", "shape": [m, k, n], "threads": torch.get_num_threads(),
        "torch": torch.__version__, "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "onednn_bf16": bool(torch.ops.mkldnn._is_mkldnn_bf16_supported()), "machine": platform.processor(),
        "rows": rows, "bf16_time_over_fp32": ratio,
    }
    for name, row in rows.items():
        print(name, "  ".join(f"{k}: {v:.1f}" for k, v in row.items()))
    print("bf16 time / fp32 time:", {k: round(v, 2) for k, v in ratio.items()})
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(result, handle, indent=2)
            handle.write("\n")


if __name__ == "__main__":
    main()
