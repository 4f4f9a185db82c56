"""Local backend: any causal LM loralab can load (alias, folder, GGUF, hub id), chat template applied.

Both calls are batched over prompts, longest first, left-padded so the last position is every row's next token.
With `prefix_cache`, `next_token` runs the prompts' shared token prefix (system prompt + query in pointwise
re-ranking) once and scores every document from its key/value cache.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Iterator, Sequence

import torch

from loralab.artifacts.load import load
from loralab.rankers.prompt.configs import Sampling
from loralab.rankers.prompt.templates import Prompt
from loralab.rankers.prompt.usage import Reply


class LocalBackend:
    MIN_SHARED_TOKENS = 8  # below this a prefix pass costs more than it saves

    def __init__(self, model: str, dtype: str = "float32", batch_size: int = 8, max_length: int = 4096,
                 prefix_cache: bool = True, quantize: str | None = None, max_batch_tokens: int = 512):
        self.name = f"local:{model}" + (f"+{quantize}" if quantize else "")
        self.batch_size = batch_size
        self.max_length = max_length
        self.prefix_cache = prefix_cache
        self.max_batch_tokens = max_batch_tokens
        loaded = load(model, head="causal-lm", dtype=dtype, quantize=quantize)
        self.tokenizer, self.model = loaded.tokenizer, loaded.model
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model_size_bytes = loaded.size_bytes

    def _text(self, prompt: Prompt) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(prompt.messages, add_generation_prompt=True, tokenize=False)
        return prompt.text

    def _token_rows(self, prompts: Sequence[Prompt], replies: list[Reply | None]) -> tuple[list[list[int]], list[int]]:
        """Token ids of every prompt and the indices of those that fit; over-long ones get an error reply instead
        (never truncated: cutting a prompt would cut the question)."""
        ids = [self.tokenizer(self._text(p), add_special_tokens=False)["input_ids"] for p in prompts]
        fits = []
        for i, row in enumerate(ids):
            if len(row) > self.max_length:
                replies[i] = Reply(tokens_in=0, error=f"prompt_too_long: {len(row)} tokens > max_length {self.max_length}")
            else:
                fits.append(i)
        return ids, fits

    def _batches(self, prompts: Sequence[Prompt], replies: list[Reply | None]) -> Iterator[tuple[list[int], dict]]:
        """Left-padded batches of the prompts that fit, longest first."""
        ids, fits = self._token_rows(prompts, replies)
        for idx in self._length_batches(fits, [len(row) for row in ids]):
            batch = self.tokenizer.pad([{"input_ids": ids[i]} for i in idx], padding=True, return_tensors="pt")
            yield idx, dict(batch)

    def _length_batches(self, indices: list[int], lengths: list[int]) -> Iterator[list[int]]:
        """Longest first, at most batch_size rows and (when max_batch_tokens > 0) at most that many tokens once
        padded: a padded token costs as much as a real one, and a CPU GEMM is already efficient at ~1k rows."""
        batch: list[int] = []
        for i in sorted(indices, key=lambda i: -lengths[i]):
            padded = (len(batch) + 1) * (lengths[batch[0]] if batch else lengths[i])
            if batch and (len(batch) == self.batch_size or 0 < self.max_batch_tokens < padded):
                yield batch
                batch = []
            batch.append(i)
        if batch:
            yield batch

    def _token_ids(self, words: Sequence[str]) -> dict[str, int]:
        """Single-token spellings of each answer word, with and without a leading space."""
        out = {}
        for word in words:
            for variant in (word, " " + word):
                ids = self.tokenizer.encode(variant, add_special_tokens=False)
                if len(ids) == 1:
                    out[self.tokenizer.decode(ids)] = ids[0]
        return out

    def _reply(self, logits: torch.Tensor, tokens_in: int, candidates: dict[str, int]) -> Reply:
        logp = torch.log_softmax(logits.float(), dim=-1)
        scores = {tok: float(logp[tid]) for tok, tid in candidates.items()}
        return Reply(self.tokenizer.decode([int(logp.argmax())]), tokens_in, 1, scores)

    @torch.inference_mode()
    def next_token(self, prompts: Sequence[Prompt], words: Sequence[str]) -> list[Reply]:
        """Log-probabilities of `words`' tokens at the first answer position, from one forward pass per batch."""
        candidates = self._token_ids(words)
        replies: list[Reply | None] = [None] * len(prompts)
        if self.prefix_cache and len(prompts) > 1:
            ids, fits = self._token_rows(prompts, replies)
            shared = _shared_prefix_length([ids[i] for i in fits])
            if shared >= self.MIN_SHARED_TOKENS:
                self._next_token_from_prefix(ids, fits, shared, candidates, replies)
                return replies
        for idx, batch in self._batches(prompts, replies):
            mask = batch["attention_mask"]
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            logits = self.model(**batch, position_ids=positions, logits_to_keep=1).logits[:, -1, :]
            for row, i in enumerate(idx):
                replies[i] = self._reply(logits[row], int(mask[row].sum()), candidates)
        return replies

    def _next_token_from_prefix(self, ids: list[list[int]], fits: list[int], shared: int,
                                candidates: dict[str, int], replies: list[Reply | None]) -> None:
        """One pass over the shared prefix, then the suffixes in batches that attend to its cache.

        Suffixes are left-padded between the prefix and themselves (masked, positions counted past the pads), so
        the last position is every row's next token. The token sequence of every prompt is exactly the uncached
        one (prefix and suffix are cut from the same token ids): the scores match up to float rounding.
        """
        # transformers renamed past_key_values to cache (5.24); take whichever this version has
        cache_arg = "cache" if "cache" in inspect.signature(self.model.forward).parameters else "past_key_values"
        prefix = torch.tensor([ids[fits[0]][:shared]])
        out = self.model(input_ids=prefix, use_cache=True, logits_to_keep=1)
        prefix_cache = getattr(out, "cache", None) or out.past_key_values
        pad = self.tokenizer.pad_token_id
        for idx in self._length_batches(fits, [len(row) - shared for row in ids]):
            suffixes = [ids[i][shared:] for i in idx]
            width = max(map(len, suffixes))
            input_ids = torch.tensor([[pad] * (width - len(row)) + row for row in suffixes])
            suffix_mask = torch.tensor([[0] * (width - len(row)) + [1] * len(row) for row in suffixes])
            cache = copy.deepcopy(prefix_cache)
            cache.batch_repeat_interleave(len(idx))
            logits = self.model(
                input_ids=input_ids,
                attention_mask=torch.cat([torch.ones(len(idx), shared, dtype=suffix_mask.dtype), suffix_mask], dim=1),
                position_ids=shared + (suffix_mask.cumsum(-1) - 1).clamp(min=0),
                use_cache=True, logits_to_keep=1, **{cache_arg: cache},
            ).logits[:, -1, :]
            for row, i in enumerate(idx):
                replies[i] = self._reply(logits[row], len(ids[i]), candidates)

    @torch.inference_mode()
    def generate(self, prompts: Sequence[Prompt], max_new_tokens: int,
                 sampling: Sampling | None = None) -> list[Reply]:
        """Greedy answers (deterministic), or sampled ones (`sampling`, seeded once per call on a forked RNG, so the
        caller's random state is untouched), with tokens in/out counted per prompt."""
        replies: list[Reply | None] = [None] * len(prompts)
        stop = {self.tokenizer.eos_token_id, self.tokenizer.pad_token_id}
        decoding = {"do_sample": False, "temperature": None, "top_p": None, "top_k": None}
        if sampling:  # top_k 0 turns the cut off (None would fall back to the model's generation config)
            decoding = {"do_sample": True, "temperature": sampling.temperature, "top_p": sampling.top_p,
                        "top_k": sampling.top_k or 0}
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(sampling.seed if sampling else 0)
            for idx, batch in self._batches(prompts, replies):
                self._generate_batch(idx, batch, max_new_tokens, decoding, stop, replies)
        return replies

    def _generate_batch(self, idx: list[int], batch: dict, max_new_tokens: int, decoding: dict, stop: set,
                        replies: list[Reply | None]) -> None:
        out = self.model.generate(**batch, max_new_tokens=max_new_tokens, pad_token_id=self.tokenizer.pad_token_id,
                                  **decoding)
        new = out[:, batch["input_ids"].shape[1] :].tolist()
        for row, i in enumerate(idx):
            tokens = new[row]
            n_out = next((k + 1 for k, t in enumerate(tokens) if t in stop), len(tokens))
            text = self.tokenizer.decode(tokens[:n_out], skip_special_tokens=True)
            replies[i] = Reply(text, int(batch["attention_mask"][row].sum()), n_out)


def _shared_prefix_length(rows: list[list[int]]) -> int:
    """Tokens every row starts with, leaving at least one token of each row to run from the cache."""
    if not rows:
        return 0
    shortest = min(map(len, rows))
    n = 0
    while n < shortest - 1 and all(row[n] == rows[0][n] for row in rows):
        n += 1
    return n
