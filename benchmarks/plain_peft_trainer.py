"""The baseline a user writes from the PEFT and transformers docs: `get_peft_model` + `Trainer`, dynamic padding.

Used by `benchmarks/train_methods.py --vs-plain` to time loralab's recipes against it on the same rows, model,
LoRA settings, batch and steps. Only the data rows come from loralab's readers, so both sides read the same text.
Re-ranking: each group's 8 (query, passage) pairs in one forward pass, listwise softmax cross-entropy with the
positive first (a `compute_loss` override: the Trainer has no listwise loss); classification: the Trainer's own
cross-entropy.
"""

from __future__ import annotations

import resource
import tempfile
import time

import torch

LORA = dict(r=16, lora_alpha=32, lora_dropout=0.1, target_modules=["query", "key", "value", "dense"],
            modules_to_save=["classifier"])


def _model(path: str, num_labels: int):
    from peft import LoraConfig, TaskType, get_peft_model
    from transformers import AutoModelForSequenceClassification

    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=num_labels)
    return get_peft_model(model, LoraConfig(task_type=TaskType.SEQ_CLS, **LORA))


def _args(out: str, steps: int, batch: int, lr: float):
    from transformers import TrainingArguments

    return TrainingArguments(output_dir=out, max_steps=steps, per_device_train_batch_size=batch, learning_rate=lr,
                             warmup_steps=0.1, lr_scheduler_type="cosine", weight_decay=0.01, logging_steps=steps,
                             save_strategy="no", report_to="none", use_cpu=not torch.cuda.is_available(),
                             remove_unused_columns=False, disable_tqdm=True, seed=42)


class GroupCollator:
    """Tokenizes a batch of groups as (query, passage) pairs, padded to the longest pair in the batch."""

    def __init__(self, tokenizer, max_length: int):
        self.tokenizer, self.max_length = tokenizer, max_length

    def __call__(self, groups):
        queries = [g.query for g in groups for _ in range(1 + len(g.negatives))]
        passages = [p for g in groups for p in (g.positive, *g.negatives)]
        return dict(self.tokenizer(queries, passages, truncation=True, max_length=self.max_length, padding=True,
                                   return_tensors="pt"))


def _listwise_trainer():
    from transformers import Trainer

    class ListwiseTrainer(Trainer):
        def __init__(self, *args, group_size: int, **kwargs):
            super().__init__(*args, **kwargs)
            self.group_size = group_size

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            logits = model(**inputs).logits.view(-1, self.group_size)
            target = torch.zeros(len(logits), dtype=torch.long, device=logits.device)  # the positive is first
            loss = torch.nn.functional.cross_entropy(logits, target)
            return (loss, logits) if return_outputs else loss

    return ListwiseTrainer


def train_rerank(model_path: str, groups, steps: int, batch_groups: int, max_length: int, lr: float) -> dict:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    with tempfile.TemporaryDirectory() as out:
        trainer = _listwise_trainer()(model=_model(model_path, 1), args=_args(out, steps, batch_groups, lr),
                                      train_dataset=groups, data_collator=GroupCollator(tokenizer, max_length),
                                      group_size=1 + len(groups[0].negatives))
        return _timed(trainer)


def train_classify(model_path: str, examples, steps: int, batch: int, max_length: int, lr: float) -> dict:
    from transformers import AutoTokenizer, DataCollatorWithPadding, Trainer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    encoded = tokenizer([e.text for e in examples], truncation=True, max_length=max_length)
    data = [{"input_ids": ids, "attention_mask": mask, "labels": e.label}
            for ids, mask, e in zip(encoded["input_ids"], encoded["attention_mask"], examples)]
    num_labels = len({e.label for e in examples})
    with tempfile.TemporaryDirectory() as out:
        trainer = Trainer(model=_model(model_path, num_labels), args=_args(out, steps, batch, lr), train_dataset=data,
                          data_collator=DataCollatorWithPadding(tokenizer))
        return _timed(trainer)


def _timed(trainer) -> dict:
    start = time.perf_counter()
    result = trainer.train()
    seconds = time.perf_counter() - start
    return {"step_s": seconds / max(result.global_step, 1), "loss": result.training_loss,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
