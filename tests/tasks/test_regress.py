"""LLM price prediction: completion-only loss, number decoding on a real (tiny, memorized) Llama, metrics,
evaluation with unparseable outputs counted, training end to end, compare rows and the CLI."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from loralab.errors import DataError
from loralab.tasks.lm.data import IGNORE, CompletionCollator, completion_example
from loralab.tasks.regress.number_decoding import greedy_number, parse_number, topk_weighted_number
from loralab.tasks.regress.data import PriceFormat, load_prices, seeded_subset
from loralab.tasks.regress.metrics import regression_metrics
from lm_support import memorize, tiny_llama_folder

FMT = PriceFormat()
ITEMS = [("LEGO castle with knights", 123.0, "123"), ("Enamel pin badge", 7.5, "7.5"), ("Mystery box", 10.0, "abc")]


@pytest.fixture(scope="module")
def price_llama(tmp_path_factory) -> Path:
    """A tiny Llama that has memorized three answers: a 3-token number, a decimal, and no number at all."""
    folder = tiny_llama_folder(tmp_path_factory.mktemp("price-llama"))
    return memorize(folder, [(FMT.prompt(text), answer) for text, _, answer in ITEMS])


@pytest.fixture(scope="module")
def price_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("prices")
    rows = [{"id": f"i{k}", "text": text, "price": price} for k, (text, price, _) in enumerate(ITEMS)]
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    extra = [{"id": f"t{k}", "text": f"toy number {k}", "price": float(k + 1)} for k in range(21)]
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows + extra))
    return folder


@pytest.fixture(scope="module")
def model_and_tokenizer(price_llama):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(price_llama).eval(), AutoTokenizer.from_pretrained(price_llama)


def test_prompt_tokens_carry_no_loss(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    examples = [completion_example(tokenizer, FMT.prompt(t), FMT.answer(p), 128) for t, p, _ in ITEMS[:2]]
    n_prompt = [len(tokenizer(FMT.prompt(t), add_special_tokens=False)["input_ids"]) for t, _, _ in ITEMS[:2]]
    for ex, n in zip(examples, n_prompt):
        assert ex["labels"][:n] == [IGNORE] * n and IGNORE not in ex["labels"][n:]
        assert ex["labels"][n:] == ex["input_ids"][n:] and ex["input_ids"][-1] == tokenizer.eos_token_id
    batch = CompletionCollator(tokenizer)(examples)
    out = model(**batch)
    out.logits.retain_grad()
    out.loss.backward()
    grad = out.logits.grad.abs().sum(-1)  # (batch, positions): which positions' predictions the loss sees
    for row, (ex, n) in enumerate(zip(examples, n_prompt)):
        # position t predicts token t+1: only n-1 .. len-2 predict completion tokens
        assert torch.all(grad[row, : n - 1] == 0), "a prompt token contributed to the loss"
        assert torch.all(grad[row, n - 1: len(ex["input_ids"]) - 1] > 0)
        assert torch.all(grad[row, len(ex["input_ids"]) - 1:] == 0), "padding contributed to the loss"
    # Un-masking the prompt changes the loss: the masking is what makes it completion-only.
    unmasked = {**batch, "labels": torch.where(batch["attention_mask"] == 1, batch["input_ids"], IGNORE)}
    with torch.no_grad():
        assert not math.isclose(model(**unmasked).loss.item(), out.loss.item(), rel_tol=1e-3)


def test_long_prompts_are_cut_from_the_left_keeping_the_answer(model_and_tokenizer):
    _, tokenizer = model_and_tokenizer
    ex = completion_example(tokenizer, FMT.prompt("word " * 200), "42", 32)
    assert len(ex["input_ids"]) == 32
    assert tokenizer.decode([t for t in ex["labels"] if t != IGNORE]) == "42" + tokenizer.eos_token


@pytest.mark.parametrize(("text", "value"), [("£1,299.99", 1299.99), (" 45.", 45.0), ("about 7 pounds", 7.0),
                                             ("abc", None), ("", None)])
def test_parse_number(text, value):
    assert parse_number(text) == value


def test_greedy_reads_multi_token_numbers(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    assert len(tokenizer("123", add_special_tokens=False)["input_ids"]) == 3  # one digit per token
    assert greedy_number(model, tokenizer, FMT.prompt(ITEMS[0][0])).value == 123.0
    assert greedy_number(model, tokenizer, FMT.prompt(ITEMS[1][0])).value == 7.5
    unparsed = greedy_number(model, tokenizer, FMT.prompt(ITEMS[2][0]))
    assert unparsed.value is None and not unparsed.parsed and "abc" in unparsed.text


def test_topk_weights_parsed_candidates_by_probability(model_and_tokenizer):
    model, tokenizer = model_and_tokenizer
    pred = topk_weighted_number(model, tokenizer, FMT.prompt(ITEMS[0][0]), k=5)
    assert pred.candidates[0][0] == "123"  # the most likely first digit, continued to the whole number
    parsed = [(parse_number(n), p) for n, p in pred.candidates]
    assert all(v is not None for v, _ in parsed) and len(parsed) >= 2
    assert pred.value == pytest.approx(sum(v * p for v, p in parsed) / sum(p for _, p in parsed))
    assert all(p1 >= p2 for (_, p1), (_, p2) in zip(pred.candidates, pred.candidates[1:]))
    assert topk_weighted_number(model, tokenizer, FMT.prompt(ITEMS[2][0]), k=1).value is None


def test_metrics_by_hand():
    m = regression_metrics([10.0, 100.0, 200.0], [14.0, 130.0, -5.0], unparsed=1)
    assert m["mae"] == pytest.approx((4 + 30 + 200) / 3)  # a negative prediction is clamped to £0
    assert m["hit_rate"] == pytest.approx(1 / 3)  # 14 vs 10 is within £5; 130 vs 100 is 30% off
    expected = math.sqrt(((math.log1p(14) - math.log1p(10)) ** 2 + (math.log1p(130) - math.log1p(100)) ** 2
                          + math.log1p(200) ** 2) / 3)
    assert m["rmsle"] == pytest.approx(expected) and m["unparsed"] == 1


def test_evaluation_counts_unparsed_and_writes_a_run(price_llama, price_folder, tmp_path):
    from loralab.tasks.regress.evaluate import PriceEvalConfig, evaluate_prices, save_price_eval

    result = evaluate_prices(PriceEvalConfig(model=str(price_llama), data=str(price_folder), limit=None))
    median = 10.5  # of the 24 training prices 1..21, 7.5, 10, 123
    assert result.metrics.values["unparsed"] == 1 and result.num_examples == 3
    assert result.primary == "mae" and result.metrics.greater_is_better is False
    assert [p["pred"] for p in result.outputs] == [123.0, 7.5, median]
    assert sorted(result.per_example["mae"].values()) == sorted(abs(p["pred"] - p["price"]) for p in result.outputs)
    folder = save_price_eval(result, tmp_path, "tiny greedy")
    written = {p.name for p in folder.path.iterdir()}
    assert {"metrics.json", "predictions.jsonl", "scatter.png", "manifest.json"} <= written
    baseline = evaluate_prices(PriceEvalConfig(model=None, data=str(price_folder), decoding="median", limit=None))
    assert baseline.primary_value == pytest.approx((112.5 + 3 + 0.5) / 3) and baseline.latency is None


def test_seeded_subset_is_fixed():
    items = load_prices("amazon-uk-prices", "test")
    assert len(items) == 1709
    a, b = seeded_subset(items, 300, 42), seeded_subset(items, 300, 42)
    assert [i.id for i in a] == [i.id for i in b] and len({i.id for i in a}) == 300


@pytest.mark.parametrize(("row", "field"), [('{"id": "x", "text": "a toy", "price": "cheap"}', "price"),
                                            ('{"id": "x", "price": 3.5}', "text"),
                                            ('{"id": "x", "text": "a toy", "price": -1}', "price")])
def test_bad_price_rows_name_file_line_and_field(tmp_path, row, field):
    path = tmp_path / "test.jsonl"
    path.write_text('{"id": "ok", "text": "fine", "price": 1.0}\n' + row + "\n")
    with pytest.raises(DataError, match=rf"test\.jsonl:2: .*'{field}'"):
        load_prices(str(path), "test")


def test_regress_training_learns_only_the_price_and_evaluates(tmp_path, price_llama, price_folder):
    from loralab.methods.configs import method_config, train_config
    from loralab.training.trainer import train
    from loralab.tasks.regress.rows import rows as regress_rows
    from loralab.tasks.rows import RowRequest

    cfg = train_config(task="regress", model=str(price_llama), data=str(price_folder), max_steps=4, batch_size=4,
                       eval_steps=2, save_steps=2, logging_steps=1, max_length=64, learning_rate=1e-3,
                       eval_fraction=0.2)
    result = train(method_config("lora", r=4, alpha=8), cfg, tmp_path / "run")
    adapter = tmp_path / "run" / "adapter"
    assert (adapter / "adapter_model.safetensors").is_file() and (adapter / "price_format.json").is_file()
    assert json.loads((adapter / "adapter_config.json").read_text())["task_type"] == "CAUSAL_LM"
    assert "eval_loss" in result.metrics["eval"] and result.metrics["best_checkpoint"]
    request = RowRequest(name="tuned", dataset=str(price_folder), runs_root=str(tmp_path / "runs"),
                         options={"model": str(tmp_path / "run"), "limit": 3})
    rows = regress_rows(request.to_dict())
    row = rows[0]
    assert {"mae", "rmsle", "hit_rate", "unparsed", "p50_ms", "items_per_s", "size_mb", "trainable_params"} <= set(row)
    assert row["num_queries"] == 3 and row["trainable_params"] == result.metrics["trainable_params"]


def test_price_eval_cli_json(tmp_path, price_llama, price_folder):
    proc = subprocess.run([sys.executable, "-m", "loralab.cli.main", "eval", "--task", "regress", "--model", str(price_llama),
                           "--data", str(price_folder), "--limit", "0", "--decoding", "topk", "--top-k", "3",
                           "--runs-root", str(tmp_path), "--json"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["num_examples"] == 3 and out["primary"] == "mae" and Path(out["run_dir"], "scatter.png").is_file()
    bad = subprocess.run([sys.executable, "-m", "loralab.cli.main", "eval", "--task", "regress", "--data", "amazon-uk-prices", "--decoding", "beam"],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "choose one of greedy, topk, median" in bad.stderr


@pytest.mark.slow
def test_real_smollm2_prices_real_items_with_every_decoding():
    from loralab.tasks.regress.evaluate import PriceEvalConfig, evaluate_prices

    for decoding in ("greedy", "topk"):
        result = evaluate_prices(PriceEvalConfig(limit=5, decoding=decoding))
        assert result.num_examples == 5 and result.metrics.values["unparsed"] == 0
        assert all(p["pred"] > 0 for p in result.outputs) and math.isfinite(result.metrics.values["rmsle"])
