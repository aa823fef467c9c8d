"""The CTranslate2 engine of the `local` provider against transformers on the same weights (no mocks).

Greedy answers must be equal: on the embedded model and on a LoRA adapter (random, non-zero weights built
with peft) merged before conversion. The conversion is cached by content and reused; transformers stays
the fallback when the engine is forced off, missing, or fails to convert.
"""

from __future__ import annotations

import logging
import shutil

import pytest

pytest.importorskip("ctranslate2")

SYSTEMS = [
    "Extract the order as JSON with keys item, size, milk.",
    "Classify the ticket as billing, bug, feature or other. Answer with one word.",
    "Rewrite the sentence as a short news headline.",
    "You are a concise teacher.",
]
USERS = [
    "A large oat latte to go, please.",
    "I was charged twice for my subscription.",
    "The city council approved a new bike lane on Main Street.",
    "Explain why the sky is blue in two sentences.",
    "Can I get a small black coffee with no sugar?",
    "The app crashes when I open the settings page.",
    "Scientists found water ice on a distant moon.",
    "What is the capital of France?",
    "Translate 'good morning' into Spanish.",
    "List three fruits.",
]
PROMPTS = [
    [{"role": "system", "content": SYSTEMS[i % len(SYSTEMS)]}, {"role": "user", "content": u}]
    for i, u in enumerate(USERS)
]
MAX_TOKENS = 32


def answers(provider, prompts=PROMPTS, **params):
    from tools.llm.types import GenParams, Request

    params = {"max_tokens": MAX_TOKENS, **params}
    return provider.map([Request(m, GenParams(**params)) for m in prompts], use_cache=False)


def fields(c):
    return (c.text, c.finish_reason, c.usage.prompt_tokens, c.usage.completion_tokens)


@pytest.fixture(scope="module")
def ct2_base(embedded_dir):
    from tools.llm.local import LocalProvider

    p = LocalProvider("embedded", dtype="float32", engine="ctranslate2")
    p._loaded()
    assert p.engine == "ctranslate2", p.engine_reason
    return p


@pytest.fixture(scope="module")
def tf_base(embedded_dir):
    from tools.llm.local import LocalProvider

    p = LocalProvider("embedded", dtype="float32", engine="transformers")
    p._loaded()
    return p


@pytest.fixture(scope="module")
def lora_adapter(embedded_dir, tmp_path_factory):
    """A LoRA adapter on every linear layer with random non-zero weights (fixed seed: the same bytes
    every session, so its conversion is cached across sessions too)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(embedded_dir), dtype=torch.float32)
    cfg = LoraConfig(
        r=8,
        lora_alpha=16,
        target_modules=["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
        lora_dropout=0.0,
        task_type="CAUSAL_LM",
    )
    peft_model = get_peft_model(model, cfg)
    gen = torch.Generator().manual_seed(1234)
    with torch.no_grad():  # peft starts B at zero (a no-op adapter): random A and B change the model
        for name, param in peft_model.named_parameters():
            if "lora_A" in name or "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=gen) * (0.025 if "lora_A" in name else 0.04))
    out = tmp_path_factory.mktemp("lora") / "adapter"
    peft_model.save_pretrained(str(out))
    return out


def test_auto_picks_ctranslate2_with_a_reason(embedded):
    assert embedded.engine == "ctranslate2"
    assert (
        "× as fast as transformers, measured on" in embedded.engine_reason
        and "tok/s" in embedded.engine_reason
    )
    assert embedded.identity()["engine"] == "ctranslate2"


@pytest.fixture(scope="module")
def base_answers(ct2_base, tf_base):
    return answers(ct2_base), answers(tf_base)


def test_greedy_answers_equal_transformers_on_the_embedded_model(base_answers):
    ct, tf = base_answers
    assert len(ct) == len(PROMPTS) >= 8
    differ = [
        (i, a.text, b.text) for i, (a, b) in enumerate(zip(ct, tf, strict=True)) if fields(a) != fields(b)
    ]
    assert not differ, differ
    assert {c.finish_reason for c in ct} >= {"length"}  # some answers run into max_tokens


def test_stop_strings_and_max_tokens_match_transformers(ct2_base, tf_base, base_answers):
    from tools.llm.types import GenParams, Request

    reqs = [Request(m, GenParams(max_tokens=16, stop=(" the ", "."))) for m in PROMPTS[1:4]]
    reqs += [Request(PROMPTS[3], GenParams(max_tokens=3))]
    ct = ct2_base.map(reqs, use_cache=False)
    tf = tf_base.map(reqs, use_cache=False)
    assert [fields(c) for c in ct] == [fields(c) for c in tf]
    assert ct[-1].usage.completion_tokens == 3 and ct[-1].finish_reason == "length"
    assert all(" the " not in c.text and "." not in c.text for c in ct[:3])
    full = [c.text for c in base_answers[0][1:4]]  # the same prompts without stop strings
    assert all(f.startswith(c.text) for c, f in zip(ct[:3], full, strict=True))
    assert any(len(c.text) < len(f) and c.finish_reason == "stop" for c, f in zip(ct[:3], full, strict=True))


def test_stream_matches_transformers(ct2_base, tf_base):
    from tools.llm.types import GenParams

    params = GenParams(max_tokens=24)
    info_c, info_t = {}, {}
    pieces_c = list(ct2_base.stream(PROMPTS[3], params, info=info_c))
    pieces_t = list(tf_base.stream(PROMPTS[3], params, info=info_t))
    assert pieces_c == pieces_t and len(pieces_c) > 3
    assert info_c == info_t
    assert "".join(pieces_c).strip() == ct2_base.complete(PROMPTS[3], max_tokens=24, use_cache=False).text


def test_seeded_sampling_is_reproducible(ct2_base):
    from tools.llm.types import GenParams, Request

    reqs = [
        Request(
            [{"role": "user", "content": "Name a fruit."}], GenParams(temperature=0.9, max_tokens=8, seed=s)
        )
        for s in (1, 2, 3)
    ]
    a = [c.text for c in ct2_base.map(reqs, use_cache=False)]
    b = [c.text for c in ct2_base.map(reqs, use_cache=False)]
    assert a == b
    one = [c.text for c in ct2_base.map(reqs[:1], use_cache=False)]
    assert one == [c.text for c in ct2_base.map(reqs[:1], use_cache=False)]
    assert len(set(a)) > 1  # the three answers in a batch are separate draws


def test_merged_adapter_greedy_answers_equal_transformers(lora_adapter, embedded_dir, base_answers, tmp_path):
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from tools.llm import ct2
    from tools.llm.local import LocalProvider

    ct = LocalProvider("embedded", adapter=str(lora_adapter), dtype="float32", engine="ctranslate2")
    tf = LocalProvider("embedded", adapter=str(lora_adapter), dtype="float32", engine="transformers")
    ct_out = answers(ct)
    assert ct.engine == "ctranslate2", ct.engine_reason
    meta = ct2.convert(embedded_dir, lora_adapter)
    assert (meta / ct2.META_FILE).exists()
    # the adapter changes the answers, so equality below is not the base model agreeing with itself
    base_out = base_answers[0]
    assert sum(a.text != b.text for a, b in zip(ct_out, base_out, strict=True)) >= 3
    # transformers with the adapter as it ran it before (an unmerged PeftModel), on a few prompts
    tf_out = answers(tf, PROMPTS[:4])
    assert [fields(c) for c in tf_out] == [fields(c) for c in ct_out[:4]]
    # transformers on the merged weights CTranslate2 was converted from
    model = AutoModelForCausalLM.from_pretrained(str(embedded_dir), dtype=torch.float32)
    merged = PeftModel.from_pretrained(model, str(lora_adapter)).merge_and_unload()
    merged.save_pretrained(str(tmp_path / "merged"))
    shutil.copy(embedded_dir / "tokenizer.json", tmp_path / "merged")
    shutil.copy(embedded_dir / "tokenizer_config.json", tmp_path / "merged")
    if (embedded_dir / "chat_template.jinja").exists():
        shutil.copy(embedded_dir / "chat_template.jinja", tmp_path / "merged")
    del model, merged
    tf_merged = LocalProvider(str(tmp_path / "merged"), dtype="float32", engine="transformers")
    assert [fields(c) for c in answers(tf_merged)] == [fields(c) for c in ct_out]


def test_conversion_is_cached_and_keyed_by_adapter_content(
    lora_adapter, embedded_dir, ct2_base, tmp_path, monkeypatch
):
    import safetensors.torch

    from tools.llm import ct2
    from tools.llm.local import LocalProvider

    base_dir = ct2.convert(embedded_dir)
    n = len(ct2.CONVERSIONS)
    stamp = (base_dir / "model.bin").stat().st_mtime_ns
    assert ct2.convert(embedded_dir) == base_dir  # a second load does not convert again
    assert (base_dir / "model.bin").stat().st_mtime_ns == stamp and len(ct2.CONVERSIONS) == n

    with_adapter = ct2.convert(embedded_dir, lora_adapter)
    assert with_adapter != base_dir and with_adapter.name == ct2.content_hash(embedded_dir, lora_adapter)[:24]
    n = len(ct2.CONVERSIONS)
    # the same adapter bytes in another folder: the same converted model, no new conversion
    copy = tmp_path / "copied-adapter"
    shutil.copytree(lora_adapter, copy)
    assert ct2.convert(embedded_dir, copy) == with_adapter and len(ct2.CONVERSIONS) == n
    monkeypatch.setattr(ct2, "_BY_SOURCE", {})  # a provider in a fresh process: found, not converted
    p = LocalProvider("embedded", adapter=str(copy), dtype="float32", engine="ctranslate2")
    assert p._loaded()[1].ct2_dir == with_adapter and len(ct2.CONVERSIONS) == n
    # other weights in the same folder: another key (retraining into the same adapter dir is not stale)
    weights = copy / "adapter_model.safetensors"
    tensors = safetensors.torch.load_file(str(weights))
    name = next(k for k in tensors if "lora_B" in k)
    tensors[name] = tensors[name] + 0.001
    safetensors.torch.save_file(tensors, str(weights), metadata={"format": "pt"})
    assert ct2.content_hash(embedded_dir, copy) != ct2.content_hash(embedded_dir, lora_adapter)


def test_fallback_to_transformers(monkeypatch, caplog, embedded_dir, tf_base):
    from tools.llm import ct2, local
    from tools.llm.local import LocalProvider

    forced = LocalProvider("embedded", dtype="float32", engine="transformers")
    assert forced.engine == "transformers" and forced.engine_reason == "set by engine=transformers"
    assert "engine" not in forced.identity()  # transformers' cache keys are unchanged
    monkeypatch.setenv("TUNEWISE_ENGINE", "transformers")
    assert LocalProvider("embedded", dtype="float32").engine == "transformers"
    monkeypatch.delenv("TUNEWISE_ENGINE")

    # an explicit bf16 request keeps transformers (this engine runs float32)
    assert LocalProvider("embedded", dtype="bfloat16").engine == "transformers"

    monkeypatch.setattr(ct2, "available", lambda: False)
    p = LocalProvider("embedded", dtype="float32")
    assert p.engine == "transformers" and "not installed" in p.engine_reason
    monkeypatch.undo()

    # a conversion that fails: one log line, then the same answers from transformers
    def broken(*a, **k):
        raise RuntimeError("converter exploded")

    monkeypatch.setattr(ct2, "convert", broken)
    monkeypatch.setattr(ct2, "_BY_SOURCE", {})  # as in a fresh process: the engine must be converted
    monkeypatch.setattr(local, "_CT2_FAILED", {})  # the failure must not stick to later tests' providers
    p = LocalProvider("embedded", dtype="float32", engine="ctranslate2")
    with caplog.at_level(logging.WARNING, logger="tunewise.llm"):
        out = p.complete(PROMPTS[0], max_tokens=12, use_cache=False)
    assert p.engine == "transformers" and "converter exploded" in p.engine_reason
    assert sum("ctranslate2 engine failed" in r.getMessage() for r in caplog.records) == 1
    assert out.text and out.usage.completion_tokens > 0


@pytest.mark.slow
def test_fast_conversion_writes_the_same_files(embedded_dir, lora_adapter, tmp_path):
    """The converter shortcuts (no per-layer gc.collect, linear-time aliasing) change no byte."""
    import filecmp

    from tools.llm import ct2

    for fast in (True, False):
        ct2._converter(embedded_dir, str(lora_adapter), fast=fast).convert(
            str(tmp_path / str(fast)), quantization=ct2.QUANTIZATION, force=True
        )
    for name in ("model.bin", "config.json", "vocabulary.json"):
        assert filecmp.cmp(tmp_path / "True" / name, tmp_path / "False" / name, shallow=False), name


def test_prune_keeps_live_and_recent_conversions(tmp_path, embedded_dir):
    import json
    import os

    from tools.llm import ct2

    root = tmp_path / "ct2"
    live = tmp_path / "adapter-live"
    live.mkdir()

    def conversion(name: str, adapter, used: int):
        d = root / name
        d.mkdir(parents=True)
        (d / ct2.META_FILE).write_text(
            json.dumps({"model": str(embedded_dir), "adapter": adapter and str(adapter)})
        )
        os.utime(d / ct2.META_FILE, (used, used))
        return d

    base = conversion("base", None, 1)
    gone = conversion("gone", tmp_path / "deleted-adapter", 5)  # its adapter folder no longer exists
    old = conversion("old", live, 2)
    new = conversion("new", live, 3)
    newest = conversion("newest", live, 4)
    dead_tmp = root / ".x.tmp-999999999-1"  # a conversion killed half-way
    dead_tmp.mkdir()
    removed = ct2.prune(root, keep_adapters=2)
    assert sorted(p.name for p in removed) == sorted([gone.name, old.name, dead_tmp.name])
    assert base.exists() and new.exists() and newest.exists()
    assert not gone.exists() and not old.exists() and not dead_tmp.exists()


def test_serve_uses_and_reports_the_same_engine(embedded):
    import httpx

    from tools.llm.server import _engine_line, banner, start_background_server

    base_url, stop = start_background_server(provider=embedded, batch_size=4)
    try:
        root = base_url.removesuffix("/v1")
        stats = httpx.get(f"{root}/stats").json()
        assert stats["engine"] == "ctranslate2" and "tok/s" in stats["engine_reason"]
        body = {"model": "embedded", "messages": PROMPTS[:1][0], "max_tokens": 12, "temperature": 0}
        served = httpx.post(f"{base_url}/chat/completions", json=body, timeout=120).json()
    finally:
        stop()
    assert served["choices"][0]["message"]["content"] == embedded.complete(PROMPTS[0], max_tokens=12).text
    text = banner(
        "m", "http://127.0.0.1:8000/v1", 8, api_key=False, host="127.0.0.1", engine=_engine_line(embedded)
    )
    assert "engine: ctranslate2 (" in text and "× as fast as transformers, measured on" in text
    assert "tok/s" not in text and "bench/" not in text  # the figures are in /stats


@pytest.mark.parametrize("engine", ["ctranslate2", "transformers"])
def test_a_batch_stops_when_its_stop_event_is_set(engine, ct2_base, tf_base):
    """The server sets a batch's stop event when every client of it left: both engines end the batch at
    the next token and return what they had (a batch without the event runs to max_tokens)."""
    import threading

    from tools.llm.types import GenParams

    provider = ct2_base if engine == "ctranslate2" else tf_base
    batch = [(m, GenParams(max_tokens=10), None) for m in PROMPTS[:2]]
    full = provider._generate_batch(batch)
    assert max(r.completion_tokens for r in full) > 2
    stop = threading.Event()
    stop.set()
    cut = provider._generate_batch(batch, stop_event=stop)
    assert len(cut) == 2
    assert all(r.completion_tokens <= 1 for r in cut), [r.completion_tokens for r in cut]
    assert all(f.text.startswith(c.text) for c, f in zip(cut, full, strict=True))
    unset = provider._generate_batch(batch, stop_event=threading.Event())  # never set: the same answers
    assert [r.text for r in unset] == [r.text for r in full]


def few_shot_prompts(n: int = 4) -> list[list[dict]]:
    """The demo task's prompt: its system prompt and six demonstrations, then one input each."""
    from pathlib import Path

    from agent.probe import few_shot_messages
    from tools.spec import load_spec

    root = Path(__file__).resolve().parents[1]
    spec = load_spec(root / "examples" / "demo_task.yaml")
    inputs = [x for x in (root / "examples" / "demo_inputs.txt").read_text().splitlines() if x.strip()]
    return [few_shot_messages(spec, spec.examples, x) for x in inputs[:n]]


def test_a_shared_prompt_beginning_ends_at_a_message_and_leaves_each_prompt_a_token():
    from tools.llm.ct2 import shared_prefix

    T = 7  # the token that opens a message
    system = [T, 1, 2, 3, 4, 5]
    a, b = system + [T, 9, 9, 10], system + [T, 9, 9, 11]
    assert shared_prefix([a, b], minimum=3) == 9  # token by token: up to where they differ
    assert shared_prefix([a, b], minimum=3, turn_start=T) == 6  # at the start of the last shared message
    assert shared_prefix([a], minimum=3, turn_start=T) == 6  # one prompt: the same cut as its batch
    assert shared_prefix([a, b], minimum=7, turn_start=T) == 0  # too short to cache
    assert shared_prefix([[1, 2], [1, 2]], minimum=1) == 1  # each keeps a token of its own
    assert shared_prefix([], minimum=1) == 0


def test_the_cached_prompt_beginning_gives_the_same_greedy_answers(ct2_base, tf_base):
    """Few-shot prompts share ~400 tokens: CTranslate2 runs them once and keeps their state (2.7× the
    requests per second on the demo's teacher requests, bench/local_batch.py); the answers must be the ones
    computed without it, and transformers' own."""
    prompts = few_shot_prompts()
    _, engine = ct2_base._loaded()
    assert engine.prefix_cache and engine.turn_start is not None
    cached = [fields(c) for c in answers(ct2_base, prompts)]
    again = [fields(c) for c in answers(ct2_base, prompts)]  # from the kept state
    engine.prefix_cache = False
    try:
        plain = [fields(c) for c in answers(ct2_base, prompts)]
    finally:
        engine.prefix_cache = True
    assert cached == again == plain
    assert cached == [fields(c) for c in answers(tf_base, prompts)]
    assert all(c[0].startswith("{") for c in cached)  # real answers, not empty ones
