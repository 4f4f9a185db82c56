"""torchao int8: weight-only (`Int8WeightOnlyConfig`, float activations) and dynamic
(`Int8DynamicActivationInt8WeightConfig`, per-token int8 activations; `int8-dynamic:engine=torchao`).

The dynamic variant is only fast compiled: eager it runs at about 0.7x fp32 here, while `torch.compile` with
inductor freezing lowers it to oneDNN int8 kernels (1.9x fp32 on DL19, see README).
"""

from __future__ import annotations

import os
import shutil

import torch

from loralab.errors import QuantizationError
from loralab.optional import require
from loralab.quant.configs import Int8Dynamic, Int8WeightOnly
from loralab.quant.linears import is_skipped
from loralab.quant.registry import register_backend


def uses_torchao(config) -> bool:
    return isinstance(config, Int8WeightOnly) or (isinstance(config, Int8Dynamic) and config.engine == "torchao")


@register_backend(Int8WeightOnly)
@register_backend(Int8Dynamic, when=lambda config: config.engine == "torchao")
def apply(model, config, calibration=None):
    quantize_ = _torchao("quantize_")
    if isinstance(config, Int8WeightOnly):
        quantize_(model, _torchao("Int8WeightOnlyConfig")(), filter_fn=_filter(lambda fqn: False))
        return model
    compile_for_inference(model)  # check for a compiler before spending time on quantization
    quantize_(model.float(), _torchao("Int8DynamicActivationInt8WeightConfig")(), filter_fn=_filter(config.keeps_float))
    return model


def compile_for_inference(model) -> None:
    """Compile `model.forward` in place (the module keeps its type, state dict and attributes).

    Freezing folds the (quantized) weights into the graph as constants, which is what lets inductor pick
    oneDNN's int8 linear; it applies to no-grad graphs only, so training is unaffected. dynamic=True: batch
    size and sequence length vary per batch and must not trigger a recompile each time."""
    compiler = os.environ.get("CXX") or next((c for c in ("g++", "c++", "clang++") if shutil.which(c)), None)
    if compiler is None or not shutil.which(compiler):
        raise QuantizationError(
            "int8-dynamic:engine=torchao runs through torch.compile, which needs a C++ compiler on PATH "
            "(e.g. `apt install g++`); without one use int8-dynamic (engine torch.ao, no compiler needed)"
        )
    import torch._inductor.config as inductor_config

    inductor_config.freezing = True
    model.compile(dynamic=True)


def _filter(keep_float):
    return lambda module, fqn: type(module) is torch.nn.Linear and not is_skipped(fqn) and not keep_float(fqn)


def _torchao(name: str):
    tq = require("torchao.quantization", "quant", "int8-weight-only / int8-dynamic:engine=torchao", "torchao")
    return getattr(tq, name)
