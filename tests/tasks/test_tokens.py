"""`loralab tokens`: how the installed tokenizers split numbers, prices and text."""

import json
import subprocess
import sys

import pytest

from loralab.artifacts.load import load_tokenizer
from loralab.tasks.lm.tokens import analyze_tokenizer


def _tokens(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "loralab.cli.main", "tokens", *args], capture_output=True,
                          text=True, timeout=300)


def test_smollm2_splits_digits_one_per_token():
    report = analyze_tokenizer("smollm2", load_tokenizer("smollm2-135m-instruct"))
    assert report.tokens_per_number == {"1-digit": 1.0, "2-digit": 2.0, "3-digit": 3.0}
    assert report.single_token_1_999 == pytest.approx(9 / 999)
    assert report.splits["49.99"] == ["4", "9", ".", "9", "9"]
    assert "one per token" in report.verdict


def test_wordpiece_keeps_many_numbers_whole():
    report = analyze_tokenizer("minilm", load_tokenizer("minilm"))
    assert report.kind == "WordPiece" and 0.3 < report.single_token_1_999 < 1.0
    assert report.tokens_per_number["3-digit"] < 3.0


def test_tokens_cli_table_and_json():
    table = _tokens()
    assert table.returncode == 0, table.stderr
    assert "| smollm2-135m-instruct | BPE | 49,152 | 1.00 | 2.00 | 3.00 |" in table.stdout
    assert "| minilm | WordPiece |" in table.stdout and "**smollm2-135m-instruct**:" in table.stdout
    reports = json.loads(_tokens("--model", "minilm", "--json").stdout)
    assert [r["model"] for r in reports] == ["minilm"]
    bad = _tokens("--model", "no-such-model")
    assert bad.returncode == 2 and "no-such-model" in bad.stderr
