"""One module per quantization backend; each `apply` returns None when the config is not its kind."""

from loralab.quant.backends import bnb, cast, gpu, quanto, torch_dynamic, torchao_int8

BACKENDS = (cast.apply, torch_dynamic.apply, torchao_int8.apply, quanto.apply, bnb.apply, gpu.apply)
