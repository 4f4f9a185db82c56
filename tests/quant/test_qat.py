"""Quantization-aware training on tiny random models: the fake grid is the deployed backend's grid, training runs
through the one training path, and the saved weights quantize with the target spec."""

import json

import pytest
import torch

from loralab.errors import ConfigError
from loralab.methods.configs import method_config, train_config
from loralab.quant.configs import parse_quant, to_spec
from loralab.quant.linears import quantizable_linears
from loralab.quant.qat import convert_qat, fake_quantized_linears, prepare_qat, qat_target

pytest.importorskip("optimum.quanto")


def _cross_encoder(folder):
    from transformers import AutoModelForSequenceClassification

    return AutoModelForSequenceClassification.from_pretrained(str(folder), num_labels=1).eval()


def test_int4_fake_grid_is_the_grid_quanto_deploys(tiny_cross_encoder):
    """Training must see the rounding the deployed int4 model makes: every fake-quantized weight equals quanto's
    dequantized int4 weight far more closely than the float weight does."""
    from loralab.quant.api import quantize

    qat_model = prepare_qat(_cross_encoder(tiny_cross_encoder), "int4-weight-only:group_size=16")
    deployed = dict(quantize(_cross_encoder(tiny_cross_encoder), "int4-weight-only:group_size=16").named_modules())
    names = fake_quantized_linears(qat_model)
    assert sorted(names) == sorted(n for n, _ in quantizable_linears(_cross_encoder(tiny_cross_encoder)))
    with torch.no_grad():
        for name, layer in qat_model.named_modules():
            if name in names:
                fake, original = layer.weight, layer.parametrizations.weight.original
                real = deployed[name].qweight.dequantize().float()
                assert (fake - real).abs().max() < 1e-3 * (original - real).abs().max(), name
                assert len(torch.unique(fake[0, :16])) <= 16  # one group: at most 16 levels
    # The task head stays float, as in post-training quantization.
    assert type(qat_model.classifier) is torch.nn.Linear


@pytest.mark.parametrize("spec", ["int8-dynamic", "int8-dynamic:per_channel=true"])
def test_int8_fake_quantization_matches_torch_ao_dynamic(tiny_cross_encoder, spec):
    """Weights and inputs rounded as torch.ao's dynamic int8 kernels round them: the QAT model's output is close to
    the deployed model's, closer by far than the float model's."""
    from transformers import AutoTokenizer

    from loralab.quant.api import quantize

    tokenizer = AutoTokenizer.from_pretrained(str(tiny_cross_encoder))
    inputs = tokenizer(["flea life cycle", "concrete cost"], ["fleas lay eggs on a host", "floors per foot"],
                       return_tensors="pt", padding=True)
    with torch.no_grad():
        model = _cross_encoder(tiny_cross_encoder)
        for p in model.parameters():  # logits of a random tiny model are ~0.01: widen them so rounding shows
            p.mul_(3.0)
        hidden = lambda m: m.bert(**inputs).last_hidden_state  # noqa: E731
        float_out = hidden(model)
        deployed = hidden(quantize(_copy(model), spec))
        fake = hidden(prepare_qat(_copy(model), spec))
    assert (fake - deployed).abs().mean() < 0.2 * (float_out - deployed).abs().mean()


def _copy(model):
    import copy

    return copy.deepcopy(model)


def test_convert_restores_plain_linears_with_the_trained_weights(tiny_cross_encoder):
    model = prepare_qat(_cross_encoder(tiny_cross_encoder), "int8-dynamic")
    layer = model.bert.encoder.layer[0].attention.self.query
    with torch.no_grad():
        layer.parametrizations.weight.original.add_(0.5)  # stands in for a training update
    want = layer.parametrizations.weight.original.detach().clone()
    convert_qat(model)
    assert fake_quantized_linears(model) == []
    after = model.bert.encoder.layer[0].attention.self.query
    assert type(after) is torch.nn.Linear and torch.equal(after.weight, want)
    assert not after._forward_pre_hooks  # the input fake quantizer is gone too


@pytest.mark.parametrize("spec, message", [
    ("nf4", "post-training only"),
    ("int8-dynamic:engine=torchao", "torch.ao engine"),
    ("int4-weight-only:group_size=24", "does not divide"),
])
def test_unsupported_targets_are_refused_with_the_options(tiny_cross_encoder, spec, message):
    with pytest.raises(Exception, match=message):
        prepare_qat(_cross_encoder(tiny_cross_encoder), spec)


def test_spec_round_trips():
    for spec in ("int4-weight-only:group_size=128", "int8-dynamic:per_channel=True", "nf4", "int8-weight-only"):
        assert parse_quant(to_spec(parse_quant(spec))) == parse_quant(spec)
    assert to_spec(qat_target("int4")) == "int4-weight-only"


def test_qat_training_saves_float_weights_that_quantize_with_the_target(tmp_path, tiny_cross_encoder, groups_file):
    from loralab.artifacts.load import load
    from loralab.training.trainer import train

    cfg = train_config(model=str(tiny_cross_encoder), data=str(groups_file), max_steps=4, batch_size=4, eval_steps=2,
                       save_steps=2, max_length=32, learning_rate=1e-3, num_negatives=3, eval_fraction=0.25,
                       qat="int4-weight-only:group_size=16")
    result = train(method_config("full"), cfg, tmp_path / "run")
    saved = json.loads((tmp_path / "run" / "train_config.json").read_text())
    assert saved["train"]["qat"] == "int4-weight-only:group_size=16" and result.metrics["global_step"] == 4
    model = load(str(tmp_path / "run"), head="sequence-classifier", num_labels=1).model
    assert fake_quantized_linears(model) == [] and quantizable_linears(model)  # plain layers, trained weights
    trained = model.bert.encoder.layer[0].attention.self.query.weight
    assert not torch.equal(trained, _cross_encoder(tiny_cross_encoder).bert.encoder.layer[0].attention.self.query.weight)

    with pytest.raises(ConfigError, match="--method full"):
        train(method_config("lora", r=4, alpha=8), cfg, tmp_path / "lora")
