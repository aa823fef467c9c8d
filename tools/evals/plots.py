"""PNG plots for eval reports (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_scores(systems: dict, metric: str, path: Path) -> Path | None:
    """One bar per system: the primary metric's mean with its 95% CI as an error bar."""
    names = [n for n, s in systems.items() if s["metrics"].get(metric, {}).get("mean") is not None]
    if not names:
        return None
    plt = _plt()
    means = [systems[n]["metrics"][metric]["mean"] for n in names]
    lows = [
        m
        - (
            systems[n]["metrics"][metric]["ci"][0]
            if systems[n]["metrics"][metric]["ci"][0] is not None
            else m
        )
        for n, m in zip(names, means, strict=True)
    ]
    highs = [
        (systems[n]["metrics"][metric]["ci"][1] if systems[n]["metrics"][metric]["ci"][1] is not None else m)
        - m
        for n, m in zip(names, means, strict=True)
    ]
    fig, ax = plt.subplots(figsize=(max(4, 1.3 * len(names) + 2), 3.6))
    bars = ax.bar(names, means, yerr=[lows, highs], capsize=6, color="#4C78A8")
    ax.bar_label(bars, labels=[f"{m:.2f}" for m in means], padding=3)  # a zero score still shows a number
    ax.set_ylabel(metric)
    ax.set_ylim(0, max(1.0, max(means) * 1.1))
    ax.set_title(f"{metric} per system (95% bootstrap CI)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_categories(by_category: dict, metric: str, path: Path) -> Path | None:
    """Grouped bars: one group per category, one bar per system."""
    cats = sorted(by_category)
    if not cats:
        return None
    systems = sorted({s for c in cats for s in by_category[c]})
    plt = _plt()
    import numpy as np

    x = np.arange(len(cats))
    width = 0.8 / max(1, len(systems))
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(cats) + 2), 3.8))
    for i, s in enumerate(systems):
        vals = [by_category[c].get(s, {}).get("mean") or 0.0 for c in cats]
        ax.bar(x + i * width - 0.4 + width / 2, vals, width, label=s)
    ax.set_xticks(x, cats, rotation=20, ha="right")
    ax.set_ylabel(metric)
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8)
    ax.set_title(f"{metric} by category")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_loss_curves(curves: dict[str, dict[str, list]], path: Path) -> Path | None:
    """Training and validation loss per training version, from events.jsonl."""
    if not any(c["train"] or c["eval"] for c in curves.values()):
        return None
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for version, c in curves.items():
        if c["train"]:
            ax.plot(*zip(*c["train"], strict=True), label=f"{version} train")
        if c["eval"]:
            ax.plot(*zip(*c["eval"], strict=True), "o--", label=f"{version} val")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8)
    ax.set_title("training loss")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def read_loss_curves(run_path: Path, versions: list[str]) -> dict[str, dict[str, list]]:
    """{version: {"train": [(step, loss)], "eval": [(step, eval_loss)]}} from train/vK/events.jsonl."""
    from tools.workspace import read_jsonl

    curves = {}
    for v in versions:
        p = Path(run_path) / "train" / v / "events.jsonl"
        if not p.exists():
            continue
        train, evals = [], []
        for e in read_jsonl(p):
            step = e.get("step")
            if step is None:
                continue
            if e.get("loss") is not None and e.get("event", "log") == "log":
                train.append((step, float(e["loss"])))
            if e.get("eval_loss") is not None:
                evals.append((step, float(e["eval_loss"])))
        curves[v] = {"train": train, "eval": evals}
    return curves
