"""A SQLite response cache: request hash → response. A rerun costs nothing.

The key hashes (provider, model, endpoint identity, messages, parameters). API keys are never part
of the key or the row.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path

from tools.llm.types import RawResult

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
  key TEXT PRIMARY KEY,
  provider TEXT NOT NULL,
  model TEXT NOT NULL,
  text TEXT NOT NULL,
  prompt_tokens INTEGER, completion_tokens INTEGER,
  finish_reason TEXT,
  created REAL NOT NULL
)
"""


def request_key(provider: str, model: str, identity: dict, messages: list, params: dict) -> str:
    blob = json.dumps(
        {"provider": provider, "model": model, "identity": identity, "messages": messages, "params": params},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(_SCHEMA)
        self._conn.commit()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> RawResult | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT text, prompt_tokens, completion_tokens, finish_reason, model FROM responses WHERE key=?",
                (key,),
            ).fetchone()
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        return RawResult(
            text=row[0],
            prompt_tokens=row[1] or 0,
            completion_tokens=row[2] or 0,
            finish_reason=row[3],
            model=row[4],
        )

    def put(self, key: str, provider: str, model: str, raw: RawResult) -> None:
        from tools.llm.redact import redact

        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO responses VALUES (?,?,?,?,?,?,?,?)",
                (
                    key,
                    provider,
                    raw.model or model,
                    redact(raw.text),
                    raw.prompt_tokens,
                    raw.completion_tokens,
                    raw.finish_reason,
                    time.time(),
                ),
            )
            self._conn.commit()

    def __len__(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT COUNT(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._conn.close()
