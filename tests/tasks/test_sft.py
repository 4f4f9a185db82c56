"""Instruction SFT: formats, the built-in product instructions, bad rows, and `loralab generate` with a trained
adapter on its base (a real subprocess)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from loralab.errors import DataError
from loralab.tasks.lm.data import IGNORE, completion_example
from loralab.tasks.sft.data import Instruction, InstructionFormat, load_instructions, product_instructions
from lm_support import tiny_llama_folder

ANSWER = "Toys and Games"


def test_alpaca_and_chat_formats():
    from loralab.artifacts.load import load_tokenizer

    tokenizer = load_tokenizer("smollm2-135m-instruct")
    ex = Instruction("Name the category.", "LEGO castle", ANSWER)
    alpaca = InstructionFormat("alpaca").prompt(tokenizer, ex)
    assert alpaca == "### Instruction:\nName the category.\n\n### Input:\nLEGO castle\n\n### Response:\n"
    assert "### Input" not in InstructionFormat("alpaca").prompt(tokenizer, Instruction("Say hi.", "", "hi"))
    chat = InstructionFormat("chat").prompt(tokenizer, ex)
    assert chat.endswith("<|im_start|>assistant\n") and "Name the category.\n\nLEGO castle" in chat
    features = completion_example(tokenizer, chat, ex.output, 256)
    learned = tokenizer.decode([t for t in features["labels"] if t != IGNORE])
    assert learned == ANSWER + tokenizer.eos_token  # only the response (and its end) is learned


def test_product_instructions_are_real_labels():
    rows = product_instructions("train")
    assert len(rows) > 6838  # a category question per product plus a brand question where the brand is known
    assert all(r.output and " > " not in r.output for r in rows if "category" in r.instruction)
    assert not any(r.output == "Unknown" for r in rows)
    assert len(load_instructions("amazon-uk-instructions", "test")) < len(rows)


@pytest.mark.parametrize(("row", "field"), [('{"instruction": "x"}', "output"),
                                            ('{"instruction": "x", "input": ["a"], "output": "y"}', "input"),
                                            ('{"output": "y"}', "instruction")])
def test_bad_instruction_rows_name_file_line_and_field(tmp_path, row, field):
    path = tmp_path / "train.jsonl"
    path.write_text('{"instruction": "ok", "output": "fine"}\n' + row + "\n")
    with pytest.raises(DataError, match=rf"train\.jsonl:2: .*'{field}'"):
        load_instructions(str(path))


@pytest.fixture(scope="module")
def sft_run(tmp_path_factory) -> Path:
    """LoRA SFT of a tiny Llama on one repeated instruction, through the shared training path (with gradient
    checkpointing, cosine schedule, eval/save steps and best-checkpoint selection by eval loss)."""
    from loralab.methods.configs import method_config, train_config
    from loralab.training.trainer import train

    root = tmp_path_factory.mktemp("sft")
    base = tiny_llama_folder(root / "base")
    rows = [{"instruction": "Which product category does this item belong to?", "input": "LEGO castle",
             "output": ANSWER}] * 20
    (root / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = train_config(task="sft", model=str(base), data=str(root / "train.jsonl"), max_steps=60, batch_size=4,
                       eval_steps=20, save_steps=20, logging_steps=10, max_length=96, learning_rate=1e-2,
                       eval_fraction=0.1, warmup_ratio=0.0, gradient_checkpointing=True)
    train(method_config("lora", r=8, alpha=16, dropout=0.0), cfg, root / "run")
    return root


def _generate(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "loralab.cli.main", "generate", *args], capture_output=True,
                          text=True, timeout=300)


def test_generate_answers_with_the_adapter_on_its_base(sft_run):
    adapter = sft_run / "run" / "adapter"
    assert json.loads((adapter / "sft_format.json").read_text())["style"] == "chat"
    question = ["Which product category does this item belong to?", "--input", "LEGO castle"]
    tuned = _generate(*question, "--model", str(sft_run / "base"), "--adapter", str(adapter), "--max-new-tokens", "8")
    assert tuned.returncode == 0, tuned.stderr
    # 60 steps teach a random tiny model the answer, not always where to stop: compare the beginning.
    assert tuned.stdout.strip().startswith(ANSWER)
    base = _generate(*question, "--model", str(sft_run / "base"), "--max-new-tokens", "8")
    assert base.returncode == 0 and ANSWER not in base.stdout  # the answer comes from the adapter
    run_dir = _generate(*question, "--model", str(sft_run / "run"), "--max-new-tokens", "8")
    assert run_dir.stdout.strip().startswith(ANSWER)  # a run folder names its base and adapter itself


def test_generate_bad_format_is_one_error_line(sft_run):
    proc = _generate("hi", "--model", str(sft_run / "base"), "--format", "xml")
    assert proc.returncode == 2 and "choose alpaca or chat" in proc.stderr


def test_exact_match_compares_answers_case_insensitively(sft_run, tmp_path):
    from loralab.artifacts.load import load
    from loralab.tasks.sft.data import generate
    from loralab.tasks.sft.evaluate import exact_match

    loaded = load(str(sft_run / "run"))
    question = Instruction("Which product category does this item belong to?", "LEGO castle", "")
    answer = generate(loaded.model, loaded.tokenizer, InstructionFormat("chat").prompt(loaded.tokenizer, question), 24)
    rows = [{"instruction": question.instruction, "input": "LEGO castle", "output": f"  {answer.upper()} "},
            {"instruction": question.instruction, "input": "LEGO castle", "output": "something else"}]
    (tmp_path / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = exact_match(str(sft_run / "run"), str(tmp_path), "test", limit=None)
    assert result.primary_value == 0.5 and result.num_examples == 2 and result.extra["format"] == "chat"
    assert result.per_example["exact_match"] == {"0": 1.0, "1": 0.0}
    assert exact_match(str(sft_run / "base"), str(tmp_path), "test", limit=None).primary_value == 0.0
