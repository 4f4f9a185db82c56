"""The sft training recipe: a causal LM learns the answer after a prompt (completion-only loss)."""

from __future__ import annotations

from loralab.methods.configs import TrainConfig
from loralab.tasks.lm.training import completion_task, split_train_held
from loralab.tasks.training_task import TrainingTask


def training_task(cfg: TrainConfig, tokenizer) -> TrainingTask:
    from loralab.tasks.sft.data import InstructionFormat, load_instructions

    fmt = InstructionFormat(style="chat" if tokenizer.chat_template else "alpaca")
    train, held = split_train_held(load_instructions(cfg.data, "train"), cfg)
    pairs = [(fmt.prompt(tokenizer, e), e.output) for e in train]
    held_pairs = [(fmt.prompt(tokenizer, e), e.output) for e in held]
    return completion_task(pairs, held_pairs, tokenizer, cfg,
                    f"{len(train)} instructions ({fmt.style} format), {len(held)} held-out (completion-only loss)",
                    fmt.save)
