"""`tunewise serve`: an OpenAI-compatible HTTP API over a local model (optionally + a LoRA adapter).

Endpoints: `GET /v1/models`, `POST /v1/chat/completions` (non-streaming and SSE streaming),
`GET /health` and `GET /stats` (not OpenAI; readiness and batching counters).

Concurrent requests are micro-batched: a worker takes the first queued request, waits a few
milliseconds for more (up to `batch_size`), groups them by generation parameters and runs one
batched `generate` per group in a thread. Requests that arrive while a batch is generating queue
up and form the next batch, so N concurrent clients cost far less than N sequential calls.
Streaming requests run one at a time (token by token) and share the model lock with the batcher.

Under abuse: a client that disconnects stops costing anything (a queued request is dropped, a batch
whose every client left is asked to stop; a stream stops at once); a request body over `max_body_bytes`
is refused with 413 before it is read (Content-Length, then counted while streaming); with an API key
every endpoint but `/health` needs `Authorization: Bearer <key>` (401 otherwise), and `serve` refuses
to listen beyond the loopback interface without one unless told `insecure`; `/v1/models` names the
model, never a path on this machine.
"""

import asyncio
import contextlib
import hmac
import inspect
import ipaddress
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.errors import UserError
from tools.llm.structured import schema_instruction
from tools.llm.types import GenParams, Message, RawResult, few_shot

log = logging.getLogger("tunewise.serve")

ROLES = ("system", "user", "assistant", "developer", "tool")
DEFAULT_MAX_BODY_MB = 4.0  # a chat request with a 128k-token context is well under 1 MB of JSON
API_KEY_ENV = "TUNEWISE_SERVE_API_KEY"
OPEN_PATHS = ("/health",)  # answered without the API key (load balancers, `start_server_process`)


# ---------------------------------------------------------------- request parsing (pure)
class BadRequest(Exception):
    """A client error: answered as an OpenAI-shaped error JSON with HTTP `status`."""

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        status: int = 400,
        code: str | None = None,
        type_: str = "invalid_request_error",
    ):
        super().__init__(message)
        self.message, self.param, self.status, self.code, self.type = message, param, status, code, type_


def error_body(
    message: str, type_: str = "invalid_request_error", param: str | None = None, code: str | None = None
) -> dict:
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def _content_text(content: Any, where: str) -> str:
    """OpenAI content is a string or a list of parts; only text parts are understood here."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for j, part in enumerate(content):
            if (
                not isinstance(part, dict)
                or part.get("type") != "text"
                or not isinstance(part.get("text"), str)
            ):
                raise BadRequest("only text content parts are supported", param=f"{where}.content[{j}]")
            parts.append(part["text"])
        return "".join(parts)
    raise BadRequest("content must be a string or a list of text parts", param=f"{where}.content")


@dataclass
class ChatRequest:
    model: str
    messages: list[Message]
    params: GenParams
    stream: bool = False
    include_usage: bool = False
    extra: dict = field(default_factory=dict)


def parse_chat_request(body: Any) -> ChatRequest:  # noqa: C901, PLR0915 - the OpenAI chat-completions body, field by field, each with its own error
    """Validate an OpenAI chat-completions body; raises BadRequest naming the offending field."""
    if not isinstance(body, dict):
        raise BadRequest("the request body must be a JSON object")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise BadRequest("`model` is required", param="model")
    raw_messages = body.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise BadRequest("`messages` must be a non-empty list", param="messages")
    messages: list[Message] = []
    for i, m in enumerate(raw_messages):
        where = f"messages[{i}]"
        if not isinstance(m, dict):
            raise BadRequest("each message must be an object", param=where)
        role = m.get("role")
        if role not in ROLES:
            raise BadRequest(f"unknown role {role!r}", param=f"{where}.role")
        # `developer` is OpenAI's newer name for the system role; tool output is shown as user text
        role = {"developer": "system", "tool": "user"}.get(role, role)
        messages.append({"role": role, "content": _content_text(m.get("content"), where)})
    n = body.get("n", 1)
    if n not in (1, None):
        raise BadRequest("only n=1 is supported", param="n")
    max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
    if max_tokens is None:
        max_tokens = 256
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise BadRequest("max_tokens must be a positive integer", param="max_tokens")
    temperature = body.get("temperature", 0.0)
    temperature = 0.0 if temperature is None else temperature
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, (int, float))
        or not 0 <= temperature <= 2
    ):
        raise BadRequest("temperature must be a number between 0 and 2", param="temperature")
    top_p = body.get("top_p", 1.0)
    top_p = 1.0 if top_p is None else top_p
    if isinstance(top_p, bool) or not isinstance(top_p, (int, float)) or not 0 < top_p <= 1:
        raise BadRequest("top_p must be a number in (0, 1]", param="top_p")
    seed = body.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise BadRequest("seed must be an integer", param="seed")
    stop = body.get("stop")
    if stop is None:
        stop_t: tuple[str, ...] = ()
    elif isinstance(stop, str):
        stop_t = (stop,)
    elif isinstance(stop, list) and all(isinstance(s, str) for s in stop) and len(stop) <= 4:
        stop_t = tuple(stop)
    else:
        raise BadRequest("stop must be a string or a list of up to 4 strings", param="stop")
    stream = bool(body.get("stream", False))
    stream_options = body.get("stream_options") or {}
    include_usage = bool(isinstance(stream_options, dict) and stream_options.get("include_usage"))
    rf = body.get("response_format")
    if rf is not None:
        # a small local model has no constrained decoding: state the schema in the system prompt instead
        if not isinstance(rf, dict) or rf.get("type") not in ("text", "json_object", "json_schema"):
            raise BadRequest(
                "response_format.type must be text, json_object or json_schema", param="response_format"
            )
        if rf["type"] == "json_schema":
            schema = (rf.get("json_schema") or {}).get("schema")
            if not isinstance(schema, dict):
                raise BadRequest(
                    "response_format.json_schema.schema must be an object",
                    param="response_format.json_schema.schema",
                )
            messages = _with_system_note(messages, schema_instruction(schema))
        elif rf["type"] == "json_object":
            messages = _with_system_note(messages, "Reply with only a JSON object.")
    params = GenParams(
        temperature=float(temperature), max_tokens=max_tokens, top_p=float(top_p), seed=seed, stop=stop_t
    )
    return ChatRequest(
        model=model, messages=messages, params=params, stream=stream, include_usage=include_usage
    )


def _with_system_note(messages: list[Message], note: str) -> list[Message]:
    msgs = [dict(m) for m in messages]
    if msgs and msgs[0]["role"] == "system":
        msgs[0]["content"] = f"{msgs[0]['content']}\n\n{note}"
    else:
        msgs.insert(0, {"role": "system", "content": note})
    return msgs


def served_model_id(model: str | None, adapter: str | None, name: str | None = None) -> str:
    """The id reported by /v1/models: `--name`, else the model (and adapter) names."""
    if name:
        return name
    from tools.llm.embedded import ALIASES

    base = "embedded" if model is None or model.lower() in ALIASES else Path(model).expanduser().name
    base = base.removesuffix(".gguf")
    if adapter:
        a = Path(adapter).expanduser()
        # training writes runs/<id>/train/vN/adapter: name it by its version, not "adapter"
        label = f"{a.parent.name}" if a.name == "adapter" else a.name
        return f"{base}+{label}"
    return base


def load_served_prompt(path: str | Path) -> dict:
    """The prompt a session chose for now (its `prompt.json`: instructions and examples), from that file or
    the session's folder, for `tunewise serve --prompt`: {"system", "shots", "model"} where "model" is the
    model the prompt was measured with (the session's task file), or None. Walk 17 was told "use this prompt
    with your model" and had no model to use it with."""
    from tools.workspace import Workspace, read_json

    given = Path(path).expanduser()
    if not given.exists() and "/" not in str(path):  # a session's id, in this folder's workspace
        try:
            given = Workspace().get_run(str(path)).path
        except Exception:  # noqa: BLE001 - not a session either: said below as a missing file
            pass
    file = given / "prompt.json" if given.is_dir() else given
    if not file.exists():
        raise UserError(
            f"no prompt.json {'in' if given.is_dir() else 'at'} {given}",
            where="--prompt",
            fix="give the id or folder of a session whose advice was a prompt (its report names it), or its "
            "prompt.json",
        )
    try:
        doc = read_json(file)
    except (OSError, ValueError) as e:
        raise UserError(f"{file} is not a prompt file ({e})", where="--prompt") from None
    shots = doc.get("shots") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or not isinstance(shots, list):
        raise UserError(f"{file} has no 'shots' list", where="--prompt", fix="give a session's prompt.json")
    pairs = []
    for i, s in enumerate(shots):
        if (
            not isinstance(s, dict)
            or not isinstance(s.get("input"), str)
            or not isinstance(s.get("output"), str)
        ):
            raise UserError(f"example {i + 1} needs 'input' and 'output' text", where=f"{file}: shots[{i}]")
        pairs.append({"input": s["input"], "output": s["output"]})
    model = None
    for spec_file in (file.parent / "spec.yaml", file.parent / "task.yaml"):
        if spec_file.exists():
            try:
                import yaml

                student = (yaml.safe_load(spec_file.read_text(encoding="utf-8")) or {}).get("student") or {}
                model = student.get("model") if isinstance(student, dict) else None
            except Exception:  # noqa: BLE001 - an unreadable task file: the default model
                model = None
            break
    return {"system": str(doc.get("system") or ""), "shots": pairs, "model": model}


def with_prompt(messages: list[Message], prompt: dict) -> list[Message]:
    """The caller's conversation after the prompt, as the prompt was measured: its instructions as the system
    message (a caller's own system message follows them), then each example as a user turn and the answer."""
    msgs = [dict(m) for m in messages]
    system = prompt.get("system") or ""
    while msgs and msgs[0]["role"] == "system":
        system = f"{system}\n\n{msgs.pop(0)['content']}" if system else msgs.pop(0)["content"]
    return few_shot(system or None, prompt.get("shots") or [], msgs)


# ---------------------------------------------------------------- micro-batcher
@dataclass
class _Pending:
    messages: list[Message]
    params: GenParams
    future: asyncio.Future


@dataclass
class BatchStats:
    requests: int = 0
    batches: int = 0
    max_batch: int = 0
    streams: int = 0
    cancelled: int = 0  # requests whose client went away before the answer

    def to_dict(self) -> dict:
        return {
            "requests": self.requests,
            "batches": self.batches,
            "max_batch": self.max_batch,
            "streams": self.streams,
            "cancelled": self.cancelled,
        }


class MicroBatcher:
    """Collects requests that arrive within `max_wait_s` (up to `batch_size`) into one generate call."""

    def __init__(
        self,
        provider,
        batch_size: int = 8,
        max_wait_s: float = 0.005,
        model_lock: "threading.Lock | None" = None,
    ):
        self.provider = provider
        self.batch_size = max(1, batch_size)
        self.max_wait_s = max_wait_s
        self.model_lock = model_lock or threading.Lock()
        self.stats = BatchStats()
        self._queue: asyncio.Queue[_Pending] | None = None
        self._task: asyncio.Task | None = None
        # a backend whose _generate_batch takes `stop_event` can abandon a batch every client has left
        try:
            self._can_stop = "stop_event" in inspect.signature(provider._generate_batch).parameters
        except (TypeError, ValueError, AttributeError):
            self._can_stop = False

    def start(self) -> None:
        self._queue = asyncio.Queue()
        self._task = asyncio.get_running_loop().create_task(self._worker())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def submit(self, messages: list[Message], params: GenParams) -> RawResult:
        """The answer. Cancelling the awaiting task cancels the request: dropped while still queued,
        and a batch whose every request was cancelled is asked to stop (when the backend can)."""
        assert self._queue is not None, "MicroBatcher.start() was not called"
        fut = asyncio.get_running_loop().create_future()
        self.stats.requests += 1
        await self._queue.put(_Pending(messages, params, fut))
        return await fut

    def _generate(
        self, batch: list[tuple[list[Message], GenParams, None]], stop: threading.Event | None = None
    ) -> list[RawResult]:
        with self.model_lock:
            if stop is not None and stop.is_set():  # every client left while this batch waited for the lock
                return [RawResult(text="", finish_reason="cancelled") for _ in batch]
            if self._can_stop:
                return self.provider._generate_batch(batch, stop_event=stop)
            return self.provider._generate_batch(batch)

    async def _next_live(self, get: Callable[[], Awaitable[_Pending]]) -> _Pending:
        """The next queued request whose client is still waiting (cancelled ones are dropped here)."""
        while True:
            item = await get()
            if not item.future.done():
                return item

    async def _collect(self) -> list[_Pending]:
        q = self._queue
        assert q is not None, "MicroBatcher.start() was not called"  # it starts the worker that calls this
        items = [await self._next_live(q.get)]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait_s
        while len(items) < self.batch_size:
            try:
                item = q.get_nowait()
                if not item.future.done():
                    items.append(item)
                continue
            except asyncio.QueueEmpty:
                pass
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            try:
                items.append(await asyncio.wait_for(self._next_live(q.get), remaining))
            except asyncio.TimeoutError:
                break
        return items

    async def _worker(self) -> None:
        while True:
            items = await self._collect()
            # one generate() shares max_tokens/temperature/stop, so group by parameters
            groups: dict[GenParams, list[_Pending]] = {}
            for it in items:
                if not it.future.done():  # a client that went away needs no answer
                    groups.setdefault(it.params, []).append(it)
            for params, group in groups.items():
                group = [it for it in group if not it.future.done()]  # left during an earlier group
                if not group:
                    continue
                self.stats.batches += 1
                self.stats.max_batch = max(self.stats.max_batch, len(group))
                stop = threading.Event()

                def _maybe_stop(_fut, group=group, stop=stop) -> None:
                    if all(it.future.cancelled() for it in group):
                        stop.set()  # nobody is waiting for this batch any more

                for it in group:
                    it.future.add_done_callback(_maybe_stop)
                try:
                    raws = await asyncio.to_thread(
                        self._generate, [(it.messages, params, None) for it in group], stop
                    )
                except Exception as e:  # noqa: BLE001 - delivered to every waiting request
                    for it in group:
                        if not it.future.done():
                            it.future.set_exception(e)
                    continue
                for it, raw in zip(group, raws, strict=True):
                    if not it.future.done():
                        it.future.set_result(raw)


# ---------------------------------------------------------------- the app
def _load_provider(model: str | None, adapter: str | None, dtype: str | None, batch_size: int):
    from tools.llm.local import LocalProvider

    p = LocalProvider(model or "embedded", adapter=adapter, dtype=dtype, batch_size=batch_size)
    p._loaded()  # load now: a bad path fails before the server starts listening
    return p


# ---------------------------------------------------------------- HTTP guards
class BearerAuth:
    """ASGI middleware: every path but OPEN_PATHS needs `Authorization: Bearer <key>` (401 otherwise).

    The key is compared in constant time and never echoed, logged or put in an error."""

    def __init__(self, app, api_key: str):
        self.app = app
        self._key = api_key.encode()

    def _authorized(self, scope) -> bool:
        for name, value in scope.get("headers") or ():
            if name == b"authorization":
                scheme, _, token = value.partition(b" ")
                return scheme.lower() == b"bearer" and hmac.compare_digest(token.strip(), self._key)
        return False

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("path") in OPEN_PATHS or self._authorized(scope):
            await self.app(scope, receive, send)
            return
        from fastapi.responses import JSONResponse

        body = error_body(
            "missing or wrong API key: send the header `Authorization: Bearer <key>` with the key this "
            f"server was started with (--api-key or {API_KEY_ENV})",
            "invalid_request_error",
            code="invalid_api_key",
        )
        await JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})(
            scope, receive, send
        )


def _too_large(limit: int) -> BadRequest:
    return BadRequest(
        f"the request body is larger than this server's limit of {limit:,} bytes "
        "(tunewise serve --max-body-mb)",
        status=413,
        code="request_too_large",
    )


async def read_body(request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it is known to exceed `limit` bytes: from the
    Content-Length header before a byte is read, else counted while it streams in."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise _too_large(limit)
        except ValueError:
            raise BadRequest("Content-Length is not a number") from None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def _until_disconnected(request) -> None:
    """Returns when the client has gone away (the body is already read: the next ASGI message is the
    disconnect, sent when the connection closes)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


def is_loopback(host: str) -> bool:
    """True when `host` is reachable only from this machine (127.0.0.0/8, ::1, localhost)."""
    h = host.strip().strip("[]")
    if h.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(h, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(str(i[4][0]).split("%")[0]).is_loopback for i in infos)


def check_exposure(host: str, api_key: str | None, insecure: bool = False) -> None:
    """Refuse to listen beyond the loopback interface with no API key, unless told `insecure`."""
    if api_key is not None and len(api_key) < 8:
        raise UserError(
            "the API key is shorter than 8 characters",
            where=f"--api-key / {API_KEY_ENV}",
            fix="use a long random key, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(24))'`",
        )
    if api_key or insecure or is_loopback(host):
        return
    raise UserError(
        f"refusing to listen on {host} (reachable from other machines) without an API key",
        where="--host",
        fix=f"set {API_KEY_ENV} (or --api-key) so clients must send `Authorization: Bearer <key>`, "
        "or pass --insecure to serve without one",
    )


def create_app(  # noqa: C901, PLR0915 - the HTTP app factory: every route is a closure over the one loaded model, its lock and stats
    model: str | None = "embedded",
    adapter: str | None = None,
    *,
    name: str | None = None,
    batch_size: int = 8,
    dtype: str | None = None,
    provider=None,
    max_wait_s: float = 0.005,
    api_key: str | None = None,
    max_body_bytes: int = int(DEFAULT_MAX_BODY_MB * 2**20),
    log_dir: str | None = None,
    log_max_bytes: int | None = None,
    prompt: dict | None = None,
):
    """The FastAPI app. Pass `provider` (a loaded LocalProvider) to share weights already in memory.

    `prompt` ({"system", "shots"}, `load_served_prompt`): every request is answered with that prompt's
    instructions and examples before its own messages.

    `api_key`: every endpoint but /health needs `Authorization: Bearer <api_key>`. `max_body_bytes`: a
    larger request body is refused with 413 before it is read."""
    from fastapi import FastAPI, Request, Response
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, StreamingResponse
    from starlette.exceptions import HTTPException as StarletteHTTPException

    from tools.userfile import loads_json

    if provider is None:
        provider = _load_provider(model, adapter, dtype, batch_size)
    model_id = served_model_id(model, adapter or getattr(provider, "adapter", None), name)
    accepted_ids = {model_id, model or "embedded"}
    from tools.train.config import trained_system_prompt

    # a tuned adapter answers best with the system prompt it was trained with: requests without one get it
    default_system = None if prompt else trained_system_prompt(adapter or getattr(provider, "adapter", None))
    created = int(time.time())
    context_length = provider.context_length
    model_lock = threading.Lock()
    batcher = MicroBatcher(provider, batch_size=batch_size, max_wait_s=max_wait_s, model_lock=model_lock)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        batcher.start()
        yield
        await batcher.stop()

    app = FastAPI(title="tunewise serve", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    if api_key:
        app.add_middleware(BearerAuth, api_key=api_key)
    app.state.batcher = batcher
    app.state.model_id = model_id
    app.state.provider = provider

    @app.exception_handler(BadRequest)
    async def _bad_request(_req, exc: BadRequest):
        return JSONResponse(error_body(exc.message, exc.type, exc.param, exc.code), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_req, exc: RequestValidationError):
        return JSONResponse(error_body(str(exc.errors()[:1])), status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req, exc: StarletteHTTPException):
        kind = "not_found_error" if exc.status_code == 404 else "invalid_request_error"
        return JSONResponse(error_body(str(exc.detail), kind), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def _internal(_req, exc: Exception):
        log.exception("request failed")
        return JSONResponse(
            error_body(f"internal error: {type(exc).__name__}", "server_error"), status_code=500
        )

    @app.get("/health")
    async def health() -> dict:
        return {"status": "ok", "model": model_id}

    @app.get("/stats")
    async def stats() -> dict:
        return {
            "model": model_id,
            "engine": getattr(provider, "engine", None),
            "engine_reason": getattr(provider, "engine_reason", None),  # the figures the banner leaves out
            "batch_size": batcher.batch_size,
            **batcher.stats.to_dict(),
        }

    def _model_card() -> dict:
        # names only: a client must not learn paths on this machine (home folder, user name, run ids)
        return {"id": model_id, "object": "model", "created": created, "owned_by": "tunewise"}

    @app.get("/v1/models")
    async def list_models() -> dict:
        return {"object": "list", "data": [_model_card()]}

    @app.get("/v1/models/{mid:path}")
    async def get_model(mid: str) -> dict:
        if mid not in accepted_ids:
            raise BadRequest(
                f"model {mid!r} not found; this server serves {model_id!r}",
                param="model",
                status=404,
                code="model_not_found",
                type_="not_found_error",
            )
        return _model_card()

    @app.post("/v1/chat/completions")
    async def chat_completions(request: Request):
        raw_body = await read_body(request, max_body_bytes)  # 413 before a too-large body is read
        try:
            body = loads_json(raw_body)  # nesting beyond 100 levels is bad JSON, not a RecursionError
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise BadRequest("the request body is not valid JSON") from None
        req = parse_chat_request(body)
        if prompt:
            req.messages = with_prompt(req.messages, prompt)
        elif default_system and req.messages[0]["role"] != "system":
            req.messages.insert(0, {"role": "system", "content": default_system})
        if req.model not in accepted_ids:
            raise BadRequest(
                f"model {req.model!r} not found; this server serves {model_id!r}",
                param="model",
                status=404,
                code="model_not_found",
                type_="not_found_error",
            )
        prompt_tokens = provider.count_tokens(req.messages)
        if prompt_tokens + req.params.max_tokens > context_length:
            raise BadRequest(
                f"this model's context is {context_length} tokens; the messages take {prompt_tokens} and "
                f"max_tokens asks for {req.params.max_tokens} more",
                param="messages",
                code="context_length_exceeded",
            )
        cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
        now = int(time.time())
        if req.stream:
            return StreamingResponse(
                _sse(provider, model_lock, batcher.stats, req, cid, now, model_id),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        # the client may leave while its request waits or generates: then cancel it (dropped from the
        # queue, or its batch asked to stop) instead of generating an answer nobody reads
        job = asyncio.ensure_future(batcher.submit(req.messages, req.params))
        gone = asyncio.ensure_future(_until_disconnected(request))
        try:
            await asyncio.wait({job, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            gone.cancel()
            answered = job.done()
            if not answered:
                job.cancel()  # asks only: the task is not cancelled until it runs again
                batcher.stats.cancelled += 1
        if not answered or job.cancelled():
            # nobody is listening; nginx's "client closed request" (a CI run under load called job.result()
            # on the job just asked to cancel: InvalidStateError)
            return Response(status_code=499)
        raw = job.result()
        return {
            "id": cid,
            "object": "chat.completion",
            "created": now,
            "model": model_id,
            "system_fingerprint": None,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": raw.text},
                    "logprobs": None,
                    "finish_reason": raw.finish_reason or "stop",
                }
            ],
            "usage": _usage(raw.prompt_tokens, raw.completion_tokens),
        }

    if log_dir:  # `--log DIR`: requests, answers and feedback as JSONL (tools/llm/servelog.py)
        _install_log(app, log_dir, log_max_bytes, model, adapter, provider, model_id, default_system)
    return app


def _install_log(app, log_dir, log_max_bytes, model, adapter, provider, model_id, default_system) -> None:
    from tools.llm.servelog import DEFAULT_MAX_BYTES, install

    install(
        app,
        log_dir,
        model_id=model_id,
        model=model,
        adapter=adapter or getattr(provider, "adapter", None),
        provider=provider,
        default_system=default_system,
        max_bytes=log_max_bytes or DEFAULT_MAX_BYTES,
    )


def _usage(prompt: int, completion: int) -> dict:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


async def _sse(  # noqa: C901, PLR0915 - OpenAI's streaming chunk format, field by field, around one producer thread and its queue
    provider,
    model_lock: "threading.Lock",
    stats: BatchStats,
    req: ChatRequest,
    cid: str,
    created: int,
    model_id: str,
) -> AsyncIterator[str]:
    """Server-sent events in OpenAI's chunk format, ending with `data: [DONE]`."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue = asyncio.Queue()
    stop_event = threading.Event()
    done = object()
    info: dict = {}
    stats.streams += 1

    def produce():
        try:
            with model_lock:
                for piece in provider.stream(req.messages, req.params, stop_event=stop_event, info=info):
                    loop.call_soon_threadsafe(queue.put_nowait, piece)
        except Exception as e:  # noqa: BLE001 - reported in the stream
            loop.call_soon_threadsafe(queue.put_nowait, e)
        finally:
            loop.call_soon_threadsafe(queue.put_nowait, done)

    def chunk(delta: dict, finish: str | None = None) -> str:
        obj = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model_id,
            "system_fingerprint": None,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"

    thread = threading.Thread(target=produce, daemon=True, name="tunewise-stream")
    thread.start()
    text = ""
    sent = 0  # characters of `text` already sent
    started = False  # leading whitespace is dropped, as the non-streaming path strips it
    finish = None
    hold = max((len(s) for s in req.params.stop), default=0)  # a stop string may still be forming
    try:
        yield chunk({"role": "assistant", "content": ""})
        while True:
            item = await queue.get()
            if item is done:
                break
            if isinstance(item, Exception):
                err = error_body(f"generation failed: {type(item).__name__}", "server_error")
                yield f"data: {json.dumps(err)}\n\n"
                return
            text += item
            cut = _first_stop(text, req.params.stop)
            if cut is not None:
                text, finish = text[:cut], "stop"
                stop_event.set()
            if not started:
                if not text.strip():
                    if finish:
                        break
                    continue
                sent, started = len(text) - len(text.lstrip()), True
            limit = len(text.rstrip())  # trailing whitespace waits until more text follows it
            if not finish:
                limit = min(limit, len(text) - hold)
            if limit > sent:
                yield chunk({"content": text[sent:limit]})
                sent = limit
            if finish:
                break
        end = len(text.rstrip())
        if started and end > sent:
            yield chunk({"content": text[sent:end]})
        prompt_tokens = info.get("prompt_tokens") or provider.count_tokens(req.messages)
        completion_tokens = info.get("completion_tokens", 0)
        finish = finish or info.get("finish_reason") or "stop"
        yield chunk({}, finish)
        if req.include_usage:
            obj = {
                "id": cid,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model_id,
                "choices": [],
                "usage": _usage(prompt_tokens, completion_tokens),
            }
            yield f"data: {json.dumps(obj)}\n\n"
        yield "data: [DONE]\n\n"
    finally:
        # a client that disconnects (or a stop string) ends generation early and frees the model
        stop_event.set()


def _first_stop(text: str, stops: tuple[str, ...]) -> int | None:
    cuts = [text.find(s) for s in stops if s and s in text]
    return min(cuts) if cuts else None


# ---------------------------------------------------------------- running it
def _bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise UserError(
            f"cannot listen on {host}:{port} ({e.strerror})",
            fix="pick another --port, or stop the process using it",
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _engine_line(provider) -> str | None:
    """The local provider's engine and, in a few words, why: the reason's words before its bracketed figures
    (walk 18 read the whole measurement as jargon; the figures are in /stats)."""
    engine = getattr(provider, "engine", None)
    reason = getattr(provider, "engine_reason", None)
    if not engine or not reason:
        return engine
    return f"{engine} ({reason.split(' (')[0]})"


def banner(
    model_id: str, base: str, batch_size: int, *, api_key: bool, host: str, engine: str | None = None
) -> str:
    """What `tunewise serve` prints when it listens (never the key itself)."""
    lines = [f"tunewise serve: {model_id} at {base}  (batch size {batch_size}; Ctrl-C stops)"]
    if engine:
        lines.append(f"  engine: {engine}")
    if api_key:
        lines.append(
            "  every endpoint but /health needs `Authorization: Bearer <key>` (the key you gave)\n"
            f'  try: curl -H "Authorization: Bearer $KEY" {base}/models   or   '
            f"TUNEWISE_API_KEY=$KEY tunewise chat 'hi' --provider compatible --base-url {base}"
        )
    else:
        if not is_loopback(host):
            lines.append(f"  WARNING: --insecure: anyone who can reach {host} can use this model")
        lines.append(
            f"  try: curl {base}/models   or   tunewise chat 'hi' --provider compatible --base-url {base}"
        )
    return "\n".join(lines)


def serve(
    model: str | None = "embedded",
    adapter: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    name: str | None = None,
    batch_size: int = 8,
    dtype: str | None = None,
    *,
    api_key: str | None = None,
    insecure: bool = False,
    max_body_mb: float = DEFAULT_MAX_BODY_MB,
    log_dir: str | None = None,
    log_max_mb: float | None = None,
    prompt: str | None = None,
) -> None:
    """Run the server in the foreground until Ctrl-C (`tunewise serve`).

    Without `api_key` it listens only on a loopback address unless `insecure` (one line, exit 2). With
    `prompt` (a session's folder or its prompt.json) every answer is given with that prompt, by the model it
    was measured with unless `model` names another."""
    import sys

    import uvicorn

    api_key = api_key or os.environ.get(API_KEY_ENV) or None
    check_exposure(host, api_key, insecure)
    served_prompt = load_served_prompt(prompt) if prompt else None
    if served_prompt and not model:
        model = served_prompt.get("model") or "embedded"
    model = model or "embedded"
    if api_key:  # the redactor hides the values of *KEY* variables in any log or error line
        os.environ[API_KEY_ENV] = api_key
    sock = _bind(host, port)  # fail with one line before loading the model if the port is taken
    app = create_app(
        model,
        adapter,
        name=name,
        batch_size=batch_size,
        dtype=dtype,
        api_key=api_key,
        max_body_bytes=int(max_body_mb * 2**20),
        log_dir=log_dir,
        log_max_bytes=int(log_max_mb * 2**20) if log_max_mb else None,
        prompt=served_prompt,
    )
    bound_port = sock.getsockname()[1]
    base = f"http://{host}:{bound_port}/v1"
    print(
        banner(
            app.state.model_id,
            base,
            batch_size,
            api_key=bool(api_key),
            host=host,
            engine=_engine_line(app.state.provider),
        ),
        file=sys.stderr,
        flush=True,
    )
    if served_prompt:
        n = len(served_prompt["shots"])
        body = json.dumps({"model": app.state.model_id, "messages": [{"role": "user", "content": "hi"}]})
        print(
            f"  every answer is given with the prompt from {prompt}: its instructions and {n} example"
            f"{'' if n == 1 else 's'} go before each request's messages\n"
            f"  send a message: curl {base}/chat/completions -H 'content-type: application/json' -d '{body}'",
            file=sys.stderr,
            flush=True,
        )
    if log_dir:
        print(
            f"  logging requests, answers and feedback to {log_dir}/serve.jsonl; rate an answer: POST {base}"
            '/feedback {"request_id": "<the completion id>", "rating": 1-5, "correction": "…"}',
            file=sys.stderr,
            flush=True,
        )
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=2)
    uvicorn.Server(config).run(sockets=[sock])


def start_background_server(
    model: str | None = "embedded",
    adapter: str | None = None,
    *,
    name: str | None = None,
    batch_size: int = 8,
    dtype: str | None = None,
    provider=None,
    host: str = "127.0.0.1",
    port: int = 0,
    timeout_s: float = 120.0,
    api_key: str | None = None,
    max_body_bytes: int = int(DEFAULT_MAX_BODY_MB * 2**20),
    log_dir: str | None = None,
    log_max_bytes: int | None = None,
    prompt: dict | None = None,
) -> tuple[str, Callable[[], None]]:
    """Start the server in a daemon thread of this process on a free port: (base_url ending in /v1, stop).

    The model is loaded (or shared, via `provider`) in this process, so tests pay for it once.
    """
    import uvicorn

    sock = _bind(host, port)
    app = create_app(
        model,
        adapter,
        name=name,
        batch_size=batch_size,
        dtype=dtype,
        provider=provider,
        api_key=api_key,
        max_body_bytes=max_body_bytes,
        log_dir=log_dir,
        log_max_bytes=log_max_bytes,
        prompt=prompt,
    )
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="tunewise-serve"
    )
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("tunewise serve did not start")
        time.sleep(0.02)
    base_url = f"http://{host}:{sock.getsockname()[1]}/v1"

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

    return base_url, stop


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def start_server_process(
    model: str = "embedded",
    adapter: str | None = None,
    *,
    name: str | None = None,
    batch_size: int = 8,
    extra_args: list[str] | None = None,
    env: dict | None = None,
    timeout_s: float = 180.0,
) -> tuple[str, Callable[[], None]]:
    """Run `tunewise serve` as a subprocess on a free port; wait until /health answers: (base_url, stop)."""
    import os
    import subprocess
    import sys

    import httpx

    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "tui.cli.main",
        "serve",
        "--model",
        model,
        "--port",
        str(port),
        "--batch-size",
        str(batch_size),
    ]
    if adapter:
        cmd += ["--adapter", adapter]
    if name:
        cmd += ["--name", name]
    cmd += extra_args or []
    proc = subprocess.Popen(
        cmd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise RuntimeError(f"tunewise serve exited with {proc.returncode}: {(err or out).strip()[-500:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            proc.communicate()
            raise RuntimeError("tunewise serve did not answer /health in time")
        time.sleep(0.2)

    def stop() -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.communicate(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()

    return base_url, stop
