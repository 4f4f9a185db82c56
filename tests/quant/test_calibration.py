"""Calibration pairs come from training data named in the config (default: SciFact's training triples)."""

import json

import pytest

from loralab.errors import DataError
from loralab.quant.calibration import calibration_pairs
from loralab.quant.configs import parse_quant


def test_default_and_custom_calibration_sources(tmp_path):
    default = calibration_pairs(6)
    assert len(default) == 6 and all(q and d for q, d in default)
    groups = tmp_path / "groups.jsonl"
    groups.write_text(json.dumps({"query": "q", "positive": {"text": "pos"}, "negatives": ["neg"]}) + "\n")
    assert calibration_pairs(4, str(groups)) == [("q", "pos"), ("q", "neg")]
    config = parse_quant(f"int8-static:calibration_data={groups},calibration_samples=8")
    assert config.calibration_data == str(groups) and config.calibration_samples == 8


def test_calibration_rows_without_a_query_name_file_and_line(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"text": "no query here"}) + "\n")
    with pytest.raises(DataError, match=r"bad\.jsonl:1: calibration rows need 'query'"):
        calibration_pairs(4, str(bad))
