"""Quantization-aware training: fine-tune against the rounding of the post-training config deployed afterwards.

`prepare_qat` puts a fake quantizer on every quantizable linear layer (not the task head) as a torch
parametrization of its weight: the forward pass sees the weight rounded to the deployed grid, the gradient passes
straight through to the float weight (the straight-through estimator). For int8-dynamic the layer's input is
fake-quantized the same way. `convert_qat` removes the parametrizations and leaves plain `nn.Linear` layers
holding the trained float weights; `quantize(model, target)` then makes the deployed model with loralab's usual
backend for that config.

Why not torchao's QAT prepare step: its grid must be the deployed backend's, and it is not. torchao 0.18 has no
CPU int4 kernel, so int4 deploys through optimum-quanto, and torchao's int4 fake quantizer (asymmetric, the same
group size) rounds to a step twice quanto's on the same weights (measured on the tests' 2-layer BERT: max error
0.0214 against quanto's 0.0037);
its int8 activations are per token where torch.ao's dynamic kernels use one scale per batch. So the grids here are
computed by the deploying libraries themselves:

- `int4-weight-only:group_size=G`: quanto's own `MaxOptimizer` scales and shifts and `quantize_weight` (qint4,
  groups of G input weights, 16 levels), dequantized.
- `int8-dynamic[:per_channel=true]`: weights through the observer of the torch.ao qconfig `quantize_dynamic` uses
  (symmetric int8, per tensor or per row), inputs through `torch._choose_qparams_per_tensor` with the reduced
  7-bit range the x86 dynamic kernels use.
"""

from __future__ import annotations

import torch
from torch.nn.utils import parametrize

from loralab.errors import ConfigError
from loralab.quant.configs import Int4WeightOnly, Int8Dynamic, QuantConfig, parse_quant, to_spec
from loralab.quant.linears import quantizable_linears

QAT_TARGETS = (Int4WeightOnly, Int8Dynamic)


def qat_target(spec: QuantConfig | str | dict) -> QuantConfig:
    """The post-training config a QAT run trains for; refuses configs without a fake-quantized counterpart."""
    config = parse_quant(spec, where="--qat")
    if not isinstance(config, QAT_TARGETS):
        kinds = ", ".join(t.kind for t in QAT_TARGETS)
        raise ConfigError(f"--qat {to_spec(config)}: quantization-aware training supports {kinds}; "
                          f"{config.kind} is post-training only here")
    if isinstance(config, Int8Dynamic) and (config.keep_float or config.engine != "torch.ao"):
        raise ConfigError(f"--qat {to_spec(config)}: QAT trains for int8-dynamic on the torch.ao engine with every "
                          "linear layer quantized (drop engine= and keep_float=)")
    return config


def _straight_through(x: torch.Tensor, rounded: torch.Tensor) -> torch.Tensor:
    return x + (rounded - x).detach()


class QuantoInt4Weight(torch.nn.Module):
    """A weight rounded as optimum-quanto's qint4 stores it (groups of `group_size`, scale and shift each)."""

    def __init__(self, group_size: int):
        super().__init__()
        self.group_size = group_size

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        from optimum.quanto import qint4
        from optimum.quanto.tensor.optimizers import MaxOptimizer
        from optimum.quanto.tensor.weights import quantize_weight

        w = weight.detach()
        scale, shift = MaxOptimizer()(w, qtype=qint4, axis=0, group_size=self.group_size)
        rounded = quantize_weight(w, qtype=qint4, axis=0, scale=scale, shift=shift,
                                  group_size=self.group_size, optimized=False).dequantize()
        return _straight_through(weight, rounded.to(weight.dtype))


class TorchAoInt8Weight(torch.nn.Module):
    """A weight rounded by the observer of torch.ao's dynamic qconfig (symmetric int8, per tensor or per row)."""

    def __init__(self, per_channel: bool):
        super().__init__()
        self.per_channel = per_channel
        qconfig = (torch.ao.quantization.per_channel_dynamic_qconfig if per_channel
                   else torch.ao.quantization.default_dynamic_qconfig)
        self.new_observer = qconfig.weight  # a fresh observer per forward: the weight's range changes every step

    def forward(self, weight: torch.Tensor) -> torch.Tensor:
        observer = self.new_observer()
        w = weight.detach().float()
        observer(w)
        scale, zero_point = observer.calculate_qparams()
        if self.per_channel:
            rounded = torch.fake_quantize_per_channel_affine(w, scale.float(), zero_point.int(), 0,
                                                             observer.quant_min, observer.quant_max)
        else:
            rounded = torch.fake_quantize_per_tensor_affine(w, float(scale), int(zero_point),
                                                            observer.quant_min, observer.quant_max)
        return _straight_through(weight, rounded.to(weight.dtype))


def _fake_quantize_input(module, args):
    """Forward pre-hook: the input rounded as torch.ao's dynamic linear rounds it (one scale per batch, 7 bits)."""
    x = args[0]
    scale, zero_point = torch._choose_qparams_per_tensor(x.detach().float(), True)
    rounded = torch.fake_quantize_per_tensor_affine(x.detach().float(), scale, zero_point, 0, 127)
    return (_straight_through(x, rounded.to(x.dtype)), *args[1:])


def prepare_qat(model, spec: QuantConfig | str | dict):
    """Fake-quantize the quantizable linear layers (not the task head) for `spec`, in place; returns the model."""
    config = qat_target(spec)
    int4 = isinstance(config, Int4WeightOnly)
    if int4:
        from loralab.optional import require
        from loralab.quant.backends.quanto import check_group_size

        require("optimum.quanto", "quant", "--qat int4-weight-only", "optimum-quanto")
        check_group_size(model, config.group_size)  # the same check the int4 backend makes after training
    for _, layer in quantizable_linears(model):
        rounding = QuantoInt4Weight(config.group_size) if int4 else TorchAoInt8Weight(config.per_channel)
        parametrize.register_parametrization(layer, "weight", rounding)
        if not int4:
            layer.loralab_qat_hook = layer.register_forward_pre_hook(_fake_quantize_input)
    model.loralab_qat = config
    return model


def _is_fake_quantized(module) -> bool:
    return isinstance(module, torch.nn.Linear) and parametrize.is_parametrized(module, "weight")


def fake_quantized_linears(model) -> list[str]:
    return [name for name, module in model.named_modules() if _is_fake_quantized(module)]


def convert_qat(model):
    """Remove the fake quantizers, leaving plain `nn.Linear` layers with the trained float weights (in place);
    returns the model. `quantize(model, target)` then gives the deployed model."""
    for module in model.modules():
        if _is_fake_quantized(module):
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=False)
            hook = getattr(module, "loralab_qat_hook", None)
            if hook is not None:
                hook.remove()
                del module.loralab_qat_hook
    if hasattr(model, "loralab_qat"):
        del model.loralab_qat
    return model
