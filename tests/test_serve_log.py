"""From production back to data: `tunewise serve --log DIR` logs each exchange, `POST /v1/feedback` records
ratings and corrections, `data import --from-serve-log` turns them into rows and a review queue, and
`tunewise monitor` summarizes the days. The server runs in-process on the real embedded model, over HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

KEYLIKE = "sk-proj-ABCDEFGHIJKLMNOPQRSTUVWX123456"  # a key someone pastes into a message
HEADER_KEY = "sk-header-should-never-be-logged-0123456789"
SYSTEM = "Reply with a JSON object."


def tunewise(*args: str, cwd, env) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def logged(embedded, tmp_path_factory):
    """A server with --log, three plain answers, one streamed, one refused; feedback on two of them."""
    from tools.llm.server import start_background_server

    home = tmp_path_factory.mktemp("servelog")
    log_dir = home / "log"
    base, stop = start_background_server(provider=embedded, batch_size=4, log_dir=str(log_dir))
    try:
        ids = []
        for text in ("Anna lives in Porto.", "Ben moved to Oslo.", f"My key is {KEYLIKE}, Carl is in Rome."):
            r = httpx.post(
                f"{base}/chat/completions",
                json={
                    "model": "embedded",
                    "max_tokens": 8,
                    "temperature": 0,
                    "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}],
                },
                headers={"Authorization": f"Bearer {HEADER_KEY}"},
                timeout=300,
            )
            assert r.status_code == 200, r.text
            ids.append(r.json()["id"])
        with httpx.stream(
            "POST",
            f"{base}/chat/completions",
            json={
                "model": "embedded",
                "max_tokens": 8,
                "stream": True,
                "messages": [{"role": "user", "content": "Say hi."}],
            },
            timeout=300,
        ) as r:
            events = [line for line in r.iter_lines() if line.startswith("data: ")]
        streamed = "".join(
            (json.loads(e[6:])["choices"][0]["delta"].get("content") or "")
            for e in events
            if e != "data: [DONE]" and json.loads(e[6:]).get("choices")
        )
        ids.append(json.loads(events[0][6:])["id"])
        bad = httpx.post(
            f"{base}/chat/completions", json={"model": "nope", "messages": [{"role": "user", "content": "x"}]}
        )
        assert bad.status_code == 404

        fb = {}
        for body in (
            {"request_id": ids[0], "rating": 1},
            {"request_id": ids[1], "rating": 2, "correction": '{"name": "Ben", "city": "Oslo"}'},
            {"request_id": ids[3], "rating": 5},
        ):
            r = httpx.post(f"{base}/feedback", json=body)
            fb[body["request_id"]] = r
        refusals = {
            "unknown id": httpx.post(f"{base}/feedback", json={"request_id": "chatcmpl-nope", "rating": 3}),
            "rating 7": httpx.post(f"{base}/feedback", json={"request_id": ids[0], "rating": 7}),
            "nothing": httpx.post(f"{base}/feedback", json={"request_id": ids[0]}),
            "not json": httpx.post(f"{base}/feedback", content=b"{oops"),
        }
    finally:
        stop()
    lines = [json.loads(line) for p in sorted(log_dir.glob("*.jsonl")) for line in p.read_text().splitlines()]
    return {
        "home": home,
        "log": log_dir,
        "ids": ids,
        "streamed": streamed,
        "records": lines,
        "feedback": fb,
        "refusals": refusals,
    }


def test_each_exchange_is_logged_with_latency_tokens_version_and_id(logged):
    reqs = [r for r in logged["records"] if r["type"] == "request"]
    assert len(reqs) == 5
    ok = {r["request_id"]: r for r in reqs if r["status"] == 200}
    assert list(ok) == logged["ids"]  # the id a client gets back is the id in the log
    for r in ok.values():
        assert r["latency_s"] > 0 and r["prompt_tokens"] > 0 and r["completion_tokens"] > 0
        assert r["model"] == "embedded" and "version" in r and r["response"] is not None
        assert r["time"].endswith("Z") and r["messages"][-1]["role"] == "user"
    first = ok[logged["ids"][0]]
    assert (
        first["messages"][0] == {"role": "system", "content": SYSTEM} and first["params"]["max_tokens"] == 8
    )
    stream = ok[logged["ids"][3]]
    assert stream["stream"] and stream["response"] == logged["streamed"] and stream["ttft_s"] > 0
    refused = [r for r in reqs if r["status"] == 404]
    assert len(refused) == 1 and "not found" in refused[0]["error"]


def test_keys_never_reach_the_log(logged):
    text = "".join(p.read_text() for p in logged["log"].glob("*.jsonl"))
    assert HEADER_KEY not in text and KEYLIKE not in text and "Bearer" not in text
    assert "Carl is in Rome" in text  # the rest of that message is kept


def test_feedback_is_recorded_and_bad_feedback_refused(logged):
    assert all(r.status_code == 200 for r in logged["feedback"].values())
    fbs = [r for r in logged["records"] if r["type"] == "feedback"]
    assert [(f["request_id"], f["rating"]) for f in fbs] == [
        (logged["ids"][0], 1),
        (logged["ids"][1], 2),
        (logged["ids"][3], 5),
    ]
    assert fbs[1]["correction"] == '{"name": "Ben", "city": "Oslo"}'
    ref = logged["refusals"]
    assert ref["unknown id"].status_code == 404 and ref["unknown id"].json()["error"]["param"] == "request_id"
    assert ref["rating 7"].status_code == 400 and ref["rating 7"].json()["error"]["param"] == "rating"
    assert ref["nothing"].status_code == 400 and "rating" in ref["nothing"].json()["error"]["message"]
    assert ref["not json"].status_code == 400


def test_import_turns_corrections_into_rows_and_low_ratings_into_a_queue(logged):
    home, log = logged["home"], logged["log"]
    env = {**os.environ, "TUNEWISE_HOME": str(home)}
    res = tunewise(
        "data", "import", "--from-serve-log", str(log), "--run", "prod", "--json", cwd=home, env=env
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["version"] == "v1" and out["rows"] == 1 and out["queued"] == 1
    assert out["counts"] == {"requests": 4, "rated": 3, "corrected": 1, "low_rated": 1, "skipped": 0}
    data = home / ".tunewise" / "runs" / "prod" / "data" / "v1"
    rows = [
        json.loads(line)
        for s in ("train", "val", "test")
        for line in (data / f"{s}.jsonl").read_text().splitlines()
    ]
    assert len(rows) == 1
    row = rows[0]
    assert row["messages"][-1] == {
        "role": "assistant",
        "content": '{"name": "Ben", "city": "Oslo"}',
    }  # the target
    assert row["messages"][-2]["content"] == "Ben moved to Oslo." and row["messages"][0]["content"] == SYSTEM
    assert row["metadata"]["request_id"] == logged["ids"][1] and row["metadata"]["source"] == "serve-log"
    queue = [json.loads(line) for line in (home / ".tunewise" / "runs" / "prod" / "serve-queue.jsonl").open()]
    assert [(q["request_id"], q["rating"], q["input"]) for q in queue] == [
        (logged["ids"][0], 1, "Anna lives in Porto.")
    ]
    manifest = json.loads((data / "manifest.json").read_text())
    assert manifest["sources"][0]["kind"] == "serve-log"

    # --max-rating 1 still queues the 1; --since tomorrow finds nothing; a bad date is one line, exit 2
    res = tunewise(
        "data", "import", "--from-serve-log", str(log), "--since", "2999-01-01", "--json", cwd=home, env=env
    )
    assert (
        res.returncode == 0
        and json.loads(res.stdout)["rows"] == 0
        and json.loads(res.stdout)["run_id"] is None
    )
    bad = tunewise("data", "import", "--from-serve-log", str(log), "--since", "last week", cwd=home, env=env)
    assert bad.returncode == 2 and "--since" in bad.stderr and "YYYY-MM-DD" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    stray = tunewise("data", "import", "x.jsonl", "--max-rating", "1", cwd=home, env=env)
    assert stray.returncode == 2 and "--from-serve-log" in stray.stderr


def test_monitor_prints_the_days(logged, tmp_path):
    from tools.evals._pattern import format_errors
    from tools.spec import parse_spec_dict

    home, log = logged["home"], logged["log"]
    spec = tmp_path / "task.yaml"
    spec.write_text("spec: Extract the person's name and city as JSON.\noutput: {format: json}\n")
    env = {**os.environ, "TUNEWISE_HOME": str(home)}
    res = tunewise("monitor", str(log), "--spec", str(spec), "--json", cwd=home, env=env)
    assert res.returncode == 0, res.stderr
    days = json.loads(res.stdout)["days"]
    assert len(days) == 1
    d = days[0]
    assert d["requests"] == 4 and d["errors"] == 1 and d["corrected"] == 1
    assert d["ratings"] == {"1": 1, "2": 1, "3": 0, "4": 0, "5": 1} and d["mean_rating"] == pytest.approx(
        8 / 3, abs=0.01
    )
    assert 0 < d["latency_p50_ms"] <= d["latency_p95_ms"]
    answers = [r["response"] for r in logged["records"] if r["type"] == "request" and r["status"] == 200]
    out_spec = parse_spec_dict({"spec": "x", "output": {"format": "json"}}).output
    expected = sum(1 for a in answers if format_errors(a, out_spec)) / len(answers)
    assert d["format_checked"] == 4 and d["format_fail_share"] == pytest.approx(expected)

    text = tunewise("monitor", str(log), "--spec", str(spec), cwd=home, env=env)
    assert text.returncode == 0
    assert "p50 ms" in text.stdout and "format fail" in text.stdout and "█" in text.stdout
    assert "4 answered, 1 failed, 3 rated" in text.stdout
    missing = tunewise("monitor", str(tmp_path / "nowhere"), cwd=home, env=env)
    assert missing.returncode == 2 and "serve --log" in missing.stderr


def test_log_rotates_by_size_and_reads_back_in_order(tmp_path):
    from tools.llm.servelog import ServeLog, log_files, read_log

    log = ServeLog(tmp_path, max_bytes=2048)
    for i in range(40):
        log.append(
            {"type": "request", "request_id": f"r{i}", "ts": i, "status": 200, "messages": [], "n": "x" * 80}
        )
    log.feedback("r3", 4, None)
    log.feedback("r3", None, "better answer")
    with open(log.path, "a") as f:
        f.write('{"type": "request", "request_id": "cut')  # a crash mid-write
    files = log_files(tmp_path)
    assert len(files) > 2 and files[-1].name == "serve.jsonl"
    assert all(p.stat().st_size <= 2048 for p in files[:-1])
    data = read_log(tmp_path)
    assert list(data.requests) == [f"r{i}" for i in range(40)]
    assert data.feedback["r3"]["rating"] == 4 and data.feedback["r3"]["correction"] == "better answer"
    assert log.knows("r39") and ServeLog(tmp_path).knows("r0") and not log.knows("nope")


def test_the_version_names_run_training_and_weights(tmp_path):
    from tools.llm.servelog import model_version

    adapter = tmp_path / ".tunewise" / "runs" / "myrun" / "train" / "v2" / "adapter"
    adapter.mkdir(parents=True)
    (adapter / "adapter_model.safetensors").write_bytes(b"weights")
    v = model_version("embedded", str(adapter))
    assert v["run_id"] == "myrun" and v["train_version"] == "v2" and len(v["fingerprint"]) == 12
