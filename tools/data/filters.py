"""Hardness filter (drop what the student already knows) and general-data mixing (against forgetting)."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path
from typing import Any

from tools.data.schema import answer_text, make_row, row_id, user_text, with_metadata
from tools.evals.correct import score
from tools.llm.types import GenParams, Request
from tools.spec import TaskSpec

GENERAL_PROMPTS = Path(__file__).with_name("general_prompts.jsonl")


# a sample in which the student answers under this share right: the rest of the set is not checked
SAMPLE_ENOUGH_EASY = 0.1


def hardness_filter(
    rows: list[dict],
    spec: TaskSpec,
    *,
    student,
    max_replace_share: float = 0.3,
    max_tokens: int = 128,
    seed: int = 0,
    probe_first: int | None = 32,
    on_progress=None,
    max_tokens_from_answers: bool = True,
) -> tuple[list[dict], dict[str, Any]]:
    """Run the student base model (system prompt only, as after training) on every input.

    Rows it already answers correctly (the task's scorer, `tools.evals.correct`) get the flag `student_correct`;
    up to `max_replace_share` of all rows are removed, so the caller can replace them with harder ones
    (`report["n_to_replace"]`). Rows where the teacher beats the student are the ones that teach.

    With `probe_first`, a random sample of that many rows is checked first; when the student gets under
    `SAMPLE_ENOUGH_EASY` of them right, the easy ones found are removed and the rest are not run (on a 200-row
    set this saves ~85% of the student calls in the common case of a task the base model cannot do yet).
    With `max_tokens_from_answers`, the student's answers are capped near the longest reference's length.
    """
    rows = [with_metadata(r) for r in rows]
    if max_tokens_from_answers:
        # an answer far longer than the reference cannot be scored correct: a base student that chats instead
        # of answering ran every input to 128 tokens (the demo's 238 checks at 0.36/s)
        from tools.data.critique import answer_token_cap

        max_tokens = answer_token_cap([answer_text(r) for r in rows], max_tokens)
    if probe_first and len(rows) > probe_first:
        sample = random.Random(seed).sample(rows, probe_first)
        checked, rep = hardness_filter(
            sample,
            spec,
            student=student,
            max_replace_share=0.0,
            max_tokens=max_tokens,
            seed=seed,
            probe_first=None,
            on_progress=on_progress,
            max_tokens_from_answers=False,
        )
        if rep["student_correct"] < SAMPLE_ENOUGH_EASY * probe_first:
            # few are easy: removing them all would change the set by under a tenth, and finding them would
            # cost as many answers as the set has rows; the easy ones the sample found are flagged and removed
            known = {row_id(r) for r in checked if "student_correct" in r["metadata"]["flags"]}
            drop = sorted(known)[: int(max_replace_share * len(rows))]
            flagged = {row_id(r): r for r in checked}
            gone = set(drop)
            return [flagged.get(row_id(r), r) for r in rows if row_id(r) not in gone], {
                "checked": probe_first,
                "student_correct": len(known),
                "student_correct_share": round(len(known) / probe_first, 3),
                "removed": drop,
                "n_to_replace": len(drop),
                "max_replace_share": max_replace_share,
                "sampled": True,
                "note": f"the student answered {len(known)} of {probe_first} sampled inputs correctly: "
                + (
                    "every example teaches"
                    if not known
                    else f"under {SAMPLE_ENOUGH_EASY:.0%}, so those were removed"
                )
                + ", the rest were not checked",
            }
    reqs = [
        Request([m for m in r["messages"][:-1]], GenParams(temperature=0.0, max_tokens=max_tokens))
        for r in rows
    ]
    # counted: walk 8 watched "last checks" for 8–10 minutes with no count while 132 rows were answered
    progress = on_progress or (lambda ev: None)
    done = [0]

    def tick(_i, _c) -> None:
        done[0] += 1
        progress({"stage": "starting model", "done": done[0], "total": len(reqs)})

    progress({"stage": "starting model", "done": 0, "total": len(reqs)})
    comps = student.map(reqs, on_result=tick) if reqs else []
    easy = []
    out = []
    for r, c in zip(rows, comps, strict=True):
        if score(spec, c.text, answer_text(r)).correct:
            r = with_metadata(r, flags=list(r["metadata"]["flags"]) + ["student_correct"])
            easy.append(row_id(r))
        out.append(r)
    budget = int(max_replace_share * len(rows))
    rng = random.Random(seed)
    removed = set(rng.sample(easy, min(budget, len(easy))))
    kept = [r for r in out if row_id(r) not in removed]
    report = {
        "checked": len(rows),
        "student_correct": len(easy),
        "student_correct_share": round(len(easy) / len(rows), 3) if rows else 0.0,
        "removed": sorted(removed),
        "n_to_replace": len(removed),
        "max_replace_share": max_replace_share,
    }
    return kept, report


def load_general_prompts(path: str | Path | None = None) -> list[str]:
    path = Path(path or GENERAL_PROMPTS)
    return [
        json.loads(line)["prompt"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def general_count(n_task_rows: int, share: float) -> int:
    """How many general rows make them `share` of the mixed set. Pure."""
    if share <= 0 or n_task_rows <= 0:
        return 0
    return max(1, round(share * n_task_rows / (1 - share)))


def mix_general(
    rows: list[dict],
    share: float = 0.07,
    *,
    general_file: str | Path | None = None,
    teacher=None,
    spec: TaskSpec | None = None,
    seed: int = 0,
    max_tokens: int = 256,
    on_progress=None,
) -> list[dict]:
    """Add general-purpose examples (source "general") so they are `share` of the result.

    From `general_file` (any format `tunewise data import` reads) when given, else the teacher answers prompts
    from the shipped general prompt set with a generic system prompt.
    """
    from prompts import load_prompt

    if not 0 <= share < 0.5:
        from tools.errors import ConfigError

        raise ConfigError(f"general share {share} must be between 0 and 0.5", fix="use 0.05–0.10")
    k = general_count(len(rows), share)
    if k == 0:
        return list(rows)
    rng = random.Random(seed)
    task_inputs = {user_text(r).strip().lower() for r in rows}
    if general_file:
        from tools.data.convert import import_file

        pool = [with_metadata(r, source="general") for r in import_file(general_file)]
        pool = [r for r in pool if user_text(r).strip().lower() not in task_inputs]
        general = rng.sample(pool, min(k, len(pool)))
    else:
        if teacher is None:
            raise ValueError("mix_general needs a general_file or a teacher")
        prompts = [p for p in load_general_prompts() if p.strip().lower() not in task_inputs]
        rng.shuffle(prompts)
        system = load_prompt("data_general").messages()[0]["content"]
        general = _general_answers(prompts, k, system, teacher, max_tokens, on_progress or (lambda ev: None))
    return list(rows) + general


GENERAL_MARGIN = 0.25  # general prompts asked beyond the ones needed, for answers left out


def _general_answers(
    prompts: list[str], k: int, system: str, teacher, max_tokens: int, progress
) -> list[dict]:
    """`k` general rows answered by the teacher, from `prompts` in order: a quarter more than needed first,
    then twice the shortfall (answers cut off at the limit or stuck repeating themselves are left out).
    Asking twice as many up front cost the demo 36 answers of up to 256 tokens for 18 rows; counted as they
    are answered (~2.5 minutes of the embedded model had nothing shown)."""
    general: list[dict] = []
    asked = 0
    done = [0]

    def tick(_i, _c) -> None:
        done[0] += 1
        progress({"stage": "general examples", "done": done[0], "total": asked})

    n = min(len(prompts), k + max(2, math.ceil(GENERAL_MARGIN * k)))
    for _round in range(3):
        batch = prompts[asked : asked + n]
        if not batch:
            break
        asked += len(batch)
        progress({"stage": "general examples", "done": done[0], "total": asked})
        reqs = [
            Request(
                [{"role": "system", "content": system}, {"role": "user", "content": p}],
                GenParams(temperature=0.0, max_tokens=max_tokens),
            )
            for p in batch
        ]
        general += [
            make_row(p, c.text.strip(), system=system, source="general")
            for p, c in zip(batch, teacher.map(reqs, on_result=tick), strict=True)
            if c.text.strip() and c.finish_reason != "length" and not degenerate(c.text)
        ]
        if len(general) >= k:
            break
        n = 2 * (k - len(general))
    return general[:k]


def degenerate(text: str, times: int = 3) -> bool:
    """Does `text` repeat one sentence or line `times` times or more? A weak teacher's general answers get
    stuck ("Washing hands is a way to protect ourselves…" ×7, "P.S. I hope you have a wonderful day too."
    ×10): trained on, they teach the tuned model to run on instead of answering. Pure."""
    import re
    from collections import Counter

    parts = [p.strip().lower() for p in re.split(r"(?<=[.!?])\s+|\n+", text) if len(p.strip()) >= 12]
    return bool(parts) and Counter(parts).most_common(1)[0][1] >= times
