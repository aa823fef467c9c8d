"""The training subprocess: TRL `SFTTrainer` + PEFT LoRA/QLoRA over one data version.

    python -m tools.train.sft --out-dir runs/<id>/train/vN [--resume]
    accelerate launch --num_processes N -m tools.train.sft --out-dir …    (DDP; gloo on CPU)

Reads `OUT/config.json` (a `TrainConfig` dict; `data_dir` points at `runs/<id>/data/vM/` with
`train.jsonl` and `val.jsonl` chat rows). Writes:

    OUT/checkpoints/checkpoint-<step>/   full Trainer checkpoints (optimizer, scheduler, RNG) for resume
    OUT/adapter/                         the best adapter (lowest eval loss) + tokenizer, when training ends
    OUT/metrics.json                     {status, final_step, max_steps, best_eval_loss, train_loss,
                                          train_runtime_s, tokens_per_s, peak_mem_mb, error?, error_kind?}
    OUT/events.jsonl                     the progress log, below
    OUT/train.log                        stderr of the process (written by the launcher)

`status` is one of completed | early_stopped | stopped (Ctrl-C / SIGINT / SIGTERM / an `OUT/STOP` file) | failed.

## Progress events (THE format: the CLI and the TUI both tail it)

One JSON object per line, appended with fsync (`tools.workspace.append_jsonl`); a torn last line
after a kill -9 is skipped by `read_jsonl`. Every event has every key (null when unknown):

    {"event": "start"|"log"|"eval"|"checkpoint"|"end"|"error",
     "time": unix seconds, "step": optimizer step, "max_steps": planned steps, "epoch": float,
     "loss": train loss (log), "eval_loss": validation loss (eval), "lr": learning rate,
     "grad_norm": float, "tokens_per_s": training tokens/s since the previous log,
     "mem_mb": peak memory (CUDA allocated, else process RSS high-water mark), "eta_s": seconds left}

plus per-event extras: start → `resumed_from` (a checkpoint path or null), `world_size`, `config`
(short summary); checkpoint → `path`; end → `status`, `best_eval_loss`; error → `message`,
`error_kind` ("oom" | "exception"). On resume, the log is first cut back to the checkpoint it
resumes from, so each step appears once. Only the main process (rank 0) writes events.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any, cast

EVENT_KEYS = (
    "event",
    "time",
    "step",
    "max_steps",
    "epoch",
    "loss",
    "eval_loss",
    "lr",
    "grad_norm",
    "tokens_per_s",
    "mem_mb",
    "eta_s",
)
EVENT_TYPES = ("start", "log", "eval", "checkpoint", "end", "error")
EXIT_OK, EXIT_FAILED, EXIT_OOM = 0, 1, 3


def make_event(event: str, **fields: Any) -> dict:
    """An event with every schema key present (missing ones null), extras after."""
    assert event in EVENT_TYPES, event
    row: dict[str, Any] = {k: None for k in EVENT_KEYS}
    row.update(event=event, time=round(time.time(), 3))
    row.update(fields)
    return row


# ----------------------------------------------------------------- data
def row_to_prompt_completion(
    row: dict, system_prompt: str | None = None, replaces: str | None = None
) -> dict:
    """Chat row → TRL conversational prompt/completion: loss on the final assistant answer only.
    A row without a system message gets `system_prompt`; one whose system message is `replaces` (the
    task's full prompt) gets `system_prompt` instead (the tuned model's shorter prompt).

    SmolLM2's chat template lacks `{% generation %}` markers, so `assistant_only_loss` cannot work;
    a prompt/completion split gives the same masking (and was faster here)."""
    msgs = [{"role": m["role"], "content": m["content"]} for m in row["messages"]]
    if system_prompt and msgs[0]["role"] != "system":
        msgs.insert(0, {"role": "system", "content": system_prompt})  # else the template adds its own default
    elif system_prompt and replaces and msgs[0]["content"] == replaces:
        msgs[0]["content"] = system_prompt
    return {"prompt": msgs[:-1], "completion": msgs[-1:]}


def load_split(
    data_dir: Path, split: str, system_prompt: str | None = None, replaces: str | None = None
) -> list[dict]:
    from tools.workspace import read_jsonl

    path = Path(data_dir) / f"{split}.jsonl"
    if not path.exists():
        return []
    return [row_to_prompt_completion(r, system_prompt, replaces) for r in read_jsonl(path)]


# ----------------------------------------------------------------- checkpoints and events
def checkpoint_step(path: Path) -> int:
    try:
        return int(path.name.rsplit("-", 1)[1])
    except (IndexError, ValueError):
        return -1


def last_complete_checkpoint(ckpt_dir: Path) -> Path | None:
    """The newest checkpoint whose trainer_state.json exists (it is written last, so a kill mid-save
    leaves an incomplete directory that must not be resumed from)."""
    if not ckpt_dir.is_dir():
        return None
    done = [p for p in ckpt_dir.glob("checkpoint-*") if (p / "trainer_state.json").exists()]
    return max(done, key=checkpoint_step) if done else None


def truncate_events(events_path: Path, step: int) -> int:
    """Drop events past `step` (and any earlier end/error) so a resumed run writes each step once.

    Returns how many rows were dropped. The rewrite is atomic."""
    from tools.workspace import atomic_write_jsonl, read_jsonl

    if not events_path.exists():
        return 0
    rows = list(read_jsonl(events_path))
    kept = [
        r
        for r in rows
        if r.get("event") not in ("end", "error") and (r.get("step") is None or r["step"] <= step)
    ]
    atomic_write_jsonl(events_path, kept)
    return len(rows) - len(kept)


def peak_mem_mb() -> float:
    import torch

    if torch.cuda.is_available() and torch.cuda.is_initialized():
        return round(torch.cuda.max_memory_allocated() / 2**20, 1)
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KiB on Linux


def busy_cores(sample_s: float = 0.3) -> float:
    """Cores busy right now, from /proc/stat sampled over `sample_s` (the 1-minute load average lags:
    right after the agent's own generation finishes it still reads ~2 on an idle 2-core machine)."""

    def read() -> tuple[int, int]:
        with open("/proc/stat") as fh:
            vals = [int(x) for x in fh.readline().split()[1:]]
        idle = vals[3] + (vals[4] if len(vals) > 4 else 0)
        return sum(vals) - idle, sum(vals)

    try:
        b0, t0 = read()
        time.sleep(sample_s)
        b1, t1 = read()
    except (OSError, ValueError, IndexError):
        return os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    cpus = os.cpu_count() or 1
    return cpus * (b1 - b0) / max(1, t1 - t0)


def pick_cpu_threads() -> int:
    """Torch CPU threads: OMP_NUM_THREADS if set, else the cores not busy right now.

    On a shared machine, OpenMP threads that spin-wait for a busy core collapse: measured here, a
    step took 25–50 s with 2 threads under load 9 on 2 cores, and ~5 s with 1 thread."""
    if os.environ.get("OMP_NUM_THREADS"):
        return max(1, int(os.environ["OMP_NUM_THREADS"]))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(cpus, int(cpus - busy_cores() + 0.5)))


def is_oom(exc: BaseException) -> bool:
    import torch

    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in str(exc).lower()


# ----------------------------------------------------------------- the callback
class StopRequest:
    """Set by SIGINT/SIGTERM, an OUT/STOP file, or the owner process gone (`TUNEWISE_TRAIN_OWNER`, unless
    OUT/DETACHED says the person chose to keep it going); the callback turns it into save-and-stop."""

    def __init__(self, stop_file: Path, owner: int | None = None):
        self.stop_file = stop_file
        self.flag = False
        self.owner = owner
        self.why: str | None = None

    def install(self) -> None:
        def handler(signum, frame):  # noqa: ARG001
            self.flag = True

        signal.signal(signal.SIGINT, handler)
        signal.signal(signal.SIGTERM, handler)

    def requested(self) -> bool:
        if self.flag or self.stop_file.exists():
            return True
        from tools.workspace import pid_alive

        if self.owner is not None and not pid_alive(self.owner):
            if (self.stop_file.parent / "DETACHED").exists():
                self.owner = None  # kept going on purpose: stop watching
                return False
            self.why = f"the program that started this training (pid {self.owner}) is gone"
            self.flag = True
            return True
        return False


def make_events_callback(events_path: Path, stop: StopRequest):  # noqa: C901 - a TrainerCallback class defined here (transformers is imported lazily); one short method per Trainer hook
    from transformers import TrainerCallback

    class EventsCallback(TrainerCallback):
        """Turns Trainer hooks into `events.jsonl` rows and a stop request into save-and-stop."""

        def __init__(self):
            self.t0 = None
            self.step0 = 0
            self.last_tokens = None
            self.last_time = None
            self.stopped = False

        def _emit(self, state, event: str, **kw) -> None:
            if state.is_world_process_zero:
                from tools.workspace import append_jsonl

                append_jsonl(
                    events_path,
                    make_event(
                        event,
                        step=state.global_step,
                        max_steps=state.max_steps,
                        epoch=round(state.epoch or 0.0, 4),
                        mem_mb=peak_mem_mb(),
                        **kw,
                    ),
                )

        def eta(self, state) -> float | None:
            done = state.global_step - self.step0
            if not self.t0 or done <= 0:
                return None
            return round((time.time() - self.t0) / done * max(0, state.max_steps - state.global_step), 1)

        def on_train_begin(self, args, state, control, **kw):
            # a checkpoint saved by a graceful stop carries should_training_stop=True: clear it on resume
            control.should_training_stop = False
            self.t0, self.step0 = time.time(), state.global_step
            self.last_time = self.t0
            self._emit(
                state, "start", resumed_from=getattr(args, "_resumed_from", None), world_size=args.world_size
            )

        def on_log(self, args, state, control, logs=None, **kw):
            logs = logs or {}
            if "train_runtime" in logs:  # the end-of-training summary, reported by the "end" event
                return
            if "eval_loss" in logs:
                self._emit(state, "eval", eval_loss=logs["eval_loss"], eta_s=self.eta(state))
                return
            if "loss" not in logs:
                return
            now, tokens, tps = time.time(), logs.get("num_tokens"), None
            if tokens is not None and self.last_tokens is not None and tokens > self.last_tokens:
                tps = round((tokens - self.last_tokens) / max(1e-6, now - self.last_time), 1)
            elif tokens is not None and self.last_tokens is None and state.global_step > self.step0:
                tps = round(tokens / max(1e-6, now - self.t0), 1)
            self.last_tokens, self.last_time = tokens, now
            self._emit(
                state,
                "log",
                loss=logs["loss"],
                lr=logs.get("learning_rate"),
                grad_norm=logs.get("grad_norm"),
                tokens_per_s=tps,
                eta_s=self.eta(state),
            )

        def on_save(self, args, state, control, **kw):
            path = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            self._emit(state, "checkpoint", path=str(path), eta_s=self.eta(state))

        def on_step_end(self, args, state, control, **kw):
            want = stop.requested()
            if args.world_size > 1:  # every rank must stop at the same step or DDP deadlocks
                import torch
                import torch.distributed as dist

                t = torch.tensor([1.0 if want else 0.0])
                if dist.get_backend() == "nccl":
                    t = t.cuda()
                dist.all_reduce(t, op=dist.ReduceOp.MAX)
                want = bool(t.item() > 0)
            if want and not self.stopped:
                self.stopped = True
                control.should_save = True
                control.should_training_stop = True
            return control

    return EventsCallback()


# ----------------------------------------------------------------- model
def load_model_and_tokenizer(cfg, model_path: Path, on_cuda: bool):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(model_path))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    kwargs: dict[str, Any] = {}
    if cfg.method == "qlora":
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=getattr(torch, cfg.dtype),
        )
        kwargs["dtype"] = getattr(torch, cfg.dtype)
    elif on_cuda and cfg.dtype != "float32":
        kwargs["dtype"] = getattr(torch, cfg.dtype)  # half-precision weights on GPU
    else:
        kwargs["dtype"] = torch.float32  # CPU: fp32 master weights; bf16 (if chosen) is autocast
    if varlen_attention_ok(on_cuda) and (cfg.padding_free or cfg.packing):
        kwargs["attn_implementation"] = "flash_attention_2"
    elif not on_cuda and cfg.dtype == "bfloat16":
        # measured on this project's CPU, attention forward + backward of a batch of 8 × 102 tokens: SDPA's CPU
        # flash kernel 71 ms in bf16 (30 ms in fp32), the eager matmul-softmax-matmul 33 ms in bf16
        kwargs["attn_implementation"] = "eager"
    if on_cuda and int(os.environ.get("WORLD_SIZE", "1")) == 1:
        kwargs["device_map"] = {"": 0}
    model = AutoModelForCausalLM.from_pretrained(str(model_path), **kwargs)
    model.config.use_cache = False
    return model, tok


# ----------------------------------------------------------------- answer-only logits
# Selected tokens × vocabulary up to which the CPU path takes the logits in one piece (~64 MB each in fp32):
# one matmul + log_softmax beat TRL's chunked kernel's torch fallback here; above it, that kernel bounds memory.
DIRECT_HEAD_MAX_ELEMENTS = 1 << 24


def answer_only_head(model) -> bool:
    """Make the fused LM head TRL gave `model` score only the tokens that count, on every device.

    TRL's `SFTTrainer` calls `model(..., fused_lm_head=True)` and reads per-token log-probs (zero where the
    label is -100). On CUDA its kernel already scores only the labelled positions; elsewhere (CPU) it scores
    every position against the whole vocabulary and masks afterwards: with a completion-only loss ~80% of
    that work (and ~600 MB of its temporaries) is for prompt tokens. Measured here (SmolLM2-135M, batch 8
    of ~100 tokens, bf16 autocast, 1 thread), CPU seconds per step: 7.9 → 6.4 without gradient
    checkpointing, 11.3 → 8.9 with it.
    This wraps the same forward: backbone → hidden states → the labelled positions only → LM head. TRL's
    `compute_loss` is kept, so the loss normalisation (`num_items_in_batch` under gradient accumulation),
    the logged metrics, token counts and the DDP/PEFT wrappers are TRL's own. `model` is the causal LM
    (under PEFT: `get_base_model()`). Returns False, leaving TRL's head, when the model is not a plain
    decoder with a linear head (logit scaling or soft-capping, MoE router losses, multimodal configs)."""
    import functools
    import types

    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    config = getattr(model, "config", None)
    if (
        "forward" not in vars(model)  # TRL did not patch it: nothing to narrow
        or head is None
        or getattr(getattr(head, "weight", None), "dim", lambda: 0)() != 2
        or config is None
        or config.get_text_config() is not config
        or getattr(model, "base_model", model) is model
        or any(
            getattr(config, k, None) is not None
            for k in (
                "final_logit_softcapping",
                "logit_scale",
                "output_multiplier",
                "lm_head_multiplier",
                "logits_scaling",
            )
        )
        or getattr(config, "output_router_logits", False)
    ):
        return False
    from trl.trainer.utils import FusedCausalLMOutput

    fused = model.forward  # TRL's: the model's own forward unless fused_lm_head=True

    @functools.wraps(fused)
    def forward(
        self, *args, fused_lm_head=False, labels=None, shift_labels=None, num_items_in_batch=None, **kw
    ):
        if not fused_lm_head:
            return fused(
                *args, labels=labels, shift_labels=shift_labels, num_items_in_batch=num_items_in_batch, **kw
            )
        kw["use_cache"] = False
        hidden = self.base_model(*args, **kw).last_hidden_state
        if shift_labels is None:
            hidden, labels = hidden[:, :-1], labels[:, 1:]
        else:
            labels = shift_labels
        lm_head = self.get_output_embeddings()
        hidden, labels = hidden.to(lm_head.weight.device), labels.to(lm_head.weight.device)
        mask = labels != -100
        picked = selected_log_probs(hidden[mask], lm_head, labels[mask])
        # masked_scatter keeps an all-masked micro-batch connected to the graph (a zero loss, not a failed backward)
        log_probs, entropy, is_top1 = (x.new_zeros(mask.shape).masked_scatter(mask, x) for x in picked)
        loss = -log_probs.sum() / (
            mask.sum().clamp(min=1) if num_items_in_batch is None else num_items_in_batch
        )
        return FusedCausalLMOutput(
            loss=loss, log_probs=log_probs, entropy=entropy, is_top1=is_top1, label_mask=mask
        )

    model.forward = types.MethodType(forward, model)
    return True


def selected_log_probs(hidden, lm_head, targets):
    """(log p(target), entropy, target is the top-1 prediction) for the selected positions' hidden states.

    Small selections (the usual case: answers of tens of tokens) take the logits directly; large ones, and
    Triton devices, go through TRL's chunked kernel, which never holds more than one vocabulary tile. Both
    round the logits to the autocast dtype the same way (a bf16 matmul, then fp32 softmax)."""
    import torch
    from trl.kernels import ChunkedLogProbFunction
    from trl.kernels.chunked_logprob import _use_triton
    from trl.trainer.utils import _CHUNKED_LOGPROB_CHUNK_SIZE

    vocab = lm_head.weight.shape[0]
    if _use_triton(hidden.device) or hidden.shape[0] * vocab > DIRECT_HEAD_MAX_ELEMENTS:
        log_probs, entropy, _, _, is_top1 = ChunkedLogProbFunction.apply(
            hidden,
            lm_head.weight,
            lm_head.bias,
            targets,
            1.0,
            _CHUNKED_LOGPROB_CHUNK_SIZE,
            None,
            1.0,
            ("log_probs", "entropy", "is_top1"),
        )
        return log_probs, entropy, is_top1
    logits = lm_head(hidden).float()
    logp = torch.log_softmax(logits, dim=-1)
    log_probs = logp.gather(-1, targets.unsqueeze(-1)).squeeze(-1)
    with torch.no_grad():  # metrics only, like TRL's
        entropy = -(logp.exp() * logp).sum(-1)
        is_top1 = logits.argmax(-1) == targets
    return log_probs, entropy, is_top1


def varlen_attention_ok(on_cuda: bool) -> bool:
    """Padding-free/packed batches keep examples apart only with FlashAttention's varlen kernels; with
    SDPA (measured on CPU) the loss changed, i.e. examples attended to each other."""
    import importlib.util

    return on_cuda and importlib.util.find_spec("flash_attn") is not None


def checkpoint_some_layers(model, share: float) -> tuple[int, int]:
    """Keep activation checkpointing on for `share` of the decoder layers it is on for, spread evenly (every
    other layer at 0.5), and off on the rest: the activations kept, and the recomputation saved, scale with the
    layers left out. Measured on this project's CPU (SmolLM2-135M, batch 8 × ~100 tokens, bf16 autocast, CPU s
    per step / peak RSS): none 3.8 s / 3.3 GB, every other layer 4.7 s / 2.6 GB, all 6.5 s / 2.0 GB. Returns
    (layers checkpointed, decoder layers)."""
    import math

    from transformers.modeling_layers import GradientCheckpointingLayer

    layers = [m for m in model.modules() if isinstance(m, GradientCheckpointingLayer)]
    on = 0
    for i, layer in enumerate(layers):
        keep = math.floor((i + 1) * share) > math.floor(i * share)
        layer.gradient_checkpointing = bool(layer.gradient_checkpointing and keep)
        on += layer.gradient_checkpointing
    return on, len(layers)


def make_trainer(checkpoint_layers: float = 1.0, **kwargs):
    """TRL's `SFTTrainer` (same arguments) with the answer-only LM head (`answer_only_head`) and a
    resumable length-grouped sampler (`length_grouped_sampler`).

    A subclass rather than patches applied by the caller, so every trainer this runner builds (and the tests'
    ones) gets the same loss path; `answer_only_logits` says whether the narrowing applied. With gradient
    checkpointing, `checkpoint_layers` < 1 leaves it on for that share of the layers only
    (`checkpoint_some_layers`; `checkpointed_layers` says how many, once training starts)."""
    from transformers import TrainerCallback
    from transformers.trainer_pt_utils import LengthGroupedSampler
    from trl import SFTTrainer

    class SomeLayersCheckpointed(TrainerCallback):
        # the Trainer turns checkpointing on for every layer as training starts; this runs right after
        def on_train_begin(self, args, state, control, model=None, **kw):
            if model is not None:
                trainer.checkpointed_layers = checkpoint_some_layers(model, checkpoint_layers)

    class TunewiseSFTTrainer(SFTTrainer):
        def __init__(self, *args, **kw):
            super().__init__(*args, **kw)
            model = self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model
            self.answer_only_logits = answer_only_head(model)
            self.checkpointed_layers: tuple[int, int] | None = None
            if self.args.gradient_checkpointing and checkpoint_layers < 1.0:
                self.add_callback(SomeLayersCheckpointed())

        def _get_train_sampler(self, train_dataset=None):
            sampler = super()._get_train_sampler(train_dataset)
            if type(sampler) is LengthGroupedSampler:
                seed = self.args.data_seed if self.args.data_seed is not None else self.args.seed
                return length_grouped_sampler(sampler.lengths, sampler.batch_size, seed)
            return sampler

    trainer = TunewiseSFTTrainer(**kwargs)
    return trainer


def length_grouped_sampler(lengths: list[int], batch_size: int, seed: int):
    """transformers' `LengthGroupedSampler` (random mega-batches of 4+ batches, sorted by length inside, so a
    batch pads little) drawn from `seed + epoch` rather than the global RNG: every epoch is a fresh
    permutation, and a run resumed mid-epoch skips exactly the batches it already trained on (the stock
    one would redraw that epoch's order from whatever state the RNG is in after a restart)."""
    import torch
    from transformers.trainer_pt_utils import LengthGroupedSampler, get_length_grouped_indices

    class EpochSeededLengthGroupedSampler(LengthGroupedSampler):
        def __init__(self):
            super().__init__(batch_size, lengths=lengths)
            self.seed, self.epoch = seed, 0

        def set_epoch(self, epoch: int) -> None:  # the Trainer calls it (through accelerate) every epoch
            self.epoch = epoch

        def __iter__(self):
            g = torch.Generator().manual_seed(self.seed + self.epoch)
            return iter(get_length_grouped_indices(self.lengths, self.batch_size, generator=g))

    return EpochSeededLengthGroupedSampler()


def tensorboard_dir(out_dir: Path) -> Path:
    """Where a training's TensorBoard event files go (the evaluation writes to the same run)."""
    return Path(out_dir) / "tensorboard"


def tracker_setup(cfg, out_dir: Path) -> list[str]:
    """The Trainer's `report_to` for `cfg.report_to`, with each tracker pointed at this training:
    TensorBoard writes into train/vN/tensorboard; W&B and MLflow get the project/experiment `tunewise`
    unless WANDB_PROJECT / MLFLOW_EXPERIMENT_NAME say otherwise."""
    from tools.train.config import check_trackers

    names = check_trackers(getattr(cfg, "report_to", "none"))
    if "tensorboard" in names:
        os.environ["TENSORBOARD_LOGGING_DIR"] = str(tensorboard_dir(out_dir))
    if "wandb" in names:
        os.environ.setdefault("WANDB_PROJECT", "tunewise")
    if "mlflow" in names:
        os.environ.setdefault("MLFLOW_EXPERIMENT_NAME", "tunewise")
    return names


def tracker_run_ids(cfg) -> dict:
    """W&B / MLflow run ids of this training, so the evaluation can log into the same runs."""
    from tools.train.config import trackers

    ids: dict = {}
    names = trackers(getattr(cfg, "report_to", "none"))
    with contextlib.suppress(Exception):
        if "wandb" in names:
            import wandb

            if wandb.run is not None:
                ids["wandb"] = wandb.run.id
    with contextlib.suppress(Exception):
        if "mlflow" in names:
            import mlflow

            last = mlflow.last_active_run()
            if last is not None:
                ids["mlflow"] = last.info.run_id
    return ids


def build_sft_config(cfg, out_dir: Path, has_eval: bool, on_cuda: bool):
    from trl import SFTConfig

    flat_ok = varlen_attention_ok(on_cuda)
    if (cfg.padding_free or cfg.packing) and not flat_ok:
        print(
            "padding_free/packing need CUDA + flash-attn here; training with padded batches instead",
            file=sys.stderr,
        )

    half = cfg.dtype != "float32"
    kw: dict[str, Any] = dict(
        output_dir=str(out_dir / "checkpoints"),
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler_type,
        warmup_steps=cfg.warmup_steps,
        weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm,
        optim=cfg.optim,
        num_train_epochs=cfg.num_train_epochs,
        max_steps=cfg.max_steps,
        seed=cfg.seed,
        data_seed=cfg.seed,
        per_device_train_batch_size=cfg.per_device_train_batch_size,
        per_device_eval_batch_size=cfg.per_device_eval_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        gradient_checkpointing=cfg.gradient_checkpointing,
        max_length=cfg.max_length,
        padding_free=flat_ok and cfg.padding_free and not cfg.packing,
        # batches of similar lengths pad less; each epoch is still a fresh random permutation (random
        # mega-batches, sorted by length inside), see `transformers.trainer_pt_utils.get_length_grouped_indices`
        train_sampling_strategy="random"
        if flat_ok and (cfg.padding_free or cfg.packing)
        else "group_by_length",
        packing=flat_ok and cfg.packing,
        completion_only_loss=True,
        bf16=half and cfg.dtype == "bfloat16",
        fp16=half and cfg.dtype == "float16",
        use_cpu=not on_cuda,
        logging_steps=cfg.logging_steps,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=cfg.save_total_limit,
        report_to=tracker_setup(cfg, out_dir) or "none",
        run_name=f"{getattr(cfg, 'extras', {}).get('run_id') or out_dir.parent.parent.name}/{out_dir.name}",
        disable_tqdm=True,
        dataloader_num_workers=0,
        use_liger_kernel=cfg.use_liger_kernel and on_cuda,
    )
    if cfg.gradient_checkpointing:
        kw["gradient_checkpointing_kwargs"] = {"use_reentrant": False}
    if has_eval:
        kw.update(
            eval_strategy="steps",
            eval_steps=cfg.eval_steps,
            load_best_model_at_end=True,
            metric_for_best_model="eval_loss",
            greater_is_better=False,
        )
    else:
        kw.update(eval_strategy="no")
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        kw["ddp_backend"] = "nccl" if on_cuda else "gloo"
        kw["ddp_find_unused_parameters"] = False
    return SFTConfig(**kw)


def lora_config(cfg):
    from peft import LoraConfig

    targets: Any = cfg.target_modules
    if targets != "all-linear":
        targets = [t.strip() for t in targets.split(",") if t.strip()]
    return LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=targets,
        task_type="CAUSAL_LM",
        bias="none",
    )


# ----------------------------------------------------------------- the run
def train(out_dir: Path, resume: bool = False) -> int:  # noqa: C901, PLR0915 - the trainer subprocess from start to exit code: lock, run under one try (every failure still ends in metrics.json and an end event), then metrics from the trainer it built
    """Run one training to the end; returns the process exit code (0 ok, 1 failed, 3 CUDA OOM)."""
    from tools.train.config import TrainConfig
    from tools.workspace import atomic_write_json, read_json

    out_dir = Path(out_dir).resolve()
    cfg = TrainConfig.from_dict(read_json(out_dir / "config.json"))
    events = out_dir / "events.jsonl"
    rank0 = int(os.environ.get("RANK", "0")) == 0
    owner = os.environ.get("TUNEWISE_TRAIN_OWNER", "")
    stop = StopRequest(out_dir / "STOP", owner=int(owner) if owner.isdigit() else None)
    stop.install()
    t_start = time.time()

    resume_from = last_complete_checkpoint(out_dir / "checkpoints") if resume else None
    lock = None
    if rank0:
        from tools.errors import RunLocked
        from tools.workspace import RunLock

        try:
            lock = RunLock(out_dir).acquire()  # one runner per train/vN (a second resume gets a clear error)
        except RunLocked as e:
            print(f"error: {e.one_line()}", file=sys.stderr)
            return 2
        (out_dir / "STOP").unlink(missing_ok=True)
        if resume_from is not None:
            truncate_events(events, checkpoint_step(resume_from))
        elif events.exists() and not resume:
            events.unlink()
    status, err, kind, result = "failed", None, None, None
    trainer = None
    try:
        import torch

        from tools.llm.embedded import resolve_model_path

        on_cuda = torch.cuda.is_available() and not os.environ.get("TUNEWISE_DEVICE", "").startswith("cpu")
        torch.manual_seed(cfg.seed)
        if not on_cuda:
            torch.set_num_threads(pick_cpu_threads())
        data_dir = Path(cast(str, cfg.data_dir))  # the runner sets it in config.json
        train_rows = load_split(data_dir, "train", cfg.system_prompt, cfg.replaces_system_prompt)
        val_rows = load_split(data_dir, "val", cfg.system_prompt, cfg.replaces_system_prompt)
        from datasets import Dataset
        from transformers import EarlyStoppingCallback

        model, tok = load_model_and_tokenizer(cfg, resolve_model_path(cfg.model), on_cuda)
        args = build_sft_config(cfg, out_dir, bool(val_rows), on_cuda)
        args._resumed_from = str(resume_from) if resume_from else None
        callback = make_events_callback(events, stop)
        callbacks = [callback]
        early = None
        if val_rows and cfg.early_stopping_patience > 0:
            early = EarlyStoppingCallback(cfg.early_stopping_patience, cfg.early_stopping_threshold)
            callbacks.append(early)
        trainer = make_trainer(
            checkpoint_layers=cfg.checkpoint_layers,
            model=model,
            args=args,
            train_dataset=Dataset.from_list(train_rows),
            eval_dataset=Dataset.from_list(val_rows) if val_rows else None,
            processing_class=tok,
            peft_config=lora_config(cfg),
            callbacks=callbacks,
        )
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)  # events.jsonl is the log; no dict dumps on stdout
        result = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
        if callback.stopped:
            status = "stopped"
        elif early is not None and early.early_stopping_patience_counter >= cfg.early_stopping_patience:
            status = "early_stopped"
        else:
            status = "completed"
        if rank0:
            save_adapter(trainer, tok, out_dir / "adapter")
    except BaseException as e:  # noqa: BLE001 - every failure must end in metrics.json + an error event
        if isinstance(e, KeyboardInterrupt):
            status = "stopped"
        else:
            err, kind = f"{type(e).__name__}: {e}"[:2000], ("oom" if is_oom(e) else "exception")
        if not isinstance(e, (Exception, KeyboardInterrupt)):
            raise
        import traceback

        traceback.print_exc(file=sys.stderr)
    finally:
        stop_file = out_dir / "STOP"
        if rank0:
            stop_file.unlink(missing_ok=True)
    if not rank0:
        return EXIT_OK if err is None else (EXIT_OOM if kind == "oom" else EXIT_FAILED)

    state = trainer.state if trainer is not None else None
    losses = [h["loss"] for h in (state.log_history if state else []) if "loss" in h]
    runtime = (result.metrics.get("train_runtime") if result else None) or (time.time() - t_start)
    tokens = getattr(trainer, "_total_train_tokens", None) if trainer is not None else None
    if tokens is not None and hasattr(tokens, "item"):
        tokens = tokens.item()
    metrics: dict[str, Any] = {
        "status": status,
        **({"stop_reason": stop.why} if status == "stopped" and stop.why else {}),
        "final_step": state.global_step if state else 0,
        "max_steps": state.max_steps if state else None,
        "best_eval_loss": state.best_metric if state else None,
        "train_loss": losses[-1] if losses else None,
        "mean_train_loss": (result.training_loss if result else None),
        "first_train_loss": losses[0] if losses else None,
        "train_runtime_s": round(runtime, 2),
        "train_tokens": tokens,
        "tokens_per_s": round(tokens / runtime, 1) if tokens and runtime else None,
        "peak_mem_mb": peak_mem_mb(),
        "resumed_from": str(resume_from) if resume_from else None,
        "tensorboard": str(tensorboard_dir(out_dir)) if tensorboard_dir(out_dir).is_dir() else None,
        "trackers": tracker_run_ids(cfg),
        "adapter": str(out_dir / "adapter")
        if (out_dir / "adapter" / "adapter_config.json").exists()
        else None,
    }
    if metrics["best_eval_loss"] is not None and math.isnan(metrics["best_eval_loss"]):
        metrics["best_eval_loss"] = None
    from tools.workspace import append_jsonl

    if err is not None:
        metrics.update(status="failed", error=err, error_kind=kind)
        append_jsonl(
            events,
            make_event(
                "error",
                step=metrics["final_step"],
                max_steps=metrics["max_steps"],
                message=err,
                error_kind=kind,
                mem_mb=metrics["peak_mem_mb"],
            ),
        )
    append_jsonl(
        events,
        make_event(
            "end",
            step=metrics["final_step"],
            max_steps=metrics["max_steps"],
            status=metrics["status"],
            best_eval_loss=metrics["best_eval_loss"],
            loss=metrics["train_loss"],
            tokens_per_s=metrics["tokens_per_s"],
            mem_mb=metrics["peak_mem_mb"],
            eta_s=0,
        ),
    )
    atomic_write_json(out_dir / "metrics.json", metrics)
    if lock is not None:
        lock.release()
    if err is None:
        return EXIT_OK
    return EXIT_OOM if kind == "oom" else EXIT_FAILED


def save_adapter(trainer, tok, adapter_dir: Path) -> None:
    """The (best) adapter + tokenizer, written to a temp dir and renamed into place."""
    import shutil

    tmp = adapter_dir.parent / f".{adapter_dir.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    trainer.model.save_pretrained(str(tmp))
    tok.save_pretrained(str(tmp))
    old = adapter_dir.parent / f".{adapter_dir.name}.old-{os.getpid()}"
    if adapter_dir.exists():
        os.replace(adapter_dir, old)
    os.replace(tmp, adapter_dir)
    shutil.rmtree(old, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.train.sft", description=__doc__.split("\n")[0])
    ap.add_argument("--out-dir", required=True, help="train/vN directory holding config.json")
    ap.add_argument("--resume", action="store_true", help="continue from the last complete checkpoint")
    a = ap.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    import logging
    import warnings

    warnings.filterwarnings("ignore")
    from tools import NOISY_LOGGERS

    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        import datasets

        datasets.disable_progress_bars()
    except Exception:  # noqa: BLE001
        pass
    return train(Path(a.out_dir), resume=a.resume)


if __name__ == "__main__":
    sys.exit(main())
