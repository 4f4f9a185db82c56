"""Instruction SFT: {instruction, input, output} examples, the prompt format, and generation.

Formats: "alpaca" ("### Instruction / ### Input / ### Response") or "chat" (the model's own chat template, the
instruction and input as one user turn). Training uses completion-only loss on the response.

Built-in data ("amazon-uk-instructions"): there is no instruction dataset offline, so a small honest one is
derived from the vendored Amazon UK products: "Which product category…?" -> the top-level Amazon category, and
"Which brand…?" -> the manufacturer (rows with brand "Unknown" skipped). Real labels, templated instructions.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from loralab.data.jsonl import iter_jsonl, require_str
from loralab.errors import ConfigError, DataError

FORMAT_FILE = "sft_format.json"
BUILTIN = "amazon-uk-instructions"
ALPACA = "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n"
ALPACA_NO_INPUT = "### Instruction:\n{instruction}\n\n### Response:\n"


@dataclass
class Instruction:
    instruction: str
    input: str
    output: str


@dataclass(frozen=True)
class InstructionFormat:
    style: str = "alpaca"  # alpaca | chat

    def __post_init__(self):
        if self.style not in ("alpaca", "chat"):
            raise ConfigError(f"instruction format '{self.style}': choose alpaca or chat")

    def prompt(self, tokenizer, example: Instruction) -> str:
        if self.style == "alpaca":
            template = ALPACA if example.input else ALPACA_NO_INPUT
            return template.format(instruction=example.instruction, input=example.input)
        if not tokenizer.chat_template:
            raise ConfigError("format 'chat' needs a tokenizer with a chat template; use 'alpaca'")
        content = f"{example.instruction}\n\n{example.input}" if example.input else example.instruction
        return tokenizer.apply_chat_template([{"role": "user", "content": content}], tokenize=False,
                                             add_generation_prompt=True)

    def save(self, folder: Path) -> None:
        (Path(folder) / FORMAT_FILE).write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, folder: Path | None, default: str = "alpaca") -> InstructionFormat:
        file = Path(folder) / FORMAT_FILE if folder else None
        return cls(**json.loads(file.read_text())) if file and file.is_file() else cls(default)


def read_instruction_jsonl(path: Path) -> list[Instruction]:
    rows = [Instruction(require_str(row, "instruction", path, n), _optional_str(row, "input", path, n),
                        require_str(row, "output", path, n)) for n, row in iter_jsonl(path)]
    if not rows:
        raise DataError(f"{path}: no examples")
    return rows


def _optional_str(row: dict, key: str, path: Path, lineno: int) -> str:
    return require_str(row, key, path, lineno, allow_empty=True) if key in row else ""


def load_instructions(spec: str, split: str = "train") -> list[Instruction]:
    """The built-in product instructions, one JSONL file, or a folder of <split>.jsonl[.gz]."""
    if spec == BUILTIN:
        return product_instructions(split)
    path = Path(spec)
    if path.is_dir():
        matches = sorted(path.glob(f"{split}.jsonl*"))
        if not matches:
            raise DataError(f"{path}: no '{split}' split ({split}.jsonl or {split}.jsonl.gz)")
        path = matches[0]
    if not path.is_file():
        raise DataError(f"{spec}: not '{BUILTIN}', a JSONL file of {{instruction, input, output}}, or a folder")
    return read_instruction_jsonl(path)


def product_instructions(split: str) -> list[Instruction]:
    from loralab.data.registry import get_spec
    from loralab.tasks.classify.data import _split_file

    rows = [row for _, row in iter_jsonl(_split_file(get_spec(BUILTIN).folder, split))]
    out = []
    for row in rows:
        title, category, brand = row["title"], row.get("category") or "", row.get("manufacturer") or ""
        if category:
            out.append(Instruction("Which product category does this item belong to? Answer with the category only.",
                                   title, category.split(" > ")[0]))
        if brand and brand != "Unknown":
            out.append(Instruction("Which brand makes this product? Answer with the brand only.", title, brand))
    return out


def generate(model, tokenizer, prompt: str, max_new_tokens: int = 64) -> str:
    """Greedy continuation of `prompt`, cut at the end-of-sequence token."""
    import torch

    ids = tokenizer(prompt, add_special_tokens=False, return_tensors="pt").to(model.device)
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=max_new_tokens, do_sample=False, eos_token_id=tokenizer.eos_token_id,
                             pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id)
    return tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True).strip()
