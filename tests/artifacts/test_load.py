"""The one loader: every kind of spec goes through `loralab.artifacts.load.load`; merge keeps the run's task."""

import json
from pathlib import Path

import pytest
import torch

from loralab.artifacts.load import load
from loralab.artifacts.merge import merge_run, merged
from loralab.artifacts.quantized import save_quantized
from loralab.errors import ConfigError, UntrainedHeadError
from loralab.methods.configs import method_config, train_config
from loralab.training.trainer import train


@pytest.fixture(scope="module")
def groups_file(tmp_path_factory) -> Path:
    rows = [{"query_id": f"q{i}", "query": f"question {i} about {t}",
             "positive": {"_id": f"p{i}", "title": t, "text": f"all about {t}"},
             "negatives": [f"unrelated text {i} {j}" for j in range(4)]}
            for i, t in enumerate(["fleas", "concrete", "cats", "tea"] * 4)]
    path = tmp_path_factory.mktemp("groups") / "groups.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _train(kind: str, backbone: Path, data: Path, out: Path, task: str = "rerank", **options) -> Path:
    rerank = {"num_negatives": 3} if task == "rerank" else {}
    cfg = train_config(task=task, model=str(backbone), data=str(data), max_steps=2, batch_size=4, eval_steps=2,
                       save_steps=2, max_length=32, max_eval_examples=4, **rerank, **options)
    method = method_config(kind, **({} if kind == "full" else {"r": 4, "alpha": 8}))
    train(method, cfg, out)
    return out


@pytest.fixture(scope="module")
def runs(tiny_bert, groups_file, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("runs")
    return {kind: _train(kind, tiny_bert, groups_file, root / kind) for kind in ("lora", "qlora", "full")}


def _scores(loaded, texts=("flea life cycle", "concrete floor cost")) -> torch.Tensor:
    batch = loaded.tokenizer(list(texts), return_tensors="pt", padding=True)
    with torch.no_grad():
        return loaded.model(**batch).logits.float()


def test_backbone_folder_and_alias_load_with_the_head_asked_for(tiny_bert, tiny_cross_encoder):
    encoder = load(str(tiny_bert))
    assert encoder.head == "encoder" and encoder.run is None and encoder.size_bytes > 0
    with pytest.raises(UntrainedHeadError, match=str(tiny_bert)):
        load(str(tiny_bert), head="sequence-classifier", num_labels=1)
    fresh = load(str(tiny_bert), head="sequence-classifier", num_labels=1, allow_untrained_head=True)
    assert fresh.head_is_new and fresh.model.config.num_labels == 1
    trained_head = load(str(tiny_cross_encoder))
    assert trained_head.head == "sequence-classifier" and not trained_head.head_is_new
    alias = load("minilm", head="encoder")
    assert alias.model.config.hidden_size == 384 and alias.path and Path(alias.path).is_dir()


@pytest.mark.parametrize("kind", ["lora", "qlora", "full"])
def test_trained_runs_load_as_trained(runs, kind):
    loaded = load(str(runs[kind]))
    assert loaded.head == "sequence-classifier" and loaded.run is not None and loaded.run.method["kind"] == kind
    assert (loaded.adapter is None) == (kind == "full")
    assert (loaded.quantization == "nf4 (QLoRA base)") == (kind == "qlora")
    assert torch.isfinite(_scores(loaded)).all()
    with pytest.raises(ConfigError, match="not a causal-lm"):
        load(str(runs[kind]), head="causal-lm")


def test_quantized_folder_round_trips_through_load(tiny_cross_encoder, tmp_path):
    quantized = load(str(tiny_cross_encoder), quantize="int8-dynamic")
    assert quantized.quantization == "int8-dynamic"
    folder = save_quantized(quantized, tmp_path / "int8")
    restored = load(str(folder))
    assert restored.quantization == "int8-dynamic" and restored.head == "sequence-classifier"
    torch.testing.assert_close(_scores(restored), _scores(quantized))
    with pytest.raises(ConfigError, match="already quantized"):
        load(str(folder), quantize="nf4")


def test_qlora_merge_bases_differ_and_lora_merge_matches_the_adapter(runs, tmp_path):
    lora = runs["lora"]
    as_loaded = _scores(load(str(lora)))
    torch.testing.assert_close(_scores(merged(str(lora), "original")), as_loaded, atol=1e-5, rtol=1e-4)
    folder = merge_run(str(lora), tmp_path / "merged")
    assert (folder / "model.safetensors").is_file() and not (folder / "adapter_config.json").exists()
    plain = load(str(folder))
    assert plain.head == "sequence-classifier" and not plain.head_is_new
    torch.testing.assert_close(_scores(plain), as_loaded, atol=1e-5, rtol=1e-4)


def test_merging_a_causal_lm_run_gives_a_causal_lm(tmp_path):
    from lm_support import tiny_llama_folder
    from transformers import LlamaForCausalLM

    base = tiny_llama_folder(tmp_path / "llama")
    prices = tmp_path / "prices"
    prices.mkdir()
    rows = [{"id": f"i{k}", "text": f"toy number {k}", "price": float(k + 1)} for k in range(12)]
    (prices / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    run = _train("lora", base, prices, tmp_path / "run", task="regress", eval_fraction=0.25)
    loaded = load(str(run))
    assert loaded.head == "causal-lm" and loaded.run.task == "regress"
    folder = merge_run(str(run), tmp_path / "merged")
    assert json.loads((folder / "config.json").read_text())["architectures"] == ["LlamaForCausalLM"]
    assert isinstance(load(str(folder)).model, LlamaForCausalLM)


@pytest.mark.slow
def test_packaged_gguf_alias_loads_as_a_causal_lm(tmp_path, monkeypatch):
    monkeypatch.setenv("LORALAB_CACHE", str(tmp_path))
    loaded = load("smollm2-135m-instruct")
    assert loaded.head == "causal-lm" and loaded.model.config.num_hidden_layers == 30
