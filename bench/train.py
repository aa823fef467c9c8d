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


def synthetic_rows(n: int, seed: int = 0) -> list[dict]:
    """Chat rows with varied lengths (1–6 filler sentences), like a real extraction set."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        name, city, year = rng.choice(NAMES), rng.choice(CITIES), rng.randint(1950, 2025)
        story = " ".join(rng.choice(FILLER) for _ in range(rng.randint(1, 6)))
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


def write_data(d: Path, n: int) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    for split, rows in (("train", synthetic_rows(n)), ("val", synthetic_rows(8, seed=1))):
        (d / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return d


def plain_trl(out: Path) -> None:
    """The plain TRL script (run as a subprocess): docs-style SFTTrainer on `messages`, same hyperparameters."""
    import resource

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
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32)
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
        use_cpu=not torch.cuda.is_available(),
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
                "peak_mem_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def run_one(kind: str, out: Path, threads: int) -> dict:
    env = {
        **os.environ,
        "OMP_NUM_THREADS": str(threads),
        "PYTHONPATH": str(ROOT),
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


def gpu_bench(steps: int) -> None:
    """QLoRA vs LoRA bf16 on a random Llama-3-8B-shaped model (CUDA only)."""
    import torch

    if not torch.cuda.is_available():
        print("GPU section skipped: no CUDA device")
        return
    from transformers import AutoConfig, AutoModelForCausalLM

    tmp = Path(tempfile.mkdtemp(prefix="tw-bench-gpu-"))
    cfg = AutoConfig.for_model(
        "llama",
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
    model_dir = tmp / "llama3-8b-random"
    torch.manual_seed(0)
    with torch.device("cuda"):
        m = AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16)
    m.save_pretrained(str(model_dir))
    del m
    torch.cuda.empty_cache()
    from transformers import AutoTokenizer

    from tools.llm.embedded import resolve_model_path

    tok = AutoTokenizer.from_pretrained(str(resolve_model_path("embedded")))  # any chat tokenizer works
    tok.save_pretrained(str(model_dir))
    data = write_data(tmp / "data", 256)
    props = torch.cuda.get_device_properties(0)
    import peft
    import transformers
    import trl

    print(
        f"device: {props.name}, {props.total_memory / 2**30:.0f} GiB, CUDA {torch.version.cuda}, torch "
        f"{torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}, trl {trl.__version__}"
    )
    from tools.train.config import TrainConfig

    for method, extra in (
        ("qlora", {"optim": "paged_adamw_8bit", "gradient_checkpointing": True}),
        ("lora", {"optim": "adamw_torch", "gradient_checkpointing": True}),
    ):
        out = tmp / method
        out.mkdir()
        c = TrainConfig(
            model=str(model_dir),
            data_dir=str(data),
            method=method,
            dtype="bfloat16",
            lora_r=16,
            lora_alpha=32,
            max_steps=steps,
            max_length=512,
            per_device_train_batch_size=8,
            per_device_eval_batch_size=8,
            eval_steps=steps,
            save_steps=steps,
            padding_free=False,
            early_stopping_patience=0,
            **extra,
        )
        (out / "config.json").write_text(json.dumps(c.to_dict()))
        r = run_one("ours", out, threads=8)
        print(
            f"  {method:5s}: {r['tokens_per_s']:.0f} tokens/s, peak {r['peak_mem_mb']:.0f} MB allocated, "
            f"loss {r['first_train_loss']:.3f} → {r['train_loss']:.3f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--plain", help=argparse.SUPPRESS)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--examples", type=int, default=64)
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--gpu-only", action="store_true")
    a = ap.parse_args()
    if a.plain:
        import warnings

        warnings.filterwarnings("ignore")
        plain_trl(Path(a.plain))
        return
    print(f"# bench/train.py — {time.strftime('%Y-%m-%d %H:%M')}")
    if not a.gpu_only:
        cpu_bench(a.steps, a.examples, a.reps)
    gpu_bench(a.steps)


if __name__ == "__main__":
    main()
