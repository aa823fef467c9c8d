"""Import round-trips: Alpaca, ShareGPT, CSV and chat JSONL into canonical rows and back."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tools.data.convert import detect_format, export_rows, import_file
from tools.errors import UserError


def _write(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_alpaca_round_trip(tmp_path):
    src = _write(
        tmp_path / "a.jsonl",
        [
            {"instruction": "Translate to French", "input": "cat", "output": "chat"},
            {"instruction": "Say hi", "input": "", "output": "Hi!"},
        ],
    )
    assert detect_format(src) == "alpaca"
    rows = import_file(src, system="Be brief.")
    assert rows[0]["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Translate to French\n\ncat"},
        {"role": "assistant", "content": "chat"},
    ]
    assert rows[1]["messages"][1]["content"] == "Say hi"
    assert rows[0]["metadata"]["source"] == "import" and len(rows[0]["metadata"]["id"]) == 32
    out = export_rows(rows, tmp_path / "back.jsonl", "alpaca")
    again = import_file(out)
    assert [r["messages"] for r in again] == [r["messages"] for r in rows]


def test_sharegpt_round_trip_json_array(tmp_path):
    src = tmp_path / "s.json"
    src.write_text(
        json.dumps(
            [
                {
                    "conversations": [
                        {"from": "system", "value": "Be kind."},
                        {"from": "human", "value": "Hello"},
                        {"from": "gpt", "value": "Hi, how can I help?"},
                        {"from": "human", "value": "Nothing"},
                        {"from": "gpt", "value": "Okay!"},
                    ]
                }
            ]
        )
    )
    rows = import_file(src)
    assert [m["role"] for m in rows[0]["messages"]] == ["system", "user", "assistant", "user", "assistant"]
    back = import_file(export_rows(rows, tmp_path / "s2.jsonl", "sharegpt"))
    assert back[0]["messages"] == rows[0]["messages"]


def test_csv_with_chosen_columns(tmp_path):
    src = tmp_path / "d.csv"
    src.write_text('text,label,notes\n"I love it, really",positive,x\n"Awful",negative,y\n')
    rows = import_file(src, input_col="text", output_col="label")
    assert [(r["messages"][0]["content"], r["messages"][1]["content"]) for r in rows] == [
        ("I love it, really", "positive"),
        ("Awful", "negative"),
    ]
    with pytest.raises(UserError) as e:
        import_file(src, input_col="body", output_col="label")
    assert "d.csv:1" in e.value.one_line() and "--input-col" in e.value.one_line()


def test_chat_jsonl_keeps_metadata_and_stable_ids(tmp_path):
    row = {
        "messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": "4"}],
        "metadata": {"source": "seed", "category": "math"},
    }
    rows = import_file(_write(tmp_path / "c.jsonl", [row]))
    assert rows[0]["metadata"]["source"] == "seed" and rows[0]["metadata"]["category"] == "math"
    again = import_file(export_rows(rows, tmp_path / "c2.jsonl"))
    assert again == rows  # canonical → canonical is the identity, ids included


def test_bad_line_names_file_and_line(tmp_path):
    src = tmp_path / "bad.jsonl"
    src.write_text('{"instruction": "a", "output": "b"}\n{"instruction": "c", "output": \n')
    with pytest.raises(UserError) as e:
        import_file(src)
    assert "bad.jsonl:2" in e.value.one_line()


def test_cli_import_writes_a_version(tmp_path):
    src = _write(
        tmp_path / "a.jsonl",
        [
            {"instruction": f"Question number {i} about {w}", "input": "", "output": f"Answer {i}"}
            for i, w in enumerate("abcdefghijklmnopqrst")
        ],
    )
    exe = str(Path(sys.executable).parent / "tunewise")
    res = subprocess.run(
        [exe, "data", "import", str(src), "--run", "imp"], capture_output=True, text=True, cwd=tmp_path
    )
    assert res.returncode == 0, res.stderr
    data = tmp_path / ".tunewise" / "runs" / "imp" / "data" / "v1"
    manifest = json.loads((data / "manifest.json").read_text())
    assert sum(manifest["counts"][s] for s in ("train", "val", "test")) == 20
    assert manifest["sources"][0]["kind"] == "import"
    bad = subprocess.run(
        [exe, "data", "import", str(tmp_path / "missing.csv")], capture_output=True, text=True, cwd=tmp_path
    )
    assert bad.returncode == 2 and "file not found" in bad.stderr
