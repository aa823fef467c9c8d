"""langgraph.json opens in LangGraph Studio / `langgraph dev`: the named graph imports the way the server imports
it (a file path, then the variable), the factory builds the compiled graph, its context has defaults (an
empty context works), and a run started from just a task reaches the interview's first question.

(Checked by hand as well: langgraph-cli 0.4.40 `validate_config_file` accepts the file, and `langgraph dev`
with langgraph-api 0.16.7 serves the graph: a thread's run interrupts with the interview's questions, resumes
with each answer and stops at the decision.)
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load_graph_factory():
    cfg = json.loads((ROOT / "langgraph.json").read_text())
    assert "." in cfg["dependencies"]  # the package itself is installed into the server's image
    spec = cfg["graphs"]["tunewise"]
    path, _, var = (spec["path"] if isinstance(spec, dict) else spec).partition(":")
    file = (ROOT / path).resolve()
    assert file.is_file() and var
    # like langgraph_api.graph._graph_from_spec: load the file as a module, then take the variable
    modname = path.replace("/", "__").replace(".py", "").replace(" ", "_").lstrip(".")
    modspec = importlib.util.spec_from_file_location(modname, file)
    module = importlib.util.module_from_spec(modspec)
    sys.modules[modname] = module
    modspec.loader.exec_module(module)
    return module.__dict__[var]


@pytest.fixture(scope="module")
def graph():
    factory = load_graph_factory()
    assert callable(factory) and len(inspect.signature(factory).parameters) <= 1  # the server passes config
    return factory({"configurable": {}})


def test_the_factory_builds_the_compiled_graph(graph):
    from langgraph.pregel import Pregel

    assert isinstance(graph, Pregel)
    nodes = set(graph.get_graph().nodes)
    for n in ("interview", "decide", "prompt", "rag", "generate", "critique", "review", "train", "report"):
        assert n in nodes
    schema = graph.get_context_jsonschema()  # what Studio shows and pre-fills
    props = schema["properties"]
    assert {"workspace", "budget_usd", "quick", "train_max_steps"} <= set(props)
    assert all("default" in p for p in props.values()) and not schema.get("required")


def test_a_run_from_a_task_reaches_the_first_question(graph, tmp_path):
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.types import Command

    g = graph.copy(update={"checkpointer": InMemorySaver()})
    config = {"configurable": {"thread_id": "t1"}}
    # the server passes the run's context as a dict, {} when Studio's fields are left empty
    out = g.invoke({"task": {"spec": "Extract the city from a sentence as JSON."}}, config, context={})
    q = out["__interrupt__"][0].value
    assert q["kind"] == "question" and q["key"] and q["question"]
    # the interrupted first step re-runs on resume: it finds the same run, and the next question comes
    out = g.invoke(Command(resume=""), config, context={"workspace": str(tmp_path)})
    assert out["__interrupt__"][0].value["key"] != q["key"]
    runs = sorted(p.name for p in (tmp_path / ".tunewise" / "runs").iterdir())
    assert runs == ["studio-t1"] and (tmp_path / ".tunewise" / "runs" / "studio-t1" / "spec.yaml").exists()


def test_a_run_without_a_task_says_what_to_send(graph):
    from langgraph.checkpoint.memory import InMemorySaver

    from tools.errors import UserError

    g = graph.copy(update={"checkpointer": InMemorySaver()})
    with pytest.raises(UserError, match="no task") as e:
        g.invoke({}, {"configurable": {"thread_id": "t2"}})
    assert '{"task": {"spec"' in str(e.value)
