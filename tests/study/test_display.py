"""The study's ETA: the running step's measured rate plus the mean duration of finished steps of each kind."""

import json

from rich.console import Console

from loralab.study.display import StudyDisplay
from loralab.study.steps import MARKER, Step


def _step(root, kind, name, status=None, seconds=None):
    step = Step(kind, name, {"name": name}, root)
    if status:
        step.folder.mkdir(parents=True)
        (step.folder / MARKER).write_text(json.dumps({"status": status, "seconds": seconds}))
    return step


def test_eta_adds_the_running_steps_rate_to_the_mean_of_finished_steps_of_each_kind(tmp_path):
    done = [_step(tmp_path, "evaluate", f"done{i}", "done", s) for i, s in enumerate((8.0, 12.0))]
    failed_before = _step(tmp_path, "evaluate", "failed-last-time", "failed", 1.0)  # runs again: pending
    training = _step(tmp_path, "train", "lora")
    steps = [*done, failed_before, training, _step(tmp_path, "evaluate", "lora-eval")]
    display = StudyDisplay(steps, Console(file=open(tmp_path / "log", "w")))
    assert display.remaining() == (20.0, False)  # two evaluations at 10 s each; the training has no estimate yet
    progress = tmp_path / "progress.json"
    with display:
        display.start(training)
        progress.write_text(json.dumps({"done": 50, "total": 100, "unit": "step", "time": 1000.0}))
        display.poll(progress)  # resumed at step 50: no rate yet
        progress.write_text(json.dumps({"done": 60, "total": 100, "unit": "step", "time": 1010.0}))
        display.poll(progress)
        assert display.step_eta == 40.0  # 1 step/s since first seen, 40 steps left
        assert display.remaining() == (60.0, True)
        task = display.progress.tasks[-1]
        assert task.fields["counts"] == "60/100 steps" and task.fields["eta"] == "0:00:40"
        display.finish(training)
    assert training not in display.pending and len(display.pending) == 2
