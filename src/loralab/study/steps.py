"""A study expands into steps (train, then evaluate each candidate and its quantized variants), each a folder
named by a hash of its config and inputs. A step is done when its `step.json` says so (written atomically last),
so a study killed at any point resumes where it was and loses at most the step in progress.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loralab.artifacts.atomic import atomic_write_json
from loralab.artifacts.run_folder import slugify
from loralab.study.spec import TRAINED, Candidate, StudySpec

MARKER = "step.json"


@dataclass
class Step:
    kind: str  # "train" or "evaluate"
    name: str  # the candidate's (or the row's) display name
    config: dict[str, Any]
    root: Path
    after: list[Step] = field(default_factory=list)  # steps whose outputs this one reads

    @property
    def key(self) -> str:
        upstream = [s.key for s in self.after]
        text = json.dumps({"kind": self.kind, "config": self.config, "after": upstream}, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    @property
    def folder(self) -> Path:
        return self.root / "steps" / f"{self.kind}-{slugify(self.name)}-{self.key}"

    def state(self) -> dict[str, Any]:
        path = self.folder / MARKER
        return json.loads(path.read_text()) if path.is_file() else {}

    @property
    def done(self) -> bool:
        return self.state().get("status") == "done"

    def finish(self, status: str, started: float, **extra: Any) -> None:
        atomic_write_json(self.folder / MARKER, {"status": status, "kind": self.kind, "name": self.name,
                                                 "seconds": time.perf_counter() - started, **extra})


def expand(spec: StudySpec, root: Path) -> list[Step]:
    """Every step of the study, in the order they run (each training before its evaluations)."""
    steps: list[Step] = []
    for candidate in spec.candidates:
        if candidate.method in TRAINED:
            train = Step("train", candidate.name, _train_config(spec, candidate), root)
            steps.append(train)
            for variant in [None, *spec.variants(candidate)]:
                steps.append(_evaluation(spec, candidate, root, variant, train))
        else:
            steps.append(_evaluation(spec, candidate, root, None, None))
    return steps


def _train_config(spec: StudySpec, candidate: Candidate) -> dict[str, Any]:
    return {
        "method": candidate.method, "method_options": candidate.lora, "task": spec.task,
        "model": candidate.model or spec.backbone, "data": spec.data.train, **spec.train_options(candidate),
    }


def _evaluation(spec: StudySpec, candidate: Candidate, root: Path, variant: str | None, train: Step | None) -> Step:
    options = dict(candidate.options)
    if train is not None:
        options["model"] = "<trained>"  # the runner puts the training step's run here; the hash follows that step
    elif candidate.model:
        options["model"] = candidate.model
    if variant:
        options["quantize"] = variant
    trained_as = spec.train_options(candidate).get("ranker", "cross-encoder")  # `train: {ranker: bi-encoder}`
    ranker = candidate.ranker or (trained_as if train is not None and spec.task == "rerank" else None)
    name = candidate.name + (f" + {variant}" if variant else "")
    config = {"name": name, "candidate": candidate.name, "method": candidate.method, "ranker": ranker,
              "options": options, "dataset": spec.data.test, "limit_queries": spec.limit_queries,
              "limit_candidates": spec.limit_candidates, "price_per_hour": spec.price_per_hour,
              "quantization": variant}
    return Step("evaluate", name, config, root, [train] if train is not None else [])
