"""report.md: the comparison table with CIs, the verdict with reasons, suites, judge, per-example diffs."""

from __future__ import annotations

from tools.evals._primary import KNOWN_METRICS
from tools.evals.summary import metric_help, n_train_for, plain_summary
from tools.evals.verdict import verdict_word

SIDE_BY_SIDE_MAX = 20
SHOW_METRICS = KNOWN_METRICS  # every known metric, in the same order


def fmt_metric(m: dict | None) -> str:
    if not m or m.get("mean") is None:
        return "–"
    lo, hi = (m.get("ci") or [None, None])[:2]
    if lo is None or hi is None:
        return f"{m['mean']:.3f}"
    return f"{m['mean']:.3f} [{lo:.2f}, {hi:.2f}]"


def metric_columns(report: dict) -> list[str]:
    present = {k for s in report["systems"].values() for k in s["metrics"]}
    cols = [m for m in SHOW_METRICS if m in present]
    primary = report.get("primary_metric")
    if primary in cols:
        cols.remove(primary)
    return ([primary] if primary in present else []) + cols


def _cell(text: str | None, limit: int = 160) -> str:
    t = str(text or "").replace("\n", " ").replace("|", "\\|").strip()
    return t if len(t) <= limit else t[: limit - 1] + "…"


def _plain_lines(report: dict, rows: list[dict]) -> list[str]:
    """The result in one plain sentence and what to do: the same words as the TUI and the CLI."""
    s = plain_summary(report, rows, n_train=n_train_for(report))
    lines = [
        "## In plain words",
        "",
        f"**{s['sentence']}**",
        "",
        f"**What to do:** {s['recommendation']}",
        "",
    ]
    if s.get("serve_command"):
        lines += ["```", s["serve_command"], "```", ""]
    if s.get("own_examples"):
        lines += [s["own_examples"], ""]
    return lines


def render_markdown(report: dict, rows: list[dict]) -> str:  # noqa: C901, PLR0915 - report.md's sections in reading order
    v = report["verdict"]
    lines = [
        f"# Evaluation {report['eval_version']} · run {report['run_id']}",
        "",
        f"Task: {report['task']['spec']} (format: {report['task']['format']})  ",
        f"Test set: {report['test_source']} ({report['n_test']} examples); regression set: "
        f"{report['n_regression']} examples; data {report.get('data_version') or '–'}",
        "",
        *_plain_lines(report, rows),
        f"## Verdict: {verdict_word(v)}",
        "",
        f"Candidate **{report['candidate']}** vs best baseline **{report['baseline']}** on "
        f"**{report['primary_metric']}**.",
        "",
    ]
    lines += [f"- {r}" for r in v["reasons"]]
    cols = metric_columns(report)
    lines += [
        "",
        "## Systems (mean [95% bootstrap CI])",
        "",
        "| system | kind | " + " | ".join(cols) + " | prompt tokens | format rate |",
        "|---|---|" + "---|" * len(cols) + "---|---|",
    ]
    for name, s in report["systems"].items():
        fr = s.get("format_rate")
        lines.append(
            f"| {name} | {s['kind']} | "
            + " | ".join(fmt_metric(s["metrics"].get(c)) for c in cols)
            + f" | {s['prompt_tokens_mean']:.0f} | {'–' if fr is None else f'{fr:.0%}'} |"
        )
    lines += ["", "What the columns mean:", ""]
    lines += [f"- {metric_help(c)}" for c in cols]
    lines += [
        f"- {metric_help('prompt_tokens')}",
        f"- {metric_help('format_rate')}",
        f"- {metric_help('ci')}",
    ]
    notes = [(n, note) for n, s in report["systems"].items() for note in s.get("notes", [])]
    if notes:
        lines += [""] + [f"- *{n}*: {note}" for n, note in notes]
    if report.get("pairwise"):
        p = report["pairwise"]
        lo, hi = p["ci"]
        lines += [
            "",
            "## Pairwise (judge, blinded, both orders)",
            "",
            f"{p['candidate']} vs {p['baseline']}: {p['wins']} wins, {p['losses']} losses, {p['ties']} ties "
            f"→ win rate {p['win_rate']:.2f}" + (f" [{lo:.2f}, {hi:.2f}]" if lo is not None else ""),
        ]
    if report.get("by_category"):
        systems = list(report["systems"])
        lines += [
            "",
            f"## By category ({report['primary_metric']})",
            "",
            "| category | " + " | ".join(systems) + " |",
            "|---|" + "---|" * len(systems),
        ]
        for cat, vals in report["by_category"].items():
            lines.append(f"| {cat} | " + " | ".join(fmt_metric(vals.get(s)) for s in systems) + " |")
    reg = report.get("regression") or {}
    lines += ["", "## Regression set", ""]
    if reg.get("n"):
        lines.append(
            f"{reg['candidate']} vs {reg['baseline']}: mean change {reg['delta']:+.3f}; "
            f"regressed: {', '.join(map(str, reg['regressed_ids'])) or 'none'}"
        )
    else:
        lines.append("not run (no regression.jsonl)")
    fg = report.get("forgetting") or {}
    lines += ["", "## Forgetting (general prompts, tuned vs base)", ""]
    if fg.get("skipped"):
        lines.append(f"skipped: {fg['skipped']}")
    else:
        drop = fg.get("score_drop")
        lines.append(
            f"{fg['n']} prompts: {fg['wins']} better, {fg['losses']} worse, {fg['ties']} ties; "
            f"judge score drop {'–' if drop is None else f'{drop + 0.0:+.2f}'} (max {fg['max_drop']}); "
            f"significant: {'yes' if fg['significant'] else 'no'}; worse on: "
            f"{', '.join(map(str, fg['forgotten_ids'])) or 'none'}"
        )
    j = report.get("judge") or {}
    lines += ["", "## Judge", ""]
    if j.get("model"):
        pb = j.get("position_bias_rate")
        lines.append(
            f"model {j['model']} · prompts {j['prompt_version']} · temperature {j['temperature']} · "
            f"position-bias rate {'–' if pb is None else f'{pb:.0%}'}"
        )
    else:
        lines.append(j.get("note", "not used"))
    ag = report.get("judge_agreement")
    if ag:
        kappa = "–" if ag["kappa"] is None else f"{ag['kappa']:.2f}"
        warning = f" — {ag['warning']}" if ag["warning"] else ""
        lines.append(
            f"\nAgreement with reviewers on {ag['n']} examples: {ag['agreement']:.0%}, Cohen's kappa "
            f"{kappa}{warning}"
        )
    lines += ["", "## Failure analysis (targeted data requests)", ""]
    if report.get("failures"):
        for f in report["failures"]:
            lines.append(
                f"- **{f['cause']}** ({f['count']} examples: {', '.join(map(str, f['ids'][:8]))}): "
                f"{f['description']}"
            )
    else:
        lines.append("- none")
    if report.get("plots"):
        lines += ["", "## Plots", ""] + [f"![{k}]({p})" for k, p in report["plots"].items()]
    systems = list(report["systems"])
    lines += ["", f"## Examples side by side (first {SIDE_BY_SIDE_MAX}; all in outputs.jsonl)", ""]
    for row in [r for r in rows if r.get("split") == "test"][:SIDE_BY_SIDE_MAX]:
        lines += [
            f"### {row['id']}" + (f" · {row['category']}" if row.get("category") else ""),
            "",
            f"**Input:** {_cell(row['input'], 400)}  ",
            f"**Expected answer:** {_cell(row['reference'], 400)}",
            "",
            "| system | output | " + report["primary_metric"] + " | judge reason |",
            "|---|---|---|---|",
        ]
        for s in systems:
            e = row["outputs"].get(s) or {}
            val = (
                (e.get("judge") or {}).get("normalized")
                if report["primary_metric"] == "judge"
                else (e.get("metrics") or {}).get(report["primary_metric"])
            )
            reason = (e.get("judge") or {}).get("reason") or "; ".join(e.get("format_errors") or [])
            lines.append(
                f"| {s} | {_cell(e.get('text'))} | {'–' if val is None else f'{val:.2f}'} | {_cell(reason, 120)} |"
            )
        if row.get("pairwise"):
            pw = row["pairwise"]
            lines.append(
                f"\npairwise: {pw['outcome']} (orders: {pw['first']}/{pw['second']}"
                f"{', flipped' if pw['flipped'] else ''})"
            )
        lines.append("")
    return "\n".join(lines) + "\n"
