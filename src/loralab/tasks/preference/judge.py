"""LLM-as-judge for pairwise preference: P(A), P(B), P(tie) from the log-probabilities of the verdict words.

Each pair is judged in both orders (A-then-B and B-then-A, mapped back), so position bias is measured (the
one-order metrics and the swap flip rate) and cancelled (the averaged prediction), as for the trained models.
"""

from __future__ import annotations

import numpy as np
import torch

from loralab.artifacts.load import load
from loralab.tasks.preference.data import PreferencePair, swap_classes

PROMPT = ("Which response answers the user better? Reply with one word: A, B, or tie.\n\n"
          "User: {prompt}\n\nResponse A: {a}\n\nResponse B: {b}")
VERDICTS = ("A", "B", "tie")  # the class order of preference labels: a, b, tie


class PromptJudge:
    def __init__(self, model: str, max_length: int = 1024, dtype: str = "float32"):
        loaded = load(model, head="causal-lm", dtype=dtype)
        self.tokenizer, self.model, self.max_length = loaded.tokenizer, loaded.model, max_length
        self.size_bytes, self.method = loaded.size_bytes, "prompt"
        self._verdicts = [self.tokenizer(word, add_special_tokens=False)["input_ids"][0] for word in VERDICTS]

    def _ids(self, prompt: str, a: str, b: str) -> list[int]:
        content = PROMPT.format(prompt=prompt, a=a, b=b)
        if getattr(self.tokenizer, "chat_template", None):
            text = self.tokenizer.apply_chat_template([{"role": "user", "content": content}],
                                                      add_generation_prompt=True, tokenize=False)
        else:
            text = content + "\nBetter:"
        return self.tokenizer(text, add_special_tokens=False)["input_ids"][-self.max_length:]

    @torch.inference_mode()
    def _one_order(self, pairs: list[PreferencePair], swapped: bool) -> np.ndarray:
        out = np.zeros((len(pairs), 3))
        for i, pair in enumerate(pairs):
            a, b = (pair.response_b, pair.response_a) if swapped else (pair.response_a, pair.response_b)
            ids = torch.tensor([self._ids(pair.prompt, a, b)])
            logits = self.model(input_ids=ids).logits[0, -1].float()
            out[i] = torch.softmax(logits[self._verdicts], dim=0).numpy()  # the next token, over the 3 verdicts
        return swap_classes(out) if swapped else out

    def predict_probs(self, pairs: list[PreferencePair], batch_size: int = 1) -> tuple[np.ndarray, np.ndarray]:
        """(P(A, B, tie) for A-then-B, the same for B-then-A mapped back to the original order)."""
        return self._one_order(pairs, False), self._one_order(pairs, True)
