"""Managed fine-tuning behind the same interface as local training: OpenAI and Together AI.

    out = start_managed(run, "together", data_version="v1", model="meta-llama/...-Reference")
    metrics = wait_managed(out, on_event=print)      # polls the job; events.jsonl + metrics.json as local runs
    cancel_managed(out)

A managed run is a `runs/<id>/train/vN/` like a local one: `config.json` (backend, model, the
hyperparameters sent), `job.json` (provider ids), `events.jsonl` in the same event schema
(`tools.train.sft`), `metrics.json` with `status` and `fine_tuned_model` (OpenAI's `ft:…` id or
Together's output model name). Keys come from OPENAI_API_KEY / TOGETHER_API_KEY only and are never
written anywhere. Pass `client=httpx.Client(transport=…)` to test without a network.

Every request goes through the one retry layer (tools/llm/retry.py: 429, 5xx and connection errors, with
`Retry-After`); the OpenAI parts use the `openai` SDK with its own retries off. A request that creates
something carries one Idempotency-Key across its retries.

OpenAI is winding self-serve fine-tuning down (no new training jobs after 2027-01-06): a refusal
from the API is reported as exactly that, with the alternatives.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.errors import ProviderError, UserError
from tools.llm.retry import (
    RETRYABLE_STATUS,
    RetryableResponse,
    RetryPolicy,
    classify_http,
    classify_openai,
    retry_sync,
)
from tools.train.config import TrainConfig
from tools.train.sft import make_event
from tools.workspace import Run, Workspace, append_jsonl, atomic_write_json, read_json, read_jsonl

OPENAI_SUNSET = _dt.date(2027, 1, 6)
OPENAI_REFUSED = (
    "OpenAI refused to start a fine-tuning job for this account: OpenAI is winding down self-serve "
    "fine-tuning (no new training jobs after 2027-01-06), so this account cannot train there"
)
OPENAI_REFUSED_FIX = (
    "train locally (tunewise train RUN) or on Together AI (tunewise train RUN --backend together --model "
    "MODEL, with TOGETHER_API_KEY); "
    "existing ft: models keep working for inference"
)
_REFUSAL_WORDS = (
    "not available",
    "no longer",
    "not allowed",
    "disabled",
    "deprecat",
    "not permitted",
    "does not have access",
    "not eligible",
    "sunset",
    "discontinued",
    "wind",
)


def _clean_rows(data_dir: Path, split: str) -> bytes:
    """Chat rows without our metadata (both APIs take `{"messages": [...]}` lines)."""
    p = data_dir / f"{split}.jsonl"
    if not p.exists():
        return b""
    return "".join(
        json.dumps({"messages": r["messages"]}, ensure_ascii=False) + "\n" for r in read_jsonl(p)
    ).encode()


RETRY = RetryPolicy()
retry_sleep = time.sleep  # how retries wait (tests replace it: nothing sleeps there)


class ManagedBackend(ABC):
    name = "managed"
    env_key = ""
    base_url = ""
    terminal = {"succeeded", "failed", "cancelled"}

    def __init__(self, client=None, api_key: str | None = None, base_url: str | None = None):
        import httpx

        key = api_key or os.environ.get(self.env_key)
        if not key:
            raise UserError(
                f"{self.env_key} is not set",
                where=self.env_key,
                fix=f"export {self.env_key}=… (or train locally: tunewise train RUN)",
            )
        self.base_url = (base_url or self.base_url).rstrip("/")
        self.client = client or httpx.Client(timeout=60)
        self._key = key
        self._headers = {"Authorization": f"Bearer {key}"}

    def _unreachable(self, e: BaseException) -> ProviderError:
        return ProviderError(
            f"{self.name} unreachable ({type(e).__name__}, after {RETRY.max_retries} retries)",
            where=self.base_url,
            fix="check the network and the base URL; rerunning resumes",
        )

    def _req(self, method: str, path: str, **kw) -> dict:
        """One request through the retry layer; an error status the retries did not mend → ProviderError."""
        import uuid

        import httpx

        headers = dict(self._headers)
        if method != "GET":  # the same key on every retry: the provider creates the thing once
            headers["Idempotency-Key"] = f"tunewise-{uuid.uuid4()}"

        def once():
            r = self.client.request(method, self.base_url + path, headers=headers, **kw)
            if r.status_code in RETRYABLE_STATUS:
                raise RetryableResponse(r)
            return r

        try:
            r = retry_sync(once, classify_http, RETRY, sleep=retry_sleep)
        except RetryableResponse as e:
            r = e.response
        except httpx.HTTPError as e:
            raise self._unreachable(e) from None
        if r.status_code >= 400:
            self._raise(r, path)
        return r.json()

    def _raise(self, r, path: str) -> None:
        try:
            err = r.json().get("error") or {}
            msg = err.get("message") if isinstance(err, dict) else str(err)
        except Exception:  # noqa: BLE001
            msg = r.text[:300]
        if r.status_code == 401:
            raise ProviderError(
                f"{self.name} rejected the API key", where=self.env_key, fix=f"check {self.env_key}"
            )
        raise ProviderError(
            f"{self.name} {path} failed ({r.status_code}): {msg}",
            where=self.base_url,
            fix="see the message; nothing was trained",
        )

    # provider-specific
    @abstractmethod
    def upload(self, content: bytes, filename: str) -> str: ...
    @abstractmethod
    def create(
        self, cfg: TrainConfig, training_file: str, validation_file: str | None, suffix: str
    ) -> dict: ...
    @abstractmethod
    def get(self, job_id: str) -> dict: ...
    @abstractmethod
    def events(self, job_id: str, after: str | None) -> list[dict]: ...
    @abstractmethod
    def cancel(self, job_id: str) -> dict: ...
    @abstractmethod
    def status_of(self, job: dict) -> str: ...
    @abstractmethod
    def model_of(self, job: dict) -> str | None: ...
    @staticmethod
    @abstractmethod
    def to_event(e: dict) -> dict | None:
        """One provider event as a training event (`make_event`), None for one that says nothing new."""


class OpenAIFineTuning(ManagedBackend):
    name, env_key, base_url = "openai", "OPENAI_API_KEY", "https://api.openai.com/v1"

    def __init__(self, client=None, api_key: str | None = None, base_url: str | None = None):
        super().__init__(client, api_key, base_url or os.environ.get("OPENAI_BASE_URL"))
        import openai

        # the SDK over our httpx client; max_retries=0: tools/llm/retry.py is the only retry layer
        self.sdk = openai.OpenAI(
            api_key=self._key,
            base_url=self.base_url,
            max_retries=0,
            # the SDK takes an httpx.Client as well as an httpx2.Client (it checks both), but says httpx2 only
            http_client=self.client,  # type: ignore[arg-type]
        )

    def _call(self, path: str, fn: Callable[..., Any], **kw) -> Any:
        """An SDK call through the retry layer, as a plain dict/list; errors said as `_raise` says them."""
        import uuid

        import openai

        if path.endswith(("/jobs", "/files", "/cancel")):
            kw["extra_headers"] = {"Idempotency-Key": f"tunewise-{uuid.uuid4()}"}
        try:
            res = retry_sync(lambda: fn(**kw), classify_openai, RETRY, sleep=retry_sleep)
        except openai.APIStatusError as e:
            self._raise(e.response, path)
            raise  # _raise always raises
        except openai.APIConnectionError as e:
            raise self._unreachable(e) from None
        return res.model_dump() if hasattr(res, "model_dump") else res

    def _raise(self, r, path: str) -> None:
        if "fine_tuning" in path and r.status_code in (400, 403, 404, 410):
            try:
                err = r.json().get("error") or {}
            except Exception:  # noqa: BLE001
                err = {}
            text = f"{err.get('code') or ''} {err.get('message') or ''}".lower()
            if r.status_code in (403, 410) or any(w in text for w in _REFUSAL_WORDS):
                raise ProviderError(
                    OPENAI_REFUSED + (f" (OpenAI said: {err.get('message')})" if err.get("message") else ""),
                    fix=OPENAI_REFUSED_FIX,
                )
        super()._raise(r, path)

    def upload(self, content: bytes, filename: str) -> str:
        res = self._call(
            "/files",
            self.sdk.files.create,
            file=(filename, content, "application/jsonl"),
            purpose="fine-tune",
        )
        return res["id"]

    def create(self, cfg: TrainConfig, training_file: str, validation_file: str | None, suffix: str) -> dict:
        hp: dict[str, Any] = {
            "n_epochs": max(1, round(cfg.num_train_epochs)),
            "batch_size": cfg.effective_batch_size,
            "learning_rate_multiplier": "auto",
        }  # OpenAI scales its own base lr
        body = {
            "model": cfg.model,
            "training_file": training_file,
            "suffix": suffix[:40],
            "seed": cfg.seed,
            "method": {"type": "supervised", "supervised": {"hyperparameters": hp}},
        }
        if validation_file:
            body["validation_file"] = validation_file
        return self._call("/fine_tuning/jobs", self.sdk.fine_tuning.jobs.create, **body)

    def get(self, job_id: str) -> dict:
        return self._call(
            f"/fine_tuning/jobs/{job_id}", self.sdk.fine_tuning.jobs.retrieve, fine_tuning_job_id=job_id
        )

    def events(self, job_id: str, after: str | None) -> list[dict]:
        page = self._call(
            f"/fine_tuning/jobs/{job_id}/events",
            lambda **kw: self.sdk.fine_tuning.jobs.list_events(job_id, **kw).data,
            limit=100,
            **({"after": after} if after else {}),
        )
        data = [e.model_dump() if hasattr(e, "model_dump") else e for e in page]
        return sorted(data, key=lambda e: (e.get("created_at", 0), e.get("id", "")))  # API lists newest first

    def cancel(self, job_id: str) -> dict:
        return self._call(
            f"/fine_tuning/jobs/{job_id}/cancel", self.sdk.fine_tuning.jobs.cancel, fine_tuning_job_id=job_id
        )

    def status_of(self, job: dict) -> str:
        return job.get("status", "unknown")

    def model_of(self, job: dict) -> str | None:
        return job.get("fine_tuned_model")

    @staticmethod
    def to_event(e: dict) -> dict | None:
        d = e.get("data") or {}
        if e.get("type") == "metrics" and "step" in d:
            if d.get("valid_loss") is not None and d.get("train_loss") is None:
                return make_event(
                    "eval", step=d["step"], max_steps=d.get("total_steps"), eval_loss=d["valid_loss"]
                )
            return make_event(
                "log",
                step=d["step"],
                max_steps=d.get("total_steps"),
                loss=d.get("train_loss"),
                eval_loss=d.get("valid_loss"),
                message=e.get("message"),
            )
        return make_event("log", message=e.get("message"), level=e.get("level"))


class TogetherFineTuning(ManagedBackend):
    name, env_key, base_url = "together", "TOGETHER_API_KEY", "https://api.together.xyz/v1"
    terminal = {"completed", "error", "cancelled", "failed"}

    def upload(self, content: bytes, filename: str) -> str:
        res = self._req(
            "POST",
            "/files/upload",
            data={"purpose": "fine-tune", "file_name": filename},
            files={"file": (filename, content, "application/jsonl")},  # bytes: read again on a retry
        )
        return res["id"]

    def create(self, cfg: TrainConfig, training_file: str, validation_file: str | None, suffix: str) -> dict:
        body: dict[str, Any] = {
            "model": cfg.model,
            "training_file": training_file,
            "suffix": suffix[:40],
            "n_epochs": max(1, round(cfg.num_train_epochs)),
            "learning_rate": cfg.learning_rate,
            "batch_size": "max",
            "max_seq_length": cfg.max_length,
            "n_checkpoints": 1,
            "train_on_inputs": False,  # loss on the assistant answer only, as locally
            "training_type": {
                "type": "Lora",
                "lora_r": cfg.lora_r,
                "lora_alpha": cfg.lora_alpha,
                "lora_dropout": cfg.lora_dropout,
                "lora_trainable_modules": "all-linear",
            },
        }
        if validation_file:
            body.update(validation_file=validation_file, n_evals=max(1, round(cfg.num_train_epochs)))
        return self._req("POST", "/fine-tunes", json=body)

    def get(self, job_id: str) -> dict:
        return self._req("GET", f"/fine-tunes/{job_id}")

    def events(self, job_id: str, after: str | None) -> list[dict]:
        data = self._req("GET", f"/fine-tunes/{job_id}/events").get("data", [])
        if after is not None:  # no cursor in this API: skip what we have seen
            data = data[int(after) :]
        return data

    def cancel(self, job_id: str) -> dict:
        return self._req("POST", f"/fine-tunes/{job_id}/cancel")

    def status_of(self, job: dict) -> str:
        return job.get("status", "unknown")

    def model_of(self, job: dict) -> str | None:
        return job.get("output_name")

    @staticmethod
    def to_event(e: dict) -> dict | None:
        step = e.get("step")
        return make_event("log", step=step, message=e.get("message"), kind=e.get("type"))


BACKENDS = {"openai": OpenAIFineTuning, "together": TogetherFineTuning}
TERMINAL_STATUS = {
    "succeeded": "completed",
    "completed": "completed",
    "failed": "failed",
    "error": "failed",
    "cancelled": "stopped",
}


def get_backend(name: str, client=None, **kw) -> ManagedBackend:
    if name not in BACKENDS:
        raise UserError(f"unknown managed backend {name!r}", where="backend", fix="use openai or together")
    return BACKENDS[name](client=client, **kw)


def managed_config(
    run: Run | str,
    backend: str,
    *,
    model: str,
    data_version: str | None = None,
    overrides: dict[str, Any] | None = None,
    workspace: Workspace | None = None,
) -> tuple[TrainConfig, Path]:
    """The training config a managed job would be sent (checked), and the data version's folder."""
    from tools.train.config import DatasetStats, apply_overrides, auto_config
    from tools.train.runner import check_dataset
    from tools.workspace import as_run

    run = as_run(run, workspace)
    data_dir = run.version_dir("data", data_version)
    check_dataset(data_dir)
    n_train = sum(1 for _ in read_jsonl(data_dir / "train.jsonl"))
    n_val = sum(1 for _ in read_jsonl(data_dir / "val.jsonl")) if (data_dir / "val.jsonl").exists() else 0
    cfg = auto_config(DatasetStats(n_train=n_train, n_val=n_val), model)
    cfg = apply_overrides(cfg, {**(overrides or {}), "backend": backend}, source="managed")
    cfg.model, cfg.data_version, cfg.data_dir = model, data_dir.name, str(data_dir.resolve())
    return cfg, data_dir


def start_managed(
    run: Run | str,
    backend: str,
    *,
    model: str,
    data_version: str | None = None,
    overrides: dict[str, Any] | None = None,
    client=None,
    today: _dt.date | None = None,
    workspace: Workspace | None = None,
) -> Path:
    """Upload the data version, create the job, record it in `train/vN/`; returns that directory."""
    from tools.workspace import as_run

    run = as_run(run, workspace)
    if backend == "openai" and (today or _dt.date.today()) >= OPENAI_SUNSET:
        raise UserError(
            OPENAI_REFUSED.replace("refused to start", "no longer accepts"), fix=OPENAI_REFUSED_FIX
        )
    cfg, data_dir = managed_config(run, backend, model=model, data_version=data_version, overrides=overrides)
    api = get_backend(backend, client)
    train_id = api.upload(_clean_rows(data_dir, "train"), f"{run.id}-{data_dir.name}-train.jsonl")
    val_bytes = _clean_rows(data_dir, "val")
    val_id = api.upload(val_bytes, f"{run.id}-{data_dir.name}-val.jsonl") if val_bytes else None
    job = api.create(cfg, train_id, val_id, suffix=run.id.split("-")[-1] if "-" in run.id else run.id)
    with run.lock():
        out = run.path / "train" / run.next_version("train")
        atomic_write_json(out / "config.json", {**cfg.to_dict(), "run_id": run.id, "created": time.time()})
    atomic_write_json(
        out / "job.json",
        {
            "backend": backend,
            "job_id": job["id"],
            "training_file": train_id,
            "validation_file": val_id,
            "created": time.time(),
            "job": job,
        },
    )
    append_jsonl(
        out / "events.jsonl",
        make_event("start", step=0, job_id=job["id"], backend=backend, status=api.status_of(job)),
    )
    return out


def wait_managed(
    out_dir: Path,
    on_event: Callable[[dict], None] | None = None,
    *,
    client=None,
    poll_s: float = 10.0,
    timeout_s: float | None = None,
) -> dict:
    """Poll the job until it ends: provider events → events.jsonl; the end → metrics.json."""
    out_dir = Path(out_dir)
    info = read_json(out_dir / "job.json")
    api = get_backend(info["backend"], client)
    job_id, cursor = info["job_id"], info.get("events_cursor")
    deadline = time.time() + timeout_s if timeout_s else None
    last_step, max_steps = 0, None
    while True:
        job = api.get(job_id)
        new = api.events(job_id, cursor)
        for raw in new:
            ev = api.to_event(raw)
            if ev is None:
                continue
            last_step = ev.get("step") or last_step
            max_steps = ev.get("max_steps") or max_steps
            ev["step"], ev["max_steps"] = last_step, max_steps
            append_jsonl(out_dir / "events.jsonl", ev)
            if on_event:
                on_event(ev)
        if new:
            cursor = new[-1].get("id") if info["backend"] == "openai" else str(int(cursor or 0) + len(new))
            info["events_cursor"] = cursor
            atomic_write_json(out_dir / "job.json", {**info, "job": job})
        status = api.status_of(job)
        if status in api.terminal:
            break
        if deadline and time.time() > deadline:
            raise TimeoutError(f"{info['backend']} job {job_id} still {status} after {timeout_s}s")
        time.sleep(poll_s)
    err = job.get("error") or None
    if isinstance(err, dict) and not any(err.values()):
        err = None
    metrics = {
        "status": TERMINAL_STATUS.get(status, "failed"),
        "backend": info["backend"],
        "job_id": job_id,
        "provider_status": status,
        "fine_tuned_model": api.model_of(job),
        "final_step": last_step,
        "max_steps": max_steps,
        "trained_tokens": job.get("trained_tokens") or job.get("total_tokens"),
        "best_eval_loss": None,
        "train_loss": None,
    }
    losses = [
        json.loads(line) for line in (out_dir / "events.jsonl").read_text().splitlines() if line.strip()
    ]
    train_losses = [e["loss"] for e in losses if e.get("event") == "log" and e.get("loss") is not None]
    evals = [e["eval_loss"] for e in losses if e.get("eval_loss") is not None]
    metrics.update(
        train_loss=train_losses[-1] if train_losses else None, best_eval_loss=min(evals) if evals else None
    )
    if err:
        metrics["error"] = err.get("message") if isinstance(err, dict) else str(err)
    end = make_event(
        "end",
        step=last_step,
        max_steps=max_steps,
        status=metrics["status"],
        fine_tuned_model=metrics["fine_tuned_model"],
        loss=metrics["train_loss"],
    )
    append_jsonl(out_dir / "events.jsonl", end)
    if on_event:
        on_event(end)
    atomic_write_json(out_dir / "metrics.json", metrics)
    return metrics


def cancel_managed(out_dir: Path, *, client=None) -> dict:
    info = read_json(Path(out_dir) / "job.json")
    return get_backend(info["backend"], client).cancel(info["job_id"])
