"""`tunewise export RUN --gguf`: a GGUF written by the `gguf` package alone (no llama.cpp checkout), read back by
transformers, gives the merged model's next-token logits; the Modelfile and README say how to serve it.

Measured against the fp32 merged safetensors (logits of magnitude ~20-30), on the embedded model and on this
test's merged model: f16 max |Δlogit| 0.017-0.027 with the same top-5 tokens; q8_0 0.33-0.63 with the same
top-1 token. The test allows 0.1 (f16) and 1.5 (q8_0).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

SYSTEM = "Reply with the city as JSON."
PROMPTS = [
    [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "I flew to Oslo last week."}],
    [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Anna moved to Porto in 2019."}],
]
RAW = ["The capital of France is", "def fibonacci(n):"]
F16_TOL, Q8_TOL = 0.1, 1.5


def tunewise(*args: str, cwd, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tui.cli.main", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture(scope="module")
def exported(tmp_path_factory, embedded_dir):
    """A run with a (non-trivial, untrained) LoRA adapter, exported through the CLI with --gguf --outtype f16."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    from tools.workspace import Workspace

    home = tmp_path_factory.mktemp("ggufws")
    ws = Workspace(home).ensure()
    run = ws.create_run("gguf", run_id="ggufrun")
    out = run.path / "train" / "v1"
    out.mkdir(parents=True)
    torch.manual_seed(0)
    base = AutoModelForCausalLM.from_pretrained(str(embedded_dir), dtype=torch.float32)
    peft = get_peft_model(base, LoraConfig(r=4, lora_alpha=8, target_modules="all-linear"))
    with torch.no_grad():  # B starts at zero (a no-op adapter): give it small weights so the merge matters
        for name, p in peft.named_parameters():
            if "lora_B" in name:
                p.normal_(0, 0.05)
    peft.save_pretrained(str(out / "adapter"))
    (out / "config.json").write_text(json.dumps({"model": "embedded", "system_prompt": SYSTEM}))
    env = {**os.environ, "TUNEWISE_HOME": str(home)}
    res = tunewise("export", "ggufrun", "v1", "--gguf", "--outtype", "f16", "--json", cwd=home, env=env)
    assert res.returncode == 0, res.stderr[-2000:]
    return run, json.loads(res.stdout), env


def _logits(model, tok, texts):
    import torch

    rows = []
    with torch.no_grad():
        for t in texts:
            ids = tok(t, return_tensors="pt")
            rows.append(model(**ids).logits[0, -1])
    return rows


def _texts(tok):
    return RAW + [tok.apply_chat_template(m, tokenize=False, add_generation_prompt=True) for m in PROMPTS]


def test_export_writes_gguf_with_tokenizer_and_modelfile(exported):
    import gguf

    run, info, _ = exported
    out = run.path / "export"
    assert info["gguf"] == "model.gguf" and info["gguf_note"] is None
    gi = info["gguf_info"]
    assert (
        gi["outtype"] == "f16"
        and gi["tokenizer_pre"] == "smollm"
        and gi["tensors"] == {"F16": 211, "F32": 61}
    )
    assert 250e6 < (out / "model.gguf").stat().st_size < 290e6  # 134.5M parameters in f16, tied embeddings

    r = gguf.GGUFReader(str(out / "model.gguf"))
    f = {
        k: v.contents()
        for k, v in r.fields.items()
        if not k.startswith(("tokenizer.ggml.tokens", "tokenizer.ggml.merges", "tokenizer.ggml.token_type"))
    }
    assert f["general.architecture"] == "llama" and f["llama.block_count"] == 30
    assert f["llama.attention.head_count"] == 9 and f["llama.attention.head_count_kv"] == 3
    assert f["tokenizer.ggml.model"] == "gpt2" and f["tokenizer.ggml.pre"] == "smollm"
    assert f["tokenizer.ggml.eos_token_id"] == 2 and f["tokenizer.ggml.padding_token_id"] == 2
    assert f["tokenizer.ggml.add_bos_token"] is False
    assert "<|im_start|>" in f["tokenizer.chat_template"]
    assert len(r.fields["tokenizer.ggml.merges"].data) == 48900
    assert "output.weight" not in {t.name for t in r.tensors}  # tied: llama.cpp reuses token_embd

    modelfile = (out / "Modelfile").read_text()
    assert modelfile.startswith("FROM ./model.gguf\n")
    assert 'TEMPLATE """' in modelfile and 'PARAMETER stop "<|im_end|>"' in modelfile and SYSTEM in modelfile
    readme = (out / "README.md").read_text()
    for line in ("ollama create ggufrun -f Modelfile", "ollama run ggufrun", "vllm serve ", "/merged"):
        assert line in readme
    assert any(s.startswith("vllm serve") and s.split()[2].endswith("export/merged") for s in info["serve"])


def test_f16_gguf_gives_the_merged_models_logits(exported, embedded_dir):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    run, _, _ = exported
    out = run.path / "export"
    merged = AutoModelForCausalLM.from_pretrained(str(out / "merged"), dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(str(out / "merged"))
    g = AutoModelForCausalLM.from_pretrained(str(out), gguf_file="model.gguf", dtype=torch.float32)
    gtok = AutoTokenizer.from_pretrained(str(out), gguf_file="model.gguf")
    texts = _texts(tok)
    # the tokenizer came along: same ids for plain text and for the chat template's rendering
    assert gtok.chat_template == tok.chat_template
    assert _texts(gtok) == texts
    for t in texts:
        assert gtok(t)["input_ids"] == tok(t)["input_ids"]
    base = AutoModelForCausalLM.from_pretrained(str(embedded_dir), dtype=torch.float32)
    for a, b, c in zip(
        _logits(merged, tok, texts), _logits(g, tok, texts), _logits(base, tok, texts), strict=True
    ):
        assert (a - c).abs().max() > 5 * F16_TOL  # the adapter changed the model: the test can tell
        assert (a - b).abs().max() < F16_TOL
        assert a.topk(3).indices.tolist() == b.topk(3).indices.tolist()


def test_q8_0_gguf_is_close(exported, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tools.train.to_gguf import write_gguf

    run, _, _ = exported
    merged_dir = run.path / "export" / "merged"
    info = write_gguf(merged_dir, tmp_path / "q8.gguf", "q8_0")
    assert info["tensors"] == {"Q8_0": 211, "F32": 61} and info["bytes"] < 150e6
    merged = AutoModelForCausalLM.from_pretrained(str(merged_dir), dtype=torch.float32)
    tok = AutoTokenizer.from_pretrained(str(merged_dir))
    g = AutoModelForCausalLM.from_pretrained(str(tmp_path), gguf_file="q8.gguf", dtype=torch.float32)
    texts = _texts(tok)
    for a, b in zip(_logits(merged, tok, texts), _logits(g, tok, texts), strict=True):
        assert (a - b).abs().max() < Q8_TOL
        assert b.argmax().item() in a.topk(3).indices.tolist()
        assert torch.corrcoef(torch.stack([a, b]))[0, 1] > 0.999


def test_other_architectures_keep_the_clear_message(tmp_path, monkeypatch):
    from tools.train.export import _write_gguf
    from tools.train.to_gguf import unsupported_reason

    monkeypatch.delenv("LLAMA_CPP_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/llama.cpp
    d = tmp_path / "m"
    d.mkdir()
    (d / "config.json").write_text(json.dumps({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"}))
    assert "Llama-architecture models only" in unsupported_reason(d)
    path, note, info = _write_gguf(d, tmp_path / "model.gguf", "f16", "r")
    assert path is None and info is None
    assert "convert_hf_to_gguf.py" in note and "LLAMA_CPP_DIR" in note and "GPT2LMHeadModel" in note


def test_bad_outtype_is_one_line_exit_2(exported):
    run, _, env = exported
    res = tunewise("export", "ggufrun", "--outtype", "q3_k", cwd=run.workspace.path.parent, env=env)
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "--outtype" in res.stderr and "q8_0" in res.stderr and len(res.stderr.strip().splitlines()) == 1
