"""`loralab train` and `loralab merge`."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

console = Console()


def train(
    task: str = typer.Option("rerank", help="rerank | classify | preference | regress | sft"),
    method: str = typer.Option("lora", help="full | lora | qlora"),
    model: str = typer.Option("minilm", help="backbone: alias, folder, GGUF or hub id"),
    data: str = typer.Option("scifact-train", help="scifact-train, a groups JSONL, a BEIR folder; sst2/imdb for classify; "
                             "hh-rlhf-pairs, a pairs JSONL or an arena CSV for preference"),
    out: Path = typer.Option(..., help="run folder (adapter/ or model/, metrics.json, curves.jsonl, checkpoints/)"),
    resume: bool = typer.Option(False, help="continue from the last complete checkpoint in OUT"),
    epochs: float = typer.Option(1.0),
    max_steps: int = typer.Option(-1, help="stop after N optimizer steps (overrides epochs)"),
    batch_size: int = typer.Option(8, help="groups (rerank) or examples (classify) per step, over all processes "
                                    "(under accelerate launch each of N takes 1/N)"),
    grad_accum: int = typer.Option(1),
    lr: float = typer.Option(None, help="default: 2e-4 for LoRA/QLoRA, 3e-5 for full"),
    head_lr: float = typer.Option(None, help="separate learning rate for the task head"),
    max_length: int = typer.Option(256),
    loss: str = typer.Option(None, help="rerank loss: listwise (default) | margin-mse (needs teacher scores) | bce"),
    num_negatives: int = typer.Option(None, help="rerank: negatives per group (default 7)"),
    negative_pool: int = typer.Option(None, help="rerank, BEIR data: sample negatives from BM25's top N (default: the hardest)"),
    teacher: str = typer.Option(None, help="rerank: distill this bi-encoder's ranking of each group (e.g. minilm)"),
    distill_weight: float = typer.Option(None, help="rerank: weight of the teacher's KL term (default 1.0)"),
    teacher_scale: float = typer.Option(None, help="rerank, listwise: teacher scores x this are the KL target logits "
                                        "(default 20, for cosines)"),
    teacher_bm25_weight: float = typer.Option(
        None, help="rerank, BEIR data: fuse the teacher's scores with BM25's (weighted min-max per group, 0-1)"),
    ranker: str = typer.Option(None, help="rerank: what to train: cross-encoder (default; a joint pass per pair, a "
                               "new score head) | bi-encoder (query and document embedded apart; starts where the "
                               "backbone's embeddings are; score it with --ranker bi-encoder)"),
    r: int = typer.Option(16, help="LoRA rank"),
    alpha: int = typer.Option(32, help="LoRA alpha"),
    quant_type: str = typer.Option("nf4", help="QLoRA base: nf4 | fp4"),
    double_quant: bool = typer.Option(True, help="QLoRA: quantize the quantization scales too"),
    eval_steps: int = typer.Option(50),
    save_steps: int = typer.Option(50),
    max_train_examples: int = typer.Option(None),
    max_eval_examples: int = typer.Option(200),
    warmup_ratio: float = typer.Option(0.1),
    gradient_checkpointing: bool = typer.Option(False),
    forward_batch: int = typer.Option(
        None, min=1, help="examples per forward pass; gradient accumulation makes up --batch-size (same gradient, "
        "less memory; default: rerank, the groups that fit 2048 padded tokens; other tasks, the whole batch)"),
    pad_to_multiple_of: int = typer.Option(
        None, min=1, help="pad batches to a multiple of N tokens: fewer shapes, less kernel-cache memory (default 32)"),
    precision: str = typer.Option("fp32", help="fp32 | bf16 (mixed, autocast; refused on CPUs without bf16 units) | auto (bf16 where it is fast, else fp32) | fp16 (GPU only)"),
    report_to: list[str] = typer.Option([], help="tensorboard | mlflow | wandb (off by default)"),
    qat: str = typer.Option(None, help="quantization-aware training for this post-training quantization (full method "
                            "only): int4-weight-only[:group_size=G] | int8-dynamic[:per_channel=true]; "
                            "the run saves float weights, quantize them with the same spec"),
    seed: int = typer.Option(42),
) -> None:
    """Fine-tune a backbone with full, LoRA or QLoRA for re-ranking or classification.

    On several processes or machines: `accelerate launch [--config_file ...] -m loralab train ...`.
    """
    from loralab.methods.configs import method_config, train_config
    from loralab.training.trainer import train as run_training

    options = {} if method == "full" else {"r": r, "alpha": alpha}
    if method == "qlora":
        options |= {"quant_type": quant_type, "double_quant": double_quant}
    method_cfg = method_config(method, **options)
    cfg = train_config(
        task=task, data=data, model=model, max_length=max_length, epochs=epochs, max_steps=max_steps,
        batch_size=batch_size, grad_accum=grad_accum, learning_rate=lr or (3e-5 if method == "full" else 2e-4),
        head_learning_rate=head_lr, loss=loss, num_negatives=num_negatives, negative_pool=negative_pool, teacher=teacher,
        distill_weight=distill_weight, teacher_scale=teacher_scale, teacher_bm25_weight=teacher_bm25_weight,
        ranker=ranker, eval_steps=eval_steps, save_steps=save_steps, max_train_examples=max_train_examples,
        max_eval_examples=max_eval_examples,
        warmup_ratio=warmup_ratio, gradient_checkpointing=gradient_checkpointing, precision=precision,
        pad_to_multiple_of=pad_to_multiple_of, forward_batch=forward_batch,
        report_to=list(report_to), seed=seed, qat=qat,
    )
    result = run_training(method_cfg, cfg, out, resume=resume)
    if not result.main_process:
        return
    from loralab.compare.charts import training_curves

    training_curves([{"method": f"{task} {method}", "curves": out / "curves.jsonl"}], out / "curves.png")
    m = result.metrics
    console.print(
        f"done in {m['train_seconds']:.0f} s, {m['global_step']} steps; eval {m['eval']}; "
        f"{m['artifact']}/ is {m['artifact_bytes'] / 1e6:.2f} MB; run folder {out}"
    )


def merge(
    run: Path = typer.Argument(..., help="run folder with adapter/, or an adapter folder"),
    out: Path = typer.Option(..., help="merged model folder to write"),
) -> None:
    """Merge a LoRA/QLoRA adapter into a full-precision copy of its base."""
    from loralab.artifacts.merge import merge_run

    console.print(f"merged model written to {merge_run(run, out)}")


def register(app: typer.Typer) -> None:
    app.command()(train)
    app.command()(merge)
