"""`quantize(model, config)`: the one entry point (torchao style); each backend registers for its config type."""

from __future__ import annotations

from collections.abc import Iterable

from loralab.quant import backends  # noqa: F401  - importing the backends registers them
from loralab.quant.configs import QuantConfig, parse_quant
from loralab.quant.registry import handler_for


def quantize(model, config: QuantConfig | str | dict, calibration: Iterable[dict] | None = None):
    """Quantize `model` (in place where the backend allows; always use the returned model).

    `calibration`: batches of model inputs (dicts of tensors), needed by int8-static, gptq and awq.
    """
    config = parse_quant(config)
    result = handler_for(config)(model, config, calibration)
    result.loralab_quant = config
    return result


def quant_config_of(model) -> QuantConfig | None:
    """The config a model was quantized with by `quantize` or `load_quantized` (None for a float model)."""
    return getattr(model, "loralab_quant", None)
