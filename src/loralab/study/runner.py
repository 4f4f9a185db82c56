"""`run_study`: run the steps not done yet (training in this process, each evaluation in a fresh one, as
`loralab compare` does), then the statistics, the verdict, the reports and the winner."""

from __future__ import annotations

import json
import multiprocessing
import time
import traceback
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from rich.console import Console

from loralab.artifacts.atomic import atomic_write_json
from loralab.compare.task_tables import task_bench
from loralab.errors import LoralabError
from loralab.progress import ENV as PROGRESS_ENV
from loralab.study.display import StudyDisplay
from loralab.study.spec import StudySpec
from loralab.study.steps import Step, expand
from loralab.tasks.rows import RowRequest

console = Console(stderr=True)


def run_study(spec: StudySpec, out: Path, isolate: bool = True) -> dict[str, Any]:
    """Run (or resume) the study into `out`; returns the results (rows, statistics, verdict)."""
    from loralab.study.report import write_study_report

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_json(out / "study.json", spec.model_dump())
    steps = expand(spec, out)
    todo = [s for s in steps if not s.done]
    console.print(f"[bold]study[/bold]: {len(steps)} steps, {len(steps) - len(todo)} done, {len(todo)} to run")
    with StudyDisplay(steps, console) as display:
        for step in todo:
            display.start(step)
            blocked = [s.name for s in step.after if s.state().get("status") != "done"]
            if blocked:
                step.folder.mkdir(parents=True, exist_ok=True)
                step.finish("failed", time.perf_counter(), reason=f"needs {', '.join(blocked)}, which failed")
            else:
                _run_step(spec, step, isolate, display)
            display.finish(step)
    return write_study_report(spec, steps, out)


def _run_step(spec: StudySpec, step: Step, isolate: bool, display: StudyDisplay) -> None:
    started = time.perf_counter()
    step.folder.mkdir(parents=True, exist_ok=True)
    watch = _Watch(step.folder / "progress.json", display)
    try:
        if step.kind == "train":
            _call(_train, dict(step.config), str(step.folder / "run"), isolate=isolate, watch=watch)
            step.finish("done", started)
        else:
            rows = _evaluate(spec, step, isolate, watch)
            atomic_write_json(step.folder / "rows.json", rows)
            step.finish("done", started, rows=len(rows))
    except (LoralabError, RuntimeError, ValueError, OSError, MemoryError) as exc:
        # A candidate that fails becomes a failed row with the reason: the rest of the study goes on.
        reason = f"{type(exc).__name__}: {exc}"
        (step.folder / "error.txt").write_text(traceback.format_exc())
        console.print(f"[red]{step.kind} {step.name} failed[/red]: {reason}")
        step.finish("failed", started, reason=reason)


def _train(config: dict[str, Any], run: str) -> None:
    from loralab.methods.configs import method_config, train_config
    from loralab.training.trainer import train

    method = method_config(config.pop("method"), **config.pop("method_options"))
    # A killed training resumes from its last complete checkpoint (the folder is only ever this step's).
    train(method, train_config(**config), Path(run), resume=Path(run).exists())


class _Watch:
    """The step's progress file (its process reports into it) and the display that polls it."""

    def __init__(self, path: Path, display: StudyDisplay):
        self.path, self.display = path, display
        path.unlink(missing_ok=True)

    def __call__(self) -> None:
        self.display.poll(self.path)


def _start_worker(progress_file: str) -> None:
    """A worker reports its progress to the step's file, and dies with the study (Linux PR_SET_PDEATHSIG): a
    killed study never leaves a training behind that would race the resumed one for the same folder."""
    import ctypes
    import os
    import signal

    os.environ[PROGRESS_ENV] = progress_file

    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass


def _call(function, *args, isolate: bool = True, watch: _Watch):
    """`function(*args)`, in a fresh process when isolated, so each step's peak memory and timings are its own;
    the display polls the step's progress meanwhile."""
    if not isolate:
        return function(*args)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=_start_worker,
                             initargs=(str(watch.path),)) as pool:
        future = pool.submit(function, *args)
        while True:
            try:
                return future.result(timeout=1.0)
            except TimeoutError:
                watch()


def _evaluate(spec: StudySpec, step: Step, isolate: bool, watch: _Watch) -> list[dict[str, Any]]:
    config = step.config
    options = dict(config["options"])
    if step.after:
        options["model"] = str(step.after[0].folder / "run")
    request = RowRequest(
        name=config["name"], dataset=config["dataset"], runs_root=str(step.folder / "runs"), ranker=config["ranker"],
        options=options, config_limit_queries=config["limit_queries"],
        config_limit_candidates=config["limit_candidates"], price_per_hour=config["price_per_hour"],
    ).to_dict()
    rows = _call(task_bench(spec.task).rows, request, isolate=isolate, watch=watch)
    for row in rows:
        row |= {"candidate": config["candidate"], "method_family": config["method"],
                "study_quantization": config["quantization"]}
    return json.loads(json.dumps(rows, default=str))
