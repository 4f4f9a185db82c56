"""Fast tests of the prompt rankers' pure parts: permutation repair, number extraction, windows, templates."""

import pytest

from loralab.errors import ConfigError, UnknownNameError
from loralab.rankers.prompt import extract_rating, parse_permutation, sliding_windows
from loralab.rankers.prompt.parsing import Rating
from loralab.rankers.prompt.rankers import truncate_words, yes_probability
from loralab.rankers.prompt.templates import builtin_templates, load_template
from loralab.rankers.prompt.usage import Reply, UsageLog
from loralab.rankers.registry import ranker_config, ranker_kinds


def test_clean_permutation_needs_no_repair():
    perm = parse_permutation("[2] > [3] > [1]", 3)
    assert perm.order == [1, 2, 0] and not perm.repairs and not perm.failed


@pytest.mark.parametrize(
    "text, order, repairs",
    [
        ("[2] > [2] > [1] > [3]", [1, 0, 2], {"duplicate": 1}),
        ("[4] > [1] > [9] > [0]", [3, 0, 1, 2], {"out_of_range": 2, "missing": 2}),  # ids are 1..4
        ("[3] > [1]", [2, 0, 1], {"missing": 1}),  # missing id 2 keeps its place after the ranked ones
        ("5, 4, 3", [4, 3, 2, 0, 1], {"missing": 2}),
        ("[7] > [2] > [2]", [1, 0, 2], {"out_of_range": 1, "duplicate": 1, "missing": 2}),
    ],
)
def test_permutation_repairs_are_counted(text, order, repairs):
    perm = parse_permutation(text, len(order))
    assert perm.order == order
    assert sorted(perm.order) == list(range(len(order)))
    assert dict(perm.repairs) == repairs


@pytest.mark.parametrize("text", ["", "I cannot rank these passages.", None, "[99] > [0]"])
def test_unusable_permutation_keeps_previous_order(text):
    perm = parse_permutation(text, 4)
    assert perm.failed and perm.order == [0, 1, 2, 3]


@pytest.mark.parametrize(
    "text, value",
    [
        ("0.8", 0.8), (" 1", 1.0), ("0", 0.0), ("Relevance: .75", 0.75), ("0,6", 0.6), ("70%", 0.7),
        ("7/10 - fairly relevant", 0.7), ("Score: 0.25 out of 1", 0.25), ("1.0\n\nThe passage", 1.0),
    ],
)
def test_rating_extraction(text, value):
    rating = extract_rating(text)
    assert rating.error is None and rating.value == pytest.approx(value)


@pytest.mark.parametrize(
    "text, error", [("", "no_number"), ("Highly relevant!", "no_number"), ("7", "out_of_range"),
                    ("150%", "out_of_range"), (None, "no_number"), ("3/0", "out_of_range")],
)
def test_rating_failures_name_the_reason(text, error):
    assert extract_rating(text) == Rating(None, error)


def test_sliding_windows_cover_back_to_front():
    assert sliding_windows(100, 20, 10) == [(80, 100), (70, 90), (60, 80), (50, 70), (40, 60), (30, 50), (20, 40),
                                            (10, 30), (0, 20)]
    assert sliding_windows(5, 20, 10) == [(0, 5)]
    assert sliding_windows(25, 20, 10) == [(5, 25), (0, 15)]
    assert sliding_windows(0, 20, 10) == []


def test_yes_probability_from_logprobs_text_and_one_sided_topk():
    pos, neg = ["Yes"], ["No"]
    assert yes_probability(Reply(logprobs={"Yes": -0.1, "No": -0.1}), pos, neg) == pytest.approx(0.5)
    # case and leading spaces are ignored; variants add up
    two_yes = yes_probability(Reply(logprobs={" yes": -1.0, "Yes": -1.0, "No": -1.0}), pos, neg)
    assert two_yes == pytest.approx(2 / 3)
    # only "No" in a server's top-k: "Yes" is bounded below the smallest listed log-prob
    assert yes_probability(Reply(logprobs={"No": -0.2, "The": -3.0}), pos, neg) < 0.1
    assert yes_probability(Reply(text="Yes."), pos, neg) == 1.0
    assert yes_probability(Reply(text="no, it does not"), pos, neg) == 0.0
    assert yes_probability(Reply(text="Maybe", logprobs={"Maybe": -0.1}), pos, neg) is None


def test_usage_summary_and_token_cost():
    log = UsageLog()
    for _ in range(2):
        log.start_query()
        log.record(Reply(tokens_in=100, tokens_out=2))
    log.record(Reply(error="timeout: ReadTimeout after 1s"))
    summary = log.summary(price_in_per_1m=0.5, price_out_per_1m=2.0)
    assert summary["tokens_in_per_query"] == 100 and summary["tokens_out_per_query"] == 2
    assert summary["failures"] == 1 and summary["failure_kinds"] == {"timeout": 1}
    assert summary["token_cost_per_1m"] == pytest.approx(100 * 0.5 + 2 * 2.0)
    assert "token_cost_per_1m" not in log.summary()


def test_builtin_templates_load_and_render():
    assert {"pointwise_yes_no", "listwise_rankgpt", "rating_0_1"} <= set(builtin_templates())
    listwise = load_template(None, "listwise")
    prompt = listwise.render(query="q?", num=2, passages=listwise.passages(["alpha", "beta"]))
    assert "[1] alpha\n[2] beta" in prompt.messages[-1]["content"] and prompt.messages[0]["role"] == "system"
    assert load_template("rating_0_1", "rating").render(query="q", document="d").text.endswith("Answer:")


def test_bad_templates_name_file_and_problem(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("mode: pointwise\nuser: 'Query: {query} {passage}'\n")
    with pytest.raises(ConfigError, match=r"bad.yaml.*missing \['document'\].*unknown \['passage'\]"):
        load_template(str(bad), "pointwise")
    with pytest.raises(ConfigError, match="template is for mode 'pointwise'"):
        load_template("pointwise_yes_no", "rating")
    with pytest.raises(ConfigError, match="built-in templates: .*listwise_rankgpt"):
        load_template("no_such_template", "listwise")
    with pytest.raises(ConfigError, match="not found"):
        load_template(str(tmp_path / "missing.yaml"), "listwise")
    bad.write_text("user: [unclosed\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_template(str(bad), "rating")


def test_prompt_rankers_registered_and_configs_checked():
    assert {"prompt-pointwise", "prompt-listwise", "prompt-rating"} <= set(ranker_kinds())
    cfg = ranker_config("prompt-listwise", window=4, step=2, max_new_tokens=None)
    assert (cfg.window, cfg.step, cfg.backend) == (4, 2, "local")
    with pytest.raises(ConfigError, match="no option windw"):
        ranker_config("prompt-listwise", windw=4)
    with pytest.raises(ConfigError, match="step <= window"):
        ranker_config("prompt-listwise", window=4, step=5).validate()
    with pytest.raises(ConfigError, match="backend must be one of local, openai"):
        ranker_config("prompt-rating", backend="ollama").validate()
    with pytest.raises(UnknownNameError):
        ranker_config("prompt-pairwise")


def test_truncate_words():
    assert truncate_words("a b c d", 2) == "a b ..." and truncate_words("a b", 2) == "a b"


def test_per_method_limits_and_cli_options_parse(tmp_path):
    from loralab.compare.config import load_compare_config
    from loralab.cli.rank_cmds import parse_options

    path = tmp_path / "cmp.yaml"
    path.write_text("dataset: trec-dl-2019\nmethods:\n  - {name: l, ranker: prompt-listwise, window: 4, limit_candidates: 3}\n")
    method = load_compare_config(path).methods[0]
    assert method.limit_candidates == 3 and method.options == {"window": 4}
    assert parse_options(["window=20", "backend=openai", "price-in-per-1m=0.5", "template="]) == {
        "window": 20, "backend": "openai", "price_in_per_1m": 0.5, "template": None,
    }
    with pytest.raises(ConfigError, match="expected KEY=VALUE"):
        parse_options(["window"])
