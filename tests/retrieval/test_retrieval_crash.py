"""A real process is SIGKILLed in the middle of an incremental add; the index must come back whole.

"Whole" means: no error on reopen and search, every document committed before the kill present exactly
once in the store, BM25 and the vector store, the interrupted batch either fully there or fully absent,
and re-running the interrupted command finishes it without duplicates.
"""

import inspect
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from loralab.data.schemas import Document
from loralab.retrieval.index import RetrievalIndex


def make_docs(prefix, n):
    return [
        Document(f"{prefix}{i}", f"document {prefix} number {i} about topic {i % 17}. " * 4, f"Title {prefix}{i}")
        for i in range(n)
    ]


CHILD = """
import json, sys
from loralab.data.schemas import Document
from loralab.retrieval.bm25 import BM25Config
from loralab.retrieval.chunking import ChunkConfig
from loralab.retrieval.dense import DenseConfig
from loralab.retrieval.index import IndexConfig, RetrievalIndex

folder, model, n_b = sys.argv[1], sys.argv[2], int(sys.argv[3])
""" + inspect.getsource(make_docs) + """
config = IndexConfig(ChunkConfig(64, 8), BM25Config(), DenseConfig(model=model, max_length=66, batch_size=64))
index = RetrievalIndex.create(folder, config)
print(json.dumps({"phase": "A", **index.add(make_docs("a", 40))}), flush=True)
print(json.dumps({"phase": "B", **index.add(make_docs("b", n_b))}), flush=True)
"""
N_A, N_B = 40, 3000


def _start(folder, model):
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(folder), str(model), str(N_B)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env={**os.environ, "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"},
    )


def _pending(folder) -> str:
    conn = sqlite3.connect(f"file:{folder / 'store.sqlite'}?mode=ro", uri=True, timeout=30)
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'pending'").fetchone()
    finally:
        conn.close()
    return row[0] if row else "0"


def _kill_during_batch_b(folder, model, delay: float) -> None:
    proc = _start(folder, model)
    try:
        assert '"phase": "A"' in proc.stdout.readline()
        deadline = time.monotonic() + 120
        while _pending(folder) != "1":  # batch B's add has begun writing
            assert proc.poll() is None and time.monotonic() < deadline, "child finished before it could be killed"
            time.sleep(0.005)
        time.sleep(delay)
        assert proc.poll() is None, "batch B finished before the kill: raise N_B"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert _pending(folder) == "1"  # the kill really landed inside the add


def _assert_consistent(index: RetrievalIndex, expect_b: set[int]) -> None:
    docs = set(index.documents())
    a_ids = {f"a{i}" for i in range(N_A)}
    b_ids = {f"b{i}" for i in range(N_B)}
    assert a_ids <= docs  # nothing committed before the kill is lost
    assert len(docs & b_ids) in expect_b  # the interrupted batch is all or nothing
    chunk_ids = index.store.chunk_ids()
    assert len(chunk_ids) == len(set(chunk_ids)) == len(docs)  # one chunk per document, none twice
    assert index.vectors.ids() == set(chunk_ids) and index.vectors.count() == len(chunk_ids)
    assert sorted(index.bm25.ids) == sorted(chunk_ids)
    query = {"q": "Title a23\n" + ("document a number 23 about topic 6. " * 4).strip()}  # a23's exact chunk text
    for mode in ("bm25", "dense", "hybrid"):
        assert index.search(query, mode=mode, k=5).ranked("q")[0][0] == "a23", mode


def _crash_and_resume(tmp_path, tiny_bert, delay: float) -> None:
    folder = tmp_path / "ix"
    _kill_during_batch_b(folder, tiny_bert, delay)
    index = RetrievalIndex.open(folder)
    assert index.recovered
    _assert_consistent(index, expect_b={0, N_B})
    stats = index.add(make_docs("b", N_B))  # the interrupted add, run again (in this process: same code path)
    assert stats["documents"] == N_B and stats["embedded"] <= N_B
    index.close()
    index = RetrievalIndex.open(folder)
    assert not index.recovered
    _assert_consistent(index, expect_b={N_B})
    assert index.stats() == {"documents": N_A + N_B, "chunks": N_A + N_B, "vectors": N_A + N_B, "bm25_chunks": N_A + N_B}
    index.close()


def test_sigkill_during_add_then_restart(tmp_path, tiny_bert):
    _crash_and_resume(tmp_path, tiny_bert, delay=0.3)


@pytest.mark.slow
@pytest.mark.parametrize("delay", [0.0, 0.15, 0.6])  # all well inside the ~2 s add
def test_sigkill_at_other_points_of_an_add(tmp_path, tiny_bert, delay):
    _crash_and_resume(tmp_path, tiny_bert, delay)
