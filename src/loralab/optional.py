"""Optional packages: import one with an error that names its extra, and mute their harmless load-time noise.

Extras (pyproject.toml): `serve` (fastapi, uvicorn, httpx, prometheus-client), `retrieval` (chromadb),
`quant` (torchao, optimum-quanto, bitsandbytes); `all` is the three.

The noise: importing torchao (which transformers does on its own whenever torchao is installed, so every model
load does it) logs "Failed to load .../torchao/_C_*.so" for its CUDA-only extensions on other machines, and
registering its enums logs torch's "... Enum subclass ... register_constant() ..." deprecation; importing
bitsandbytes on an AVX512-BF16 CPU logs "Failed to load CPU gemm_4bit_forward from kernels-community" (an
optional faster kernel). All three are `logging` records, so `mute_library_noise` (run when `loralab` is
imported; it imports nothing) drops exactly those messages from exactly those loggers. Every other record,
and every exception, is untouched. LORALAB_LIBRARY_NOISE=1 shows them again.
"""

from __future__ import annotations

import importlib
import logging
import os
from types import ModuleType

from loralab.errors import MissingDependencyError

# logger name -> substrings of the messages to drop (only these, only from that logger)
KNOWN_NOISE: dict[str, tuple[str, ...]] = {
    "torchao": ("Failed to load ",),  # "Failed to load <torchao/_C_....so>: Could not load this library"
    "torch.utils._pytree": ("is an Enum subclass and is now natively supported",),
    "bitsandbytes.backends.cpu.ops": ("Failed to load CPU gemm_4bit_forward from kernels-community",),
}


class _DropKnownNoise(logging.Filter):
    def __init__(self, logger_name: str, needles: tuple[str, ...]):
        super().__init__()
        self.logger_name, self.needles = logger_name, needles

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record is not ours to judge (logging reports it)
            return True
        if self.logger_name == "torchao" and ".so" not in message:
            return True
        return not any(needle in message for needle in self.needles)


def mute_library_noise() -> None:
    """Attach the filters (idempotent); the loggers need not exist yet, the libraries pick these ones up."""
    if os.environ.get("LORALAB_LIBRARY_NOISE") == "1":
        return
    for name, needles in KNOWN_NOISE.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropKnownNoise) for f in logger.filters):
            logger.addFilter(_DropKnownNoise(name, needles))


def require(module: str, extra: str, purpose: str, package: str | None = None) -> ModuleType:
    """`import module`, or MissingDependencyError "PURPOSE needs PACKAGE: pip install 'loralab[EXTRA]'".

    Only a missing `module` (or a missing parent of it) becomes that error; an ImportError raised inside an
    installed package is a real error and propagates.
    """
    mute_library_noise()
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        missing = exc.name or ""
        if not missing or not (module == missing or module.startswith(missing + ".")):
            raise
        raise MissingDependencyError(
            f"{purpose} needs {package or module.split('.')[0]}: pip install 'loralab[{extra}]'"
        ) from None


def missing_extra(modules: tuple[str, ...], extra: str, purpose: str) -> MissingDependencyError | None:
    """The error for the first of `modules` that is not installed (checked without importing), else None."""
    from importlib.util import find_spec

    for name in modules:
        try:
            found = find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            return MissingDependencyError(f"{purpose} needs {name}: pip install 'loralab[{extra}]'")
    return None
