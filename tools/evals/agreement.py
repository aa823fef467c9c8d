"""How often the judge agrees with people's review decisions (accept / edit / reject)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tools.evals._metrics.agreement import agreement_rate, cohen_kappa

LOW_KAPPA = (
    0.4  # below "moderate" agreement (Landis & Koch): the judge's pass/fail is not a stand-in for people
)
ACCEPT = {"accepted", "accept", "approved", "ok", "pass", "passed"}
REJECT = {
    "rejected",
    "reject",
    "edited",
    "edit",
    "fail",
    "failed",
}  # an edit means the original needed fixing


def review_label(decision) -> bool | None:
    """True = a person found the answer acceptable, False = not, None = no usable decision."""
    if isinstance(decision, dict):
        decision = decision.get("decision") or decision.get("status") or decision.get("action")
    d = str(decision or "").strip().lower()
    return True if d in ACCEPT else False if d in REJECT else None


def review_agreement(human: Sequence[bool], judge: Sequence[bool | None]) -> dict:
    """Agreement rate and Cohen's kappa over examples both rated; a warning when kappa is low."""
    pairs = [(h, j) for h, j in zip(human, judge, strict=True) if h is not None and j is not None]
    hs, js = [p[0] for p in pairs], [p[1] for p in pairs]
    kappa = cohen_kappa(hs, js)
    out: dict[str, Any] = {
        "n": len(pairs),
        "agreement": agreement_rate(hs, js),
        "kappa": kappa,
        "warning": None,
    }
    if kappa is not None and kappa < LOW_KAPPA:
        out["warning"] = (
            f"judge agrees weakly with reviewers (kappa {kappa:.2f} < {LOW_KAPPA}): treat judge scores "
            "as a rough signal, or use a stronger judge model"
        )
    return out


def _reviewed_rows(data_dir: Path) -> tuple[dict[str, dict], dict[str, dict]]:
    """(rows by id, the review decision of each reviewed id): from rows' `metadata.review`, then from a
    `review.jsonl` log beside them (which wins)."""
    from tools.data.schema import row_id
    from tools.workspace import read_jsonl

    rows: dict[str, dict] = {}
    for name in ("train.jsonl", "val.jsonl", "test.jsonl", "regression.jsonl"):
        p = data_dir / name
        if p.exists():
            for r in read_jsonl(p):
                if isinstance(r, dict) and isinstance(r.get("messages"), list):
                    rows[row_id(r)] = r  # malformed rows are the data validator's business
    decisions: dict[str, dict] = {}
    for rid, r in rows.items():
        rev = (r.get("metadata") or {}).get("review")
        if rev is not None:
            decisions[rid] = rev if isinstance(rev, dict) else {"decision": rev}
    log = data_dir / "review.jsonl"
    if log.exists():
        for entry in read_jsonl(log):
            if entry.get("id") is not None:
                decisions[str(entry["id"])] = entry
    return rows, decisions


def reviewed_items(data_dir: Path, limit: int = 40) -> list[dict]:
    """Rows people reviewed: {"id", "input", "output", "human_pass"} from rows' `metadata.review` in the data
    version's JSONL files, or from a `review.jsonl` log ({"id", "decision", "output"?}) beside them.

    For an edited row the judged answer must be the one the person saw: `metadata.review.original` (or
    `original_output`); edited rows without it are skipped.
    """
    from tools.data.schema import user_text
    from tools.evals.systems import split_row

    rows, decisions = _reviewed_rows(Path(data_dir))
    items = []
    for rid, rev in decisions.items():
        label = review_label(rev)
        row = rows.get(rid)
        if label is None or row is None:
            continue
        try:
            _, _, answer = split_row(row)
        except Exception:  # noqa: BLE001 - a malformed row is the data validator's business
            continue
        original = rev.get("original") or rev.get("original_output") or rev.get("output")
        decision = str(rev.get("decision") or rev.get("status") or rev.get("action") or "").lower()
        if decision.startswith("edit"):
            if not original:
                continue
            answer = original
        items.append({"id": rid, "input": user_text(row), "output": answer, "human_pass": label})
        if len(items) >= limit:
            break
    return items


def judge_agreement(data_dir: Path, judge, *, limit: int = 40) -> dict | None:
    """Judge the reviewed rows pointwise (no reference: the row's answer is what was reviewed) and compare."""
    items = reviewed_items(data_dir, limit)
    if not items:
        return None
    verdicts = judge.score([{"input": it["input"], "output": it["output"]} for it in items])
    out = review_agreement([it["human_pass"] for it in items], [v.passed for v in verdicts])
    out["items"] = [
        {"id": it["id"], "human_pass": it["human_pass"], "judge_pass": v.passed, "reason": v.reason}
        for it, v in zip(items, verdicts, strict=True)
    ]
    return out
