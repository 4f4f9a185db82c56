"""A tiny random Llama with SmolLM2's tokenizer, and a few-step memorizer so its answers are known."""

from __future__ import annotations

from pathlib import Path

import torch


def tiny_llama_folder(folder: Path, hidden: int = 64) -> Path:
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from loralab.artifacts.load import resolve_model

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(resolve_model("smollm2-135m-instruct"))
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=2,
        num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=256, tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id,
    )
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def memorize(folder: Path, pairs: list[tuple[str, str]], steps: int = 120, lr: float = 1e-2) -> Path:
    """Full fine-tune the tiny model on (prompt, completion) pairs with completion-only loss; save in place."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from loralab.tasks.lm.data import CompletionCollator, CompletionDataset

    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    data = CompletionDataset(pairs, tokenizer, 128)
    batch = CompletionCollator(tokenizer)([data[i] for i in range(len(data))])
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    for _ in range(steps):
        loss = model(**batch).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    model.save_pretrained(folder)
    return folder
