"""QLoRA on CUDA (nf4, double quant, bf16 compute, paged_adamw_8bit, gradient checkpointing). Marked `gpu`."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]


def test_auto_config_picks_qlora_on_this_gpu():
    import importlib.util

    from tools.train.config import DatasetStats, auto_config, detect_hardware

    hw = detect_hardware()
    cfg = auto_config(DatasetStats(300, 20, [200] * 300), "embedded", hw)
    if importlib.util.find_spec("bitsandbytes"):
        assert (cfg.method, cfg.optim, cfg.gradient_checkpointing) == ("qlora", "paged_adamw_8bit", True)
    else:
        assert cfg.method == "lora" and cfg.dtype in ("bfloat16", "float16")


def test_qlora_run_trains_a_4bit_base(tmp_path):
    pytest.importorskip("bitsandbytes")
    pytest.importorskip("trl")
    from test_train_run import write_data
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from tools.train.config import TrainConfig
    from tools.train.sft import load_model_and_tokenizer, train
    from tools.workspace import Workspace

    # a small random Llama (the embedded model may not be on a GPU box): 4-bit loading needs real files
    model_dir = tmp_path / "tiny-llama"
    cfg = AutoConfig.for_model(
        "llama",
        hidden_size=256,
        intermediate_size=768,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=2,
        vocab_size=49152,
        max_position_embeddings=1024,
    )
    AutoModelForCausalLM.from_config(cfg).save_pretrained(str(model_dir))
    try:
        from tools.llm.embedded import embedded_model_dir

        tok = AutoTokenizer.from_pretrained(str(embedded_model_dir()))
    except Exception:  # noqa: BLE001 - no embedded model on this machine
        pytest.skip("needs a chat tokenizer (the embedded model's)")
    tok.save_pretrained(str(model_dir))

    run = Workspace(tmp_path).ensure().create_run("gpu")
    data = write_data(run)
    out = run.path / "train" / "v1"
    out.mkdir(parents=True)
    tc = TrainConfig(
        model=str(model_dir),
        data_dir=str(data),
        method="qlora",
        dtype="bfloat16",
        optim="paged_adamw_8bit",
        gradient_checkpointing=True,
        lora_r=8,
        lora_alpha=16,
        max_steps=4,
        max_length=128,
        per_device_train_batch_size=4,
        per_device_eval_batch_size=4,
        eval_steps=2,
        save_steps=2,
        learning_rate=1e-3,
    )
    (out / "config.json").write_text(json.dumps(tc.to_dict()))

    model, _ = load_model_and_tokenizer(tc, model_dir, on_cuda=True)
    q = model.config.quantization_config
    q = q.to_dict() if hasattr(q, "to_dict") else q
    assert q["load_in_4bit"] and q["bnb_4bit_quant_type"] == "nf4" and q["bnb_4bit_use_double_quant"]
    assert "bfloat16" in str(q["bnb_4bit_compute_dtype"])
    del model

    assert train(out) == 0
    m = json.loads((out / "metrics.json").read_text())
    assert m["status"] == "completed" and m["final_step"] == 4 and m["peak_mem_mb"] > 0
    assert m["train_loss"] < m["first_train_loss"]
    assert (out / "adapter" / "adapter_config.json").exists()
