"""Does generation scale with its work? `tunewise data generate` against a rate-limited stand-in server.

A stand-in OpenAI-compatible server (bench/standin.py) runs in a thread of this process: every request
waits 300–800 ms, at most `--server-limit` are answered at once and one more gets `429` with
`Retry-After`. For each size (examples) and each mode the real CLI generates a routing dataset (the bench
task `routing`, teacher pointed at the stand-in by `base_url`, critique off: the judge would be the same
stand-in) in a subprocess with a fresh workspace (no response cache carried over), and the bench prints
examples/hour, the peak and mean requests in flight the server saw, 429s, cost at `--price-in/out`
(USD per million tokens, from the server's token counts) and wall time:

    fixed     --concurrency 8 (tunewise's default before adaptive concurrency)
    adaptive  --concurrency 8 --max-concurrency N (AIMD: +1 per window of successes, halve on 429)
    batch     --batch (the OpenAI Batch API at the stand-in: one batch per round of inputs, one for the
              answers; cost at half the live price, as OpenAI charges)

`--kill` then runs one size again, SIGKILLs the CLI once half of the answers are journaled, reruns the
same command (it resumes from the journal; in batch mode the kill comes while the answers' batch is being
polled, and the rerun must resume that batch by its id, not submit it again) and checks the dataset has every example exactly once, and
counts the requests the server answered twice (only requests in flight at the kill may be).

    .venv/bin/python bench/scale.py [--sizes 1000,5000] [--modes fixed,adaptive] [--kill 1000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

CLI = "from tui.cli.main import main; main()"


def write_spec(folder: Path, base_url: str) -> Path:
    import yaml

    spec = yaml.safe_load((ROOT / "bench" / "tasks" / "routing" / "task.yaml").read_text())
    spec["teacher"] = {"provider": "openai", "model": "standin", "base_url": base_url}
    spec["budget"] = 1000
    path = folder / "task.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def command(spec: Path, n: int, mode: str, args) -> list[str]:
    cmd = [sys.executable, "-c", CLI, "data", "generate", "--spec", str(spec), "--n", str(n)]
    cmd += ["--run", "bench", "--no-critique", "--json", "--concurrency", str(args.concurrency)]
    if mode == "adaptive":
        cmd += ["--max-concurrency", str(args.max_concurrency)]
    elif mode == "batch":
        cmd += ["--batch"]
    return cmd


def cost(server: dict, mode: str, args) -> float:
    usd = (server["prompt_tokens"] * args.price_in + server["completion_tokens"] * args.price_out) / 1e6
    return usd / 2 if mode == "batch" else usd


def environment(home: Path) -> dict:
    env = dict(os.environ)
    env.update(
        TUNEWISE_HOME=str(home),
        PYTHONPATH=str(ROOT),
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        TOKENIZERS_PARALLELISM="false",
        OMP_NUM_THREADS="1",
    )
    for var in ("OPENAI_API_KEY", "TUNEWISE_API_KEY", "OPENAI_BASE_URL", "TUNEWISE_BASE_URL"):
        env.pop(var, None)
    return env


def journal_of(home: Path) -> Path | None:
    found = sorted(home.rglob("generation.jsonl"))
    return found[0] if found else None


def answers_journaled(path: Path | None) -> int:
    if path is None or not path.exists():
        return 0
    with open(path, "rb") as fh:
        return sum(1 for line in fh if b'"kind": "answer"' in line or b'"kind":"answer"' in line)


def dataset(home: Path) -> tuple[list[dict], dict]:
    """The rows of the run's newest data version (train + val + test: regression and golden repeat test
    rows) and its manifest."""
    versions = sorted(p for p in home.rglob("data/v*") if p.is_dir())
    rows = []
    for split in ("train", "val", "test"):
        f = versions[-1] / f"{split}.jsonl"
        rows += [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
    return rows, json.loads((versions[-1] / "manifest.json").read_text())


def run_one(state, base_url: str, n: int, mode: str, args, log: Path) -> dict:
    with tempfile.TemporaryDirectory(prefix="tw-scale-") as tmp:
        home = Path(tmp)
        spec = write_spec(home, base_url)
        state.reset()
        t0 = time.perf_counter()
        with open(log, "a") as err:
            out = subprocess.run(
                command(spec, n, mode, args),
                env=environment(home),
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                cwd=str(home),
            )
        wall = time.perf_counter() - t0
        if out.returncode != 0:
            raise SystemExit(f"{mode} n={n} failed (rc {out.returncode}); see {log}")
        result = json.loads(out.stdout)
        server = state.stats()
        gen = result["generation"]
        return {
            "n": n,
            "mode": mode,
            "rows": gen["rows"],
            "wall_s": wall,
            "per_hour": gen["rows"] / wall * 3600,
            "server": server,
            "rejected": sum(gen.get("rejected_inputs", {}).values()),
            "kept": result["critique"].get("kept", 0),
            "cost": cost(server, mode, args),
        }


def kill_test(state, base_url: str, n: int, mode: str, args, log: Path) -> dict:
    """SIGKILL the CLI once half of the answers are journaled, rerun it, check nothing is lost or doubled."""
    with tempfile.TemporaryDirectory(prefix="tw-scale-kill-") as tmp:
        home = Path(tmp)
        spec = write_spec(home, base_url)
        state.reset()
        cmd, env = command(spec, n, mode, args), environment(home)
        with open(log, "a") as err:
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err, cwd=str(home))
            while (
                not any(home.rglob("batch-answers-*.json"))
                if mode == "batch"
                else answers_journaled(journal_of(home)) < n // 2
            ):
                if proc.poll() is not None:
                    raise SystemExit(f"the run ended (rc {proc.returncode}) before half of it; see {log}")
                time.sleep(0.2)
            kill_t = time.perf_counter()
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            in_flight = state.in_flight  # sent by the dead process, still being answered
            at_kill = answers_journaled(journal_of(home))
            before = state.stats()
            out = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=err, text=True, cwd=str(home))
        if out.returncode != 0:
            raise SystemExit(f"the resumed run failed (rc {out.returncode}); see {log}")
        after = state.stats()
        journal = journal_of(home)
        assert journal is not None
        entries = [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]
        answer_keys = Counter(e["key"] for e in entries if e.get("kind") == "answer")
        rows, manifest = dataset(home)
        ids = Counter(r["metadata"]["id"] for r in rows)
        decisions = Counter(d["action"] for d in manifest["decisions"])
        teacher_rows = [r for r in rows if r["metadata"].get("source") == "teacher"]
        # each request answered twice: how long before the kill the server first answered it (< 0: after,
        # i.e. it was out when the process died; a small positive age: answered, but the dead process had
        # not yet read it off its socket into the response cache)
        twice = [k for k, c in state.seen.items() if c > 1]
        ages = sorted(kill_t - state.first_answered[k] for k in twice)
        return {
            "n": n,
            "mode": mode,
            "answers_at_kill": at_kill,
            "in_flight_at_kill": in_flight,
            "requests_before_kill": before["answered"],
            "batches_before_kill": before["batches_created"],
            "batches_total": after["batches_created"],
            "requests_total": after["answered"],
            "repeated": after["repeated"],
            "journal_answers": sum(answer_keys.values()),
            "journal_doubled": sum(c - 1 for c in answer_keys.values()),
            "repeated_answered_after_kill": sum(a < 0 for a in ages),
            "repeated_max_age_s": round(ages[-1], 3) if ages else None,
            "dataset_rows": len(rows),
            "teacher_rows": len(teacher_rows),
            "validator_dropped": decisions.get("dropped", 0),
            "dataset_doubled": sum(c - 1 for c in ids.values()),
            "ok": sum(answer_keys.values()) == n
            and all(c == 1 for c in answer_keys.values())
            and all(c == 1 for c in ids.values())
            and len(teacher_rows) + decisions.get("dropped", 0) >= n,
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000", help="comma-separated example counts, e.g. 1000,5000,20000")
    ap.add_argument("--modes", default="fixed,adaptive")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--max-concurrency", type=int, default=64)
    ap.add_argument("--server-limit", type=int, default=32, help="requests the stand-in answers at once")
    ap.add_argument("--retry-after", default="1", help="seconds the 429 answers ask to wait")
    ap.add_argument("--latency", default="0.3,0.8", help="per-request latency range in seconds")
    ap.add_argument("--price-in", type=float, default=0.15, help="USD per million prompt tokens")
    ap.add_argument("--price-out", type=float, default=0.60, help="USD per million completion tokens")
    ap.add_argument("--kill", type=int, default=0, help="also run the kill -9 test at this size (0: no)")
    ap.add_argument("--kill-mode", default="adaptive")
    ap.add_argument("--log", default="/tmp/tw-scale.log", help="the CLI runs' stderr")
    args = ap.parse_args()

    from standin import start_standin

    lo, hi = (float(x) for x in args.latency.split(","))
    base_url, state, stop = start_standin(
        latency_lo=lo, latency_hi=hi, max_in_flight=args.server_limit, retry_after=args.retry_after
    )
    log = Path(args.log)
    print(
        f"# scale bench {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()} "
        f"{os.cpu_count()} cores; stand-in {lo}–{hi} s/request, {args.server_limit} in flight, "
        f"429 Retry-After {args.retry_after}s; price ${args.price_in}/${args.price_out} per M tokens"
    )
    results = []
    try:
        for n in (int(x) for x in args.sizes.split(",")):
            for mode in args.modes.split(","):
                r = run_one(state, base_url, n, mode, args, log)
                results.append(r)
                s = r["server"]
                print(
                    f"n={n:>6} {mode:<8} rows {r['rows']:>6}  wall {r['wall_s']:7.1f}s  "
                    f"{r['per_hour']:>9,.0f} ex/h  in flight peak {s['peak_in_flight']:>3} "
                    f"mean {s['mean_in_flight']:5.1f}  429s {s['throttled']:>5}  requests {s['answered']:>6}  "
                    f"repeated {s['repeated']}  batches {s['batches_created']}  rejected inputs {r['rejected']}  validators kept {r['kept']}  "
                    f"cost ${r['cost']:.3f}",
                    flush=True,
                )
        sizes = sorted({r["n"] for r in results})
        for n in sizes:
            by = {r["mode"]: r for r in results if r["n"] == n}
            for mode in ("adaptive", "batch"):
                if "fixed" in by and mode in by:
                    print(
                        f"n={n}: {mode} / fixed examples per hour = "
                        f"{by[mode]['per_hour'] / by['fixed']['per_hour']:.2f}x, cost "
                        f"{by[mode]['cost'] / max(by['fixed']['cost'], 1e-9):.2f}x"
                    )
        if args.kill:
            k = kill_test(state, base_url, args.kill, args.kill_mode, args, log)
            print("kill -9:", json.dumps(k))
    finally:
        stop()


if __name__ == "__main__":
    main()
