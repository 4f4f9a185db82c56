"""One module per quantization backend; importing this package registers each for its config types."""

from loralab.quant.backends import bnb, cast, gpu, quanto, torch_dynamic, torchao_int8  # noqa: F401
