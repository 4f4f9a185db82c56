"""Which linear layers quantization touches: every one outside the task head."""

from __future__ import annotations

from typing import Any

# Task heads stay in full precision: tiny, and quantizing a 1-logit head costs quality for no saving.
SKIP_MODULES = ("classifier", "pooler", "score", "lm_head")


def quantizable_linears(model) -> list[tuple[str, Any]]:
    """(name, nn.Linear) for every linear layer outside the task head."""
    import torch

    return [
        (name, module)
        for name, module in model.named_modules()
        if type(module) is torch.nn.Linear and not is_skipped(name)
    ]


def is_skipped(name: str) -> bool:
    parts = name.split(".")
    return any(part in SKIP_MODULES for part in parts)
