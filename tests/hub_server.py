"""A local HTTP server standing in for the Hugging Face Hub API: just the endpoints that
`HfApi.create_repo` and `HfApi.upload_folder` call (repos/create, validate-yaml, preupload, commit).
Tests point HF_ENDPOINT at it; huggingface_hub itself is not patched."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class FakeHub(ThreadingHTTPServer):
    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, str, dict]] = []  # (method, path, headers)
        self.repos: dict[str, dict] = {}  # "type:org/name" → {"private": …, "files": {path: bytes}}
        self.url = f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeHub

    def log_message(self, *a):  # quiet
        pass

    def _send(self, code: int, doc: dict) -> None:
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):  # noqa: N802
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        hub = self.server
        hub.requests.append(("POST", self.path, dict(self.headers)))
        if self.headers.get("Authorization") != f"Bearer {os.environ['FAKE_HUB_TOKEN']}":
            return self._send(401, {"error": "Invalid credentials"})
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts[:2] == ["api", "repos"] and parts[2] == "create":
            doc = json.loads(body)
            kind = doc.get("type") or "model"
            rid = f"{doc['organization']}/{doc['name']}"
            hub.repos.setdefault(
                f"{kind}:{rid}", {"private": doc.get("visibility") == "private", "files": {}}
            )
            prefix = "" if kind == "model" else f"{kind}s/"
            return self._send(200, {"url": f"{hub.url}/{prefix}{rid}"})
        if parts[:2] == ["api", "validate-yaml"]:
            return self._send(200, {"errors": [], "warnings": []})
        if parts[0] == "api" and len(parts) >= 6 and parts[4] in ("preupload", "commit"):
            kind, rid = parts[1].removesuffix("s"), f"{parts[2]}/{parts[3]}"
            repo = hub.repos.get(f"{kind}:{rid}")
            if repo is None:
                return self._send(404, {"error": "Repository not found"})
            if parts[4] == "preupload":
                files = json.loads(body)["files"]
                return self._send(
                    200,
                    {
                        "files": [
                            {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False} for f in files
                        ]
                    },
                )
            for line in body.decode().splitlines():
                item = json.loads(line)
                if item["key"] == "file":
                    v = item["value"]
                    repo["files"][v["path"]] = base64.b64decode(v["content"])
            return self._send(200, {"commitUrl": f"{hub.url}/{rid}/commit/{'a' * 40}", "commitOid": "a" * 40})
        return self._send(404, {"error": f"not served here: {self.path}"})


@contextlib.contextmanager
def serving(monkeypatch):
    """(server, token): a fake Hub on 127.0.0.1 that accepts only `token` (as HF_TOKEN would send it)."""
    token = "hf_" + secrets.token_hex(16)
    monkeypatch.setenv("FAKE_HUB_TOKEN", token)
    hub = FakeHub()
    t = threading.Thread(target=hub.serve_forever, daemon=True)
    t.start()
    try:
        yield hub, token
    finally:
        hub.shutdown()
        hub.server_close()


def run_cli(root: Path, args: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
    e = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")}
    e.update(TUNEWISE_HOME=str(root), **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "tui.cli.main", *args],
        capture_output=True,
        text=True,
        env=e,
        cwd=root,
        timeout=600,
    )
