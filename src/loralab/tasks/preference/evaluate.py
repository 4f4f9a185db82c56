"""Load a trained preference model and score pairs with swap-consistency (both orders, averaged)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from loralab.eval.metrics import Metrics
from loralab.eval.profile import LatencyProfile, peak_rss_bytes
from loralab.eval.result import EvalResult
from loralab.models.memory import parameter_bytes
from loralab.models.siamese import SiamesePreferenceModel
from loralab.progress import report
from loralab.tasks.preference.data import PreferencePair, load_pairs, preference_metrics, swap_classes
from loralab.tasks.preference.train import PairCollator, encode_sides


@dataclass
class LoadedPreferenceModel:
    model: SiamesePreferenceModel
    tokenizer: Any
    max_length: int
    method: str  # full | lora | qlora
    artifact_dir: Path
    quantization: str | None = None


def load_preference_model(spec: str | Path, max_length: int | None = None, quantize: str | None = None) -> LoadedPreferenceModel:
    """A trained preference run (or its adapter/ or model/ folder) through the one loader, optionally quantized."""
    from loralab.artifacts.load import load

    loaded = load(spec, head="siamese", quantize=quantize)
    run, adapter = loaded.run, loaded.adapter
    method = (run.method.get("kind") if run else None) or ("lora" if adapter is not None else "full")
    length = max_length or (run.max_length if run else None) or 256
    folder = run.artifact_dir if run else Path(str(spec))
    return LoadedPreferenceModel(loaded.model, loaded.tokenizer, length, method, folder, quantize)


@torch.inference_mode()
def predict_probs(loaded: LoadedPreferenceModel, pairs: list[PreferencePair], batch_size: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """(P(A, B, tie) for A-then-B, the same for B-then-A mapped back to the original order)."""
    prompts = [p.prompt for p in pairs]
    a = encode_sides(loaded.tokenizer, prompts, [p.response_a for p in pairs], loaded.max_length)
    b = encode_sides(loaded.tokenizer, prompts, [p.response_b for p in pairs], loaded.max_length)
    return _score(loaded, a, b, batch_size), swap_classes(_score(loaded, b, a, batch_size))


def _score(loaded: LoadedPreferenceModel, first: list[dict], second: list[dict], batch_size: int) -> np.ndarray:
    collate = PairCollator(loaded.tokenizer)
    order = sorted(range(len(first)), key=lambda i: max(len(first[i]["input_ids"]), len(second[i]["input_ids"])))
    out = np.zeros((len(first), loaded.model.head_config.num_labels), dtype=np.float64)
    for start in range(0, len(order), batch_size):
        idx = order[start:start + batch_size]
        report(start, len(order), "pair")
        batch = collate([{"a": first[i], "b": second[i]} for i in idx])
        logits = loaded.model(**batch).logits.float()
        out[idx] = torch.softmax(logits, dim=-1).numpy()
    return out


def evaluate_preference(spec: str | Path, data: str = "hh-rlhf-pairs", split: str = "test", limit: int | None = None,
                        batch_size: int = 16, quantize: str | None = None, latency_samples: int = 50) -> EvalResult:
    """Swap-consistent metrics on a split, the flip rate, batched throughput and one-at-a-time latency.

    A trained preference run is scored by its Siamese model; a causal LM judges zero-shot (LLM-as-judge)."""
    from loralab.artifacts.load import head_of

    if head_of(spec) == "causal-lm":
        from loralab.errors import ConfigError
        from loralab.tasks.preference.judge import PromptJudge

        if quantize:
            raise ConfigError("LLM-as-judge runs the LM as loaded; quantize it with `loralab quantize` first")
        loaded = PromptJudge(str(spec))
        scorer = loaded.predict_probs
    else:
        loaded = load_preference_model(spec, quantize=quantize)
        scorer = lambda chunk, size: predict_probs(loaded, chunk, size)  # noqa: E731
    pairs = load_pairs(data, split)
    pairs = pairs[:limit] if limit else pairs
    start = time.perf_counter()
    forward, backward = scorer(pairs, batch_size)
    seconds = time.perf_counter() - start
    labels = np.array([p.label for p in pairs])
    metrics = preference_metrics((forward + backward) / 2, labels)
    single = preference_metrics(forward, labels)
    latencies = [_time_one(scorer, pair) for pair in pairs[:latency_samples]]
    averaged = (forward + backward) / 2
    values = {**{k: v for k, v in metrics.items() if k != "num_pairs"},
              "accuracy_one_order": single["accuracy"], "log_loss_one_order": single["log_loss"],
              "swap_flip_rate": float((forward.argmax(axis=1) != backward.argmax(axis=1)).mean())}
    ids = [str(i) for i in range(len(pairs))]
    correct = averaged.argmax(axis=1) == labels
    return EvalResult(
        "preference", Metrics(values, primary="accuracy", greater_is_better=True, num_queries=len(pairs)),
        {"model": str(spec), "data": data, "split": split, "quantize": quantize, "max_length": loaded.max_length},
        per_example={"accuracy": {i: float(c) for i, c in zip(ids, correct)}},
        # cost is priced on one pair at a time (a served request); the throughput is the batched rate
        latency=LatencyProfile.from_latencies(latencies, len(latencies)) if latencies else None,
        throughput=len(pairs) / seconds if seconds > 0 else None, throughput_unit="pairs/s",
        peak_rss_bytes=peak_rss_bytes(), size_bytes=parameter_bytes(loaded.model)["total"],
        extra={"method_kind": loaded.method, "quantization": quantize, "split": split},
    )


def _time_one(scorer, pair: PreferencePair) -> float:
    start = time.perf_counter()
    scorer([pair], 1)
    return time.perf_counter() - start
