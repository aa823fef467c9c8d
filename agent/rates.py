"""How fast this machine really is, so the decision's estimate is honest.

    rates = machine_rates(workspace, student=provider)   # measures once per machine, then reads the cache
    estimate_path("fine-tune", n_examples=200, teacher="local:embedded", rates=rates)

Rates live in `.tunewise/cache/rates.json`, one entry per machine (host, CPU count, GPU). Generation
tokens/s is measured with a quick batched call of the local student (a few seconds); training tokens/s
comes from the last real training on this machine (the context records the trainer's own figure), else
from the benchmark figures for the device (the design's, for an idle machine; bench/RESULTS.md) — and the
estimate says which.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

RATES_FILE = "rates.json"

# Benchmarks on an idle machine (the design's figures; bench/RESULTS.md under load): used until this machine is measured.
BENCH = {
    "cpu": {"generate_tokens_per_s": 68.0, "train_tokens_per_s": 200.0},
    "cuda": {"generate_tokens_per_s": 1500.0, "train_tokens_per_s": 1500.0},
}
# writing and checking with a model on this computer, before either was timed here, took up to ~3× the
# token-rate guess (walk 9: 85 minutes for 26.7 estimated; the teacher's prompts carry the person's examples,
# and off-task inputs are written again); with the checking priced as measured (below) walk 21's took 1.1× the
# guess: the estimate gives a range up to twice it
UNTIMED_SPREAD = 2.0
# the checking's cost per example in tokens the writer generates: the hardness check (the student), a second
# opinion (the teacher), a third where they disagree, and the checks' prompts. Measured: walk 21's checking took
# 5.9 s an example at 72.8 tokens/s (≈430); the guess of 160 (2.5 answers of 64 tokens) was 2.7× short
CRITIQUE_TOKENS_PER_EXAMPLE = 430
API_TOKENS_PER_S = 400.0  # a hosted teacher/judge answering ~8 requests at once (assumed, not measured)


# ---------------------------------------------------------------- the machine
def device() -> dict[str, Any]:
    """CPU or GPU, cheaply: torch's view when torch is already loaded, else the NVIDIA driver's files."""
    forced = os.environ.get("TUNEWISE_DEVICE", "")
    cores = os.cpu_count() or 1
    if forced.startswith("cpu"):
        return {"kind": "cpu", "name": f"CPU ({cores} cores)", "cores": cores}
    gpu = None
    torch = sys.modules.get("torch")
    if torch is not None:
        try:
            if torch.cuda.is_available():
                gpu = torch.cuda.get_device_name(0)
        except Exception:  # noqa: BLE001 - a broken driver is "no GPU"
            gpu = None
    elif Path("/proc/driver/nvidia/version").exists() or Path("/dev/nvidia0").exists():
        gpu = "NVIDIA GPU"
    if gpu:
        return {"kind": "cuda", "name": f"GPU ({gpu})", "cores": cores}
    return {"kind": "cpu", "name": f"CPU ({cores} cores, no GPU)", "cores": cores}


def busy() -> float:
    """How shared the CPU is now: runnable work per core over the last minute, at least 1.0 (1.0 = this
    job alone). Work that shares the cores runs about this many times slower. `TUNEWISE_BUSY` sets it."""
    forced = os.environ.get("TUNEWISE_BUSY")
    if forced:
        try:
            return max(1.0, float(forced))
        except ValueError:
            pass
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # no load average on this platform
        return 1.0
    return max(1.0, load / (os.cpu_count() or 1))


def machine_key(dev: dict | None = None) -> str:
    dev = dev or device()
    return f"{platform.node()}|{dev['cores']}cpu|{dev['name']}"


# ---------------------------------------------------------------- the cache
def _path(workspace) -> Path:
    return Path(workspace.cache_dir) / RATES_FILE


def load_rates(workspace) -> dict[str, Any]:
    """This machine's recorded rates (empty when none were measured in this workspace)."""
    if workspace is None:
        return {}
    p = _path(workspace)
    if not p.exists():
        return {}
    try:
        doc = json.loads(p.read_text())
    except (OSError, json.JSONDecodeError):
        return {}
    entry = doc.get(machine_key()) if isinstance(doc, dict) else None
    return dict(entry) if isinstance(entry, dict) else {}


def record_rate(workspace, name: str, value: float, how: str) -> None:
    """Keep a measured rate for this machine (atomic write; the newest measurement wins)."""
    if workspace is None or not value or value <= 0:
        return
    from tools.workspace import atomic_write_json

    p = _path(workspace)
    try:
        doc = json.loads(p.read_text()) if p.exists() else {}
    except (OSError, json.JSONDecodeError):
        doc = {}
    key = machine_key()
    entry = dict(doc.get(key) or {})
    entry[name] = round(float(value), 4)
    entry[f"{name}_source"] = how
    entry[f"{name}_busy"] = round(busy(), 2)  # how shared the cores were while it was measured
    entry[f"{name}_at"] = time.strftime("%Y-%m-%d %H:%M")
    doc[key] = entry
    p.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(p, doc)


def teacher_kind(teacher: str) -> str:
    """'local' for a model on this computer, 'hosted' for an API: their speeds differ by 10× and more."""
    prov = str(teacher).partition(":")[0]
    return "local" if prov in ("local", "embedded", "") else "hosted"


def example_tokens(examples) -> int:
    """Tokens one practice example costs to write and train on, from the person's examples: their input and
    answer (~4 characters a token) plus ~40 tokens of chat template and instructions; 180 without examples.
    A dental clinic's one-line messages with one-word labels are ~60, not the 180 a long answer takes."""
    sizes = [
        len(str(e.get("input", ""))) + len(str(e.get("output", "")))
        for e in examples or []
        if isinstance(e, dict)
    ]
    if not sizes:
        return 180
    return max(40, min(1000, round(sum(sizes) / len(sizes) / 4) + 40))


# the steps whose time grows with the number of practice examples, as the estimate splits them
TIMED_STEPS = ("generate", "critique", "evaluate")


def record_step_time(workspace, step: str, seconds: float, n_examples: int, teacher: str) -> None:
    """Keep how long a finished step took per practice example on this machine (with this kind of teacher):
    the next estimate uses it instead of a token-rate guess. The walk's estimates were ~3× too long (36
    minutes for a quick try that took 8) because a 4-prompt speed test said little about a real batch."""
    if step not in TIMED_STEPS or n_examples <= 0 or seconds <= 0:
        return
    record_rate(
        workspace,
        f"{step}_s_per_example_{teacher_kind(teacher)}",
        seconds / n_examples,
        f"measured here ({step} of {n_examples} examples)",
    )


# ---------------------------------------------------------------- measuring
def measure_generation(provider, *, n: int = 4, max_tokens: int = 24) -> float | None:
    """Generated tokens per second of one batched call (no cache), as generation runs it."""
    from tools.llm import GenParams, Request

    prompts = [
        "Write one sentence about the sea.",
        "Name three colours and one fruit.",
        "Describe a bicycle in one sentence.",
        "Give a short tip for writing clear emails.",
    ]
    reqs = [
        Request(
            [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": prompts[i % 4]}],
            GenParams(max_tokens=max_tokens, temperature=0.0),
        )
        for i in range(n)
    ]
    if hasattr(provider, "_loaded"):
        provider._loaded()  # loading the weights is not generating: keep it out of the clock
    t0 = time.perf_counter()
    comps = provider.map(reqs, use_cache=False)
    seconds = time.perf_counter() - t0
    tokens = sum(c.usage.completion_tokens for c in comps)
    return tokens / seconds if tokens and seconds > 0 else None


# a speed test run while the cores are this shared says little of the machine alone (threads that contend slow
# down far more than the load says: walk 29 measured 4 tokens/s beside a training job, where 57 is the figure
# alone, estimated 8 hours for a run of 30 minutes, and kept the figure for every later estimate): not measured
# then, the benchmark figure scaled by the load is used, and the test runs on a later, quieter decision
MEASURE_BUSY_LIMIT = 1.5


def machine_rates(workspace, *, student=None, measure: bool = True) -> dict[str, Any]:
    """Rates for the estimate: measured on this machine where possible, benchmark figures otherwise.

    With a local `student` and no cached measurement, measures its generation speed once (a few seconds)
    and records it. Returns {"device", "generate_tokens_per_s", "train_tokens_per_s", "*_source"}."""
    dev = device()
    if student is not None and getattr(student, "name", None) == "local":
        dev_name = getattr(student, "device", "") or ""
        if str(dev_name).startswith("cuda") and dev["kind"] != "cuda":
            dev = {"kind": "cuda", "name": "GPU", "cores": dev["cores"]}
    cached = load_rates(workspace)
    bench = BENCH[dev["kind"]]
    if (
        measure
        and student is not None
        and getattr(student, "name", None) == "local"
        and "generate_tokens_per_s" not in cached
        and busy() < MEASURE_BUSY_LIMIT
    ):
        try:
            tps = measure_generation(student)
        except Exception:  # noqa: BLE001 - an estimate never fails a decision
            tps = None
        if tps:
            record_rate(
                workspace, "generate_tokens_per_s", tps, f"measured here ({student.describe()}, batched)"
            )
            cached = load_rates(workspace)
    now = busy() if dev["kind"] == "cpu" else 1.0
    out: dict[str, Any] = {"device": dev["kind"], "device_name": dev["name"], "busy": now}
    for name in [
        k
        for k in cached
        if ("_s_per_example_" in k or k.startswith("trial_s_per_answer_"))
        and not k.endswith(("_busy", "_source", "_at"))
    ]:
        # seconds scale the other way: shared cores make a step take longer
        out[name] = float(cached[name]) / float(cached.get(f"{name}_busy") or 1.0) * now
        out[f"{name}_source"] = (
            f"{cached.get(f'{name}_source') or 'measured here'} {cached.get(f'{name}_at', '')}".strip()
        )
    for name in ("generate_tokens_per_s", "train_tokens_per_s"):
        if cached.get(name):
            # a rate measured on shared cores is that much slower than alone: scale it to how shared they
            # are now (the walk's round, estimated at 11 minutes on a machine measured idle, took 34 busy)
            out[name] = float(cached[name]) * float(cached.get(f"{name}_busy") or 1.0) / now
            how = cached.get(f"{name}_source") or "measured here"
            out[f"{name}_source"] = f"{how} {cached.get(f'{name}_at', '')}".strip()
        else:
            out[name] = bench[name] / now
            out[f"{name}_source"] = f"benchmark figure for a {dev['kind'].upper()}, not yet measured here" + (
                " (the computer is too busy to measure now)"
                if measure and student is not None and now >= MEASURE_BUSY_LIMIT
                else ""
            )
    return out


# ---------------------------------------------------------------- the estimate
def estimate_path(
    approach: str,
    *,
    n_examples: int = 200,
    teacher: str = "local:embedded",
    prices=None,
    tokens_per_example: int = 180,
    epochs: int = 3,
    rates: dict | None = None,
    n_checked: int | None = None,
    written: bool = True,
) -> dict[str, Any]:
    """Tokens, dollars and minutes for the recommended path, from this machine's rates (see module doc).
    `n_checked`: the person's examples a path with nothing to train is checked on (None: not known, ~50);
    `written=False`: the model trains on the person's `n_examples` own examples, nothing is written."""
    from tools.llm.pricing import PriceTable

    prices = prices or PriceTable.load()
    rates = rates or machine_rates(None, measure=False)
    prov, _, model = teacher.partition(":")
    local_teacher = teacher_kind(teacher) == "local"
    gen_tps = rates["generate_tokens_per_s"]
    train_tps = rates["train_tokens_per_s"]
    on_gpu = rates.get("device") == "cuda"
    hw = rates.get("device_name") or ("GPU" if on_gpu else "CPU")
    if approach not in ("fine-tune", "rag+fine-tune"):
        return _prompt_estimate(approach, hw, prices, teacher, rates, tokens_per_example, n_checked)
    # inputs + answers + critique per example, at the teacher's prices
    gen_in, gen_out = n_examples * 700, n_examples * 2 * tokens_per_example
    gen_cost = prices.cost(prov, model or "default", gen_in, gen_out)
    gen_minutes = gen_out / (gen_tps if local_teacher else API_TOKENS_PER_S) / 60
    critique_minutes = n_examples * CRITIQUE_TOKENS_PER_EXAMPLE / gen_tps / 60
    train_tokens = n_examples * tokens_per_example * epochs
    train_minutes = train_tokens / train_tps / 60
    # three systems (base, prompted, tuned) answer the test and regression rows (~25% of the data)
    eval_tokens = 3 * max(8, n_examples // 4) * tokens_per_example
    eval_minutes = 3 * max(8, n_examples // 4) * 64 / gen_tps / 60
    # a step already timed on this machine (same kind of teacher) beats the token-rate guess
    kind = teacher_kind(teacher)
    timed = [step for step in TIMED_STEPS if rates.get(f"{step}_s_per_example_{kind}")]
    per = {step: rates[f"{step}_s_per_example_{kind}"] * n_examples / 60 for step in timed}
    gen_minutes = per.get("generate", gen_minutes)
    critique_minutes = per.get("critique", critique_minutes)
    eval_minutes = per.get("evaluate", eval_minutes)
    if not written:
        gen_in = gen_out = 0
        gen_cost = gen_minutes = critique_minutes = 0.0
        timed = [step for step in timed if step not in ("generate", "critique")]
    overhead_minutes = 2  # loading models, starting the trainer, writing reports
    gpu_hours = train_minutes / 60 if on_gpu else 0.0
    total = gen_minutes + critique_minutes + train_minutes + eval_minutes + overhead_minutes
    out = {
        "path": approach,
        "hardware": hw,
        "local_teacher": local_teacher,  # the examples are written on this computer (the built-in model)
        "time_minutes": round(total),
        "generate_minutes": round(gen_minutes + critique_minutes, 1),
        "train_minutes": round(train_minutes, 1),
        "evaluate_minutes": round(eval_minutes, 1),
        "cost_usd": round(gen_cost + gpu_hours * prices.gpu_hour, 4),
        "data_generation_tokens": gen_in + gen_out,
        "training_tokens": train_tokens,
        "evaluation_tokens": eval_tokens,
        "gpu_hours": round(gpu_hours, 3),
        "assumptions": (
            (
                f"{n_examples} practice examples × ~{tokens_per_example} tokens × {epochs} passes (epochs) on "
                f"{hw}, written by {_who(teacher)}; writing {_pace(gen_tps)} "
                f"({rates.get('generate_tokens_per_s_source', '')}), training "
                if written
                else f"your own {n_examples} examples × ~{tokens_per_example} tokens × {epochs} passes (epochs) "
                f"on {hw}, none written by a model; training "
            )
            + f"{_pace(train_tps)} ({rates.get('train_tokens_per_s_source', '')})"
            + ("" if local_teacher else f"; the hosted model {_pace(API_TOKENS_PER_S)} (assumed)")
            + (
                f"; the computer is busy with other work now (about {rates['busy']:.1f}× slower than alone)"
                if rates.get("busy", 1.0) >= 1.2
                else ""
            )
            + (
                f"; {', '.join(_step_words(s) for s in timed)} timed on this computer's last run"
                if timed
                else ""
            )
            + "; a token is about ¾ of a word; the progress screens show live rates and times once the work runs"
        ),
    }
    untimed = [
        m for step, m in (("generate", gen_minutes), ("critique", critique_minutes)) if step not in timed
    ]
    if local_teacher and untimed and written:
        out["time_minutes_high"] = round(total + (UNTIMED_SPREAD - 1) * sum(untimed))
    if on_gpu:
        out["gpu_cost_usd"] = round(gpu_hours * prices.gpu_hour, 2)
    return out


def _prompt_estimate(
    approach: str,
    hw: str,
    prices,
    teacher: str,
    rates: dict,
    tokens_per_example: int,
    n_checked: int | None = None,
) -> dict:
    """A path with nothing to train: only checking the prompt on the person's examples (~50 when their number
    is not known), at the teacher's prices."""
    prov, _, model = teacher.partition(":")
    local_teacher = teacher_kind(teacher) == "local"
    gen_tps = rates["generate_tokens_per_s"]
    n_probe = 50 if n_checked is None else n_checked
    what = (
        f"the prompt is checked on ~{n_probe} examples it has not seen"
        if n_checked is None
        else f"the prompt is checked on your {n_checked} example{'s' * (n_checked != 1)}"
        if n_checked
        else "nothing to check the prompt on until you give examples"
    )
    answers = trial_answers(approach, n_probe)
    probe_tokens = n_probe * tokens_per_example * 2
    cost = prices.cost(prov, model or "default", probe_tokens // 2, probe_tokens // 2)
    # each answer as long as the trial lets it run (one rambling answer holds its whole batch): walk 28's 30
    # examples were estimated at 1 minute from 30 short answers, and the 60 answers took 7½ (busy machine)
    minutes = answers * TRIAL_ANSWER_TOKENS / (gen_tps if local_teacher else API_TOKENS_PER_S) / 60
    timed = rates.get(f"trial_s_per_answer_{teacher_kind(teacher)}")
    if timed and answers:
        minutes = float(timed) * answers / 60
        what += f" ({answers} answers, timed on this computer's last prompt trial)"
    elif answers:
        what += f" ({answers} answers)"
    return {
        "path": approach,
        "hardware": hw,
        "time_minutes": max(1, round(minutes + 1)),
        "cost_usd": round(cost, 4),
        "data_generation_tokens": 0,
        "evaluation_tokens": probe_tokens,
        "training_tokens": 0,
        "gpu_hours": 0.0,
        "assumptions": f"{what}, {_pace(gen_tps)} ({rates.get('generate_tokens_per_s_source', '')}); a token is about "
        "¾ of a word",
    }


# the longest answer a prompt trial lets the model write (agent.nodes.branches: select_prompt's max_tokens)
TRIAL_ANSWER_TOKENS = 128
PROMPT_SHOT_COUNTS = (0, 2, 4, 6)  # the prompts a trial tries: that many of the person's examples shown


def trial_answers(approach: str, n_examples: int) -> int:
    """Answers a path with nothing to train writes to check itself on `n_examples` of the person's: a prompt
    trial answers the held-out half once per prompt tried (0, 2, 4, 6 examples shown, as many as the other
    half has); retrieval answers every example with and without the passages. Pure."""
    if n_examples <= 0:
        return 0
    if approach == "rag":
        return 2 * n_examples
    half = max(1, n_examples // 2)
    held = max(1, n_examples - half)
    return sum(1 for k in PROMPT_SHOT_COUNTS if k <= half) * held


def record_trial_time(workspace, seconds: float, answers: int, teacher: str) -> None:
    """Keep how long a prompt trial took per answer here: the next estimate of a path with nothing to train
    uses it (as `record_step_time` for the steps that train)."""
    if answers > 0 and seconds > 0:
        record_rate(
            workspace,
            f"trial_s_per_answer_{teacher_kind(teacher)}",
            seconds / answers,
            f"measured here (a prompt trial of {answers} answers)",
        )


def _pace(tokens_per_s: float) -> str:
    """A speed in words (walk 18 stopped at "tokens/s" in the estimate): a token is about ¾ of a word."""
    return f"at about {max(1, round(tokens_per_s * 0.75))} words a second"


def _step_words(step: str) -> str:
    return {"generate": "writing", "critique": "checking", "evaluate": "testing"}.get(step, step)


def _who(teacher: str) -> str:
    """The model that writes the practice examples, in words ('local:embedded' means nothing to a newcomer)."""
    from tools.llm.embedded import is_embedded

    if is_embedded(teacher):
        return "the small model on this computer"
    return str(teacher)
