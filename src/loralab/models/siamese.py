"""A Siamese pair classifier: one shared encoder embeds "prompt + response A" and "prompt + response B";
mean-pooled vectors (and optionally |a-b| and a*b) go to a linear head over (A wins, B wins, tie).

The encoder is any AutoModel; LoRA/QLoRA wrap it with PEFT. The head sits outside the encoder, so it is
saved next to the adapter (`preference_head.safetensors` + `preference_head.json`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch import nn
from transformers.modeling_outputs import SequenceClassifierOutput

from loralab.errors import ConfigError, ModelError

FEATURES = ("a", "b", "diff", "prod")
HEAD_WEIGHTS = "preference_head.safetensors"
HEAD_CONFIG = "preference_head.json"


POOLING = ("response", "all")
SWAP = [1, 0, 2]  # class order of the swapped pair: A <-> B, tie stays


@dataclass
class SiameseHeadConfig:
    features: list[str] = field(default_factory=lambda: list(FEATURES))  # a, b, |a-b|, a*b
    num_labels: int = 3
    # "response": mean over the response's tokens (they still attend to the prompt); "all": every non-padding
    # token. The prompt is identical on both sides, so pooling it only adds the same vector to a and b.
    pooling: str = "response"
    # Symmetric: the head scores (a, b) and (b, a) and averages them, A's logit with B's, so swapping the
    # responses swaps the prediction exactly (the swap-consistency of inference, built into training). The
    # head then learns only what tells A from B; a free head spent its updates on the order-symmetric part
    # and stayed at chance on HH-RLHF (measured). False: one pass, as in the plain Siamese classifier.
    symmetric: bool = True

    def __post_init__(self):
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown or not self.features:
            raise ConfigError(f"preference features {self.features}: choose from {', '.join(FEATURES)}")
        if self.pooling not in POOLING:
            raise ConfigError(f"preference pooling {self.pooling!r}: choose from {', '.join(POOLING)}")


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Average of the token vectors, padding excluded."""
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


class SiamesePreferenceModel(nn.Module):
    def __init__(self, encoder: nn.Module, hidden_size: int, head: SiameseHeadConfig):
        super().__init__()
        self.encoder = encoder
        self.head_config = head
        # Named "classifier" so the trainer's head learning rate and quantization skip-lists apply to it.
        self.classifier = nn.Linear(hidden_size * len(head.features), head.num_labels)

    def embed(self, input_ids, attention_mask, token_type_ids=None, response_mask=None) -> torch.Tensor:
        kwargs = {"token_type_ids": token_type_ids} if token_type_ids is not None else {}
        out = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        pool = response_mask if self.head_config.pooling == "response" and response_mask is not None else attention_mask
        return mean_pool(out.last_hidden_state.float(), pool)

    def forward(self, input_ids, attention_mask, token_type_ids=None, response_mask=None, labels=None):
        """Inputs stack the A sides then the B sides: [2 * pairs, length], one encoder call for both."""
        vectors = self.embed(input_ids, attention_mask, token_type_ids, response_mask)
        a, b = vectors.chunk(2, dim=0)
        logits = self._head(a, b)
        if self.head_config.symmetric:
            logits = (logits + self._head(b, a)[:, SWAP]) / 2
        loss = nn.functional.cross_entropy(logits.float(), labels) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits)

    def _head(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        parts = {"a": a, "b": b, "diff": (a - b).abs(), "prod": a * b}
        features = torch.cat([parts[f] for f in self.head_config.features], dim=-1)
        # fp32 even under bf16 autocast: A's and B's logits are large and nearly equal, and what decides is
        # their small difference, which bf16's 8-bit mantissa rounds away.
        with torch.autocast(device_type=features.device.type, enabled=False):
            return self.classifier(features.float())


def save_head(model: SiamesePreferenceModel, folder: Path) -> None:
    from safetensors.torch import save_file

    save_file({k: v.detach().cpu().contiguous() for k, v in model.classifier.state_dict().items()}, str(folder / HEAD_WEIGHTS))
    (folder / HEAD_CONFIG).write_text(json.dumps(asdict(model.head_config)))


def load_head(model: SiamesePreferenceModel, folder: Path) -> None:
    from safetensors.torch import load_file

    if not (folder / HEAD_WEIGHTS).is_file():
        raise ModelError(f"{folder}: no {HEAD_WEIGHTS}; is this a preference run's adapter/ or model/ folder?")
    model.classifier.load_state_dict(load_file(str(folder / HEAD_WEIGHTS)))


def read_head_config(folder: Path) -> SiameseHeadConfig:
    path = Path(folder) / HEAD_CONFIG
    if not path.is_file():
        raise ModelError(f"{folder}: no {HEAD_CONFIG}; is this a preference run's adapter/ or model/ folder?")
    data = json.loads(path.read_text())
    data.setdefault("pooling", "all")  # heads saved before these options existed: the behaviour they had
    data.setdefault("symmetric", False)
    return SiameseHeadConfig(**data)
