"""Errors a user can act on: each says what went wrong, where, and how to fix it.

The CLI prints them as one red line with exit code 2; the server maps them to {error, error_type}.
"""


class LoralabError(Exception):
    """Base class for every error loralab raises on purpose."""

    http_status = 400


class DataError(LoralabError):
    """A data file is missing, malformed, or has rows with wrong fields."""


class UnknownNameError(LoralabError):
    """A dataset, model alias, ranker or method name that is not registered."""

    http_status = 404


class ConfigError(LoralabError):
    """A configuration file or option is invalid."""


class ModelError(LoralabError):
    """A model cannot be found, loaded or converted."""


class UntrainedHeadError(ModelError):
    """A task head (relevance logit, class labels) was initialised at load time: its outputs would be noise."""

    http_status = 422


class MissingDependencyError(LoralabError):
    """An optional package needed for this path is not installed."""


class QuantizationError(LoralabError):
    """A quantization method cannot be applied here (hardware, library, layer shape or a bad option)."""
