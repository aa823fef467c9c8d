"""The `local` provider: a model on this machine, batched, with an optional LoRA adapter.

Two engines behind one interface, chosen automatically with a reason (`engine="auto"`, or
`TUNEWISE_ENGINE`): CTranslate2 in float32 (tools/llm/ct2.py: the model, with its adapter merged, is
converted once per content hash; 3–10× the tokens/s here, same greedy answers) when it is installed and
measured faster on this machine, else transformers — the fallback that always works (a failed import or
conversion logs one line and falls back).
"""

from __future__ import annotations

import json
import logging
import os
import platform
import threading
from pathlib import Path
from typing import Any

from tools.errors import UserError
from tools.llm.base import Provider
from tools.llm.embedded import resolve_model_path
from tools.llm.types import GenParams, Message, RawResult

log = logging.getLogger("tunewise.llm")

_MODELS: dict[tuple, tuple] = {}
_MODELS_LOCK = threading.Lock()
_TOKENIZERS: dict[tuple, object] = {}
_CT2_FAILED: dict[tuple, str] = {}  # (model, adapter) → why CTranslate2 failed: not retried per provider

ENGINES = ("auto", "transformers", "ctranslate2")
# bench/engines.py on this project's 2-core x86 CPU, greedy, fp32, same prompts (bench/RESULTS.md); used
# when this machine has no measurement of its own (bench/engines.py writes one to the model cache)
MEASURED_DEFAULT = {
    "date": "2026-12-01",
    "machine": "2-core x86_64 CPU",
    "transformers_tok_s": 1.7,  # batched 8, fp32, 1-minute load ≈8 (a shared machine)
    "ctranslate2_tok_s": 16.5,  # batched 8, float32, same run; 3.8× in a run at load ≈5.5
    "greedy_equal": "16/16",
}


def pick_device() -> str:
    forced = os.environ.get("TUNEWISE_DEVICE")
    if forced:
        return forced
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def cpu_has_bf16() -> bool:
    import torch

    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except AttributeError:
        return False


def pick_dtype(device: str, requested: str | None = None) -> str:
    """`auto`: bf16 where the hardware has native bf16 (≈1.5× faster generation here), else fp32."""
    requested = (requested or os.environ.get("TUNEWISE_DTYPE") or "auto").lower()
    if requested in ("float32", "fp32", "bfloat16", "bf16", "float16", "fp16"):
        return {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}.get(requested, requested)
    if requested != "auto":
        raise UserError(f"unknown dtype {requested!r}", fix="use auto, float32, bfloat16 or float16")
    import torch

    if device.startswith("cuda"):
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
    return "bfloat16" if cpu_has_bf16() else "float32"


def machine_signature() -> str:
    """The CPU model and core count: a measurement made elsewhere does not apply here."""
    name = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name} × {os.cpu_count()}"


def engine_measurement_path() -> Path:
    from tools.llm.embedded import model_cache_root

    return model_cache_root() / "engines.json"


def measured_engines() -> tuple[dict, bool]:
    """(figures, measured_here): this machine's bench/engines.py figures, else the project's default."""
    try:
        m = json.loads(engine_measurement_path().read_text())
        if m.get("machine") == machine_signature() and m.get("transformers_tok_s"):
            return m, True
    except (OSError, ValueError, AttributeError):
        pass
    return MEASURED_DEFAULT, False


def pick_engine(requested: str | None, device: str, dtype_asked: str | None) -> tuple[str, str]:
    """(engine, reason). `auto`: CTranslate2 when installed and measured faster here, else transformers."""
    from tools.llm import ct2

    source = "engine=" if requested else "TUNEWISE_ENGINE="
    requested = (requested or os.environ.get("TUNEWISE_ENGINE") or "auto").lower()
    if requested in ("ct2", "ctranslate"):
        requested = "ctranslate2"
    if requested not in ENGINES:
        raise UserError(f"unknown engine {requested!r}", fix="use auto, transformers or ctranslate2")
    if requested == "transformers":
        return "transformers", f"set by {source}transformers"
    if requested == "ctranslate2":
        if not ct2.available():
            log.warning("ctranslate2 is not installed: generating with transformers")
            return "transformers", "ctranslate2 asked but not installed (pip install 'ctranslate2>=4.5,<5')"
        return "ctranslate2", f"set by {source}ctranslate2"
    if not ct2.available():
        return "transformers", "ctranslate2 is not installed (pip install 'ctranslate2>=4.5,<5')"
    if not device.startswith("cpu"):
        return "transformers", f"on {device} (CTranslate2 is only measured on CPU here)"
    if dtype_asked and dtype_asked.lower() not in ("auto", "float32", "fp32"):
        return "transformers", f"dtype {dtype_asked} asked (the CTranslate2 engine runs float32)"
    m, here = measured_engines()
    ratio = m["ctranslate2_tok_s"] / max(m["transformers_tok_s"], 1e-9)
    where = "on this machine" if here else f"on a {m['machine']} (run bench/engines.py to measure here)"
    figures = (
        f"batched {m['ctranslate2_tok_s']:.1f} vs {m['transformers_tok_s']:.1f} tok/s, "
        f"greedy answers equal {m.get('greedy_equal', '?')}; bench/engines.py {m['date']} {where}"
    )
    # every reason: plain words first, the figures after them in brackets (serve's banner shows the words)
    measured = "measured on this computer" if here else "measured on another computer"
    if ratio > 1.0:
        return "ctranslate2", f"float32, {ratio:.1f}× as fast as transformers, {measured} ({figures})"
    return "transformers", f"CTranslate2 was not faster, {measured} ({ratio:.2f}×: {figures})"


def load_tokenizer(model_path: Path, key: tuple = ()):
    """The model's tokenizer (left padding, pad = eos when missing), once per process per `key`.

    One per loaded model, as before: a fast tokenizer is not safe to call from two threads at once
    (padding settings are switched per call), and two models may be used from two threads.
    """
    key = (str(model_path), *key)
    with _MODELS_LOCK:
        tok = _TOKENIZERS.get(key)
        if tok is None:
            from transformers import AutoTokenizer

            tok = AutoTokenizer.from_pretrained(str(model_path))
            tok.padding_side = "left"
            if tok.pad_token is None:
                tok.pad_token = tok.eos_token
            _TOKENIZERS[key] = tok
        return tok


def check_adapter(adapter: str | None) -> None:
    if adapter and not (Path(adapter) / "adapter_config.json").exists():
        raise UserError(
            "not a LoRA adapter directory (no adapter_config.json)",
            where=str(adapter),
            fix="pass the `adapter/` directory a training run wrote",
        )


def load_model(model_path: Path, adapter: str | None, device: str, dtype: str):
    """(tokenizer, model), loaded once per process and shared by every provider that asks."""
    key = (str(model_path), str(adapter or ""), device, dtype)
    check_adapter(adapter)
    tok = load_tokenizer(model_path, key)
    with _MODELS_LOCK:
        if key in _MODELS:
            return _MODELS[key]
        import torch
        from transformers import AutoModelForCausalLM

        # a transformers model, or the PEFT model wrapping it
        model: torch.nn.Module = AutoModelForCausalLM.from_pretrained(
            str(model_path), dtype=getattr(torch, dtype)
        )
        if adapter:
            apath = Path(adapter)
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(apath))
        model.to(device)
        model.eval()
        _MODELS[key] = (tok, model)
        return tok, model


class LocalProvider(Provider):
    """A model on this machine. `engine`: auto (default; `TUNEWISE_ENGINE`), transformers or ctranslate2.

    Both engines give the same greedy answers (tests/test_ct2_engine.py) and honour max_tokens, stop
    strings, EOS, temperature/top_p and per-batch seeds. Sampling with a seed is reproducible with either
    engine, but the same seed draws different answers with CTranslate2 than with torch (see tools/llm/ct2.py),
    so the engine is part of the response-cache identity. `engine_reason` says why the engine was chosen.
    """

    name = "local"
    batched = True
    streams = True

    def __init__(
        self,
        model: str | None = "embedded",
        *,
        adapter: str | None = None,
        dtype: str | None = None,
        device: str | None = None,
        batch_size: int = 8,
        engine: str | None = None,
        precision: str | None = None,
        **kw,
    ):
        self.model_path = resolve_model_path(model)
        if precision not in (None, "float32", "int8"):
            raise ValueError(f"precision must be float32 or int8, not {precision!r}")
        # int8 weights (CTranslate2 only): 2.4× the float32 tokens/s batched here (bench/engines.py), other answers — used only where a
        # measurement on the person's own examples found them no worse (agent.precision)
        self.precision = precision or "float32"
        self.adapter = str(Path(adapter).resolve()) if adapter else None
        self.device = device or pick_device()
        dtype_asked = dtype or os.environ.get("TUNEWISE_DTYPE")
        self.engine, self.engine_reason = pick_engine(engine, self.device, dtype_asked)
        self.dtype = "float32" if self.engine == "ctranslate2" else pick_dtype(self.device, dtype)
        super().__init__(model or "embedded", **kw)
        self.batch_size = batch_size

    def identity(self) -> dict:
        ident: dict[str, Any] = {"path": str(self.model_path), "dtype": self.dtype}
        if self.engine != "transformers":
            ident["engine"] = self.engine
            if self.precision != "float32":
                ident["precision"] = self.precision  # other answers: never the float32 answers' cache entries
        if self.adapter:
            # the adapter's weights file mtime+size: retraining into the same dir must not hit stale cache
            w = next(
                (
                    p
                    for p in (
                        Path(self.adapter) / n for n in ("adapter_model.safetensors", "adapter_model.bin")
                    )
                    if p.exists()
                ),
                None,
            )
            st = w.stat() if w else None
            ident["adapter"] = [self.adapter, st.st_size if st else 0, int(st.st_mtime) if st else 0]
        return ident

    def describe(self) -> str:
        return f"local:{self.model}" + (f"+{Path(self.adapter).name}" if self.adapter else "")

    def _loaded(self):
        """(tokenizer, model): a transformers model, or a `CT2Engine` when that engine is in use."""
        if self.engine == "ctranslate2":
            eng = self._ct2_engine()
            if eng is not None:
                return eng.tokenizer, eng
        return load_model(self.model_path, self.adapter, self.device, self.dtype)

    def _ct2_engine(self):
        from tools.llm import ct2

        key = (str(self.model_path), str(self.adapter or ""))
        why = _CT2_FAILED.get(key)
        if why is None:
            check_adapter(self.adapter)  # a wrong path is the user's error, not the engine's

            def setup():
                tok = load_tokenizer(self.model_path, ("ctranslate2", *key))
                gen = _generation_config(self.model_path)
                return tok, _eos_ids(tok, gen), int(getattr(gen, "top_k", None) or 50)

            try:
                return ct2.load_engine(self.model_path, self.adapter, setup, compute_type=self.precision)
            except Exception as e:  # noqa: BLE001 - transformers is the fallback that always works
                why = _CT2_FAILED[key] = (
                    f"{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ''}"
                )
                log.warning("ctranslate2 engine failed (%s): generating with transformers", why)
        self.engine, self.engine_reason = "transformers", f"fallback: CTranslate2 failed ({why})"
        return None

    @property
    def tokenizer(self):
        return self._loaded()[0]

    @property
    def context_length(self) -> int:
        tok, model = self._loaded()
        config = getattr(model, "config", None) or _model_config(self.model_path)
        return int(getattr(config, "max_position_embeddings", None) or tok.model_max_length or 2048)

    def render(self, messages: list[Message]) -> str:
        tok, _ = self._loaded()
        return tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def count_tokens(self, messages: list[Message]) -> int:
        tok, _ = self._loaded()
        return len(tok(self.render(messages), add_special_tokens=False)["input_ids"])

    def _generate_batch(
        self,
        batch: list[tuple[list[Message], GenParams, dict | None]],
        stop_event: threading.Event | None = None,
    ) -> list[RawResult]:
        """One batch on either engine. Setting `stop_event` ends it at the next token (a server whose
        clients all left); the answers so far come back with finish_reason "stop"."""
        tok, model = self._loaded()
        params = batch[0][1]
        prompts = [self.render(msgs) for msgs, _, _ in batch]
        seed = batch_seed([p.seed for _, p, _ in batch])
        if getattr(model, "name", None) == "ctranslate2":
            ids = tok(prompts, add_special_tokens=False)["input_ids"]
            outs = model.generate(
                ids,
                max_tokens=params.max_tokens,
                temperature=params.temperature or 0.0,
                top_p=params.top_p,
                seed=seed,
                stop=params.stop,
                stop_event=stop_event,
            )
            return [
                RawResult(
                    text=o.text.strip(),
                    prompt_tokens=o.prompt_tokens,
                    completion_tokens=o.completion_tokens,
                    finish_reason=o.finish_reason,
                )
                for o in outs
            ]
        import torch

        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        gen_kwargs = {"max_new_tokens": params.max_tokens, "pad_token_id": tok.pad_token_id}
        if params.temperature and params.temperature > 0:
            gen_kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
            if seed is not None:  # one draw per batch, reproducible from the seeds of the requests in it
                torch.manual_seed(seed)
        else:
            gen_kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if stop_event is not None:
            gen_kwargs["stopping_criteria"] = _stop_when_set(stop_event)
        with torch.inference_mode():
            out = model.generate(**enc, **gen_kwargs)
        prompt_len = enc["input_ids"].shape[1]
        results = []
        eos_ids = _eos_ids(tok, model.generation_config)
        for row, mask in zip(out, enc["attention_mask"], strict=True):
            gen = row[prompt_len:].tolist()
            finish = "length"
            n = len(gen)
            for j, t in enumerate(gen):
                if t in eos_ids:
                    n, finish = j, "stop"
                    break
            text = tok.decode(gen[:n], skip_special_tokens=True)
            for s in params.stop:
                if s and s in text:
                    text, finish = text.split(s, 1)[0], "stop"
            results.append(
                RawResult(
                    text=text.strip(),
                    prompt_tokens=int(mask.sum()),
                    completion_tokens=n,
                    finish_reason=finish,
                )
            )
        return results

    def stream(
        self,
        messages: list[Message],
        params: GenParams,
        *,
        stop_event: threading.Event | None = None,
        info: dict | None = None,
    ):
        """Yield text pieces as they are generated (one request; used by `tunewise serve` and the TUI).

        Setting `stop_event` ends generation early (a client went away, a stop string was seen). When
        given, `info` is filled with prompt_tokens, completion_tokens and finish_reason at the end.
        """
        import torch
        from transformers import TextIteratorStreamer

        tok, model = self._loaded()
        if getattr(model, "name", None) == "ctranslate2":
            yield from self._stream_ct2(tok, model, messages, params, stop_event, info)
            return
        enc = tok([self.render(messages)], return_tensors="pt", add_special_tokens=False).to(self.device)
        streamer = TextIteratorStreamer(tok, skip_prompt=True, skip_special_tokens=True)
        kwargs = dict(
            **enc, max_new_tokens=params.max_tokens, pad_token_id=tok.pad_token_id, streamer=streamer
        )
        if params.temperature and params.temperature > 0:
            kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
            if params.seed is not None:
                torch.manual_seed(params.seed)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        if stop_event is not None:
            kwargs["stopping_criteria"] = _stop_when_set(stop_event)
        prompt_len = enc["input_ids"].shape[1]
        failure: list[BaseException] = []

        def run():
            try:
                with torch.inference_mode():
                    out = model.generate(**kwargs)
            except BaseException as e:  # noqa: BLE001 - re-raised in the consumer's thread
                failure.append(e)
                streamer.end()  # otherwise the consumer waits forever on the queue
                return
            if info is not None:
                gen = out[0, prompt_len:].tolist()
                eos = _eos_ids(tok, model.generation_config)
                n = next((j for j, t in enumerate(gen) if t in eos), None)
                info.update(
                    prompt_tokens=int(prompt_len),
                    completion_tokens=len(gen) if n is None else n,
                    finish_reason="stop" if n is not None or len(gen) < params.max_tokens else "length",
                )

        yield from _pump(streamer, run, failure)

    def _stream_ct2(self, tok, engine, messages, params, stop_event, info):
        """The CTranslate2 stream: the same text pieces as transformers' streamer (it does the chunking)."""
        import torch
        from transformers import TextIteratorStreamer

        ids = tok(self.render(messages), add_special_tokens=False)["input_ids"]
        streamer = TextIteratorStreamer(tok, skip_prompt=False, skip_special_tokens=True)
        failure: list[BaseException] = []

        def run():
            try:
                out = engine.stream(
                    ids,
                    lambda t: streamer.put(torch.tensor([t])),
                    max_tokens=params.max_tokens,
                    temperature=params.temperature or 0.0,
                    top_p=params.top_p,
                    seed=params.seed,
                    stop_event=stop_event,
                )
            except BaseException as e:  # noqa: BLE001 - re-raised in the consumer's thread
                failure.append(e)
                streamer.end()
                return
            if info is not None:
                info.update(
                    prompt_tokens=out.prompt_tokens,
                    completion_tokens=out.completion_tokens,
                    finish_reason=out.finish_reason,
                )
            streamer.end()

        yield from _pump(streamer, run, failure)


def _pump(streamer, run, failure: list[BaseException]):
    """Run `run` in a thread and yield the streamer's text pieces as they come; its error is raised here."""
    t = threading.Thread(target=run, daemon=True)
    t.start()
    yield from streamer
    t.join()
    if failure:
        raise failure[0]


def _stop_when_set(stop_event: threading.Event):
    """transformers stopping criteria: every row of the batch ends once `stop_event` is set."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class _StopWhenSet(StoppingCriteria):
        def __call__(self, input_ids, scores, **kw):
            return torch.full(
                (input_ids.shape[0],), stop_event.is_set(), dtype=torch.bool, device=input_ids.device
            )

    return StoppingCriteriaList([_StopWhenSet()])


def batch_seed(seeds: list[int | None]) -> int | None:
    """One seed for a batch, reproducible from the seeds of the requests in it (None: none given)."""
    given = [s for s in seeds if s is not None]
    if not given:
        return None
    return hash(tuple(given)) % (2**31) if len(given) > 1 else given[0]


def _model_config(model_path: Path):
    from transformers import AutoConfig

    return AutoConfig.from_pretrained(str(model_path))


def _generation_config(model_path: Path):
    try:
        from transformers import GenerationConfig

        return GenerationConfig.from_pretrained(str(model_path))
    except (OSError, ValueError):
        return None


def _eos_ids(tok, generation_config) -> set[int]:
    ids = set()
    for v in (tok.eos_token_id, getattr(generation_config, "eos_token_id", None)):
        if isinstance(v, int):
            ids.add(v)
        elif isinstance(v, (list, tuple)):
            ids.update(v)
    return ids
