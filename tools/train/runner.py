"""Start, watch, stop and resume training runs (the side-effect edge around `tools.train.sft`).

    out = start_training(run, data_version="v1", overrides={"max_steps": 20})   # runs/<id>/train/vN/
    metrics = wait_training(out, on_event=print)                                  # tails events.jsonl
    stop_training(out)        # SIGINT → the runner saves a checkpoint and exits with status "stopped"
    resume_training(out)      # continues from the last complete checkpoint (after a stop or a kill -9)
    metrics = train_blocking(run, ...)   # all of the above in one call (the agent uses this)

Training runs in a subprocess (`python -m tools.train.sft`, or `accelerate launch` for
`processes > 1`) in its own session, so a Ctrl-C in the terminal reaches it only through
`stop_training` (a graceful stop), and a crash of the caller never corrupts a checkpoint.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tools.errors import UserError
from tools.train.config import (
    DatasetStats,
    Hardware,
    TrainConfig,
    apply_overrides,
    auto_config,
    load_config_file,
    read_model_info,
)
from tools.workspace import Run, Workspace, as_run, atomic_write_json, read_json, read_jsonl

PROJECT_ROOT = Path(__file__).resolve().parents[2]
_PROCS: dict[str, subprocess.Popen] = {}  # out_dir → the child we launched (so we can reap it)


# ----------------------------------------------------------------- data checks
def validate_chat_rows(path: Path, *, max_problems: int = 20) -> list[str]:
    """Structural problems in a chat JSONL file, each as `file:line: what — fix` (empty = fine).

    The rows are judged by `tools.data.schema.check_chat_row`, the one structure check (data validate
    and the evaluator use it too)."""
    from tools.data.schema import check_chat_row
    from tools.userfile import loads_json

    problems: list[str] = []
    if not path.exists():
        return [f"{path}: missing — fix: create it (tunewise data …)"]
    with open(path, encoding="utf-8") as fh:
        for i, line in enumerate(fh, 1):
            if len(problems) >= max_problems:
                problems.append(f"{path}: … more problems not shown")
                break
            if not line.strip():
                continue
            where = f"{path}:{i}"
            try:
                row = loads_json(line)
            except json.JSONDecodeError as e:
                problems.append(f"{where}: invalid JSON ({e.msg}) — fix: repair the line")
                continue
            found, _ = check_chat_row(row)
            if found:
                problems.append(f"{where}: {found[0]}")
    return problems


def check_dataset(data_dir: Path) -> None:
    """Refuse a data version whose rows are malformed, with the report (line numbers) in the error."""
    problems = validate_chat_rows(data_dir / "train.jsonl")
    if (data_dir / "val.jsonl").exists():
        problems += validate_chat_rows(data_dir / "val.jsonl")
    if problems:
        raise UserError(
            f"dataset failed validation ({len(problems)} problem(s)): " + "; ".join(problems[:5]),
            where=str(data_dir),
            fix="fix the rows listed (or `tunewise data validate`), then retry",
        )
    if not any(line.strip() for line in open(data_dir / "train.jsonl", encoding="utf-8")):
        raise UserError(
            "train.jsonl has no examples",
            where=str(data_dir / "train.jsonl"),
            fix="generate or import data first",
        )


def dataset_stats(data_dir: Path, tokenizer) -> DatasetStats:
    """Counts and per-example token lengths (full chat rendering, as trained)."""

    def lengths(split: str) -> list[int]:
        p = data_dir / f"{split}.jsonl"
        if not p.exists():
            return []
        out = []
        for row in read_jsonl(p):
            text = tokenizer.apply_chat_template(row["messages"], tokenize=False)
            out.append(len(tokenizer(text, add_special_tokens=False)["input_ids"]))
        return out

    train = lengths("train")
    val_p = data_dir / "val.jsonl"
    n_val = sum(1 for line in open(val_p, encoding="utf-8") if line.strip()) if val_p.exists() else 0
    return DatasetStats(n_train=len(train), n_val=n_val, token_lengths=train)


def disk_needed_bytes(cfg: TrainConfig, n_params: int, hidden: int, layers: int) -> int:
    """Checkpoints hold adapter weights + 2 Adam moments (fp32), `save_total_limit`+1 of them, plus the
    adapter and a margin; an export later needs the merged model (~2 bytes/param) — counted too."""
    lora_params = 7 * layers * 2 * cfg.lora_r * hidden  # q,k,v,o,gate,up,down × (A+B)
    per_ckpt = lora_params * 4 * 3 + 20 * 2**20
    return per_ckpt * (cfg.save_total_limit + 2) + int(n_params * 2) + 200 * 2**20


def check_free_disk(path: Path, need_bytes: int) -> None:
    path.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(path).free
    if free < need_bytes:
        raise UserError(
            f"not enough disk for checkpoints: {free / 2**30:.2f} GiB free, about "
            f"{need_bytes / 2**30:.2f} GiB needed",
            where=str(path),
            fix="free some space, or lower save_total_limit (--set save_total_limit=1)",
        )


def oom_advice(cfg: TrainConfig) -> str:
    """A concrete retry suggestion after CUDA out-of-memory."""
    tips = []
    if cfg.per_device_train_batch_size > 1:
        b = cfg.per_device_train_batch_size // 2
        tips.append(
            f"--set per_device_train_batch_size={b} --set gradient_accumulation_steps="
            f"{cfg.gradient_accumulation_steps * 2} (same effective batch)"
        )
    if not cfg.gradient_checkpointing:
        tips.append("--set gradient_checkpointing=true")
    if cfg.max_length > 256:
        tips.append(f"--set max_length={cfg.max_length // 2}")
    if cfg.method == "lora":
        tips.append("QLoRA (--set method=qlora, needs bitsandbytes)")
    return (
        "CUDA ran out of memory; retry with "
        + " or ".join(tips)
        + " — or pass auto_retry_oom (tunewise train --auto-retry-oom) to halve the batch automatically"
    )


def halve_batch(cfg: TrainConfig) -> TrainConfig | None:
    """The OOM retry config: half the micro-batch, double accumulation; None if already at 1."""
    if cfg.per_device_train_batch_size <= 1:
        if cfg.gradient_checkpointing:
            return None
        return apply_overrides(cfg, {"gradient_checkpointing": True}, source="auto OOM retry")
    return apply_overrides(
        cfg,
        {
            "per_device_train_batch_size": cfg.per_device_train_batch_size // 2,
            "per_device_eval_batch_size": max(1, cfg.per_device_eval_batch_size // 2),
            "gradient_accumulation_steps": cfg.gradient_accumulation_steps * 2,
        },
        source="auto OOM retry",
    )


# ----------------------------------------------------------------- helpers
TAUGHT_MIN = 5  # an enum value in at least this many training answers is taught by the data itself
TAUGHT_COPIED = 0.9  # ... when this share of the answers have the field's value written in their input


def taught_fields(spec, data_dir: Path) -> list[str]:
    """The enum fields of a JSON answer whose every allowed value is in at least TAUGHT_MIN of the training
    split's answers, each written in its input in TAUGHT_COPIED of them: the data teaches them, so the tuned
    model's prompt need not list them (every request pays for the list). A value the data shows rarely or
    never (orders' size "medium") keeps its field listed, and so does a field whose value is usually not
    the input's own word (orders' milk: "none" unsaid, "full-fat" for whole): without the list the tuned
    model wrote milk "full-fat", "soya", "non-fat" (schema-valid 60%, 0.688 against the prompt's 0.703)."""
    from tools.data.coverage import answer_values, coverage_axes
    from tools.data.infer import _json_object, value_in_input
    from tools.data.schema import answer_text, user_text
    from tools.evals._normalize import normalize_text

    if spec.output.format != "json":
        return []
    rows = list(read_jsonl(data_dir / "train.jsonl")) if (data_dir / "train.jsonl").exists() else []
    answers = [(user_text(r), _json_object(answer_text(r)) or {}) for r in rows]
    out = []
    for field, values in coverage_axes(spec).items():
        seen = answer_values(rows, spec, field)
        if not all(seen.get(normalize_text(v), 0) >= TAUGHT_MIN for v in values):
            continue
        given = [value_in_input(a[field], text) for text, a in answers if isinstance(a.get(field), str)]
        if given and sum(g is True for g in given) >= TAUGHT_COPIED * len(given):
            out.append(field)
    return out


def _spec_bits(run: Run, data_dir: Path) -> tuple[str | None, str | None, str | None, dict]:
    """(full system prompt, one-line description, the answer's closed vocabulary the training data does
    not teach, training overrides) from the run's spec.yaml."""
    if not run.spec_path.exists():
        return None, None, None, {}
    try:
        from tools.spec import load_spec

        spec = load_spec(run.spec_path)
    except Exception:  # noqa: BLE001 - a spec problem is reported by the commands that own it
        return None, None, None, {}
    training = getattr(spec, "training", None)
    overrides = dict(getattr(training, "overrides", None) or {}) if training is not None else {}
    said = " ".join(
        x for x in (json_shape(spec), spec.output.choices(skip=taught_fields(spec, data_dir))) if x
    )
    return spec.effective_system_prompt, spec.spec, said or None, overrides


def json_shape(spec) -> str | None:
    """ "Answer as JSON with dog, service, day." for a JSON task whose one-line description does not say JSON:
    the groomer bench's tuned model (43 rows, 30 steps) answered its bookings in sentences, 0 of 9 as JSON,
    under "Pull the dog's name, the service and the day out of …" — a dozen tokens of the shape it is paid on
    every request cost less than a model that never learned it. None otherwise. Pure."""
    from tools.data.infer import _json_object

    out = spec.output
    if out.format != "json" or "json" in (spec.spec or "").lower():
        return None
    first = next((o for e in spec.examples if (o := _json_object(str(e.output))) is not None), None)
    keys = list(first or (out.json_schema or {}).get("required") or [])
    return f"Answer as JSON with {', '.join(keys)}." if keys else "Answer as JSON."


def _data_system_prompt(data_dir: Path) -> str | None:
    for row in read_jsonl(data_dir / "train.jsonl"):
        m = row["messages"][0]
        return m["content"] if m["role"] == "system" else None
    return None


def plan_training(
    run: Run | str,
    *,
    data_version: str | None = None,
    model: str = "embedded",
    overrides: dict[str, Any] | None = None,
    config_file: str | os.PathLike | None = None,
    processes: int = 1,
    hardware: Hardware | None = None,
    workspace: Workspace | None = None,
) -> tuple[TrainConfig, dict]:
    """The config a training would use (auto + spec + file + flag overrides) and its record; writes nothing."""
    from tools.llm.embedded import resolve_model_path
    from tools.train.config import detect_hardware, short_system_prompt

    run = as_run(run, workspace)
    data_dir = run.version_dir("data", data_version)
    if not data_dir.is_dir():
        known = ", ".join(run.versions("data")) or "none"
        raise UserError(f"data version {data_version} not found in run {run.id}", fix=f"use one of: {known}")
    check_dataset(data_dir)
    model_path = resolve_model_path(model)
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_path))
    stats = dataset_stats(data_dir, tok)
    info = read_model_info(model_path)
    hw = hardware or detect_hardware()
    cfg = auto_config(stats, model, hw, info)
    spec_system, spec_line, spec_choices, spec_overrides = _spec_bits(run, data_dir)
    cfg = apply_overrides(cfg, spec_overrides, source="spec.yaml training.overrides")
    if config_file:
        cfg = apply_overrides(
            cfg, load_config_file(config_file), source=f"config file {Path(config_file).name}"
        )
    cfg = apply_overrides(cfg, overrides, source="--set")
    if processes != 1:
        cfg = apply_overrides(cfg, {"processes": processes}, source="--processes")
    cfg.data_version, cfg.data_dir = data_dir.name, str(data_dir.resolve())
    full = spec_system or _data_system_prompt(data_dir)
    if cfg.system_prompt is None:  # not set by an override: the tuned model's own (shorter) prompt
        cfg.system_prompt, cfg.reasons["system_prompt"] = short_system_prompt(
            full, spec_line, lambda t: len(tok(t)["input_ids"]), choices=spec_choices
        )
    if cfg.system_prompt and full and full != cfg.system_prompt:
        cfg.replaces_system_prompt = full
    if cfg.backend != "local":
        raise UserError(
            f"backend {cfg.backend!r} is a managed API",
            where="backend",
            fix="train it there with `tunewise train RUN --backend together|openai --model MODEL`, or set "
            "backend: local",
        )
    doc = cfg.to_dict()
    doc.update(
        run_id=run.id,
        created=time.time(),
        hardware=hw.__dict__,
        disk_needed_bytes=disk_needed_bytes(cfg, info.n_params, info.hidden_size, info.num_layers),
        dataset={
            "n_train": stats.n_train,
            "n_val": stats.n_val,
            "p50_tokens": stats.percentile(50),
            "p99_tokens": stats.percentile(99),
            "max_tokens": max(stats.token_lengths or [0]),
        },
    )
    return cfg, doc


def prepare_training(
    run: Run | str,
    *,
    data_version: str | None = None,
    model: str = "embedded",
    overrides: dict[str, Any] | None = None,
    config_file: str | os.PathLike | None = None,
    processes: int = 1,
    hardware: Hardware | None = None,
    workspace: Workspace | None = None,
) -> Path:
    """Create `runs/<id>/train/vN/config.json` (auto config + reasons + overrides); nothing is launched."""
    run = as_run(run, workspace)
    cfg, doc = plan_training(
        run,
        data_version=data_version,
        model=model,
        overrides=overrides,
        config_file=config_file,
        processes=processes,
        hardware=hardware,
    )
    with run.lock():  # two `train` commands must not pick the same vN
        out = run.path / "train" / run.next_version("train")
        check_free_disk(out, doc["disk_needed_bytes"])
        atomic_write_json(out / "config.json", doc)
    return out


def _command(out_dir: Path, cfg: TrainConfig, resume: bool) -> list[str]:
    tail = ["--out-dir", str(out_dir)] + (["--resume"] if resume else [])
    if cfg.processes <= 1:
        return [sys.executable, "-m", "tools.train.sft", *tail]
    from tools.llm.server import free_port

    # `--multi_gpu` selects accelerate's torchrun launcher; on CPU the Trainer then uses gloo (`--cpu`
    # would fall back to one process)
    return [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        str(cfg.processes),
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        str(free_port()),
        "-m",
        "tools.train.sft",
        *tail,
    ]


OWNER_ENV = "TUNEWISE_TRAIN_OWNER"


def launch(out_dir: Path, *, resume: bool = False, owner_pid: int | None = None) -> subprocess.Popen:
    """Start the training subprocess for an existing `config.json` (its own session; log → train.log).

    With `owner_pid` (the process that waits on it: the agent, `tunewise train` without --detach), the
    trainer checkpoints and stops when that process is gone — a closed terminal or a killed app leaves no
    trainer behind — unless `detach_training` was called first (the person chose to keep it going)."""
    out_dir = Path(out_dir).resolve()
    cfg = TrainConfig.from_dict(read_json(out_dir / "config.json"))
    if is_running(out_dir):
        raise UserError(
            f"training in {out_dir} is already running", fix="wait for it, or `tunewise train stop`"
        )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PROJECT_ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    env.pop(OWNER_ENV, None)
    if owner_pid is not None:
        env[OWNER_ENV] = str(owner_pid)
        (out_dir / "DETACHED").unlink(missing_ok=True)
    if cfg.processes > 1 and "OMP_NUM_THREADS" not in env:
        env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // cfg.processes))
    log = open(out_dir / "train.log", "ab")
    proc = subprocess.Popen(
        _command(out_dir, cfg, resume),
        cwd=str(PROJECT_ROOT),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    log.close()
    atomic_write_json(
        out_dir / "process.json",
        {"pid": proc.pid, "started": time.time(), "resume": resume, "processes": cfg.processes},
    )
    _PROCS[str(out_dir)] = proc
    return proc


def start_training(
    run: Run | str,
    *,
    data_version: str | None = None,
    model: str = "embedded",
    overrides: dict[str, Any] | None = None,
    processes: int = 1,
    config_file: str | os.PathLike | None = None,
    workspace: Workspace | None = None,
    owner_pid: int | None = None,
) -> Path:
    """Create `train/vN/` and launch the runner (see `launch` for `owner_pid`); returns the version directory
    at once."""
    out = prepare_training(
        run,
        data_version=data_version,
        model=model,
        overrides=overrides,
        config_file=config_file,
        processes=processes,
        workspace=workspace,
    )
    launch(out, owner_pid=owner_pid)
    return out


def resume_training(out_dir: Path, *, owner_pid: int | None = None) -> Path:
    """Relaunch with `--resume`: it continues from the newest complete checkpoint (or starts over if none)."""
    out_dir = Path(out_dir).resolve()
    if not (out_dir / "config.json").exists():
        raise UserError(
            "not a training directory (no config.json)",
            where=str(out_dir),
            fix="pass a train/vN directory of a run",
        )
    launch(out_dir, resume=True, owner_pid=owner_pid)
    return out_dir


def _pid(out_dir: Path) -> int | None:
    p = Path(out_dir) / "process.json"
    if not p.exists():
        return None
    with contextlib.suppress(Exception):
        return int(read_json(p)["pid"])
    return None


def is_running(out_dir: Path) -> bool:
    out_dir = Path(out_dir).resolve()
    proc = _PROCS.get(str(out_dir))
    if proc is not None:
        return proc.poll() is None
    pid = _pid(out_dir)
    if pid is None:
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    # a pid can be reused: trust it only if it is our runner
    with contextlib.suppress(OSError):
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        return "tools.train.sft" in cmd and str(out_dir) in cmd
    return True


def detach_training(out_dir: Path) -> None:
    """Let a running trainer outlive the process that started it (it checkpoints and stops otherwise)."""
    atomic_write_json(Path(out_dir).resolve() / "DETACHED", {"since": time.time()})


def stop_training(out_dir: Path) -> bool:
    """Ask the runner to save a checkpoint and stop (STOP file + SIGINT to its process group)."""
    out_dir = Path(out_dir).resolve()
    (out_dir / "STOP").write_text("stop requested\n")
    pid = _pid(out_dir)
    if pid is None or not is_running(out_dir):
        (out_dir / "STOP").unlink(missing_ok=True)
        return False
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGINT)  # the session leader and, under accelerate, every rank
    return True


def wait_training(
    out_dir: Path,
    on_event: Callable[[dict], None] | None = None,
    *,
    poll_s: float = 0.5,
    timeout_s: float | None = None,
    from_start: bool = False,
) -> dict:
    """Tail `events.jsonl` until the runner exits; return `metrics.json` (or a `failed` stub if it died).

    `on_event` gets every new event (from the current end of the log, or from the start with
    `from_start=True`)."""
    out_dir = Path(out_dir).resolve()
    events = out_dir / "events.jsonl"
    pos = 0 if from_start or not events.exists() else _start_offset(events)
    deadline = time.time() + timeout_s if timeout_s else None
    buf = b""
    while True:
        running = is_running(out_dir)
        if events.exists():
            if events.stat().st_size < pos:  # rewritten (a resume cut it back): read from the start
                pos = 0
            with open(events, "rb") as fh:
                fh.seek(pos)
                chunk = fh.read()
            pos += len(chunk)
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for line in lines:
                if line.strip() and on_event:
                    with contextlib.suppress(json.JSONDecodeError):
                        on_event(json.loads(line))
        if not running:
            break
        if deadline and time.time() > deadline:
            raise TimeoutError(f"training in {out_dir} still running after {timeout_s}s")
        time.sleep(poll_s)
    proc = _PROCS.pop(str(out_dir), None)
    rc = proc.wait() if proc is not None else None
    return training_result(out_dir, returncode=rc)


def _start_offset(events: Path) -> int:
    return events.stat().st_size


def training_result(out_dir: Path, returncode: int | None = None) -> dict:
    """`metrics.json` when the last launch finished; else a failure record saying how to resume."""
    out_dir = Path(out_dir)
    metrics_p, proc_p = out_dir / "metrics.json", out_dir / "process.json"
    if metrics_p.exists() and (not proc_p.exists() or metrics_p.stat().st_mtime >= proc_p.stat().st_mtime):
        m = read_json(metrics_p)
        if m.get("error_kind") == "oom":
            m["advice"] = oom_advice(TrainConfig.from_dict(read_json(out_dir / "config.json")))
        return m
    from tools.train.sft import last_complete_checkpoint

    ckpt = last_complete_checkpoint(out_dir / "checkpoints")
    return {
        "status": "failed",
        "returncode": returncode,
        "final_step": None,
        "error": f"the training process ended without a result (exit code {returncode})"
        + (f"; last checkpoint: {ckpt.name}" if ckpt else "; no checkpoint yet"),
        "resumable": ckpt is not None,
        "advice": f"tunewise train resume {out_dir.parent.parent.name} {out_dir.name} (see {out_dir}/train.log)",
    }


def train_blocking(
    run: Run | str,
    *,
    data_version: str | None = None,
    model: str = "embedded",
    overrides: dict[str, Any] | None = None,
    processes: int = 1,
    config_file: str | os.PathLike | None = None,
    on_event: Callable[[dict], None] | None = None,
    auto_retry_oom: bool = False,
    workspace: Workspace | None = None,
    out_dir: Path | None = None,
) -> dict:
    """Train to the end and return metrics (+ `out_dir`). Reuses `out_dir` if given (resuming it when it
    has checkpoints and no result, so an agent node that restarts after a crash picks up its own run)."""
    if out_dir is not None and (Path(out_dir) / "config.json").exists():
        out = Path(out_dir).resolve()
        m = training_result(out)
        if m.get("status") in ("completed", "early_stopped") and not is_running(out):
            return {**m, "out_dir": str(out)}
        if not is_running(out):
            resume_training(out, owner_pid=os.getpid())
    else:
        out = start_training(
            run,
            data_version=data_version,
            model=model,
            overrides=overrides,
            processes=processes,
            config_file=config_file,
            workspace=workspace,
            owner_pid=os.getpid(),  # this process waits on it: it stops if this process is gone
        )
    metrics = wait_training(out, on_event=on_event, from_start=True)
    while metrics.get("error_kind") == "oom" and (
        auto_retry_oom or TrainConfig.from_dict(read_json(out / "config.json")).auto_retry_oom
    ):
        cfg = TrainConfig.from_dict(read_json(out / "config.json"))
        smaller = halve_batch(cfg)
        if smaller is None:
            break
        doc = read_json(out / "config.json")
        doc.update(smaller.to_dict())
        atomic_write_json(out / "config.json", doc)
        shutil.rmtree(out / "checkpoints", ignore_errors=True)  # batch shape changed: start clean
        (out / "metrics.json").unlink(missing_ok=True)
        launch(out)
        metrics = wait_training(out, on_event=on_event, from_start=False)
    return {**metrics, "out_dir": str(out)}
