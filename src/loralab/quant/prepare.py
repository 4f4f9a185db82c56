"""Quantize a loaded model for inference: calibration inputs when the method needs them, clear refusals."""

from __future__ import annotations

from loralab.errors import QuantizationError
from loralab.quant.api import quantize
from loralab.quant.configs import Awq, Gptq, Int8Dynamic, Int8Static, QuantConfig, parse_quant


def needs_calibration(config: QuantConfig) -> bool:
    return isinstance(config, (Int8Static, Gptq, Awq)) or (isinstance(config, Int8Dynamic) and config.smooth > 0)


def quantize_for_inference(model, tokenizer, spec, max_length: int = 256, pairs: bool = True, where: str = "quantize"):
    """`model` quantized by `spec` (name, dict or config). Calibration (int8-static, gptq, awq, int8-dynamic with
    smooth) uses training pairs (`calibration_data`, default SciFact's training triples), never evaluation data. `pairs=False`: query and document joined as one text (LMs)."""
    from loralab.quant.calibration import calibration_batches

    config = parse_quant(spec, where)
    if hasattr(model, "peft_config"):
        raise QuantizationError(
            f"{where}: this model is an adapter left unmerged on a 4-bit base (a QLoRA run); quantize it with "
            "`loralab quantize RUN --method ... --out DIR`, which dequantizes the base, merges and re-quantizes"
        )
    calibration = None
    if needs_calibration(config):
        calibration = calibration_batches(tokenizer, n=config.calibration_samples, max_length=max_length, pairs=pairs,
                                          source=config.calibration_data)
    return quantize(model, config, calibration)
