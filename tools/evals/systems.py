"""Systems under test: what model, with which prompt, adapter or retrieval, answers the test inputs.

Every system answers the same rows; a system differs only in how it builds the messages and
which provider (and adapter) it calls. Generation goes through `provider.map`: batched on the
local model, concurrent on APIs, and cached, so a rerun of an eval makes no provider calls.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from tools.data.schema import user_text
from tools.errors import UserError

SystemKind = Literal["base", "prompted", "rag", "tuned", "external", "trivial"]
# "trivial": the majority answer, a constant (tools/evals/distribution.py) — a tuned model must beat it too
BASELINE_KINDS = ("base", "prompted", "rag", "trivial")
TRIVIAL_NAME = "majority answer"
MAX_SHOT_CHARS = 600  # a longer example costs more context than it teaches a small model


@dataclass
class SystemSpec:
    name: str
    kind: SystemKind
    provider: str | None = None  # None: the local model (embedded unless `model` names another)
    model: str | None = None
    base_url: str | None = None
    adapter: str | None = None  # LoRA adapter directory (tuned systems)
    system_prompt: str | None = None
    few_shot: list[dict] = field(default_factory=list)  # [{"input", "output"}] shown before every input
    few_shot_strategy: Literal["static", "knn"] = "static"
    few_shot_pool: list[dict] = field(default_factory=list, repr=False)  # knn picks per input from here
    retrieval: dict | None = None  # RetrievalConfig.to_dict()
    use_row_system: bool = False  # tuned: the row's own system message, as training saw it
    own_instructions: bool = True  # prompted: the person wrote the system prompt (False: made from the spec)
    max_tokens: int = 256
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["few_shot_pool"] = len(self.few_shot_pool)
        return d


# ---------------------------------------------------------------- rows
def split_row(row: dict) -> tuple[str | None, list[dict], str]:
    """(system message or None, conversation before the answer, reference = the last assistant turn)."""
    msgs = row.get("messages") or []
    if not msgs or msgs[-1].get("role") != "assistant":
        raise UserError(
            "row does not end with an assistant turn (the reference)",
            where=str(row.get("metadata", {}).get("id", "?")),
            fix="end each row with the expected answer",
        )
    system = msgs[0]["content"] if msgs[0].get("role") == "system" else None
    convo = [{"role": m["role"], "content": m["content"]} for m in msgs[:-1] if m.get("role") != "system"]
    return system, convo, msgs[-1]["content"]


# ---------------------------------------------------------------- few-shot choice
_WORD = re.compile(r"\w+")


def _bag(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def examples_from_rows(rows: Sequence[dict]) -> list[dict]:
    out = []
    for r in rows:
        try:
            _, _, ref = split_row(r)
        except UserError:
            continue
        out.append(
            {"input": user_text(r), "output": ref, "category": (r.get("metadata") or {}).get("category")}
        )
    return out


def choose_few_shot(pool: Sequence[dict], k: int = 4, preferred: Sequence[dict] = ()) -> list[dict]:
    """k examples that cover the task: the user's own examples first, then one per category in turn
    (most frequent category first), each time the most typical remaining example of that category
    (highest mean word overlap with its category) that is not a near-duplicate of one already chosen.
    """
    chosen = [{"input": e["input"], "output": e["output"]} for e in list(preferred)[:k]]
    bags = [_bag(e["input"]) for e in chosen]
    candidates = [e for e in pool if len(e["output"]) <= MAX_SHOT_CHARS and e["input"].strip()]
    by_cat: dict[Any, list[dict]] = {}
    for e in candidates:
        by_cat.setdefault(e.get("category"), []).append(e)
    ranked: dict[Any, list[dict]] = {}
    for cat, items in by_cat.items():
        ib = [_bag(e["input"]) for e in items]
        typical = [sum(_jaccard(b, o) for o in ib) / len(ib) for b in ib]
        ranked[cat] = [items[i] for i in sorted(range(len(items)), key=lambda i: (-typical[i], i))]
    order = [c for c, _ in Counter({c: len(v) for c, v in by_cat.items()}).most_common()]
    while len(chosen) < k and any(ranked.values()):
        for cat in order:
            if len(chosen) >= k:
                break
            while ranked[cat]:
                e = ranked[cat].pop(0)
                b = _bag(e["input"])
                if all(_jaccard(b, o) < 0.8 for o in bags):
                    chosen.append({"input": e["input"], "output": e["output"]})
                    bags.append(b)
                    break
    return chosen


def nearest_examples(query: str, pool: Sequence[dict], k: int) -> list[dict]:
    """The k pool examples whose inputs share the most words with the query (for per-input few-shot)."""
    q = _bag(query)
    scored = sorted(range(len(pool)), key=lambda i: (-_jaccard(q, _bag(pool[i]["input"])), i))
    picked = [pool[i] for i in scored if pool[i]["input"].strip() != query.strip()][:k]
    return [
        {"input": e["input"], "output": e["output"]} for e in reversed(picked)
    ]  # most similar last, nearest the input


# ---------------------------------------------------------------- messages
def build_messages(system: SystemSpec, row: dict, retriever=None) -> list[dict]:
    """The exact messages `system` sends for `row` (without the reference answer)."""
    row_system, convo, _ = split_row(row)
    if system.kind == "base":
        return convo  # no system prompt: the chat template's own default applies (recorded in notes)
    sys_prompt = row_system if (system.use_row_system and row_system) else system.system_prompt
    if system.kind == "rag" and retriever is not None:
        from tools.rag.index import with_excerpts

        sys_prompt = with_excerpts(
            sys_prompt,
            retriever.search(user_text(row)),
            (system.retrieval or {}).get("max_context_chars", 2000),
        )
    shots = system.few_shot
    if system.few_shot_strategy == "knn" and system.few_shot_pool:
        shots = nearest_examples(user_text(row), system.few_shot_pool, max(1, len(system.few_shot) or 4))
    msgs: list[dict] = [{"role": "system", "content": sys_prompt}] if sys_prompt else []
    for e in shots:
        msgs += [{"role": "user", "content": e["input"]}, {"role": "assistant", "content": e["output"]}]
    return msgs + convo


def template_default_system_prompt(provider) -> str | None:
    """The system prompt a local chat template inserts when none is given (SmolLM2 does), else None."""
    render = getattr(provider, "render", None)
    if not callable(render):
        return None
    try:
        text = render([{"role": "user", "content": "\x00"}])
    except Exception:  # noqa: BLE001 - a template quirk must not stop an eval
        return None
    m = re.search(r"<\|im_start\|>system\n(.*?)<\|im_end\|>", text, re.S)
    return m.group(1).strip() if m else None


# ---------------------------------------------------------------- builders
def base_system(max_tokens: int = 256, *, name: str = "base", model: str | None = None) -> SystemSpec:
    return SystemSpec(
        name,
        "base",
        model=model,
        max_tokens=max_tokens,
        notes=["zero-shot, no system prompt (the honest baseline)"],
    )


def prompted_system(
    spec,
    train_rows: Sequence[dict] = (),
    *,
    k: int = 4,
    strategy: str = "static",
    max_tokens: int = 256,
    name: str = "prompted",
    model: str | None = None,
) -> SystemSpec:
    """Base model + the spec's system prompt + k few-shot examples: the spec's own examples first (in
    balanced order), then from train (never from test)."""
    pool = examples_from_rows(train_rows)
    from tools.data.coverage import balanced_order

    preferred = [
        {"input": e.input, "output": e.output} for e in balanced_order(getattr(spec, "examples", []), spec)
    ]
    shots = choose_few_shot(pool, k, preferred)
    return SystemSpec(
        name,
        "prompted",
        model=model,
        system_prompt=spec.effective_system_prompt,
        own_instructions=bool(getattr(spec, "system_prompt", None)),
        few_shot=shots,
        few_shot_strategy=strategy,
        few_shot_pool=pool if strategy == "knn" else [],
        max_tokens=max_tokens,
        notes=[
            f"{len(shots)} few-shot examples ({strategy}; spec examples first, then by "
            "category coverage and typicality)"
        ],
    )


def rag_system(
    spec, documents: str | Path, *, k: int = 3, method: str = "hybrid", max_tokens: int = 256
) -> SystemSpec:
    from tools.rag import RetrievalConfig

    cfg = RetrievalConfig(documents=str(documents), k=k, method=method)  # type: ignore[arg-type]
    return SystemSpec(
        "rag",
        "rag",
        system_prompt=spec.effective_system_prompt,
        retrieval=cfg.to_dict(),
        max_tokens=max_tokens,
        notes=[f"{method} retrieval, top {k} passages"],
    )


def tuned_system(
    version: str,
    adapter: str | Path,
    spec,
    *,
    model: str | None = None,
    max_tokens: int = 256,
    name: str | None = None,
) -> SystemSpec:
    """A trained adapter, prompted zero-shot with the system prompt it was trained with (its training
    config says which; an adapter from elsewhere gets each test row's own system message)."""
    from tools.train.config import trained_system_prompt

    trained = trained_system_prompt(adapter)
    return SystemSpec(
        name or f"tuned-{version}",
        "tuned",
        model=model,
        adapter=str(adapter),
        system_prompt=trained or spec.effective_system_prompt,
        use_row_system=trained is None,
        max_tokens=max_tokens,
        notes=["zero-shot with the training system prompt"],
    )


def external_system(
    name: str,
    provider: str,
    model: str | None = None,
    base_url: str | None = None,
    *,
    spec=None,
    few_shot: Sequence[dict] = (),
    max_tokens: int = 256,
) -> SystemSpec:
    """Any model the user names (e.g. the teacher) with the same best prompt as `prompted`."""
    return SystemSpec(
        name,
        "external",
        provider=provider,
        model=model,
        base_url=base_url,
        system_prompt=spec.effective_system_prompt if spec is not None else None,
        few_shot=list(few_shot),
        max_tokens=max_tokens,
        notes=["best prompt (system + few-shot)"],
    )


def tuned_adapters(run_path: Path) -> list[tuple[str, Path]]:
    """[(vK, adapter dir)] for every training version with a saved adapter, oldest first."""
    base = Path(run_path) / "train"
    if not base.is_dir():
        return []
    found = [
        (p.name, p / "adapter")
        for p in base.iterdir()
        if re.fullmatch(r"v\d+", p.name) and (p / "adapter" / "adapter_config.json").exists()
    ]
    return sorted(found, key=lambda t: int(t[0][1:]))


def build_systems(
    spec,
    run_path: Path,
    train_rows: Sequence[dict] = (),
    *,
    names: Sequence[str] | None = None,
    max_tokens: int = 256,
    external: Sequence[str] = (),
) -> list[SystemSpec]:
    """The systems a run is evaluated with. `names` picks among: base, prompted, rag, tuned (all versions),
    tuned-vK, teacher (the spec's teacher role), or provider:model (an external model).
    """
    wanted = list(names) if names else ["base", "prompted", "rag", "tuned", *external]
    prompted = prompted_system(spec, train_rows, max_tokens=max_tokens)
    adapters = tuned_adapters(run_path)
    systems: list[SystemSpec] = []
    for name in wanted:
        if name == "base":
            systems.append(base_system(max_tokens))
        elif name == "prompted":
            systems.append(prompted)
        elif name == "rag":
            if getattr(spec, "documents", None):
                systems.append(rag_system(spec, spec.documents, max_tokens=max_tokens))
            elif names:
                raise UserError(
                    "system rag needs documents",
                    where="spec.documents",
                    fix="set `documents:` to a folder in the task",
                )
        elif name == "tuned" or name.startswith("tuned-"):
            pick = adapters if name == "tuned" else [a for a in adapters if f"tuned-{a[0]}" == name]
            if not pick and names and name != "tuned":
                raise UserError(
                    f"no trained adapter for {name}",
                    where=str(Path(run_path) / "train"),
                    fix="train first, or pick one of: " + ", ".join(f"tuned-{v}" for v, _ in adapters),
                )
            systems += [
                tuned_system(v, a, spec, model=getattr(spec.student, "model", None), max_tokens=max_tokens)
                for v, a in pick
            ]
        elif name == "teacher":
            t = spec.teacher
            systems.append(
                external_system(
                    "teacher",
                    t.provider or _auto_provider("teacher"),
                    t.model,
                    t.base_url,
                    spec=spec,
                    few_shot=prompted.few_shot,
                    max_tokens=max_tokens,
                )
            )
        elif ":" in name:
            prov, model = name.split(":", 1)
            systems.append(
                external_system(
                    name, prov, model or None, spec=spec, few_shot=prompted.few_shot, max_tokens=max_tokens
                )
            )
        else:
            raise UserError(
                f"unknown system {name!r}",
                where="--systems",
                fix="use base, prompted, rag, tuned, tuned-vK, teacher or provider:model",
            )
    seen, unique = set(), []
    for s in systems:
        if s.name not in seen:
            seen.add(s.name)
            unique.append(s)
    return unique


def _auto_provider(role: str) -> str:
    from tools.llm.registry import choose

    return choose(role).provider


# ---------------------------------------------------------------- generation
def provider_for(system: SystemSpec, *, workspace=None, budget=None):
    from tools.llm import get_provider

    if system.kind == "external":
        return get_provider(
            "teacher",
            system.provider,
            system.model,
            base_url=system.base_url,
            workspace=workspace,
            budget=budget,
        )
    return get_provider(
        "student",
        system.provider or "local",
        system.model or "embedded",
        base_url=system.base_url,
        adapter=system.adapter,
        workspace=workspace,
        budget=budget,
    )


def generate_outputs(
    system: SystemSpec,
    rows: Sequence[dict],
    *,
    provider=None,
    retriever=None,
    workspace=None,
    budget=None,
    seed: int = 0,
    on_result: Callable[[int, Any], None] | None = None,
) -> list[dict]:
    """One answer per row: {"text", "prompt_tokens", "completion_tokens", "cached", "latency_s", "cost_usd"}."""
    from tools.llm import GenParams, Request

    provider = provider or provider_for(system, workspace=workspace, budget=budget)
    params = GenParams(temperature=0.0, max_tokens=system.max_tokens, seed=seed)
    reqs = [Request(build_messages(system, r, retriever), params, tag=i) for i, r in enumerate(rows)]
    comps = provider.map(reqs, on_result=on_result) if reqs else []
    return [
        {
            "text": c.text,
            "prompt_tokens": c.usage.prompt_tokens,
            "completion_tokens": c.usage.completion_tokens,
            "cached": c.cached,
            "latency_s": round(c.latency_s, 4),
            "cost_usd": c.cost_usd,
            "finish_reason": c.finish_reason,
        }
        for c in comps
    ]
