"""The LLM judge: a pointwise rubric (correctness, format, completeness 1–5) and blinded pairwise A/B.

Both ask for strict JSON through the provider's `json_schema=` (the provider owns the one repair
retry); what still comes back malformed is parsed tolerantly here (fenced JSON, numbers as strings,
"4/5", missing fields → None), never a crash. Pairwise comparisons run in both orders: a verdict
counts only when it survives the swap, so a judge that always picks position A yields ties and a
position-bias rate of 1.0, not wins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from prompts import load_prompt

RUBRIC_DIMENSIONS = ("correctness", "format", "completeness")
PASS_SCORE = 4.0  # rubric mean at or above which an answer counts as acceptable

POINTWISE_SCHEMA = {
    "type": "object",
    "properties": {
        **{d: {"type": "integer", "minimum": 1, "maximum": 5} for d in RUBRIC_DIMENSIONS},
        "reason": {"type": "string"},
    },
    "required": [*RUBRIC_DIMENSIONS, "reason"],
}
PAIRWISE_SCHEMA = {
    "type": "object",
    "properties": {"winner": {"type": "string", "enum": ["A", "B", "tie"]}, "reason": {"type": "string"}},
    "required": ["winner", "reason"],
}


@dataclass
class PointwiseVerdict:
    correctness: int | None = None
    format: int | None = None
    completeness: int | None = None
    reason: str = ""
    parsed: bool = False  # False: nothing usable came back (all dimensions None)
    raw: str = ""

    @property
    def score(self) -> float | None:
        """Mean of the dimensions the judge gave, 1–5."""
        vals = [v for v in (self.correctness, self.format, self.completeness) if v is not None]
        return sum(vals) / len(vals) if vals else None

    @property
    def normalized(self) -> float | None:
        """The score rescaled to [0, 1] so it sits beside the other metrics."""
        s = self.score
        return None if s is None else (s - 1) / 4

    @property
    def passed(self) -> bool | None:
        s = self.score
        return None if s is None else s >= PASS_SCORE

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(score=self.score, normalized=self.normalized, passed=self.passed)
        return d


@dataclass
class PairwiseVerdict:
    """One comparison of answer x (the candidate) with y (the baseline), asked in both orders."""

    outcome: str  # "win" (x better) | "loss" | "tie", after reconciling the two orders
    first: str | None  # verdict with x shown as A: "A" | "B" | "tie" | None (unparsed)
    second: str | None  # verdict with y shown as A
    flipped: bool  # the preferred answer changed when positions were swapped (position bias)
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


# ------------------------------------------------------------------ tolerant parsing
_NUM = re.compile(r"-?\d+(?:\.\d+)?")


def _coerce_score(value: Any) -> int | None:
    """4, 4.0, "4", "4/5", "4 out of 5" → 4; anything outside 1–5 or unreadable → None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        num = float(value)
    else:
        m = _NUM.search(str(value))
        if not m:
            return None
        num = float(m.group())
    num = round(num)
    return int(num) if 1 <= num <= 5 else None


def _extract_obj(text: str) -> dict | None:
    from tools.llm.structured import extract_json

    try:
        obj = extract_json(text or "")
    except ValueError:
        return None
    if isinstance(obj, list) and obj and isinstance(obj[0], dict):
        obj = obj[0]
    return obj if isinstance(obj, dict) else None


def parse_pointwise(text: str, parsed: dict | None = None) -> PointwiseVerdict:
    """A rubric verdict from the provider's parsed object or, failing that, from the raw text."""
    obj = parsed if isinstance(parsed, dict) else _extract_obj(text)
    verdict = PointwiseVerdict(raw=(text or "")[:500])
    if obj is not None:
        lowered = {str(k).strip().lower(): v for k, v in obj.items()}
        for dim in RUBRIC_DIMENSIONS:
            setattr(verdict, dim, _coerce_score(lowered.get(dim)))
        reason = lowered.get("reason") or lowered.get("explanation") or ""
        verdict.reason = str(reason)[:300]
    else:
        # no JSON at all: look for "correctness: 4" style lines
        for dim in RUBRIC_DIMENSIONS:
            m = re.search(rf"{dim}\W{{0,5}}(\d)", text or "", re.I)
            setattr(verdict, dim, _coerce_score(m.group(1)) if m else None)
    verdict.parsed = verdict.score is not None
    return verdict


_WINNER_KEYS = ("winner", "verdict", "better", "preferred", "choice", "answer")


def _normalize_choice(value: Any) -> str | None:
    s = str(value or "").strip().strip(".\"'").lower()
    if s in ("a", "answer a", "response a", "option a", "1"):
        return "A"
    if s in ("b", "answer b", "response b", "option b", "2"):
        return "B"
    if s in ("tie", "equal", "both", "draw", "neither", "same"):
        return "tie"
    m = re.fullmatch(r"(?:answer|response|option)?\s*([ab])\b.*", s)
    return m.group(1).upper() if m else None


def parse_pairwise(text: str, parsed: dict | None = None) -> tuple[str | None, str]:
    """("A" | "B" | "tie" | None, reason) from the parsed object or the raw text."""
    obj = parsed if isinstance(parsed, dict) else _extract_obj(text)
    if obj is not None:
        lowered = {str(k).strip().lower(): v for k, v in obj.items()}
        for key in _WINNER_KEYS:
            if key in lowered:
                choice = _normalize_choice(lowered[key])
                if choice is not None:
                    return choice, str(lowered.get("reason") or "")[:300]
    t = (text or "").strip()
    choice = _normalize_choice(t)
    if choice is None:
        m = re.search(
            r"\b(?:winner|verdict|better)\W{0,5}(?:is\s+)?(?:answer\s+)?(A|B|tie)\b", t, re.I
        ) or re.search(r"\b(?:answer|response)\s+(A|B)\s+is\s+better\b", t, re.I)
        choice = _normalize_choice(m.group(1)) if m else None
    return choice, ""


def combine_swapped(first: str | None, second: str | None) -> tuple[str, bool]:
    """Reconcile both orders: `first` saw the candidate as A, `second` saw it as B.

    (outcome, flipped). The candidate wins only when both orders prefer it; a flip (each order
    prefers whichever answer sat in the same position), any disagreement or an unreadable order
    is a tie.
    """
    to_cand_first = {"A": "cand", "B": "base", "tie": "tie"}
    to_cand_second = {"A": "base", "B": "cand", "tie": "tie"}
    m1, m2 = to_cand_first.get(first or ""), to_cand_second.get(second or "")
    flipped = {m1, m2} == {"cand", "base"}
    if m1 is not None and m1 == m2:
        return {"cand": "win", "base": "loss", "tie": "tie"}[m1], flipped
    # one order unreadable: a single order cannot be told apart from position bias, so no win
    return "tie", flipped


def position_bias_rate(verdicts: Sequence[PairwiseVerdict]) -> float | None:
    """Share of comparisons, readable in both orders, whose preferred answer flipped with the swap."""
    both = [v for v in verdicts if v.first is not None and v.second is not None]
    return sum(1 for v in both if v.flipped) / len(both) if both else None


# ------------------------------------------------------------------ the judge
def requirements_text(spec: Any) -> str:
    """The spec's output constraints in words, for the judge prompts."""
    out = getattr(spec, "output", None)
    return "none beyond answering well" if out is None else out.describe()


class Judge:
    """An LLM judge over any provider. Deterministic by default (temperature 0, fixed seed)."""

    def __init__(
        self, provider, *, spec: Any = None, temperature: float = 0.0, max_tokens: int = 160, seed: int = 0
    ):
        self.provider = provider
        self.spec = spec
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.seed = seed
        self.pointwise_prompt = load_prompt("judge_pointwise")
        self.pairwise_prompt = load_prompt("judge_pairwise")

    def info(self) -> dict:
        """What a report must record to make verdicts reproducible."""
        describe = getattr(self.provider, "describe", None)
        return {
            "model": describe() if callable(describe) else str(getattr(self.provider, "model", "?")),
            "prompt_version": f"judge_pointwise@{self.pointwise_prompt.version} "
            f"judge_pairwise@{self.pairwise_prompt.version}",
            "temperature": self.temperature,
        }

    def _common(self, item: dict) -> dict:
        spec = self.spec
        return {
            "spec": getattr(spec, "spec", None) or item.get("spec") or "answer the input well",
            "requirements": requirements_text(spec),
            "input": item.get("input", ""),
            "reference": item.get("reference") or "(none)",
        }

    def _params(self):
        from tools.llm import GenParams

        return GenParams(temperature=self.temperature, max_tokens=self.max_tokens, seed=self.seed)

    def score(
        self, items: Sequence[dict], *, on_result: Callable[[int, Any], None] | None = None
    ) -> list[PointwiseVerdict]:
        """Rubric verdicts for items {"input", "output", "reference"?}, in order."""
        from tools.llm import Request

        params = self._params()
        reqs = [
            Request(
                self.pointwise_prompt.messages(**self._common(it), output=it.get("output") or "(empty)"),
                params,
                json_schema=POINTWISE_SCHEMA,
            )
            for it in items
        ]
        comps = self.provider.map(reqs, on_result=on_result) if reqs else []
        return [parse_pointwise(c.text, c.parsed) for c in comps]

    def compare(
        self, pairs: Sequence[dict], *, on_result: Callable[[int, Any], None] | None = None
    ) -> list[PairwiseVerdict]:
        """Blinded A/B for pairs {"input", "candidate", "baseline", "reference"?}, each asked in both orders."""
        from tools.llm import Request

        params = self._params()
        reqs = []
        for p in pairs:
            common = self._common(p)
            cand, base = p.get("candidate") or "(empty)", p.get("baseline") or "(empty)"
            reqs.append(
                Request(
                    self.pairwise_prompt.messages(**common, answer_a=cand, answer_b=base),
                    params,
                    json_schema=PAIRWISE_SCHEMA,
                )
            )
            reqs.append(
                Request(
                    self.pairwise_prompt.messages(**common, answer_a=base, answer_b=cand),
                    params,
                    json_schema=PAIRWISE_SCHEMA,
                )
            )
        comps = self.provider.map(reqs, on_result=on_result) if reqs else []
        verdicts = []
        for i in range(0, len(comps), 2):
            first, r1 = parse_pairwise(comps[i].text, comps[i].parsed)
            second, r2 = parse_pairwise(comps[i + 1].text, comps[i + 1].parsed)
            outcome, flipped = combine_swapped(first, second)
            verdicts.append(PairwiseVerdict(outcome, first, second, flipped, [r for r in (r1, r2) if r]))
        return verdicts


def default_judge(
    spec: Any = None, *, workspace=None, budget=None, provider=None, model=None, base_url=None
) -> Judge:
    """The judge the spec asks for (spec.judge), else the auto-picked judge role (embedded offline)."""
    from tools.llm import get_provider

    role = getattr(spec, "judge", None)
    provider = provider or getattr(role, "provider", None)
    model = model or getattr(role, "model", None)
    base_url = base_url or getattr(role, "base_url", None)
    return Judge(
        get_provider("judge", provider, model, base_url=base_url, workspace=workspace, budget=budget),
        spec=spec,
    )
