"""Evaluate a classifier on a labeled split: accuracy (primary) and macro-F1, per-example correctness, cost."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from loralab.artifacts.run_folder import RunFolder
from loralab.eval.metrics import Metrics
from loralab.eval.profile import LatencyProfile, peak_rss_bytes
from loralab.eval.result import EvalResult
from loralab.tasks.classify.data import load_labeled


def evaluate_classifier(model: str, data: str = "sst2", split: str = "test", max_length: int = 256,
                        limit: int | None = None, quantize: str | None = None, batch_size: int = 32,
                        latency_samples: int = 50, labels: list[str] | None = None,
                        template: str | None = None) -> EvalResult:
    """Accuracy and macro-F1 of a classifier (packaged alias, folder, trained run, quantized folder) on a split,
    batched throughput, and one-at-a-time latency on the first `latency_samples` examples.

    A causal LM classifies zero-shot by prompting: `labels` are the label names in label-id order (default
    negative, positive), `template` the prompt with {text} and {labels}."""
    from sklearn.metrics import accuracy_score, f1_score

    examples = load_labeled(data, split)
    examples = examples[:limit] if limit else examples
    classifier = _classifier(model, max_length, batch_size, quantize, labels, template)
    texts = [e.text for e in examples]
    classifier.predict_proba(texts[:1])  # warm-up: kernel selection and any compile happen here, untimed
    start = time.perf_counter()
    preds = [int(np.argmax(p)) for p in classifier.predict_proba(texts)]
    seconds = time.perf_counter() - start
    gold = [e.label for e in examples]
    one_at_a_time = []
    for text in texts[:latency_samples]:
        begin = time.perf_counter()
        classifier.predict_proba([text])
        one_at_a_time.append(time.perf_counter() - begin)
    metrics = Metrics({"accuracy": float(accuracy_score(gold, preds)),
                       "macro_f1": float(f1_score(gold, preds, average="macro"))},
                      primary="accuracy", greater_is_better=True, num_queries=len(examples))
    ids = [str(i) for i in range(len(examples))]
    notes = ["classification head is untrained (random)"] if classifier.head_is_new else []
    return EvalResult(
        "classify", metrics, {"model": model, "data": data, "split": split, "max_length": max_length,
                              "quantize": quantize},
        per_example={"accuracy": {i: float(p == y) for i, p, y in zip(ids, preds, gold)}},
        latency=LatencyProfile.from_latencies(one_at_a_time, len(one_at_a_time)) if one_at_a_time else None,
        throughput=len(examples) / seconds if seconds > 0 else None, throughput_unit="examples/s",
        peak_rss_bytes=peak_rss_bytes(), size_bytes=classifier.model_size_bytes, notes=notes,
        extra={"quantization": classifier.quantization, "labels": classifier.labels},
    )


def save_classification(result: EvalResult, runs_root: Path, name: str) -> RunFolder:
    folder = RunFolder.create(Path(runs_root), name)
    folder.write_manifest({"task": "classify", **result.config}, [])
    folder.write_metrics(result.to_dict())
    return folder


def _classifier(model: str, max_length: int, batch_size: int, quantize: str | None, labels, template):
    """A trained (or saved) sequence classifier, or a causal LM prompted zero-shot."""
    from loralab.artifacts.load import head_of

    if head_of(model) == "causal-lm":
        from loralab.errors import ConfigError
        from loralab.tasks.classify.prompt import PromptClassifier, PromptClassifierConfig

        if quantize:
            raise ConfigError("prompt classification runs the LM as loaded; quantize it with `loralab quantize` first")
        options = {k: v for k, v in {"labels": labels, "template": template}.items() if v}
        return PromptClassifier(PromptClassifierConfig(model=model, max_length=max(max_length, 512), **options))
    from loralab.tasks.classify.predictor import ClassifierConfig, SequenceClassifier

    return SequenceClassifier(ClassifierConfig(model=model, max_length=max_length, batch_size=batch_size,
                                               quantize=quantize))
