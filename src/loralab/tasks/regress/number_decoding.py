"""Read a number out of a causal LM: greedy decoding, and the top-K probability-weighted prediction.

Top-K weighted (the seed's trick): take the K most likely next tokens after the prompt, keep those that start
a number, finish each number by greedy continuation (numbers often span several tokens: SmolLM2 writes one
digit per token), and average the numbers weighted by their first-token probabilities. A prediction that
yields no number is returned with value None; callers count it instead of crashing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import torch

NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
NUMBER_PREFIX = re.compile(r"\d[\d,]*(?:\.\d{0,2})?")  # what a price may grow into, token by token
NUMERIC_CHARS = set("0123456789.,")


def parse_number(text: str) -> float | None:
    """The first number in `text` ("£1,299.99" -> 1299.99), or None."""
    match = NUMBER.search(text)
    if not match:
        return None
    try:
        return float(match.group().replace(",", "").rstrip("."))
    except ValueError:
        return None


@dataclass
class NumberPrediction:
    value: float | None
    text: str  # greedy: the generated text; top-K: the candidate numbers joined
    candidates: list[tuple[str, float]] = field(default_factory=list)  # (number text, first-token probability)

    @property
    def parsed(self) -> bool:
        return self.value is not None


def _accepts(text: str, piece: str) -> bool:
    """May `piece` follow `text`? Before the first digit anything goes; after it only digits, ',' and '.' that
    keep a price shape (at most two decimals)."""
    start = next((i for i, c in enumerate(text) if c.isdigit()), None)
    if start is None:
        return True
    return bool(piece) and set(piece) <= NUMERIC_CHARS and NUMBER_PREFIX.fullmatch(text[start:] + piece) is not None


@torch.no_grad()
def _greedy_rows(model, tokenizer, input_ids: torch.Tensor, texts: list[str], max_new_tokens: int,
                 cache=None) -> list[str]:
    """Continue each row greedily (KV cache) until its number ends, EOS, or max_new_tokens; `cache` holds what
    came before `input_ids` (the shared prompt)."""
    texts, done = list(texts), [False] * len(texts)
    out = model(input_ids=input_ids, cache=cache, use_cache=True, logits_to_keep=1)
    for _ in range(max_new_tokens):
        next_ids = out.logits[:, -1].argmax(-1)
        for row, token in enumerate(next_ids.tolist()):
            piece = tokenizer.decode([token])
            if done[row] or token == tokenizer.eos_token_id or not _accepts(texts[row], piece):
                done[row] = True
            else:
                texts[row] += piece
        if all(done):
            break
        out = model(input_ids=next_ids[:, None], cache=out.cache, use_cache=True, logits_to_keep=1)
    return texts


def _prompt_ids(tokenizer, prompt: str, device) -> torch.Tensor:
    return torch.tensor([tokenizer(prompt, add_special_tokens=False)["input_ids"]], device=device)


def greedy_number(model, tokenizer, prompt: str, max_new_tokens: int = 8) -> NumberPrediction:
    ids = _prompt_ids(tokenizer, prompt, model.device)
    text = _greedy_rows(model, tokenizer, ids, [""], max_new_tokens)[0]
    return NumberPrediction(parse_number(text), text)


@torch.no_grad()
def topk_weighted_number(model, tokenizer, prompt: str, k: int = 5, max_new_tokens: int = 8) -> NumberPrediction:
    ids = _prompt_ids(tokenizer, prompt, model.device)
    out = model(input_ids=ids, use_cache=True, logits_to_keep=1)
    probs = torch.softmax(out.logits[0, -1].float(), dim=-1)
    top = torch.topk(probs, k)
    starts = [(t, p) for t, p in zip(top.indices.tolist(), top.values.tolist())
              if NUMBER_PREFIX.fullmatch(tokenizer.decode([t]).strip())]
    if not starts:
        return NumberPrediction(None, "", [])
    # The prompt is encoded once; its cache is copied per candidate, which continues from its first token.
    out.cache.batch_repeat_interleave(len(starts))
    first = [tokenizer.decode([t]).strip() for t, _ in starts]
    rows = torch.tensor([[t] for t, _ in starts], device=ids.device)
    numbers = _greedy_rows(model, tokenizer, rows, first, max_new_tokens - 1, cache=out.cache)
    candidates = [(n, p) for n, (_, p) in zip(numbers, starts)]
    values = [(parse_number(n), p) for n, p in candidates]
    values = [(v, p) for v, p in values if v is not None]
    if not values:
        return NumberPrediction(None, " | ".join(numbers), candidates)
    value = sum(v * p for v, p in values) / sum(p for _, p in values)
    return NumberPrediction(value, " | ".join(numbers), candidates)


DECODERS = {"greedy": greedy_number, "topk": topk_weighted_number}
