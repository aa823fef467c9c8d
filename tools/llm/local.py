"""The `local` provider: transformers on this machine, batched, with an optional LoRA adapter."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from tools.errors import UserError
from tools.llm.base import Provider
from tools.llm.embedded import resolve_model_path
from tools.llm.types import GenParams, Message, RawResult

_MODELS: dict[tuple, tuple] = {}
_MODELS_LOCK = threading.Lock()


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


def load_model(model_path: Path, adapter: str | None, device: str, dtype: str):
    """(tokenizer, model), loaded once per process and shared by every provider that asks."""
    key = (str(model_path), str(adapter or ""), device, dtype)
    with _MODELS_LOCK:
        if key in _MODELS:
            return _MODELS[key]
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        tok = AutoTokenizer.from_pretrained(str(model_path))
        tok.padding_side = "left"
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        model = AutoModelForCausalLM.from_pretrained(str(model_path), dtype=getattr(torch, dtype))
        if adapter:
            apath = Path(adapter)
            if not (apath / "adapter_config.json").exists():
                raise UserError(
                    "not a LoRA adapter directory (no adapter_config.json)",
                    where=str(apath),
                    fix="pass the `adapter/` directory a training run wrote",
                )
            from peft import PeftModel

            model = PeftModel.from_pretrained(model, str(apath))
        model.to(device)
        model.eval()
        _MODELS[key] = (tok, model)
        return tok, model


class LocalProvider(Provider):
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
        **kw,
    ):
        self.model_path = resolve_model_path(model)
        self.adapter = str(Path(adapter).resolve()) if adapter else None
        self.device = device or pick_device()
        self.dtype = pick_dtype(self.device, dtype)
        super().__init__(model or "embedded", **kw)
        self.batch_size = batch_size

    def identity(self) -> dict:
        ident = {"path": str(self.model_path), "dtype": self.dtype}
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
        return load_model(self.model_path, self.adapter, self.device, self.dtype)

    @property
    def tokenizer(self):
        return self._loaded()[0]

    @property
    def context_length(self) -> int:
        tok, model = self._loaded()
        return int(getattr(model.config, "max_position_embeddings", None) or tok.model_max_length or 2048)

    def render(self, messages: list[Message]) -> str:
        tok, _ = self._loaded()
        return tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)

    def count_tokens(self, messages: list[Message]) -> int:
        tok, _ = self._loaded()
        return len(tok(self.render(messages), add_special_tokens=False)["input_ids"])

    def _generate_batch(self, batch: list[tuple[list[Message], GenParams, dict | None]]) -> list[RawResult]:
        import torch

        tok, model = self._loaded()
        params = batch[0][1]
        prompts = [self.render(msgs) for msgs, _, _ in batch]
        enc = tok(prompts, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
        gen_kwargs = {"max_new_tokens": params.max_tokens, "pad_token_id": tok.pad_token_id}
        if params.temperature and params.temperature > 0:
            gen_kwargs.update(do_sample=True, temperature=params.temperature, top_p=params.top_p)
            seeds = [p.seed for _, p, _ in batch if p.seed is not None]
            if seeds:  # one draw per batch, reproducible from the seeds of the requests in it
                torch.manual_seed(hash(tuple(seeds)) % (2**31) if len(seeds) > 1 else seeds[0])
        else:
            gen_kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        with torch.inference_mode():
            out = model.generate(**enc, **gen_kwargs)
        prompt_len = enc["input_ids"].shape[1]
        results = []
        eos_ids = _eos_ids(tok, model)
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
        from transformers import StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        tok, model = self._loaded()
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

            class _StopWhenSet(StoppingCriteria):
                def __call__(self, input_ids, scores, **kw):
                    return stop_event.is_set()

            kwargs["stopping_criteria"] = StoppingCriteriaList([_StopWhenSet()])
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
                eos = _eos_ids(tok, model)
                n = next((j for j, t in enumerate(gen) if t in eos), None)
                info.update(
                    prompt_tokens=int(prompt_len),
                    completion_tokens=len(gen) if n is None else n,
                    finish_reason="stop" if n is not None or len(gen) < params.max_tokens else "length",
                )

        t = threading.Thread(target=run, daemon=True)
        t.start()
        yield from streamer
        t.join()
        if failure:
            raise failure[0]


def _eos_ids(tok, model) -> set[int]:
    ids = set()
    for v in (tok.eos_token_id, getattr(model.generation_config, "eos_token_id", None)):
        if isinstance(v, int):
            ids.add(v)
        elif isinstance(v, (list, tuple)):
            ids.update(v)
    return ids
