"""The OpenAI Batch API: upload a JSONL of requests, create a batch, poll, collect; resumable by batch id.

Half the price of live calls for large generation jobs, at OpenAI or at an OpenAI-compatible server that has
`/v1/files` and `/v1/batches` (the teacher's `base_url` and key). The batch id and request order are saved in
`state_path` right after creation, so a killed run resumes polling the same batch instead of paying again.

Calls go through the `openai` SDK (its own retries off) and the one retry layer (tools/llm/retry.py).
"""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path

from tools.errors import ProviderError
from tools.llm.redact import redact
from tools.llm.retry import RetryPolicy, classify_openai, retry_sync, status_fix
from tools.llm.structured import parse_structured
from tools.llm.types import Completion, Request, Usage
from tools.workspace import atomic_write_json, read_json

TERMINAL = {"completed", "failed", "expired", "cancelled"}


def _body(teacher, req: Request) -> dict:
    msgs = teacher._prepare(req)  # the same prompt a live call would send (schema instruction included)
    body: dict = {"model": teacher.model, "messages": msgs}
    if teacher.model.startswith(("gpt-5", "o1", "o3", "o4")):
        body["max_completion_tokens"] = req.params.max_tokens
    else:
        body.update(
            max_tokens=req.params.max_tokens, temperature=req.params.temperature, top_p=req.params.top_p
        )
    if req.params.seed is not None:
        body["seed"] = req.params.seed
    if req.json_schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": req.json_schema, "strict": False},
        }
    return body


RETRY = RetryPolicy()
retry_sleep = time.sleep  # how retries wait (tests replace it)


def _client(teacher, client=None):
    """The `openai` SDK at the teacher's server with its key, over `client` (an httpx.Client, e.g. a mock
    transport in tests) when given."""
    import openai

    key = getattr(teacher, "_api_key", None) or os.environ.get("OPENAI_API_KEY")
    base = (
        getattr(teacher, "base_url", None) or os.environ.get("OPENAI_BASE_URL") or "https://api.openai.com/v1"
    )
    if client is None and not key and "api.openai.com" in base:
        raise ProviderError(
            "--batch needs OPENAI_API_KEY (the Batch API is OpenAI's)", fix="export OPENAI_API_KEY=…"
        )
    if client is not None and str(getattr(client, "base_url", "") or "").startswith("http"):
        base = str(client.base_url)
    # max_retries=0: tools/llm/retry.py is the only retry layer
    return openai.OpenAI(
        api_key=key or "unused", base_url=base, max_retries=0, http_client=client, timeout=120
    )


def _call(what: str, fn, *args, **kw):
    """One SDK call through the retry layer; what the retries did not mend becomes one ProviderError."""
    import openai

    try:
        return retry_sync(lambda: fn(*args, **kw), classify_openai, RETRY, sleep=retry_sleep)
    except openai.APIStatusError as e:
        if e.status_code in (404, 405) and what in ("upload", "create"):
            fix = "this server has no Batch API (/v1/files, /v1/batches): drop --batch"
        else:
            fix = status_fix(e.status_code) + "; rerun to resume"
        raise ProviderError(
            f"Batch API {what} failed with HTTP {e.status_code}: {redact(e.response.text[:200])}", fix=fix
        ) from None
    except openai.APIConnectionError as e:
        raise ProviderError(
            f"Batch API {what}: cannot reach the server ({type(e).__name__})",
            fix="check the network; rerun to resume",
        ) from None


def run_batch(
    teacher,
    requests: list[Request],
    *,
    state_path: Path,
    client=None,
    poll_s: float = 30.0,
    first_poll_s: float = 1.0,
    timeout_s: float = 24 * 3600,
    sleep=time.sleep,
) -> list[Completion | None]:
    """Completions in request order (None for a request the batch could not answer)."""
    if not requests:
        return []
    http = _client(teacher, client)
    state_path = Path(state_path)
    state = read_json(state_path) if state_path.exists() else None
    if state is None or state.get("status") in ("failed", "expired", "cancelled"):
        state = _submit(http, teacher, requests)
        atomic_write_json(state_path, state)  # from here on a rerun resumes this batch
    batch = _wait(
        http, state, state_path, poll_s=poll_s, first_poll_s=first_poll_s, timeout_s=timeout_s, sleep=sleep
    )
    if batch["status"] != "completed" or not batch.get("output_file_id"):
        raise ProviderError(
            f"batch {state['batch_id']} ended {batch['status']}",
            fix="rerun to submit a new batch for the unfinished items",
        )
    text = _call("download", http.files.content, batch["output_file_id"]).text
    return _results(text, teacher, requests)


def _submit(http, teacher, requests: list[Request]) -> dict:
    """Upload the requests as one JSONL file and create the batch; returns the state to resume it by."""
    lines = "".join(
        json.dumps(
            {
                "custom_id": f"r{i}",
                "method": "POST",
                "url": "/v1/chat/completions",
                "body": _body(teacher, r),
            }
        )
        + "\n"
        for i, r in enumerate(requests)
    )
    # one Idempotency-Key across the retries of a create: the file and the batch are made once
    up = _call(
        "upload",
        http.files.create,
        file=("requests.jsonl", lines.encode(), "application/jsonl"),
        purpose="batch",
        extra_headers={"Idempotency-Key": f"tunewise-{uuid.uuid4()}"},
    ).model_dump()
    batch = _call(
        "create",
        http.batches.create,
        input_file_id=up["id"],
        endpoint="/v1/chat/completions",
        completion_window="24h",
        extra_headers={"Idempotency-Key": f"tunewise-{uuid.uuid4()}"},
    ).model_dump()
    return {
        "batch_id": batch["id"],
        "input_file_id": up["id"],
        "n": len(requests),
        "status": batch["status"],
    }


def _wait(
    http, state: dict, state_path: Path, *, poll_s: float, first_poll_s: float, timeout_s: float, sleep
) -> dict:
    """Poll the batch until it ends, saving each new status; past `timeout_s` a rerun resumes it. The waits
    grow from `first_poll_s` by half each poll up to `poll_s`: a small batch at a fast server ends in seconds,
    a large one at OpenAI in hours (a 24-hour batch takes ~2900 polls at the cap)."""
    started = time.monotonic()
    wait = min(first_poll_s, poll_s)
    while True:
        batch = _call("poll", http.batches.retrieve, state["batch_id"]).model_dump()
        if batch["status"] != state.get("status"):
            state["status"] = batch["status"]
            atomic_write_json(state_path, state)
        if batch["status"] in TERMINAL:
            return batch
        if time.monotonic() - started > timeout_s:
            raise ProviderError(
                f"batch {state['batch_id']} still {batch['status']} after {timeout_s:.0f}s",
                fix="rerun later: it resumes the same batch",
            )
        sleep(wait)
        wait = min(poll_s, wait * 1.5)


def _results(text: str, teacher, requests: list[Request]) -> list[Completion | None]:
    """The output file's answers in request order, each charged at the batch price; a failed one is None."""
    results: list[Completion | None] = [None] * len(requests)
    for line in text.splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        idx = int(item["custom_id"][1:])
        body = (item.get("response") or {}).get("body") or {}
        if (item.get("response") or {}).get("status_code") != 200 or not body.get("choices"):
            continue
        choice = body["choices"][0]
        usage = body.get("usage") or {}
        pt, ct = usage.get("prompt_tokens", 0), usage.get("completion_tokens", 0)
        comp = Completion(
            text=(choice["message"].get("content") or "").strip(),
            provider=teacher.name,
            model=body.get("model", teacher.model),
            usage=Usage(pt, ct),
            cost_usd=teacher.prices.cost(teacher.name, teacher.model, pt, ct, batch=True),
            finish_reason=choice.get("finish_reason"),
            tag=requests[idx].tag,
        )
        if requests[idx].json_schema is not None:
            comp.parsed, comp.parse_error = parse_structured(comp.text, requests[idx].json_schema)
        if teacher.budget:
            teacher.budget.charge(comp.cost_usd, "llm")
        teacher.calls += 1
        results[idx] = comp
    return results
