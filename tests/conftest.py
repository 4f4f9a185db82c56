"""Shared fixtures: tiny random models built once per session from configs (no downloads)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(scope="session")
def tiny_bert(tmp_path_factory) -> Path:
    """A 2-layer, 32-wide BERT with MiniLM's tokenizer, saved as a normal model folder."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from loralab.models.packaged import PACKAGED

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("tiny-bert")
    tokenizer = AutoTokenizer.from_pretrained(str(PACKAGED["minilm"].require()))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_cross_encoder(tiny_bert, tmp_path_factory) -> Path:
    """The tiny BERT with a 1-logit sequence-classification head, saved (so the head is not 'new')."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(1)
    folder = tmp_path_factory.mktemp("tiny-cross")
    model = AutoModelForSequenceClassification.from_pretrained(str(tiny_bert), num_labels=1)
    model.save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(tiny_bert)).save_pretrained(folder)
    return folder


@pytest.fixture
def groups_file(tmp_path) -> Path:
    """16 re-ranking training groups (4 topics), each 1 positive + 4 negatives, as a groups JSONL file."""
    import json

    rows = [{"query_id": f"q{i}", "query": f"question {i} about {t}",
             "positive": {"_id": f"p{i}", "title": t, "text": f"all about {t}"},
             "negatives": [f"unrelated text {i} {j}" for j in range(4)]}
            for i, t in enumerate(["fleas", "concrete", "cats", "tea"] * 4)]
    path = tmp_path / "groups.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def beir_folder(tmp_path) -> Path:
    """A small valid BEIR folder with candidates."""
    folder = tmp_path / "mini-beir"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(
        '{"_id": "d1", "title": "Fleas", "text": "A flea life cycle lasts weeks to months."}\n'
        '{"_id": "d2", "title": "", "text": "Concrete flooring costs vary by finish."}\n'
        '{"_id": "d3", "title": "Cats", "text": "Cats sleep a lot."}\n'
    )
    (folder / "queries.jsonl").write_text('{"_id": "q1", "text": "flea life cycle"}\n{"_id": "q2", "text": "concrete floor cost"}\n')
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t2\nq2\td2\t1\nq2\td3\t0\n")
    (folder / "candidates.trec").write_text(
        "q1 Q0 d3 1 3.0 bm25\nq1 Q0 d1 2 2.0 bm25\nq1 Q0 d2 3 1.0 bm25\n"
        "q2 Q0 d2 1 5.0 bm25\nq2 Q0 d3 2 1.0 bm25\n"
    )
    return folder
