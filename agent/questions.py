"""The interview's questions, in order. Structured so the embedded model can run the same graph; with
a capable provider the agent's LLM rephrases them and summarises the answers."""

from __future__ import annotations

from dataclasses import dataclass

from agent.answers import GOAL_CHOICES


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    kind: str = "text"  # text | choice | multi | number
    choices: tuple[str, ...] = ()
    help: str = ""
    optional: bool = False
    choice_labels: tuple[str, ...] = ()  # plain words shown for each choice (the choice itself when empty)


QUESTIONS: tuple[Question, ...] = (
    Question(
        "spec",
        "In one sentence: what should the model do?",
        help="e.g. 'Extract the person, city and age from a sentence as JSON.'",
    ),
    Question(
        "problem",
        "What goes wrong today, or what should a model do better? (fine to say you have not tried one yet)",
        optional=True,
        help="e.g. 'It ignores the JSON format', 'too slow', 'we do it by hand today'.",
    ),
    Question(
        "knowledge_needed",
        "Does the task need facts the model does not know (your documents, product data)?",
        kind="choice",
        choices=("no", "yes"),
    ),
    Question(
        "knowledge_changes",
        "How often do those facts change?",
        kind="choice",
        choices=("never", "rarely", "often"),
        # walk 13: "no guide to what each means" ('a few times a year' is rarely)
        choice_labels=("never", "rarely (a few times a year)", "often (monthly or more)"),
    ),
    Question(
        "documents",
        "Where are those facts written down? The path of a folder (or one file) of text or Markdown "
        "documents, e.g. ~/gym/rules.md",
        optional=True,
        help="tunewise looks up the passages that match each question in them and measures whether that "
        "gets answers right. Enter goes on without them; you are asked again if looking things up is "
        "the advice.",
    ),
    Question(
        "examples",
        "How many examples do you have of a message and the answer you want for it? (a number, or the "
        "path of a file with them)",
        help="e.g. 20, 'none' or 'a few hundred'. 0 is fine: a model writes practice examples from your "
        "description (a bigger, online one if you give an OpenAI or Anthropic key), though real ones of yours "
        "work best.",
    ),
    Question(
        "examples_file",
        "Where are those examples? The path of a file with them: each message on a line starting 'Q:' and "
        "the answer you want on the line after, starting 'A:' (a spreadsheet saved as CSV with the message "
        "first and the answer after it works too; an answer in parts, a column each under a row of names).",
        optional=True,
        help="Enter goes on without them: the decision is then made from your description alone, and e on "
        "the decision screen adds them later. Examples of your own teach far more than written ones.",
    ),
    Question(
        "output_format",
        "What should each answer look like?",
        kind="choice",
        choices=("text", "json", "label"),
        # plain words first: a groomer's sheet of dog, service and day was offered "text / json / label"
        choice_labels=(
            "free text (a sentence, a reply)",
            "named parts (JSON: e.g. name, day, service)",
            "one of a fixed set (a label: e.g. urgent or not)",
        ),
        help="Named parts: each answer has the same few named pieces (kept as JSON, the names read from your "
        "examples); one of a fixed set: a label; free text: anything else. It sets how answers are checked "
        "and scored.",
    ),
    Question(
        "labels",
        "Which labels may an answer be? (comma-separated, e.g. 'urgent, normal, low')",
    ),
    Question(
        "answer_match",
        "Must an answer be exactly like yours to count as right (a code, a ticket, a date, a number), or is "
        "the same said in other words fine (a summary, a reply)?",
        kind="choice",
        choices=("exactly", "other words"),
        choice_labels=("exactly like mine", "other words are fine"),
        help="It sets how every answer is scored, from the first measurement to the final verdict: exactly "
        "counts an answer only when it is the same as yours (capitals and punctuation aside); other words "
        "counts it when most of its words match.",
    ),
    Question(
        "prompted_success",
        "If you have tried a chatbot or model with instructions for this, how often was it right? (e.g. 60%, "
        "'about half', or 'not tried' — tunewise will measure it on your examples)",
        optional=True,
    ),
    Question(
        "goals",
        "What matters most? Pick any that apply.",
        kind="multi",
        choices=tuple(k for k, _ in GOAL_CHOICES),
        choice_labels=tuple(label for _, label in GOAL_CHOICES),
        help="None is fine too.",
    ),
    Question(
        "volume",
        "Roughly how many requests per day? (e.g. 200, 'a few hundred', 'no idea')",
        kind="number",
        optional=True,
    ),
    Question(
        "constraints",
        "Must your messages stay on your own computer, or may an online AI service see them? (e.g. 'offline' "
        "= only on this computer, 'cloud ok')",
        optional=True,
    ),
    Question(
        "budget",
        "Budget in US dollars for paid online AI services, if you use one? Without one everything runs on "
        "this computer for $0: press Enter. (e.g. 5 or '$20'; blank = no limit)",
        kind="number",
        optional=True,
    ),
)


# questions whose answers shape the task's output spec, not the rubric's answers
OUTPUT_KEYS = ("output_format", "labels", "answer_match")


MATCH_METRICS = {"exact_match": "exactly", "token_f1": "other words"}  # answer_match's answers, as metrics


def applicable(q: Question, answers: dict, task: dict | None = None, again: bool = False) -> bool:
    """Whether the interview asks `q` now; `again`: after "change answers", where a question answered
    before is asked once more with that answer offered."""
    if q.key in ("knowledge_changes", "documents"):
        needed = str(answers.get("knowledge_needed", "no")).lower() in ("yes", "true", "y", "1")
        # walk 11: "yes, it needs facts" and the documents holding them were never asked for
        return needed and not (q.key == "documents" and (task or {}).get("documents"))
    if q.key == "constraints":
        # "data stays with you" already says where it runs (the walk was asked again right after ticking it)
        return "privacy" not in [str(g).lower() for g in answers.get("goals") or []]
    if q.key == "examples_file":
        # "10" said and none given: walk 10 typed a number and was never asked for the examples themselves
        have = (task or {}).get("examples") or []
        said = answers.get("examples")
        return not have and isinstance(said, int) and said > 0
    if q.key == "labels":
        out = (task or {}).get("output") or {}
        return out.get("format") == "label" and not out.get("labels")
    if q.key == "answer_match":
        # free text only, and only when the task file has not said how answers are scored (walk 17: a
        # bakery's "THURSDAY AM" for "THU PM" counted as right because most words matched)
        # after "change answers" it is asked again when its answer set the metric (walk 17's leftover: the
        # first answer could not be changed)
        out = (task or {}).get("output") or {}
        metric = ((task or {}).get("success") or {}).get("primary_metric")
        return out.get("format", "text") == "text" and (not metric or (again and metric in MATCH_METRICS))
    return True
