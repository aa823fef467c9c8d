"""auto_config decisions and override validation: pure functions, no model."""

from __future__ import annotations

import pytest

from tools.errors import ConfigError
from tools.train.config import (
    DatasetStats,
    Hardware,
    ModelInfo,
    TrainConfig,
    apply_overrides,
    auto_config,
    parse_set_flags,
)

CPU = Hardware(device="cpu", ram_gb=16, cpu_bf16=False)
CPU_BF16 = Hardware(device="cpu", ram_gb=16, cpu_bf16=True)
GPU_BNB = Hardware(
    device="cuda", gpu_name="H100", gpu_mem_gb=80, n_gpus=1, cuda_bf16=True, has_bitsandbytes=True
)
GPU_NO_BNB = Hardware(device="cuda", gpu_name="H100", gpu_mem_gb=80, n_gpus=1, cuda_bf16=True)


def stats(n: int, length: int = 100, n_val: int = 10) -> DatasetStats:
    return DatasetStats(n_train=n, n_val=n_val, token_lengths=[length - 20 + (i % 40) for i in range(n)])


@pytest.mark.parametrize("n,rank", [(50, 8), (199, 8), (200, 16), (1000, 16), (1001, 32), (20000, 32)])
def test_rank_by_data_size_and_alpha_twice_rank(n, rank):
    cfg = auto_config(stats(n), "embedded", CPU)
    assert cfg.lora_r == rank and cfg.lora_alpha == 2 * rank
    assert cfg.lora_dropout == 0.05 and cfg.target_modules == "all-linear"
    assert str(n) in cfg.reasons["lora_r"]


def test_method_by_hardware():
    assert auto_config(stats(100), hardware=CPU).method == "lora"
    assert auto_config(stats(100), hardware=CPU).dtype == "float32"
    assert auto_config(stats(100), hardware=CPU_BF16).dtype == "bfloat16"
    q = auto_config(stats(100), hardware=GPU_BNB)
    assert (q.method, q.dtype, q.optim, q.gradient_checkpointing) == (
        "qlora",
        "bfloat16",
        "paged_adamw_8bit",
        True,
    )
    lb = auto_config(stats(100), hardware=GPU_NO_BNB)
    assert (lb.method, lb.dtype) == ("lora", "bfloat16")
    assert not auto_config(stats(100), hardware=CPU).gradient_checkpointing


def test_epochs_schedule_and_every_choice_has_a_reason():
    small, large = auto_config(stats(150), hardware=CPU), auto_config(stats(5000), hardware=CPU)
    assert 3 <= small.num_train_epochs <= 5 and 1 <= large.num_train_epochs <= 3
    assert small.learning_rate == 2e-4 and small.lr_scheduler_type == "cosine"
    assert large.warmup_steps >= 1
    assert small.save_steps % small.eval_steps == 0
    for cfg in (small, large):
        for name in (
            "method",
            "dtype",
            "lora_r",
            "lora_alpha",
            "max_length",
            "per_device_train_batch_size",
            "gradient_accumulation_steps",
            "num_train_epochs",
            "learning_rate",
            "warmup_steps",
            "eval_steps",
            "early_stopping_patience",
        ):
            assert cfg.reasons.get(name), name
            assert "\n" not in cfg.reasons[name]


def test_a_small_set_gets_enough_optimizer_steps_and_early_stopping_keeps_the_best():
    """The groomer bench: 43 rows, 5 epochs = 30 steps, the eval loss still falling at the last check and the
    tuned model answering in sentences. Under 100 examples (with a validation split) it gets ~60 steps."""
    from tools.train.config import MIN_SMALL_STEPS

    cfg = auto_config(stats(43), hardware=CPU)
    steps = -(-43 // cfg.effective_batch_size) * cfg.num_train_epochs
    assert steps >= MIN_SMALL_STEPS and cfg.num_train_epochs == 10 and cfg.early_stopping_patience == 3
    assert "optimizer steps" in cfg.reasons["num_train_epochs"]
    assert auto_config(stats(43, n_val=0), hardware=CPU).num_train_epochs == 5  # nothing to stop it early
    assert auto_config(stats(8), hardware=CPU).num_train_epochs == 12  # at most 12 passes


def test_max_length_from_p99_capped_by_context():
    s = DatasetStats(n_train=100, n_val=5, token_lengths=[100] * 98 + [300, 5000])
    cfg = auto_config(s, hardware=CPU, model_info=ModelInfo(context_length=8192))
    assert cfg.max_length >= 300 and cfg.max_length % 64 == 0 and cfg.max_length < 5000
    capped = auto_config(
        DatasetStats(100, 5, [9000] * 100), hardware=CPU, model_info=ModelInfo(context_length=2048)
    )
    assert capped.max_length == 2048 and "capped" in capped.reasons["max_length"]


def test_batch_size_shrinks_with_memory():
    s = DatasetStats(2000, 50, [3000] * 2000)
    mi = ModelInfo(n_params=8_000_000_000, context_length=8192, hidden_size=4096, num_layers=32)
    big = auto_config(s, hardware=GPU_BNB, model_info=mi)
    small = auto_config(
        s,
        hardware=Hardware(device="cuda", gpu_mem_gb=12, cuda_bf16=True, has_bitsandbytes=True),
        model_info=mi,
    )
    assert small.per_device_train_batch_size <= big.per_device_train_batch_size
    assert small.effective_batch_size == big.effective_batch_size == 16


def test_no_val_split_turns_early_stopping_off():
    assert auto_config(stats(50, n_val=0), hardware=CPU).early_stopping_patience == 0


def test_overrides_are_coerced_and_recorded():
    cfg = auto_config(stats(50), hardware=CPU)
    new = apply_overrides(
        cfg,
        parse_set_flags(["lora_r=4", "learning_rate=1e-3", "packing=true", "max-steps=3"]),
        source="--set",
    )
    assert (new.lora_r, new.learning_rate, new.packing, new.max_steps) == (4, 1e-3, True, 3)
    assert new.lora_alpha == 8  # alpha follows an overridden rank
    assert new.reasons["lora_r"] == "set by --set"
    assert cfg.lora_r == 8  # the original is untouched


@pytest.mark.parametrize(
    "over,field,hint",
    [
        ({"lora_rank": 8}, "lora_rank", "lora_r"),
        ({"method": "full"}, "method", "lora, qlora"),
        ({"dtype": "fp8"}, "dtype", "bfloat16"),
        ({"lora_r": "big"}, "lora_r", "int"),
        ({"lora_r": 0}, "lora_r", "1 to 1024"),
        ({"packing": "maybe"}, "packing", "bool"),
        ({"save_steps": 7, "eval_steps": 5}, "save_steps", "multiple"),
    ],
)
def test_invalid_overrides_name_the_field_and_allowed_values(over, field, hint):
    with pytest.raises(ConfigError) as e:
        apply_overrides(auto_config(stats(50), hardware=CPU), over)
    assert field in e.value.one_line() and hint in e.value.one_line()
    assert e.value.exit_code == 2


def test_round_trip_dict():
    cfg = auto_config(stats(50), hardware=CPU)
    d = cfg.to_dict()
    d["run_id"] = "x"
    back = TrainConfig.from_dict(d)
    assert back.to_dict() == cfg.to_dict() and back.extras == {"run_id": "x"}
    assert any(r[0] == "lora_r" for r in back.explain())


def test_padding_free_only_with_flash_attention():
    varied = DatasetStats(300, 20, [40 + (i % 200) for i in range(300)])
    assert not auto_config(varied, hardware=CPU).padding_free
    assert "FlashAttention" in auto_config(varied, hardware=CPU).reasons["padding_free"]
    assert not auto_config(varied, hardware=GPU_NO_BNB).padding_free
    flash = Hardware(device="cuda", gpu_mem_gb=80, cuda_bf16=True, has_bitsandbytes=True, has_flash_attn=True)
    assert auto_config(varied, hardware=flash).padding_free
