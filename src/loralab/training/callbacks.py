"""Trainer callbacks: training curves as JSONL (one line per log event, resume-safe) and step progress for a
parent process (`loralab.progress`)."""

from __future__ import annotations

import json
from pathlib import Path

from transformers import TrainerCallback

from loralab.progress import report


class CurvesCallback(TrainerCallback):
    """Appends {step, epoch, loss, learning_rate, eval_*} to curves.jsonl.

    On resume, lines past the restored step are dropped first so the curve has no duplicated steps.
    Under `accelerate launch` only the main process writes (the Trainer logs losses averaged over processes).
    """

    def __init__(self, path: Path):
        self.path = Path(path)

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero and self.path.exists():
            kept = [
                line for line in self.path.read_text().splitlines()
                if line.strip() and json.loads(line).get("step", 0) <= state.global_step
            ]
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text("".join(f"{line}\n" for line in kept))
            tmp.replace(self.path)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if not logs or not state.is_world_process_zero:
            return
        row = {"step": state.global_step, "epoch": state.epoch}
        for key, value in logs.items():
            if isinstance(value, (int, float)):
                row["learning_rate" if key == "learning_rate" else key] = value
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row) + "\n")


class ProgressCallback(TrainerCallback):
    """Reports optimizer steps done out of the run's total, so `loralab study run` can show the step's ETA."""

    def on_step_end(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            report(state.global_step, state.max_steps, "step")
