"""The path to 'look it up in your documents' has no dead end (walk 11): the interview asks where the facts
are written down right after 'yes, it needs facts', and choosing retrieval without documents asks for them
instead of ending with 'nothing to train'."""

from __future__ import annotations

from langgraph.types import Command

from agent.context import AgentContext
from agent.nodes.rag_setup import answer_found
from agent.runner import create_run_for, drive, initial_state
from tools.spec import TaskSpec

RULES = (
    "Climbing shoes are required on every wall; street shoes are not allowed on the mats.\n\n"
    "Children under 14 must be supervised by an adult member at all times.\n\n"
    "Lead climbing needs a lead belay check at the front desk before your first lead route.\n\n"
    "Chalk balls only: loose chalk is not allowed anywhere in the gym.\n"
)


def _docs(tmp_path):
    folder = tmp_path / "gym-docs"
    folder.mkdir()
    (folder / "rules.md").write_text(RULES)
    (folder / "photo.png").write_bytes(b"\x89PNG")
    return folder


def _start(workspace, answers: dict):
    spec = TaskSpec(name="gym", spec="Answer members' questions about the gym's rules.")
    run = create_run_for(workspace, spec)
    state = initial_state(run.id, spec, headless=False)
    state["answers"] = dict(answers)
    ctx = AgentContext(workspace)
    return run, ctx, drive(workspace, run.id, state, ctx)


def test_the_interview_asks_where_the_facts_are_after_yes_and_checks_the_path(workspace, tmp_path):
    folder = _docs(tmp_path)
    run, ctx, out = _start(
        workspace, {"problem": "", "knowledge_needed": "yes", "knowledge_changes": "rarely"}
    )
    q = out["interrupt"]
    assert q["key"] == "documents" and "folder" in q["question"] and q["optional"]
    out = drive(workspace, run.id, Command(resume=str(tmp_path / "nope")), ctx)
    assert out["interrupt"]["key"] == "documents" and "no file or folder at" in out["interrupt"]["error"]
    empty = tmp_path / "pictures"
    empty.mkdir()
    (empty / "a.png").write_bytes(b"\x89PNG")
    out = drive(workspace, run.id, Command(resume=str(empty)), ctx)
    assert "no text I can read" in out["interrupt"]["error"] and ".md" in out["interrupt"]["error"]
    out = drive(workspace, run.id, Command(resume=f"'{folder}'"), ctx)  # quoted, as a drag-and-drop pastes it
    assert out["interrupt"]["key"] == "examples"
    assert out["interrupt"]["spec_so_far"]["documents"] == str(folder.resolve())


def test_no_facts_needed_asks_no_documents_question(workspace):
    run, ctx, out = _start(workspace, {"problem": "", "knowledge_needed": "no"})
    assert out["interrupt"]["key"] == "examples"


def test_choosing_retrieval_without_documents_asks_for_them_then_builds_the_search(workspace, tmp_path):
    folder = _docs(tmp_path)
    answers = {
        "problem": "",
        "knowledge_needed": "yes",
        "knowledge_changes": "often",
        "examples": 0,
        "goals": ["accuracy"],
        "prompted_success": "not tried",
        "volume": 50,
        "constraints": "",
    }
    run, ctx, out = _start(workspace, answers)
    for _ in range(5):  # the questions still open (documents: later; the answer shape, the budget): defaults
        if out["interrupt"]["kind"] != "question":
            break
        out = drive(workspace, run.id, Command(resume=out["interrupt"].get("default") or ""), ctx)
    assert out["interrupt"]["kind"] == "decision", out["interrupt"]
    assert out["interrupt"]["decision"]["approach"] == "rag"
    out = drive(workspace, run.id, Command(resume="accept"), ctx)
    q = out["interrupt"]
    assert q is not None and q["key"] == "documents", "retrieval chosen and its documents never asked for"
    out = drive(workspace, run.id, Command(resume=""), ctx)
    assert out["interrupt"]["key"] == "documents" and "needs the documents" in out["interrupt"]["error"]
    out = drive(workspace, run.id, Command(resume=str(folder)), ctx)
    assert out["interrupt"] is None and out["values"]["stop_reason"] == "approach:rag"
    assert out["values"]["task"]["documents"] == str(folder.resolve())
    md = (run.path / "retrieval.md").read_text()
    assert "1 passage" in md and "BM25" not in md and "chunks" not in md


def test_an_answer_in_the_persons_own_words_counts_as_found_in_the_passages():
    passage = RULES.split("\n\n")[0]
    assert answer_found(passage, "You need climbing shoes on the walls; street shoes aren't allowed on mats.")
    assert not answer_found(passage, "Children under 14 need an adult member with them.")


def test_the_probe_measures_the_prompt_with_the_passages_found_in_the_documents(tmp_path, embedded):
    """Walk 11: 'a prompt gets 0 of 4 right' was measured without the rules the answers are in."""
    from agent.probe import few_shot_messages, probe_signature, run_probe
    from tools.rag.index import documents_retriever
    from tools.spec import parse_spec_dict

    folder = _docs(tmp_path)
    examples = [
        {"input": "Can I climb in my trainers?", "output": "No: climbing shoes are required on every wall."},
        {
            "input": "Can my 10-year-old come alone?",
            "output": "No: under 14s need an adult member with them.",
        },
        {
            "input": "Can I lead climb on my first visit?",
            "output": "Only after a lead belay check at the desk.",
        },
        {"input": "Can I bring a bag of loose chalk?", "output": "No, only chalk balls are allowed."},
    ]
    task = {"spec": "Answer members' questions about the gym's rules.", "examples": examples}
    with_docs = parse_spec_dict(task | {"documents": str(folder)})
    msgs = few_shot_messages(with_docs, [], examples[3]["input"], documents_retriever(folder))
    assert "loose chalk is not allowed" in msgs[0]["content"] and msgs[-1]["content"] == examples[3]["input"]
    assert probe_signature(with_docs) != probe_signature(parse_spec_dict(task))
    result = run_probe(with_docs, embedded, max_tokens=24)
    # each half answered with the other half in the prompt: all 4 measured, none in its own prompt
    assert result["measured"] and result["with_documents"] and result["n_test"] == 4
    assert sorted(r["input"] for r in result["rows"]) == sorted(e["input"] for e in examples)
    assert not run_probe(parse_spec_dict(task), embedded, max_tokens=4)["with_documents"]


def test_the_advice_says_when_the_small_model_reads_the_documents_poorly():
    """Walk 12: 0 of 5 right with the documents in the prompt, and the advice went on to train that model on
    its own answers without a word about it."""
    from agent.rubric import Answers, decide

    a = Answers(spec="Answer customer questions", knowledge_needed=True, examples=10, goals=["style"])
    probe = {
        "measured": True,
        "with_documents": True,
        "n_test": 5,
        "correct_share": 0.0,
        "prompted_success": 0.17,
    }
    d = decide(a, teacher="local:embedded", probe=probe)
    text = " ".join(d.reasons)
    assert "got 0 of 5 of your questions fully right" in text and "set an API key" in text
    # not hours of practice answers the small model writes wrong: look things up only, and say why
    assert d.approach == "rag" and "its own mistakes" in text
    hosted = decide(a, teacher="openai:gpt-4.1", probe=probe)
    assert hosted.approach == "rag+fine-tune"
    assert "0 of 5" in " ".join(hosted.reasons) and "API key" not in " ".join(hosted.reasons)
    assert "0 of 5" not in " ".join(
        decide(a, teacher="local:embedded", probe=probe | {"correct_share": 0.8}).reasons
    )


def test_the_running_spec_shows_the_documents_given(tmp_path):
    """Walk 12: every answer got a line in 'Your task so far' but the documents never did."""
    from tui.widgets.chat.spec_panel import spec_lines

    folder = _docs(tmp_path)
    (folder / "prices.md").write_text("A day pass costs 12 euros and a month costs 60 euros for adults.")
    _, items = spec_lines({"spec": "x", "documents": str(folder), "answers": {"knowledge_needed": "yes"}})
    assert ("Documents", "2 files in gym-docs") in items


def test_the_report_of_a_retrieval_decision_says_how_many_it_got_right(workspace, tmp_path):
    """The rag branch ended with 'nothing to train' and a table in retrieval.md; the report now leads with
    the measurement in words and what to do."""
    import json

    from agent.runner import create_run_for
    from tools.spec import parse_spec_dict
    from tui.screens.report import report_markdown

    run = create_run_for(workspace, parse_spec_dict({"spec": "Answer members' questions."}))
    (run.path / "work" / "iter0").mkdir(parents=True)
    result = {"chunks": 4, "n": 8, "accuracy_without": 0.0, "accuracy_with": 0.25, "context_recall": 0.75}
    (run.path / "work" / "iter0" / "rag.json").write_text(json.dumps(result))
    text = report_markdown(run.id, run.path, {"approach": "rag", "stop_reason": "approach:rag"})
    assert "got 2 of 8 of your examples fully right (0 of 8 without them)" in text
    assert "held your answer for 6 of 8" in text and "reads them wrong" in text
