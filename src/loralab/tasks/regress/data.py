"""LLM numeric prediction (prices): {text, price} items, the prompt/completion format, and seeded subsets.

The model reads "How much does this cost…? {text}\nPrice is £" and writes the price; training learns only the
price tokens (completion-only loss, see `loralab.tasks.lm.data`).
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import asdict, dataclass
from pathlib import Path

from loralab.data.jsonl import iter_jsonl, require_str
from loralab.data.registry import get_spec
from loralab.errors import ConfigError, DataError

FORMAT_FILE = "price_format.json"  # saved next to a trained adapter so evaluation prompts as training did


@dataclass
class PriceItem:
    id: str
    text: str
    price: float


@dataclass(frozen=True)
class PriceFormat:
    """Prompt and completion for one item; the completion is what the loss is computed on."""

    template: str = "How much does this cost to the nearest pound?\n\n{text}\n\nPrice is £"
    completion: str = "{price:.0f}"  # whole pounds (the seed rounds to the nearest dollar): fewer tokens to learn
    currency: str = "£"

    def __post_init__(self):
        if "{text}" not in self.template:
            raise ConfigError(f"price prompt template must contain '{{text}}', got {self.template!r}")
        if "{price" not in self.completion:
            raise ConfigError(f"price completion format must contain '{{price…}}', got {self.completion!r}")

    def prompt(self, text: str) -> str:
        return self.template.replace("{text}", text)

    def answer(self, price: float) -> str:
        return self.completion.format(price=price)

    def save(self, folder: Path) -> None:
        (Path(folder) / FORMAT_FILE).write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, folder: Path | None) -> PriceFormat:
        file = Path(folder) / FORMAT_FILE if folder else None
        return cls(**json.loads(file.read_text())) if file and file.is_file() else cls()


def read_price_jsonl(path: Path) -> list[PriceItem]:
    items = []
    for lineno, row in iter_jsonl(path):
        price = row.get("price")
        if isinstance(price, bool) or not isinstance(price, (int, float)) or not _finite(price) or price < 0:
            raise DataError(f"{path}:{lineno}: field 'price' must be a non-negative number, got {price!r:.40}")
        item_id = str(row["id"]) if "id" in row else f"{path.name}:{lineno}"
        items.append(PriceItem(item_id, require_str(row, "text", path, lineno), float(price)))
    if not items:
        raise DataError(f"{path}: no items")
    return items


def _finite(value: float) -> bool:
    try:
        return math.isfinite(value)
    except OverflowError:  # an int beyond float range
        return False


def load_prices(spec: str, split: str) -> list[PriceItem]:
    """A registered price dataset (amazon-uk-prices) by name, a folder of <split>.jsonl[.gz], or one JSONL file."""
    path = Path(spec)
    if path.is_file():
        return read_price_jsonl(path)
    folder = path if path.is_dir() else get_spec(spec).folder
    matches = sorted(folder.glob(f"{split}.jsonl*"))
    if not matches:
        have = sorted({p.name.split(".")[0] for p in folder.glob("*.jsonl*")})
        raise DataError(f"{folder}: no '{split}' split (available: {', '.join(have) or 'none'})")
    return read_price_jsonl(matches[0])


def seeded_subset(items: list, limit: int | None, seed: int = 42) -> list:
    """A fixed random subset (same seed, same items), so every row of a comparison sees the same items."""
    if not limit or limit >= len(items):
        return list(items)
    return random.Random(seed).sample(items, limit)
