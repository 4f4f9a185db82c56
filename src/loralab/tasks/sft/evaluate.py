"""Evaluate instruction following: exact match of greedy answers against the references, per example."""

from __future__ import annotations

import time

from loralab.eval.metrics import Metrics
from loralab.eval.profile import LatencyProfile, peak_rss_bytes
from loralab.eval.result import EvalResult
from loralab.progress import report
from loralab.tasks.sft.data import BUILTIN, InstructionFormat, generate, load_instructions


def exact_match(model_spec: str, data: str = BUILTIN, split: str = "test", limit: int | None = 100,
                adapter: str | None = None, seed: int = 42, max_new_tokens: int = 24,
                quantize: str | None = None) -> EvalResult:
    """Share of answers equal to the reference (case and surrounding space ignored), on a fixed seeded subset."""
    from loralab.artifacts.load import load
    from loralab.tasks.regress.data import seeded_subset

    loaded = load(adapter or model_spec, head="causal-lm", base=model_spec if adapter else None, quantize=quantize)
    fmt = InstructionFormat.load(loaded.adapter_dir, "chat" if loaded.tokenizer.chat_template else "alpaca")
    examples = seeded_subset(load_instructions(data, split), limit, seed)
    answers, seconds = [], []
    for done, example in enumerate(examples):
        report(done, len(examples), "example")
        start = time.perf_counter()
        answers.append(generate(loaded.model, loaded.tokenizer, fmt.prompt(loaded.tokenizer, example), max_new_tokens))
        seconds.append(time.perf_counter() - start)
    hits = [a.strip().lower() == e.output.strip().lower() for a, e in zip(answers, examples)]
    latency = LatencyProfile.from_latencies(seconds, len(seconds)) if seconds else None
    return EvalResult(
        "sft", Metrics({"exact_match": sum(hits) / max(len(hits), 1)}, "exact_match", True, len(hits)),
        {"model": model_spec, "adapter": adapter, "data": data, "split": split, "limit": limit, "seed": seed,
         "quantize": quantize},
        per_example={"exact_match": {str(i): float(h) for i, h in enumerate(hits)}},
        latency=latency, throughput=latency.queries_per_second if latency else None, throughput_unit="examples/s",
        peak_rss_bytes=peak_rss_bytes(), size_bytes=loaded.size_bytes,
        extra={"format": fmt.style,
               "samples": [{"input": e.input, "reference": e.output, "answer": a} for e, a in zip(examples[:5], answers)]},
        outputs=answers,
    )
