"""The LangGraph wiring only: nodes, edges, routing, checkpointer. Logic lives in agent/nodes/."""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END, START, StateGraph

from agent.context import AgentContext
from agent.nodes import branches, distill
from agent.nodes.decide import NO_WRITER, decide
from agent.nodes.interview import interview
from agent.nodes.next_round import next_round
from agent.nodes.report import report
from agent.nodes.split import TOO_FEW
from agent.state import AgentState


def route_approach(state: AgentState) -> Literal["interview", "prompt", "rag", "generate", "report"]:
    if state.get("rewind"):
        return "interview"  # "change answers" at the decision
    if state.get("stop_reason") == NO_WRITER:
        return "report"  # nobody here can write practice answers worth training on: said, nothing trained
    approach = state.get("approach", "")
    if approach in ("prompt", "few-shot"):
        return "prompt"
    return "rag" if approach == "rag" else "generate"


def route_after_paid_step(next_node: str):
    """After a paid step: a budget stop goes straight to the report."""

    def route(state: AgentState) -> str:
        return "report" if state.get("stop_reason") == "budget" else next_node

    route.__name__ = f"to_{next_node}"
    return route


def route_after_split(state: AgentState) -> Literal["train", "report"]:
    """Too few examples held up to learn from: the report says why, nothing is trained."""
    return "report" if state.get("stop_reason") == TOO_FEW else "train"


def route_after_analyze(state: AgentState) -> Literal["generate", "report"]:
    if state.get("stop_reason"):
        return "report"
    # Every further round changes the data first: targeted examples (after a rollback, on top of the last
    # good version, with a stricter on-task filter). Retraining the same data with a gentler mix alone made
    # the model worse on the bench.
    return "generate"


def build_graph(context_schema: type = AgentContext, wrap=None) -> StateGraph:
    """The workflow. `wrap(fn, first=...)` adapts every node (LangGraph Studio: agent/studio.py)."""
    w = wrap or (lambda fn, first=False: fn)
    g = StateGraph(AgentState, context_schema=context_schema)
    g.add_node("interview", w(interview, first=True))
    g.add_node("decide", w(decide))
    g.add_node("prompt", w(branches.prompt_branch))
    g.add_node("rag", w(branches.rag_branch))
    for name in ("generate", "critique", "review", "split", "train", "evaluate", "analyze"):
        g.add_node(name, w(getattr(distill, name)))
    g.add_node("next_round", w(next_round))  # a person watching says whether to spend another round
    g.add_node("report", w(report))

    g.add_edge(START, "interview")
    g.add_edge("interview", "decide")
    g.add_conditional_edges("decide", route_approach)  # the targets: its Literal return type
    g.add_edge("prompt", END)
    g.add_edge("rag", END)
    g.add_conditional_edges("generate", route_after_paid_step("critique"), ["critique", "report"])
    g.add_conditional_edges("critique", route_after_paid_step("review"), ["review", "report"])
    g.add_edge("review", "split")
    g.add_conditional_edges("split", route_after_split)
    g.add_conditional_edges("train", route_after_paid_step("evaluate"), ["evaluate", "report"])
    g.add_conditional_edges("evaluate", route_after_paid_step("analyze"), ["analyze", "report"])
    g.add_edge("analyze", "next_round")
    g.add_conditional_edges("next_round", route_after_analyze)
    g.add_edge("report", END)
    return g


def compile_graph(checkpointer):
    return build_graph().compile(checkpointer=checkpointer)


def make_graph(config=None):
    """The compiled graph for LangGraph Studio / `langgraph dev` (langgraph.json). The server adds its own
    checkpointer; each run's context is an agent.studio.StudioContext (JSON, every field has a default)."""
    from agent.studio import StudioContext, studio_node

    return build_graph(context_schema=StudioContext, wrap=studio_node).compile(name="tunewise")
