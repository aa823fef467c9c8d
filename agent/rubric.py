"""The decision rubric: prompt, few-shot, RAG, fine-tune, or RAG + fine-tune.

Pure functions over the interview answers, so every rule is unit-tested without a model. The rules:
try prompting first; knowledge gaps and changing facts are a
retrieval problem, not a training one; fewer than ~50 examples is too little to train on; fine-tune
for format, style, terminology, latency, cost or privacy needs that prompting cannot meet; knowledge
plus behaviour needs both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails

from agent.rates import estimate_path as estimate  # the estimate from this machine's rates
from tools.errors import ConfigError, UserError
from tools.evals.summary import RIGHT_ENOUGH
from tools.llm.embedded import is_embedded
from tools.spec import FieldProblem, is_private

APPROACHES = ("prompt", "few-shot", "rag", "fine-tune", "rag+fine-tune")
BEHAVIOUR_GOALS = ("format", "style", "terminology", "latency", "cost", "privacy")

# each approach in plain words (what a person who never trained a model reads), and what its name means
APPROACH_WORDS = {
    "prompt": "better instructions (a prompt)",
    "few-shot": "a prompt with examples",
    "rag": "look things up in your documents",
    "fine-tune": "train your own small model",
    "rag+fine-tune": "your own small model that looks things up in your documents",
}
APPROACH_HELP = {
    "prompt": "a prompt: the instructions sent to the model with every request",
    "few-shot": "few-shot: a few of your examples go into the instructions",
    "rag": "RAG: the passages of your documents that match a request go in with it",
    "fine-tune": "fine-tune: the model practises on examples until it answers your way",
    "rag+fine-tune": "RAG + fine-tune: a model trained for your format, given the matching passages of your "
    "documents",
}

PROMPT_GOOD_ENOUGH = RIGHT_ENOUGH  # base right this often with a good prompt → keep prompting
MIN_EXAMPLES_TO_TRAIN = 50  # below this, few-shot in the prompt beats a fine-tune
HIGH_VOLUME = 10_000  # requests/day where a shorter prompt's savings add up


class Answers(BaseModel):
    """The interview's answers: what the rubric decides on.

    A pydantic model like the task spec (tools/spec.py): each field is read by the interview's own lenient
    parser (agent/answers.py: 'a few hundred', '~70%', 'fast and cheap'), so the TUI, the CLI and a task
    file's `answers:` read an answer the same way; `from_dict` turns a failed read into a `ConfigError` that
    names the field and how to answer. Not validated on assignment: the probe sets its measured
    `prompted_success` as is (the parser would round it)."""

    model_config = ConfigDict(extra="forbid")

    spec: str = Field(description="one sentence: what the model should do")
    problem: str = Field(default="", description="what goes wrong today")
    knowledge_needed: bool = Field(
        default=False,
        description="answers need facts the model does not have (documents, prices, opening hours)",
    )
    knowledge_changes: Literal["never", "rarely", "often"] = Field(
        default="never", description="how often those facts change"
    )
    examples: int = Field(default=0, description="examples with the wanted answers on hand")
    prompted_success: float | None = Field(
        default=None, description="share right with a good prompt, 0..1; measured by the probe when absent"
    )
    goals: list[str] = Field(
        default_factory=list, description=f"what matters: {', '.join(BEHAVIOUR_GOALS + ('accuracy',))}"
    )
    volume: int = Field(default=0, description="requests per day")
    constraints: list[str] = Field(
        default_factory=list, description="limits such as offline or on-prem (lower case)"
    )

    @field_validator("spec", mode="before")
    @classmethod
    def _spec_sentence(cls, v: Any) -> str:
        if not str(v or "").strip():
            raise ValueError("empty")
        return str(v).strip()

    @field_validator("problem", mode="before")
    @classmethod
    def _problem_text(cls, v: Any) -> str:
        return str(v or "")

    @field_validator(
        "knowledge_needed",
        "knowledge_changes",
        "examples",
        "prompted_success",
        "goals",
        "volume",
        mode="before",
    )
    @classmethod
    def _read_answer(cls, v: Any, info: ValidationInfo) -> Any:
        from agent import answers as A

        key = str(info.field_name)
        parse: dict[str, Any] = {
            "knowledge_needed": A.parse_yes_no,
            "knowledge_changes": A.parse_change,
            "examples": A.parse_count,
            "prompted_success": A.parse_rate,
            "goals": lambda v, key: A.parse_goals(v, key, allowed=BEHAVIOUR_GOALS + ("accuracy",)),
            "volume": lambda v, key: A.parse_count(v, key, per_day=True),
        }
        try:
            return parse[key](v, key)
        except UserError as e:  # a ValueError for pydantic, keeping the parser's words and fix
            msg = e.message if f"`{key}`" in e.message else f"`{key}`: {e.message}"
            raise FieldProblem("", msg, e.fix) from None

    @field_validator("constraints", mode="before")
    @classmethod
    def _constraint_list(cls, v: Any) -> list[str]:
        if v is None or v == "":
            return []
        items = [s.strip() for s in v.split(",")] if isinstance(v, str) else list(v)
        return [str(i).strip().lower() for i in items if str(i).strip()]

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "answers") -> Answers:
        """The answers in `d` (a task's `answers:`, a --answers file, the interview's), or one ConfigError:
        unknown keys first, then the first answer that does not read."""
        try:
            return cls.model_validate(d)
        except ValidationError as e:
            raise _answers_error(e.errors(), where) from None


def per_day(volume: int) -> str:
    """ "1 request a day", "2,000 requests a day" (walk 22b read "1 requests a day"). Pure."""
    return f"{volume:,} request{'' if volume == 1 else 's'} a day"


def _answers_error(errs: list[ErrorDetails], where: str) -> ConfigError:
    unknown = sorted(str(x["loc"][0]) for x in errs if x["type"] == "extra_forbidden")
    if unknown:
        return ConfigError(
            f"unknown key(s) {unknown}", where=where, fix=f"allowed keys: {', '.join(Answers.model_fields)}"
        )
    err = errs[0]
    if not err["loc"]:
        return ConfigError(
            "the answers must be a mapping", where=where, fix="write them as `key: value` lines"
        )
    key = str(err["loc"][0])
    problem = (err.get("ctx") or {}).get("error")
    if key == "spec":
        return ConfigError(
            "`spec` is required (one sentence: what the model should do)",
            where=where,
            fix="add e.g. `spec: Extract the customer's name and city as JSON`",
        )
    if isinstance(problem, FieldProblem):
        return ConfigError(problem.message, where=where, fix=problem.fix)
    return ConfigError(f"`{key}`: {err['msg']}", where=where, fix=Answers.model_fields[key].description)


@dataclass
class RuleRow:
    rule: str
    fired: bool
    evidence: str


@dataclass
class Decision:
    approach: str
    reasons: list[str]
    rubric: list[RuleRow]
    next_steps: list[str]
    estimate: dict[str, Any]
    probe: dict[str, Any] | None = None
    # who writes a model-training path's practice answers: "written" (the teacher), "own" (the person's own
    # examples only: the small model here got their examples wrong), "blocked" (nobody here can: too few)
    practice: str = "written"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["rubric"] = [asdict(r) for r in self.rubric]
        return d


def decide(
    a: Answers,
    *,
    n_examples: int = 200,
    teacher: str = "local:embedded",
    probe: dict | None = None,
    prices=None,
    output_format: str | None = None,
) -> Decision:
    """Apply the rubric to the answers; `probe` carries measured evidence when prompted_success was measured.
    With `output_format`, a training path whose practice answers the small model here would write wrong says
    so and is planned on the person's own examples, or blocked (`Decision.practice`).

    The first matching branch wins, in the order the rules are listed; each branch is its own helper that
    returns the approach and its reasons.
    """
    behaviour = [g for g in a.goals if g in BEHAVIOUR_GOALS]
    privacy = is_private(a.goals, a.constraints)
    knowledge = a.knowledge_needed or a.knowledge_changes == "often"
    ps = a.prompted_success
    high_volume = a.volume >= HIGH_VOLUME
    cost_goals = sorted({"latency", "cost"} & set(behaviour))
    rows = _rubric_rows(a, probe, knowledge, behaviour, cost_goals)
    _, r_prompt, r_few, _, r_distil = rows
    practice = "written"

    if knowledge and behaviour and not r_prompt.fired:
        approach, reasons = _rag_and_fine_tune(a, behaviour)
        poorly = _reads_documents_poorly(probe, teacher)
        reasons += poorly
        if poorly and is_embedded(teacher):
            # walk 12: hours of practice answers the small model wrote wrong, then training on them
            approach = "rag"
            reasons.append(
                "So for now the advice is to look things up only: training this small model on answers it "
                "writes itself would teach it its own mistakes. With an API key set, training is worth trying."
            )
    elif knowledge:
        approach, reasons = _rag(a)
        reasons += _reads_documents_poorly(probe, teacher)
    elif r_distil.fired and (ps is None or ps >= 0.5):
        # distilling needs a prompt whose answers are worth copying (the appointments bench read "Prompting
        # alone is not enough (0%) … train your own small model on the prompt's answers")
        approach, reasons = _distil(a, cost_goals)
    elif r_prompt.fired:
        approach, reasons = _prompt_good_enough(a, probe, behaviour, high_volume or privacy)
    elif r_few.fired and not (
        behaviour and n_examples >= MIN_EXAMPLES_TO_TRAIN and ps is not None and ps < 0.5
    ):
        approach, reasons = _few_examples(a, behaviour, n_examples, teacher, probe)
    elif behaviour:
        practice = practice_data(a, probe, teacher, output_format) if output_format else "written"
        approach, reasons = _fine_tune_behaviour(
            a, behaviour, n_examples, high_volume, teacher, probe, practice
        )
    else:
        approach, reasons = _prompt_is_enough(a)
    if approach != "fine-tune":
        practice = "written"
    if privacy and approach in ("fine-tune", "rag+fine-tune"):
        reasons.append("Your data must stay with you: the model is trained and run on your own machine.")
    r_behaviour = rows[3]
    if r_behaviour.fired and approach not in ("fine-tune", "rag+fine-tune"):
        # walk 17: this rule ticked for "same shape, cheap to run" beside the advice "keep the prompt"
        why = (
            f"a prompt already gets ≥{PROMPT_GOOD_ENOUGH:.0%}"
            if r_prompt.fired
            else f"fewer than {MIN_EXAMPLES_TO_TRAIN} examples to train on"
            if r_few.fired
            else "see above"
        )
        r_behaviour.evidence += f" — not followed here: {why}"
    if r_few.fired and approach in ("fine-tune", "rag+fine-tune"):
        # the walk saw this rule ticked and training recommended anyway: say what outweighed it
        why = (
            f"your examples in a prompt got only {_right_words(ps, probe)}"
            if ps is not None and ps < 0.5
            else "see above"
        )
        r_few.evidence += f" — not followed here: {why}"

    return Decision(
        approach=approach,
        reasons=reasons,
        rubric=rows,
        next_steps=next_steps(approach, teacher, practice),
        estimate=estimate(
            approach,
            n_examples=a.examples if practice == "own" else n_examples,
            teacher=teacher,
            prices=prices,
            written=practice != "own",
        ),
        probe=probe,
        practice=practice,
    )


def _rubric_rows(
    a: Answers, probe: dict | None, knowledge: bool, behaviour: list[str], cost_goals: list[str]
) -> list[RuleRow]:
    """The five rules with whether each fired and the evidence, in the order the rubric table shows them:
    knowledge, prompt good enough, few examples, behaviour, distillation."""
    ps = a.prompted_success
    return [
        RuleRow(
            "Facts from your documents, or facts that change → look them up",
            knowledge,
            f"you said: outside facts needed — {'yes' if a.knowledge_needed else 'no'}; "
            f"they change — {a.knowledge_changes}",
        ),
        RuleRow(
            f"Already right ≥{PROMPT_GOOD_ENOUGH:.0%} with good instructions → keep the prompt",
            ps is not None and ps >= PROMPT_GOOD_ENOUGH,
            _prompted_evidence(ps, probe),
        ),
        RuleRow(
            f"Fewer than {MIN_EXAMPLES_TO_TRAIN} examples → a prompt with examples",
            a.examples < MIN_EXAMPLES_TO_TRAIN,
            f"you have {a.examples}",
        ),
        RuleRow(
            "Fixed shape, tone, wording, speed, cost or privacy → train a model",
            bool(behaviour),
            f"what matters to you: {goal_words(a.goals)}",
        ),
        RuleRow(
            f"Quick or cheap at ≥{HIGH_VOLUME:,} requests a day → train a model (no long prompt)",
            bool(cost_goals) and a.volume >= HIGH_VOLUME,
            f"{goal_words(cost_goals)}; {per_day(a.volume)}",
        ),
    ]


def _rag_and_fine_tune(a: Answers, behaviour: list[str]) -> tuple[str, list[str]]:
    """Facts to look up and a behaviour to teach, and the prompt is not already good enough."""
    return "rag+fine-tune", [
        f"The task needs facts the model does not have ({_knowledge_reason(a)}): looking them up in your "
        "documents (retrieval) supplies them; training cannot keep facts current.",
        f"It also needs {goal_words(behaviour)}, which training your own small model teaches reliably.",
    ]


def _rag(a: Answers) -> tuple[str, list[str]]:
    """Facts to look up and nothing else a model must learn."""
    return "rag", [
        f"The task needs facts the model does not have ({_knowledge_reason(a)}): let it look them up in "
        "your documents (retrieval) — training teaches a way of answering, not facts."
    ]


def _right_words(ps: float, probe: dict | None) -> str:
    """'0 of 5 fully right' when the probe counted them, else '17% right' (walk 12 read "0 fully right, 17% of
    the words matching" and on the next line "got only 17% right")."""
    from tools.evals.summary import right_words

    if probe and probe.get("n_test") and probe.get("correct_share") is not None:
        n = int(probe["n_test"])
        return f"{round(float(probe['correct_share']) * n)} of {n} {right_words(probe.get('metric'))}"
    return f"{ps:.0%} right"


def _reads_documents_poorly(probe: dict | None, teacher: str) -> list[str]:
    """Walk 12: the bike shop's questions, asked with the matching passages of its documents in the prompt, got
    0 of 5 right on the model on this computer, and the advice went on to train it on its own answers."""
    if not probe or not probe.get("with_documents") or not probe.get("n_test"):
        return []
    n, share = int(probe["n_test"]), float(probe.get("correct_share") or 0.0)
    if share >= 0.5:
        return []
    said = (
        f"Measured: with the matching passages of your documents in its prompt, the model you start from got "
        f"{round(share * n)} of {n} of your questions fully right."
    )
    if is_embedded(teacher):
        said += (
            " It is small and reads documents poorly, and with no API key set it would also write the practice "
            "answers for training itself. A larger model reads them far better: set an API key (OpenAI or "
            "Anthropic) and run again."
        )
    return [said]


def _distil(a: Answers, cost_goals: list[str]) -> tuple[str, list[str]]:
    """Quick or cheap at high volume: train a small model on the long prompt's answers."""
    ps = a.prompted_success
    works = "A good prompt already works" if ps is None or ps >= 0.5 else "Prompting alone is not enough"
    measured = "" if ps is None else f" ({ps:.0%} with examples in the prompt)"
    wait_cost = " and ".join({"latency": "waiting", "cost": "cost"}[g] for g in cost_goals)
    return "fine-tune", [
        f"{works}{measured}, but at {per_day(a.volume)} its long instructions and examples are "
        f"paid on every request: train your own small model on the prompt's answers, so it "
        f"answers with short instructions — {wait_cost} drop.",
        "The model with the long prompt writes the practice answers, and your trained model is measured "
        "against it, so quality is kept while the prompt shrinks.",
    ]


def _prompt_good_enough(
    a: Answers, probe: dict | None, behaviour: list[str], volume_or_privacy: bool
) -> tuple[str, list[str]]:
    """The model with good instructions is already right often enough: keep the prompt."""
    ps = a.prompted_success
    assert ps is not None  # the rule that leads here fires only on a known share
    reasons = [
        f"With good instructions the model you start from already {_score_words(ps, probe)}"
        + _fully_right(probe)
        + f" (≥{PROMPT_GOOD_ENOUGH:.0%}): improve the prompt instead of training a model."
    ]
    if behaviour and volume_or_privacy:
        reasons.append(
            "At your volume or privacy needs your own small model could still cut cost and waiting "
            "later: come back to it once the prompt is settled."
        )
    return "prompt", reasons


def _few_examples(
    a: Answers, behaviour: list[str], n_examples: int, teacher: str, probe: dict | None = None
) -> tuple[str, list[str]]:
    """Too few examples to train on: a clearer prompt (none yet) or the best of them in the prompt."""
    reasons: list[str] = []
    if a.examples == 0:
        # nothing to show the model yet: a clearer prompt now, real examples next
        approach = "prompt"
        reasons.append(
            "You have no examples yet, so there is nothing to show the model: write a clearer prompt now "
            "(what to do, what the answer should look like, one made-up example)."
        )
        reasons.append(
            "Collect about 20 real inputs with the answers you want, to check the prompt on and to show "
            f"it the best of them; at least {MIN_EXAMPLES_TO_TRAIN} before a fine-tune."
        )
        if behaviour:
            reasons.append(
                f"What matters to you ({goal_words(behaviour)}) points to training your own small model "
                f"later: from those real examples {writer_words(teacher)} can write {n_examples} more."
            )
    else:
        approach = "few-shot"
        reasons.append(
            f"Only {a.examples} examples on hand (fewer than {MIN_EXAMPLES_TO_TRAIN}): put the best of them "
            "in the prompt; collect or generate more before training a model."
        )
    if behaviour and a.examples:
        reasons.append(
            f"What matters to you ({goal_words(behaviour)}) points to training your own small model "
            f"later: {writer_words(teacher)} can write {n_examples} practice examples from yours."
        )
    ps = a.prompted_success
    if a.examples and probe and probe.get("measured") and ps is not None and ps <= WRITER_FLOOR:
        # session 15's walk: "My advice: a prompt with examples" right above "got 0 of 5 fully right"
        reasons.append(
            f"But measured, a prompt with your examples got {_right_words(ps, probe)}: the model you start "
            "from cannot do this task yet, with or without examples. To get one that can: about "
            f"{MIN_EXAMPLES_TO_TRAIN} examples of your own to train on"
            + (
                ""
                if is_private(a.goals, a.constraints)
                else ", or an API key set so a bigger model writes them"
            )
            + "."
        )
    return approach, reasons


def _fine_tune_behaviour(
    a: Answers,
    behaviour: list[str],
    n_examples: int,
    high_volume: bool,
    teacher: str,
    probe: dict | None = None,
    practice: str = "written",
) -> tuple[str, list[str]]:
    """A fixed shape, tone, wording, speed, cost or privacy that instructions alone do not hold; `practice`
    says who writes the practice answers (see `practice_data`)."""
    ps = a.prompted_success
    reasons = [
        f"What matters to you ({goal_words(behaviour)}) is what training your own small model teaches "
        "reliably; instructions alone often slip"
        + (f" ({_prompted_words(ps, probe)})" if ps is not None and practice == "written" else "")
        + "."
    ]
    if a.examples < MIN_EXAMPLES_TO_TRAIN and practice == "written":
        reasons.append(
            (
                f"You have only {a.examples} example{'s' if a.examples != 1 else ''}, but instructions with "
                f"{'them' if a.examples != 1 else 'it'} are not enough: {writer_words(teacher)} writes "
                f"~{n_examples} practice examples from {'them' if a.examples != 1 else 'it'}"
                if a.examples
                else f"You have no examples yet, and instructions alone are not enough: {writer_words(teacher)} "
                f"writes ~{n_examples} practice examples from your description"
            )
            + ", each checked before training."
        )
    if {"latency", "cost"} & set(behaviour) or high_volume:
        reasons.append(
            "Your trained model answers without the long instructions and examples, so every request is "
            "shorter (fewer prompt tokens — a token is about ¾ of a word): quicker and cheaper."
        )
    reasons += _writer_warning(a, ps, teacher, probe, practice)
    return "fine-tune", reasons


def _writer_warning(
    a: Answers, ps: float | None, teacher: str, probe: dict | None, practice: str
) -> list[str]:
    """What the practice answers are worth when the small model here writes them and was measured poor.
    The appointments and thermostat benches (10–12 examples) read only "many will not pass the checks", and
    the wrong answers that agreed with each other passed them; walk 16 (offline) was told to set an API key
    and to add 50 examples, which would have trained on 200 wrong answers beside them."""
    measured = bool(probe and probe.get("measured"))
    if (
        ps is None
        or ps >= 0.5
        or not is_embedded(teacher)
        or not (measured or a.examples >= MIN_EXAMPLES_TO_TRAIN)
    ):
        # (a share the person only guessed, with no examples to measure it on, is not "with your examples")
        return []
    private = is_private(a.goals, a.constraints)
    got = (
        f"the small model on this computer got {_right_words(ps, probe)} with your examples in its prompt"
        + guess_words(probe)
    )
    if practice == "own":
        return [
            f"{got[:1].upper()}{got[1:]}, so it writes no practice answers: your own {a.examples} examples "
            "are what your model trains on (a third kept back to test it, so the test is small and its "
            "figures are rough)."
        ]
    key = "" if private else "; or set an API key, so a bigger hosted model writes them"
    trap = (
        "The checks drop an answer it gives differently when asked twice, not a mistake it makes the same way "
        "twice, and a model trained on wrong answers learns the mistakes."
    )
    if practice == "blocked":
        return [
            f"But {got}: the practice answers it would write are mostly wrong. {trap} So do not start yet: add "
            f"examples of your own until you have about {MIN_EXAMPLES_TO_TRAIN} (press e)"
            + collect_time(a)
            + f" — then your model trains on yours and the small model writes none{key}."
        ]
    more = "more" if a.examples >= MIN_EXAMPLES_TO_TRAIN else f"about {MIN_EXAMPLES_TO_TRAIN}"
    return [
        f"The practice answers are written by the same small model that got {_right_words(ps, probe)} with "
        f"your examples in its prompt: expect many of them to be wrong. {trap} "
        + ("Add " if private else "With an API key set a larger hosted model writes them; or add ")
        + f"{more} examples of your own."
    ]


def collect_time(a: Answers) -> str:
    """ "; at your 2 requests a day, the 36 more take about 3 weeks" where the volume is known and examples are
    short of `MIN_EXAMPLES_TO_TRAIN`, else "": walk 29 (14 examples, about 10 requests a week) was told to come
    back with 50 and wondered how long that is. Pure."""
    short = MIN_EXAMPLES_TO_TRAIN - a.examples
    if a.volume <= 0 or short <= 0:
        return ""
    days = -(-short // a.volume)
    span = (
        f"{days} day{'s' * (days != 1)}"
        if days < 14
        else f"{round(days / 7)} weeks"
        if days < 60
        else f"{round(days / 30)} months"
    )
    return f"; at your {per_day(a.volume)}, the {short} more take about {span} to collect"


def _prompted_words(ps: float, probe: dict | None) -> str:
    """How well the model you start from did with a prompt, in the terms it was measured in: walk 16 read
    "with instructions … scores only 0%" where the probe had put 5 of the person's examples in the prompt."""
    if probe and probe.get("measured") and probe.get("n_shots"):
        return (
            f"with {probe['n_shots']} of your examples in its prompt the model you start from got "
            f"{_right_words(ps, probe)}"
        )
    return f"with instructions the model you start from scores only {ps:.0%}"


def _prompt_is_enough(a: Answers) -> tuple[str, list[str]]:
    """Nothing to look up and nothing to teach: the cheapest path, with examples when there are some."""
    ps = a.prompted_success
    return "few-shot" if a.examples else "prompt", [
        "No facts to look up and no need for a fixed shape, tone, speed, cost or privacy: a prompt with "
        "examples is the cheapest path"
        + (f" (with instructions it scores {ps:.0%})" if ps is not None else "")
        + "."
    ]


# a writer measured at most this right on the person's examples writes mostly wrong answers
WRITER_FLOOR = 0.2
# … and where an answer is either right or wrong (exact match), at most half right is mostly wrong: walk 19's
# writer got 4 of 12 of a charity shop's sizes right, wrote 200 answers ("£50" for a skirt's size 17) and
# trained on them, after the app had said that with 50 examples of theirs the small model would write none
WRITER_FLOOR_EXACT = 0.5


# a field answered right at most this far above chance (Cohen's kappa) is a guess; at least this many answers
# measured before a field is called one (fewer cannot tell a guess from a bad draw)
GUESS_KAPPA = 0.2
GUESS_MIN_ROWS = 8


def field_guesses(probe: dict | None) -> list[str]:
    """The fields of a JSON task's answers the probe found right no more often than chance (`GUESS_KAPPA`,
    Cohen's kappa over at least `GUESS_MIN_ROWS` answers; `agent.probe.writer_fields`). Pure."""
    fields = (probe or {}).get("fields") or {}
    if not (probe or {}).get("measured"):
        return []

    def kappa(f: dict) -> float | None:
        n, chance = int(f.get("n") or 0), float(f.get("chance") or 0.0)
        if n < GUESS_MIN_ROWS or chance >= 1.0:
            return None
        return (int(f.get("right") or 0) / n - chance) / (1.0 - chance)

    return [name for name, f in fields.items() if (k := kappa(f)) is not None and k <= GUESS_KAPPA]


def guessed_fields(probe: dict | None) -> list[str]:
    """The fields of a JSON task's answers, when the probe found every one it could tell apart right no more
    often than chance (`field_guesses`): the writer reads nothing of the input, and its practice answers teach
    guesses. [] otherwise (a field it answers well is worth the writing, and the checks take a guessed one
    from the person's examples or drop it: the expenses bench's category was a guess, its amount and currency
    right 10 and 9 times of 10). Pure."""
    fields = (probe or {}).get("fields") or {}
    guessed = field_guesses(probe)
    return guessed if fields and len(guessed) == len(fields) else []


def guess_words(probe: dict | None) -> str:
    """ ", and its trade and urgent were right no more often than guesses" when every field was
    (`guessed_fields`), else "". Pure."""
    fields = guessed_fields(probe)
    if not fields:
        return ""
    named = fields[0] if len(fields) == 1 else ", ".join(fields[:-1]) + " and " + fields[-1]
    return f", and its {named} {'was' if len(fields) == 1 else 'were'} right no more often than guesses"


def writer_wrong(a: Answers, probe: dict | None, teacher: str, output_format: str) -> bool:
    """Would the practice answers be mostly wrong? Yes when the small model on this computer writes them, it
    was measured on the person's own examples (others in its prompt) at most `WRITER_FLOOR` right (half, where
    answers are right or wrong: `WRITER_FLOOR_EXACT`) and nothing
    else fixes an answer (free text: a label task plans each input's label); for a JSON task, when every field
    was right no more often than chance (`guessed_fields`: the values an extraction copies from the input are
    set by rule, a value the writer must infer is not — the repairs bench). The thermostat bench (0 of 5) kept 59 of 120 answers and 33 of the 48 that could be
    checked by hand were wrong; appointments (0 of 6) kept 16, 14 wrong. Pure."""
    ps = a.prompted_success
    if ps is not None:
        ps = _partial(ps, probe)  # the floors were set on the mean of partial credit (words matching)
    measured_here = (
        is_embedded(teacher)
        and bool(probe and probe.get("measured") and not probe.get("with_documents"))
        and is_embedded(str((probe or {}).get("student") or ""))
    )
    if measured_here and output_format == "json":
        # a JSON answer's values the input names are set by rule; one whose every field is a guess is not
        return bool(guessed_fields(probe))
    return (
        measured_here
        and output_format == "text"
        and ps is not None
        and ps <= (WRITER_FLOOR_EXACT if (probe or {}).get("metric") == "exact_match" else WRITER_FLOOR)
    )


def practice_data(a: Answers, probe: dict | None, teacher: str, output_format: str) -> str:
    """Who writes a fine-tune's practice answers: "written" (the teacher, the usual way); with a writer that
    gets the person's examples wrong (`writer_wrong`), "own" (their own examples only, from
    `MIN_EXAMPLES_TO_TRAIN` of them) or "blocked" (fewer: nothing worth training on). Pure."""
    if not writer_wrong(a, probe, teacher, output_format):
        return "written"
    return "own" if a.examples >= MIN_EXAMPLES_TO_TRAIN else "blocked"


def writer_words(teacher: str) -> str:
    """Who writes the practice examples, honestly: the walk read "a bigger model writes ~200 examples" with
    no API key set, where the writer is the same small model (and most of its examples were poor)."""
    if is_embedded(teacher):
        return "the small model on this computer (no API key is set, so it writes them itself; many will not pass the checks)"
    return f"a bigger model ({teacher})"


def next_steps(approach: str, teacher: str = "local:embedded", practice: str = "written") -> list[str]:
    """What happens on the path, in order; `practice` (see `practice_data`) when a trained model's practice
    answers are the person's own or cannot be written here."""
    if approach == "fine-tune" and practice == "own":
        return [
            "Your own small model is trained on your examples (a third of them kept back to test it), and "
            "compared with the model you start from, with and without your examples in the prompt.",
            "Nothing is written by the small model here (it got your examples wrong); more examples of your "
            "own make the next try better.",
        ]
    if approach == "fine-tune" and practice == "blocked":
        return [
            f"Add examples of your own until you have about {MIN_EXAMPLES_TO_TRAIN} (press e): your model "
            "then trains on yours, and the small model here writes none.",
            "Accept anyway: the small model writes ~200 practice answers, your model trains on them, and the "
            "test at the end shows how it did.",
        ]
    steps = {
        "prompt": [
            "tunewise writes clear instructions with 3–6 of your examples (it tries a few and keeps the best).",
            "It checks them on your other examples; train a model later only if the prompt gets too many "
            "of them wrong for you.",
        ],
        "few-shot": [
            "tunewise puts the 4–8 most typical of your examples in the prompt (it tests which work best).",
            "Collect or generate ≥200 examples if you later want shorter instructions or your own small model.",
        ],
        "rag": [
            "tunewise builds a search over your documents (it asks for their folder if you have not given it) "
            "and checks the answers given with the passages it finds.",
            "Keep the documents current: nothing needs retraining when they change.",
        ],
        "fine-tune": [
            "A bigger model writes ~200–500 practice examples from yours; each is checked, and you look over "
            "at least 1 in 10.",
            "Your own small model is trained on them and compared with the model you start from (with and "
            "without your examples in the prompt); weak spots get more examples.",
        ],
        "rag+fine-tune": [
            "tunewise builds the search over your documents first and checks it.",
            "Then it trains your own small model on answers that use the passages found, for the shape and "
            "tone you need.",
        ],
    }
    writer = writer_words(teacher)
    return [step.replace("A bigger model", writer[:1].upper() + writer[1:]) for step in steps[approach]]


def goal_words(goals) -> str:
    """What matters to the person, in the words the interview offered ('same shape every time, cheap to run')."""
    from agent.answers import GOAL_CHOICES

    short = {k: label.split(" (")[0].lower() for k, label in GOAL_CHOICES}
    return ", ".join(short.get(str(g), str(g)) for g in goals or []) or "none of these"


def _partial(ps: float, probe: dict | None) -> float:
    """The measured mean of partial credit (fields right, words matching) where the probe has one; `ps`, the
    rubric's figure, is the share of answers right (`agent.probe.apply_probe`)."""
    p = probe or {}
    return float(p["prompted_success"]) if p.get("measured") and p.get("prompted_success") is not None else ps


def _score_words(ps: float, probe: dict | None) -> str:
    """'gets 90% of the answer fields right' (a share of fields is not a share of answers), else 'scores 90%'."""
    metric = (probe or {}).get("metric")
    if metric in ("json_field_accuracy", "token_f1", "rouge_l"):
        ps = _partial(ps, probe)
    if metric == "json_field_accuracy":
        return f"gets {ps:.0%} of the answer fields right"
    if metric in ("token_f1", "rouge_l"):
        return f"matches {ps:.0%} of the expected words"
    return f"scores {ps:.0%}"


def _prompted_evidence(ps: float | None, probe: dict | None) -> str:
    """How well instructions work now, in words: measured on the person's examples, or what they said."""
    if ps is None:
        return "not known yet"
    if not probe:
        return f"you said: right about {ps:.0%} of the time"
    p = probe or {}
    n, cs = p.get("n_test"), p.get("correct_share")
    said = p.get("said")
    # walk 18: the chatbot they tried was right 9 times in 10; the model here was measured as well
    theirs = f" (you said about {said:.0%} with the chatbot you tried)" if said is not None else ""
    if p.get("metric") in (None, "label_accuracy", "exact_match") or not n or cs is None:
        return f"measured on your examples: {ps:.0%} right{theirs}"
    part = "of the fields right" if p.get("metric") == "json_field_accuracy" else "of the words matching"
    from tools.evals.summary import right_words

    partial = _partial(ps, p)
    return (
        f"measured on {n} of your examples: {round(cs * n)} {right_words(p.get('metric'))}, {partial:.0%} {part}"
        + theirs
    )


def _fully_right(probe: dict | None) -> str:
    """ ", 3 of 5 of your examples fully right" when the probe measured a partial score (field accuracy,
    word overlap): a share of fields must not read as a share of answers."""
    p = probe or {}
    n, cs = p.get("n_test"), p.get("correct_share")
    if not n or cs is None or p.get("metric") in (None, "label_accuracy", "exact_match"):
        return ""
    from tools.evals.summary import right_words

    return f", with {round(cs * n)} of {n} of your examples {right_words(p.get('metric'))}"


def _knowledge_reason(a: Answers) -> str:
    bits = []
    if a.knowledge_needed:
        bits.append("facts outside the model")
    if a.knowledge_changes in ("often", "rarely") and a.knowledge_changes != "never":
        bits.append(f"changes {a.knowledge_changes}")
    return ", ".join(bits) or "facts outside the model"
