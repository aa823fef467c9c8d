"""The one provider interface.

A provider turns chat messages into a `Completion` (text, token usage, cost, latency). The base class
owns everything around the call so every backend gets it the same way: the response cache, the
budget guard, the single retry layer, structured output with one repair retry, and a concurrent
`map`. Backends implement either `_agenerate` (API: one request, async) or `_generate_batch`
(local: many requests in one forward pass).
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from typing import Any, cast

from tools.llm.budget import Budget
from tools.llm.cache import ResponseCache, request_key
from tools.llm.pricing import PriceTable
from tools.llm.redact import redact
from tools.llm.retry import RetryPolicy, with_retries
from tools.llm.structured import parse_structured, repair_message, schema_instruction
from tools.llm.types import Completion, GenParams, Message, RawResult, Request, Usage

log = logging.getLogger("tunewise.llm")

# the adaptive-concurrency gate of the `amap` a request runs in (None: a fixed semaphore, no gate)
_GATE: contextvars.ContextVar[Any] = contextvars.ContextVar("tunewise_llm_gate", default=None)


def run_sync(coro):
    """Run a coroutine from sync code, also when an event loop already runs in this thread (TUI). The loop
    is new and ends with the call: the SDK clients made for it are closed before it ends."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_closing_loop_clients(coro))
    result: dict[str, Any] = {}

    def target():
        try:
            result["value"] = asyncio.run(_closing_loop_clients(coro))
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


class LoopClients:
    """One async SDK client per event loop.

    Sync callers run each `map`/`complete` in a fresh event loop (`run_sync`); an httpx connection
    pool opened in one loop fails in the next ("Event loop is closed"), so each loop gets its own
    client, closed by `run_sync` before its loop ends: unclosed, every loop's pool kept its sockets, and
    a 20,000-example generation (one loop per batch) died at 13,834 with "Too many open files". A
    caller-supplied http_client is shared as given (its owner closes it).
    """

    def __init__(self, factory: Callable[[], Any], shared: bool = False):
        self._factory = factory
        self._shared = factory() if shared else None
        self._by_loop: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()
        _ALL_LOOP_CLIENTS.add(self)

    def get(self):
        if self._shared is not None:
            return self._shared
        loop = asyncio.get_running_loop()
        with self._lock:
            client = self._by_loop.get(loop)
            if client is None:
                client = self._by_loop[loop] = self._factory()
            return client

    async def aclose_for(self, loop: asyncio.AbstractEventLoop) -> None:
        """Close the client made for `loop` (its connection pool), if any."""
        with self._lock:
            client = self._by_loop.pop(loop, None)
        if client is not None:
            try:
                await client.close()
            except Exception:  # noqa: BLE001 - a client that fails to close must not fail the call
                log.debug("could not close an SDK client", exc_info=True)


_ALL_LOOP_CLIENTS: weakref.WeakSet = weakref.WeakSet()  # every LoopClients alive (their providers are)


async def _closing_loop_clients(coro):
    """`coro`, then the SDK clients made for this loop closed (run_sync's loops end with their call)."""
    try:
        return await coro
    finally:
        loop = asyncio.get_running_loop()
        for clients in list(_ALL_LOOP_CLIENTS):
            await clients.aclose_for(loop)


def approx_tokens(messages: Sequence[Message]) -> int:
    """A cheap upper-ish estimate for the budget guard (≈4 characters per token plus overhead)."""
    chars = sum(len(str(m.get("content", ""))) for m in messages)
    return chars // 3 + 8 * len(messages) + 8


class StopRequested(Exception):
    """A batch was cut short because the step running it was asked to stop (`Provider.stop_event`)."""


class Provider:
    name: str = "base"
    batched: bool = False  # True: map() groups requests into _generate_batch calls
    streams: bool = False  # True: stream() yields the answer's text as it is generated

    def __init__(
        self,
        model: str,
        *,
        cache: ResponseCache | None = None,
        budget: Budget | None = None,
        prices: PriceTable | None = None,
        retry: RetryPolicy | None = None,
        concurrency: int = 8,
        max_concurrency: int | None = None,
        role: str | None = None,
    ):
        self.model = model
        self.cache = cache
        self.budget = budget
        self.prices = prices or PriceTable.load()
        self.retry = retry or RetryPolicy()
        self.concurrency = concurrency
        # above `concurrency`: API calls adapt between 1 and this cap (AIMD on 429s, tools/llm/concurrency.py)
        self.max_concurrency = max_concurrency
        self._limit: Any = None  # the AdaptiveLimit, made by the first adaptive amap; it outlives loops
        self.role = role
        self.calls = 0  # backend calls actually made (not served from cache)
        # set by whoever runs the step (the agent's context): a batch ends at its next token once the event is
        # set, and `on_stop` is called instead of keeping answers cut short (walk 12: s took minutes to land)
        self.stop_event: threading.Event | None = None
        self.on_stop: Callable[[], None] | None = None

    # ------------------------------------------------------------ backend hooks
    def identity(self) -> dict:
        """What besides provider+model changes the answer (base URL, adapter, dtype); part of the cache key."""
        return {}

    async def _agenerate(
        self, messages: list[Message], params: GenParams, json_schema: dict | None
    ) -> RawResult:
        raise NotImplementedError

    def _generate_batch(
        self,
        batch: list[tuple[list[Message], GenParams, dict | None]],
        stop_event: threading.Event | None = None,
    ) -> list[RawResult]:
        """A local backend's batch; one that can end early at `stop_event` names the parameter itself."""
        raise NotImplementedError

    async def _astream(self, messages: list[Message], params: GenParams, info: dict):
        """API backends that stream: an async generator of text pieces; fills `info` with
        prompt_tokens, completion_tokens and finish_reason when the backend reports them."""
        raise NotImplementedError
        yield ""  # pragma: no cover - makes this an async generator

    def _classify_error(self, exc: BaseException) -> tuple[bool, float | None]:
        """(retryable, retry_after_seconds)."""
        return False, None

    def _wrap_error(self, exc: BaseException) -> BaseException:
        """Turn a backend exception into a clear, key-free error."""
        return exc

    def _throttled(self, exc: BaseException) -> bool:
        """Whether the server said "too many requests" (429): adaptive concurrency halves on it."""
        return False

    def describe(self) -> str:
        return f"{self.name}:{self.model}"

    # ------------------------------------------------------------ public API
    def complete(
        self, messages: list[Message], *, json_schema: dict | None = None, use_cache: bool = True, **params
    ) -> Completion:
        return self.map([Request(messages, GenParams(**_norm(params)), json_schema)], use_cache=use_cache)[0]

    def stream(  # noqa: C901 - budget, retries, error wrapping and caching around one streamed request, inline: a producer thread and its queue share them
        self,
        messages: list[Message],
        params: GenParams,
        *,
        stop_event: threading.Event | None = None,
        info: dict | None = None,
    ):
        """Yield text pieces as they are generated (one request; a person watching, e.g. the TUI).

        Around the backend's `_astream`, the same guards as a plain call: the budget is reserved before
        and charged after from the usage reported (the estimate when the stream is cut short), retries
        while nothing has been shown yet, errors come back wrapped (no keys), and a finished answer goes
        into the response cache. Setting `stop_event` ends the stream early.
        """
        import queue

        if not self.streams:
            raise NotImplementedError(f"{self.describe()} does not stream")
        info = {} if info is None else info
        estimate = self._estimate(messages, params)
        if self.budget:
            self.budget.reserve(estimate, f"{self.describe()} call")
        pieces: queue.Queue = queue.Queue()
        done = object()
        sent = 0

        async def attempt() -> None:
            nonlocal sent
            async for piece in self._astream(messages, params, info):
                sent += 1
                pieces.put(piece)
                if stop_event is not None and stop_event.is_set():
                    info["finish_reason"] = "stopped"
                    break

        def classify(exc: BaseException) -> tuple[bool, float | None]:
            retryable, after = self._classify_error(exc)
            return retryable and sent == 0, after  # once text is shown, a retry would repeat it

        async def pump() -> None:
            await with_retries(attempt, classify, self.retry)

        def worker() -> None:
            try:
                asyncio.run(_closing_loop_clients(pump()))
                pieces.put(done)
            except BaseException as e:  # noqa: BLE001 - re-raised in the consumer's thread
                pieces.put(e)

        threading.Thread(target=worker, daemon=True).start()
        text: list[str] = []
        finished = failed = False
        try:
            while True:
                item = pieces.get()
                if item is done:
                    finished = True
                    break
                if isinstance(item, BaseException):
                    failed = True
                    raise self._wrap_error(item) from None
                text.append(item)
                yield item
        finally:
            if self.budget:
                self.budget.release(estimate)
                if not finished and (text or not failed):
                    # cut short by the consumer, or broken mid-answer: charge what it may have cost
                    self.budget.charge(estimate, "llm")
        self.calls += 1
        answer = "".join(text).strip()
        raw = RawResult(
            text=answer,
            prompt_tokens=int(info.get("prompt_tokens") or approx_tokens(messages)),
            completion_tokens=int(info.get("completion_tokens") or max(1, len(answer) // 4)),
            finish_reason=info.get("finish_reason"),
            model=info.get("model"),
        )
        info.setdefault("prompt_tokens", raw.prompt_tokens)
        info.setdefault("completion_tokens", raw.completion_tokens)
        if self.budget:
            self.budget.charge(
                self.prices.cost(self.name, self.model, raw.prompt_tokens, raw.completion_tokens), "llm"
            )
        if self.cache is not None and info.get("finish_reason") != "stopped":
            self.cache.put(self._key(messages, params, None), self.name, self.model, raw)

    async def acomplete(
        self, messages: list[Message], *, json_schema: dict | None = None, use_cache: bool = True, **params
    ) -> Completion:
        res = await self.amap(
            [Request(messages, GenParams(**_norm(params)), json_schema)], use_cache=use_cache
        )
        return res[0]

    def map(
        self,
        requests: Sequence[Request],
        *,
        concurrency: int | None = None,
        use_cache: bool = True,
        on_result: Callable[[int, Completion], None] | None = None,
    ) -> list[Completion]:
        """Answer many requests: cached ones at once, the rest batched (local) or concurrently (API)."""
        if self.batched:
            return self._map_batched(list(requests), use_cache, on_result)
        return run_sync(
            self.amap(requests, concurrency=concurrency, use_cache=use_cache, on_result=on_result)
        )

    async def amap(
        self,
        requests: Sequence[Request],
        *,
        concurrency: int | None = None,
        use_cache: bool = True,
        on_result: Callable[[int, Completion], None] | None = None,
    ) -> list[Completion]:
        requests = list(requests)
        if self.batched:
            return await asyncio.to_thread(self._map_batched, requests, use_cache, on_result)
        gate = self._gate(concurrency)
        # adaptive: the gate decides how many attempts are in flight; the semaphore only bounds how many
        # requests wait on it (a few dozen, not every request of a 20k map)
        sem = asyncio.Semaphore(gate.limit.cap if gate is not None else (concurrency or self.concurrency))
        results: list[Completion | None] = [None] * len(requests)

        async def one(i: int, req: Request):
            _GATE.set(gate)  # this task's own context
            async with sem:
                comp = results[i] = await self._complete_api(req, use_cache)
            if on_result:
                on_result(i, comp)

        tasks = [asyncio.create_task(one(i, r)) for i, r in enumerate(requests)]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        return cast("list[Completion]", results)  # every task filled its slot

    # ------------------------------------------------------------ adaptive concurrency
    def adaptive(self, start: int | None = None) -> bool:
        """Whether API calls adapt their concurrency (a cap above the starting value is set)."""
        return (
            not self.batched
            and self.max_concurrency is not None
            and self.max_concurrency > (start or self.concurrency)
        )

    def current_concurrency(self, start: int | None = None) -> int:
        """How many requests go out at once now: the adaptive limit, else the fixed value."""
        if self._limit is not None and self.adaptive(start):
            return int(self._limit.limit)
        return int(start or self.concurrency)

    def concurrency_stats(self) -> dict | None:
        """What the adaptive limit did so far (peak/mean in flight, 429s, cuts); None when fixed."""
        return self._limit.stats() if self._limit is not None else None

    def _gate(self, concurrency: int | None):
        if not self.adaptive(concurrency):
            return None
        from tools.llm.concurrency import AdaptiveLimit, Gate

        if self._limit is None:
            self._limit = AdaptiveLimit(concurrency or self.concurrency, cast("int", self.max_concurrency))
        return Gate(self._limit)

    async def _gated(self, gate, messages, params, json_schema) -> RawResult:
        """One attempt through the adaptive gate: a slot while the request is out, none while a retry waits."""
        async with gate.slot() as epoch:
            try:
                raw = await self._agenerate(messages, params, json_schema)
            except Exception as e:  # noqa: BLE001 - re-raised for the retry layer
                if self._throttled(e):
                    gate.limit.on_throttle(epoch)
                raise
            gate.limit.on_success()
            return raw

    # ------------------------------------------------------------ internals
    def _prepare(self, req: Request) -> list[Message]:
        msgs = [dict(m) for m in req.messages]
        if req.json_schema is not None:
            instr = schema_instruction(req.json_schema)
            if msgs and msgs[0].get("role") == "system":
                msgs[0]["content"] = f"{msgs[0]['content']}\n\n{instr}"
            else:
                msgs.insert(0, {"role": "system", "content": instr})
        return msgs

    def _key(self, messages: list[Message], params: GenParams, json_schema: dict | None) -> str:
        p = params.to_dict()
        if json_schema is not None:
            p["json_schema"] = json_schema
        return request_key(self.name, self.model, self.identity(), messages, p)

    def _estimate(self, messages: list[Message], params: GenParams) -> float:
        return self.prices.cost(self.name, self.model, approx_tokens(messages), params.max_tokens)

    def _finish(self, raw: RawResult, req: Request, latency: float, cached: bool) -> Completion:
        cost = (
            0.0
            if cached
            else self.prices.cost(self.name, self.model, raw.prompt_tokens, raw.completion_tokens)
        )
        return Completion(
            text=raw.text,
            provider=self.name,
            model=raw.model or self.model,
            usage=Usage(raw.prompt_tokens, raw.completion_tokens),
            cost_usd=cost,
            latency_s=latency,
            cached=cached,
            finish_reason=raw.finish_reason,
            tag=req.tag,
        )

    async def _raw_api(self, messages, params, json_schema, use_cache) -> tuple[RawResult, bool, float]:
        key = self._key(messages, params, json_schema)
        if use_cache and self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                return hit, True, 0.0
        estimate = self._estimate(messages, params)
        if self.budget:
            self.budget.reserve(estimate, f"{self.describe()} call")
        t0 = time.perf_counter()
        gate = _GATE.get()
        try:
            raw = await with_retries(
                (lambda: self._agenerate(messages, params, json_schema))
                if gate is None
                else (lambda: self._gated(gate, messages, params, json_schema)),
                self._classify_error,
                self.retry,
                on_retry=lambda n, wait, e: log.log(
                    # adaptive concurrency finds the server's limit by its 429s: expected, not a warning
                    logging.DEBUG if gate is not None and self._throttled(e) else logging.WARNING,
                    "%s: retry %d in %.1fs after %s",
                    self.describe(),
                    n,
                    wait,
                    redact(type(e).__name__),
                ),
            )
        except Exception as e:  # noqa: BLE001
            raise self._wrap_error(e) from None
        finally:
            if self.budget:
                self.budget.release(estimate)
        self.calls += 1
        latency = time.perf_counter() - t0
        if self.budget:
            self.budget.charge(
                self.prices.cost(self.name, self.model, raw.prompt_tokens, raw.completion_tokens), "llm"
            )
        if self.cache is not None:
            self.cache.put(key, self.name, self.model, raw)
        return raw, False, latency

    async def _complete_api(self, req: Request, use_cache: bool) -> Completion:
        msgs = self._prepare(req)
        raw, cached, latency = await self._raw_api(msgs, req.params, req.json_schema, use_cache)
        comp = self._finish(raw, req, latency, cached)
        if req.json_schema is not None:
            obj, err = parse_structured(raw.text, req.json_schema)
            if err is not None:
                repair = msgs + [
                    {"role": "assistant", "content": raw.text},
                    {"role": "user", "content": repair_message(err, req.json_schema)},
                ]
                raw2, cached2, lat2 = await self._raw_api(repair, req.params, req.json_schema, use_cache)
                comp2 = self._finish(raw2, req, lat2, cached2)
                comp2.usage = Usage(
                    comp.usage.prompt_tokens + comp2.usage.prompt_tokens,
                    comp.usage.completion_tokens + comp2.usage.completion_tokens,
                )
                comp2.cost_usd += comp.cost_usd
                comp2.latency_s += comp.latency_s
                comp = comp2
                obj, err = parse_structured(raw2.text, req.json_schema)
            comp.parsed, comp.parse_error = obj, err
        return comp

    # batched (local) path -------------------------------------------------
    batch_size: int = 8

    def _map_batched(
        self, requests: list[Request], use_cache: bool, on_result: Callable[[int, Completion], None] | None
    ) -> list[Completion]:
        results: list[Completion | None] = [None] * len(requests)
        prepared = [self._prepare(r) for r in requests]
        reported: set[int] = set()

        def first_round(i: int, comp: Completion) -> None:
            # JSON is parsed as each batch ends, once; the answer is reported then (progress moves), or after
            # its repair round when it needs one
            if requests[i].json_schema is not None:
                comp.parsed, comp.parse_error = parse_structured(comp.text, requests[i].json_schema)
                if comp.parse_error is not None:
                    return
            if on_result:
                reported.add(i)
                on_result(i, comp)

        self._run_batched_round(
            requests, prepared, list(range(len(requests))), results, use_cache, first_round
        )
        done = cast("list[Completion]", results)  # the first round filled every slot (later ones replace)
        if any(r.json_schema is not None for r in requests):
            repair_idx, repair_msgs = [], {}
            for i, (req, comp) in enumerate(zip(requests, done, strict=True)):
                err = comp.parse_error
                if req.json_schema is not None and err is not None:
                    repair_idx.append(i)
                    repair_msgs[i] = prepared[i] + [
                        {"role": "assistant", "content": comp.text},
                        {"role": "user", "content": repair_message(err, req.json_schema)},
                    ]
            if repair_idx:
                first = {i: done[i] for i in repair_idx}
                msgs = [repair_msgs.get(i, prepared[i]) for i in range(len(requests))]
                self._run_batched_round(requests, msgs, repair_idx, results, use_cache, None)
                for i in repair_idx:
                    comp, prev = done[i], first[i]
                    comp.parsed, comp.parse_error = parse_structured(comp.text, requests[i].json_schema)
                    comp.usage = Usage(
                        prev.usage.prompt_tokens + comp.usage.prompt_tokens,
                        prev.usage.completion_tokens + comp.usage.completion_tokens,
                    )
                    comp.latency_s += prev.latency_s
        if on_result:
            for i in range(len(requests)):
                if i not in reported:
                    on_result(i, done[i])
        return done

    def _run_batched_round(self, requests, messages, indices, results, use_cache, on_result) -> None:
        todo = []
        for i in indices:
            req = requests[i]
            key = self._key(messages[i], req.params, req.json_schema)
            hit = self.cache.get(key) if (use_cache and self.cache is not None) else None
            if hit is not None:
                results[i] = self._finish(hit, req, 0.0, True)
                if on_result:
                    on_result(i, results[i])
            else:
                todo.append((i, key))
        # Group by parameters so one generate() call shares max_tokens/temperature (then chunk each group:
        # a chunk never mixes parameters); longest prompts together keeps left padding small.
        # The sampling seed is not part of the group: one seed per request would make every sampled
        # batch a batch of one (teacher inputs ran ~8x slower); the batch seeds its sampling from all
        # of its requests' seeds instead.
        todo.sort(key=lambda t: (_batch_key(requests[t[0]].params), len(str(messages[t[0]]))))
        by_params: dict[str, list] = {}
        for i, key in todo:
            by_params.setdefault(_batch_key(requests[i].params), []).append((i, key))
        chunks = [
            same[start : start + self.batch_size]
            for same in by_params.values()
            for start in range(0, len(same), self.batch_size)
        ]
        stop = getattr(self, "stop_event", None)
        stoppable = stop is not None and "stop_event" in inspect.signature(self._generate_batch).parameters
        for group in chunks:
            t0 = time.perf_counter()
            batch = [(messages[i], requests[i].params, requests[i].json_schema) for i, _ in group]
            raws = self._generate_batch(batch, stop_event=stop) if stoppable else self._generate_batch(batch)
            if stop is not None and stop.is_set():
                # answers cut short by the stop: none is cached or returned
                on_stop = getattr(self, "on_stop", None)
                if on_stop is not None:
                    on_stop()
                raise StopRequested("stopped during a batch; its answers were not kept")
            latency = time.perf_counter() - t0
            self.calls += 1
            for (i, key), raw in zip(group, raws, strict=True):
                if self.cache is not None:
                    self.cache.put(key, self.name, self.model, raw)
                results[i] = self._finish(raw, requests[i], latency, False)
                if on_result:
                    on_result(i, results[i])


def _batch_key(params) -> str:
    d = params.to_dict()
    d.pop("seed", None)
    return repr(d)


def _norm(params: dict) -> dict:
    out = {k: v for k, v in params.items() if v is not None or k == "seed"}
    if "stop" in out:
        stop = out["stop"]
        out["stop"] = (stop,) if isinstance(stop, str) else tuple(stop or ())
    return out
