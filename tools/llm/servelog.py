"""`tunewise serve --log DIR`: every request and its answer, and the feedback on it, as JSONL.

    DIR/serve.jsonl                     the file being written
    DIR/serve-20261201T221500-1.jsonl   earlier files, rotated when the current one reaches the size limit

One JSON object a line:

    {"type": "request", "request_id": "chatcmpl-…", "time": "2026-12-01T22:15:00Z", "ts": 1796…,
     "status": 200, "model": "<served id>", "version": {"adapter": …, "run_id": …, "train_version": "v2",
     "fingerprint": "…"}, "stream": false, "messages": [… what the model saw, the default system prompt
     included …], "params": {"max_tokens": …, "temperature": …}, "response": "…", "finish_reason": "stop",
     "latency_s": 0.41, "ttft_s": null, "prompt_tokens": 52, "completion_tokens": 9}
    {"type": "feedback", "request_id": "chatcmpl-…", "time": …, "ts": …, "rating": 2, "correction": "…"}

`request_id` is the chat completion's `id` (what an OpenAI client returns as `completion.id`); a request
that failed (4xx/5xx) is logged with its status, its error and an id of its own. Request headers are never
read into the log (the API key travels in one), and every text goes through `tools.llm.redact` so a key a
user pastes into a message is not written either. Requests refused by the API-key check are not logged.

`install(app, DIR, …)` adds the logging (an ASGI middleware around /v1/chat/completions) and the
`POST /v1/feedback {request_id, rating 1-5, correction?}` endpoint to the server's app; `read_log(DIR)` reads
it back for `tunewise data import --from-serve-log` and `tunewise monitor`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.llm.redact import redact

CURRENT = "serve.jsonl"
DEFAULT_MAX_BYTES = 50 * 2**20
CHAT_PATH = "/v1/chat/completions"
FEEDBACK_PATH = "/v1/feedback"
MAX_FEEDBACK_BYTES = 256 * 1024
LOGGED_PARAMS = ("max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "seed", "n")


def _utc(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _redact_messages(messages: Any) -> Any:
    if not isinstance(messages, list):
        return None
    out = []
    for m in messages:
        if not isinstance(m, dict):
            continue
        content = m.get("content")
        if isinstance(content, list):  # content parts: keep the text ones
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        out.append({"role": str(m.get("role", "")), "content": redact(str(content or ""))})
    return out


class ServeLog:
    """Append-only JSONL with size-based rotation; safe to call from many threads."""

    def __init__(self, directory: str | Path, max_bytes: int = DEFAULT_MAX_BYTES):
        self.dir = Path(directory)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max(int(max_bytes), 1024)
        self._lock = threading.Lock()
        self._ids: set[str] = set()  # request ids this process logged (feedback checks them first)

    @property
    def path(self) -> Path:
        return self.dir / CURRENT

    def _rotate(self) -> None:
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S")
        n = 1
        while (target := self.dir / f"serve-{stamp}-{n}.jsonl").exists():
            n += 1
        os.replace(self.path, target)

    def append(self, record: dict) -> None:
        line = (json.dumps(record, ensure_ascii=False, default=str) + "\n").encode()
        with self._lock:
            try:
                if self.path.stat().st_size + len(line) > self.max_bytes:
                    self._rotate()
            except FileNotFoundError:
                pass
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)  # one write per line: a crash never leaves half a record in the middle
            finally:
                os.close(fd)
            if record.get("type") == "request":
                self._ids.add(record["request_id"])

    def knows(self, request_id: str) -> bool:
        if request_id in self._ids:
            return True
        return any(r.get("request_id") == request_id for r in iter_records(self.dir, kinds=("request",)))

    def feedback(self, request_id: str, rating: int | None, correction: str | None) -> dict:
        now = time.time()
        rec = {
            "type": "feedback",
            "request_id": request_id,
            "time": _utc(now),
            "ts": round(now, 3),
            "rating": rating,
            "correction": redact(correction) if correction is not None else None,
        }
        self.append(rec)
        return rec


# ------------------------------------------------------------------ what is being served
def model_version(model: str | None, adapter: str | None) -> dict:
    """Which weights answer: the adapter (or merged export) path, its run and training version when it lives
    in a tunewise run, and a fingerprint of the adapter weights (sha256, 12 hex digits)."""
    out: dict[str, Any] = {"model": model, "adapter": adapter}
    target = Path(adapter) if adapter else (Path(model) if model and Path(model).exists() else None)
    if target is None:
        return out
    parts = target.resolve().parts
    if "runs" in parts:
        i = len(parts) - 1 - parts[::-1].index("runs")
        if i + 1 < len(parts):
            out["run_id"] = parts[i + 1]
        if i + 3 < len(parts) and parts[i + 2] == "train":
            out["train_version"] = parts[i + 3]
        elif i + 2 < len(parts) and parts[i + 2] == "export":
            try:
                info = json.loads((Path(*parts[: i + 3]) / "export.json").read_text())
                out["train_version"] = info.get("train_version")
            except (OSError, ValueError):
                pass
    weights = target / "adapter_model.safetensors"
    if weights.is_file():
        h = hashlib.sha256()
        with open(weights, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        out["fingerprint"] = h.hexdigest()[:12]
    return out


# ------------------------------------------------------------------ the middleware
@dataclass
class _Exchange:
    started: float
    body: bytearray = field(default_factory=bytearray)
    status: int | None = None
    content_type: str = ""
    out: bytearray = field(default_factory=bytearray)
    first_byte: float | None = None
    ended: float | None = None


def _parse_sse(raw: bytes) -> dict:
    """id, text, finish reason and usage from an OpenAI chat-completion event stream."""
    text, rid, finish, usage, error = [], None, None, None, None
    for line in raw.decode("utf-8", "replace").splitlines():
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        try:
            obj = json.loads(line[6:])
        except ValueError:
            continue
        if "error" in obj:
            error = (obj.get("error") or {}).get("message")
            continue
        rid = obj.get("id") or rid
        usage = obj.get("usage") or usage
        for ch in obj.get("choices") or []:
            text.append((ch.get("delta") or {}).get("content") or "")
            finish = ch.get("finish_reason") or finish
    return {"id": rid, "text": "".join(text), "finish_reason": finish, "usage": usage, "error": error}


class LogMiddleware:
    """Logs every /v1/chat/completions exchange (not the ones refused by the API-key check)."""

    def __init__(
        self, app, log: ServeLog, *, model_id: str, version: dict, provider=None, default_system=None
    ):
        self.app = app
        self.log = log
        self.model_id = model_id
        self.version = version
        self.provider = provider
        self.default_system = default_system

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path") != CHAT_PATH or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        ex = _Exchange(started=time.monotonic())

        async def recv():
            msg = await receive()
            if msg["type"] == "http.request":
                ex.body.extend(msg.get("body", b""))
            return msg

        async def snd(msg):
            if msg["type"] == "http.response.start":
                ex.status = msg["status"]
                for k, v in msg.get("headers") or []:
                    if k.lower() == b"content-type":
                        ex.content_type = v.decode("latin-1")
            elif msg["type"] == "http.response.body":
                if msg.get("body"):
                    if ex.first_byte is None:
                        ex.first_byte = time.monotonic()
                    ex.out.extend(msg["body"])
                if not msg.get("more_body"):
                    ex.ended = time.monotonic()
            await send(msg)

        try:
            await self.app(scope, recv, snd)
        finally:
            if ex.status not in (None, 401, 403):
                import asyncio

                try:
                    await asyncio.to_thread(self._write, ex)
                except Exception:  # noqa: BLE001 - the log must never break serving
                    import logging

                    logging.getLogger(__name__).exception("could not write the serve log")

    def _tokens(self, messages, text: str) -> tuple[int | None, int | None]:
        p = self.provider
        if p is None:
            return None, None
        try:
            prompt = p.count_tokens(messages) if messages else None
            completion = len(p.tokenizer(text, add_special_tokens=False)["input_ids"]) if text else 0
            return prompt, completion
        except Exception:  # noqa: BLE001
            return None, None

    def _write(self, ex: _Exchange) -> None:
        end = ex.ended or time.monotonic()
        now = time.time()
        try:
            req = json.loads(bytes(ex.body) or b"{}")
        except ValueError:
            req = {}
        if not isinstance(req, dict):
            req = {}
        messages = _redact_messages(req.get("messages"))
        if messages and self.default_system and messages[0]["role"] != "system":
            messages.insert(0, {"role": "system", "content": self.default_system})  # what the model saw
        stream = bool(req.get("stream"))
        rec: dict[str, Any] = {
            "type": "request",
            "request_id": None,
            "time": _utc(now),
            "ts": round(now, 3),
            "status": ex.status,
            "model": self.model_id,
            "version": self.version,
            "stream": stream,
            "messages": messages,
            "params": {k: req[k] for k in LOGGED_PARAMS if k in req},
            "response": None,
            "finish_reason": None,
            "latency_s": round(end - ex.started, 4),
            "ttft_s": round(ex.first_byte - ex.started, 4) if stream and ex.first_byte else None,
            "prompt_tokens": None,
            "completion_tokens": None,
        }
        usage = None
        if "text/event-stream" in ex.content_type:
            parsed = _parse_sse(bytes(ex.out))
            rec.update(
                request_id=parsed["id"], response=parsed["text"], finish_reason=parsed["finish_reason"]
            )
            usage = parsed["usage"]
            if parsed["error"]:
                rec["error"] = redact(str(parsed["error"]))
        else:
            try:
                body = json.loads(bytes(ex.out) or b"{}")
            except ValueError:
                body = {}
            if isinstance(body, dict) and body.get("choices"):
                choice = body["choices"][0]
                rec.update(
                    request_id=body.get("id"),
                    response=redact(str((choice.get("message") or {}).get("content") or "")),
                    finish_reason=choice.get("finish_reason"),
                )
                usage = body.get("usage")
            elif isinstance(body, dict) and body.get("error"):
                rec["error"] = redact(str((body["error"] or {}).get("message", "")))[:500]
        if rec["response"] is not None:
            rec["response"] = redact(rec["response"])
        if usage:
            rec["prompt_tokens"], rec["completion_tokens"] = (
                usage.get("prompt_tokens"),
                usage.get("completion_tokens"),
            )
        elif rec["response"] is not None:
            rec["prompt_tokens"], rec["completion_tokens"] = self._tokens(messages, rec["response"])
        rec["request_id"] = rec["request_id"] or f"req-{uuid.uuid4().hex[:24]}"
        self.log.append(rec)


def install(
    app,
    directory: str | Path,
    *,
    model_id: str,
    model: str | None = None,
    adapter: str | None = None,
    provider=None,
    default_system: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> ServeLog:
    """Log the app's chat completions into `directory` and add `POST /v1/feedback`."""
    from starlette.responses import JSONResponse

    log = ServeLog(directory, max_bytes=max_bytes)
    app.state.serve_log = log
    app.add_middleware(
        LogMiddleware,
        log=log,
        model_id=model_id,
        version=model_version(model, adapter),
        provider=provider,
        default_system=default_system,
    )

    async def feedback(request):  # a plain Starlette endpoint: the app's error handlers still apply
        import asyncio

        from tools.llm.server import BadRequest, read_body
        from tools.userfile import loads_json

        raw = await read_body(request, MAX_FEEDBACK_BYTES)
        try:
            body = loads_json(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BadRequest("the request body is not valid JSON") from None
        request_id, rating, correction = parse_feedback(body)
        if not await asyncio.to_thread(log.knows, request_id):
            raise BadRequest(
                f"no logged request with id {request_id!r} (the `id` of a chat completion this server answered)",
                param="request_id",
                status=404,
                type_="not_found_error",
                code="request_not_found",
            )
        rec = await asyncio.to_thread(log.feedback, request_id, rating, correction)
        return JSONResponse(
            {"object": "feedback", "request_id": request_id, "rating": rating, "recorded": rec["time"]}
        )

    app.add_route(FEEDBACK_PATH, feedback, methods=["POST"])
    return log


def parse_feedback(body: Any) -> tuple[str, int | None, str | None]:
    """(request_id, rating, correction) from a feedback body, or BadRequest saying what is wrong."""
    from tools.llm.server import BadRequest

    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object: {request_id, rating 1-5, correction?}")
    request_id = body.get("request_id")
    if not isinstance(request_id, str) or not request_id.strip():
        raise BadRequest("request_id is required: the `id` of the chat completion", param="request_id")
    rating = body.get("rating")
    if rating is not None and (
        isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5
    ):
        raise BadRequest(f"rating must be a whole number from 1 to 5, got {rating!r}", param="rating")
    correction = body.get("correction")
    if correction is not None and (not isinstance(correction, str) or not correction.strip()):
        raise BadRequest("correction must be the corrected answer as non-empty text", param="correction")
    if rating is None and correction is None:
        raise BadRequest("send a rating (1-5), a correction, or both", param="rating")
    unknown = set(body) - {"request_id", "rating", "correction"}
    if unknown:
        raise BadRequest(f"unknown field(s): {', '.join(sorted(unknown))}", param=sorted(unknown)[0])
    return request_id.strip(), rating, correction


# ------------------------------------------------------------------ reading it back
def log_files(directory: str | Path) -> list[Path]:
    d = Path(directory)
    rotated = sorted(d.glob("serve-*.jsonl"))
    return rotated + ([d / CURRENT] if (d / CURRENT).exists() else [])


def iter_records(directory: str | Path, kinds: tuple[str, ...] = ("request", "feedback")) -> Iterator[dict]:
    """Every record, oldest file first; a line that is not JSON (a crash mid-write) is skipped."""
    for path in log_files(directory):
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if isinstance(rec, dict) and rec.get("type") in kinds:
                    yield rec


@dataclass
class LogData:
    requests: dict[str, dict]  # request_id → request record
    feedback: dict[str, dict]  # request_id → the latest rating and the latest correction, merged


def read_log(directory: str | Path) -> LogData:
    """The log as requests and their (merged) feedback. A later rating or correction replaces an earlier one."""
    from tools.errors import UserError

    d = Path(directory)
    if not d.is_dir() or not log_files(d):
        raise UserError(
            "no serve log here",
            where=str(d),
            fix="point at the folder given to `tunewise serve --log DIR` (it holds serve.jsonl)",
        )
    requests: dict[str, dict] = {}
    feedback: dict[str, dict] = {}
    for rec in iter_records(d):
        rid = rec.get("request_id")
        if not rid:
            continue
        if rec["type"] == "request":
            requests[rid] = rec
        else:
            fb = feedback.setdefault(rid, {"rating": None, "correction": None, "ts": None})
            if rec.get("rating") is not None:
                fb["rating"] = rec["rating"]
            if rec.get("correction") is not None:
                fb["correction"] = rec["correction"]
            fb["ts"] = rec.get("ts")
    return LogData(requests, feedback)
