"""Zero-shot classification by prompting a causal LM: the label whose words are most likely after the prompt.

Each label is scored by the summed log-probability of its tokens as the answer (not by generating text), so
every text gets a probability per label, comparable with a trained classifier's. The chat template is applied
when the tokenizer has one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from loralab.artifacts.load import load
from loralab.errors import ConfigError
from loralab.progress import report

TEMPLATE = ("Classify the text into one of these labels: {labels}.\nText: {text}\n"
            "Answer with the label only.")


@dataclass
class PromptClassifierConfig:
    model: str = "smollm2-135m-instruct"
    labels: list[str] = field(default_factory=lambda: ["negative", "positive"])  # index = label id
    template: str = TEMPLATE
    max_length: int = 512
    dtype: str = "float32"


class PromptClassifier:
    def __init__(self, config: PromptClassifierConfig):
        if len(config.labels) < 2:
            raise ConfigError(f"prompt classification needs at least two labels, got {config.labels}")
        if "{text}" not in config.template:
            raise ConfigError("the prompt template must contain {text}")
        self.config = config
        self.name = f"prompt-classifier:{config.model}"
        loaded = load(config.model, head="causal-lm", dtype=config.dtype)
        self.tokenizer, self.model = loaded.tokenizer, loaded.model
        self.model_size_bytes, self.quantization, self.head_is_new = loaded.size_bytes, None, False
        self.labels = list(config.labels)
        self._answers = [self.tokenizer(" " + label if not self._chat else label, add_special_tokens=False)["input_ids"]
                         for label in self.labels]

    @property
    def _chat(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))

    def _prompt_ids(self, text: str) -> list[int]:
        content = self.config.template.format(text=text, labels=", ".join(self.labels))
        if self._chat:
            prompt = self.tokenizer.apply_chat_template([{"role": "user", "content": content}],
                                                        add_generation_prompt=True, tokenize=False)
        else:
            prompt = content + "\nLabel:"
        ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        return ids[-(self.config.max_length - max(map(len, self._answers))):]

    @torch.inference_mode()
    def predict_proba(self, texts: Sequence[str]) -> list[list[float]]:
        """Per text, the softmax over labels of each label's summed answer-token log-probability."""
        out = []
        for done, text in enumerate(texts):
            report(done, len(texts), "text")
            prompt = self._prompt_ids(text)
            rows = [prompt + answer for answer in self._answers]
            width = max(map(len, rows))
            pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
            ids = torch.tensor([row + [pad] * (width - len(row)) for row in rows])
            mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in rows])
            logprobs = torch.log_softmax(self.model(input_ids=ids, attention_mask=mask).logits.float(), dim=-1)
            scores = []
            for i, answer in enumerate(self._answers):
                positions = range(len(prompt) - 1, len(prompt) - 1 + len(answer))
                scores.append(sum(logprobs[i, p, token].item() for p, token in zip(positions, answer)))
            out.append(torch.softmax(torch.tensor(scores), dim=0).tolist())
        return out
