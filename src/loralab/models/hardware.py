"""Whether this machine multiplies bf16 matrices on real units, and the precisions that follow from it.

On a CPU, torch sends bf16 matmuls to oneDNN only where oneDNN takes bf16 (AVX-512 cores; AVX512-BF16 / AMX run
it natively); anywhere else (e.g. an AVX2-only AMD EPYC) they fall back to a scalar reference gemm. Measured
on such a CPU (experiments/cpu-bf16): a 16384x384 @ 384x1536 matmul takes 7x longer in bf16 than in fp32, and
one of its backward products 72x. So bf16 is chosen only where it is fast ("auto"); asked for where it is not,
it is refused (training) or warned about (inference), with the fix."""

from __future__ import annotations

import functools
import warnings

import torch

from loralab.errors import ConfigError

SLOW_BF16 = ("this CPU has no bf16 matmul units that torch uses (oneDNN bf16 needs AVX-512; "
             "torch.ops.mkldnn._is_mkldnn_bf16_supported() is False here), so bf16 matmuls run in a scalar fallback, "
             "measured 7-72x slower than fp32 (experiments/cpu-bf16)")


@functools.cache
def native_bf16() -> bool:
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def training_precision(precision: str) -> str:
    """fp32 | bf16 | fp16 for the Trainer: "auto" is bf16 where bf16 matmuls are fast, else fp32."""
    if precision == "auto":
        return "bf16" if native_bf16() else "fp32"
    if precision == "bf16" and not native_bf16():
        raise ConfigError(f"precision bf16: {SLOW_BF16}; train with --precision fp32 (or auto, which picks bf16 "
                          "only where it is fast)")
    return precision


def compute_dtype(name: str) -> torch.dtype:
    """A 4-bit base's compute dtype: "auto" is bfloat16 where bf16 matmuls are fast, else float32."""
    if name == "auto":
        return torch.bfloat16 if native_bf16() else torch.float32
    return getattr(torch, name)


def warn_if_slow_bf16(what: str) -> None:
    if not native_bf16():
        warnings.warn(f"{what} in bf16: {SLOW_BF16}; fp32 (or int8-dynamic) is faster here", stacklevel=2)
