"""How the local prompt backend cuts prompts into batches and finds the prefix they share (no model needed)."""

from types import SimpleNamespace

import pytest

from loralab.errors import ConfigError
from loralab.rankers.prompt.configs import PointwiseConfig
from loralab.rankers.prompt.local import LocalBackend, _shared_prefix_length


def _batches(lengths, batch_size, max_batch_tokens):
    backend = SimpleNamespace(batch_size=batch_size, max_batch_tokens=max_batch_tokens)
    return list(LocalBackend._length_batches(backend, list(range(len(lengths))), lengths))


def test_batches_are_longest_first_and_capped_by_rows_and_padded_tokens():
    lengths = [100, 300, 120, 310, 90]
    assert _batches(lengths, 8, 0) == [[3, 1, 2, 0, 4]]  # no token cap: rows only
    assert _batches(lengths, 2, 0) == [[3, 1], [2, 0], [4]]
    # 620 padded tokens for [3, 1]; adding a third row would pad it to 310 too (930 > 700)
    assert _batches(lengths, 8, 700) == [[3, 1], [2, 0, 4]]
    assert _batches(lengths, 8, 100) == [[3], [1], [2], [0], [4]]  # a row longer than the cap runs alone


def test_shared_prefix_leaves_every_row_a_token_to_run():
    assert _shared_prefix_length([[1, 2, 3, 4], [1, 2, 3, 5], [1, 2, 9]]) == 2
    assert _shared_prefix_length([[1, 2, 3], [1, 2, 3]]) == 2  # identical prompts: the last token still runs
    assert _shared_prefix_length([[7, 1], [8, 1]]) == 0
    assert _shared_prefix_length([]) == 0


def test_a_negative_token_cap_is_refused():
    with pytest.raises(ConfigError, match="max_batch_tokens must be >= 0"):
        PointwiseConfig(max_batch_tokens=-1).validate()
