"""What `loralab study run` shows while it works: the whole study (steps done, elapsed, ETA) and the step in
progress (its unit of work done out of its total, elapsed, ETA).

The step's numbers come from the file its process writes through `loralab.progress`; its ETA is its measured
rate since the display first saw it (so a training resumed at step 50 is not credited with steps 1-50). The
study's ETA is the current step's plus, for each step still to run, the mean duration of finished steps of the
same kind (train / evaluate), read from their step.json, this sitting's or an earlier one's. When a kind has no
finished step yet the ETA is a lower bound, shown with a "+"."""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from loralab.progress import read
from loralab.study.steps import Step


class StudyDisplay:
    def __init__(self, steps: list[Step], console: Console):
        self.steps = steps
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[counts]}"),
                                 TimeElapsedColumn(), TextColumn("ETA {task.fields[eta]}"), console=console)
        self.pending = [s for s in steps if not s.done]  # a failed step runs again, so it is pending too
        done = len(steps) - len(self.pending)
        self.whole = self.progress.add_task("study", total=len(steps), completed=done,
                                            counts=f"{done}/{len(steps)} steps", eta="?")
        self.step_task = None
        self.current: Step | None = None
        self.started = 0.0
        self.first_seen: tuple[float, int] | None = None
        self.step_eta: float | None = None
        self.mean_seconds = self._mean_seconds_by_kind()

    def __enter__(self) -> StudyDisplay:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.progress.__exit__(*exc)

    def start(self, step: Step) -> None:
        self.current, self.started, self.first_seen, self.step_eta = step, time.time(), None, None
        self.step_task = self.progress.add_task(f"  {step.kind} {step.name}", total=None, counts="", eta="?")
        self._update_whole()

    def poll(self, progress_file: Path) -> None:
        """Read the step's progress file and refresh both lines."""
        info = read(progress_file)
        if info and info.get("total"):
            done, total = int(info["done"]), int(info["total"])
            if self.first_seen is None or done < self.first_seen[1]:
                self.first_seen = (float(info["time"]), done)
            seen_at, seen_done = self.first_seen
            rate = (done - seen_done) / max(float(info["time"]) - seen_at, 1e-9)
            self.step_eta = (total - done) / rate if rate > 0 else None
            self.progress.update(self.step_task, total=total, completed=done, counts=f"{done}/{total} {info['unit']}s",
                                 eta=_clock(self.step_eta))
        self._update_whole()

    def finish(self, step: Step) -> None:
        if self.step_task is not None:
            self.progress.remove_task(self.step_task)
        self.step_task, self.current = None, None
        self.pending = [s for s in self.pending if s is not step]
        self.mean_seconds = self._mean_seconds_by_kind()
        done = len(self.steps) - len(self.pending)
        self.progress.update(self.whole, completed=done, counts=f"{done}/{len(self.steps)} steps")
        self._update_whole()

    def _update_whole(self) -> None:
        seconds, known = self.remaining()
        self.progress.update(self.whole, eta=_clock(seconds) + ("" if known else "+"))

    def _mean_seconds_by_kind(self) -> dict[str, float]:
        """Mean duration of the finished steps of each kind, from their step.json (read when a step finishes, not
        on every poll)."""
        finished: dict[str, list[float]] = {}
        for step in self.steps:
            state = step.state()
            if state.get("status") == "done" and "seconds" in state:
                finished.setdefault(step.kind, []).append(float(state["seconds"]))
        return {kind: sum(v) / len(v) for kind, v in finished.items()}

    def remaining(self) -> tuple[float, bool]:
        """(estimated seconds left for the whole study, whether every remaining step had an estimate)."""
        mean = self.mean_seconds
        total, known = 0.0, True
        for step in self.pending:
            if step is self.current:
                elapsed = time.time() - self.started
                guess = self.step_eta if self.step_eta is not None else (
                    max(mean[step.kind] - elapsed, 0.0) if step.kind in mean else None)
            else:
                guess = mean.get(step.kind)
            if guess is None:
                known = False
            else:
                total += guess
        return total, known


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
