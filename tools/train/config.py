"""The training config: one typed object, a reason for every automatic choice, validated overrides.

`auto_config(stats, model, hardware)` is a pure function of the data's size and token lengths, the
model's shape and the machine: it picks LoRA vs QLoRA, rank, epochs, max length, batch size and the
evaluation cadence, and writes a one-line reason per field into `config.reasons` (shown to the user).
`apply_overrides(cfg, {...})` takes YAML or `--set key=value` overrides, coerces strings, and refuses
unknown fields or bad values with a `ConfigError` naming the field and what is allowed.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tools.errors import ConfigError

METHODS = ("lora", "qlora")
DTYPES = ("float32", "bfloat16", "float16")
SCHEDULERS = ("cosine", "linear", "constant", "constant_with_warmup", "cosine_with_min_lr")
OPTIMS = ("adamw_torch", "adamw_torch_fused", "paged_adamw_8bit", "adamw_8bit", "sgd")
BACKENDS = ("local", "openai", "together")
TRACKERS = ("tensorboard", "wandb", "mlflow")  # report_to: any of these (comma list) or none


def _f(default: Any, help: str, **meta: Any) -> Any:
    """A dataclass field with help text (like TRL's SFTConfig) and optional `choices`/`min`/`max`."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help, **meta})
    return field(default=default, metadata={"help": help, **meta})


@dataclass
class TrainConfig:
    """Everything one training run needs. Serialized as `train/vN/config.json`."""

    # what to train
    model: str = _f(
        "embedded",
        "base model: `embedded`, a local HF directory, a .gguf file or a Hub id org/name[@revision]",
    )
    backend: str = _f("local", "where training runs: local (TRL+PEFT) or a managed API", choices=BACKENDS)
    data_version: str | None = _f(None, "data version (vN) under runs/<id>/data/")
    data_dir: str | None = _f(None, "absolute path of the data version directory (set by the runner)")
    system_prompt: str | None = _f(
        None,
        "the system prompt the tuned model is trained and served with: added to rows that have none "
        "(SmolLM2 otherwise inserts its own default) and replacing `replaces_system_prompt` (auto: the "
        "task's one-line description when its system prompt is much longer)",
    )
    replaces_system_prompt: str | None = _f(
        None, "the task's full system prompt; training rows that carry it get `system_prompt` instead"
    )
    # method
    method: str = _f(
        "lora", "lora (full-precision base) or qlora (4-bit nf4 base, CUDA + bitsandbytes)", choices=METHODS
    )
    dtype: str = _f("float32", "compute dtype; bfloat16/float16 use mixed precision", choices=DTYPES)
    lora_r: int = _f(8, "LoRA rank", min=1, max=1024)
    lora_alpha: int = _f(16, "LoRA alpha (scaling = alpha / r)", min=1, max=4096)
    lora_dropout: float = _f(0.05, "dropout on the LoRA branch", min=0.0, max=0.9)
    target_modules: str = _f("all-linear", "modules that get adapters (`all-linear` or a comma list)")
    # optimisation
    learning_rate: float = _f(2e-4, "peak learning rate", min=1e-7, max=1.0)
    lr_scheduler_type: str = _f("cosine", "learning-rate schedule", choices=SCHEDULERS)
    warmup_steps: int = _f(0, "linear warm-up steps (TRL 1.16 has no warmup_ratio)", min=0)
    weight_decay: float = _f(0.0, "AdamW weight decay", min=0.0, max=1.0)
    max_grad_norm: float = _f(1.0, "gradient clipping norm", min=0.0)
    optim: str = _f("adamw_torch", "optimizer", choices=OPTIMS)
    num_train_epochs: float = _f(3.0, "passes over the training split", min=0.01, max=100)
    max_steps: int = _f(-1, "stop after this many optimizer steps (-1: use epochs)", min=-1)
    seed: int = _f(42, "random seed for data order and adapter init", min=0)
    # batches and sequence length
    max_length: int = _f(512, "tokens per example; longer ones are truncated", min=8, max=1_000_000)
    per_device_train_batch_size: int = _f(8, "examples per forward pass", min=1, max=4096)
    per_device_eval_batch_size: int = _f(8, "examples per eval forward pass", min=1, max=4096)
    gradient_accumulation_steps: int = _f(1, "forward passes per optimizer step", min=1, max=4096)
    gradient_checkpointing: bool = _f(False, "recompute activations to save memory (slower)")
    padding_free: bool = _f(False, "flatten each batch into one sequence (no pad tokens)")
    packing: bool = _f(False, "pack several examples into each max_length block (bfd)")
    use_liger_kernel: bool = _f(False, "Liger fused kernels (CUDA only, needs liger-kernel)")
    # evaluation, checkpoints, early stopping
    eval_steps: int = _f(10, "evaluate on the validation split every N steps", min=1)
    save_steps: int = _f(10, "checkpoint every N steps (a multiple of eval_steps)", min=1)
    save_total_limit: int = _f(2, "checkpoints kept on disk (the best is always kept)", min=1)
    logging_steps: int = _f(1, "log loss/lr/grad-norm every N steps", min=1)
    early_stopping_patience: int = _f(
        3, "stop after N evaluations without eval-loss improvement (0: off)", min=0
    )
    early_stopping_threshold: float = _f(0.0, "minimum eval-loss improvement that counts", min=0.0)
    # machines
    processes: int = _f(1, "processes (DDP via accelerate launch; gloo on CPU)", min=1, max=1024)
    auto_retry_oom: bool = _f(False, "on CUDA out-of-memory, retry with half the batch size")
    # experiment tracking
    report_to: str = _f(
        "none",
        "experiment trackers for the loss curves and the evaluation: tensorboard (event files in "
        "train/vN/tensorboard), wandb, mlflow (a comma list), or none",
    )
    # why each value was chosen (field -> one line)
    reasons: dict = _f({}, "one-line reason per automatically chosen field")
    if TYPE_CHECKING:
        # not a field (to_dict leaves it out): from_dict's keys it does not know, set on the instance
        extras: dict[str, Any] = field(init=False)

    # ------------------------------------------------------------- helpers
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        known = {f.name for f in fields(cls)}
        extra = {k: v for k, v in d.items() if k not in known}
        cfg = cls(**{k: v for k, v in d.items() if k in known})
        cfg.extras = extra  # runner-specific keys (e.g. run id) travel along untouched
        return cfg

    @property
    def effective_batch_size(self) -> int:
        return self.per_device_train_batch_size * self.gradient_accumulation_steps * self.processes

    def explain(self) -> list[tuple[str, Any, str]]:
        """(field, value, reason) rows for display, in field order."""
        return [
            (f.name, getattr(self, f.name), self.reasons[f.name])
            for f in fields(self)
            if f.name in self.reasons
        ]


def field_help() -> dict[str, str]:
    return {f.name: f.metadata.get("help", "") for f in fields(TrainConfig)}


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
        why["gradient_checkpointing"] = "off: on CPU it only slows training and memory is not the limit"

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
_BOOL = {
    "true": True,
    "1": True,
    "yes": True,
    "on": True,
    "false": False,
    "0": False,
    "no": False,
    "off": False,
}


def _coerce(name: str, ftype: Any, value: Any) -> Any:
    t = str(ftype)
    try:
        if value is None:
            if "None" in t:
                return None
            raise ValueError
        if t.startswith("bool"):
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in _BOOL:
                return _BOOL[value.lower()]
            raise ValueError
        if t.startswith("int"):
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if t.startswith("float"):
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if t.startswith("dict"):
            if not isinstance(value, dict):
                raise ValueError
            return value
        return (
            None
            if (isinstance(value, str) and value.lower() in ("none", "null") and "None" in t)
            else str(value)
        )
    except (TypeError, ValueError):
        kind = t.split(" ")[0].replace("|", "or")
        raise ConfigError(
            f"invalid value {value!r} for {name}", where=name, fix=f"expected {kind}: {field_help()[name]}"
        ) from None


def apply_overrides(
    cfg: TrainConfig, overrides: dict[str, Any] | None, *, source: str = "override"
) -> TrainConfig:
    """A copy of `cfg` with validated overrides; each overridden field's reason says where it came from."""
    if not overrides:
        return cfg
    new = dataclasses.replace(cfg, reasons=dict(cfg.reasons))
    by_name = {f.name: f for f in fields(TrainConfig)}
    for key, value in overrides.items():
        name = key.replace("-", "_")
        if name not in by_name or name == "reasons":
            close = [n for n in by_name if n != "reasons" and (name in n or n in name)]
            allowed = ", ".join(close or [n for n in by_name if n != "reasons"])
            raise ConfigError(f"unknown training field {key!r}", where=key, fix=f"use one of: {allowed}")
        f = by_name[name]
        v = _coerce(name, f.type, value)
        meta = f.metadata
        if "choices" in meta and v not in meta["choices"]:
            raise ConfigError(
                f"invalid value {v!r} for {name}",
                where=name,
                fix=f"allowed values: {', '.join(meta['choices'])}",
            )
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            lo, hi = meta.get("min"), meta.get("max")
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                rng = f"{lo if lo is not None else '-inf'} to {hi if hi is not None else 'inf'}"
                raise ConfigError(f"{name}={v} is out of range", where=name, fix=f"use a value from {rng}")
        setattr(new, name, v)
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
