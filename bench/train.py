"""Training throughput: our runner (tools.train.sft) vs a plain TRL SFTTrainer script, same data, same
hyperparameters, in one run; plus, on CUDA only, QLoRA vs LoRA bf16 on a randomly initialised
Llama-3-8B-shaped model (throughput does not depend on weight values).

    .venv/bin/python bench/train.py [--steps 10] [--examples 64] [--reps 1] [--gpu-only]

Prints tokens/s and peak memory of each, and the ratio ours/plain. Both runs go through the same
subprocess launch, with the same CPU thread count, and count tokens the same way (TRL's `num_tokens`:
non-pad tokens seen, over the Trainer's train_runtime).

"Plain TRL" is what a user gets from the TRL docs: a conversational `messages` dataset (loss on every
token) and TRL's defaults for everything that is not a hyperparameter (gradient checkpointing on,
padded batches); "plain-pc" is the same script on prompt/completion rows (loss on the answer, like ours),
whose loss curve ours should match within noise. Ours: prompt/completion, the answer-only LM head,
length-grouped batches, eager attention under CPU bf16, gradient checkpointing as auto_config sets it
(off on CPU); "ours-gc" is ours with gradient checkpointing on (less memory, more time).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SYSTEM = "Extract the fields as JSON with keys name, city and year."
NAMES = ["Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances", "Edsger", "Radia"]
CITIES = ["Paris", "Berlin", "Rome", "Madrid", "Oslo", "Vienna", "Lisbon", "Prague", "Dublin", "Athens"]
FILLER = [
    "It rained all week.",
    "The train was late.",
    "Everyone brought sandwiches.",
    "The museum was closed on Monday.",
    "We talked about compilers for hours.",
]


def synthetic_rows(n: int, seed: int = 0, fillers: tuple[int, int] = (1, 6)) -> list[dict]:
    """Chat rows with varied lengths (`fillers` sentences, 1–6 by default), like a real extraction set."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        name, city, year = rng.choice(NAMES), rng.choice(CITIES), rng.randint(1950, 2025)
        story = " ".join(rng.choice(FILLER) for _ in range(rng.randint(*fillers)))
        rows.append(
            {
                "messages": [
                    {"role": "system", "content": SYSTEM},
                    {"role": "user", "content": f"In {year}, {name} moved to {city}. {story}"},
                    {"role": "assistant", "content": json.dumps({"name": name, "city": city, "year": year})},
                ],
                "metadata": {"i": i},
            }
        )
    return rows


def write_data(d: Path, n: int, fillers: tuple[int, int] = (1, 6)) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for split, rows in (("train", synthetic_rows(n, 0, fillers)), ("val", synthetic_rows(8, 1, fillers))):
        (d / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return d


def plain_trl(out: Path) -> None:
    """The plain TRL script (run as a subprocess): docs-style SFTTrainer on `messages`, same hyperparameters."""
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig, SFTTrainer

    cfg = json.loads((out / "config.json").read_text())
    rows = [
        {"messages": json.loads(line)["messages"]} for line in open(Path(cfg["data_dir"]) / "train.jsonl")
    ]
    if cfg.get("plain_data") == "prompt_completion":  # TRL's docs' other format: loss on the answer only
        from tools.train.sft import row_to_prompt_completion

        rows = [row_to_prompt_completion(r) for r in rows]
    from tools.llm.embedded import resolve_model_path

    path = str(resolve_model_path(cfg["model"]))
    tok = AutoTokenizer.from_pretrained(path)
    on_cuda = torch.cuda.is_available()
    # the docs' GPU recipe loads half-precision weights; on CPU, fp32 weights (bf16 is autocast)
    model = AutoModelForCausalLM.from_pretrained(
        path, dtype=torch.bfloat16 if on_cuda and cfg["dtype"] == "bfloat16" else torch.float32
    )
    args = SFTConfig(
        output_dir=str(out / "ckpt"),
        learning_rate=cfg["learning_rate"],
        max_steps=cfg["max_steps"],
        per_device_train_batch_size=cfg["per_device_train_batch_size"],
        gradient_accumulation_steps=cfg["gradient_accumulation_steps"],
        max_length=cfg["max_length"],
        lr_scheduler_type=cfg["lr_scheduler_type"],
        warmup_steps=cfg["warmup_steps"],
        seed=cfg["seed"],
        bf16=cfg["dtype"] == "bfloat16",
        use_cpu=not on_cuda,
        logging_steps=1,
        save_strategy="no",
        report_to="none",
        disable_tqdm=True,
    )
    peft = LoraConfig(
        r=cfg["lora_r"],
        lora_alpha=cfg["lora_alpha"],
        lora_dropout=cfg["lora_dropout"],
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    trainer = SFTTrainer(
        model=model, args=args, train_dataset=Dataset.from_list(rows), processing_class=tok, peft_config=peft
    )
    res = trainer.train()
    from tools.train.sft import peak_mem_mb

    tokens = max(h.get("num_tokens", 0) for h in trainer.state.log_history)
    losses = [h["loss"] for h in trainer.state.log_history if "loss" in h]
    (out / "metrics.json").write_text(
        json.dumps(
            {
                "tokens_per_s": tokens / res.metrics["train_runtime"],
                "train_tokens": tokens,
                "train_runtime_s": res.metrics["train_runtime"],
                "first_train_loss": losses[0],
                "train_loss": losses[-1],
                "losses": losses,
                "peak_mem_mb": peak_mem_mb(),  # GPU: max allocated; CPU: peak RSS, as the runner reports
            }
        )
    )


def run_one(kind: str, out: Path, threads: int) -> dict:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": str(threads),
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
        "TOKENIZERS_PARALLELISM": "false",
    }
    cmd = (
        [sys.executable, "-m", "tools.train.sft", "--out-dir", str(out)]
        if kind == "ours"
        else [sys.executable, __file__, "--plain", str(out)]
    )
    t = time.time()
    res = subprocess.run(cmd, env=env, cwd=str(ROOT), capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{res.stderr[-3000:]}")
    m = json.loads((out / "metrics.json").read_text())
    m["wall_s"] = time.time() - t
    if "losses" not in m:  # ours: the per-step losses are in the progress log
        from tools.workspace import read_jsonl

        m["losses"] = [e["loss"] for e in read_jsonl(out / "events.jsonl") if e["event"] == "log"]
    return m


def loss_table(results: dict[str, dict], steps: int) -> None:
    """The runs' train loss at a few steps, side by side (answer-only and every-token losses differ in kind)."""
    points = sorted({1, max(1, steps // 4), max(1, steps // 2), max(1, 3 * steps // 4), steps})
    print("train loss by step  " + "  ".join(f"{p:>6d}" for p in points))
    for name, m in results.items():
        ls = m.get("losses") or []
        print(f"  {name:24s}" + "  ".join(f"{ls[p - 1]:6.3f}" if p <= len(ls) else "     -" for p in points))


def cpu_bench(steps: int, examples: int, reps: int) -> None:
    from transformers import AutoTokenizer

    from tools.llm.embedded import resolve_model_path
    from tools.train.config import apply_overrides, auto_config, detect_hardware, read_model_info
    from tools.train.runner import dataset_stats
    from tools.train.sft import pick_cpu_threads

    tmp = Path(tempfile.mkdtemp(prefix="tw-bench-train-"))
    data = write_data(tmp / "data", examples)
    path = resolve_model_path("embedded")
    stats = dataset_stats(data, AutoTokenizer.from_pretrained(str(path)))
    hw = detect_hardware()
    cfg = auto_config(stats, "embedded", hw, read_model_info(path))
    # no eval/checkpoint inside the timed window: the plain script does neither, and train_runtime would count them
    cfg = apply_overrides(
        cfg,
        {
            "max_steps": steps,
            "eval_steps": steps * 10,
            "save_steps": steps * 10,
            "warmup_steps": 1,
            "logging_steps": 1,
        },
        source="bench",
    )
    cfg.data_dir = str(data)
    threads = pick_cpu_threads()
    print(
        f"data: {examples} examples, p50 {stats.percentile(50)} / p99 {stats.percentile(99)} tokens; "
        f"config: lora r={cfg.lora_r}, batch {cfg.per_device_train_batch_size}×{cfg.gradient_accumulation_steps}, "
        f"max_length {cfg.max_length}, dtype {cfg.dtype}, padding_free {cfg.padding_free}, {steps} steps, "
        f"{threads} CPU thread(s)"
    )
    # plain = TRL's docs on `messages` (loss on every token: the speed baseline, as in earlier sessions);
    # plain-pc = the same on prompt/completion rows (answer-only loss: the loss curve to match);
    # ours = the runner as auto_config sets it; ours-gc = the runner with gradient checkpointing (memory), as plain
    # TRL's SFTConfig has it by default; ours-half = checkpointing on every other layer (`checkpoint_layers` 0.5)
    kinds = ("plain", "plain-pc", "ours", "ours-half", "ours-gc")
    results: dict[str, list[dict]] = {k: [] for k in kinds}
    for rep in range(reps):
        for kind in kinds if rep % 2 == 0 else kinds[::-1]:  # alternate against drift
            out = tmp / f"{kind}-{rep}"
            out.mkdir()
            doc = {**cfg.to_dict(), "early_stopping_patience": 0}
            if kind == "plain-pc":
                doc["plain_data"] = "prompt_completion"
            if kind in ("ours-gc", "ours-half"):
                doc["gradient_checkpointing"] = True
            if kind == "ours-half":
                doc["checkpoint_layers"] = 0.5  # every other layer recomputed
            (out / "config.json").write_text(json.dumps(doc))
            m = run_one("ours" if kind.startswith("ours") else "plain", out, threads)
            results[kind].append(m)
            print(
                f"  {kind:8s} rep {rep}: {m['tokens_per_s']:.1f} tokens/s, peak {m['peak_mem_mb']:.0f} MB, "
                f"loss {m['first_train_loss']:.3f} → {m['train_loss']:.3f}, train {m['train_runtime_s']:.1f}s"
            )

    def mean(kind: str, key: str) -> float:
        return sum(r[key] for r in results[kind]) / len(results[kind])

    base_tps, base_mem = mean("plain", "tokens_per_s"), mean("plain", "peak_mem_mb")
    print("run        tokens/s  ×plain  peak MB  ×plain  step s  loss first → last")
    for kind in kinds:
        tps, mem = mean(kind, "tokens_per_s"), mean(kind, "peak_mem_mb")
        print(
            f"  {kind:8s} {tps:8.1f}  {tps / base_tps:5.2f}×  {mem:7.0f}  {mem / base_mem:5.2f}×  "
            f"{mean(kind, 'train_runtime_s') / steps:6.2f}  "
            f"{mean(kind, 'first_train_loss'):.3f} → {mean(kind, 'train_loss'):.3f}"
        )
    loss_table({k: results[k][0] for k in kinds}, steps)


# the GPU runs, most wanted first (a time limit cuts the last): (name, runner, overrides). plain = TRL's docs
# recipe (bf16 LoRA on `messages`, TRL's defaults: gradient checkpointing on, padded batches); the runner's: LoRA bf16 with checkpointing (plain's memory class),
# without it (an 80+ GB card holds the activations), with Liger's fused kernels, and QLoRA 4-bit
GPU_RUNS: tuple[tuple[str, str, dict], ...] = (
    ("plain", "plain", {"method": "lora", "optim": "adamw_torch", "gradient_checkpointing": True}),
    ("ours-gc", "ours", {"method": "lora", "optim": "adamw_torch", "gradient_checkpointing": True}),
    ("qlora", "ours", {"method": "qlora", "optim": "paged_adamw_8bit", "gradient_checkpointing": True}),
    ("ours", "ours", {"method": "lora", "optim": "adamw_torch", "gradient_checkpointing": False}),
    (
        "ours-liger",
        "ours",
        {"method": "lora", "optim": "adamw_torch", "gradient_checkpointing": False, "use_liger_kernel": True},
    ),
    (
        "ours-liger-gc",
        "ours",
        {"method": "lora", "optim": "adamw_torch", "gradient_checkpointing": True, "use_liger_kernel": True},
    ),
)

LLAMA3_8B = dict(
    hidden_size=4096,
    intermediate_size=14336,
    num_hidden_layers=32,
    num_attention_heads=32,
    num_key_value_heads=8,
    vocab_size=128256,
    max_position_embeddings=8192,
    rope_theta=500000.0,
    tie_word_embeddings=False,
)
# the same code path on a model small enough for a CPU (`--gpu-dry-run`): checks the script, not the speed
TINY = dict(
    LLAMA3_8B,
    hidden_size=64,
    intermediate_size=128,
    num_hidden_layers=2,
    num_attention_heads=4,
    num_key_value_heads=2,
)


def gpu_bench(steps: int, dry_run: bool = False, out_json: Path | None = None) -> None:
    """The runner vs plain TRL, LoRA bf16 and QLoRA 4-bit, on a random Llama-3-8B-shaped model (CUDA only).

    Rows of ~120–500 tokens (8–60 filler sentences), batch 8, max_length 1024, r=16 on every linear layer."""
    import importlib.util

    import torch

    if not torch.cuda.is_available() and not dry_run:
        print("GPU section skipped: no CUDA device")
        return
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    from tools.llm.embedded import resolve_model_path
    from tools.train.config import TrainConfig

    tmp = Path(tempfile.mkdtemp(prefix="tw-bench-gpu-"))
    shape = TINY if dry_run else LLAMA3_8B
    model_dir = tmp / "llama3-8b-random"
    torch.manual_seed(0)
    t = time.time()
    with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
        m = AutoModelForCausalLM.from_config(AutoConfig.for_model("llama", **shape), dtype=torch.bfloat16)
    m.save_pretrained(str(model_dir))
    n_params = sum(p.numel() for p in m.parameters())
    del m
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
        props = torch.cuda.get_device_properties(0)
        device = f"{props.name}, {props.total_memory / 2**30:.0f} GiB, CUDA {torch.version.cuda}"
    else:
        device = "CPU (dry run)"
    tok = AutoTokenizer.from_pretrained(str(resolve_model_path("embedded")))  # any chat tokenizer works
    tok.save_pretrained(str(model_dir))
    data = write_data(tmp / "data", 256, fillers=(8, 60))
    import peft
    import transformers
    import trl

    print(
        f"device: {device}; torch {torch.__version__}, transformers {transformers.__version__}, peft "
        f"{peft.__version__}, trl {trl.__version__}; model {n_params / 1e9:.2f}B parameters (random, Llama-3-8B "
        f"shape{' shrunk' if dry_run else ''}), made in {time.time() - t:.0f}s; {steps} steps of 8 rows"
    )
    have_liger = importlib.util.find_spec("liger_kernel") is not None and torch.cuda.is_available()
    have_bnb = importlib.util.find_spec("bitsandbytes") is not None and torch.cuda.is_available()
    results: dict[str, dict] = {}
    for name, runner, over in GPU_RUNS:
        if (over.get("use_liger_kernel") and not have_liger) or (over["method"] == "qlora" and not have_bnb):
            print(
                f"  {name}: skipped (needs {'liger-kernel' if over.get('use_liger_kernel') else 'bitsandbytes'}"
                " and CUDA)"
            )
            continue
        out = tmp / name
        out.mkdir()
        c = TrainConfig(
            model=str(model_dir),
            data_dir=str(data),
            dtype="bfloat16",
            lora_r=16,
            lora_alpha=32,
            max_steps=steps,
            max_length=1024,
            per_device_train_batch_size=8,
            per_device_eval_batch_size=8,
            warmup_steps=1,
            logging_steps=1,
            eval_steps=steps
            * 10,  # no eval or checkpoint inside the timed window (the plain script does neither)
            save_steps=steps * 10,
            padding_free=False,
            early_stopping_patience=0,
            **over,
        )
        (out / "config.json").write_text(json.dumps(c.to_dict()))
        try:
            r = run_one(runner, out, threads=8)
        except SystemExit as e:  # one run's failure (a missing kernel, say) does not lose the others' figures
            print(f"  {name}: failed: {str(e)[-1500:]}")
            continue
        results[name] = r
        print(
            f"  {name:13s}: {r['tokens_per_s']:8.0f} tokens/s, peak {r['peak_mem_mb'] / 1024:5.1f} GiB allocated, "
            f"loss {r['first_train_loss']:.3f} → {r['train_loss']:.3f}, train {r['train_runtime_s']:.1f}s, "
            f"wall {r['wall_s']:.0f}s",
            flush=True,
        )
        if out_json:
            out_json.write_text(json.dumps({"device": device, "steps": steps, "runs": results}, indent=1))
    if "plain" in results:
        base = results["plain"]
        print("run            tokens/s  ×plain  peak GiB  ×plain")
        for name, r in results.items():
            print(
                f"  {name:13s} {r['tokens_per_s']:8.0f}  {r['tokens_per_s'] / base['tokens_per_s']:5.2f}×  "
                f"{r['peak_mem_mb'] / 1024:8.1f}  {r['peak_mem_mb'] / base['peak_mem_mb']:5.2f}×"
            )
    loss_table(results, steps)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plain", help=argparse.SUPPRESS)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--examples", type=int, default=64)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--gpu-only", action="store_true")
    ap.add_argument(
        "--gpu-dry-run", action="store_true", help="the GPU section's code on a tiny model on CPU"
    )
    ap.add_argument("--json", type=Path, help="write the GPU section's figures here after each run")
    a = ap.parse_args()
    if a.plain:
        import warnings

        warnings.filterwarnings("ignore")
        plain_trl(Path(a.plain))
        return
    print(f"# bench/train.py — {time.strftime('%Y-%m-%d %H:%M')}")
    if not (a.gpu_only or a.gpu_dry_run):
        cpu_bench(a.steps, a.examples, a.reps)
    gpu_bench(a.steps, dry_run=a.gpu_dry_run, out_json=a.json)


if __name__ == "__main__":
    main()
