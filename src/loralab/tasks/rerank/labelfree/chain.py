"""Run the label-free chain's steps in order; each finished step is cached in `<out>/<step>/` and skipped."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable
from typing import Any

import yaml

from loralab.artifacts.atomic import atomic_write_text
from loralab.errors import ConfigError
from loralab.tasks.rerank.labelfree.config import STEPS, ChainConfig
from loralab.tasks.rerank.labelfree.steps import StepFolder


def step_folder(config: ChainConfig, step: str) -> StepFolder:
    return StepFolder(config.folder, step, config.step_key(step), config.sample_size)


_RUNNERS = {"generate": ("generate", "generate_queries"), "mine": ("mine", "mine_candidates"),
            "score": ("teacher", "score_candidates"), "groups": ("groups", "make_groups")}


def _runner(step: str) -> Callable:
    """Imported when the step runs: generating needs no retriever, mining no LLM."""
    module, function = _RUNNERS[step]
    return getattr(importlib.import_module(f"loralab.tasks.rerank.labelfree.{module}"), function)


def run_chain(config: ChainConfig, until: str | None = None,
              on_step: Callable[[str, str, dict], None] | None = None) -> dict[str, dict[str, Any]]:
    """Steps up to and including `until` (all by default): {step: summary}. A step reads the previous step's
    output from its folder, so `until` = an earlier step and a later re-run continue where it stopped."""
    if until is not None and until not in STEPS:
        raise ConfigError(f"unknown chain step '{until}'; steps: {', '.join(STEPS)}")
    from loralab.tasks.rerank.labelfree.corpus import usable_corpus

    config.folder.mkdir(parents=True, exist_ok=True)
    atomic_write_text(config.folder / "chain.yaml", yaml.safe_dump(config.to_dict(), sort_keys=False))
    corpus, summaries = None, {}
    for step in STEPS[: STEPS.index(until or STEPS[-1]) + 1]:
        folder = step_folder(config, step)
        if folder.done():
            summaries[step] = json.loads(folder.record.read_text())
            if on_step:
                on_step(step, "cached", summaries[step])
            continue
        if on_step:
            on_step(step, "running", {})
        corpus = corpus if corpus is not None else usable_corpus(config)
        summaries[step] = _runner(step)(config, corpus, folder)
        if on_step:
            on_step(step, "done", summaries[step])
    return summaries
