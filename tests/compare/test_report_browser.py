"""report.html in a real headless browser (Debian's chromium): no script errors, every chart decoded and shown."""

import json
import re
import shutil
import subprocess

import pytest

from loralab.compare.config import CompareConfig
from loralab.compare.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PROBE_HEAD = ("<script>window.__errors=[];window.addEventListener('error',e=>window.__errors.push(String(e.message)));"
              "</script>")
PROBE_BODY = (
    "<script>window.addEventListener('load',()=>{const imgs=[...document.images];document.title=JSON.stringify({"
    "errors:window.__errors,images:imgs.map(i=>({ok:i.complete&&i.naturalWidth>0,w:i.getBoundingClientRect().width,"
    "h:i.getBoundingClientRect().height}))});});</script>"
)


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)")
def test_report_html_loads_without_errors_and_shows_every_chart(tmp_path):
    rows = [
        {"method": "BM25", "ranker": "bm25", "ndcg@10": 0.5058, "mrr@10": 0.70, "p50_ms": 1.0, "p95_ms": 2.0,
         "peak_rss_mb": 300.0, "size_mb": None, "cost_per_1m": 0.01, "num_queries": 43, "notes": ["`code` note"]},
        {"method": "MiniLM", "ranker": "bi-encoder", "ndcg@10": 0.6424, "mrr@10": 0.80, "p50_ms": 90.0,
         "p95_ms": 120.0, "peak_rss_mb": 900.0, "size_mb": 86.7, "cost_per_1m": 3.0, "num_queries": 43, "notes": []},
    ]
    config = CompareConfig(dataset="trec-dl-2019", methods=[{"name": r["method"], "ranker": r["ranker"]} for r in rows])
    paths = write_report(config, rows, tmp_path / "out")
    page = paths["html"].read_text()
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("<head>", "<head>" + PROBE_HEAD, 1).replace("</body>", PROBE_BODY + "</body>", 1))
    proc = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--window-size=1200,2000",
                           "--virtual-time-budget=5000", "--dump-dom", probed.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    title = re.search(r"<title>(.*?)</title>", proc.stdout, flags=re.S)
    assert title, proc.stdout[:500]
    state = json.loads(title.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert state["errors"] == []
    assert len(state["images"]) == len([k for k in paths if k not in ("markdown", "html")]) >= 2
    assert all(img["ok"] and img["w"] > 100 and img["h"] > 100 for img in state["images"]), state
