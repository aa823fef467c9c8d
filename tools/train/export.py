"""Export a trained adapter: merged standalone model, the adapter alone, an Ollama Modelfile, GGUF.

export_run(run, "v2") → runs/<id>/export/
    merged/        base + adapter merged (`merge_and_unload`), a plain HF directory
    adapter/       the LoRA adapter alone (apply with --adapter on the same base)
    model.gguf     Llama-architecture students: written by tools/train/to_gguf.py with the `gguf` package
                   (f16 or q8_0, tokenizer and chat template included, no llama.cpp checkout); other
                   architectures: llama.cpp's `convert_hf_to_gguf.py` when available (LLAMA_CPP_DIR or PATH)
    Modelfile      for `ollama create` (FROM ./model.gguf when there is one, the chat template, stop tokens)
    README.md      how to serve each of them
    export.json    what was exported from where, and what was skipped and why
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tools.errors import UserError
from tools.workspace import Run, as_run, atomic_write_json, atomic_write_text, read_json

CHATML_TEMPLATE = (
    "{{- if .System }}<|im_start|>system\n{{ .System }}<|im_end|>\n{{ end }}"
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
    "<|im_start|>assistant\n"
)


def find_gguf_converter() -> Path | None:
    """llama.cpp's converter: $LLAMA_CPP_DIR/convert_hf_to_gguf.py, on PATH, or in ~/llama.cpp."""
    candidates = []
    if os.environ.get("LLAMA_CPP_DIR"):
        candidates.append(Path(os.environ["LLAMA_CPP_DIR"]) / "convert_hf_to_gguf.py")
    which = shutil.which("convert_hf_to_gguf.py") or shutil.which("convert-hf-to-gguf.py")
    if which:
        candidates.append(Path(which))
    candidates += [
        Path.home() / "llama.cpp" / "convert_hf_to_gguf.py",
        Path("/opt/llama.cpp/convert_hf_to_gguf.py"),
    ]
    return next((c for c in candidates if c.is_file()), None)


GGUF_OUTTYPES = ("f16", "q8_0", "f32")

GGUF_MISSING = (
    "GGUF skipped: llama.cpp's convert_hf_to_gguf.py was not found (looked in $LLAMA_CPP_DIR, PATH, "
    "~/llama.cpp, /opt/llama.cpp). To get it: `git clone https://github.com/ggml-org/llama.cpp` and "
    "set LLAMA_CPP_DIR to that checkout (its Python needs: gguf, numpy, torch, transformers, "
    "sentencepiece), then rerun `tunewise export`."
)


def ollama_name(run_id: str) -> str:
    """An Ollama model name from a run id: lowercase letters, digits, '.', '_' and '-' only."""
    import re

    return re.sub(r"[^a-z0-9._-]+", "-", run_id.lower())[:40].strip("-._") or "tunewise"


def stop_tokens(chat_template: str | None, eos_token: str | None) -> list[str]:
    """The strings that end an answer: ChatML's markers when the template is ChatML, and the eos token."""
    out = ["<|im_end|>", "<|im_start|>"] if chat_template and "<|im_start|>" in chat_template else []
    if eos_token and eos_token not in out:
        out.append(eos_token)
    return out


def modelfile_text(
    source: str, system_prompt: str | None, chat_template: str | None, eos_token: str | None = None
) -> str:
    lines = [f"FROM {source}"]
    if chat_template and "<|im_start|>" in chat_template:
        lines.append(f'TEMPLATE """{CHATML_TEMPLATE}"""')
    else:
        lines.append("# no TEMPLATE: Ollama reads the chat template from the model's metadata")
    lines += [f'PARAMETER stop "{t}"' for t in stop_tokens(chat_template, eos_token)]
    if system_prompt:
        lines.append('SYSTEM """' + system_prompt.replace('"""', "'''") + '"""')
    lines.append("PARAMETER temperature 0")
    return "\n".join(lines) + "\n"


def serve_lines(out: Path | str, run_id: str, gguf: str | None) -> list[str]:
    """The commands that serve an export: Ollama (from the Modelfile), vLLM and tunewise (the merged folder)."""
    name = ollama_name(run_id)
    return [
        f"cd {out} && ollama create {name} -f Modelfile",
        f"ollama run {name}",
        f"vllm serve {out}/merged --served-model-name {name}",
        f"tunewise serve --model {out}/merged",
    ] + ([f"llama-server -m {out}/{gguf}"] if gguf else [])


def readme_text(
    run: Run, version: str, base: str, gguf: str | None, gguf_note: str | None, gguf_desc: str | None = None
) -> str:
    out = f"runs/{run.id}/export"
    create, run_cmd, vllm, _, *llama = serve_lines(out, run.id, gguf)
    modelfile_from = (
        "`model.gguf`" if gguf else "`merged/` (Ollama imports safetensors for some architectures)"
    )
    return f"""# Export of run {run.id}, training {version}

Base model: `{base}`. Everything here is standalone: no hub access is needed to use it.

| path | what | use |
|---|---|---|
| `merged/` | base + LoRA merged into one Hugging Face model | `tunewise serve --model {out}/merged` |
| `adapter/` | the LoRA adapter alone | `tunewise serve --model {base} --adapter {out}/adapter` |
| `Modelfile` | Ollama recipe: FROM {modelfile_from}, chat template, stop tokens, system prompt | `{create}` |
| `model.gguf` | llama.cpp / Ollama weights{(" (" + gguf_desc + ")") if gguf_desc else ""} | {"`" + llama[0] + "`" if llama else "not built (see below)"} |

Ollama:

    {create}
    {run_cmd}

vLLM (the merged folder is a plain Hugging Face model):

    {vllm}

tunewise itself, as an OpenAI-compatible API, and ask it something:

    tunewise serve --model {out}/merged --port 8000
    curl http://127.0.0.1:8000/v1/chat/completions -H 'content-type: application/json' \\
      -d '{{"model": "merged", "messages": [{{"role": "user", "content": "hello"}}]}}'

One-shot from the terminal: `tunewise chat --model {out}/merged "hello"`.
Always send the task's system prompt (it is in the Modelfile's SYSTEM line): the model was trained with it.
{("" if gguf else chr(10) + (gguf_note or "") + chr(10))}"""


def _write_gguf(
    merged: Path, out: Path, outtype: str, run_id: str
) -> tuple[str | None, str | None, dict | None]:
    """(file name, note, info): the built-in writer for Llama students, else llama.cpp's converter if present."""
    from tools.train.to_gguf import unsupported_reason, write_gguf

    reason = unsupported_reason(merged)
    if reason is None:
        info = write_gguf(merged, out, outtype, name=run_id)
        return out.name, None, {**info, "path": out.name}
    conv = find_gguf_converter()
    if conv is None:
        return None, f"{GGUF_MISSING} (The built-in writer was not used: {reason}.)", None
    res = subprocess.run(
        [sys.executable, str(conv), str(merged), "--outfile", str(out), "--outtype", outtype],
        capture_output=True,
        text=True,
    )
    if res.returncode == 0 and out.exists():
        return (
            out.name,
            None,
            {"path": out.name, "outtype": outtype, "bytes": out.stat().st_size, "writer": str(conv)},
        )
    return None, f"GGUF conversion with {conv} failed: {(res.stderr or res.stdout)[-600:].strip()}", None


def export_run(
    run: Run | str, version: str | None = None, *, gguf: bool = True, gguf_outtype: str = "f16"
) -> Path:
    """Write `runs/<id>/export/` from `train/<version>/adapter` (default: the latest training).

    gguf_outtype: f16 | q8_0 | f32 for the built-in writer (Llama-architecture students); llama.cpp's converter
    takes the same names for other architectures."""
    if gguf and gguf_outtype not in GGUF_OUTTYPES:
        raise UserError(
            f"unknown GGUF type {gguf_outtype!r}",
            where="--outtype",
            fix=f"choose one of {', '.join(GGUF_OUTTYPES)} (f16 keeps the weights; q8_0 is half the size)",
        )
    from tools.llm.embedded import resolve_model_path

    run = as_run(run)
    train_dir = run.version_dir("train", version)
    adapter = train_dir / "adapter"
    if not (adapter / "adapter_config.json").exists():
        raise UserError(
            f"training {train_dir.name} has no adapter yet",
            where=str(adapter),
            fix=f"finish (or resume) it first: tunewise train resume {run.id} {train_dir.name}",
        )
    cfg = read_json(train_dir / "config.json")
    base = cfg.get("model") or "embedded"
    base_path = resolve_model_path(base)
    final = run.path / "export"
    tmp = run.path / f".export.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)

    tok, dtype = _merge(base_path, adapter, tmp / "merged")
    shutil.copytree(adapter, tmp / "adapter")

    gguf_path, gguf_note, gguf_info = None, None, None
    if gguf:
        gguf_path, gguf_note, gguf_info = _write_gguf(
            tmp / "merged", tmp / "model.gguf", gguf_outtype, run.id
        )
    else:
        gguf_note = "GGUF skipped (gguf=False)."

    system_prompt = cfg.get("system_prompt")
    atomic_write_text(
        tmp / "Modelfile",
        modelfile_text(
            f"./{gguf_path}" if gguf_path else "./merged", system_prompt, tok.chat_template, tok.eos_token
        ),
    )
    from tools.train.to_gguf import describe

    desc = describe(gguf_info) if gguf_info else None
    atomic_write_text(tmp / "README.md", readme_text(run, train_dir.name, base, gguf_path, gguf_note, desc))
    metrics = read_json(train_dir / "metrics.json") if (train_dir / "metrics.json").exists() else {}
    atomic_write_json(
        tmp / "export.json",
        {
            "run_id": run.id,
            "train_version": train_dir.name,
            "base_model": base,
            "base_path": str(base_path),
            "merged": "merged",
            "adapter": "adapter",
            "gguf": gguf_path,
            "gguf_note": gguf_note,
            "gguf_info": gguf_info,
            "serve": serve_lines(final, run.id, gguf_path),
            "merge_dtype": str(dtype).removeprefix("torch."),
            "system_prompt": system_prompt,
            "metrics": metrics,
            "created": time.time(),
        },
    )
    _swap_into_place(tmp, final)
    return final


def _merge(base_path: Path, adapter: Path, out: Path):
    """Merge the adapter into its base model and save it with the tokenizer in `out`; returns the tokenizer
    and the merge dtype."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tools.train.config import read_model_info

    # merge in full precision for small models, bf16 for large ones (a QLoRA adapter merges into an
    # unquantized base: merging into 4-bit weights would round the update away)
    big = read_model_info(base_path).n_params >= 1_000_000_000
    dtype = torch.bfloat16 if big else torch.float32
    model = AutoModelForCausalLM.from_pretrained(str(base_path), dtype=dtype)
    merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    tok = AutoTokenizer.from_pretrained(
        str(adapter if (adapter / "tokenizer_config.json").exists() else base_path)
    )
    merged.save_pretrained(str(out), safe_serialization=True)
    tok.save_pretrained(str(out))
    return tok, dtype


def _swap_into_place(tmp: Path, final: Path) -> None:
    """Swap the finished export into place: a crash leaves the previous export or the new one, never a
    half-written one."""
    old = final.parent / f".export.old-{os.getpid()}"
    if final.exists():
        os.replace(final, old)
    os.replace(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
