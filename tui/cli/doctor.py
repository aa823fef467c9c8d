"""`tunewise doctor`: what this machine can do, which providers are usable, and the workspace state."""

from __future__ import annotations

import os
import platform
import sys


def _version(mod: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(mod)
    except Exception:  # noqa: BLE001
        return None


def collect(load_model: bool = False) -> list[tuple[str, str, str]]:
    """(check, status ok|warn|fail, detail) rows."""
    rows: list[tuple[str, str, str]] = []
    ok_py = sys.version_info >= (3, 10)
    rows.append(("python", "ok" if ok_py else "fail", platform.python_version()))
    for pkg in ("torch", "transformers", "peft", "trl", "datasets", "langgraph", "textual"):
        v = _version(pkg)
        rows.append((pkg, "ok" if v else "fail", v or "not installed — run make setup"))
    try:
        import torch

        if torch.cuda.is_available():
            rows.append(("cuda", "ok", f"{torch.cuda.get_device_name(0)} (torch CUDA {torch.version.cuda})"))
        else:
            from tools.llm.local import cpu_has_bf16

            rows.append(
                (
                    "cuda",
                    "warn",
                    f"no GPU: CPU training ({os.cpu_count()} cores, bf16 "
                    f"{'yes' if cpu_has_bf16() else 'no'}); plain LoRA, bf16 where the CPU has it",
                )
            )
    except Exception as e:  # noqa: BLE001
        rows.append(("cuda", "fail", f"torch import failed: {e}"))
    bnb = _version("bitsandbytes")
    rows.append(
        ("bitsandbytes", "ok" if bnb else "warn", (bnb + " (QLoRA on CUDA)") if bnb else "absent: no QLoRA")
    )
    keys = {
        "OPENAI_API_KEY": "openai",
        "ANTHROPIC_API_KEY": "anthropic",
        "TOGETHER_API_KEY": "together",
        "TUNEWISE_BASE_URL": "compatible",
    }
    for var, prov in keys.items():
        present = bool(os.environ.get(var))
        rows.append(
            (f"provider {prov}", "ok" if present else "warn", f"{var} {'present' if present else 'absent'}")
        )
    from tools.llm.registry import choose

    for role in ("teacher", "student", "judge"):
        c = choose(role)
        rows.append((f"role {role}", "ok", f"{c} ({c.reason})"))
    try:
        from tools.llm.embedded import embedded_model_dir, find_embedded_gguf, model_cache_root

        gguf = find_embedded_gguf()
        conv = model_cache_root() / "SmolLM2-135M-Instruct"
        rows.append(("embedded model", "ok", f"{gguf.name} ({gguf.stat().st_size / 1e6:.0f} MB)"))
        if load_model and not (conv / "config.json").exists():
            embedded_model_dir()
        rows.append(
            (
                "embedded cache",
                "ok" if (conv / "config.json").exists() else "warn",
                str(conv)
                if (conv / "config.json").exists()
                else "not converted yet (first use converts, ~30 s)",
            )
        )
    except Exception as e:  # noqa: BLE001
        rows.append(("embedded model", "fail", str(e)))
    rows += hub_student_rows()
    from tools.workspace import Workspace

    ws = Workspace()
    rows.append(price_row(ws))
    runs = ws.list_runs()
    rows.append(
        (
            "workspace",
            "ok",
            f"{ws.path} ({len(runs)} runs)" if ws.path.exists() else f"{ws.path} (not created yet)",
        )
    )
    return rows


def price_row(ws=None, today=None) -> tuple[str, str, str]:
    """The price table's date: a warning when it is older than STALE_AFTER_DAYS (90) days."""
    from tools.errors import UserError
    from tools.llm.pricing import PriceTable

    try:
        table = PriceTable.load(workspace_dir=ws.path if ws is not None else None)
    except UserError as e:
        return ("prices", "fail", e.one_line())
    status, detail = table.staleness(today)
    return ("prices", status, detail)


def hub_student_rows() -> list[tuple[str, str, str]]:
    """Causal LMs in the Hugging Face cache, each usable as `--model ORG/NAME` (student) offline."""
    from tools.llm.hub import cached_causal_lms, hub_cache_dir

    try:
        models = cached_causal_lms()
    except Exception as e:  # noqa: BLE001 - an unreadable cache must not break doctor
        return [("hub models", "warn", f"cannot read {hub_cache_dir()}: {e}")]
    if not models:
        return [
            (
                "hub models",
                "ok",
                f"no cached causal LM in {hub_cache_dir()} (students by id: `hf download ORG/NAME`, "
                "then --model ORG/NAME)",
            )
        ]
    rows = []
    for m in models:
        size = f"{m.n_params / 1e6:.0f}M params, " if m.n_params else ""
        rows.append(
            (
                f"student {m.repo_id}",
                "ok",
                f"cached ({m.architecture}, {size}{m.size_bytes / 1e6:.0f} MB, rev {m.revision[:10]}): "
                f"--model {m.repo_id}",
            )
        )
    return rows


def run_doctor(brief: bool = False, as_json: bool = False) -> int:
    from tui.cli.common import json_mode, print_json

    with json_mode(as_json):
        rows = collect(load_model=False)
    failed = any(s == "fail" for _, s, _ in rows)
    if as_json:
        print_json(
            {
                "ok": not failed,
                "checks": [{"check": n, "status": s, "detail": d} for n, s, d in rows],
            }
        )
        return 1 if failed else 0
    if brief:
        for name, status, detail in rows:
            print(f"{status:4} {name}: {detail}")
        return 1 if failed else 0
    from rich.table import Table

    from tui.cli.common import console

    t = Table(title="tunewise doctor", show_lines=False)
    t.add_column("check")
    t.add_column("")
    t.add_column("detail")
    mark = {"ok": "[green]✓[/green]", "warn": "[yellow]![/yellow]", "fail": "[red]✗[/red]"}
    for name, status, detail in rows:
        t.add_row(name, mark[status], detail)
    console().print(t)
    return 1 if failed else 0
