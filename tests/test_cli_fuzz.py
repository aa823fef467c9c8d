"""Bad files never end in "internal error" (issue #14, item 4).

Every command that reads a file a person gives is fed (1) the bad files the issue names, each of which
must give one `error:` line — where, what, how to fix — and exit 2, and (2) a seeded stream of random
bytes, random text, random JSON/YAML structures built from the keys the readers look for, and
mutations of a valid file: exit 0, 1 or 2, never "internal error", never a traceback.

The CLI runs in-process (the same `run_cli` the console script calls) so hundreds of cases take
seconds; steps after the file checks that would call a model (the loop, generation, evaluation) are
replaced by an `exit 0` ("the file was accepted"). More cases: TUNEWISE_FUZZ_N=500 TUNEWISE_FUZZ_SEED=7.

The cases tried and what they gave (`python -m tests.test_cli_fuzz` reruns them and prints this table;
paths shortened, long lines cut at 150 characters):

| command | file / flags | exit | what the person reads (stderr) |
|---|---|---|---|
| `run TASK` | binary | 2 | error: bad.yaml: binary data, not a YAML file (a NUL byte at offset 0) — fix: pass the YAML file itself (plain UTF-8 text) |
| `run TASK` | directory | 2 | error: bad.yaml: is a folder, not a YAML file — fix: pass the path of the YAML file |
| `run TASK` | unreadable | 2 | error: bad.yaml: cannot read the file (permission denied) — fix: make it readable (chmod u+r bad.yaml) or pass a copy you can read |
| `run TASK` | deep JSON | 2 | error: bad.yaml: invalid YAML (nested more than 100 levels deep) — fix: flatten it (task, answers and config files are a few levels deep) |
| `run TASK` | Latin-1 | 2 | error: bad.yaml:2: not UTF-8 text (byte 0xe9; probably Latin-1 / Windows-1252) — fix: save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8 bad.yaml > f… |
| `run TASK` | UTF-16 | 2 | error: bad.yaml: UTF-16 text, not UTF-8 (expected a YAML file) — fix: save it as UTF-8 (e.g. `iconv -f utf-16 -t utf-8 bad.yaml > fixed.txt`, or 'C… |
| `decide --answers` | binary | 2 | error: bad.yaml: binary data, not a YAML file (a NUL byte at offset 0) — fix: pass the YAML file itself (plain UTF-8 text) |
| `decide --answers` | directory | 2 | error: bad.yaml: is a folder, not a YAML file — fix: pass the path of the YAML file |
| `decide --answers` | unreadable | 2 | error: bad.yaml: cannot read the file (permission denied) — fix: make it readable (chmod u+r bad.yaml) or pass a copy you can read |
| `decide --answers` | deep JSON | 2 | error: bad.yaml: invalid YAML (nested more than 100 levels deep) — fix: flatten it (task, answers and config files are a few levels deep) |
| `decide --answers` | Latin-1 | 2 | error: bad.yaml:2: not UTF-8 text (byte 0xe9; probably Latin-1 / Windows-1252) — fix: save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8 bad.yaml > f… |
| `decide --answers` | UTF-16 | 2 | error: bad.yaml: UTF-16 text, not UTF-8 (expected a YAML file) — fix: save it as UTF-8 (e.g. `iconv -f utf-16 -t utf-8 bad.yaml > fixed.txt`, or 'C… |
| `train --config` | binary | 2 | error: bad.yaml: binary data, not a YAML file (a NUL byte at offset 0) — fix: pass the YAML file itself (plain UTF-8 text) |
| `train --config` | directory | 2 | error: bad.yaml: is a folder, not a YAML file — fix: pass the path of the YAML file |
| `train --config` | unreadable | 2 | error: bad.yaml: cannot read the file (permission denied) — fix: make it readable (chmod u+r bad.yaml) or pass a copy you can read |
| `train --config` | deep JSON | 2 | error: bad.yaml: invalid YAML (nested more than 100 levels deep) — fix: flatten it (task, answers and config files are a few levels deep) |
| `train --config` | Latin-1 | 2 | error: bad.yaml:2: not UTF-8 text (byte 0xe9; probably Latin-1 / Windows-1252) — fix: save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8 bad.yaml > f… |
| `train --config` | UTF-16 | 2 | error: bad.yaml: UTF-16 text, not UTF-8 (expected a YAML file) — fix: save it as UTF-8 (e.g. `iconv -f utf-16 -t utf-8 bad.yaml > fixed.txt`, or 'C… |
| `data generate --spec` | binary | 2 | error: bad.yaml: binary data, not a YAML file (a NUL byte at offset 0) — fix: pass the YAML file itself (plain UTF-8 text) |
| `data generate --spec` | directory | 2 | error: bad.yaml: is a folder, not a YAML file — fix: pass the path of the YAML file |
| `data generate --spec` | unreadable | 2 | error: bad.yaml: cannot read the file (permission denied) — fix: make it readable (chmod u+r bad.yaml) or pass a copy you can read |
| `data generate --spec` | deep JSON | 2 | error: bad.yaml: invalid YAML (nested more than 100 levels deep) — fix: flatten it (task, answers and config files are a few levels deep) |
| `data generate --spec` | Latin-1 | 2 | error: bad.yaml:2: not UTF-8 text (byte 0xe9; probably Latin-1 / Windows-1252) — fix: save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8 bad.yaml > f… |
| `data generate --spec` | UTF-16 | 2 | error: bad.yaml: UTF-16 text, not UTF-8 (expected a YAML file) — fix: save it as UTF-8 (e.g. `iconv -f utf-16 -t utf-8 bad.yaml > fixed.txt`, or 'C… |
| `eval run --test` | binary | 2 | error: bad.jsonl: binary data, not a chat JSONL file (a NUL byte at offset 0) — fix: pass the chat JSONL file itself (plain UTF-8 text) |
| `eval run --test` | directory | 2 | error: bad.jsonl: is a folder, not a chat JSONL file — fix: pass a chat JSONL file (last assistant turn = reference) |
| `eval run --test` | unreadable | 2 | error: bad.jsonl: cannot read the file (permission denied) — fix: make it readable (chmod u+r bad.jsonl) or pass a copy you can read |
| `eval run --test` | deep JSON | 2 | error: bad.jsonl:1: invalid JSON (nested more than 100 levels deep) — fix: one JSON object per line: {"messages": [{"role": "user", …}, {"role": "a… |
| `eval run --test` | Latin-1 | 2 | error: bad.jsonl:2: not UTF-8 text (byte 0xe9; probably Latin-1 / Windows-1252) — fix: save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8 bad.jsonl >… |
| `eval run --test` | UTF-16 | 2 | error: bad.jsonl: UTF-16 text, not UTF-8 (expected a chat JSONL file) — fix: save it as UTF-8 (e.g. `iconv -f utf-16 -t utf-8 bad.jsonl > fixed.txt… |
| `data import (jsonl)` | binary | 2 | error: bad.jsonl: binary data, not a JSON or JSONL file (a NUL byte at offset 0) — fix: pass the JSON or JSONL file itself (plain UTF-8 text) |
| `data import (jsonl)` | directory | 2 | error: bad.jsonl: is a folder, not a JSON or JSONL file — fix: pass the path of the JSON or JSONL file |
| `data import (jsonl)` | unreadable | 2 | error: bad.jsonl: cannot read the file (permission denied) — fix: make it readable (chmod u+r bad.jsonl) or pass a copy you can read |
| `data import (jsonl)` | deep JSON | 2 | error: bad.jsonl:1: invalid JSON (nested more than 100 levels deep) — fix: repair the file |
| `data import (jsonl)` | Latin-1 | 2 | error: bad.jsonl:2: not UTF-8 text (byte 0xe9; probably Latin-1 / Windows-1252) — fix: save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8 bad.jsonl >… |
| `data import (jsonl)` | UTF-16 | 2 | error: bad.jsonl: UTF-16 text, not UTF-8 (expected a JSON or JSONL file) — fix: save it as UTF-8 (e.g. `iconv -f utf-16 -t utf-8 bad.jsonl > fixed.… |
| `data import (csv)` | binary | 2 | error: bad.csv: binary data, not a CSV file (a NUL byte at offset 0) — fix: pass the CSV file itself (plain UTF-8 text) |
| `data import (csv)` | directory | 2 | error: bad.csv: is a folder, not a CSV file — fix: pass the path of the CSV file |
| `data import (csv)` | unreadable | 2 | error: bad.csv: cannot read the file (permission denied) — fix: make it readable (chmod u+r bad.csv) or pass a copy you can read |
| `data import (csv)` | Latin-1 | 2 | error: bad.csv:2: not UTF-8 text (byte 0xe9; probably Latin-1 / Windows-1252) — fix: save it as UTF-8 (e.g. `iconv -f latin1 -t utf-8 bad.csv > fix… |
| `data import (csv)` | UTF-16 | 2 | error: bad.csv: UTF-16 text, not UTF-8 (expected a CSV file) — fix: save it as UTF-8 (e.g. `iconv -f utf-16 -t utf-8 bad.csv > fixed.txt`, or 'CSV … |
| `data validate` | binary | 2 | error: bad.jsonl: binary data, not a JSONL file (a NUL byte at offset 0) — fix: pass the JSONL file itself (plain UTF-8 text) |
| `data validate` | directory | 2 | error: bad.jsonl: is a folder, not a JSONL file — fix: pass the path of the .jsonl file |
| `data validate` | UTF-16 | 2 | error: bad.jsonl: UTF-16 text, not UTF-8 (expected a JSONL file) — fix: save it as UTF-8 (e.g. `iconv -f utf-16 -t utf-8 bad.jsonl > fixed.txt`, or… |
| `data import (json)` | deep JSON | 2 | error: bad.json:1: invalid JSON (nested more than 100 levels deep) — fix: repair the file |
| `data import (jsonl)` | deep JSONL | 2 | error: bad.jsonl:1: invalid JSON (nested more than 100 levels deep at column 1) — fix: repair the line, or run `tunewise data validate` to list eve… |
| `eval run --test` | deep JSONL | 2 | error: bad.jsonl:1: invalid JSON (nested more than 100 levels deep) — fix: one JSON object per line: {"messages": [{"role": "user", …}, {"role": "a… |
| `eval run --test` | deep reference | 2 | error: bad.jsonl:1: the assistant message holds JSON nested more than 100 levels deep — fix: remove or flatten that row |
| `data import (csv)` | CSV field over 128 KB | 2 | error: bad.csv:2: a field longer than 131,072 characters (far over any model's context) — fix: check the quoting on and before this line (an unclos… |
| `data import (csv)` | CSV unclosed quote | 2 | error: bad.csv:2: a field longer than 131,072 characters (far over any model's context) — fix: check the quoting on and before this line (an unclos… |
| `decide --answers` | examples: many | 2 | error: bad.yaml: `examples`: I could not read a number of examples in 'many' — fix: answer like 20, 'about 50', 'none', or the path of a file of ex… |
| `decide --answers` | examples: missing file | 2 | error: bad.yaml → nothere.jsonl: `examples`: file not found — fix: check the path |
| `decide --answers` | examples: chat rows of numbers | 2 | error: bad.yaml → rows.jsonl: `examples`: not a file of {input, output} examples or chat rows — fix: one {"input": …, "output": …} object per line … |
| `tunewise chat hi --max-tokens -5` | (flags) | 2 | Error: Invalid value for '--max-tokens': Input should be greater than or equal to 1 |
| `tunewise serve --port 70000` | (flags) | 2 | Error: Invalid value for '--port': Input should be less than or equal to 65535 |
| `tunewise serve --batch-size 0` | (flags) | 2 | Error: Invalid value for '--batch-size': Input should be greater than or equal to 1 |
| `tunewise serve --max-body-mb 0` | (flags) | 2 | Error: Invalid value for '--max-body-mb': Input should be greater than or equal to 0.001 |
| `tunewise serve --host 0.0.0.0` | (flags) | 2 | error: --host: refusing to listen on 0.0.0.0 (reachable from other machines) without an API key — fix: set TUNEWISE_SERVE_API_KEY (or --api-key) so… |
| `tunewise serve --api-key short` | (flags) | 2 | error: --api-key / TUNEWISE_SERVE_API_KEY: the API key is shorter than 8 characters — fix: use a long random key, e.g. `python -c 'import secrets; … |
| `data validate` | 24 seeded random files | 0/1 | exit 0: 1, exit 1: 23; no internal error |
| `data validate --spec` | 24 seeded random files | 2 | exit 2: 24; no internal error |
| `data import (jsonl)` | 24 seeded random files | 0/2 | exit 0: 2, exit 2: 22; no internal error |
| `data import (json)` | 24 seeded random files | 0/2 | exit 0: 1, exit 2: 23; no internal error |
| `data import (csv)` | 24 seeded random files | 0/2 | exit 0: 5, exit 2: 19; no internal error |
| `data generate --spec` | 24 seeded random files | 2 | exit 2: 24; no internal error |
| `eval run --test` | 24 seeded random files | 0/2 | exit 0: 3, exit 2: 21; no internal error |
| `run TASK` | 24 seeded random files | 2 | exit 2: 24; no internal error |
| `decide --answers` | 24 seeded random files | 0/2 | exit 0: 2, exit 2: 22; no internal error |
| `train --config` | 24 seeded random files | 2 | exit 2: 24; no internal error |
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import os
import random
from pathlib import Path

import pytest
import typer
import yaml

SEED = int(os.environ.get("TUNEWISE_FUZZ_SEED", "14"))
N = int(os.environ.get("TUNEWISE_FUZZ_N", "24"))  # random cases per command

ROW = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}
TASK = {"name": "t", "spec": "Say hello."}


# ---------------------------------------------------------------- in-process CLI
def cli(*args: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `tunewise ARGS`, run in this process like the console script."""
    from tui.cli.common import run_cli
    from tui.cli.main import app

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_cli(functools.partial(app, [str(a) for a in args], prog_name="tunewise"))
    return code, out.getvalue(), err.getvalue()


def _accepted(*_a, **_k):
    raise typer.Exit(0)  # the file passed every check; the model step after it is not under test


@pytest.fixture
def stubs(monkeypatch):
    """Steps after the file checks that would call a model end the command with exit 0."""
    apply_stubs(monkeypatch)


def apply_stubs(monkeypatch) -> None:
    import tools.data.pipeline
    import tools.evals.run
    import tools.evals.systems
    from tui.cli import agent_cmd

    monkeypatch.setattr(agent_cmd, "_claim_run", _accepted)  # run TASK: the loop
    monkeypatch.setattr(tools.data.pipeline, "build_dataset", _accepted)  # data generate
    monkeypatch.setattr(tools.evals.systems, "build_systems", lambda *a, **k: [])
    monkeypatch.setattr(tools.evals.run, "evaluate", _accepted)  # eval run --test


@pytest.fixture
def run_with_data(workspace):
    """A run `r1` with a data version and a task (for eval run --test and train --config)."""
    return make_run(workspace)


def make_run(workspace):
    from tools.workspace import atomic_write_jsonl, atomic_write_yaml

    run = workspace.create_run("r1", run_id="r1")
    atomic_write_yaml(run.spec_path, TASK)
    rows = [
        {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]}
        for i in range(8)
    ]
    for split in ("train", "val", "test"):
        atomic_write_jsonl(run.path / "data" / "v1" / f"{split}.jsonl", rows)
    return run


# Each command that reads a person's file: (name, argv with {f} for the file, file suffix, a valid file).
TARGETS = {
    "data validate": (["data", "validate", "{f}", "--no-tokens", "--min-examples", "1"], ".jsonl"),
    "data validate --spec": (
        ["data", "validate", "good.jsonl", "--no-tokens", "--min-examples", "1", "--spec", "{f}"],
        ".yaml",
    ),
    "data import (jsonl)": (["data", "import", "{f}"], ".jsonl"),
    "data import (json)": (["data", "import", "{f}"], ".json"),
    "data import (csv)": (["data", "import", "{f}"], ".csv"),
    "data generate --spec": (["data", "generate", "--spec", "{f}"], ".yaml"),
    "eval run --test": (["eval", "run", "r1", "--test", "{f}", "--no-judge"], ".jsonl"),
    "run TASK": (["run", "{f}", "--yes"], ".yaml"),
    "decide --answers": (["decide", "--answers", "{f}", "--no-probe", "--json"], ".yaml"),
    "train --config": (["train", "r1", "--config", "{f}", "--dry-run"], ".yaml"),
}

VALID = {
    ".jsonl": "".join(
        json.dumps(
            {
                "messages": [
                    {"role": "user", "content": f"hi {w}"},
                    {"role": "assistant", "content": f"hello {w}"},
                ]
            }
        )
        + "\n"
        for w in ("Ann", "Bob", "Cy")
    ),
    ".json": json.dumps([{"instruction": "hi", "output": "hello"}] * 3),
    ".csv": "input,output\nhi,hello\nbye,goodbye\n",
    ".yaml": yaml.safe_dump(
        {**TASK, "examples": [{"input": "hi", "output": "hello"}], "output": {"format": "text"}}
    ),
}
VALID_BY_TARGET = {
    "decide --answers": yaml.safe_dump({"spec": "Say hello.", "examples": 3, "goals": ["format"]}),
    "train --config": yaml.safe_dump({"lora_r": 16, "learning_rate": 2e-4}),
}


def _prepare(tmp_path: Path) -> None:
    (tmp_path / "good.jsonl").write_text(VALID[".jsonl"])
    (tmp_path / "task.yaml").write_text(yaml.safe_dump(TASK))


def _argv(target: str, path: Path) -> list[str]:
    return [a.replace("{f}", str(path)) for a in TARGETS[target][0]]


def _assert_no_crash(code: int, out: str, err: str, what: str) -> None:
    assert code in (0, 1, 2), f"{what}: exit {code}\n{err[-2000:]}"
    assert "internal error" not in err, f"{what}: {err[-2000:]}"
    assert "Traceback" not in out + err, f"{what}: {(out + err)[-2000:]}"


# ---------------------------------------------------------------- the bad files the issue names
def _deep_json() -> bytes:
    return ("[" * 100_000 + "]" * 100_000).encode()


def _deep_jsonl() -> bytes:
    return ('{"messages": ' + "[" * 100_000 + "]" * 100_000 + "}\n").encode()


BAD_FILES = {
    # name: (bytes or "dir", the fragment the one error line says)
    "binary": (bytes(range(256)) * 8, "binary data"),
    "directory": ("dir", "is a folder"),
    "unreadable": ("unreadable", "permission denied"),
    "deep JSON": (_deep_json(), "nested more than 100 levels deep"),
    "Latin-1": ("input,output\ncafé,olé\n".encode("latin-1"), "not UTF-8 text"),
    "UTF-16": ("input,output\nhi,hello\n".encode("utf-16"), "UTF-16"),
}

BAD_CASES = [
    # (target, bad file, fragment of the error line; None: the BAD_FILES fragment)
    *[
        (t, b, None)
        for t in ("run TASK", "decide --answers", "train --config", "data generate --spec")
        for b in BAD_FILES
    ],
    *[(t, b, None) for t in ("eval run --test", "data import (jsonl)") for b in BAD_FILES],
    *[("data import (csv)", b, None) for b in BAD_FILES if b != "deep JSON"],
    ("data validate", "binary", None),
    ("data validate", "directory", None),
    ("data validate", "UTF-16", None),
    ("data import (json)", "deep JSON", None),
    ("data import (jsonl)", "deep JSONL", "nested more than 100 levels deep"),
    ("eval run --test", "deep JSONL", "nested more than 100 levels deep"),
    ("eval run --test", "deep reference", "the assistant message holds JSON nested more than 100"),
    ("data import (csv)", "CSV field over 128 KB", "a field longer than 131,072 characters"),
    ("data import (csv)", "CSV unclosed quote", "an unclosed quote"),
    ("decide --answers", "examples: many", "I could not read a number of examples in 'many'"),
    ("decide --answers", "examples: missing file", "`examples`: file not found"),
    ("decide --answers", "examples: chat rows of numbers", "`examples`: not a file of {input, output}"),
]


def _bad_bytes(name: str) -> bytes | str:
    extra = {
        "deep JSONL": _deep_jsonl(),
        "deep reference": json.dumps(  # the reference answer is JSON nested 5000 deep: the metrics parse it
            {
                "messages": [
                    {"role": "user", "content": "x"},
                    {"role": "assistant", "content": "[" * 5000 + "]" * 5000},
                ]
            }
        ).encode(),
        "CSV field over 128 KB": b"input,output\nhi," + b"x" * 140_000 + b"\n",
        "CSV unclosed quote": b'input,output\nhi,"hello\n' + b"more text, " * 15_000 + b"\n",
        "examples: many": b"spec: Say hello.\nexamples: many\n",
        "examples: missing file": b"spec: Say hello.\nexamples: nothere.jsonl\n",
        "examples: chat rows of numbers": b"spec: Say hello.\nexamples: rows.jsonl\n",
    }
    return extra[name] if name in extra else BAD_FILES[name][0]


def _write_bad(tmp_path: Path, target: str, name: str, monkeypatch) -> Path:
    path = tmp_path / f"bad{TARGETS[target][1]}"
    content = _bad_bytes(name)
    if content == "dir":
        path.mkdir()
    elif content == "unreadable":
        path.write_text(VALID_BY_TARGET.get(target, VALID[TARGETS[target][1]]))
        path.chmod(0)
        if os.access(path, os.R_OK):  # root reads anything: make the read fail as it would for a user
            real = Path.read_bytes

            def read_bytes(self):
                if self == path:
                    raise PermissionError(13, "Permission denied", str(self))
                return real(self)

            monkeypatch.setattr(Path, "read_bytes", read_bytes)
    else:
        path.write_bytes(content)
    (tmp_path / "rows.jsonl").write_text('{"messages": [1, 2]}\n')
    return path


@pytest.mark.parametrize("target, bad, fragment", BAD_CASES, ids=[f"{t}:{b}" for t, b, _ in BAD_CASES])
def test_bad_files_get_one_line_where_what_how_and_exit_2(
    tmp_path, monkeypatch, stubs, run_with_data, target, bad, fragment
):
    _prepare(tmp_path)
    path = _write_bad(tmp_path, target, bad, monkeypatch)
    code, out, err = cli(*_argv(target, path))
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2, (code, out, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    line = lines[0]
    assert (fragment or BAD_FILES[bad][1]) in line, line
    assert path.name in line  # where
    assert " — fix: " in line  # how
    _assert_no_crash(code, out, err, f"{target}:{bad}")


# ---------------------------------------------------------------- a byte-order mark is not data
@pytest.mark.parametrize(
    "target", ["data validate", "data import (jsonl)", "data import (csv)", "eval run --test"]
)
def test_a_utf8_bom_is_dropped(tmp_path, stubs, run_with_data, target):
    _prepare(tmp_path)
    path = tmp_path / f"bom{TARGETS[target][1]}"
    path.write_bytes(b"\xef\xbb\xbf" + VALID[TARGETS[target][1]].encode())
    code, out, err = cli(*_argv(target, path))
    assert code == 0, (out, err)
    if target.startswith("data import"):
        from tools.workspace import Workspace

        run = Workspace().get_run(json_run_id(out))
        rows = [json.loads(x) for x in (run.path / "data" / "v1" / "train.jsonl").read_text().splitlines()]
        assert all("\ufeff" not in json.dumps(r) for r in rows)


def json_run_id(out: str) -> str:
    return out.split("run ", 1)[1].split(":", 1)[0].strip()


def test_csv_bom_names_the_first_column_right(tmp_path):
    from tools.data.convert import import_file

    p = tmp_path / "x.csv"
    p.write_bytes(b"\xef\xbb\xbfinput,output\nhi,hello\n")
    rows = import_file(p)
    assert rows[0]["messages"][0]["content"] == "hi"


# ---------------------------------------------------------------- the seeded fuzz
KEYS = [
    "messages", "role", "content", "spec", "name", "examples", "input", "output", "instruction",
    "conversations", "from", "value", "training", "learning_rate", "lora_r", "format", "schema",
    "labels", "regex", "budget", "n_examples", "goals", "volume", "inputs", "documents", "system_prompt",
    "teacher", "provider", "base_url", "success", "axes", "prompted_success", "knowledge_needed",
    "problem", "constraints", "max_iterations", "general_share", "method", "prompt", "completion",
    "text", "answer", "label", "type", "properties", "required",
]  # fmt: skip
WORDS = ["user", "assistant", "system", "json", "label", "text", "embedded", "qlora", "lora", "", "5", "-1"]


def _scalar(rng: random.Random):
    return rng.choice(
        [
            None,
            True,
            False,
            0,
            -1,
            rng.randint(-(10**12), 10**12),
            rng.random() * 10,
            1e308,
            rng.choice(WORDS),
            rng.choice(KEYS),
            "".join(
                rng.choice("abc {}[]\"':,#&*!|>\\\n\t\u00e9\u4e2d\U0001f600")
                for _ in range(rng.randint(0, 30))
            ),
            "x" * rng.randint(0, 3000),
        ]
    )


def _structure(rng: random.Random, depth: int = 0):
    r = rng.random()
    if depth >= 5 or r < 0.35:
        return _scalar(rng)
    if r < 0.6:
        return [_structure(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {
        (rng.choice(KEYS) if rng.random() < 0.85 else str(_scalar(rng))): _structure(rng, depth + 1)
        for _ in range(rng.randint(0, 5))
    }


def _chat_like(rng: random.Random):
    msgs = [
        {
            rng.choice(["role", "content", "from"]): rng.choice(WORDS),
            "content": _structure(rng, 3) if rng.random() < 0.3 else _scalar(rng),
            **({"role": rng.choice(["user", "assistant", "system", "bot"])} if rng.random() < 0.8 else {}),
        }
        for _ in range(rng.randint(0, 4))
    ]
    return {"messages": msgs} if rng.random() < 0.8 else {rng.choice(KEYS): msgs}


def _mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.random()
        i = rng.randrange(len(b) + 1)
        if op < 0.3 and b:
            del b[min(i, len(b) - 1)]
        elif op < 0.6:
            b[i:i] = bytes([rng.randrange(256)])
        elif op < 0.8 and b:
            b[min(i, len(b) - 1)] = rng.choice(b'{}[]":,\n\\\x00#&*|-')
        else:
            b = b[:i]
    return bytes(b)


def fuzz_cases(rng: random.Random, suffix: str, valid: str) -> list[bytes]:
    """N files for one command: random bytes, random text, random structures, mutations of a valid file."""
    out = []
    for k in range(N):
        kind = k % 6
        if kind == 0:
            data = rng.randbytes(rng.randint(0, 600))
        elif kind == 1:
            data = "".join(
                rng.choice("ab: -{}[]\",\n\t#&*!|>'\\\u00e9") for _ in range(rng.randint(0, 400))
            ).encode("utf-8", "replace")
        elif kind == 2:
            value = _structure(rng)
            data = _render(rng, value, suffix)
        elif kind == 3:
            data = _render(rng, _chat_like(rng), suffix)
        elif kind == 4 or suffix == ".csv":
            data = _mutate(rng, valid.encode())
        else:  # a valid file with one random field changed
            doc = yaml.safe_load(valid) if suffix in (".yaml", ".json") else json.loads(valid.splitlines()[0])
            if isinstance(doc, dict):
                doc[rng.choice(KEYS)] = _structure(rng, 2)
            elif isinstance(doc, list):
                doc[0] = _structure(rng, 2)
            data = _render(rng, doc, suffix)
        if rng.random() < 0.1:
            data = b"\xef\xbb\xbf" + data
        out.append(data)
    return out


def _render(rng: random.Random, value, suffix: str) -> bytes:
    if suffix == ".yaml":
        return yaml.safe_dump(value, allow_unicode=True).encode()
    if suffix == ".csv":
        import csv

        buf = io.StringIO()
        w = csv.writer(buf)
        cells = (
            value if isinstance(value, list) else list(value.items()) if isinstance(value, dict) else [value]
        )
        w.writerow(rng.choice([["input", "output"], ["prompt", "answer"], ["a"], []]))
        for c in cells:
            w.writerow(list(c) if isinstance(c, (list, tuple)) else [c, c])
        return buf.getvalue().encode()
    if suffix == ".jsonl":
        lines = [value] + ([_chat_like(rng) for _ in range(rng.randint(0, 3))])
        return "".join(json.dumps(v, ensure_ascii=rng.random() < 0.5) + "\n" for v in lines).encode()
    return json.dumps(value).encode()


@pytest.fixture
def one_tokenizer_load(monkeypatch):
    """`train --dry-run` loads the tokenizer for every accepted config: load it once for the whole stream."""
    from transformers import AutoTokenizer

    real, loaded = AutoTokenizer.from_pretrained, {}

    def from_pretrained(*args, **kw):
        key = repr((args, sorted(kw.items())))
        if key not in loaded:
            loaded[key] = real(*args, **kw)
        return loaded[key]

    monkeypatch.setattr(AutoTokenizer, "from_pretrained", from_pretrained)


@pytest.mark.parametrize("target", list(TARGETS))
def test_random_files_never_end_in_an_internal_error(tmp_path, request, stubs, run_with_data, target):
    if target == "train --config":
        request.getfixturevalue("one_tokenizer_load")
    _prepare(tmp_path)
    suffix = TARGETS[target][1]
    valid = VALID_BY_TARGET.get(target, VALID[suffix])
    rng = random.Random(f"{SEED}:{target}")
    codes: dict[int, int] = {}
    for i, data in enumerate(fuzz_cases(rng, suffix, valid)):
        path = tmp_path / f"fuzz{i}{suffix}"
        path.write_bytes(data)
        code, out, err = cli(*_argv(target, path))
        _assert_no_crash(code, out, err, f"{target} case {i} ({data[:200]!r})")
        codes[code] = codes.get(code, 0) + 1
    refused = sum(n for code, n in codes.items() if code != 0)
    assert refused >= N // 2, codes  # the stream does reach the checks: most random files are refused


def test_the_valid_files_are_accepted(tmp_path, stubs, run_with_data):
    """The seeds of the mutations pass every command (so a mutation that breaks them is the cause)."""
    _prepare(tmp_path)
    for target, (_argv_t, suffix) in TARGETS.items():
        path = tmp_path / f"valid{suffix}"
        path.write_text(VALID_BY_TARGET.get(target, VALID[suffix]))
        code, out, err = cli(*_argv(target, path))
        assert code == 0, (target, out, err)


# ---------------------------------------------------------------- the table in this module's docstring
USAGE_CASES = [
    ["chat", "hi", "--max-tokens", "-5"],
    ["serve", "--port", "70000"],
    ["serve", "--batch-size", "0"],
    ["serve", "--max-body-mb", "0"],
    ["serve", "--host", "0.0.0.0"],
    ["serve", "--api-key", "short"],
]


def _short(line: str, tmp: str) -> str:
    line = line.replace(tmp + "/", "").replace("|", "\\|")
    return line if len(line) <= 150 else line[:147] + "…"


def cases_table() -> str:
    """Run every case above (and the seeded stream) and return the markdown table of what happened."""
    import tempfile

    rows = ["| command | file / flags | exit | what the person reads (stderr) |", "|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        tmp_path = Path(tmp).resolve()
        mp.chdir(tmp_path)
        mp.setenv("TUNEWISE_HOME", str(tmp_path))
        mp.delenv("TUNEWISE_SERVE_API_KEY", raising=False)
        from tools.workspace import Workspace

        apply_stubs(mp)
        make_run(Workspace(tmp_path).ensure())
        _prepare(tmp_path)
        for target, bad, _fragment in BAD_CASES:
            with pytest.MonkeyPatch.context() as mp2:
                path = _write_bad(tmp_path, target, bad, mp2)
                code, out, err = cli(*_argv(target, path))
            (path.rmdir() if path.is_dir() else path.unlink()) if path.exists() else None
            line = next((ln for ln in err.splitlines() if ln.strip()), "")
            rows.append(f"| `{target}` | {bad} | {code} | {_short(line, str(tmp_path))} |")
        for argv in USAGE_CASES:
            code, out, err = cli(*argv)
            line = next((ln for ln in err.splitlines() if ln.startswith(("Error", "error"))), "")
            rows.append(f"| `tunewise {' '.join(argv)}` | (flags) | {code} | {_short(line, str(tmp_path))} |")
        for target in TARGETS:
            suffix = TARGETS[target][1]
            rng = random.Random(f"{SEED}:{target}")
            codes: dict[int, int] = {}
            for i, data in enumerate(fuzz_cases(rng, suffix, VALID_BY_TARGET.get(target, VALID[suffix]))):
                path = tmp_path / f"fuzz{i}{suffix}"
                path.write_bytes(data)
                code, out, err = cli(*_argv(target, path))
                assert "internal error" not in err and "Traceback" not in out + err
                codes[code] = codes.get(code, 0) + 1
            summary = ", ".join(f"exit {c}: {n}" for c, n in sorted(codes.items()))
            rows.append(
                f"| `{target}` | {N} seeded random files | {'/'.join(map(str, sorted(codes)))} | {summary}; no internal error |"
            )
    return "\n".join(rows)


if __name__ == "__main__":  # python -m tests.test_cli_fuzz  → the table for the docstring
    print(cases_table())
