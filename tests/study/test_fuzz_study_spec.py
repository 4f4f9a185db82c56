"""Property tests of the study YAML: generated studies load back to what was written; damaged ones load or
raise ConfigError naming the file and the line or field, never another exception."""

from __future__ import annotations

import pytest
import yaml
from fuzz_support import JUNK_BYTES, config_mutation, config_names_where, line_corruption, nonblank
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loralab.compare.task_tables import task_names
from loralab.errors import ConfigError
from loralab.study.spec import METHODS, load_study

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
VALUES = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(-1e3, 1e3) | nonblank(10)
OPTIONS = st.dictionaries(st.sampled_from(["max_steps", "lr", "batch_size", "r", "alpha"]), VALUES, max_size=3)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-study")


def _candidate(name: str):
    return st.fixed_dictionaries({"name": st.just(name), "method": st.sampled_from(METHODS)}, optional={
        "ranker": nonblank(12), "model": nonblank(12), "options": OPTIONS, "train": OPTIONS, "lora": OPTIONS,
        "quantize": st.lists(nonblank(12), max_size=2),
    })


studies = st.lists(nonblank(12), min_size=1, max_size=4, unique=True).flatmap(
    lambda names: st.fixed_dictionaries(
        {"data": st.fixed_dictionaries({"test": nonblank(12), "train": nonblank(12)}),
         "candidates": st.tuples(*[_candidate(n) for n in names]).map(list)},
        optional={
            "task": st.sampled_from(task_names()), "title": nonblank(20), "backbone": nonblank(12),
            "budget": st.fixed_dictionaries({}, optional={"max_p95_ms": st.floats(0.001, 1e6)}),
            "price_per_hour": st.floats(0, 100), "limit_queries": st.integers(1, 10**6),
            "limit_candidates": st.integers(1, 1000), "train": OPTIONS, "quantize": st.lists(nonblank(12), max_size=2),
        },
    )
)


def _write(path, study) -> None:
    path.write_text(yaml.safe_dump(study), encoding="utf-8")  # non-ASCII escaped: raw NEL is a YAML line break


@SETTINGS
@given(study=studies)
def test_study_round_trips(scratch, study):
    _write(scratch / "study.yaml", study)
    spec = load_study(scratch / "study.yaml")
    assert (spec.task, spec.data.test, spec.data.train) == (study.get("task", "rerank"), study["data"]["test"],
                                                            study["data"]["train"])
    assert spec.limit_queries == study.get("limit_queries") and spec.train == study.get("train", {})
    for candidate, raw in zip(spec.candidates, study["candidates"], strict=True):
        defaults = {"ranker": None, "model": None, "options": {}, "train": {}, "lora": {}, "quantize": None}
        assert candidate.model_dump() == defaults | raw
        assert spec.variants(candidate) == raw.get("quantize", study.get("quantize", []))


@SETTINGS
@given(data=st.data())
def test_wrong_missing_or_unknown_field_is_named(scratch, data):
    study, field = data.draw(studies.flatmap(config_mutation))
    _write(scratch / "study.yaml", study)
    config_names_where(load_study, scratch / "study.yaml", field=field)


@SETTINGS
@given(data=st.data())
def test_damaged_text_loads_or_names_line_or_field(scratch, data):
    valid = yaml.safe_dump(data.draw(studies)).encode("utf-8")
    damaged, _ = data.draw(line_corruption(valid) | JUNK_BYTES.map(lambda b: (b, None)))
    (scratch / "study.yaml").write_bytes(damaged)
    config_names_where(load_study, scratch / "study.yaml")


@pytest.mark.parametrize("text, expected", [
    ("data: {test: t}\ncandidates: [{name: a, method: lora}]\n",
     r"config: Value error, trained candidates need data\.train"),
    ("data: {test: t}\nprice_per_hour: .inf\ncandidates: [{name: a, method: baseline}]\n",
     r"price_per_hour: Input should be a finite number"),
    ("data: {test: t}\ncandidates: [{name: a, method: baseline, train: null}]\n",
     r"candidates\.0\.train: Input should be"),
    ("data: {test: 2024-02-30}\ncandidates: []\n", r"(?s)day is out of range for month.*study\.yaml\", line 1"),
])
def test_found_cases(tmp_path, text, expected):
    path = tmp_path / "study.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=expected):
        load_study(path)

