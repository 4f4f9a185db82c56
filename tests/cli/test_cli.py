"""The CLI as users run it: a real subprocess, real exit codes, one clear error line."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from loralab.data.registry import BUILTIN_DIR

BM25_RUN = BUILTIN_DIR / "trec-dl-2019-passage" / "bm25_top100.trec.gz"


def loralab(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "loralab.cli.main", *args], cwd=cwd, capture_output=True, text=True, timeout=600
    )


def test_eval_json_prints_anserini_bm25(tmp_path):
    proc = loralab("eval", "--task", "rerank", "--data", "trec-dl-2019", "--run", str(BM25_RUN), "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    metrics = json.loads(proc.stdout.strip().splitlines()[-1])
    assert metrics["ndcg@10"] == pytest.approx(0.5058, abs=5e-5)
    assert {"mrr@10", "recall@100", "map@100"} <= set(metrics)
    manifests = list((tmp_path / "runs").glob("*/manifest.json"))
    assert len(manifests) == 1
    manifest = json.loads(manifests[0].read_text())
    assert {"config", "packages", "git_sha", "data_sha256", "hardware", "command_line", "seed"} <= set(manifest)
    assert manifest["data_sha256"]["bm25_top100.trec.gz"] == (
        "f5dfda1153d4bd2f8323d297d107178e434ac684ff567afa70cd994ebc681160"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "--dataset", "no-such-set", "--run", str(BM25_RUN)], "neither a known dataset"),
        (["eval", "--dataset", "trec-dl-2019", "--run", "missing.trec"], "missing.trec: file not found"),
        (["rerank", "--dataset", "trec-dl-2019", "--model", "no-such-model", "--out", "x.trec"], "unknown model"),
    ],
)
def test_errors_are_one_line_with_exit_code_2(tmp_path, args, message):
    proc = loralab(*args, cwd=tmp_path)
    assert proc.returncode == 2
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.trec").exists()


def test_malformed_jsonl_in_dataset_folder_is_reported(tmp_path, beir_folder):
    (beir_folder / "queries.jsonl").write_text('{"_id": "q1", "text": "ok"}\n{"_id": "q2" "text": "x"}\n')
    proc = loralab("eval", "--dataset", str(beir_folder), "--run", str(beir_folder / "candidates.trec"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "queries.jsonl:2: invalid JSON" in proc.stderr


def test_rerank_writes_run_file_and_run_folder(tmp_path, tiny_bert, beir_folder):
    out = tmp_path / "tiny.trec"
    proc = loralab(
        "rerank", "--dataset", str(beir_folder), "--ranker", "bi-encoder", "--model", str(tiny_bert),
        "--out", str(out), "--json", cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    lines = out.read_text().splitlines()
    assert len(lines) == 5 and all(len(line.split()) == 6 for line in lines)
    metrics = json.loads(proc.stdout.strip().splitlines()[-1])
    assert 0 <= metrics["ndcg@10"] <= 1
    folder = next((tmp_path / "runs").iterdir())
    assert {"manifest.json", "metrics.json", "ranking.trec"} <= {p.name for p in folder.iterdir()}


def test_listing_commands(tmp_path):
    datasets = loralab("datasets", cwd=tmp_path)
    assert datasets.returncode == 0 and "trec-dl-2019" in datasets.stdout and "scifact" in datasets.stdout
    models = loralab("models", cwd=tmp_path)
    assert models.returncode == 0 and "minilm" in models.stdout


def test_unknown_option_is_a_usage_error_not_a_traceback(tmp_path):
    proc = loralab("datasets", "--bogus", cwd=tmp_path)
    assert proc.returncode == 2
    assert "No such option: --bogus" in proc.stderr and "Traceback" not in proc.stderr
