"""Prompt-based LLM re-ranking (no training): pointwise yes/no, listwise RankGPT, generative 0-1 rating.

Backends: a local causal LM (`backend: local`) or any OpenAI-compatible server (`backend: openai`).
Prompt templates are YAML files in loralab/prompts/ (or any path), chosen with the `template` option.
"""

from loralab.rankers.prompt.configs import ListwiseConfig, PointwiseConfig, PromptOptions, RatingConfig
from loralab.rankers.prompt.parsing import extract_rating, parse_permutation
from loralab.rankers.prompt.rankers import ListwiseRanker, PointwiseRanker, RatingRanker, sliding_windows

__all__ = [
    "ListwiseConfig", "ListwiseRanker", "PointwiseConfig", "PointwiseRanker", "PromptOptions", "RatingConfig",
    "RatingRanker", "extract_rating", "parse_permutation", "sliding_windows",
]
