"""A stand-in OpenAI-compatible chat-completions server with realistic latency and a rate limit.

Used by bench/scale.py and tests/test_llm_adaptive.py. Each request waits a latency drawn from
[latency_lo, latency_hi] seconds; at most `max_in_flight` requests are answered at once, and one more is
refused with HTTP 429 and a `Retry-After` header (as an account's concurrency limit does). Answers are
canned but varied: a request that asks for a new input (tunewise's `data_inputs` prompt) gets a
customer-support message built from the request's seed and focus (distinct enough that the near-duplicate
filter keeps most); any other request gets the support team the last user message is about.

It also serves the OpenAI Batch API (`POST /v1/files` with a JSONL of chat-completion requests, `POST
/v1/batches`, `GET /v1/batches/{id}`, `GET /v1/files/{id}/content`): a batch's lines are answered like live
requests (same latency, at most `max_in_flight` at once, never refused) in the background.

`GET /stats` reports what the server saw: requests, 429s, the peak and time-weighted mean of requests in
flight, token totals, and how many answered requests repeated one answered before (same messages and seed).

    start_standin(max_in_flight=32) -> (base_url ending in /v1, state, stop)
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

OPENINGS = [
    "Hi,",
    "Hello there,",
    "Good morning,",
    "Hey,",
    "Quick question:",
    "Sorry to bother you, but",
    "I need help:",
    "Urgent:",
    "Hi team,",
    "Evening,",
    "Can someone help?",
    "Following up on my chat yesterday,",
]
PRODUCTS = [
    "wireless headphones",
    "smart speaker",
    "tablet",
    "gaming laptop",
    "fitness tracker",
    "robot vacuum",
    "e-reader",
    "4K monitor",
    "mechanical keyboard",
    "action camera",
    "smartwatch",
    "soundbar",
    "USB-C dock",
    "mesh router",
    "drone",
    "electric toothbrush",
    "webcam",
    "portable SSD",
    "projector",
    "graphics card",
    "phone case",
    "car charger",
    "baby monitor",
    "video doorbell",
]
PROBLEMS = {
    "billing": [
        "was charged twice for the {p}",
        "still have not seen the refund for the {p} I returned",
        "need an invoice with my company details for the {p}",
        "see a fee I never agreed to on the {p} order",
        "paid for express delivery of the {p} but was billed again",
        "had my card declined while buying the {p} though the money left my account",
        "want to split the payment for the {p} across two cards",
        "got a price drop on the {p} a day after buying it and want the difference back",
    ],
    "technical": [
        "find that my {p} keeps dropping off the Wi-Fi",
        "cannot get my {p} to pair with the app",
        "noticed my {p} stopped charging after the firmware update",
        "hear a crackling noise from the {p}",
        "see the {p} freeze on the start-up screen",
        "watch the {p} overheat after a few minutes of use",
        "get an error code every time the {p} syncs",
        "had the {p} reset itself to factory settings overnight",
    ],
    "shipping": [
        "am still waiting for the {p} I ordered",
        "see tracking for the {p} saying delivered, but nothing arrived",
        "want to change the delivery address for the {p}",
        "received someone else's parcel instead of the {p}",
        "need the {p} delivered before the weekend",
        "got the {p} in a crushed box from the courier",
        "cannot find which courier has the {p}",
        "have had the {p} stuck in customs for a week",
    ],
    "account": [
        "cannot log in to see the order for the {p}",
        "never get the password reset email, so I cannot register the {p}",
        "want to delete my account after buying the {p}",
        "need to change the email on the profile the {p} is registered to",
        "saw someone log into my account and order a {p}",
        "have two accounts and the {p} warranty sits on the wrong one",
        "want my personal data exported, including the {p} purchase",
        "got locked out after too many attempts while checking the {p} order",
    ],
}
WHEN = [
    "since Monday",
    "for nine days now",
    "since this morning",
    "after last week's update",
    "for the second time this month",
    "right after it arrived",
    "since I moved house",
    "ever since the sale",
    "two days before my trip",
    "while I was abroad",
]
CLOSINGS = [
    "What should I do?",
    "Please sort this out.",
    "Can you check?",
    "Thanks in advance.",
    "I'd appreciate a quick reply.",
    "Is there anything you can do?",
    "This is really frustrating.",
    "Who can help with this?",
    "Let me know what you need from me.",
    "Please advise.",
]
NAMES = ["Ana", "Ben", "Chloé", "Dev", "Emil", "Fatima", "Goran", "Hana", "Ivo", "Jun", "Kemi", "Lars"]
_LABEL_OF = {prob.split("{p}")[0].strip(): label for label, probs in PROBLEMS.items() for prob in probs}


def support_message(rng: random.Random, label: str | None = None) -> str:
    """One customer message about `label`'s team (a random one when None): opening, a product problem,
    when, an order number, a closing, a name."""
    label = label if label in PROBLEMS else rng.choice(sorted(PROBLEMS))
    problem = rng.choice(PROBLEMS[label]).format(p=rng.choice(PRODUCTS))
    order = f"order {rng.randrange(10000, 99999)}"
    return (
        f"{rng.choice(OPENINGS)} I {problem} {rng.choice(WHEN)} ({order}). "
        f"{rng.choice(CLOSINGS)} {rng.choice(NAMES)}"
    )


def route(text: str) -> str:
    for phrase, label in sorted(
        _LABEL_OF.items(), key=lambda kv: -len(kv[0])
    ):  # "have had the" before "had the"
        if phrase in text:
            return label
    low = text.lower()
    for label, words in (
        ("billing", ("charge", "refund", "invoice", "fee", "payment", "card")),
        ("shipping", ("deliver", "tracking", "parcel", "courier", "ship")),
        ("account", ("log in", "login", "password", "account", "profile", "data")),
    ):
        if any(w in low for w in words):
            return label
    return "technical"


@dataclass
class StandinState:
    latency_lo: float = 0.3
    latency_hi: float = 0.8
    max_in_flight: int = 32
    retry_after: str = "1"
    seed: int = 0
    requests: int = 0
    answered: int = 0
    throttled: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    repeated: int = 0
    hold_batches: bool = False  # tests: batches wait (in progress) until this is False again
    batches_created: int = 0
    batch_lines: int = 0
    files: dict = field(default_factory=dict)  # file id → text
    batches: dict = field(default_factory=dict)  # batch id → the batch object
    seen: dict = field(default_factory=dict)  # request key → times answered
    first_answered: dict = field(default_factory=dict)  # request key → perf_counter() of its first answer
    _area: float = 0.0
    _first: float | None = None
    _last: float = 0.0
    _t: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _tick(self) -> None:
        now = time.perf_counter()
        if self._first is None:
            self._first = now
        else:
            self._area += self.in_flight * (now - self._t)
        self._t = self._last = now

    def stats(self) -> dict:
        with self.lock:
            span = (self._last - self._first) if self._first is not None else 0.0
            return {
                "requests": self.requests,
                "answered": self.answered,
                "throttled": self.throttled,
                "peak_in_flight": self.peak_in_flight,
                "mean_in_flight": round(self._area / span, 2) if span > 0 else 0.0,
                "span_s": round(span, 2),
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "repeated": self.repeated,
                "distinct": len(self.seen),
                "batches_created": self.batches_created,
                "batch_lines": self.batch_lines,
            }

    def reset(self) -> None:
        with self.lock:
            self.requests = self.answered = self.throttled = self.peak_in_flight = 0
            self.prompt_tokens = self.completion_tokens = self.repeated = 0
            self.batches_created = self.batch_lines = 0
            self.seen.clear()
            self.first_answered.clear()
            self._area, self._first = 0.0, None


def answer_for(body: dict) -> str:
    messages = body.get("messages") or []
    system = str(messages[0].get("content", "")) if messages else ""
    last = str(messages[-1].get("content", "")) if messages else ""
    if system.startswith("You write realistic inputs"):
        rng = random.Random(f"{body.get('seed')}:{last}")
        # the label tunewise planned for this input ("an input whose correct label is billing"), as a
        # teacher follows it: otherwise the validators drop the answer as off its plan
        planned = re.search(r"correct label is (\w+)", system + " " + last)
        return support_message(rng, planned.group(1) if planned else None)
    if last.startswith("echo:"):  # tests: an answer that names its request
        return last
    return route(last)


def create_app(state: StandinState):
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    rng = random.Random(state.seed)
    tasks: set = set()  # the batches being answered (held so they are not garbage-collected)

    async def chat(request: Request):
        body = await request.json()
        with state.lock:
            state.requests += 1
            if state.in_flight >= state.max_in_flight:
                state.throttled += 1
                return JSONResponse(
                    {"error": {"message": "Rate limit reached", "type": "rate_limit_error"}},
                    status_code=429,
                    headers={"Retry-After": state.retry_after},
                )
            state._tick()
            state.in_flight += 1
            state.peak_in_flight = max(state.peak_in_flight, state.in_flight)
            delay = rng.uniform(state.latency_lo, state.latency_hi)
        try:
            await asyncio.sleep(delay)
            text = answer_for(body)
        finally:
            with state.lock:
                state._tick()
                state.in_flight -= 1
        return JSONResponse(completion(body, text))

    def completion(body: dict, text: str) -> dict:
        """The chat.completion object for `text`, counted in the stats."""
        msgs = body.get("messages") or []
        prompt_tokens = sum(len(str(m.get("content", ""))) for m in msgs) // 4 + 4 * len(msgs)
        completion_tokens = max(1, len(text) // 4)
        key = hashlib.sha1(json.dumps([msgs, body.get("seed")], sort_keys=True).encode("utf-8")).hexdigest()
        with state.lock:
            state.answered += 1
            state.prompt_tokens += prompt_tokens
            state.completion_tokens += completion_tokens
            if key in state.seen:
                state.repeated += 1
            else:
                state.first_answered[key] = time.perf_counter()
            state.seen[key] = state.seen.get(key, 0) + 1
        return {
            "id": f"chatcmpl-{key[:12]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "standin"),
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }

    async def upload(request: Request):
        raw = (await request.body()).decode("utf-8", "replace")
        # the multipart body's one file part: the JSONL lines between its first "{" and last "}"
        lines = [ln for ln in raw[raw.find("{") : raw.rfind("}") + 1].splitlines() if ln.strip()]
        with state.lock:
            fid = f"file-{len(state.files) + 1}"
            state.files[fid] = "\n".join(lines) + "\n"
        return JSONResponse({"id": fid, "object": "file", "purpose": "batch", "bytes": len(raw)})

    def batch_object(bid: str) -> dict:
        with state.lock:
            return dict(state.batches[bid])

    async def run_lines(bid: str, lines: list[dict]) -> None:
        gate = asyncio.Semaphore(state.max_in_flight)

        async def one(line: dict) -> str:
            async with gate:
                await asyncio.sleep(rng.uniform(state.latency_lo, state.latency_hi))
                body = line["body"]
                response = {"status_code": 200, "body": completion(body, answer_for(body))}
            with state.lock:
                state.batch_lines += 1
                state.batches[bid]["request_counts"]["completed"] += 1
            return json.dumps(
                {"id": f"r-{line['custom_id']}", "custom_id": line["custom_id"], "response": response}
            )

        with state.lock:
            state.batches[bid]["status"] = "in_progress"
        while state.hold_batches:
            await asyncio.sleep(0.01)
        out = await asyncio.gather(*(one(ln) for ln in lines))
        with state.lock:
            fid = f"file-{len(state.files) + 1}"
            state.files[fid] = "\n".join(out) + "\n"
            state.batches[bid].update(status="completed", output_file_id=fid)

    async def create_batch(request: Request):
        body = await request.json()
        with state.lock:
            text = state.files.get(body.get("input_file_id"))
        if text is None:
            return JSONResponse({"error": {"message": "no such file"}}, status_code=404)
        lines = [json.loads(ln) for ln in text.splitlines() if ln.strip()]
        with state.lock:
            state.batches_created += 1
            bid = f"batch_{state.batches_created}"
            state.batches[bid] = {
                "id": bid,
                "object": "batch",
                "endpoint": body.get("endpoint"),
                "input_file_id": body["input_file_id"],
                "completion_window": body.get("completion_window", "24h"),
                "status": "validating",
                "output_file_id": None,
                "created_at": int(time.time()),
                "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
            }
        tasks.add(asyncio.ensure_future(run_lines(bid, lines)))
        return JSONResponse(batch_object(bid))

    async def get_batch(request: Request):
        bid = request.path_params["bid"]
        if bid not in state.batches:
            return JSONResponse({"error": {"message": "no such batch"}}, status_code=404)
        return JSONResponse(batch_object(bid))

    async def file_content(request: Request):
        from starlette.responses import PlainTextResponse

        with state.lock:
            text = state.files.get(request.path_params["fid"])
        if text is None:
            return JSONResponse({"error": {"message": "no such file"}}, status_code=404)
        return PlainTextResponse(text)

    async def models(request: Request):
        return JSONResponse({"object": "list", "data": [{"id": "standin", "object": "model"}]})

    async def stats(request: Request):
        return JSONResponse(state.stats())

    async def reset(request: Request):
        state.reset()
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat, methods=["POST"]),
            Route("/v1/models", models),
            Route("/v1/files", upload, methods=["POST"]),
            Route("/v1/files/{fid}/content", file_content),
            Route("/v1/batches", create_batch, methods=["POST"]),
            Route("/v1/batches/{bid}", get_batch),
            Route("/stats", stats),
            Route("/reset", reset, methods=["POST"]),
        ]
    )


def start_standin(
    *, host: str = "127.0.0.1", timeout_s: float = 30.0, **options
) -> tuple[str, StandinState, Callable[[], None]]:
    """Serve the stand-in from a daemon thread on a free port: (base_url ending in /v1, state, stop)."""
    import socket

    import uvicorn

    state = StandinState(**options)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(state),
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=1,
        backlog=4096,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="standin")
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the stand-in server did not start")
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=5)

    return f"http://{host}:{port}/v1", state, stop
