"""Property tests of the compare YAML: generated configs load back to what was written; damaged ones load or
raise ConfigError naming the file and the line or field, never another exception."""

from __future__ import annotations

import pytest
import yaml
from fuzz_support import JUNK_BYTES, config_mutation, config_names_where, line_corruption, nonblank
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from loralab.compare.config import load_compare_config
from loralab.compare.task_tables import task_names
from loralab.errors import ConfigError

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KNOWN = {"name", "ranker", "options", "also_interpolated", "limit_queries", "limit_candidates"}
OPTION_VALUES = st.none() | st.booleans() | st.integers(-10**6, 10**6) | nonblank(10)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-compare")


def _method(name: str):
    return st.fixed_dictionaries(
        {"name": st.just(name), "ranker": st.sampled_from(["cross-encoder", "prompt-pointwise", "bi-encoder"])},
        optional={
            "also_interpolated": st.lists(st.floats(0, 1), max_size=3),
            "limit_queries": st.integers(1, 10**6),
            "options": st.dictionaries(st.sampled_from(["model", "max_length", "batch_size"]), OPTION_VALUES, max_size=2),
            "max_length": st.integers(1, 4096),  # inline options, gathered into `options`
            "device": OPTION_VALUES,
        },
    )


budgets = st.fixed_dictionaries({}, optional={
    "max_p95_ms": st.floats(0.001, 1e6), "max_cost_per_1m": st.floats(0.001, 1e6), "min_quality": st.floats(-1, 1),
})
configs = st.lists(nonblank(12), min_size=1, max_size=4, unique=True).flatmap(
    lambda names: st.fixed_dictionaries(
        {"dataset": nonblank(20), "methods": st.tuples(*[_method(n) for n in names]).map(list)},
        optional={
            "task": st.sampled_from(task_names()), "title": nonblank(20), "price_per_hour": st.floats(0, 100),
            "limit_queries": st.integers(1, 10**6), "limit_candidates": st.integers(1, 1000), "budget": budgets,
        },
    )
)


def _write(path, config) -> bytes:
    data = yaml.safe_dump(config).encode("utf-8")  # non-ASCII escaped: a raw NEL or U+2028 is a YAML line break
    path.write_bytes(data)
    return data


@FAST
@given(config=configs)
def test_config_round_trips(scratch, config):
    _write(scratch / "compare.yaml", config)
    loaded = load_compare_config(scratch / "compare.yaml")
    assert (loaded.dataset, loaded.task) == (config["dataset"], config.get("task", "rerank"))
    assert loaded.title == config.get("title")
    assert loaded.price_per_hour == config.get("price_per_hour", 0.10)
    assert (loaded.budget.model_dump(exclude_none=True) if loaded.budget else None) == config.get("budget")
    for method, spec in zip(loaded.methods, config["methods"], strict=True):
        assert (method.name, method.ranker) == (spec["name"], spec["ranker"])
        assert method.also_interpolated == spec.get("also_interpolated", [])
        assert method.options == {**spec.get("options", {}), **{k: v for k, v in spec.items() if k not in KNOWN}}


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_wrong_missing_or_unknown_field_is_named(scratch, data):
    config, field = data.draw(configs.flatmap(config_mutation))
    _write(scratch / "compare.yaml", config)
    config_names_where(load_compare_config, scratch / "compare.yaml", field=field)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damaged_text_loads_or_names_line_or_field(scratch, data):
    valid = yaml.safe_dump(data.draw(configs)).encode("utf-8")
    damaged, _ = data.draw(line_corruption(valid) | JUNK_BYTES.map(lambda b: (b, None)))
    (scratch / "compare.yaml").write_bytes(damaged)
    config_names_where(load_compare_config, scratch / "compare.yaml")


# --- the cases fuzzing found, pinned as examples -----------------------------------------------------------

METHOD = "methods:\n- {name: x, ranker: cross-encoder"


@pytest.mark.parametrize("text, expected", [
    (f"dataset: d\n{METHOD}, options: null}}\n", r"methods\.0\.options: Input should be a valid dictionary"),
    (f"dataset: d\n{METHOD}, options: 3}}\n", r"methods\.0\.options: Input should be a valid dictionary"),
    (f"dataset: d\ntitle: 2024-13-01\n{METHOD}}}\n",
     r"(?s)month must be in 1\.\.12\); quote it .*compare\.yaml\", line 2, column 8"),
    (f"dataset: d\n{METHOD}, n: 1{'0' * 5000}}}\n", r"(?s)Exceeds the limit .*line 3"),
    (f"dataset: d\nprice_per_hour: .nan\nbudget: {{max_p95_ms: .inf}}\n{METHOD}}}\n",
     r"price_per_hour: Input should be a finite number; budget\.max_p95_ms: Input should be a finite number"),
    ("dataset: d\nmethods:\n- &m {name: x, ranker: cross-encoder, o: [*m]}\n", r"a YAML anchor refers to itself"),
    ("[" * 5000, r"nested too deeply"),
    ("dataset: d\ntitle: caf\xe9\n", r"compare\.yaml:2: not UTF-8 text \(byte 0xe9\)"),
    ("dataset: d\ntitle: a\x00b\n", r"compare\.yaml:2: invalid YAML \(control character U\+0000 is not allowed"),
])
def test_found_cases(tmp_path, text, expected):
    path = tmp_path / "compare.yaml"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ConfigError, match=expected):
        load_compare_config(path)
