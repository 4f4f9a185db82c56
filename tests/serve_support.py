"""Builders shared by the serve tests: real PEFT LoRA adapters and a 3-label classifier on the tiny BERT."""

from __future__ import annotations

from pathlib import Path

import torch

LABELS = ["negative", "neutral", "positive"]


def make_lora_adapter(base: Path, out: Path, seed: int) -> Path:
    """A LoRA adapter (plus its own copy of the 1-logit head) with random non-zero B, so it changes scores."""
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import AutoModelForSequenceClassification

    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_pretrained(str(base), num_labels=1)
    # init_lora_weights=False: B is random, not zero, so the adapter really moves the scores.
    config = LoraConfig(task_type=TaskType.SEQ_CLS, r=4, lora_alpha=8, target_modules=["query", "value"],
                        init_lora_weights=False)
    peft_model = get_peft_model(model, config)
    with torch.no_grad():
        for name, param in peft_model.named_parameters():
            if "modules_to_save" in name:
                param.add_(torch.randn_like(param) * 0.5)
    peft_model.save_pretrained(out)
    return out


def make_classifier(tiny_bert: Path, out: Path) -> Path:
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(3)
    model = AutoModelForSequenceClassification.from_pretrained(
        str(tiny_bert), num_labels=3, id2label=dict(enumerate(LABELS)), label2id={k: i for i, k in enumerate(LABELS)}
    )
    with torch.no_grad():
        model.classifier.weight.mul_(50)  # spread the probabilities so the argmax is not a coin toss
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(str(tiny_bert)).save_pretrained(out)
    return out


def library_ranker(model: Path, kind: str = "cross-encoder", adapter: Path | None = None):
    """The ranker the CLI would build, with an adapter applied the plain PEFT way (the reference)."""
    from peft import PeftModel

    from loralab.rankers.registry import build_ranker, ranker_config

    ranker = build_ranker(ranker_config(kind, model=str(model)))
    if adapter is not None:
        ranker.model = PeftModel.from_pretrained(ranker.model, str(adapter)).eval()
    return ranker
