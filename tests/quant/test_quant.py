"""Post-training quantization on the tiny cross-encoder: every CPU method, save/load, inspect, refusals."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch

from loralab.data.schemas import Document
from loralab.errors import ConfigError, QuantizationError
from loralab.models.memory import parameter_bytes
from loralab.quant import Awq, Gptq, Int4WeightOnly, Nf4, parse_quant, quantize
from loralab.artifacts.inspect import inspect_model
from loralab.artifacts.quantized import load_quantized, save_quantized
from loralab.artifacts.load import load as load_model
from loralab.quant.prepare import quantize_for_inference

KEEP_FFN_OUT = r"int8-dynamic:keep_float=layer\.\d+\.output\.dense$"
SMOOTHED = "int8-dynamic:per_channel=true,smooth=0.8,calibration_samples=16"
CPU_METHODS = ["fp16", "bf16", "int8-dynamic", "int8-dynamic:per_channel=false", KEEP_FFN_OUT, SMOOTHED, "int8-dynamic:engine=torchao", "int8-static:calibration_samples=16", "int8-weight-only",
               "int4-weight-only:group_size=32", "nf4", "nf4:double_quant=false"]
SAVEABLE = CPU_METHODS  # every CPU method round-trips through safetensors


def _logits(model, tokenizer) -> torch.Tensor:
    batch = tokenizer(["flea life cycle"] * 3, ["fleas have four stages", "concrete costs", "cats sleep"],
                      padding=True, return_tensors="pt")
    with torch.no_grad():
        return model(**batch).logits[:, 0].float()


@pytest.fixture(scope="module")
def reference(tiny_cross_encoder):
    loaded = load_model(str(tiny_cross_encoder))
    return loaded, _logits(loaded.model, loaded.tokenizer)


@pytest.mark.parametrize("spec", CPU_METHODS)
def test_each_cpu_method_quantizes_and_stays_close(tiny_cross_encoder, reference, spec):
    float_logits = reference[1]
    loaded = load_model(str(tiny_cross_encoder))
    fp32_bytes = parameter_bytes(loaded.model)["total"]
    model = quantize_for_inference(loaded.model, loaded.tokenizer, spec, max_length=32)
    logits = _logits(model, loaded.tokenizer)
    assert torch.isfinite(logits).all()
    # a random tiny model has logits near 0: compare the error with their spread, not with their size
    tolerance = {"int4-weight-only": 0.35, "nf4": 0.35}.get(spec.split(":")[0], 0.15)
    assert (logits - float_logits).abs().max() <= tolerance * float_logits.abs().max() + 1e-3, spec
    assert parameter_bytes(model)["total"] < fp32_bytes, spec
    assert model.loralab_quant == parse_quant(spec)


def test_nf4_stores_its_linear_weights_in_about_4_bits():
    from transformers import BertConfig, BertForSequenceClassification

    def model():  # layers wide enough that per-layer constants (bnb's 256-entry code book) do not dominate
        torch.manual_seed(0)
        return BertForSequenceClassification(BertConfig(
            vocab_size=100, hidden_size=256, num_hidden_layers=1, num_attention_heads=4, intermediate_size=512,
            num_labels=1))

    stored = {}
    for double_quant, ceiling in ((True, 0.16), (False, 0.17)):
        stored[double_quant] = parameter_bytes(quantize(model(), Nf4(double_quant=double_quant)))
        ratio = stored[double_quant]["quantized_linear"] / stored[double_quant]["quantized_linear_fp32_equiv"]
        assert 0.125 < ratio <= ceiling, (double_quant, ratio)
    assert stored[True]["quantized_linear"] < stored[False]["quantized_linear"]  # double quant shrinks the scales


@pytest.mark.parametrize("spec", SAVEABLE)
def test_save_and_load_restore_the_same_quantized_model(tmp_path, tiny_cross_encoder, spec):
    loaded = load_model(str(tiny_cross_encoder))
    loaded.model = quantize_for_inference(loaded.model, loaded.tokenizer, spec, max_length=32)
    before = _logits(loaded.model, loaded.tokenizer)
    folder = save_quantized(loaded, tmp_path / "q")
    assert (folder / "model.safetensors").is_file() and not list(folder.glob("*.bin")) and not list(folder.glob("*.pt"))
    assert json.loads((folder / "loralab_quant.json").read_text())["quantization"]["kind"] == parse_quant(spec).kind
    restored = load_quantized(folder)
    assert restored.model.loralab_quant == parse_quant(spec)
    after = _logits(restored.model, restored.tokenizer)
    # 1e-4: a reloaded layer may sum in another order (1.2e-5 measured on an AVX2-only CPU); a wrong scale or
    # a layer restored unquantized moves these logits by 1e-3 or more
    assert torch.allclose(after, before, atol=1e-4), (spec, (after - before).abs().max().item())


def test_int8_dynamic_keep_float_leaves_only_the_matching_layers_in_fp32(tiny_cross_encoder):
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear

    loaded = load_model(str(tiny_cross_encoder))
    model = quantize(loaded.model, KEEP_FFN_OUT)  # the head and pooler are never quantized
    kinds = {name: type(m) for name, m in model.named_modules() if isinstance(m, (torch.nn.Linear, DynamicLinear))}
    float_layers = sorted(n for n, k in kinds.items() if k is torch.nn.Linear and "classifier" not in n and "pooler" not in n)
    assert float_layers == ["bert.encoder.layer.0.output.dense", "bert.encoder.layer.1.output.dense"]
    assert kinds["bert.encoder.layer.0.attention.output.dense"] is DynamicLinear


def test_gptq_and_awq_say_they_need_cuda_on_cpu(tiny_cross_encoder):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    model = load_model(str(tiny_cross_encoder)).model
    for config in (Gptq(), Awq()):
        with pytest.raises(QuantizationError, match="CUDA GPU"):
            quantize(model, config, calibration=[])


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("spec", ["gptq:group_size=32", "awq:group_size=32"])
def test_gptq_and_awq_quantize_on_cuda(tiny_cross_encoder, reference, spec):
    loaded = load_model(str(tiny_cross_encoder))
    model = quantize_for_inference(loaded.model, loaded.tokenizer, spec, max_length=32)
    batch = loaded.tokenizer(["flea"], ["fleas have four stages"], return_tensors="pt").to("cuda")
    with torch.no_grad():
        assert torch.isfinite(model(**batch).logits).all()


@pytest.mark.parametrize("spec, message", [
    ("int3", "unknown quantization 'int3'"),
    ("nf4:blocks=3", "has no option blocks"),
    ("int4-weight-only:group_size=x", "is not a int"),
    ("nf4:double_quant", "must look like key=value"),
    ("int8-dynamic:smooth=1.5", r"smooth is SmoothQuant's alpha in \(0, 1\]"),
    ("int8-dynamic:engine=torchao,smooth=0.8", "smooth applies to engine=torch.ao"),
    ("int8-dynamic:smooth=0.8,calibration_samples=0", "calibration_samples must be >= 1"),
])
def test_bad_specs_name_the_problem(spec, message):
    with pytest.raises(ConfigError, match=message):
        parse_quant(spec)


def test_group_size_that_does_not_divide_a_layer_is_refused(tiny_cross_encoder):
    model = load_model(str(tiny_cross_encoder)).model
    with pytest.raises(QuantizationError, match="does not divide in_features 32"):
        quantize(model, Int4WeightOnly(group_size=64))


def test_inspect_reports_footprints_and_worst_layers(tiny_cross_encoder):
    plain = inspect_model(str(tiny_cross_encoder))
    n = plain["num_params"]
    assert plain["footprint_bytes"]["32-bit"] == 4 * n and plain["footprint_bytes"]["4-bit"] == n // 2
    assert plain["bits_per_param"] == pytest.approx(32, rel=0.01) and plain["quantization"] is None
    assert plain["bytes_on_disk"] > 0 and "Linear" in plain["params_by_type"]
    nf4 = inspect_model(str(tiny_cross_encoder), "nf4", top=3)
    assert nf4["quantization"]["kind"] == "nf4" and len(nf4["worst_layers"]) == 3
    errors = [row["rel_error"] for row in nf4["worst_layers"]]
    # 0.09 is NF4's error on a Gaussian weight; these 32-wide rows hit bnb's CPU dequantization error (~0.3)
    assert errors == sorted(errors, reverse=True) and 0.05 < errors[-1] <= errors[0] < 0.5
    assert 4 < nf4["quantized_linear_bits_per_param"] < 16  # tiny layers: the per-layer code book weighs in


def test_cli_quantize_then_rerank_and_inspect_the_folder(tmp_path, tiny_cross_encoder, beir_folder):
    from loralab.rankers.registry import build_ranker, ranker_config

    out = tmp_path / "int8"
    cli = [sys.executable, "-m", "loralab.cli.main"]
    done = subprocess.run([*cli, "quantize", str(tiny_cross_encoder), "--method", "int8-dynamic", "--out", str(out)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    docs = [Document("a", "fleas have four stages"), Document("b", "cats sleep")]
    saved = build_ranker(ranker_config("cross-encoder", model=str(out))).score("flea", docs)
    in_memory = build_ranker(ranker_config("cross-encoder", model=str(tiny_cross_encoder), quantize="int8-dynamic"))
    assert saved == pytest.approx(in_memory.score("flea", docs), abs=1e-4)
    from loralab.serve.served_models import ServeModels

    served = ServeModels.load(str(out), max_length=64)  # `loralab serve --model OUT` serves the quantized model
    assert served.ranker.score("flea", docs) == pytest.approx(saved, abs=1e-6)
    report = subprocess.run([*cli, "inspect", str(out), "--json"], capture_output=True, text=True)
    assert report.returncode == 0, report.stderr
    data = json.loads(report.stdout)
    assert data["quantization"]["kind"] == "int8-dynamic" and data["worst_layers"][0]["rel_error"] < 0.05
    bad = subprocess.run([*cli, "quantize", str(tiny_cross_encoder), "--method", "int9", "--out", str(tmp_path / "x")],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown quantization 'int9'" in bad.stderr and not (tmp_path / "x").exists()


def test_compare_writes_the_quantization_ablation(tmp_path, tiny_cross_encoder, beir_folder):
    from loralab.compare.engine import run_compare
    from loralab.compare.config import load_compare_config
    from loralab.compare.report import write_report

    path = tmp_path / "cmp.yaml"
    path.write_text(
        f"dataset: {beir_folder}\nmethods:\n"
        f"  - {{name: fp32, ranker: cross-encoder, model: {tiny_cross_encoder}}}\n"
        f"  - {{name: int8, ranker: cross-encoder, model: {tiny_cross_encoder}, quantize: int8-dynamic}}\n"
        f"  - {{name: nf4, ranker: cross-encoder, model: {tiny_cross_encoder}, quantize: nf4}}\n"
    )
    cfg = load_compare_config(path)
    rows = run_compare(cfg, tmp_path / "out", isolate=False)
    assert rows[1]["quantization"] == "int8-dynamic" and rows[2]["size_mb"] < rows[0]["size_mb"]
    paths = write_report(cfg, rows, tmp_path / "out")
    table = paths["quantization ablation"].read_text()
    assert "| int8 | int8-dynamic |" in table and "| nf4 | nf4 |" in table and "fp32 (baseline)" in table
    assert paths["quantization ablation chart"].stat().st_size > 1000


def test_adapter_trained_on_4bit_merges_into_the_dequantized_base(tmp_path, tiny_bert):
    from loralab.methods.configs import method_config, train_config
    from loralab.training.trainer import train
    from loralab.artifacts.merge import merged

    rows = [{"query": f"question {i} about {t}", "positive": f"all about {t}", "negatives": [f"other {i} {j}" for j in range(3)]}
            for i, t in enumerate(["fleas", "cats", "tea", "rain"] * 4)]
    data = tmp_path / "groups.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    cfg = train_config(model=str(tiny_bert), data=str(data), max_steps=4, batch_size=4, eval_steps=4, save_steps=4,
                       max_length=32, num_negatives=3, learning_rate=5e-3, eval_fraction=0.25)
    run = train(method_config("qlora", r=4, alpha=8), cfg, tmp_path / "qlora").run_dir
    loaded = load_model(str(run))  # the adapter on its NF4 base
    tokenizer, as_trained = loaded.tokenizer, loaded.model
    reference = _logits(as_trained, tokenizer)
    dequantized = _logits(merged(str(run), "dequantized").model, tokenizer)
    original = _logits(merged(str(run), "original").model, tokenizer)
    # the 4-bit forward computes in bf16: a small residual remains, much smaller than the quantization error
    assert (dequantized - reference).abs().max() < 0.5 * (original - reference).abs().max()
    requantized = quantize_for_inference(merged(str(run)).model, tokenizer, "nf4")
    assert torch.isfinite(_logits(requantized, tokenizer)).all()
    with pytest.raises(QuantizationError, match="unmerged on a 4-bit base"):
        quantize_for_inference(as_trained, tokenizer, "int8-dynamic")


def test_torchao_int8_dynamic_is_compiled_and_says_when_it_cannot_be(tiny_cross_encoder, monkeypatch):
    loaded = load_model(str(tiny_cross_encoder))
    model = quantize_for_inference(loaded.model, loaded.tokenizer, "int8-dynamic:engine=torchao", max_length=32)
    assert model._compiled_call_impl is not None  # eager, torchao's int8-dynamic is slower than fp32
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("CXX", raising=False)
    with pytest.raises(QuantizationError, match="C\\+\\+ compiler"):
        quantize_for_inference(load_model(str(tiny_cross_encoder)).model, loaded.tokenizer, "int8-dynamic:engine=torchao")
    with pytest.raises(ConfigError, match="engine"):
        parse_quant("int8-dynamic:engine=onnx")


def test_smoothing_is_an_identity_in_float_and_shrinks_the_int8_error_an_outlier_channel_causes(tiny_cross_encoder):
    from loralab.quant.calibration import calibration_batches
    from loralab.quant.linears import quantizable_linears
    from loralab.quant.smoothing import SmoothedInput, smooth_linears

    def with_outlier():  # one hidden channel 30x larger, as BERT's LayerNorm outputs have: it sets the batch's scale
        loaded = load_model(str(tiny_cross_encoder))
        with torch.no_grad():
            for module in loaded.model.modules():
                if isinstance(module, torch.nn.LayerNorm):
                    module.weight[3] *= 30
        return loaded

    loaded = with_outlier()
    float_logits = _logits(loaded.model, loaded.tokenizer)
    names = [name for name, _ in quantizable_linears(loaded.model)]
    inner = smooth_linears(loaded.model, names, 0.8, calibration_batches(loaded.tokenizer, n=8, max_length=32))
    assert inner == [f"{n}.linear" for n in names]
    assert all(isinstance(loaded.model.get_submodule(n), SmoothedInput) for n in names)
    assert torch.allclose(_logits(loaded.model, loaded.tokenizer), float_logits, atol=1e-4)

    errors = {}
    for spec in ("int8-dynamic:per_channel=true", "int8-dynamic:per_channel=true,smooth=0.8,calibration_samples=8"):
        loaded = with_outlier()
        model = quantize_for_inference(loaded.model, loaded.tokenizer, spec, max_length=32)
        errors[spec] = (_logits(model, loaded.tokenizer) - float_logits).abs().max().item()
    plain, smoothed = errors.values()
    assert smoothed < 0.5 * plain, errors  # measured here: 2.1e-7 vs 8.1e-7 (tiny logits)


def test_smoothing_without_calibration_inputs_is_refused_not_skipped(tiny_cross_encoder):
    model = load_model(str(tiny_cross_encoder)).model
    with pytest.raises(QuantizationError, match="smooth needs calibration inputs"):
        quantize(model, "int8-dynamic:smooth=0.8")
