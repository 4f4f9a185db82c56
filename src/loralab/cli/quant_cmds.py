"""`loralab quantize` and `loralab inspect`: thin over loralab.quant."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def quantize(
    model: str = typer.Argument(..., help="alias, model folder, LoRA/QLoRA run folder (merged first) or hub id"),
    method: str = typer.Option(..., help="fp16 | bf16 | int8-dynamic | int8-static | int8-weight-only | "
                               "int4-weight-only[:group_size=N] | nf4[:double_quant=false] | gptq | awq"),
    out: Path = typer.Option(..., help="folder to write (safetensors + loralab_quant.json)"),
    merge_base: str = typer.Option("dequantized", help="QLoRA runs: merge into the dequantized 4-bit base "
                                   "(what the adapter trained on) or the original fp32 weights"),
    max_length: int = typer.Option(256, help="calibration inputs: max tokens (int8-static, gptq, awq)"),
) -> None:
    """Quantize a model (post-training) and save it; `--model OUT` then works in rerank, compare and serve."""
    from loralab.models.memory import parameter_bytes
    from loralab.artifacts.quantized import save_quantized
    from loralab.artifacts.merge import float_model
    from loralab.quant.prepare import quantize_for_inference

    loaded = float_model(model, merge_base)
    before = parameter_bytes(loaded.model)["total"]
    loaded.model = quantize_for_inference(loaded.model, loaded.tokenizer, method, max_length,
                                          pairs=loaded.architecture == "sequence-classifier")
    after = parameter_bytes(loaded.model)
    folder = save_quantized(loaded, out)
    ratio = f" (quantized layers {after['quantized_linear'] / after['quantized_linear_fp32_equiv']:.3f}x fp32)" if (
        after["quantized_linear_fp32_equiv"]) else ""
    console.print(f"{model} -> {folder}: {before / 1e6:.1f} MB -> {after['total'] / 1e6:.1f} MB in memory{ratio}")


def inspect(
    model: str = typer.Argument(..., help="alias, model folder, run folder, quantized folder or hub id"),
    quant: str = typer.Option(None, "--quant", help="analyse a quantized copy (e.g. nf4, int8-dynamic) with per-layer errors"),
    top: int = typer.Option(5, help="worst layers to list"),
    json_out: bool = typer.Option(False, "--json", help="print the analysis as JSON"),
) -> None:
    """Parameters by layer type, bytes on disk and in memory, bits/param, 32/16/8/4-bit footprints, per-layer error."""
    from loralab.artifacts.inspect import inspect_model

    report = inspect_model(model, quant, top)
    if json_out:
        print(json.dumps(report, indent=2))
        return
    _print_report(model, report)


def _print_report(model: str, report: dict) -> None:
    quant = report["quantization"]
    console.print(f"[bold]{model}[/bold]" + (f" quantized as {quant['kind']}" if quant else " (float)"))
    table = Table("layer type", "parameters", title="parameters by layer type")
    for name, count in report["params_by_type"].items():
        table.add_row(name, f"{count:,}")
    table.add_row("[bold]total[/bold]", f"{report['num_params']:,}")
    console.print(table)
    disk = report["bytes_on_disk"]
    console.print(f"in memory {_mb(report['bytes_in_memory'])}, on disk {_mb(disk) if disk else 'n/a'}, "
                  f"{report['bits_per_param']:.3f} bits/param overall")
    if "quantized_linear_bits_per_param" in report:
        console.print(f"quantized linear layers: {_mb(report['quantized_linear_bytes'])} vs "
                      f"{_mb(report['quantized_linear_fp32_bytes'])} at fp32 = {report['quantized_linear_ratio_vs_fp32']:.3f}x, "
                      f"{report['quantized_linear_bits_per_param']:.3f} bits/param "
                      f"(NF4 + double quant by the QLoRA paper's accounting: {report['nf4_dq_bits_qlora_paper']:.3f})")
    feet = Table("precision", "weights", title="footprint at each precision")
    for name, nbytes in report["footprint_bytes"].items():
        feet.add_row(name, _mb(nbytes))
    console.print(feet)
    if report.get("worst_layers"):
        worst = Table("layer", "shape", "||W - W_hat|| / ||W||",
                      title=f"worst layers (mean over {report['num_layers_compared']}: {report['mean_rel_error']:.4f})")
        for row in report["worst_layers"]:
            worst.add_row(row["layer"], "x".join(map(str, row["shape"])), f"{row['rel_error']:.4f}")
        console.print(worst)


def _mb(nbytes: int) -> str:
    return f"{nbytes / 2**30:.2f} GiB" if nbytes >= 2**30 else f"{nbytes / 1e6:.2f} MB"


def register(app: typer.Typer) -> None:
    app.command()(quantize)
    app.command()(inspect)
