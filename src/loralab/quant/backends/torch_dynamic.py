"""int8 dynamic: torch.ao `quantize_dynamic` (int8 weights per tensor, activations quantized per batch).

torch.ao's eager quantization is deprecated in favour of torchao, but it is still the fast int8 path on CPU
without torch.compile (fbgemm/onednn kernels): 0.4-0.5x fp32 time on BERT-size inputs here.
"""

from __future__ import annotations

import warnings

import torch

from loralab.errors import QuantizationError
from loralab.quant.configs import Int8Dynamic
from loralab.quant.linears import quantizable_linears
from loralab.quant.registry import register_backend
from loralab.quant.smoothing import smooth_linears


@register_backend(Int8Dynamic, when=lambda config: config.engine == "torch.ao")
def apply(model, config: Int8Dynamic, calibration=None):
    model = model.float()
    names = [name for name, _ in quantizable_linears(model) if not config.keeps_float(name)]
    if config.smooth:
        if calibration is None:
            raise QuantizationError(
                "int8-dynamic smooth needs calibration inputs to measure each layer's input channels: pass "
                "calibration=<batches of model inputs> (loralab.quant.calibration.calibration_batches builds them "
                "from training pairs; quantize_for_inference does it for you)")
        names = smooth_linears(model, names, config.smooth, calibration)
    return quantize_layers(model, names, config.per_channel)


def quantize_layers(model, names: list[str], per_channel: bool):
    """The named linear layers swapped for torch.ao dynamic int8 ones, in place."""
    qconfig = (torch.ao.quantization.per_channel_dynamic_qconfig if per_channel
               else torch.ao.quantization.default_dynamic_qconfig)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return torch.ao.quantization.quantize_dynamic(model, {n: qconfig for n in names}, dtype=torch.qint8,
                                                      inplace=True)


def dynamic_linears(model) -> list[tuple[str, torch.nn.Module]]:
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    return [(name, m) for name, m in model.named_modules() if isinstance(m, DynamicLinear)]
