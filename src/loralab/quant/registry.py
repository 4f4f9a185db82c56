"""Quantization backends by config type (modelled on torchao's quantize handler registry).

A backend registers `handler(model, config, calibration) -> model` for one config type, optionally only when a
predicate on the config holds (e.g. int8-dynamic's engine); registering the same type and predicate twice raises.
"""

from __future__ import annotations

from collections.abc import Callable

from loralab.errors import QuantizationError

Handler = Callable  # (model, config, calibration) -> quantized model
_HANDLERS: dict[type, list[tuple[Callable | None, Handler]]] = {}


def register_backend(config_type: type, when: Callable | None = None):
    def decorator(handler: Handler) -> Handler:
        entries = _HANDLERS.setdefault(config_type, [])
        if any(existing is when for existing, _ in entries):
            raise ValueError(f"a quantization backend for {config_type.__name__} is already registered")
        entries.append((when, handler))
        return handler

    return decorator


def handler_for(config) -> Handler:
    for when, handler in _HANDLERS.get(type(config), []):
        if when is None or when(config):
            return handler
    known = ", ".join(sorted(t.kind for t in _HANDLERS))
    raise QuantizationError(f"no quantization backend accepts {config!r}; registered kinds: {known}")
