"""Training the Siamese preference model on the one training path: data, collator, model, artifact."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import torch

from loralab.methods.configs import TrainConfig
from loralab.models.siamese import SiameseHeadConfig, SiamesePreferenceModel, save_head
from loralab.tasks.preference.data import PreferencePair, load_pairs, preference_metrics


PROMPT_SHARE = 1 / 3  # at most this much of each side is prompt: the prompt is the same on both sides


def encode_sides(tokenizer, prompts: list[str], responses: list[str], max_length: int) -> list[dict]:
    """Tokenize (prompt, response) pairs, keeping the response's start and the prompt's end (its last turn).

    Plain truncation would cut the response (the thing being judged) when a dialogue is long. The prompt is
    capped at a third of the tokens: it is identical on both sides, so under mean pooling a long prompt
    drowns the difference between the two responses (measured: chance accuracy on HH-RLHF without the cap).
    """
    budget = max_length - tokenizer.num_special_tokens_to_add(pair=True)
    if budget < 8:
        from loralab.errors import ConfigError

        raise ConfigError(f"max_length {max_length} leaves no room for text; use at least {tokenizer.num_special_tokens_to_add(pair=True) + 8}")
    prompt_ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
    response_ids = tokenizer(responses, add_special_tokens=False)["input_ids"]
    kept_prompts, kept_responses = [], []
    for p_ids, r_ids in zip(prompt_ids, response_ids):
        r_len = min(len(r_ids), budget - min(len(p_ids), int(budget * PROMPT_SHARE)))
        p_len = min(len(p_ids), budget - r_len, int(budget * PROMPT_SHARE))
        kept_prompts.append(tokenizer.decode(p_ids[len(p_ids) - p_len:]) if p_len else "")
        kept_responses.append(tokenizer.decode(r_ids[:r_len]))
    # Re-encoding decoded text can shift a token or two: truncation stays on as a guard.
    encoded = tokenizer(kept_prompts, kept_responses, truncation="longest_first", max_length=max_length)
    sides = []
    for i in range(len(prompts)):
        side = {k: encoded[k][i] for k in encoded.keys()}
        # Which tokens are the response's (works for every fast tokenizer, with or without token_type_ids).
        side["response_mask"] = [int(seq == 1) for seq in encoded.sequence_ids(i)]
        sides.append(side)
    return sides


class PairDataset(torch.utils.data.Dataset):
    """Pre-tokenized pairs; with `augment`, each draw swaps A and B half of the time (label swapped too)."""

    def __init__(self, pairs: list[PreferencePair], tokenizer, max_length: int, augment: bool):
        prompts = [p.prompt for p in pairs]
        self.a = encode_sides(tokenizer, prompts, [p.response_a for p in pairs], max_length)
        self.b = encode_sides(tokenizer, prompts, [p.response_b for p in pairs], max_length)
        self.labels = [p.label for p in pairs]
        self.augment = augment
        self.lengths = [max(len(a["input_ids"]), len(b["input_ids"])) for a, b in zip(self.a, self.b)]

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict:
        a, b, label = self.a[i], self.b[i], self.labels[i]
        if self.augment and random.random() < 0.5:  # the Trainer saves and restores this RNG on resume
            a, b, label = b, a, [1, 0, 2][label]
        return {"a": a, "b": b, "labels": label}


class PairCollator:
    """Pads the A and B sides to one length and stacks them: [A_1..A_n, B_1..B_n]."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer

    def __call__(self, features: list[dict]) -> dict:
        sides = [f["a"] for f in features] + [f["b"] for f in features]
        masks = [side["response_mask"] for side in sides]
        batch = dict(self.tokenizer.pad([{k: v for k, v in side.items() if k != "response_mask"} for side in sides],
                                        return_tensors="pt"))
        length = batch["input_ids"].shape[1]
        left = self.tokenizer.padding_side == "left"
        batch["response_mask"] = torch.tensor(
            [([0] * (length - len(m)) + m) if left else (m + [0] * (length - len(m))) for m in masks], dtype=torch.long
        )
        if "labels" in features[0]:
            batch["labels"] = torch.tensor([f["labels"] for f in features], dtype=torch.long)
        return batch


def metrics_from_logits(eval_pred) -> dict[str, float]:
    logits = eval_pred.predictions[0] if isinstance(eval_pred.predictions, tuple) else eval_pred.predictions
    probs = torch.softmax(torch.as_tensor(logits, dtype=torch.float32), dim=-1).numpy()
    metrics = preference_metrics(probs, np.asarray(eval_pred.label_ids))
    metrics.pop("num_pairs")
    return metrics


def build_siamese(backbone: str, method, gradient_checkpointing: bool, head: SiameseHeadConfig | None = None):
    """(model, parameter counts, stored encoder bytes): a shared encoder (4-bit for QLoRA) + a new head."""
    from loralab.methods.model_setup import build_encoder_model

    return build_encoder_model(backbone, method, gradient_checkpointing,
                               lambda encoder: SiamesePreferenceModel(encoder, encoder.config.hidden_size,
                                                                      head or SiameseHeadConfig()))


def save_siamese(model: SiamesePreferenceModel, tokenizer, method, out: Path) -> Path:
    """adapter/ (PEFT adapter of the encoder) or model/ (the full encoder), with the head beside it."""
    from loralab.artifacts.atomic import save_pretrained_atomically

    target = Path(out) / ("model" if method.kind == "full" else "adapter")
    return save_pretrained_atomically(model.encoder, tokenizer, target, extra=lambda folder: save_head(model, folder))


def training_task(cfg: TrainConfig, tokenizer):
    from loralab.tasks.training_task import TrainingTask

    # The split seed is fixed (not cfg.seed), so every run and every evaluation sees the same test prompts.
    train = load_pairs(cfg.data, "train")
    random.Random(cfg.seed).shuffle(train)
    train = train[: cfg.max_train_examples] if cfg.max_train_examples else train
    held = load_pairs(cfg.data, "validation")[: cfg.max_eval_examples]
    train_dataset = PairDataset(train, tokenizer, cfg.max_length, augment=True)
    collator = PairCollator(tokenizer)

    def probe_init(model):
        from loralab.tasks.preference.probe import init_head_from_probe

        init_head_from_probe(model, train_dataset, collator)

    return TrainingTask(
        num_labels=3,
        train_dataset=train_dataset,
        eval_dataset=PairDataset(held, tokenizer, cfg.max_length, augment=False),
        collator=collator,
        compute_metrics=metrics_from_logits,
        metric_for_best="accuracy",
        description=f"{len(train)} training pairs (A/B swapped at random), {len(held)} validation pairs, split by prompt",
        build_model=build_siamese,
        save_artifact=save_siamese,
        prepare_model=probe_init,
    )
