"""Typed method and training configs: re-ranking options live in their own group and only go with --task rerank."""

import pytest

from loralab.errors import ConfigError
from loralab.methods.configs import RerankOptions, method_config, to_dict, train_config


def test_rerank_options_are_grouped_and_round_trip():
    cfg = train_config(task="rerank", teacher="minilm", num_negatives=3)
    assert cfg.rerank == RerankOptions(teacher="minilm", num_negatives=3)
    assert to_dict(cfg)["rerank"]["teacher"] == "minilm" and "teacher" not in to_dict(cfg)


def test_rerank_options_are_refused_for_other_tasks():
    with pytest.raises(ConfigError, match="re-ranking options; --task classify does not take them"):
        train_config(task="classify", teacher="minilm")
    assert train_config(task="classify").rerank == RerankOptions()


def test_unknown_options_name_the_valid_ones():
    with pytest.raises(ConfigError, match="training has no option lr_rate; valid: .*learning_rate"):
        train_config(lr_rate=1e-3)
    with pytest.raises(ConfigError, match="method 'lora' has no option rank"):
        method_config("lora", rank=4)
    with pytest.raises(ConfigError, match="choose listwise, margin-mse or bce"):
        train_config(loss="hinge")
