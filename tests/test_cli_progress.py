"""Live progress on stderr (issue #14): bars in a terminal, a plain line every ~10% or 30 s elsewhere;
`--json` keeps stdout for the one document.

The unit tests drive `tui.cli.progress.Progress` with the event shapes the graph, the generator, the
evaluation and the trainer emit, on a fake clock. The end-to-end test runs `tunewise data generate`
against a real local OpenAI-compatible HTTP server (canned, varied answers; no model, no network).
"""

from __future__ import annotations

import io
import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from rich.console import Console

from tests.test_cli_basic import run_cli
from tui.cli.progress import Progress, latest_answer, latest_input


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def plain(run_path=None):
    buf = io.StringIO()
    clock = Clock()
    err = Console(file=buf, force_terminal=False, width=200)
    out = Console(file=io.StringIO(), force_terminal=False, width=200)
    return Progress(err=err, out=out, interactive=False, run_path=run_path, clock=clock), buf, clock


def test_plain_lines_every_tenth_with_rate_and_eta():
    p, buf, clock = plain()
    with p:
        for i in range(1, 101):
            clock.t += 1.0  # 1 answer/s: a tenth every 10 s, before the 30 s rule would print
            p.on_generation({"event": "answer", "key": f"k{i}", "done": i, "total": 100})
    lines = buf.getvalue().splitlines()
    assert lines[0].startswith("generate · answers: 1/100 (1%)")  # the bar starts
    assert [ln.split(":")[1].split()[0] for ln in lines[1:]] == [f"{k}/100" for k in range(10, 101, 10)]
    assert "generate · answers: 50/100 (50%) · 1.00/s · ETA 50s" in lines
    assert lines[-1] == "generate · answers: 100/100 (100%) · 1.00/s"


def test_answers_replayed_in_a_burst_do_not_make_the_rate():
    """A resumed evaluation reads its first answers back from the cache at once: the bench's line read
    "9/90 (10%) · 1068/s · ETA 0s". The rate starts after the burst."""
    p, buf, clock = plain()
    with p:
        for i in range(0, 10):  # nine cached answers within 0.1 s
            clock.t += 0.01
            p.on_evaluation({"stage": "generate", "system": "tuned v1", "done": i, "total": 90})
        for i in range(10, 19):  # then one every 2 s
            clock.t += 2.0
            p.on_evaluation({"stage": "generate", "system": "tuned v1", "done": i, "total": 90})
    lines = buf.getvalue().splitlines()
    assert "evaluate · tuned v1: 18/90 (20%) · 0.50/s · ETA 2m24s" in lines, lines


def test_plain_line_every_30_seconds_when_progress_is_slow():
    p, buf, clock = plain()
    with p:
        p.on_evaluation({"stage": "generate", "system": "tuned v1", "done": 0, "total": 1000})
        for i in range(1, 8):
            clock.t += 10
            p.on_evaluation({"stage": "generate", "system": "tuned v1", "done": i, "total": 1000})
    lines = buf.getvalue().splitlines()
    # start, then one line per 30 s (i=3 at +30 s, i=6 at +60 s), then the last count when it closes
    assert [ln.split(":")[1].split()[0] for ln in lines] == ["0/1000", "3/1000", "6/1000", "7/1000"]
    assert all(ln.startswith("evaluate · tuned v1:") for ln in lines)
    assert "0.10/s · ETA 2h45m" in lines[2]  # 994 left at 0.1/s


def test_generation_counts_accepted_inputs_from_the_journal_and_shows_the_latest(tmp_path):
    run_path = tmp_path / "run"
    journal = run_path / "work" / "iter1" / "gen" / "generation.jsonl"
    journal.parent.mkdir(parents=True)
    entries = [
        {"kind": "input", "slot": "g:0:0", "text": "Anna lives in Porto.", "accepted": True},
        {"kind": "input", "slot": "g:0:1", "text": "rejected one", "accepted": False},
        {
            "kind": "input",
            "slot": "g:0:2",
            "text": "Tom moved to Leeds " + "very " * 30 + "long",
            "accepted": True,
        },
    ]
    journal.write_text("".join(json.dumps(e) + "\n" for e in entries) + '{"kind": "inp')  # torn tail
    assert latest_input(journal).startswith("Tom moved to Leeds")
    p, buf, clock = plain(run_path)
    with p:
        p.on_agent_event("status", {"message": "generate: 20 examples with the teacher (iteration 1)"})
        p.on_agent_event("progress", {"step": "generate", "event": "input", "accepted": True, "total": 20})
        for _ in range(3):
            clock.t += 1
            p.on_agent_event(
                "progress", {"step": "generate", "event": "input", "accepted": True, "total": 20}
            )
    text = buf.getvalue()
    assert "… generate: 20 examples with the teacher (iteration 1)" in text
    # 2 accepted in the journal when the first event came (it is already journaled), then +3
    assert "generate · inputs: 2/20 (10%)" in text and "generate · inputs: 5/20 (25%)" in text
    assert "· “Tom moved to Leeds very very very very very ver…”" in text  # truncated to 48 characters
    assert "generate · inputs: 2/20 (10%) · –/s · “Tom" in text  # no ETA before a rate is known


def test_while_answering_the_latest_input_and_its_answer_are_shown(tmp_path):
    """The answers bar showed the last accepted input for the whole step (the same sentence for minutes);
    it shows the latest answered input and the answer written for it."""
    run_path = tmp_path / "run"
    journal = run_path / "work" / "iter1" / "gen" / "generation.jsonl"
    journal.parent.mkdir(parents=True)

    def answer(user, text):
        row = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": user}]}
        row["messages"].append({"role": "assistant", "content": text})
        return {"kind": "answer", "key": user, "row": row}

    lines = [{"kind": "input", "slot": "a", "text": "last input written", "accepted": True}]
    lines += [answer("my screen is cracked", "hardware"), answer("where is my parcel", "shipping")]
    journal.write_text("".join(json.dumps(e) + "\n" for e in lines))
    assert latest_answer(journal) == ("where is my parcel", "shipping")
    p, buf, clock = plain(run_path)
    with p:
        p.on_agent_event("progress", {"step": "generate", "event": "answer", "done": 2, "total": 10})
    text = buf.getvalue()
    assert "generate · answers: 2/10 (20%)" in text
    assert "“where is my parcel” → “shipping”" in text and "last input written" not in text


def test_train_and_evaluation_events_through_the_agent_callback():
    p, buf, clock = plain()
    with p:
        p.on_agent_event("status", {"message": "train: LoRA on data v1"})
        for step in range(0, 11):
            clock.t += 3
            p.on_agent_event(
                "train", {"event": "log", "step": step, "max_steps": 10, "loss": 2.0 - step / 10}
            )
        p.on_agent_event("train", {"event": "end", "step": 10, "max_steps": 10, "loss": None})
        p.on_agent_event("status", {"message": "evaluate: 2 systems on the held-out test split"})
        for system in ("base zero-shot", "tuned v1"):
            for i in range(0, 5):
                clock.t += 1
                p.on_agent_event(
                    "progress",
                    {"step": "evaluate", "stage": "generate", "system": system, "done": i, "total": 4},
                )
        p.on_agent_event("progress", {"step": "evaluate", "stage": "done", "dir": "x"})
    text = buf.getvalue()
    assert "train · steps: 10/10 (100%) · 0.33/s · loss 1.0000" in text
    assert "evaluate · base zero-shot: 4/4 (100%)" in text and "evaluate · tuned v1: 4/4 (100%)" in text


def test_bars_in_a_terminal_show_step_counts_rate_eta_and_the_latest_input(tmp_path):
    buf = io.StringIO()
    err = Console(file=buf, force_terminal=True, width=150, color_system=None)
    clock = Clock()
    with Progress(err=err, out=err, interactive=True, clock=clock) as p:
        p.on_agent_event("status", {"message": "evaluate: 2 systems"})
        for i in range(0, 6):
            clock.t += 2
            p.on_agent_event(
                "progress",
                {"step": "evaluate", "stage": "generate", "system": "tuned v1", "done": i, "total": 20},
            )
        p._rich.refresh()
        shown = buf.getvalue()
    assert "evaluate · tuned v1" in shown and "5/20" in shown
    assert "0.50/s" in shown and "ETA 30s" in shown
    assert "… evaluate: 2 systems" in shown


# ---------------------------------------------------------------- end to end: data generate
WORDS = (
    "river lantern copper meadow violet harbor orbit maple quartz falcon ember willow cobalt thistle".split()
)
NAMES = (
    "Ana Bruno Chen Dalia Emeka Farah Goran Hana Ivo Jun Kaia Luis Mira Nils Oona Pavel Quinn Rosa".split()
)


class _Handler(BaseHTTPRequestHandler):
    rng = random.Random(7)
    lock = threading.Lock()

    def log_message(self, *a):  # quiet
        pass

    def _send(self, obj):
        body = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._send({"object": "list", "data": [{"id": "canned", "object": "model", "owned_by": "test"}]})

    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.lock:
            name = self.rng.choice(NAMES)
            words = " ".join(self.rng.sample(WORDS, 6))
        last = req["messages"][-1]["content"]
        wants_input = "input" in last.lower() and "write" in last.lower()
        text = f"{name} asks about the {words} festival." if wants_input else f"Hello {name}!"
        self._send(
            {
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": "canned",
                "choices": [
                    {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }
        )


@pytest.fixture
def canned_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


def test_data_generate_shows_progress_on_stderr_and_json_on_stdout(tmp_path, canned_server):
    task = {
        "name": "greet",
        "spec": "Greet the person named in the message.",
        "examples": [{"input": "Hi, I am Zoe.", "output": "Hello Zoe!"}],
        "teacher": {"provider": "compatible", "base_url": canned_server},
        "general_share": 0,
    }
    (tmp_path / "task.yaml").write_text(yaml.safe_dump(task))
    r = run_cli("data", "generate", "--spec", "task.yaml", "--n", "12", "--no-critique", "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)  # stdout is the one document, nothing else
    assert doc["run_id"] and doc["version"] == "v1" and sum(doc["counts"].values()) > 0
    err = r.stderr
    assert "generate · inputs: " in err and "/12 " in err
    assert "generate · answers: 12/12 (100%)" in err
    assert "/s" in err
