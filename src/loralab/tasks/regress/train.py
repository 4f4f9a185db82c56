"""The regress training recipe: a causal LM learns the price after a prompt (completion-only loss)."""

from __future__ import annotations

from loralab.methods.configs import TrainConfig
from loralab.tasks.lm.training import completion_task, split_train_held
from loralab.tasks.training_task import TrainingTask


def training_task(cfg: TrainConfig, tokenizer) -> TrainingTask:
    from loralab.tasks.regress.data import PriceFormat, load_prices

    fmt = PriceFormat()
    train, held = split_train_held(load_prices(cfg.data, "train"), cfg)
    pairs = [(fmt.prompt(i.text), fmt.answer(i.price)) for i in train]
    held_pairs = [(fmt.prompt(i.text), fmt.answer(i.price)) for i in held]
    return completion_task(pairs, held_pairs, tokenizer, cfg,
                    f"{len(train)} priced items, {len(held)} held-out (completion-only loss on the price)", fmt.save)
