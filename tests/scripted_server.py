"""A scripted backend for `tunewise serve` tests: a real HTTP server (start_background_server) over a
stand-in for LocalProvider, so server behaviour is tested without loading a model."""

from __future__ import annotations

import threading
from pathlib import Path

from tools.llm.types import RawResult

KEY = "s3cret-serve-key-0123456789"
BODY = {"model": "fake", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}
LIMIT = 30.0  # seconds: an upper bound for a failing test, never a synchronisation


class ScriptedBackend:
    """Stands in for LocalProvider: records what it generates; a prompt containing 'hold' blocks until
    released or until the server sets the batch's stop event."""

    context_length = 4096
    adapter = "/home/someone/secret-project/.tunewise/runs/r1/train/v3/adapter"
    model_path = Path("/home/someone/models/private-base")

    def __init__(self):
        self.generated: list[str] = []
        self.started = threading.Event()
        self.stopped = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()

    def count_tokens(self, messages) -> int:
        return sum(len(m["content"].split()) for m in messages)

    def _generate_batch(self, batch, stop_event=None):
        prompts = [msgs[-1]["content"] for msgs, _, _ in batch]
        with self.lock:
            self.generated.extend(prompts)
        if any("hold" in p for p in prompts):
            self.started.set()
            while not self.release.wait(0.01):  # released, or the server asks the batch to stop
                if stop_event is not None and stop_event.is_set():
                    self.stopped.set()
                    return [RawResult(text="", finish_reason="cancelled") for _ in batch]
        return [RawResult(text=f"echo {p}", prompt_tokens=1, completion_tokens=2) for p in prompts]


def scripted_servers(backend: ScriptedBackend):
    """For a `server` fixture: yields start(**create_app options) → base URL; stops them all after."""
    from tools.llm.server import start_background_server

    started = []

    def start(**kw):
        base_url, stop = start_background_server(provider=backend, name="fake", **kw)
        started.append(stop)
        return base_url

    yield start
    backend.release.set()
    for stop in started:
        stop()
