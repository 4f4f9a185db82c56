"""The one training path on tiny random models: LoRA, QLoRA and full, rerank and classify, resume."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loralab.methods.configs import method_config, train_config
from loralab.training.trainer import train


@pytest.fixture
def groups_file(tmp_path) -> Path:
    rows = []
    for i in range(24):
        topic = ["fleas", "concrete", "cats", "tea"][i % 4]
        rows.append({
            "query_id": f"q{i}", "query": f"question {i} about {topic}",
            "positive": {"_id": f"p{i}", "title": topic, "text": f"all about {topic} and more {topic}"},
            "negatives": [f"unrelated text number {i} {j}" for j in range(4)],
        })
    path = tmp_path / "groups.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def labeled_folder(tmp_path) -> Path:
    folder = tmp_path / "sentiment"
    folder.mkdir()
    good = ["great film", "loved it", "wonderful acting", "a delight", "superb and moving"]
    bad = ["awful film", "hated it", "terrible acting", "a bore", "dull and pointless"]
    rows = [{"text": t, "label": 1} for t in good] + [{"text": t, "label": 0} for t in bad]
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows * 3))
    (folder / "validation.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def _cfg(model, data, **kw):
    base = dict(model=str(model), data=str(data), max_steps=6, batch_size=4, eval_steps=3, save_steps=3,
                logging_steps=1, max_length=32, learning_rate=1e-3, eval_fraction=0.25)
    if kw.get("task", "rerank") == "rerank":
        base["num_negatives"] = 3
    return train_config(**{**base, **kw})


def test_lora_rerank_trains_and_saves_a_peft_adapter(tmp_path, tiny_bert, groups_file):
    from peft import PeftModel
    from transformers import AutoModelForSequenceClassification

    result = train(method_config("lora", r=4, alpha=8, target_modules=["query", "value"]),
                   _cfg(tiny_bert, groups_file), tmp_path / "run")
    run = result.run_dir
    m = result.metrics
    assert 0 < m["trainable_params"] < m["total_params"] and 0 < m["trainable_percent"] < 100
    assert (run / "adapter" / "adapter_model.safetensors").is_file() and m["artifact_bytes"] > 0
    assert not list((run / "adapter").glob("*.bin")) and not list((run / "adapter").glob("*.pt"))
    curves = [json.loads(line) for line in (run / "curves.jsonl").read_text().splitlines()]
    assert any("loss" in c for c in curves) and any("eval_mrr" in c for c in curves)
    assert {"config", "packages", "data_sha256"} <= set(json.loads((run / "manifest.json").read_text()))
    base = AutoModelForSequenceClassification.from_pretrained(str(tiny_bert), num_labels=1)
    loaded = PeftModel.from_pretrained(base, str(run / "adapter"))  # PEFT-native artifact
    assert any("lora_A" in n for n, _ in loaded.named_parameters())

    from loralab.data.schemas import Document
    from loralab.rankers.registry import build_ranker, ranker_config

    ranker = build_ranker(ranker_config("cross-encoder", model=str(run)))  # `--model RUNDIR` works
    assert not ranker.head_is_new
    assert len(ranker.score("question about fleas", [Document("a", "fleas"), Document("b", "tea")])) == 2


def test_full_finetune_classify_updates_every_layer(tmp_path, tiny_bert, labeled_folder):
    from safetensors.torch import load_file

    result = train(method_config("full"), _cfg(tiny_bert, labeled_folder, task="classify", max_steps=8,
                                               eval_steps=4, save_steps=4), tmp_path / "full")
    assert result.metrics["trainable_params"] == result.metrics["total_params"]
    assert {"eval_accuracy", "eval_macro_f1"} <= set(result.metrics["eval"])
    before = load_file(str(tiny_bert / "model.safetensors"))
    after = load_file(str(result.run_dir / "model" / "model.safetensors"))
    for layer in (0, 1):
        key = f"encoder.layer.{layer}.attention.self.query.weight"
        assert not (before[key] == after[f"bert.{key}"]).all(), f"layer {layer} did not train"


def test_qlora_stores_the_base_in_4bit(tmp_path, tiny_bert, groups_file):
    pytest.importorskip("bitsandbytes")
    result = train(method_config("qlora", r=4, alpha=8, target_modules=["query", "value"]),
                   _cfg(tiny_bert, groups_file, max_steps=3), tmp_path / "qlora")
    stored = result.metrics["base_param_bytes"]
    assert stored["quantized_linear"] > 0
    # 32x32 layers carry their own 256-entry code books, so the ratio is far above NF4's ~0.13 here
    # (all-MiniLM-L6-v2 measures 4.16 bits/param); it must still be well under fp32 and fp16.
    assert stored["quantized_linear"] <= 0.4 * stored["quantized_linear_fp32_equiv"]
    assert json.loads((result.run_dir / "train_config.json").read_text())["method"]["kind"] == "qlora"


def test_merge_writes_a_plain_model(tmp_path, tiny_bert, groups_file):
    from loralab.artifacts.merge import merge_run

    run = train(method_config("lora", r=4, alpha=8, target_modules=["query", "value"]),
                _cfg(tiny_bert, groups_file, max_steps=3), tmp_path / "run").run_dir
    merged = merge_run(run, tmp_path / "merged")
    assert (merged / "model.safetensors").is_file() and not (merged / "adapter_config.json").exists()


def _train_cli(out: Path, model: Path, data: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "loralab.cli.main", "train", "--task", "rerank", "--method", "lora",
            "--model", str(model), "--data", str(data), "--out", str(out), "--max-steps", "16", "--batch-size", "2",
            "--save-steps", "4", "--eval-steps", "4", "--max-length", "32", "--num-negatives", "3",
            "--lr", "1e-3", "--seed", "7", *extra]


def test_killed_training_resumes_to_the_same_result(tmp_path, tiny_bert, groups_file):
    env = {**os.environ, "TOKENIZERS_PARALLELISM": "false"}
    reference = tmp_path / "reference"
    subprocess.run(_train_cli(reference, tiny_bert, groups_file), check=True, env=env, capture_output=True)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_train_cli(killed, tiny_bert, groups_file), env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (killed / "checkpoints" / "checkpoint-8" / "trainer_state.json").exists():
        assert proc.poll() is None and time.time() < deadline, "training ended before it could be killed"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (killed / "metrics.json").exists()
    resumed = subprocess.run(_train_cli(killed, tiny_bert, groups_file, "--resume"), env=env,
                             capture_output=True, text=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    ref_metrics = json.loads((reference / "metrics.json").read_text())
    new_metrics = json.loads((killed / "metrics.json").read_text())
    assert new_metrics["resumed_from"] and new_metrics["global_step"] == 16
    assert new_metrics["eval"]["eval_loss"] == pytest.approx(ref_metrics["eval"]["eval_loss"], abs=1e-3)
    steps = [json.loads(line)["step"] for line in (killed / "curves.jsonl").read_text().splitlines()]
    assert steps == sorted(steps)


def test_existing_run_folder_needs_resume(tmp_path, tiny_bert, groups_file):
    from loralab.errors import ConfigError

    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    with pytest.raises(ConfigError, match="--resume"):
        train(method_config("lora"), _cfg(tiny_bert, groups_file), tmp_path / "busy")


def test_bad_training_rows_are_named(tmp_path):
    from loralab.errors import DataError
    from loralab.tasks.rerank.train import read_groups_jsonl

    path = tmp_path / "bad.jsonl"
    path.write_text('{"query": "q", "positive": "p", "negatives": []}\n')
    with pytest.raises(DataError, match=r"bad\.jsonl:1: field 'negatives'"):
        read_groups_jsonl(path)


def test_lora_targets_follow_the_architecture_names():
    """BERT names (query/key/value/dense) map to DeBERTa's and DistilBERT's; a model with none is a clear error."""
    from transformers import DebertaV2Config, DebertaV2Model, DistilBertConfig, DistilBertModel

    from loralab.errors import ConfigError
    from loralab.methods.model_setup import resolve_target_modules

    defaults = ["query", "key", "value", "dense"]
    deberta = DebertaV2Model(DebertaV2Config(vocab_size=100, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                             intermediate_size=64))
    assert resolve_target_modules(deberta, defaults) == ["query_proj", "key_proj", "value_proj", "dense"]
    distil = DistilBertModel(DistilBertConfig(vocab_size=100, dim=32, n_layers=1, n_heads=2, hidden_dim=64))
    assert resolve_target_modules(distil, defaults) == ["q_lin", "k_lin", "v_lin", "out_lin", "lin1", "lin2"]
    with pytest.raises(ConfigError, match="linear layers are named: proj"):
        resolve_target_modules(_named_proj(), defaults)


def _named_proj():
    import torch

    model = torch.nn.Module()
    model.proj = torch.nn.Linear(2, 2)
    return model


def test_distillation_loss_pulls_towards_the_teacher():
    import torch

    from loralab.tasks.rerank.train import group_loss

    positive_first = torch.tensor([[3.0, 0.0, 0.0]])
    teacher = torch.tensor([[0.9, 0.1, 0.1]])  # cosines; softmax(20 x cos) puts ~1.0 on the positive
    plain, _ = group_loss(positive_first.flatten(), torch.zeros(1, dtype=torch.long), "listwise")
    agreeing, _ = group_loss(positive_first.flatten(), teacher, "listwise")
    disagreeing, _ = group_loss(positive_first.flatten(), torch.tensor([[0.1, 0.9, 0.1]]), "listwise")
    assert agreeing.item() == pytest.approx(2 * plain.item(), abs=0.01)  # KL = CE when the teacher is one-hot
    assert disagreeing.item() > agreeing.item() + 2
    with pytest.raises(ValueError, match="listwise"):
        group_loss(positive_first.flatten(), teacher, "bce")


def test_rerank_training_with_a_teacher(tmp_path, tiny_bert, groups_file):
    from loralab.errors import ConfigError
    from loralab.training.tasks import training_task
    from loralab.artifacts.load import load_tokenizer

    cfg = _cfg(tiny_bert, groups_file, teacher=str(tiny_bert), distill_weight=0.5)
    task = training_task(cfg, load_tokenizer(str(tiny_bert)))
    batch = task.collator([task.train_dataset[0], task.train_dataset[1]])
    assert batch["labels"].shape == (2, 4) and batch["labels"].is_floating_point()  # teacher cosines per doc
    assert task.collator([task.eval_dataset[0]])["labels"].dtype.is_floating_point is False  # eval: plain labels
    result = train(method_config("lora", r=4, alpha=8), cfg, tmp_path / "run")
    assert result.metrics["global_step"] == 6
    assert json.loads((result.run_dir / "manifest.json").read_text())["config"]["train"]["rerank"]["teacher"] == str(tiny_bert)
    with pytest.raises(ConfigError, match="listwise"):
        _cfg(tiny_bert, groups_file, teacher="minilm", loss="bce")


def test_negatives_from_a_beir_folder_hardest_or_sampled(tmp_path, groups_file):
    from loralab.errors import DataError
    from loralab.tasks.rerank.train import load_training_groups

    folder = tmp_path / "beir"
    (folder / "qrels").mkdir(parents=True)
    docs = [{"_id": f"d{i}", "title": "", "text": "flea " * (20 - i) + f"filler text {i}"} for i in range(20)]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    (folder / "queries.jsonl").write_text('{"_id": "q1", "text": "flea"}\n')
    (folder / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td19\t1\n")
    hardest = load_training_groups(str(folder), num_negatives=3)
    assert len(hardest) == 1 and hardest[0].positive.endswith("filler text 19")
    assert [n.split()[-1] for n in hardest[0].negatives] == ["0", "1", "2"]  # BM25's top non-relevant
    sampled = load_training_groups(str(folder), num_negatives=3, negative_pool=15, seed=1)
    again = load_training_groups(str(folder), num_negatives=3, negative_pool=15, seed=1)
    assert sampled[0].negatives == again[0].negatives != hardest[0].negatives  # seeded, from deeper in the list
    assert all(int(n.split()[-1]) < 15 for n in sampled[0].negatives)
    with pytest.raises(DataError, match="BEIR folder"):
        load_training_groups(str(groups_file), negative_pool=15)
    # Each group carries BM25's scores of its positive and negatives, the positive's too (ranked last here).
    scores = hardest[0].first_stage
    assert len(scores) == 4 and scores[1] > scores[2] > scores[3] > scores[0] > 0


def test_hybrid_teacher_fuses_bm25_into_the_cosines():
    from loralab.tasks.rerank.train import hybrid_teacher

    cosines, bm25 = [0.5, 0.7, 0.3], [20.0, 5.0, 0.0]  # dense prefers doc 1, BM25 prefers doc 0
    assert hybrid_teacher(cosines, bm25, 0.0) == pytest.approx(cosines)
    assert hybrid_teacher(cosines, bm25, 1.0) == pytest.approx([0.7, 0.4, 0.3])  # BM25's order, cosine range
    fused = hybrid_teacher(cosines, bm25, 0.5)
    assert fused[0] > fused[1] > fused[2] and min(fused) == pytest.approx(0.3) and max(fused) <= 0.7


def test_hybrid_teacher_needs_bm25_scores_and_a_teacher(tmp_path, tiny_bert, groups_file):
    from loralab.errors import ConfigError, DataError
    from loralab.training.tasks import training_task
    from loralab.artifacts.load import load_tokenizer

    with pytest.raises(ConfigError, match="needs --teacher"):
        _cfg(tiny_bert, groups_file, teacher_bm25_weight=0.5)
    with pytest.raises(ConfigError, match=r"\[0, 1\]"):
        _cfg(tiny_bert, groups_file, teacher=str(tiny_bert), teacher_bm25_weight=1.5)
    cfg = _cfg(tiny_bert, groups_file, teacher=str(tiny_bert), teacher_bm25_weight=0.5)
    with pytest.raises(DataError, match="BEIR folder"):  # a groups file has no BM25 scores to fuse
        training_task(cfg, load_tokenizer(str(tiny_bert)))


def test_forward_batch_defaults_and_divides_the_batch(tmp_path):
    from loralab.training.trainer import forward_batch, training_arguments

    recipe = train_config(task="rerank", max_length=256, batch_size=8, num_negatives=7)
    assert forward_batch(recipe, 8) == 1  # 8 pairs x 256 tokens = the 2048-token default
    assert forward_batch(train_config(task="rerank", max_length=128, batch_size=8, num_negatives=7), 8) == 2
    assert forward_batch(train_config(task="rerank", max_length=256, batch_size=6, forward_batch=4), 6) == 3
    assert forward_batch(train_config(task="classify", batch_size=32), 32) == 32  # other tasks: the whole batch
    args = training_arguments(train_config(task="rerank", max_length=256, batch_size=8, grad_accum=2),
                              tmp_path, "mrr")
    assert (args.per_device_train_batch_size, args.gradient_accumulation_steps) == (1, 16)


def test_one_group_per_pass_gives_the_gradient_of_the_whole_step(tiny_bert, groups_file):
    """The memory default (one group per pass, padded to a multiple of 32, each pass's loss divided by the passes)
    computes the gradient of the whole step in one pass padded to the longest pair. Dropout off (eval mode): with
    it on, only the masks differ."""
    import torch

    from loralab.artifacts.load import load_tokenizer
    from loralab.methods.model_setup import build_classifier
    from loralab.training.tasks import training_task

    grads = {}
    for name, pad in (("one pass", 1), ("per group", 32)):
        cfg = _cfg(tiny_bert, groups_file, pad_to_multiple_of=pad)
        task = training_task(cfg, load_tokenizer(str(tiny_bert)))
        torch.manual_seed(0)
        model, _, _ = build_classifier(str(tiny_bert), method_config("lora", r=4, alpha=8), task.num_labels, False)
        model.eval()
        examples = [task.train_dataset[i] for i in range(4)]
        passes = [examples] if name == "one pass" else [[e] for e in examples]
        for chunk in passes:
            inputs = task.collator(chunk)
            labels = inputs.pop("labels")
            loss, _ = task.loss(model(**inputs).logits.float(), labels)
            (loss / len(passes)).backward()
        grads[name] = torch.cat([p.grad.flatten() for p in model.parameters() if p.grad is not None])
    assert grads["one pass"].abs().max() > 0
    assert torch.allclose(grads["per group"], grads["one pass"], rtol=1e-4, atol=1e-7)


def test_a_step_split_into_forward_passes_keeps_the_loss_scale(tmp_path, tiny_bert, groups_file):
    """Split in 4 passes, the step's loss is the mean over its groups, as in one pass: each pass's loss is divided
    by the accumulation steps (transformers 5 would skip that for a custom loss on a **kwargs model: 4x)."""
    losses = {}
    for passes, per_pass in ((1, None), (4, 1)):
        run = train(method_config("full"), _cfg(tiny_bert, groups_file, max_steps=1, forward_batch=per_pass,
                                               eval_steps=1, save_steps=1), tmp_path / f"run{passes}")
        curves = [json.loads(line) for line in (run.run_dir / "curves.jsonl").read_text().splitlines()]
        losses[passes] = next(c["loss"] for c in curves if "loss" in c)
    assert 0.75 < losses[4] / losses[1] < 1.33, losses


def test_one_group_per_pass_trains_the_same_model_as_one_pass_per_step(tmp_path, tiny_bert, groups_file):
    """Over whole training steps (sampler, accumulation, clipping, schedule, optimizer, both learning rates), the
    memory default ends at the weights of one pass per step padded to the longest pair. Dropout off everywhere: with
    it on, only the random masks differ."""
    import shutil

    import torch
    from safetensors.torch import load_file
    from transformers import AutoConfig

    no_dropout = tmp_path / "tiny-bert-no-dropout"
    shutil.copytree(tiny_bert, no_dropout)
    config = AutoConfig.from_pretrained(no_dropout)
    config.hidden_dropout_prob = config.attention_probs_dropout_prob = 0.0
    config.save_pretrained(no_dropout)
    weights = {}
    for name, per_pass, pad in (("one pass", 4, 1), ("per group", 1, 32)):  # explicit: at 32 tokens 4 groups fit
        run = train(method_config("lora", r=4, alpha=8, dropout=0.0),
                    _cfg(no_dropout, groups_file, max_steps=4, eval_steps=4, save_steps=4, forward_batch=per_pass,
                         pad_to_multiple_of=pad), tmp_path / name.replace(" ", "-"))
        weights[name] = load_file(str(run.run_dir / "adapter" / "adapter_model.safetensors"))
    assert weights["per group"].keys() == weights["one pass"].keys()
    assert any(v.abs().max() > 1e-3 for k, v in weights["one pass"].items() if "lora_B" in k)  # LoRA B starts at 0
    # Adam turns a near-zero gradient into a near-lr step whose sign float error can flip (m / sqrt(v) ~ +-1): measured
    # 1e-5 on the pooler bias, under 6e-7 elsewhere. The score bias gets no gradient at all (a listwise softmax does
    # not see a shift), so it moves by float noise alone. A wrong schedule, sampler or step count moves weights ~lr.
    for key, value in weights["one pass"].items():
        if not key.endswith("classifier.bias"):
            assert torch.allclose(weights["per group"][key], value, rtol=0, atol=1e-4), key


def test_bi_encoder_reranker_starts_at_the_backbone_and_is_scored_as_a_bi_encoder(tmp_path, tiny_bert, groups_file):
    """`--ranker bi-encoder` trains query and document embeddings apart: before any step its scores are the
    backbone's cosines x 20 (the ranker and the trained model score alike); the run loads as a bi-encoder, not as a
    cross-encoder."""
    import torch
    from transformers import AutoTokenizer

    from loralab.data.schemas import Document
    from loralab.errors import ConfigError
    from loralab.models.pair_encoder import COSINE_SCALE
    from loralab.rankers.registry import build_ranker, ranker_config
    from loralab.tasks.rerank.train import BiEncoderGroupCollator, build_bi_encoder

    query, docs = "question about fleas", [Document("a", "all about fleas"), Document("b", "tea with milk")]
    lora = method_config("lora", r=4, alpha=8)
    model, counts, _ = build_bi_encoder(str(tiny_bert), lora, False)
    assert 0 < counts.trainable < counts.total
    collate = BiEncoderGroupCollator(AutoTokenizer.from_pretrained(str(tiny_bert)), 32)
    batch = collate([{"query": query, "docs": [d.full_text for d in docs]}])
    batch.pop("labels")
    with torch.no_grad():
        start = model.eval()(**batch).logits[:, 0] / COSINE_SCALE
    backbone = build_ranker(ranker_config("bi-encoder", model=str(tiny_bert)))
    assert start.tolist() == pytest.approx(backbone.score(query, docs), abs=1e-5)

    result = train(lora, _cfg(tiny_bert, groups_file, ranker="bi-encoder"), tmp_path / "run")
    assert (result.run_dir / "adapter" / "adapter_model.safetensors").is_file()
    trained = build_ranker(ranker_config("bi-encoder", model=str(result.run_dir)))
    scores = trained.score(query, docs)
    assert scores != pytest.approx(backbone.score(query, docs), abs=1e-4)  # the adapter is applied
    int8 = build_ranker(ranker_config("bi-encoder", model=str(result.run_dir), quantize="int8-dynamic"))
    assert int8.quantization == "int8-dynamic" and int8.name.endswith("+int8-dynamic")
    assert int8.model_size_bytes < trained.model_size_bytes
    assert int8.score(query, docs) == pytest.approx(scores, abs=0.05)  # the adapter merged, then quantized
    with pytest.raises(ConfigError, match="encoder"):
        build_ranker(ranker_config("cross-encoder", model=str(result.run_dir)))
    with pytest.raises(ConfigError, match="no score head"):
        _cfg(tiny_bert, groups_file, ranker="bi-encoder", head_learning_rate=1e-2)
