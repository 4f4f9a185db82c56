"""The one syntax for free-form options, in every verb: `--option KEY=VALUE` (YAML: `KEY: VALUE`)."""

from __future__ import annotations


def parse_options(pairs: list[str]) -> dict:
    """`KEY=VALUE` strings into ranker options; values are read as YAML scalars (20 -> int, true -> bool)."""
    import yaml

    from loralab.errors import ConfigError

    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--option '{pair}': expected KEY=VALUE, e.g. -o window=20")
        try:
            options[key.strip().replace("-", "_")] = yaml.safe_load(value) if value else None
        except yaml.YAMLError:
            options[key.strip().replace("-", "_")] = value
    return options
