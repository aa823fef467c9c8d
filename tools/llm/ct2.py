"""The CTranslate2 generation engine for the `local` provider (float32, CPU).

Measured on this machine (bench/engines.py, bench/RESULTS.md): 3–10× transformers' tokens/s on the
embedded model (more when the cores are shared), the same greedy answers on 16 of 16 prompts.

A model directory — or a base model with a LoRA adapter, merged with peft's `merge_and_unload` first — is
converted ONCE into CTranslate2's format, cached by a content hash of the weights, config and tokenizer
files (and the adapter's files). The cache lives in the model cache (`$TUNEWISE_MODEL_CACHE` or
`~/.cache/tunewise/models/ct2/`, next to the embedded model's converted directory) rather than in a
workspace's `.tunewise/cache/`: a conversion costs ~15–60 s and ~0.5 GB, and every workspace and test
session reuses the same one. Conversions are atomic (a temp directory, then `os.replace`) and
process-locked; `prune` keeps the cache bounded.

Float32 only: int8 changed the 135M model's answers in the first measurement, so quality paths don't use
it. What CTranslate2 cannot reproduce exactly, and what it does instead:

- Greedy decoding gives the same tokens as transformers fp32 up to float rounding (tests/test_ct2_engine.py
  measures it on the embedded model and on a merged LoRA adapter).
- Sampling follows the same distribution as transformers' `generate` (temperature, then top-k = the model's
  generation config or transformers' default 50, then top-p), but not the same draws: a seed gives a
  reproducible answer with this engine, a different one than torch would give. CTranslate2's random
  generator is per worker thread and seeded only on its first use, so a seeded sampled batch runs on a
  fresh `Generator` (≈1 s to load the float32 weights again) after `ctranslate2.set_random_seed`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Sequence, Set
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("tunewise.llm")

QUANTIZATION = "float32"
META_FILE = "tunewise-ct2.json"
# files whose bytes change the converted model (weights, architecture, vocabulary)
_MODEL_FILE_RE = re.compile(
    r"^(config\.json|tokenizer\.json|tokenizer_config\.json|special_tokens_map\.json|vocab\.json|merges\.txt"
    r"|tokenizer\.model|added_tokens\.json|.*\.safetensors|.*\.bin|.*\.safetensors\.index\.json"
    r"|.*\.bin\.index\.json)$"
)
_ADAPTER_FILE_RE = re.compile(r"^(adapter_config\.json|adapter_model\.safetensors|adapter_model\.bin)$")

CONVERSIONS: list[dict] = []  # every conversion this process ran (tests check the cache is reused)
_ENGINES: dict[tuple, CT2Engine] = {}
_ENGINES_LOCK = threading.Lock()
_SEED_LOCK = threading.Lock()  # ctranslate2.set_random_seed is process-global


def available() -> bool:
    """CTranslate2 is installed (found without importing it)."""
    import importlib.util

    return importlib.util.find_spec("ctranslate2") is not None


def cache_root() -> Path:
    from tools.llm.embedded import model_cache_root

    return model_cache_root() / "ct2"


# ---------------------------------------------------------------- content hash
def _file_digest(path: Path, memo_dir: Path | None) -> str:
    """sha256 of a file; remembered by (path, size, mtime, inode) so a 0.5 GB file is hashed once."""
    st = path.stat()
    stamp = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}"
    memo = None
    if memo_dir is not None:
        memo = memo_dir / hashlib.sha1(stamp.encode()).hexdigest()
        try:
            return memo.read_text().strip()
        except OSError:
            pass
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            h.update(block)
    digest = h.hexdigest()
    if memo is not None:
        from tools.workspace import atomic_write_text

        try:
            atomic_write_text(memo, digest)
        except OSError:
            pass
    return digest


def content_hash(
    model_path: Path, adapter: str | os.PathLike | None = None, *, root: Path | None = None
) -> str:
    """The conversion's cache key: the bytes of the model's (and adapter's) files, the format and version."""
    import ctranslate2

    memo_dir = (root or cache_root()) / ".digests"
    h = hashlib.sha256(f"ct2 {ctranslate2.__version__} {QUANTIZATION}\n".encode())
    groups = [("model", Path(model_path), _MODEL_FILE_RE)]
    if adapter:
        groups.append(("adapter", Path(adapter), _ADAPTER_FILE_RE))
    for label, folder, pattern in groups:
        files = sorted(p for p in folder.iterdir() if p.is_file() and pattern.match(p.name))
        if not files:
            raise FileNotFoundError(f"no {label} files to convert in {folder}")
        for p in files:
            h.update(f"{label}/{p.name} {_file_digest(p, memo_dir)}\n".encode())
    return h.hexdigest()


# ---------------------------------------------------------------- conversion
class _NoCollect:
    @staticmethod
    def collect(*_a, **_k) -> int:
        return 0


def _fast_alias_variables(spec) -> None:
    """`ModelSpec._alias_variables` with the same result in linear time.

    The original compares every variable with every earlier one of the same shape (`torch.equal`, ~22k
    comparisons for a 30-layer model: a quarter of the conversion time); this groups variables by a
    digest of their bytes first and confirms each alias with the same `equal` check. Each duplicate is
    aliased to the alphabetically first equal variable, as the original does.
    """
    import numpy as np
    from ctranslate2.specs import model_spec as ms

    groups: dict[tuple, list] = {}
    for name, value in spec.variables(ordered=True):
        if value.is_scalar():
            continue
        arr = np.ascontiguousarray(value.numpy())
        # an ndarray is a buffer; numpy's stubs declare __buffer__ for Python 3.12+ only (we check as 3.11)
        digest = hashlib.sha1(arr.view(np.uint8).reshape(-1)).hexdigest()  # type: ignore[arg-type]
        groups.setdefault((type(value).__name__, str(value.dtype), arr.shape, digest), []).append(
            (name, value)
        )
    for members in groups.values():
        first_name, first_value = members[0]
        for name, value in members[1:]:
            scope, attr_name = ms._parent_scope(name)
            if attr_name not in ms.SKIP_CREATING_ALIAS and value.equal(first_value):
                setattr(ms.index_spec(spec, scope), attr_name, first_name)


def _converter(model_path: Path, adapter: str | None, *, fast: bool = True):
    """A TransformersConverter that loads fp32 weights, merging a LoRA adapter in memory when given.

    `fast`: skip the per-layer `gc.collect()` (30 full collections: seconds each in a big process) and
    alias duplicate variables in linear time; the converted files are byte-identical (tested).
    """
    import torch
    from ctranslate2.converters import TransformersConverter

    class _Converter(TransformersConverter):
        def load_model(self, model_class, model_name_or_path, **kwargs):
            kwargs["dtype"] = torch.float32  # the same weights transformers fp32 runs
            model = model_class.from_pretrained(model_name_or_path, **kwargs)
            if adapter:
                from peft import PeftModel

                model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
            return model

        def _load(self):
            if not fast:
                return super()._load()
            import ctranslate2.converters.transformers as ct2_transformers
            from ctranslate2.specs import model_spec as ms

            saved = getattr(ct2_transformers, "gc", None)
            ct2_transformers.gc = _NoCollect
            try:
                spec = super()._load()
            finally:
                ct2_transformers.gc = saved
            if spec is not None and type(spec)._alias_variables is ms.ModelSpec._alias_variables:
                spec._alias_variables = lambda: _fast_alias_variables(spec)
            return spec

    return _Converter(str(model_path), low_cpu_mem_usage=True)


def convert(
    model_path: str | os.PathLike,
    adapter: str | os.PathLike | None = None,
    *,
    root: Path | None = None,
) -> Path:
    """The CTranslate2 float32 directory for this model (+ merged adapter), converting on first use."""
    import fcntl

    model_path = Path(model_path)
    adapter = str(Path(adapter).resolve()) if adapter else None
    root = root or cache_root()
    key = content_hash(model_path, adapter, root=root)
    out = root / key[:24]  # by content only: the same weights under another path reuse it
    if (out / META_FILE).exists():
        _touch(out, model_path, adapter)
        return out
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{out.name}.lock", "w") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)  # another process may be converting this one now
        if (out / META_FILE).exists():
            return out
        tmp = root / f".{out.name}.tmp-{os.getpid()}-{threading.get_ident()}"
        shutil.rmtree(tmp, ignore_errors=True)
        t0 = time.perf_counter()
        try:
            _quiet_converter_logs()
            _converter(model_path, adapter).convert(str(tmp), quantization=QUANTIZATION, force=True)
            meta = {
                "model": str(model_path.resolve()),
                "adapter": adapter,
                "content_hash": key,
                "quantization": QUANTIZATION,
                "ctranslate2": _ct2_version(),
                "seconds": round(time.perf_counter() - t0, 1),
                "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            }
            (tmp / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
            os.replace(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        CONVERSIONS.append(meta)
        prune(root, protect={out})
        log.info("converted %s%s to CTranslate2 in %.0fs", model_path.name, " + adapter" * bool(adapter),
                 meta["seconds"])  # fmt: skip
    return out


def _touch(out: Path, model_path: Path, adapter: str | None) -> None:
    """Mark a conversion as used now (the cache keeps the most recently used ones), by these sources."""
    meta_path = out / META_FILE
    try:
        meta = json.loads(meta_path.read_text())
        sources = {"model": str(model_path.resolve()), "adapter": adapter}
        if {k: meta.get(k) for k in sources} != sources:  # same bytes, another folder: remember the live one
            from tools.workspace import atomic_write_json

            atomic_write_json(meta_path, {**meta, **sources})
        else:
            os.utime(meta_path)
    except (OSError, ValueError):
        pass


def prune(
    root: Path | None = None, *, keep_adapters: int | None = None, protect: Set[Path] = frozenset()
) -> list[Path]:
    """Remove conversions nobody can use again, and all but the most recently used adapter conversions.

    Each conversion is as large as the model (≈0.5 GB for the embedded one) and every trained version
    makes one, so the cache keeps: conversions whose source model and adapter still exist, and of those
    made from an adapter, the `keep_adapters` most recently used (`$TUNEWISE_CT2_KEEP`, default 4).
    Conversions loaded in this process are kept; leftovers of killed conversions are removed. Returns
    the removed directories.
    """
    from tools.workspace import pid_alive

    root = root or cache_root()
    if keep_adapters is None:
        keep_adapters = int(os.environ.get("TUNEWISE_CT2_KEEP") or 4)
    loaded = {Path(k[0]) for k in _ENGINES} | {Path(p) for p in protect}
    removed: list[Path] = []
    adapters: list[tuple[float, Path]] = []
    try:
        entries = list(root.iterdir())
    except OSError:
        return removed
    for d in entries:
        if not d.is_dir():
            continue
        m = re.match(r"^\.(.+)\.tmp-(\d+)-\d+$", d.name)
        if m:
            if not pid_alive(int(m.group(2))):
                shutil.rmtree(d, ignore_errors=True)
                removed.append(d)
            continue
        try:
            meta = json.loads((d / META_FILE).read_text())
            used = (d / META_FILE).stat().st_mtime
        except (OSError, ValueError):
            continue  # being written, or not ours
        if d in loaded:
            continue
        sources = [meta.get("model"), meta.get("adapter")]
        if any(s and not Path(s).exists() for s in sources):
            removed.append(d)
        elif meta.get("adapter"):
            adapters.append((used, d))
    adapters.sort(reverse=True)
    removed += [d for _, d in adapters[keep_adapters:]]
    for d in removed:
        if d.name.startswith("."):
            continue
        shutil.rmtree(d, ignore_errors=True)
        try:
            (d.parent / f".{d.name}.lock").unlink()
        except OSError:
            pass
    if removed:
        log.info("ctranslate2 cache: removed %d old conversion(s)", len(removed))
    return removed


def _ct2_version() -> str:
    import ctranslate2

    return ctranslate2.__version__


def _quiet_converter_logs() -> None:
    import contextlib

    with contextlib.suppress(Exception):
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()


# ---------------------------------------------------------------- the generator wrapper
@dataclass
class Generated:
    text: str
    finish_reason: str  # "stop" (EOS or a stop string) or "length"
    prompt_tokens: int
    completion_tokens: int  # tokens generated before EOS (EOS itself not counted, as with transformers)
    token_ids: list[int]


MIN_SHARED = 48  # tokens: a shorter common beginning (the chat template's header) is not worth a cache entry


def _turn_start_id(tokenizer) -> int | None:
    """The token that opens a chat message in this tokenizer's template (ChatML's <|im_start|>), if any."""
    for name in ("<|im_start|>", "<|start_header_id|>", "<start_of_turn>"):
        try:
            i = tokenizer.convert_tokens_to_ids(name)
        except Exception:  # noqa: BLE001 - a tokenizer without it
            continue
        if isinstance(i, int) and i != getattr(tokenizer, "unk_token_id", None):
            return i
    return None


def shared_prefix(prompts: list[list[int]], minimum: int = MIN_SHARED, turn_start: int | None = None) -> int:
    """How many leading tokens every prompt of the batch shares, leaving each at least one token of its own
    (the engine decodes from the last one); 0 when under `minimum`. With `turn_start` (the chat template's
    token that opens a message) the prefix ends where the last shared message ends: the same system prompt and
    demonstrations then give the same cached prefix in every batch, whatever the inputs happen to share (a
    batch whose inputs all began "In" made a new cache entry and computed everything again)."""
    if not prompts:
        return 0
    first = prompts[0]
    n = min(len(p) for p in prompts) - 1
    for p in prompts[1:]:
        i = 0
        while i < n and p[i] == first[i]:
            i += 1
        n = i
    if turn_start is not None:
        n = max((i for i in range(n + 1) if i < len(first) and first[i] == turn_start), default=0)
    return n if n >= minimum else 0


def cut_at_stop(text: str, stop: Sequence[str]) -> tuple[str, bool]:
    """`text` up to the first stop string (the earliest one in the text); True when one was found."""
    cuts = [i for i in (text.find(s) for s in stop if s) if i >= 0]
    return (text[: min(cuts)], True) if cuts else (text, False)


class CT2Engine:
    """A CTranslate2 `Generator` behind the `local` provider: chat-templated prompt ids in, text out."""

    name = "ctranslate2"

    def __init__(
        self,
        ct2_dir: Path,
        tokenizer,
        *,
        eos_ids: set[int],
        top_k: int = 50,
        threads: int = 0,
        compute_type: str = QUANTIZATION,
    ):
        import ctranslate2

        self.ct2_dir = Path(ct2_dir)
        self.tokenizer = tokenizer
        self.eos_ids = set(eos_ids)
        self.top_k = top_k
        self.threads = threads
        self.compute_type = compute_type  # the weights are stored float32; int8 is quantized when loaded
        # a batch's shared prompt beginning is computed once and cached (TUNEWISE_CT2_PREFIX=0 turns it off)
        self.prefix_cache = os.environ.get("TUNEWISE_CT2_PREFIX", "1") != "0"
        self.turn_start = _turn_start_id(tokenizer)
        self.generator = self._new_generator()
        self.version = ctranslate2.__version__

    def _new_generator(self):
        import ctranslate2

        return ctranslate2.Generator(
            str(self.ct2_dir), device="cpu", compute_type=self.compute_type, intra_threads=self.threads
        )

    def _options(self, max_tokens: int, temperature: float, top_p: float) -> dict:
        opts: dict[str, Any] = dict(
            max_length=max(1, int(max_tokens)),
            include_prompt_in_result=False,
            return_end_token=True,
            end_token=sorted(self.eos_ids) or None,
        )
        if temperature and temperature > 0:
            opts.update(
                sampling_topk=self.top_k, sampling_topp=float(top_p), sampling_temperature=float(temperature)
            )
        else:
            opts.update(sampling_topk=1)  # greedy
        return opts

    def _run(self, tokens: list[list[str]], opts: dict, seed: int | None):
        sampled = opts.get("sampling_topk", 1) != 1
        if not sampled or seed is None:
            return self.generator.generate_batch(tokens, **opts)
        import ctranslate2

        # CTranslate2 seeds a worker thread's random generator once, on its first draw: only a fresh
        # Generator (fresh worker thread) makes a seeded batch reproducible.
        with _SEED_LOCK:
            ctranslate2.set_random_seed(int(seed) % (2**32))
            try:
                fresh = self._new_generator()
            except (RuntimeError, OSError) as e:  # the converted files were pruned by another process
                log.warning("ctranslate2: %s; this sampled batch is not reproducible from its seed", e)
                return self.generator.generate_batch(tokens, **opts)
            try:
                return fresh.generate_batch(tokens, **opts)
            finally:
                del fresh

    def _finish(self, prompt: list[int], ids: list[int], max_tokens: int, stop: Sequence[str]) -> Generated:
        n = len(ids)
        finish = "length"
        for j, t in enumerate(ids):
            if t in self.eos_ids:
                n, finish = j, "stop"
                break
        if finish == "length" and n < max_tokens:
            finish = "stop"  # ended without an end token in the result (e.g. stopped by a callback)
        text = self.tokenizer.decode(ids[:n], skip_special_tokens=True)
        text, cut = cut_at_stop(text, stop)
        return Generated(
            text=text,
            finish_reason="stop" if cut else finish,
            prompt_tokens=len(prompt),
            completion_tokens=n,
            token_ids=list(ids[:n]),
        )

    def generate(
        self,
        prompts: list[list[int]],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        top_p: float = 1.0,
        seed: int | None = None,
        stop: Sequence[str] = (),
        stop_event: threading.Event | None = None,
    ) -> list[Generated]:
        """One batch: prompt token ids (chat template applied, no extra specials) → one result each.

        Setting `stop_event` ends every answer of the batch at its next token (what was generated is kept).
        """
        opts = self._options(max_tokens, temperature, top_p)
        if stop_event is not None:
            opts["callback"] = lambda _step: stop_event.is_set()
        shared = shared_prefix(prompts, turn_start=self.turn_start) if self.prefix_cache else 0
        if shared:
            # the batch's common beginning (system prompt, demonstrations) is run once and its state kept for
            # the next batch that starts the same way: few-shot prompts were ~95% prefill (bench/local_batch.py)
            opts.update(
                static_prompt=self.tokenizer.convert_ids_to_tokens(prompts[0][:shared]),
                cache_static_prompt=True,
            )
        tokens = [self.tokenizer.convert_ids_to_tokens(p[shared:]) for p in prompts]
        results = self._run(tokens, opts, seed)
        return [
            self._finish(p, r.sequences_ids[0], max_tokens, stop)
            for p, r in zip(prompts, results, strict=True)
        ]

    def stream(
        self,
        prompt: list[int],
        on_token: Callable[[int], None],
        *,
        max_tokens: int,
        temperature: float = 0.0,
        top_p: float = 1.0,
        seed: int | None = None,
        stop_event: threading.Event | None = None,
    ) -> Generated:
        """Generate one answer, calling `on_token(id)` for each new token (EOS excluded) as it comes.

        Runs in the caller's thread until done; setting `stop_event` ends it at the next token.
        """
        opts = self._options(max_tokens, temperature, top_p)

        def callback(step) -> bool:
            if step.token_id not in self.eos_ids:
                on_token(int(step.token_id))
            return bool(stop_event is not None and stop_event.is_set())

        opts["callback"] = callback
        results = self._run([self.tokenizer.convert_ids_to_tokens(prompt)], opts, seed)
        return self._finish(prompt, results[0].sequences_ids[0], max_tokens, ())


def _stamp(model_path: Path, adapter: str | None) -> tuple:
    """(name, size, mtime) of the adapter's files: a retrained adapter in the same folder is a new engine."""
    if not adapter:
        return ()
    out = []
    for p in sorted(Path(adapter).iterdir()):
        if p.is_file() and _ADAPTER_FILE_RE.match(p.name):
            st = p.stat()
            out.append((p.name, st.st_size, st.st_mtime_ns))
    return tuple(out)


_BY_SOURCE: dict[tuple, CT2Engine] = {}


def load_engine(
    model_path: Path,
    adapter: str | None,
    setup: Callable[[], tuple],
    *,
    threads: int = 0,
    compute_type: str = QUANTIZATION,
) -> CT2Engine:
    """Convert if needed (once per content hash), then load; one engine per process per converted model.

    `setup()` → (tokenizer, eos_ids, top_k), called only when an engine is created. Called on every use
    of a provider: once loaded it costs a few `stat`s (a retrained adapter is seen).
    """
    source = (str(model_path), str(adapter or ""), _stamp(model_path, adapter), threads, compute_type)
    eng = _BY_SOURCE.get(source)
    if eng is not None:
        return eng
    ct2_dir = convert(model_path, adapter)
    with _ENGINES_LOCK:
        eng = _ENGINES.get((str(ct2_dir), threads, compute_type))
        if eng is None:
            tokenizer, eos_ids, top_k = setup()
            eng = CT2Engine(
                ct2_dir, tokenizer, eos_ids=eos_ids, top_k=top_k, threads=threads, compute_type=compute_type
            )
            _ENGINES[(str(ct2_dir), threads, compute_type)] = eng
        _BY_SOURCE[source] = eng
        return eng
