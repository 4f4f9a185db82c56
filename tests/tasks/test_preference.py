"""Pairwise preference: readers (JSONL, arena CSV with ties), split by prompt, Siamese training and evaluation."""

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from loralab.errors import DataError
from loralab.methods.configs import method_config, train_config
from loralab.training.trainer import train
from loralab.tasks.preference.data import load_pairs, preference_metrics, read_arena_csv, read_preference_jsonl, split_by_prompt


@pytest.fixture
def pairs_file(tmp_path) -> Path:
    """A learnable toy: the helpful answer mentions the topic, the other refuses; A/B positions vary."""
    rows = []
    for i in range(48):
        good, bad = f"here is a helpful answer about topic {i % 6}", f"no {i % 4}"
        winner = "a" if (i * 7) % 3 else "b"
        a, b = (good, bad) if winner == "a" else (bad, good)
        rows.append({"id": str(i), "prompt": f"Human: topic {i % 6} question {i}\n\nAssistant:",
                     "response_a": a, "response_b": b, "winner": winner})
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _arena_csv(path: Path, rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "model_a", "model_b", "prompt", "response_a", "response_b",
                         "winner_model_a", "winner_model_b", "winner_tie"])
        writer.writerows(rows)
    return path


def test_arena_csv_reader_handles_turn_lists_nulls_and_ties(tmp_path):
    path = _arena_csv(tmp_path / "arena.csv", [
        ["1", "m1", "m2", json.dumps(["Hi", "And then?"]), json.dumps(["Hello!", "More."]), json.dumps(["Hey", None]), "1", "0", "0"],
        ["2", "m1", "m2", json.dumps(["Name a color"]), json.dumps(["Blue"]), json.dumps(["Red"]), "0", "0", "1"],
        ["3", "m1", "m2", "plain prompt, not a list", "answer one", "answer two", "0", "1", "0"],
    ])
    pairs = read_arena_csv(path)
    assert [p.winner for p in pairs] == ["a", "tie", "b"]
    assert pairs[0].prompt == "Hi\n\nAnd then?" and pairs[0].response_a == "Hello!\n\nMore." and pairs[0].response_b == "Hey"
    assert pairs[1].label == 2 and pairs[2].prompt == "plain prompt, not a list"
    assert pairs[2].swapped().winner == "a" and pairs[1].swapped().winner == "tie"


def test_arena_csv_errors_name_the_line_and_column(tmp_path):
    two_winners = _arena_csv(tmp_path / "bad.csv", [["1", "m", "n", "p", "a", "b", "1", "1", "0"]])
    with pytest.raises(DataError, match=r"bad.csv:2: exactly one of winner_model_a"):
        read_arena_csv(two_winners)
    not_a_flag = _arena_csv(tmp_path / "flag.csv", [["1", "m", "n", "p", "a", "b", "yes", "0", "0"]])
    with pytest.raises(DataError, match=r"flag.csv:2: column 'winner_model_a'"):
        read_arena_csv(not_a_flag)
    (tmp_path / "cols.csv").write_text("prompt,response_a\nx,y\n")
    with pytest.raises(DataError, match="missing column"):
        read_arena_csv(tmp_path / "cols.csv")


def test_jsonl_reader_rejects_a_bad_winner(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"prompt": "p", "response_a": "a", "response_b": "b", "winner": "c"}) + "\n")
    with pytest.raises(DataError, match=r"p.jsonl:1: field 'winner'"):
        read_preference_jsonl(path)


def test_builtin_split_is_by_prompt_and_fixed():
    splits = [load_pairs("hh-rlhf-pairs", s) for s in ("train", "validation", "test")]
    assert sum(len(s) for s in splits) == 8505
    prompts = [{p.prompt for p in s} for s in splits]
    assert not prompts[0] & prompts[2] and not prompts[0] & prompts[1] and not prompts[1] & prompts[2]
    assert [p.id for p in load_pairs("hh-rlhf-pairs", "test")] == [p.id for p in splits[2]]
    assert 0.75 < len(splits[0]) / 8505 < 0.85


def test_split_by_prompt_keeps_repeated_prompts_together(pairs_file):
    pairs = read_preference_jsonl(pairs_file)
    pairs = pairs + [p.swapped() for p in pairs]  # every prompt twice
    train_, val, test = split_by_prompt(pairs, seed=1, fractions=(0.5, 0.25))
    for split in (train_, val, test):
        for pair in split:
            assert sum(q.prompt == pair.prompt for q in split) == 2


def test_metrics_decisive_accuracy_ignores_ties_and_log_loss_is_finite():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6], [0.2, 0.5, 0.3]])
    metrics = preference_metrics(probs, np.array([0, 2, 0]))
    assert metrics["accuracy"] == pytest.approx(2 / 3)
    assert metrics["decisive_accuracy"] == pytest.approx(0.5)  # pairs 1 and 3; pair 3 picks B over A
    assert np.isfinite(metrics["log_loss"]) and metrics["num_pairs"] == 3


@pytest.mark.parametrize("kind", ["lora", "qlora", "full"])
def test_siamese_training_learns_and_saves_head_with_artifact(tmp_path, tiny_bert, pairs_file, kind):
    from loralab.tasks.preference.evaluate import evaluate_preference

    options = {} if kind == "full" else {"r": 4, "alpha": 8, "target_modules": ["query", "value", "dense"]}
    cfg = train_config(task="preference", model=str(tiny_bert), data=str(pairs_file), max_steps=40, batch_size=8,
                       eval_steps=20, save_steps=20, logging_steps=5, max_length=32, learning_rate=3e-3,
                       head_learning_rate=1e-2)
    result = train(method_config(kind, **options), cfg, tmp_path / "run")
    artifact = tmp_path / "run" / result.metrics["artifact"]
    assert (artifact / "preference_head.safetensors").is_file() and (artifact / "preference_head.json").is_file()
    assert result.metrics["artifact"] == ("model" if kind == "full" else "adapter")
    if kind != "full":
        assert 0 < result.metrics["trainable_percent"] < 100
        from peft import PeftModel
        from transformers import AutoModel

        PeftModel.from_pretrained(AutoModel.from_pretrained(str(tiny_bert)), str(artifact))  # plain PEFT format
    scores = evaluate_preference(tmp_path / "run", str(pairs_file), split="test", latency_samples=2)
    assert scores.num_examples > 0 and 0 <= scores.metrics.values["swap_flip_rate"] <= 1
    assert scores.primary == "accuracy" and len(scores.per_example["accuracy"]) == scores.num_examples
    if kind != "qlora":  # QLoRA on a 32-wide random 4-bit toy is too noisy to assert learning
        assert scores.primary_value >= 0.75, scores.summary()


def test_swap_consistency_averages_both_orders(tmp_path, tiny_bert, pairs_file):
    """The averaged prediction is symmetric: swapping every pair swaps the A and B probabilities."""
    from loralab.tasks.preference.data import read_preference_jsonl
    from loralab.tasks.preference.evaluate import load_preference_model, predict_probs

    cfg = train_config(task="preference", model=str(tiny_bert), data=str(pairs_file), max_steps=4, batch_size=8,
                       eval_steps=4, save_steps=4, max_length=32)
    train(method_config("lora", r=4, alpha=8, target_modules=["query"]), cfg, tmp_path / "run")
    loaded = load_preference_model(tmp_path / "run")
    pairs = read_preference_jsonl(pairs_file)[:6]
    forward, backward = predict_probs(loaded, pairs)
    swapped_forward, swapped_backward = predict_probs(loaded, [p.swapped() for p in pairs])
    averaged = (forward + backward) / 2
    averaged_swapped = (swapped_forward + swapped_backward) / 2
    np.testing.assert_allclose(averaged[:, [1, 0, 2]], averaged_swapped, atol=1e-5)


def test_int8_quantized_preference_model_evaluates(tmp_path, tiny_bert, pairs_file):
    from loralab.tasks.preference.evaluate import evaluate_preference

    cfg = train_config(task="preference", model=str(tiny_bert), data=str(pairs_file), max_steps=4, batch_size=8,
                       eval_steps=4, save_steps=4, max_length=32)
    train(method_config("lora", r=4, alpha=8, target_modules=["query"]), cfg, tmp_path / "run")
    plain = evaluate_preference(tmp_path / "run", str(pairs_file), latency_samples=1)
    int8 = evaluate_preference(tmp_path / "run", str(pairs_file), quantize="int8-dynamic", latency_samples=1)
    assert int8.extra["quantization"] == "int8-dynamic" and int8.size_bytes < plain.size_bytes
    assert abs(int8.primary_value - plain.primary_value) <= 0.5
    proc = subprocess.run([sys.executable, "-m", "loralab.cli.main", "eval", "--task", "preference", "--data",
                           str(pairs_file), "--model", str(tmp_path / "run"), "--json"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["primary"] == "accuracy" and out["accuracy"] == pytest.approx(plain.primary_value, abs=1e-6)


def test_compare_runs_preference_rows(tmp_path, tiny_bert, pairs_file):
    import yaml

    from loralab.compare.engine import run_compare
    from loralab.compare.config import load_compare_config
    from loralab.compare.report import write_report

    cfg = train_config(task="preference", model=str(tiny_bert), data=str(pairs_file), max_steps=4, batch_size=8,
                       eval_steps=4, save_steps=4, max_length=32)
    train(method_config("lora", r=4, alpha=8, target_modules=["query"]), cfg, tmp_path / "run")
    config_path = tmp_path / "cmp.yaml"
    config_path.write_text(yaml.safe_dump({"task": "preference", "dataset": str(pairs_file), "methods": [
        {"name": "lora", "model": str(tmp_path / "run"), "latency_samples": 2},
        {"name": "lora int8", "model": str(tmp_path / "run"), "quantize": "int8-dynamic", "latency_samples": 2},
    ]}))
    config = load_compare_config(config_path)
    rows = run_compare(config, tmp_path / "report", isolate=False)
    assert [r["method"] for r in rows] == ["lora", "lora int8"]
    assert all(0 <= r["accuracy"] <= 1 and r["trainable_params"] for r in rows)
    paths = write_report(config, rows, tmp_path / "report")
    text = paths["markdown"].read_text()
    assert "| accuracy | log loss |" in text.replace("method | ", "") and "swap flips" in text
    assert "NDCG" not in text and (tmp_path / "report" / "training_curves.png").is_file()


def test_preference_compare_config_needs_a_model(tmp_path, pairs_file):
    import yaml

    from loralab.compare.engine import run_compare
    from loralab.compare.config import load_compare_config
    from loralab.errors import ConfigError

    path = tmp_path / "cmp.yaml"
    path.write_text(yaml.safe_dump({"task": "preference", "dataset": str(pairs_file), "methods": [{"name": "x", "quantise": "int8"}]}))
    with pytest.raises(ConfigError, match="needs 'model'"):
        run_compare(load_compare_config(path), tmp_path / "out", isolate=False)
    path.write_text(yaml.safe_dump({"task": "nope", "dataset": "d", "methods": [{"name": "x"}]}))
    with pytest.raises(ConfigError, match="unknown task 'nope'"):
        load_compare_config(path)


def test_encoding_keeps_the_response_and_marks_its_tokens(tiny_bert):
    from transformers import AutoTokenizer

    from loralab.tasks.preference.train import PairCollator, encode_sides

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_bert))
    long_prompt = "Human: " + "tell me more about it " * 40 + "and finally what is tea?\n\nAssistant:"
    sides = encode_sides(tokenizer, [long_prompt, "Human: hi\n\nAssistant:"], ["tea is a drink made from leaves", "hello"], 48)
    first = sides[0]
    assert len(first["input_ids"]) <= 48
    response = [t for t, m in zip(first["input_ids"], first["response_mask"]) if m]
    assert tokenizer.decode(response) == "tea is a drink made from leaves"
    assert "what is tea" in tokenizer.decode(first["input_ids"])  # the prompt's end (its last turn) is kept
    batch = PairCollator(tokenizer)([{"a": sides[0], "b": sides[1], "labels": 0}])
    assert batch["response_mask"].shape == batch["input_ids"].shape
    assert int(batch["response_mask"][1].sum()) == len(tokenizer("hello", add_special_tokens=False)["input_ids"])


def test_loaded_splits_are_shuffled_so_a_prefix_mixes_the_sources():
    """HH-RLHF's file is grouped by subset; the first 300 validation pairs must not all be harmless-base."""
    first = load_pairs("hh-rlhf-pairs", "validation")[:300]
    assert len({p.id.split("/")[0] for p in first}) == 4
    assert [p.id for p in first] == [p.id for p in load_pairs("hh-rlhf-pairs", "validation")[:300]]


@pytest.mark.parametrize("symmetric", [True, False])
def test_symmetric_head_swaps_its_prediction_exactly(tiny_bert, symmetric):
    import torch
    from transformers import AutoModel, AutoTokenizer

    from loralab.models.siamese import SWAP, SiameseHeadConfig, SiamesePreferenceModel
    from loralab.tasks.preference.train import PairCollator, encode_sides

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_bert))
    model = SiamesePreferenceModel(AutoModel.from_pretrained(str(tiny_bert)), 32, SiameseHeadConfig(symmetric=symmetric)).eval()
    a = encode_sides(tokenizer, ["Human: q\n\nAssistant:"] * 2, ["a helpful answer", "sure"], 32)
    b = encode_sides(tokenizer, ["Human: q\n\nAssistant:"] * 2, ["no", "here is a long reply"], 32)
    collate = PairCollator(tokenizer)
    with torch.no_grad():
        forward = model(**collate([{"a": x, "b": y} for x, y in zip(a, b)])).logits
        swapped = model(**collate([{"a": y, "b": x} for x, y in zip(a, b)])).logits
    assert torch.allclose(forward, swapped[:, SWAP], atol=1e-5) == symmetric


def test_linear_probe_initialises_a_bradley_terry_head(tiny_bert, pairs_file):
    import torch
    from transformers import AutoTokenizer

    from loralab.tasks.preference.probe import init_head_from_probe
    from loralab.tasks.preference.train import PairCollator, PairDataset, build_siamese

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_bert))
    model, _, _ = build_siamese(str(tiny_bert), method_config("lora", r=4, alpha=8, target_modules=["query"]), False)
    dataset = PairDataset(read_preference_jsonl(pairs_file), tokenizer, 32, augment=False)
    accuracy = init_head_from_probe(model, dataset, PairCollator(tokenizer))
    assert accuracy is not None and accuracy > 0.8  # the toy is separable from a - b even with random weights
    weight = model.classifier.weight.detach()
    size = weight.shape[1] // 4
    assert torch.equal(weight[0, :size], weight[1, size:2 * size]) and weight[0, size:].abs().sum() == 0
    assert model.classifier.bias[2] < -5  # no ties in the data: a small tie prior


def test_llm_as_judge_scores_both_orders_and_measures_position_bias(tmp_path, pairs_file):
    from lm_support import tiny_llama_folder

    from loralab.tasks.preference.data import read_preference_jsonl
    from loralab.tasks.preference.evaluate import evaluate_preference
    from loralab.tasks.preference.judge import PromptJudge

    llama = tiny_llama_folder(tmp_path / "llama")
    judge = PromptJudge(str(llama))
    pairs = read_preference_jsonl(pairs_file)[:3]
    forward, backward = judge.predict_probs(pairs)
    np.testing.assert_allclose(forward.sum(axis=1), 1.0, atol=1e-6)
    swapped_forward, _ = judge.predict_probs([p.swapped() for p in pairs])
    np.testing.assert_allclose(backward, swapped_forward[:, [1, 0, 2]], atol=1e-6)  # B-then-A, mapped back
    result = evaluate_preference(str(llama), str(pairs_file), split="test", limit=4, latency_samples=1)
    assert result.extra["method_kind"] == "prompt" and 0 <= result.metrics.values["swap_flip_rate"] <= 1
