"""Local backend: any causal LM loralab can load (alias, folder, GGUF, hub id), chat template applied.

Both calls are batched over prompts, longest first, left-padded so the last position is every row's next token.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch

from loralab.artifacts.load import load
from loralab.rankers.prompt.templates import Prompt
from loralab.rankers.prompt.usage import Reply


class LocalBackend:
    def __init__(self, model: str, dtype: str = "float32", batch_size: int = 8, max_length: int = 4096):
        self.name = f"local:{model}"
        self.batch_size = batch_size
        self.max_length = max_length
        loaded = load(model, head="causal-lm", dtype=dtype)
        self.tokenizer, self.model = loaded.tokenizer, loaded.model
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model_size_bytes = loaded.size_bytes

    def _text(self, prompt: Prompt) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(prompt.messages, add_generation_prompt=True, tokenize=False)
        return prompt.text

    def _batches(self, prompts: Sequence[Prompt], replies: list[Reply | None]) -> Iterator[tuple[list[int], dict]]:
        """Padded batches of the prompts that fit; over-long ones get an error reply instead (never truncated:
        cutting a prompt would cut the question)."""
        ids = [self.tokenizer(self._text(p), add_special_tokens=False)["input_ids"] for p in prompts]
        fits = []
        for i, row in enumerate(ids):
            if len(row) > self.max_length:
                replies[i] = Reply(tokens_in=0, error=f"prompt_too_long: {len(row)} tokens > max_length {self.max_length}")
            else:
                fits.append(i)
        fits.sort(key=lambda i: -len(ids[i]))
        for start in range(0, len(fits), self.batch_size):
            idx = fits[start : start + self.batch_size]
            batch = self.tokenizer.pad([{"input_ids": ids[i]} for i in idx], padding=True, return_tensors="pt")
            yield idx, dict(batch)

    def _token_ids(self, words: Sequence[str]) -> dict[str, int]:
        """Single-token spellings of each answer word, with and without a leading space."""
        out = {}
        for word in words:
            for variant in (word, " " + word):
                ids = self.tokenizer.encode(variant, add_special_tokens=False)
                if len(ids) == 1:
                    out[self.tokenizer.decode(ids)] = ids[0]
        return out

    @torch.inference_mode()
    def next_token(self, prompts: Sequence[Prompt], words: Sequence[str]) -> list[Reply]:
        """Log-probabilities of `words`' tokens at the first answer position, from one forward pass per batch."""
        candidates = self._token_ids(words)
        replies: list[Reply | None] = [None] * len(prompts)
        for idx, batch in self._batches(prompts, replies):
            mask = batch["attention_mask"]
            positions = (mask.cumsum(-1) - 1).clamp(min=0)
            logits = self.model(**batch, position_ids=positions, logits_to_keep=1).logits[:, -1, :].float()
            logp = torch.log_softmax(logits, dim=-1)
            best = logp.argmax(dim=-1).tolist()
            for row, i in enumerate(idx):
                scores = {tok: float(logp[row, tid]) for tok, tid in candidates.items()}
                replies[i] = Reply(self.tokenizer.decode([best[row]]), int(mask[row].sum()), 1, scores)
        return replies

    @torch.inference_mode()
    def generate(self, prompts: Sequence[Prompt], max_new_tokens: int) -> list[Reply]:
        """Greedy answers (deterministic), with tokens in/out counted per prompt."""
        replies: list[Reply | None] = [None] * len(prompts)
        stop = {self.tokenizer.eos_token_id, self.tokenizer.pad_token_id}
        for idx, batch in self._batches(prompts, replies):
            out = self.model.generate(
                **batch, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=self.tokenizer.pad_token_id,
                temperature=None, top_p=None, top_k=None,
            )
            new = out[:, batch["input_ids"].shape[1] :].tolist()
            for row, i in enumerate(idx):
                tokens = new[row]
                n_out = next((k + 1 for k, t in enumerate(tokens) if t in stop), len(tokens))
                text = self.tokenizer.decode(tokens[:n_out], skip_special_tokens=True)
                replies[i] = Reply(text, int(batch["attention_mask"][row].sum()), n_out)
        return replies
