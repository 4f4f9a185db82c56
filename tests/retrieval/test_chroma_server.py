"""Dense retrieval on a real Chroma server (`chroma run` subprocess) gives exactly the embedded store's results.

The same small index is built twice, embedded and on the server; ranked ids must be identical and scores equal
within 1e-5, for chunks, documents, a metadata filter and hybrid fusion, before and after reopening (which has to
reconnect through index.json alone) and after a delete. An unreachable or wrong server is a clear error naming
the URL, and leaves no index folder behind.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from loralab.data.schemas import Document
from loralab.errors import ConfigError
from loralab.retrieval.bm25 import BM25Config
from loralab.retrieval.chunking import ChunkConfig
from loralab.retrieval.dense import DenseConfig
from loralab.retrieval.index import IndexConfig, RetrievalIndex

pytestmark = pytest.mark.timeout(240)

DOCS = [
    Document("d1", "A flea life cycle lasts weeks to months.", "Fleas"),
    Document("d2", "Concrete flooring costs vary by finish and region."),
    Document("d3", "Cats sleep a lot during the day.", "Cats"),
    Document("d4", "Vitamin D is made in the skin under sunlight.", "Vitamin D"),
    Document("d5", " ".join(f"Long passage sentence {i} about rivers, bridges and tides." for i in range(30)), "Rivers"),
    Document("d6", "Sourdough bread rises slowly thanks to wild yeast and lactic bacteria.", "Bread"),
    Document("d7", "The violin has four strings tuned in perfect fifths.", "Violin"),
    Document("d8", "Glaciers carve U-shaped valleys as they move downhill.", "Glaciers"),
    Document("d9#x", "Tea contains caffeine and antioxidants; green tea is less oxidized.", "Tea"),
]
QUERIES = {"q1": "flea life", "q2": "how do cats sleep", "q3": "vitamin D sunlight", "q4": "river bridges",
           "q5": "bread yeast", "q6": "valleys carved by ice"}
HEARTBEAT_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _chroma_exe() -> str | None:
    beside = Path(sys.executable).with_name("chroma")
    return str(beside) if beside.is_file() else shutil.which("chroma")


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    exe = _chroma_exe()
    if exe is None:
        pytest.skip("the `chroma` console script (chromadb) is not installed")
    data, port = tmp_path_factory.mktemp("chroma-server"), _free_port()
    url, env = f"http://127.0.0.1:{port}", {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    with open(data / "server.log", "wb") as log:
        proc = subprocess.Popen([exe, "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            _wait_for_heartbeat(proc, url, data / "server.log")
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


def _wait_for_heartbeat(proc, url, log):
    deadline = time.monotonic() + HEARTBEAT_TIMEOUT_S
    while True:
        if proc.poll() is not None:
            pytest.fail(f"chroma run exited with {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"no heartbeat from chroma run at {url} within {HEARTBEAT_TIMEOUT_S} s")
        time.sleep(0.2)


@pytest.fixture
def config(tiny_bert):
    return IndexConfig(ChunkConfig(64, 8), BM25Config(), DenseConfig(model=str(tiny_bert), max_length=66))


def _same(a, b):
    """Identical ranked ids per query, scores within 1e-5."""
    assert a.query_ids == b.query_ids
    for qid in a.query_ids:
        ra, rb = a.ranked(qid), b.ranked(qid)
        assert [d for d, _ in ra] == [d for d, _ in rb], qid
        assert [s for _, s in ra] == pytest.approx([s for _, s in rb], abs=1e-5), qid


def _assert_same_results(embedded, server):
    assert len(embedded.search_chunks(QUERIES, "dense", 100).ranked("q4")) == embedded.stats()["chunks"]
    _same(embedded.search_chunks(QUERIES, "dense", 100), server.search_chunks(QUERIES, "dense", 100))
    _same(embedded.search_chunks(QUERIES, "dense", 3), server.search_chunks(QUERIES, "dense", 3))
    _same(embedded.search(QUERIES, "dense", k=5), server.search(QUERIES, "dense", k=5))
    _same(embedded.search(QUERIES, "dense", k=5, where={"doc_id": "d5"}),
          server.search(QUERIES, "dense", k=5, where={"doc_id": "d5"}))
    _same(embedded.search(QUERIES, "hybrid", k=5), server.search(QUERIES, "hybrid", k=5))
    assert embedded.stats() == server.stats()


def test_server_store_gives_the_embedded_results(tmp_path, config, chroma_url):
    embedded = RetrievalIndex.create(tmp_path / "embedded", config)
    server = RetrievalIndex.create(tmp_path / "server", config, chroma_url=chroma_url)
    assert embedded.add(DOCS) == server.add(DOCS)
    assert server.stats()["vectors"] == server.stats()["chunks"] > len(DOCS)  # d5 spans several chunks
    _assert_same_results(embedded, server)

    recorded = json.loads((tmp_path / "server" / "index.json").read_text())["vector_store"]
    assert recorded["url"] == chroma_url and recorded["collection"].startswith("loralab-")
    assert not (tmp_path / "server" / "chroma").exists()  # the vectors are on the server only
    server.close()
    reopened = RetrievalIndex.open(tmp_path / "server")  # reconnects from index.json alone
    assert not reopened.recovered
    _assert_same_results(embedded, reopened)

    assert embedded.delete(["d3"]) == reopened.delete(["d3"]) == 1
    _assert_same_results(embedded, reopened)
    other = RetrievalIndex.create(tmp_path / "other", config, chroma_url=chroma_url)  # same server, own collection
    assert other.store_config.collection != recorded["collection"] and other.stats()["vectors"] == 0
    for index in (embedded, reopened, other):
        index.close()


def test_unreachable_or_wrong_server_is_a_clear_error(tmp_path, config, chroma_url):
    dead = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(ConfigError, match=f"cannot reach the Chroma server at {dead}.*chroma run"):
        RetrievalIndex.create(tmp_path / "new" / "ix", config, chroma_url=dead)
    assert not (tmp_path / "new").exists()  # nothing half-written
    with pytest.raises(ConfigError, match="http\\(s\\)://host"):
        RetrievalIndex.create(tmp_path / "ix", config, chroma_url="ftp://127.0.0.1:8000")
    with pytest.raises(ConfigError, match="has none"):
        RetrievalIndex.create(tmp_path / "ix", IndexConfig(dense=None), chroma_url=chroma_url)
    assert not (tmp_path / "ix").exists()

    index = RetrievalIndex.create(tmp_path / "ix", config, chroma_url=chroma_url)
    index.add(DOCS[:2])
    index.close()
    with pytest.raises(ConfigError, match=f"cannot reach the Chroma server at {dead}"):
        RetrievalIndex.open(tmp_path / "ix", chroma_url=dead)  # re-pointed at a server that is not there
    manifest = tmp_path / "ix" / "index.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "vector_store": {**data["vector_store"], "collection": "gone-123"}}))
    with pytest.raises(ConfigError, match=f"{chroma_url}: the Chroma server has no collection 'gone-123'"):
        RetrievalIndex.open(tmp_path / "ix")  # never a silently empty stand-in
    RetrievalIndex.create(tmp_path / "emb", config).close()
    with pytest.raises(ConfigError, match="embedded"):
        RetrievalIndex.open(tmp_path / "emb", chroma_url=chroma_url)


def loralab(*args, cwd):
    return subprocess.run([sys.executable, "-m", "loralab.cli.main", *map(str, args)], check=False, cwd=cwd,
                          capture_output=True, text=True, timeout=180)


@pytest.mark.slow
def test_cli_index_on_a_server_then_search_reconnects(tmp_path, beir_folder, tiny_bert, chroma_url):
    ix = tmp_path / "ix"
    proc = loralab("index", "--index-dir", ix, "--dataset", beir_folder, "--model", tiny_bert,
                   "--chroma-url", chroma_url, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["vectors"] == 3
    proc = loralab("search", "--index-dir", ix, "--mode", "dense", "Cats\nCats sleep a lot.", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    hits = json.loads(proc.stdout.strip().splitlines()[-1])
    assert hits[0]["doc_id"] == "d3" and hits[0]["score"] == pytest.approx(1.0, abs=1e-5)
    dead = f"http://127.0.0.1:{_free_port()}"
    proc = loralab("index", "--index-dir", tmp_path / "ix2", "--dataset", beir_folder, "--model", tiny_bert,
                   "--chroma-url", dead, cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and dead in proc.stderr
    assert not (tmp_path / "ix2").exists()
