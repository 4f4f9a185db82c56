"""Post-training quantization configs, typed (torchao style), and their short spec syntax.

Configs round-trip to plain dicts (`config_to_dict` / `config_from_dict`) and to short specs such as
`int4-weight-only:group_size=32` or `nf4:double_quant=false`, the one syntax used in every verb and in YAML.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar

from loralab.errors import ConfigError


@dataclass(frozen=True)
class Fp16:
    kind: ClassVar[str] = "fp16"


@dataclass(frozen=True)
class Bf16:
    kind: ClassVar[str] = "bf16"


@dataclass(frozen=True)
class Int8Dynamic:
    """int8 weights + int8 activations quantized on the fly.

    engine "torch.ao": torch's eager `quantize_dynamic` (fbgemm/onednn kernels, one activation scale per
    batch); no compiler, no warm-up. engine "torchao": torchao `Int8DynamicActivationInt8WeightConfig`
    (one activation scale per token, one weight scale per row) run through `torch.compile` with inductor
    freezing, which lowers it to oneDNN int8 kernels. One DL19 run (README): torch.ao -0.92 NDCG@10 points
    at 1.54x fp32 pairs/s; torchao -0.21 points at 1.96x, after a ~33 s compile on the first batch; it needs
    a C++ compiler (uncompiled it runs at 0.7x fp32, so loralab refuses without one).
    per_channel (torch.ao only): one weight scale per output row instead of one per tensor.
    smooth (torch.ao only): SmoothQuant's alpha in (0, 1]; 0 is off. Each layer's input channels are scaled down
    by factors measured on `calibration_samples` training pairs (`calibration_data`) and its weights up, so the
    one activation scale per batch is no longer set by outlier channels (quant/smoothing.py). On SciFact with
    per-channel weights: alpha 0.8 within 0.01 and 0.87 NDCG@10 points of fp32 on two trained models (unsmoothed
    -2.1 and -4.6), at about 0.9x the unsmoothed speed; alpha 0.5 lost 17 points."""

    kind: ClassVar[str] = "int8-dynamic"
    engine: str = "torch.ao"
    per_channel: bool = False  # measured on DL19: per-tensor -0.92 vs per-channel -1.27 NDCG@10 points
    # Regex (re.search on module names) of linear layers to leave in fp32: mixed precision for the layers
    # whose activations have outliers, e.g. BERT's FFN outputs: r"layer\.\d+\.output\.dense$".
    keep_float: str = ""
    smooth: float = 0.0
    calibration_samples: int = 64
    calibration_data: str = "scifact-train"  # training groups JSONL or a registered training dataset

    def __post_init__(self):
        import re

        if not 0.0 <= self.smooth <= 1.0:
            raise ConfigError(f"int8-dynamic smooth is SmoothQuant's alpha in (0, 1] (0: off), got {self.smooth}")
        if self.smooth and self.engine != "torch.ao":
            raise ConfigError("int8-dynamic smooth applies to engine=torch.ao (one activation scale per batch); "
                              "engine=torchao already scales each token")
        if self.calibration_samples < 1:
            raise ConfigError(f"int8-dynamic calibration_samples must be >= 1, got {self.calibration_samples}")
        if self.engine not in ("torch.ao", "torchao"):
            raise ConfigError(f"int8-dynamic engine must be 'torch.ao' or 'torchao', got {self.engine!r}")
        if self.engine == "torchao" and self.per_channel:
            raise ConfigError("int8-dynamic engine=torchao always uses one weight scale per row; drop per_channel")
        try:
            re.compile(self.keep_float)
        except re.error as exc:
            raise ConfigError(f"int8-dynamic keep_float {self.keep_float!r} is not a valid regular expression ({exc})") from None

    def keeps_float(self, name: str) -> bool:
        import re

        return bool(self.keep_float) and re.search(self.keep_float, name) is not None


@dataclass(frozen=True)
class Int8Static:
    """int8 weights + int8 activations with scales fixed by calibration on sample inputs (optimum-quanto)."""

    kind: ClassVar[str] = "int8-static"
    calibration_samples: int = 64
    calibration_data: str = "scifact-train"  # training groups JSONL or a registered training dataset


@dataclass(frozen=True)
class Int8WeightOnly:
    """int8 per-channel weights, activations stay in float (torchao)."""

    kind: ClassVar[str] = "int8-weight-only"


@dataclass(frozen=True)
class Int4WeightOnly:
    """int4 group-wise weights with scale and shift per group (optimum-quanto qint4)."""

    kind: ClassVar[str] = "int4-weight-only"
    group_size: int = 64


@dataclass(frozen=True)
class Nf4:
    """4-bit NormalFloat (bitsandbytes), blocks of 64; double_quant also quantizes the block scales."""

    kind: ClassVar[str] = "nf4"
    double_quant: bool = True
    compute_dtype: str = "auto"  # bfloat16 where bf16 matmuls are fast, else float32 (models.hardware)


@dataclass(frozen=True)
class Gptq:
    """GPTQ (Hessian-aware rounding, calibrated): torchao's GPTQ, which needs CUDA."""

    kind: ClassVar[str] = "gptq"
    bits: int = 4
    group_size: int = 128
    calibration_samples: int = 64
    calibration_data: str = "scifact-train"  # training groups JSONL or a registered training dataset


@dataclass(frozen=True)
class Awq:
    """AWQ (activation-aware per-channel scales, calibrated): torchao's AWQ, which needs CUDA."""

    kind: ClassVar[str] = "awq"
    bits: int = 4
    group_size: int = 128
    calibration_samples: int = 64
    calibration_data: str = "scifact-train"  # training groups JSONL or a registered training dataset


CONFIGS: dict[str, type] = {
    cls.kind: cls for cls in (Fp16, Bf16, Int8Dynamic, Int8Static, Int8WeightOnly, Int4WeightOnly, Nf4, Gptq, Awq)
}
ALIASES = {"int8": "int8-dynamic", "int8-wo": "int8-weight-only", "int4": "int4-weight-only",
           "int4-wo": "int4-weight-only", "float16": "fp16", "bfloat16": "bf16"}
QuantConfig = Fp16 | Bf16 | Int8Dynamic | Int8Static | Int8WeightOnly | Int4WeightOnly | Nf4 | Gptq | Awq


def config_to_dict(config: QuantConfig) -> dict[str, Any]:
    return {"kind": config.kind, **dataclasses.asdict(config)}


def to_spec(config: QuantConfig) -> str:
    """The short spec of a config: its kind, then the options that differ from the defaults
    (`int4-weight-only:group_size=128`); `parse_quant(to_spec(c)) == c`."""
    changed = [f"{f.name}={getattr(config, f.name)}" for f in dataclasses.fields(config)
               if getattr(config, f.name) != f.default]
    return config.kind + (":" + ",".join(changed) if changed else "")


def config_from_dict(data: dict[str, Any], where: str = "quantize") -> QuantConfig:
    data = dict(data)
    raw = str(data.pop("kind", ""))
    kind = ALIASES.get(raw, raw)
    if kind not in CONFIGS:
        raise ConfigError(f"{where}: unknown quantization '{kind}'; choose one of: {', '.join(CONFIGS)}")
    cls = CONFIGS[kind]
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        valid = ", ".join(fields) or "none"
        raise ConfigError(f"{where}: '{kind}' has no option {', '.join(unknown)}; valid options: {valid}")
    values = {}
    for key, value in data.items():
        default = fields[key].default
        try:
            values[key] = _coerce(value, type(default))
        except ValueError:
            raise ConfigError(f"{where}: {kind} option {key}={value!r} is not a {type(default).__name__}") from None
    return cls(**values)


def _coerce(value: Any, kind: type) -> Any:
    if kind is bool and isinstance(value, str):
        if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise ValueError(value)
        return value.lower() in ("true", "1", "yes")
    return kind(value)


def parse_quant(spec: str | dict | QuantConfig, where: str = "quantize") -> QuantConfig:
    """`nf4`, `int4-weight-only:group_size=32`, `nf4:double_quant=false`, a dict with `kind`, or a config."""
    if isinstance(spec, tuple(CONFIGS.values())):
        return spec
    if isinstance(spec, dict):
        return config_from_dict(spec, where)
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"{where}: expected a quantization name ({', '.join(CONFIGS)}), got {spec!r}")
    name, _, options = spec.strip().partition(":")
    data: dict[str, Any] = {"kind": name}
    for item in filter(None, (part.strip() for part in options.split(","))):
        key, eq, value = item.partition("=")
        if not eq:
            raise ConfigError(f"{where}: option '{item}' in '{spec}' must look like key=value")
        data[key.strip()] = value.strip()
    return config_from_dict(data, where)
