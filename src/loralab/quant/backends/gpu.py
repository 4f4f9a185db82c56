"""GPTQ and AWQ: torchao's implementations (calibrated, int4 group-wise), which need a CUDA GPU.

On CPU there is no maintained GPTQ/AWQ route that keeps this project's pins: torchao packs GPTQ/AWQ int4
weights with CUDA-only kernels (mslk / tinygemm), AutoAWQ is archived and CUDA-only, and GPTQModel needs
`--no-build-isolation`, pins torch and transformers to exact versions and downgrades numpy.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from loralab.errors import QuantizationError
from loralab.optional import require
from loralab.quant.configs import Awq, Gptq
from loralab.quant.linears import is_skipped
from loralab.quant.registry import register_backend


@register_backend(Gptq)
@register_backend(Awq)
def apply(model, config, calibration: Iterable[dict] | None = None):
    require_cuda(config)
    if calibration is None:
        raise QuantizationError(f"{config.kind} needs calibration inputs: pass calibration=<batches of model inputs>")
    if config.bits != 4:
        raise QuantizationError(f"{config.kind}: only bits=4 is supported (torchao int4 group-wise), got {config.bits}")
    quantize_, base = _torchao_int4(config)
    model = model.to("cuda", torch.bfloat16)
    prepare, convert = _steps(config, base)
    quantize_(model, prepare, filter_fn=_linear_filter)
    _calibrate(model, calibration, config.calibration_samples)
    quantize_(model, convert, filter_fn=lambda module, fqn: not is_skipped(fqn) and isinstance(module, torch.nn.Linear))
    return model


def require_cuda(config) -> None:
    if not torch.cuda.is_available():
        raise QuantizationError(
            f"{config.kind} needs a CUDA GPU (NVIDIA, compute capability >= 8.0) and torchao with its CUDA int4 "
            f"kernels{' plus mslk' if config.kind == 'gptq' else ''}: no maintained {config.kind.upper()} library runs "
            "on CPU with torch 2.13 / transformers 5.24. On CPU use int4-weight-only (quanto) or nf4 (bitsandbytes)."
        )


def _torchao_int4(config):
    tq = require("torchao.quantization", "quant", config.kind, "torchao")
    return tq.quantize_, tq.Int4WeightOnlyConfig(group_size=config.group_size)


def _steps(config, base):
    if isinstance(config, Gptq):
        from torchao.prototype.gptq import GPTQConfig

        return GPTQConfig(step="observe", base_config=base), GPTQConfig(step="convert", base_config=base)
    from torchao.prototype.awq import AWQConfig

    return AWQConfig(base, step="prepare"), AWQConfig(base, step="convert")


def _linear_filter(module, fqn: str) -> bool:
    return type(module) is torch.nn.Linear and not is_skipped(fqn)


def _calibrate(model, calibration: Iterable[dict], limit: int) -> None:
    seen = 0
    with torch.no_grad():
        for batch in calibration:
            model(**{k: v.to("cuda") for k, v in batch.items()})
            seen += len(next(iter(batch.values())))
            if seen >= limit:
                break
