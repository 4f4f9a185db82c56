"""Build the model to train for a (task, backbone, method): full weights, LoRA adapters, or LoRA on 4-bit."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from loralab.errors import ConfigError
from loralab.methods.configs import FullConfig, LoraConfig, QLoraConfig
from loralab.artifacts.load import load
from loralab.models.four_bit import HEAD_NAMES, FourBitBase, disable_packed_cpu_path
from loralab.models.memory import parameter_bytes

@dataclass
class ParamCount:
    trainable: int
    total: int

    @property
    def percent(self) -> float:
        return 100.0 * self.trainable / max(self.total, 1)

    def __str__(self) -> str:
        return f"trainable {self.trainable:,} of {self.total:,} = {self.percent:.4f}%"


def head_modules(model) -> list[str]:
    """Names of the task-head modules present in this architecture (kept trainable and saved with adapters)."""
    names = {name.split(".")[-1] for name, _ in model.named_modules()}
    return [h for h in HEAD_NAMES if h in names]


def load_base(head: str, backbone: str, method, num_labels: int, gradient_checkpointing: bool = False,
              keep_full: tuple[str, ...] = ()):
    """The base model to train for `method`, through the one loader; for QLoRA its linear layers are stored in
    4-bit and frozen (except modules named in `keep_full`, e.g. a causal LM's lm_head, tied to the embeddings)."""
    four_bit = None
    if isinstance(method, QLoraConfig):
        four_bit = FourBitBase(method.quant_type, method.double_quant, method.compute_dtype, keep_full)
    model = load(backbone, head=head, num_labels=num_labels, four_bit=four_bit, allow_untrained_head=True).model
    model.train()
    if four_bit is not None:
        from peft import prepare_model_for_kbit_training

        # Gradient checkpointing costs a lot of CPU time at this size; only on when asked for.
        model = prepare_model_for_kbit_training(model, use_gradient_checkpointing=gradient_checkpointing)
        disable_packed_cpu_path(model)
    return model


# The default LoRA targets use BERT's module names; other encoders name the same projections differently.
TARGET_ALIASES = {
    "query": ("query_proj", "q_proj", "q_lin"),  # DeBERTa, Llama/RoBERTa-style, DistilBERT
    "key": ("key_proj", "k_proj", "k_lin"),
    "value": ("value_proj", "v_proj", "v_lin"),
    "dense": ("out_proj", "o_proj", "out_lin", "lin1", "lin2"),
}


def resolve_target_modules(model, targets: list[str]) -> list[str]:
    """The LoRA targets as this architecture names them (a name it has is kept as is)."""
    names = {name.split(".")[-1] for name, _ in model.named_modules()}
    resolved: list[str] = []
    for target in targets:
        candidates = (target,) if target in names else TARGET_ALIASES.get(target, ())
        resolved += [c for c in candidates if c in names and c not in resolved]
    if not resolved:
        linear = sorted({n.split(".")[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)})
        raise ConfigError(f"none of the LoRA target modules {targets} exist in this model; its linear layers are "
                          f"named: {', '.join(linear)}")
    return resolved


def wrap_for_method(model, method, task_type: str = "SEQ_CLS"):
    """Apply LoRA via PEFT (never hand-written layers); full fine-tuning returns the model unchanged."""
    if isinstance(method, FullConfig):
        return model
    from peft import LoraConfig as PeftLoraConfig
    from peft import TaskType, get_peft_model

    peft_config = PeftLoraConfig(
        task_type=TaskType[task_type],
        r=method.r,
        lora_alpha=method.alpha,
        lora_dropout=method.dropout,
        target_modules=resolve_target_modules(model, list(method.target_modules)),
        bias=method.bias,
        modules_to_save=method.modules_to_save if method.modules_to_save is not None else head_modules(model),
    )
    return get_peft_model(model, peft_config)


def count_parameters(model) -> ParamCount:
    if hasattr(model, "get_nb_trainable_parameters"):
        trainable, total = model.get_nb_trainable_parameters()  # counts 4-bit packed params as 2 per byte
        return ParamCount(int(trainable), int(total))
    total = sum(p.numel() for p in model.parameters())
    return ParamCount(sum(p.numel() for p in model.parameters() if p.requires_grad), total)


def build_classifier(backbone: str, method: FullConfig | LoraConfig, num_labels: int, gradient_checkpointing: bool):
    """(trainable model, parameter counts, stored base bytes) for a sequence classifier."""
    model = load_base("sequence-classifier", backbone, method, num_labels, gradient_checkpointing)
    if gradient_checkpointing and not isinstance(method, QLoraConfig):
        model.gradient_checkpointing_enable()
    base_bytes = parameter_bytes(model)
    model = wrap_for_method(model, method)
    return model, count_parameters(model), base_bytes


def build_encoder_model(backbone: str, method, gradient_checkpointing: bool, wrap):
    """(model, parameter counts, stored encoder bytes) for a model around one shared encoder (Siamese pairs,
    bi-encoder re-rankers): the encoder carries the LoRA adapters (on a 4-bit base for QLoRA) and `wrap(encoder)`
    builds the rest around it."""
    encoder = load_base("encoder", backbone, method, num_labels=1, gradient_checkpointing=gradient_checkpointing)
    if gradient_checkpointing and not isinstance(method, QLoraConfig):
        encoder.gradient_checkpointing_enable()
    base_bytes = parameter_bytes(encoder)
    if isinstance(method, LoraConfig):  # QLoRA too: same adapters, the base underneath is 4-bit
        from peft import LoraConfig as PeftLoraConfig
        from peft import TaskType, get_peft_model

        encoder = get_peft_model(encoder, PeftLoraConfig(
            task_type=TaskType.FEATURE_EXTRACTION, r=method.r, lora_alpha=method.alpha, lora_dropout=method.dropout,
            target_modules=resolve_target_modules(encoder, list(method.target_modules)), bias=method.bias,
        ))
    model = wrap(encoder)
    outside = sum(p.numel() for name, p in model.named_parameters() if not name.startswith("encoder."))
    if hasattr(encoder, "get_nb_trainable_parameters"):  # counts 4-bit packed weights as 2 params per byte
        trainable, total = encoder.get_nb_trainable_parameters()
        return model, ParamCount(int(trainable) + outside, int(total) + outside), base_bytes
    return model, count_parameters(model), base_bytes


# Attention and MLP projections of Llama-style decoders (SmolLM2, LLaMA, Mistral, Qwen).
DECODER_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


def build_causal_lm(backbone: str, method, gradient_checkpointing: bool):
    """(trainable AutoModelForCausalLM, parameter counts, stored base bytes); the LM head is the model's own.

    LoRA targets default to the encoder names (query/key/value/dense); a decoder has none of them, so then the
    decoder projections are targeted instead."""
    import dataclasses

    model = load_base("causal-lm", backbone, method, 1, gradient_checkpointing, keep_full=("lm_head",))
    if gradient_checkpointing and not isinstance(method, QLoraConfig):
        model.gradient_checkpointing_enable()
        model.enable_input_require_grads()  # frozen embeddings: checkpointed blocks still need a grad path
    base_bytes = parameter_bytes(model)
    if isinstance(method, LoraConfig):
        names = {name.split(".")[-1] for name, _ in model.named_modules()}
        if not set(method.target_modules) & names:
            method = dataclasses.replace(method, target_modules=[t for t in DECODER_TARGETS if t in names])
        method = dataclasses.replace(method, modules_to_save=method.modules_to_save or [])
    model = wrap_for_method(model, method, task_type="CAUSAL_LM")
    return model, count_parameters(model), base_bytes
