"""`loralab serve` as a user runs it: a subprocess on a loopback port, with an adapter, answering rerank."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import httpx
from serve_support import make_lora_adapter


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_cli_serve_answers_on_loopback(tiny_cross_encoder, tmp_path):
    adapter = make_lora_adapter(tiny_cross_encoder, tmp_path / "adapter", seed=7)
    port = _free_port()
    cmd = [sys.executable, "-m", "loralab.cli.main", "serve", "--model", str(tiny_cross_encoder), "--name", "base",
           "--adapter", f"tuned={adapter}", "--port", str(port), "--log-level", "warning"]
    env = {**os.environ, "LORALAB_API_KEY": ""}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read()
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not come up"
            time.sleep(0.2)
        info = httpx.get(url + "/info").json()
        assert info["model"] == "base" and list(info["adapters"]) == ["tuned"]
        r = httpx.post(url + "/v2/rerank", json={"model": "tuned", "query": "fleas", "documents": ["a", "b c"]})
        assert r.status_code == 200 and sorted(x["index"] for x in r.json()["results"]) == [0, 1]
    finally:
        proc.terminate()
        proc.wait(timeout=20)

