"""`loralab index`, `search` and `retrieve-eval` as users run them (real subprocesses, real exit codes)."""

import json
import subprocess
import sys

import pytest


def loralab(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "loralab.cli.main", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def test_index_search_eval_bm25(tmp_path, beir_folder):
    ix = tmp_path / "ix"
    proc = loralab("index", "--index-dir", ix, "--dataset", beir_folder, "--no-dense", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"documents": 3, "chunks": 3, "bm25_chunks": 3}
    proc = loralab("eval", "--task", "retrieve", "--data", beir_folder, "--index-dir", ix, "--mode", "bm25", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(proc.stdout.strip().splitlines()[-1])
    assert metrics["config"]["mode"] == "bm25" and metrics["ndcg@10"] == pytest.approx(1.0) and metrics["recall@100"] == 1.0
    proc = loralab("search", "--index-dir", ix, "--mode", "dense", "flea", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error:") and "no dense part" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_index_dense_search_and_rerank_eval(tmp_path, beir_folder, tiny_bert):
    ix = tmp_path / "ix"
    proc = loralab("index", "--index-dir", ix, "--dataset", beir_folder, "--model", tiny_bert, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])["vectors"] == 3
    proc = loralab("search", "--index-dir", ix, "--mode", "bm25", "flea life cycle", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1])[0]["doc_id"] == "d1"
    proc = loralab("eval", "--task", "retrieve", "--data", beir_folder, "--index-dir", ix, "--mode", "hybrid",
                   "--rerank", f"bi-encoder:{tiny_bert}", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["config"]["mode"] == "hybrid-rrf" and 0.0 <= out["ndcg@10"] <= 1.0 and "ndcg@10" in out["retrieved"]
