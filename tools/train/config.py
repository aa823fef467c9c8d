"""The training config: one typed object, a reason for every automatic choice, validated overrides.

`auto_config(stats, model, hardware)` is a pure function of the data's size and token lengths, the
model's shape and the machine: it picks LoRA vs QLoRA, rank, epochs, max length, batch size and the
evaluation cadence, and writes a one-line reason per field into `config.reasons` (shown to the user).
`apply_overrides(cfg, {...})` takes YAML or `--set key=value` overrides, coerces strings, and refuses
unknown fields or bad values with a `ConfigError` naming the field and what is allowed.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from tools.errors import ConfigError

Method = Literal["lora", "qlora"]
Dtype = Literal["float32", "bfloat16", "float16"]
Scheduler = Literal["cosine", "linear", "constant", "constant_with_warmup", "cosine_with_min_lr"]
Optim = Literal["adamw_torch", "adamw_torch_fused", "paged_adamw_8bit", "adamw_8bit", "sgd"]
Backend = Literal["local", "openai", "together"]
METHODS: tuple[str, ...] = get_args(Method)
DTYPES: tuple[str, ...] = get_args(Dtype)
SCHEDULERS: tuple[str, ...] = get_args(Scheduler)
OPTIMS: tuple[str, ...] = get_args(Optim)
BACKENDS: tuple[str, ...] = get_args(Backend)
TRACKERS = ("tensorboard", "wandb", "mlflow")  # report_to: any of these (comma list) or none


class TrainConfig(BaseModel):
    """Everything one training run needs. Serialized as `train/vN/config.json`.

    A pydantic model (like the task spec): each field carries its help text (`description`) and its
    choices (`Literal`) or range (`ge`/`le`); values are checked on construction and on assignment, so
    `apply_overrides` only turns a failed check into a `ConfigError`. Rules between fields are in
    `validate_config`, run after overrides (`auto_config` sets fields one at a time)."""

    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, coerce_numbers_to_str=True, allow_inf_nan=False
    )

    # what to train
    model: str = Field(
        default="embedded",
        description="base model: `embedded`, a local HF directory, a .gguf file or a Hub id org/name[@revision]",
    )
    backend: Backend = Field(
        default="local", description="where training runs: local (TRL+PEFT) or a managed API"
    )
    data_version: str | None = Field(default=None, description="data version (vN) under runs/<id>/data/")
    data_dir: str | None = Field(
        default=None, description="absolute path of the data version directory (set by the runner)"
    )
    system_prompt: str | None = Field(
        default=None,
        description="the system prompt the tuned model is trained and served with: added to rows that have "
        "none (SmolLM2 otherwise inserts its own default) and replacing `replaces_system_prompt` (auto: the "
        "task's one-line description when its system prompt is much longer)",
    )
    replaces_system_prompt: str | None = Field(
        default=None,
        description="the task's full system prompt; training rows that carry it get `system_prompt` instead",
    )
    # method
    method: Method = Field(
        default="lora",
        description="lora (full-precision base) or qlora (4-bit nf4 base, CUDA + bitsandbytes)",
    )
    dtype: Dtype = Field(default="float32", description="compute dtype; bfloat16/float16 use mixed precision")
    lora_r: int = Field(default=8, description="LoRA rank", ge=1, le=1024)
    lora_alpha: int = Field(default=16, description="LoRA alpha (scaling = alpha / r)", ge=1, le=4096)
    lora_dropout: float = Field(default=0.05, description="dropout on the LoRA branch", ge=0.0, le=0.9)
    target_modules: str = Field(
        default="all-linear", description="modules that get adapters (`all-linear` or a comma list)"
    )
    # optimisation
    learning_rate: float = Field(default=2e-4, description="peak learning rate", ge=1e-7, le=1.0)
    lr_scheduler_type: Scheduler = Field(default="cosine", description="learning-rate schedule")
    warmup_steps: int = Field(
        default=0, description="linear warm-up steps (TRL 1.16 has no warmup_ratio)", ge=0
    )
    weight_decay: float = Field(default=0.0, description="AdamW weight decay", ge=0.0, le=1.0)
    max_grad_norm: float = Field(default=1.0, description="gradient clipping norm", ge=0.0)
    optim: Optim = Field(default="adamw_torch", description="optimizer")
    num_train_epochs: float = Field(
        default=3.0, description="passes over the training split", ge=0.01, le=100
    )
    max_steps: int = Field(
        default=-1, description="stop after this many optimizer steps (-1: use epochs)", ge=-1
    )
    seed: int = Field(default=42, description="random seed for data order and adapter init", ge=0)
    # batches and sequence length
    max_length: int = Field(
        default=512, description="tokens per example; longer ones are truncated", ge=8, le=1_000_000
    )
    per_device_train_batch_size: int = Field(
        default=8, description="examples per forward pass", ge=1, le=4096
    )
    per_device_eval_batch_size: int = Field(
        default=8, description="examples per eval forward pass", ge=1, le=4096
    )
    gradient_accumulation_steps: int = Field(
        default=1, description="forward passes per optimizer step", ge=1, le=4096
    )
    gradient_checkpointing: bool = Field(
        default=False, description="recompute activations to save memory (slower)"
    )
    checkpoint_layers: float = Field(
        default=1.0,
        description="with gradient_checkpointing: the share of decoder layers recomputed (1 = all; 0.5 = every "
        "other layer: about half the memory saved for about half the slow-down)",
        gt=0.0,
        le=1.0,
    )
    padding_free: bool = Field(
        default=False, description="flatten each batch into one sequence (no pad tokens)"
    )
    packing: bool = Field(default=False, description="pack several examples into each max_length block (bfd)")
    use_liger_kernel: bool = Field(
        default=False, description="Liger fused kernels (CUDA only, needs liger-kernel)"
    )
    # evaluation, checkpoints, early stopping
    eval_steps: int = Field(default=10, description="evaluate on the validation split every N steps", ge=1)
    save_steps: int = Field(
        default=10, description="checkpoint every N steps (a multiple of eval_steps)", ge=1
    )
    save_total_limit: int = Field(
        default=2, description="checkpoints kept on disk (the best is always kept)", ge=1
    )
    logging_steps: int = Field(default=1, description="log loss/lr/grad-norm every N steps", ge=1)
    early_stopping_patience: int = Field(
        default=3, description="stop after N evaluations without eval-loss improvement (0: off)", ge=0
    )
    early_stopping_threshold: float = Field(
        default=0.0, description="minimum eval-loss improvement that counts", ge=0.0
    )
    # machines
    processes: int = Field(
        default=1, description="processes (DDP via accelerate launch; gloo on CPU)", ge=1, le=1024
    )
    auto_retry_oom: bool = Field(
        default=False, description="on CUDA out-of-memory, retry with half the batch size"
    )
    # experiment tracking
    report_to: str = Field(
        default="none",
        description="experiment trackers for the loss curves and the evaluation: tensorboard (event files in "
        "train/vN/tensorboard), wandb, mlflow (a comma list), or none",
    )
    # why each value was chosen (field -> one line)
    reasons: dict[str, str] = Field(
        default_factory=dict, description="one-line reason per automatically chosen field"
    )
    # not a field (to_dict leaves it out): from_dict's keys it does not know (e.g. the run id), kept along
    _extras: dict[str, Any] = PrivateAttr(default_factory=dict)

    @field_validator("*", mode="before")
    @classmethod
    def _read_override(cls, v: Any, info: ValidationInfo) -> Any:
        """What a YAML file or `--set key=value` may write beyond pydantic's own reading: `none`/`null` for
        an optional field; and true/false is no number (pydantic would read it as 1/0)."""
        ann = cls.model_fields[str(info.field_name)].annotation
        if isinstance(v, bool) and ann in (int, float):
            raise ValueError(f"{v!r} is not a number")
        if isinstance(v, str) and v.lower() in ("none", "null") and type(None) in get_args(ann):
            return None
        return v

    # ------------------------------------------------------------- helpers
    def to_dict(self) -> dict:
        return self.model_dump(mode="json")

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """The config a `config.json` holds; keys it does not know (runner-specific, e.g. the run id) travel
        along untouched in `extras`."""
        known = {k: v for k, v in d.items() if k in cls.model_fields}
        try:
            cfg = cls.model_validate(known)
        except ValidationError as e:
            raise _config_error(e) from None
        cfg._extras = {k: v for k, v in d.items() if k not in cls.model_fields}
        return cfg

    @property
    def extras(self) -> dict[str, Any]:
        return self._extras

    @property
    def effective_batch_size(self) -> int:
        return self.per_device_train_batch_size * self.gradient_accumulation_steps * self.processes

    def explain(self) -> list[tuple[str, Any, str]]:
        """(field, value, reason) rows for display, in field order."""
        return [
            (name, getattr(self, name), self.reasons[name])
            for name in type(self).model_fields
            if name in self.reasons
        ]


def field_help() -> dict[str, str]:
    return {name: f.description or "" for name, f in TrainConfig.model_fields.items()}


def _config_error(e: ValidationError) -> ConfigError:
    """A pydantic error on one training field as the one line a person acts on: the field, the value, and the
    allowed values (a choice), the range (a number), or the expected type and the field's help."""
    err = e.errors()[0]
    name = str(err["loc"][0]) if err["loc"] else "training"
    value = err.get("input")
    f = TrainConfig.model_fields.get(name)
    if f is None:
        return ConfigError(err["msg"], where=name)
    choices = get_args(f.annotation) if get_origin(f.annotation) is Literal else ()
    if choices:
        return ConfigError(
            f"invalid value {value!r} for {name}", where=name, fix=f"allowed values: {', '.join(choices)}"
        )
    if err["type"] in ("greater_than_equal", "less_than_equal") and f.annotation in (int, float):
        lo = next((m.ge for m in f.metadata if hasattr(m, "ge")), "-inf")
        hi = next((m.le for m in f.metadata if hasattr(m, "le")), "inf")
        num = float(value)  # the value as read: '5' → 5.0 for a float field, '0.0' → 0 for an int one
        v = int(num) if f.annotation is int and num.is_integer() else num
        return ConfigError(f"{name}={v} is out of range", where=name, fix=f"use a value from {lo} to {hi}")
    if err["type"] == "finite_number":
        return ConfigError(
            f"invalid value {value!r} for {name}",
            where=name,
            fix=f"expected a finite number: {f.description}",
        )
    kind = " or ".join(
        getattr(t, "__name__", str(t)).replace("NoneType", "None")
        for t in get_args(f.annotation) or (f.annotation,)
    )
    return ConfigError(
        f"invalid value {value!r} for {name}", where=name, fix=f"expected {kind}: {f.description}"
    )


# ----------------------------------------------------------------- inputs to auto_config
@dataclass
class DatasetStats:
    """What auto_config needs to know about a data version (token lengths are full chat renderings)."""

    n_train: int
    n_val: int = 0
    token_lengths: list[int] = field(default_factory=list)  # per training example

    def percentile(self, q: float) -> int:
        if not self.token_lengths:
            return 0
        xs = sorted(self.token_lengths)
        k = min(len(xs) - 1, max(0, math.ceil(q / 100 * len(xs)) - 1))
        return xs[k]

    @property
    def mean_tokens(self) -> float:
        return sum(self.token_lengths) / len(self.token_lengths) if self.token_lengths else 0.0


@dataclass
class Hardware:
    device: str = "cpu"  # cpu | cuda
    gpu_name: str | None = None
    gpu_mem_gb: float = 0.0
    n_gpus: int = 0
    ram_gb: float = 8.0
    cpu_bf16: bool = False
    cuda_bf16: bool = False
    has_bitsandbytes: bool = False
    has_flash_attn: bool = False  # flash-attn installed (padding-free needs varlen attention kernels)
    has_tensorboard: bool = False  # tensorboard installed: training curves go to event files by default


@dataclass
class ModelInfo:
    n_params: int = 135_000_000
    context_length: int = 2048
    hidden_size: int = 576
    num_layers: int = 30


def detect_hardware() -> Hardware:
    """The machine this process runs on (imports torch; not for the --help path)."""
    import importlib.util

    import psutil
    import torch

    hw = Hardware(ram_gb=psutil.virtual_memory().available / 2**30)
    hw.has_bitsandbytes = importlib.util.find_spec("bitsandbytes") is not None
    hw.has_flash_attn = importlib.util.find_spec("flash_attn") is not None
    hw.has_tensorboard = importlib.util.find_spec("tensorboard") is not None
    if torch.cuda.is_available() and os.environ.get("TUNEWISE_DEVICE", "cuda").startswith("cuda"):
        props = torch.cuda.get_device_properties(0)
        hw.device, hw.gpu_name, hw.n_gpus = "cuda", props.name, torch.cuda.device_count()
        hw.gpu_mem_gb = props.total_memory / 2**30
        hw.cuda_bf16 = bool(torch.cuda.is_bf16_supported())
    else:
        from tools.llm.local import cpu_has_bf16

        hw.cpu_bf16 = cpu_has_bf16()
    return hw


def read_model_info(model_path: str | os.PathLike) -> ModelInfo:
    """Shape of a model from its config.json alone (no weights loaded)."""
    import json

    cfg = json.loads((Path(model_path) / "config.json").read_text())
    cfg = cfg.get("text_config", cfg)
    h = int(cfg.get("hidden_size", 576))
    n_layers = int(cfg.get("num_hidden_layers", 30))
    inter = int(cfg.get("intermediate_size", 4 * h))
    vocab = int(cfg.get("vocab_size", 32000))
    kv = int(cfg.get("num_key_value_heads", cfg.get("num_attention_heads", 1)))
    heads = int(cfg.get("num_attention_heads", 1))
    head_dim = int(cfg.get("head_dim", h // max(1, heads)))
    per_layer = h * heads * head_dim * 2 + h * kv * head_dim * 2 + 3 * h * inter
    tied = bool(cfg.get("tie_word_embeddings", False))
    n = n_layers * per_layer + vocab * h * (1 if tied else 2)
    return ModelInfo(
        n_params=n,
        context_length=int(cfg.get("max_position_embeddings", 2048)),
        hidden_size=h,
        num_layers=n_layers,
    )


# ----------------------------------------------------------------- the decisions
def _round_up(x: int, to: int) -> int:
    return int(math.ceil(x / to) * to)


MIN_SMALL_STEPS = 60  # optimizer steps a set under 100 examples gets at least (with a validation split)
MAX_SMALL_EPOCHS = 12


def auto_config(  # noqa: PLR0915 - every hyperparameter picked with its reason, one after another (each depends on the ones before)
    stats: DatasetStats,
    model: str = "embedded",
    hardware: Hardware | None = None,
    model_info: ModelInfo | None = None,
) -> TrainConfig:
    """Pick every hyperparameter from the data, the model and the machine, with a reason each."""
    hw = hardware or Hardware()
    mi = model_info or ModelInfo()
    cfg = TrainConfig(model=model)
    why: dict[str, str] = {}
    n = max(0, stats.n_train)
    big_model = mi.n_params >= 1_000_000_000

    # method and precision
    if hw.device == "cuda" and hw.has_bitsandbytes:
        cfg.method, cfg.optim = "qlora", "paged_adamw_8bit"
        cfg.dtype = "bfloat16" if hw.cuda_bf16 else "float16"
        cfg.gradient_checkpointing = True
        why["method"] = "CUDA with bitsandbytes: QLoRA (4-bit nf4 base, double quant) needs ~4× less memory"
        why["dtype"] = f"{cfg.dtype} compute for the 4-bit base (the QLoRA recipe)"
        why["optim"] = "paged 8-bit AdamW absorbs memory spikes on the GPU"
        why["gradient_checkpointing"] = "QLoRA trades ~30% speed for much less activation memory"
    elif hw.device == "cuda":
        cfg.method = "lora"
        cfg.dtype = "bfloat16" if hw.cuda_bf16 else "float16"
        cfg.gradient_checkpointing = big_model
        why["method"] = "CUDA without bitsandbytes: LoRA on a half-precision base"
        why["dtype"] = f"{cfg.dtype}: this GPU's fastest supported training precision"
        why["optim"] = "plain AdamW (no bitsandbytes for 8-bit optimizers)"
        why["gradient_checkpointing"] = (
            "on: a ≥1B-parameter model's activations dominate memory"
            if big_model
            else "off: a small model fits without it, and it costs ~30% speed"
        )
    else:
        cfg.method = "lora"
        # measured on this project's CPU: bf16 autocast ~1.7× faster per step and loss still falls
        cfg.dtype = "bfloat16" if hw.cpu_bf16 else "float32"
        cfg.gradient_checkpointing = False
        why["method"] = "no CUDA: plain LoRA (4-bit quantization does not speed up CPUs)"
        why["dtype"] = (
            "bfloat16 mixed precision: this CPU has native bf16 (measured ~1.7× faster, loss still falls)"
            if hw.cpu_bf16
            else "float32: this CPU has no native bf16 instructions"
        )
        why["optim"] = "plain AdamW: 8-bit/paged optimizers need CUDA"
        why["gradient_checkpointing"] = (
            "off: on CPU it only slows training and memory is rarely the limit (short of RAM: --set "
            "gradient_checkpointing=true --set checkpoint_layers=0.5, measured ~20% less memory for ~15% "
            "less speed)"
        )

    # adapter size by data size
    if n < 200:
        cfg.lora_r = 8
        why["lora_r"] = f"{n} training examples (<200): rank 8 is enough and resists overfitting"
    elif n <= 1000:
        cfg.lora_r = 16
        why["lora_r"] = f"{n} training examples (200–1000): rank 16"
    else:
        cfg.lora_r = 32
        why["lora_r"] = f"{n} training examples (>1000): rank 32 has room for more behaviour"
    cfg.lora_alpha = 2 * cfg.lora_r
    why["lora_alpha"] = "alpha = 2r keeps the update scale steady across ranks"
    why["lora_dropout"] = "0.05: light regularisation, the usual LoRA default"
    why["target_modules"] = "all linear layers: better quality than attention-only at similar cost"

    # sequence length from the data
    p99 = stats.percentile(99)
    if p99 > 0:
        cfg.max_length = min(_round_up(p99 + 8, 64), mi.context_length)
        why["max_length"] = f"p99 of the examples is {p99} tokens, rounded up to {cfg.max_length}" + (
            f" (capped by the {mi.context_length}-token context)"
            if cfg.max_length == mi.context_length
            else ""
        )
    else:
        cfg.max_length = min(1024, mi.context_length)
        why["max_length"] = "no token lengths known: 1024 (or the model's context)"

    # batch size from memory: a tokens-per-micro-batch budget, then accumulate to the target batch
    target_batch = 8 if n < 200 else 16
    if hw.device == "cuda":
        weights_gb = mi.n_params * (0.55 if cfg.method == "qlora" else 2) / 1e9
        free_gb = max(1.0, hw.gpu_mem_gb * 0.85 - weights_gb - 1.0)
        # activation bytes per token ≈ hidden × layers × ~34 bytes (bf16), ÷ ~6 with checkpointing
        per_tok = mi.hidden_size * mi.num_layers * 34 / (6 if cfg.gradient_checkpointing else 1)
        token_budget = int(free_gb * 1e9 / max(1.0, per_tok))
        where = f"{hw.gpu_mem_gb:.0f} GB GPU"
    else:
        per_tok = mi.hidden_size * mi.num_layers * 68  # fp32 activations
        token_budget = min(4096, int(hw.ram_gb * 0.25 * 1e9 / max(1.0, per_tok)))
        where = f"CPU with {hw.ram_gb:.0f} GB free RAM (compute-bound beyond ~4k tokens per pass)"
    micro = max(1, min(target_batch, token_budget // max(1, cfg.max_length)))
    micro = 2 ** int(math.log2(micro))
    cfg.per_device_train_batch_size = micro
    cfg.per_device_eval_batch_size = micro
    cfg.gradient_accumulation_steps = max(1, target_batch // micro)
    why["per_device_train_batch_size"] = f"{micro} × {cfg.max_length} tokens fits the {where}"
    why["gradient_accumulation_steps"] = (
        f"{cfg.gradient_accumulation_steps} to reach an effective batch of "
        f"{micro * cfg.gradient_accumulation_steps} ({'<200' if n < 200 else '≥200'}"
        " examples)"
    )
    # padding-free flattens the batch into one sequence; only FlashAttention's varlen kernels keep the
    # examples apart. Measured here with SDPA on CPU: the loss changed (5.40 vs 5.89), i.e. attention
    # leaked across examples, so it is off everywhere else.
    varied = stats.token_lengths != [] and stats.percentile(90) > 1.3 * stats.percentile(10)
    cfg.padding_free = hw.device == "cuda" and hw.has_flash_attn and micro > 1 and varied
    if cfg.padding_free:
        why["padding_free"] = "on: lengths vary and FlashAttention keeps flattened examples apart"
    elif hw.device != "cuda" or not hw.has_flash_attn:
        why["padding_free"] = "off: without FlashAttention, flattened examples would attend to each other"
    else:
        why["padding_free"] = "off: lengths are uniform or the batch is 1"
    why["packing"] = "off: examples stay separate, so early stopping and eval loss stay per-example"

    # epochs by data size
    if n < 200:
        cfg.num_train_epochs = 5.0 if n < 100 else 3.0
    elif n <= 1000:
        cfg.num_train_epochs = 3.0
    else:
        cfg.num_train_epochs = 2.0 if n <= 10_000 else 1.0
    why["num_train_epochs"] = f"{n} examples: {cfg.num_train_epochs:g} epochs " + (
        "(small sets need several passes; early stopping guards overfitting)"
        if n < 1000
        else "(large sets need few passes)"
    )

    # schedule from the total step count
    steps_per_epoch = max(1, math.ceil(n / max(1, cfg.effective_batch_size)))
    if n < 100 and stats.n_val > 0 and steps_per_epoch * cfg.num_train_epochs < MIN_SMALL_STEPS:
        # the groomer bench: 43 rows, 30 steps, the eval loss still falling at the last check and the model
        # answering in sentences: a small set gets enough updates, and early stopping keeps the best
        cfg.num_train_epochs = float(min(MAX_SMALL_EPOCHS, math.ceil(MIN_SMALL_STEPS / steps_per_epoch)))
        why["num_train_epochs"] = (
            f"{n} examples: {cfg.num_train_epochs:g} epochs, for about {MIN_SMALL_STEPS} optimizer steps (5 epochs "
            f"would be {5 * steps_per_epoch}: too few updates to learn the answer's shape); early stopping on the "
            "validation loss keeps the best checkpoint"
        )
    total = max(1, int(steps_per_epoch * cfg.num_train_epochs))
    cfg.learning_rate = 2e-4
    why["learning_rate"] = (
        "2e-4: the standard LoRA learning rate (TRL's 2e-5 default is for full fine-tuning)"
    )
    why["lr_scheduler_type"] = "cosine decay after warm-up"
    cfg.warmup_steps = max(1, round(0.05 * total)) if total >= 10 else 0
    why["warmup_steps"] = (
        f"~5% of the {total} optimizer steps" if cfg.warmup_steps else f"none: only {total} steps"
    )
    evals = 8
    cfg.eval_steps = max(1, total // evals)
    cfg.save_steps = cfg.eval_steps
    why["eval_steps"] = (
        f"every {cfg.eval_steps} steps: ~{min(evals, total)} validation checks over {total} steps"
    )
    why["save_steps"] = "same as eval_steps so the best evaluated checkpoint is on disk"
    cfg.logging_steps = 1 if total <= 200 else max(1, total // 200)
    why["logging_steps"] = f"every {cfg.logging_steps} step(s): a smooth live loss curve"
    cfg.early_stopping_patience = 3 if stats.n_val > 0 else 0
    why["early_stopping_patience"] = (
        "3 evaluations without eval-loss improvement stop training; the best checkpoint is kept"
        if stats.n_val
        else "off: no validation split"
    )
    # experiment tracking
    if hw.has_tensorboard:
        cfg.report_to = "tensorboard"
        why["report_to"] = (
            "tensorboard: event files in train/vN/tensorboard (loss, lr, eval loss, then the evaluation's "
            "metrics and verdict); `tensorboard --logdir .tunewise/runs` shows them. wandb/mlflow: "
            "--set report_to=wandb"
        )
    else:
        cfg.report_to = "none"
        why["report_to"] = (
            "none: tensorboard is not installed (pip install tensorboard); events.jsonl still has every step"
        )
    cfg.reasons = why
    return cfg


# ----------------------------------------------------------------- overrides
def apply_overrides(
    cfg: TrainConfig, overrides: dict[str, Any] | None, *, source: str = "override"
) -> TrainConfig:
    """A copy of `cfg` with validated overrides; each overridden field's reason says where it came from.

    Strings from `--set key=value` are read by the field's type (pydantic: `4`, `1e-3`, `true`/`off`,
    `none` for an optional field); only the fields given are checked, so a neutral base (the task spec's
    check) may hold values no single field would accept."""
    if not overrides:
        return cfg
    new = cfg.model_copy(update={"reasons": dict(cfg.reasons)})
    names = [n for n in TrainConfig.model_fields if n != "reasons"]
    for key, value in overrides.items():
        name = key.replace("-", "_")
        if name not in names:
            close = [n for n in names if name in n or n in name]
            raise ConfigError(
                f"unknown training field {key!r}", where=key, fix=f"use one of: {', '.join(close or names)}"
            )
        try:
            setattr(new, name, value)  # validated on assignment
        except ValidationError as e:
            raise _config_error(e) from None
        new.reasons[name] = f"set by {source}"
    keys = {k.replace("-", "_") for k in overrides}
    if "lora_r" in keys and "lora_alpha" not in keys:
        new.lora_alpha = 2 * new.lora_r
        new.reasons["lora_alpha"] = f"2 × lora_r ({source} set lora_r={new.lora_r})"
    validate_config(new)
    return new


def trackers(report_to: str | None) -> list[str]:
    """'tensorboard, wandb' → ['tensorboard', 'wandb']; 'none' or empty → []."""
    items = [t.strip().lower() for t in (report_to or "").split(",") if t.strip()]
    return [] if items in ([], ["none"]) else list(dict.fromkeys(items))


TRACKER_PACKAGES = {"tensorboard": "tensorboard", "wandb": "wandb", "mlflow": "mlflow"}


def check_trackers(report_to: str | None) -> list[str]:
    """The trackers named, each known and installed, or a ConfigError saying what to install."""
    import importlib.util

    names = trackers(report_to)
    for t in names:
        if t not in TRACKERS:
            raise ConfigError(
                f"unknown tracker {t!r} in report_to",
                where="report_to",
                fix=f"use {', '.join(TRACKERS)} (a comma list) or none",
            )
        if importlib.util.find_spec(TRACKER_PACKAGES[t]) is None:
            raise ConfigError(
                f"report_to asks for {t}, which is not installed",
                where="report_to",
                fix=f"pip install {TRACKER_PACKAGES[t]} (into tunewise's environment), or set report_to=none",
            )
    return names


def validate_config(cfg: TrainConfig) -> None:
    """Cross-field rules a single field check cannot see."""
    check_trackers(cfg.report_to)
    if cfg.save_steps % cfg.eval_steps:
        raise ConfigError(
            f"save_steps={cfg.save_steps} is not a multiple of eval_steps={cfg.eval_steps}",
            where="save_steps",
            fix="make save_steps a multiple of eval_steps (the best checkpoint must be an evaluated one)",
        )
    if cfg.method == "qlora" and cfg.dtype == "float32":
        raise ConfigError(
            "qlora needs a half-precision compute dtype", where="dtype", fix="use bfloat16 or float16"
        )


def parse_set_flags(items: list[str] | None) -> dict[str, str]:
    """`--set key=value` flags → a dict (values coerced later by apply_overrides)."""
    out: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise ConfigError(
                f"--set {item!r} is not key=value", where="--set", fix="write e.g. --set lora_r=16"
            )
        k, v = item.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def load_config_file(path: str | os.PathLike) -> dict[str, Any]:
    """A YAML (or JSON) file of overrides; a nested `training:` or `overrides:` key is accepted too."""
    from tools.workspace import read_yaml

    data = read_yaml(path) or {}
    if not isinstance(data, dict):
        raise ConfigError(
            "a training config file must be a mapping of field: value",
            where=str(path),
            fix="write lines like `lora_r: 16`",
        )
    for key in ("training", "overrides"):
        if isinstance(data.get(key), dict) and len(data) == 1:
            data = data[key]
    return data


def trained_system_prompt(adapter: str | os.PathLike | None) -> str | None:
    """The system prompt an adapter was trained with (its training config, or an export's manifest):
    the prompt to send it, since a model behaves best on the prompt it saw in training."""
    if not adapter:
        return None
    import json

    a = Path(adapter)
    for f, key in ((a.parent / "config.json", "data_version"), (a.parent / "export.json", "train_version")):
        try:
            doc = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and key in doc and isinstance(doc.get("system_prompt"), str):
            return doc["system_prompt"] or None
    return None


def short_system_prompt(
    full: str | None, description: str | None, count_tokens, *, choices: str | None = None
) -> tuple[str | None, str]:
    """(the system prompt to train the tuned model with, why). A fine-tuned model learns the
    instructions from its data, so when the task has a one-line description much shorter than its
    system prompt (≤ half the tokens), the tuned model is trained and served with the description:
    every request is shorter (the seeds: fine-tuning "eliminates long system prompts"). `choices` (the
    answer's labels or enum values, `OutputSpec.choices`) follow the description: a closed vocabulary
    is cheap to say and is what a small model's data teaches least reliably."""
    if not full:
        return None, "no system prompt in the task"
    if description and description.strip() != full.strip():
        nf, nd = count_tokens(full), count_tokens(description)
        if len(description.split()) >= 5 and 2 * nd <= nf:
            short = f"{description.strip()} {choices}" if choices else description.strip()
            ns = count_tokens(short)
            return short, (
                f"the task's one-line description{' and its allowed answers' if choices else ''} ({ns} tokens) "
                f"instead of its {nf}-token system prompt: the tuned model learns the instructions from its "
                f"data, so every request is {nf - ns} tokens shorter (set training.overrides.system_prompt "
                "to keep another)"
            )
    return full, "the task's system prompt (already short)"
