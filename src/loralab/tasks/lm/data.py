"""Causal-LM training examples with completion-only loss: labels are -100 on the prompt, so only the answer
(and the end-of-sequence token that ends it) carries loss."""

from __future__ import annotations

import torch

IGNORE = -100


def completion_example(tokenizer, prompt: str, completion: str, max_length: int) -> dict[str, list[int]]:
    """input_ids = prompt + completion + EOS; labels copy only the completion part.

    Prompt and completion are tokenized separately and concatenated, so the boundary is exact (no guessing
    where the prompt ends after a joint tokenization). Long prompts are cut from the left: the answer stays."""
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(completion, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    prompt_ids = prompt_ids[-max(max_length - len(answer_ids), 1):]
    input_ids = (prompt_ids + answer_ids)[:max_length]
    labels = ([IGNORE] * len(prompt_ids) + answer_ids)[:max_length]
    return {"input_ids": input_ids, "attention_mask": [1] * len(input_ids), "labels": labels}


class CompletionDataset(torch.utils.data.Dataset):
    """Pre-tokenized completion examples; `lengths` drives the Trainer's length-grouped sampler."""

    def __init__(self, pairs: list[tuple[str, str]], tokenizer, max_length: int):
        self.features = [completion_example(tokenizer, p, c, max_length) for p, c in pairs]
        self.lengths = [len(f["input_ids"]) for f in self.features]

    def __len__(self) -> int:
        return len(self.features)

    def __getitem__(self, i: int) -> dict:
        return self.features[i]


class CompletionCollator:
    """Right-pads a batch; padded positions get attention 0 and label -100 (pad is EOS here, so labels are not
    derived from token ids)."""

    def __init__(self, tokenizer):
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id

    def __call__(self, features: list[dict]) -> dict[str, torch.Tensor]:
        width = max(len(f["input_ids"]) for f in features)

        def pad(key: str, value: int) -> torch.Tensor:
            return torch.tensor([f[key] + [value] * (width - len(f[key])) for f in features])

        return {"input_ids": pad("input_ids", self.pad_id), "attention_mask": pad("attention_mask", 0),
                "labels": pad("labels", IGNORE)}
