"""Load a trained preference model and score pairs with swap-consistency (both orders, averaged)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from loralab.errors import ConfigError, ModelError
from loralab.models.siamese import HEAD_CONFIG, SiamesePreferenceModel, load_head, read_head_config
from loralab.tasks.preference import PreferencePair, load_pairs, preference_metrics, swap_classes
from loralab.tasks.preference_train import PairCollator, encode_sides


@dataclass
class LoadedPreferenceModel:
    model: SiamesePreferenceModel
    tokenizer: Any
    max_length: int
    method: str  # full | lora | qlora
    artifact_dir: Path
    quantization: str | None = None


def _artifact(spec: str | Path) -> tuple[Path, dict]:
    """(adapter/ or model/ folder, the run's train_config or {}) for a run folder or an artifact folder."""
    path = Path(str(spec))
    if (path / "train_config.json").is_file():
        config = json.loads((path / "train_config.json").read_text())
        for name in ("adapter", "model"):
            if (path / name / HEAD_CONFIG).is_file():
                return path / name, config
        raise ModelError(f"{path}: a run folder without a preference adapter/ or model/ (task {config['train'].get('task')!r})")
    if (path / HEAD_CONFIG).is_file():
        return path, {}
    raise ModelError(f"{path}: not a preference run folder (expected train_config.json and adapter/ or model/ with {HEAD_CONFIG})")


def load_preference_model(spec: str | Path, max_length: int | None = None, quantize: str | None = None) -> LoadedPreferenceModel:
    from transformers import AutoModel, AutoTokenizer

    from loralab.models.adapters import AdapterSource, apply_adapter, load_trained_base
    from loralab.models.load import resolve_model

    folder, config = _artifact(spec)
    method = config.get("method", {}).get("kind") or ("lora" if (folder / "adapter_config.json").is_file() else "full")
    if (folder / "adapter_config.json").is_file():
        base = config.get("train", {}).get("model") or json.loads((folder / "adapter_config.json").read_text())["base_model_name_or_path"]
        source = AdapterSource(base, folder, config.get("method", {}))
        encoder = apply_adapter(load_trained_base(AutoModel, source, resolve_model(base)), source)
    else:
        encoder = AutoModel.from_pretrained(str(folder), dtype=torch.float32)
    model = SiamesePreferenceModel(encoder, encoder.config.hidden_size, read_head_config(folder))
    load_head(model, folder)
    model.eval()
    if quantize:
        if method == "qlora":
            raise ConfigError(f"{spec}: a QLoRA model already runs on a 4-bit base; quantize the LoRA or full run instead")
        from loralab.quant.api import quantize as quantize_model

        model = quantize_model(model, quantize)
    length = max_length or config.get("train", {}).get("max_length") or 256
    return LoadedPreferenceModel(model, AutoTokenizer.from_pretrained(str(folder)), length, method, folder, quantize)


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
        batch = collate([{"a": first[i], "b": second[i]} for i in idx])
        logits = loaded.model(**batch).logits.float()
        out[idx] = torch.softmax(logits, dim=-1).numpy()
    return out


def evaluate_preference(spec: str | Path, data: str = "hh-rlhf-pairs", split: str = "test", limit: int | None = None,
                        batch_size: int = 16, quantize: str | None = None, latency_samples: int = 50) -> dict[str, Any]:
    """Swap-consistent metrics on a split, the flip rate, batched throughput and one-at-a-time latency."""
    loaded = load_preference_model(spec, quantize=quantize)
    pairs = load_pairs(data, split)
    pairs = pairs[:limit] if limit else pairs
    start = time.perf_counter()
    forward, backward = predict_probs(loaded, pairs, batch_size)
    seconds = time.perf_counter() - start
    labels = np.array([p.label for p in pairs])
    metrics = preference_metrics((forward + backward) / 2, labels)
    single = preference_metrics(forward, labels)
    latencies = [_time_one(loaded, pair) for pair in pairs[:latency_samples]]
    from loralab.eval.profile import LatencyProfile, peak_rss_bytes
    from loralab.models.memory import parameter_bytes

    size_bytes, rss_bytes = parameter_bytes(loaded.model)["total"], peak_rss_bytes()
    return {
        **metrics,
        "accuracy_one_order": single["accuracy"],
        "log_loss_one_order": single["log_loss"],
        "swap_flip_rate": float((forward.argmax(axis=1) != backward.argmax(axis=1)).mean()),
        "items_per_s": len(pairs) / seconds,
        "p50_ms": float(np.percentile(latencies, 50) * 1000) if latencies else None,
        "p95_ms": float(np.percentile(latencies, 95) * 1000) if latencies else None,
        "latency": LatencyProfile.from_latencies(latencies, len(latencies)).to_dict() if latencies else None,
        "size_bytes": size_bytes,  # weights as held in memory, quantized or not
        "size_mb": size_bytes / 2**20,
        "peak_rss_bytes": rss_bytes,
        "peak_rss_mb": rss_bytes / 2**20,
        "method_kind": loaded.method,
        "quantization": quantize,
        "max_length": loaded.max_length,
        "split": split,
    }


def _time_one(loaded: LoadedPreferenceModel, pair: PreferencePair) -> float:
    start = time.perf_counter()
    predict_probs(loaded, [pair], batch_size=1)
    return time.perf_counter() - start
