"""Models and datasets by Hugging Face Hub id (`org/name`, `org/name@revision`), cache first.

One place resolves a Hub id to a local snapshot directory: `snapshot(repo_id, revision, repo_type)`.
The local Hugging Face cache (`HF_HUB_CACHE`, or `HF_HOME/hub`, default `~/.cache/huggingface/hub`) is
looked at first; only when the id is not cached and the machine is online (`HF_HUB_OFFLINE` unset) is
anything downloaded. Offline and not cached gives one line: which id, how to fetch it, `HF_HUB_OFFLINE`.

The environment is read at call time (huggingface_hub reads it once, at import), so a process that
changes HF_HOME or HF_HUB_OFFLINE after importing transformers still gets what it asked for.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from tools.errors import UserError

# org/name with the Hub's characters; an optional @revision (branch, tag or commit hash)
_HUB_ID = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*)(?:@([A-Za-z0-9._/-]+))?$")
# files a model load needs (weights as safetensors, else .bin; tokenizer; chat template; configs)
MODEL_PATTERNS = [
    "*.json",
    "*.safetensors",
    "*.model",
    "*.txt",
    "*.jinja",
    "*.tiktoken",
    "tokenizer*",
]
_TRUE = {"1", "true", "yes", "on"}


def parse_hub_id(text: str | None) -> tuple[str, str | None] | None:
    """'org/name' → ('org/name', None); 'org/name@v2' → ('org/name', 'v2'); anything else → None.

    A path that exists on disk is never a Hub id (a local folder `org/name` wins)."""
    if not text or text.startswith((".", "/", "~")) or text.count("/") < 1:
        return None
    m = _HUB_ID.match(text.strip())
    if m is None or ".." in text:
        return None
    if Path(text).expanduser().exists():
        return None
    return m.group(1), m.group(2)


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache, from the environment as it is now."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.path.expandvars(os.environ[var])).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface"
    )
    return Path(os.path.expandvars(home)).expanduser() / "hub"


def hub_offline(repo_type: str = "model") -> bool:
    """huggingface_hub's rule (HF_HUB_OFFLINE, else TRANSFORMERS_OFFLINE), read now; for datasets,
    HF_DATASETS_OFFLINE wins when it is set (the `datasets` rule)."""
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    if repo_type == "dataset" and os.environ.get("HF_DATASETS_OFFLINE"):
        value = os.environ["HF_DATASETS_OFFLINE"]
    return value.strip().lower() in _TRUE


def _folder(repo_id: str, repo_type: str) -> str:
    return f"{repo_type}s--{repo_id.replace('/', '--')}"


def not_cached_error(
    repo_id: str, revision: str | None, repo_type: str = "model", why: str = ""
) -> UserError:
    """The one line for an id that is neither cached nor downloadable here."""
    rid = repo_id + (f"@{revision}" if revision else "")
    flag = " --repo-type dataset" if repo_type == "dataset" else ""
    rev = f" --revision {revision}" if revision else ""
    offline = hub_offline(repo_type)
    return UserError(
        f"{repo_type} {rid} is not in the Hugging Face cache ({hub_cache_dir()})"
        + (
            " and HF_HUB_OFFLINE is set"
            if offline
            else (f" and could not be downloaded ({why})" if why else "")
        ),
        where=rid,
        fix=f"on a connected machine run `hf download {repo_id}{flag}{rev}` (older: `huggingface-cli "
        f"download {repo_id}{flag}{rev}`) and copy its {_folder(repo_id, repo_type)} folder into "
        f"{hub_cache_dir()}"
        + (", or unset HF_HUB_OFFLINE (HF_HUB_OFFLINE=0) to download it" if offline else "")
        + ", or pass a local path",
    )


def snapshot(
    repo_id: str,
    revision: str | None = None,
    *,
    repo_type: str = "model",
    allow_patterns: list[str] | None = None,
) -> Path:
    """The local snapshot folder of a Hub repo: from the cache, else downloaded when online."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    cache = hub_cache_dir()
    try:
        return Path(
            snapshot_download(
                repo_id, repo_type=repo_type, revision=revision, cache_dir=cache, local_files_only=True
            )
        )
    except LocalEntryNotFoundError:
        pass
    except Exception as e:  # noqa: BLE001 - an incomplete snapshot, a bad revision: say which id
        if hub_offline(repo_type):
            raise not_cached_error(repo_id, revision, repo_type, type(e).__name__) from None
    if hub_offline(repo_type):
        raise not_cached_error(repo_id, revision, repo_type)
    try:
        return Path(
            snapshot_download(
                repo_id,
                repo_type=repo_type,
                revision=revision,
                cache_dir=cache,
                allow_patterns=allow_patterns,
                endpoint=os.environ.get("HF_ENDPOINT") or None,
            )
        )
    except Exception as e:  # noqa: BLE001 - not found, gated, no network: one line, never a traceback
        from tools.llm.redact import redact

        msg = redact(f"{type(e).__name__}: {e}".splitlines()[0])[:200]
        raise not_cached_error(repo_id, revision, repo_type, msg) from None


def resolve_model_id(text: str) -> Path | None:
    """A Hub model id → its local snapshot directory (cache first); None when `text` is not a Hub id."""
    parsed = parse_hub_id(text)
    if parsed is None:
        return None
    repo_id, revision = parsed
    path = snapshot(repo_id, revision, repo_type="model", allow_patterns=MODEL_PATTERNS)
    if not (path / "config.json").exists() and (path / "adapter_config.json").exists():
        raise UserError(
            f"{text} is a LoRA adapter, not a model",
            where=str(path),
            fix=f"pass it as --adapter {path} with its base --model",
        )
    if not (path / "config.json").exists():
        raise UserError(
            f"{text} has no config.json in the cache (not a transformers model, or a partial download)",
            where=str(path),
            fix=f"download it again: hf download {repo_id}",
        )
    return path


# ----------------------------------------------------------------- what is cached (doctor)
@dataclass
class CachedModel:
    repo_id: str
    revision: str  # the commit hash of the snapshot
    path: Path
    architecture: str
    n_params: int | None
    size_bytes: int


def _is_causal_lm(cfg: dict) -> str | None:
    archs = cfg.get("architectures") or []
    for a in archs:
        if isinstance(a, str) and a.endswith(("ForCausalLM", "LMHeadModel", "ForConditionalGeneration")):
            if a.endswith("ForConditionalGeneration") and "text_config" not in cfg:
                continue  # seq2seq (T5, BART): not a chat student
            return a
    return None


def cached_causal_lms(cache: Path | None = None) -> list[CachedModel]:
    """Causal language models in the Hugging Face cache that tunewise can train as a student: a config
    naming a *ForCausalLM architecture, safetensors or .bin weights, and a tokenizer."""
    root = cache or hub_cache_dir()
    out: list[CachedModel] = []
    if not root.is_dir():
        return out
    for repo in sorted(root.glob("models--*--*")):
        repo_id = repo.name.removeprefix("models--").replace("--", "/", 1)
        snaps = repo / "snapshots"
        if not snaps.is_dir():
            continue
        main = repo / "refs" / "main"
        chosen = None
        if main.is_file():
            chosen = snaps / main.read_text().strip()
        if chosen is None or not chosen.is_dir():
            dirs = [d for d in snaps.iterdir() if d.is_dir()]
            chosen = max(dirs, key=lambda d: d.stat().st_mtime) if dirs else None
        if chosen is None or not (chosen / "config.json").is_file():
            continue
        try:
            cfg = json.loads((chosen / "config.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        arch = _is_causal_lm(cfg) if isinstance(cfg, dict) else None
        weights = [p for p in chosen.iterdir() if p.suffix in (".safetensors", ".bin") and p.exists()]
        has_tok = any(
            (chosen / f).exists() for f in ("tokenizer.json", "tokenizer.model", "tokenizer_config.json")
        )
        if arch is None or not weights or not has_tok:
            continue
        try:
            from tools.train.config import read_model_info

            n_params = read_model_info(chosen).n_params
        except Exception:  # noqa: BLE001 - an odd config: list it without a size
            n_params = None
        out.append(
            CachedModel(
                repo_id=repo_id,
                revision=chosen.name,
                path=chosen,
                architecture=arch,
                n_params=n_params,
                size_bytes=sum(p.stat().st_size for p in weights),
            )
        )
    return out
