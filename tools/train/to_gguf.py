"""Write a GGUF file for a Llama-architecture model with the `gguf` package alone (no llama.cpp checkout).

    reason = unsupported_reason(model_dir)      # None when this writer can do it, else one sentence why not
    info = write_gguf(model_dir, out_path, "f16")   # or "q8_0" / "f32"

What it writes follows llama.cpp's `convert_hf_to_gguf.py` (`LlamaModel` with a GPT-2-style BPE vocab):
- hyperparameters under `llama.*` (blocks, context, widths, heads, kv heads, rope base/dims/scaling, rms eps);
- tensors renamed with the package's own map (`gguf.get_tensor_name_map(MODEL_ARCH.LLAMA, n)`); q/k projection
  rows permuted the way llama.cpp's `LlamaModel.permute` does (llama.cpp's rope pairs neighbouring dims,
  Hugging Face's pairs the two halves; transformers' GGUF loader applies the inverse on the way back);
  1-D tensors and norms stay F32, 2-D weights become F16 / Q8_0 (a row that cannot be blocked falls back to F16);
- the tokenizer: `tokenizer.ggml.model = gpt2`, the pre-tokenizer name llama.cpp knows it by (recognized by the
  same hash of a fixed text's token ids), every token with its type, the merges, bos/eos/unk/pad ids, whether
  bos/eos are added, and the chat template (`gguf.SpecialVocab`).

Other architectures, SentencePiece vocabularies and pre-tokenizers llama.cpp would not recognize are refused
with a reason (`unsupported_reason`), so the caller can fall back to a llama.cpp checkout or say what is missing.
"""

from __future__ import annotations

import json
import math
import os
from hashlib import sha256
from pathlib import Path
from typing import Any, cast

OUTTYPES = ("f16", "q8_0", "f32")
LLAMA_ARCHITECTURES = ("LlamaForCausalLM", "LLaMAForCausalLM")

# llama.cpp's get_vocab_base_pre(): sha256(str(tokenizer.encode(CHKTXT))) → the pre-tokenizer's name in
# llama.cpp. Only tokenizers used by Llama-architecture models are listed; another hash is refused (a wrong
# pre-tokenizer silently tokenizes differently in llama.cpp / Ollama).
CHKTXT = (
    "\n \n\n \n\n\n \t \t\t \t\n  \n   \n    \n     \n🚀 (normal) 😶\u200d🌫️ (multiple emojis concatenated) ✅ "
    "🦙🦙 3 33 333 3333 33333 333333 3333333 33333333 3.3 3..3 3...3 កាន់តែពិសេសអាច😁 ?我想在apple工作1314151天～ "
    "------======= нещо на Български ''''''```````\"\"\"\"......!!!!!!?????? I've been 'told he's there, "
    "'RE you sure? 'M not sure I'll make it, 'D you like some tea? We'Ve a'lL"
)
KNOWN_PRE_TOKENIZERS = {
    "855059429035d75a914d1eda9f10a876752e281a054a7a3d421ef0533e5b6249": "smollm",  # HuggingFaceTB/SmolLM(2)
    "0ef9807a4087ebef797fc749390439009c3b9eda9ad1a097abbe738f486c01e5": "llama-bpe",  # Meta-Llama-3
    "3ce83efda5659b07b1ad37ca97ca5797ea4285d9b9ab0dc679e4a720c9da7454": "gpt-2",  # openai-community/gpt2
}


def _read_config(model_dir: Path) -> dict:
    p = model_dir / "config.json"
    if not p.exists():
        return {}
    try:
        return json.loads(p.read_text())
    except (OSError, ValueError):
        return {}


def _rope(cfg: dict) -> tuple[float, dict | None]:
    """(rope_theta, scaling dict or None) from a transformers 4 (`rope_theta`, `rope_scaling`) or 5
    (`rope_parameters`) config."""
    params = cfg.get("rope_parameters") or {}
    scaling = cfg.get("rope_scaling") or (params if params.get("rope_type", "default") != "default" else None)
    theta = params.get("rope_theta", cfg.get("rope_theta", 10000.0))
    if scaling and (scaling.get("rope_type") or scaling.get("type")) in (None, "default"):
        scaling = None
    return float(theta), scaling


def _tokenizer_kind(model_dir: Path) -> str | None:
    p = model_dir / "tokenizer.json"
    if not p.exists():
        return None
    try:
        tj = json.loads(p.read_text())
    except (OSError, ValueError):
        return None
    model = tj.get("model") or {}
    if model.get("type") != "BPE":
        return str(model.get("type"))
    if model.get("byte_fallback"):
        return "sentencepiece-bpe"  # Llama 2 / Mistral style: llama.cpp writes these as a `llama` vocab
    return "bpe"


def pre_tokenizer_name(tokenizer) -> tuple[str | None, str]:
    chkhsh = sha256(str(tokenizer.encode(CHKTXT)).encode()).hexdigest()
    return KNOWN_PRE_TOKENIZERS.get(chkhsh), chkhsh


def unsupported_reason(model_dir: str | Path, tokenizer=None) -> str | None:
    """None when `write_gguf` can write this model, else one sentence saying why it cannot."""
    model_dir = Path(model_dir)
    cfg = _read_config(model_dir)
    archs = cfg.get("architectures") or []
    if not any(a in LLAMA_ARCHITECTURES for a in archs) or cfg.get("model_type") not in (None, "llama"):
        return (
            f"the built-in GGUF writer handles Llama-architecture models only; this one is "
            f"{', '.join(archs) or cfg.get('model_type') or 'of an unknown architecture'}"
        )
    if cfg.get("num_local_experts"):
        return "the built-in GGUF writer does not handle mixture-of-experts Llama models"
    _, scaling = _rope(cfg)
    if scaling and (scaling.get("rope_type") or scaling.get("type")) not in ("linear", "llama3"):
        return f"the built-in GGUF writer does not handle rope scaling {scaling.get('rope_type') or scaling.get('type')!r}"
    kind = _tokenizer_kind(model_dir)
    if kind != "bpe":
        return (
            "the built-in GGUF writer handles GPT-2-style byte-level BPE tokenizers (tokenizer.json) only; "
            f"this tokenizer is {kind or 'missing (no tokenizer.json)'}"
        )
    if tokenizer is None:
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    name, chkhsh = pre_tokenizer_name(tokenizer)
    if name is None:
        return (
            f"llama.cpp would not recognize this tokenizer's pre-tokenizer (hash {chkhsh[:12]}…; known: "
            f"{', '.join(sorted(KNOWN_PRE_TOKENIZERS.values()))})"
        )
    return None


def permute(weights, n_head: int, n_head_kv: int | None):
    """llama.cpp's `LlamaModel.permute` (convert_hf_to_gguf.py): HF rotate-half rows → interleaved pairs."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def _llama3_rope_factors(cfg: dict, scaling: dict, theta: float):
    import numpy as np

    dim = cfg.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    freqs = 1.0 / (theta ** (np.arange(0, dim, 2, dtype=np.float32) / dim))
    factor = scaling.get("factor", 8.0)
    low, high = scaling.get("low_freq_factor", 1.0), scaling.get("high_freq_factor", 4.0)
    old_ctx = scaling.get("original_max_position_embeddings", 8192)
    low_wl, high_wl = old_ctx / low, old_ctx / high
    out = []
    for f in freqs:
        wl = 2 * math.pi / f
        if wl < high_wl:
            out.append(1.0)
        elif wl > low_wl:
            out.append(factor)
        else:
            smooth = (old_ctx / wl - low) / (high - low)
            out.append(1 / ((1 - smooth) / factor + smooth))
    return np.asarray(out, dtype=np.float32)


def _vocab(tokenizer, vocab_size: int):
    """llama.cpp's get_vocab_base(): every id below vocab_size, with NORMAL / CONTROL / USER_DEFINED / UNUSED."""
    import gguf

    reverse = {i: t for t, i in tokenizer.get_vocab().items()}
    added = tokenizer.get_added_vocab()
    decoder = getattr(tokenizer, "added_tokens_decoder", {}) or {}
    tokens, types = [], []
    for i in range(vocab_size):
        if i not in reverse:
            tokens.append(f"[PAD{i}]")
            types.append(gguf.TokenType.UNUSED)
            continue
        tok = reverse[i]
        if tok in added:
            special = bool(getattr(decoder.get(i), "special", False)) or (
                tok.startswith("<|") and tok.endswith("|>")
            )
            if special:
                types.append(gguf.TokenType.CONTROL)
            else:
                tok = tok.replace("\u2581", " ")
                types.append(gguf.TokenType.USER_DEFINED)
        else:
            types.append(gguf.TokenType.NORMAL)
        tokens.append(tok)
    return tokens, types


def write_gguf(  # noqa: C901, PLR0915 - llama.cpp's GGUF layout, key by key, in the order the file holds them
    model_dir: str | Path, out_path: str | Path, outtype: str = "f16", *, name: str | None = None
) -> dict:
    """Write `out_path` from a merged Hugging Face Llama directory. Returns what was written (sizes, types).

    Raises ValueError with the reason when the model is not one this writer handles (see unsupported_reason)."""
    import gguf
    import numpy as np
    from safetensors import safe_open
    from transformers import AutoTokenizer

    model_dir, out_path = Path(model_dir), Path(out_path)
    if outtype not in OUTTYPES:
        raise ValueError(f"unknown GGUF outtype {outtype!r} (choose {', '.join(OUTTYPES)})")
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    reason = unsupported_reason(model_dir, tokenizer)
    if reason:
        raise ValueError(reason)
    cfg = _read_config(model_dir)
    n_blocks = int(cfg["num_hidden_layers"])
    n_head = int(cfg["num_attention_heads"])
    n_head_kv = int(cfg.get("num_key_value_heads") or n_head)
    theta, scaling = _rope(cfg)
    ftype, wtype = {
        "f16": (gguf.LlamaFileType.MOSTLY_F16, gguf.GGMLQuantizationType.F16),
        "q8_0": (gguf.LlamaFileType.MOSTLY_Q8_0, gguf.GGMLQuantizationType.Q8_0),
        "f32": (gguf.LlamaFileType.ALL_F32, gguf.GGMLQuantizationType.F32),
    }[outtype]

    tmp = out_path.with_name(f".{out_path.name}.tmp-{os.getpid()}")
    parts = sorted(model_dir.glob("*.safetensors"))
    if not parts:
        raise ValueError(f"no *.safetensors in {model_dir} (save the merged model with safe_serialization)")
    # the writer holds every tensor until it writes them: past ~2 GB of weights, hold them in a temp file
    big = sum(p.stat().st_size for p in parts) > 2 * 2**30
    w = gguf.GGUFWriter(str(tmp), gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA], use_temp_file=big)
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name(name or model_dir.name)
    w.add_block_count(n_blocks)
    if cfg.get("max_position_embeddings"):
        w.add_context_length(int(cfg["max_position_embeddings"]))
    w.add_embedding_length(int(cfg["hidden_size"]))
    w.add_feed_forward_length(int(cfg["intermediate_size"]))
    w.add_head_count(n_head)
    w.add_head_count_kv(n_head_kv)
    w.add_rope_freq_base(theta)
    w.add_layer_norm_rms_eps(float(cfg.get("rms_norm_eps", 1e-6)))
    w.add_file_type(ftype)
    vocab_size = int(cfg.get("vocab_size") or len(tokenizer.get_vocab()))
    w.add_vocab_size(vocab_size)
    head_dim = int(cfg.get("head_dim") or cfg["hidden_size"] // n_head)
    w.add_rope_dimension_count(head_dim)
    if cfg.get("head_dim"):
        w.add_key_length(head_dim)
        w.add_value_length(head_dim)
    if scaling and (scaling.get("rope_type") or scaling.get("type")) == "linear":
        w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
        w.add_rope_scaling_factor(float(scaling["factor"]))

    # tokenizer: tokens and types, the pre-tokenizer, merges, special ids, add-bos/eos, chat template
    tokens, types = _vocab(tokenizer, vocab_size)
    pre, _ = pre_tokenizer_name(tokenizer)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(cast(str, pre))  # known: unsupported_reason refused an unknown pre-tokenizer above
    w.add_token_list(tokens)
    w.add_token_types(types)
    special = gguf.SpecialVocab(model_dir, load_merges=True, n_vocab=len(tokens))
    if not special.merges:
        raise ValueError("the tokenizer has no BPE merges (tokenizer.json model.merges is empty)")
    probe = tokenizer("a")["input_ids"]
    if tokenizer.bos_token_id is not None:
        special.add_special_token["bos"] = bool(probe) and probe[0] == tokenizer.bos_token_id
    if tokenizer.eos_token_id is not None:
        special.add_special_token["eos"] = bool(probe) and probe[-1] == tokenizer.eos_token_id
    if special.chat_template is None and getattr(tokenizer, "chat_template", None):
        special.chat_template = tokenizer.chat_template
    special.add_to_gguf(w, quiet=True)
    if (tc := model_dir / "tokenizer_config.json").exists():
        tcfg = json.loads(tc.read_text())
        if "add_prefix_space" in tcfg:
            w.add_add_space_prefix(bool(tcfg["add_prefix_space"]))

    # tensors
    tmap = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, n_blocks)
    counts: dict[str, int] = {}
    n_params = 0
    if scaling and (scaling.get("rope_type") or scaling.get("type")) == "llama3":
        w.add_tensor(
            gguf.TENSOR_NAMES[gguf.MODEL_TENSOR.ROPE_FREQS] + ".weight",
            _llama3_rope_factors(cfg, scaling, theta),
            raw_dtype=gguf.GGMLQuantizationType.F32,
        )
    tied = bool(cfg.get("tie_word_embeddings", False))
    for part in parts:
        with safe_open(str(part), framework="pt", device="cpu") as f:
            for key in f.keys():
                if key.endswith(".rotary_emb.inv_freq"):
                    continue
                if tied and key == "lm_head.weight":
                    continue  # llama.cpp uses token_embd when output.weight is absent
                new = tmap.get_name(key, try_suffixes=(".weight", ".bias"))
                if new is None:
                    raise ValueError(f"cannot map tensor {key!r} to a GGUF name (not a plain Llama model?)")
                data = f.get_tensor(key).float().numpy()
                if key.endswith(("q_proj.weight", "q_proj.bias")):
                    data = permute(data, n_head, n_head)
                elif key.endswith(("k_proj.weight", "k_proj.bias")):
                    data = permute(data, n_head, n_head_kv)
                n_params += data.size
                qtype = wtype
                if data.ndim <= 1 or new.endswith("_norm.weight") or not new.endswith(".weight"):
                    qtype = gguf.GGMLQuantizationType.F32
                try:
                    packed = gguf.quants.quantize(np.ascontiguousarray(data), qtype)
                except gguf.QuantError:
                    qtype = gguf.GGMLQuantizationType.F16
                    packed = gguf.quants.quantize(data, qtype)
                counts[qtype.name] = counts.get(qtype.name, 0) + 1
                w.add_tensor(new, packed, raw_dtype=qtype)
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    try:
        w.write_header_to_file()
        w.write_kv_data_to_file()
        w.write_tensors_to_file()
    except BaseException:
        w.close()
        tmp.unlink(missing_ok=True)
        raise
    w.close()
    os.replace(tmp, out_path)
    return {
        "path": str(out_path),
        "outtype": outtype,
        "bytes": out_path.stat().st_size,
        "tensors": counts,
        "n_params": n_params,
        "tokenizer_pre": pre,
        "n_tokens": len(tokens),
        "n_merges": len(special.merges),
        "special_token_ids": dict(special.special_token_ids),
        "chat_template": bool(special.chat_template),
        "writer": f"gguf {_gguf_version()} (built in)",
    }


def _gguf_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gguf")
    except PackageNotFoundError:  # pragma: no cover
        return "?"


def describe(info: dict[str, Any]) -> str:
    """One line: file, type, size, and (built-in writer) parameters and tokenizer."""
    text = f"{Path(info['path']).name}: {info.get('outtype')}, {info.get('bytes', 0) / 1e6:.0f} MB"
    if info.get("n_params"):
        text += (
            f", {info['n_params'] / 1e6:.1f}M parameters, tokenizer {info['tokenizer_pre']} "
            f"({info['n_tokens']} tokens, {info['n_merges']} merges)"
        )
    return text
