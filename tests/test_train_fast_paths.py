"""The training speed-ups change no numbers: the answer-only LM head gives the loss and LoRA gradients of TRL's
stock head (with gradient accumulation too), and length-grouped batches see every row once per epoch."""

from __future__ import annotations

import collections

import pytest

from tools.train.sft import row_to_prompt_completion

ROWS = [
    {
        "messages": [
            {"role": "system", "content": "Answer with the city as JSON."},
            {"role": "user", "content": f"{name} moved to {city} in {1950 + i}." + " It rained." * (i % 4)},
            {"role": "assistant", "content": f'{{"city": "{city}"}}'},
        ]
    }
    for i, (name, city) in enumerate(
        [
            ("Ada", "Paris"),
            ("Ken", "Oslo"),
            ("Grace", "Rome"),
            ("Linus", "Lisbon"),
            ("Radia", "Vienna"),
            ("Dennis", "Athens"),
        ]
    )
]


def _trainer(model_dir, tmp_path, checkpoint_layers=1.0, **overrides):
    import torch
    from datasets import Dataset
    from peft import LoraConfig
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import SFTConfig

    from tools.train.sft import make_trainer

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(str(model_dir))
    model = AutoModelForCausalLM.from_pretrained(str(model_dir), dtype=torch.float32)
    args = dict(
        output_dir=str(tmp_path / "out"),
        per_device_train_batch_size=3,
        max_steps=1,
        use_cpu=True,
        bf16=False,
        report_to="none",
        save_strategy="no",
        completion_only_loss=True,
        gradient_checkpointing=False,
        max_length=128,
        seed=0,
        train_sampling_strategy="group_by_length",  # as build_sft_config asks (checked below)
    )
    args.update(overrides)
    peft = LoraConfig(r=4, lora_alpha=8, lora_dropout=0.0, target_modules="all-linear", task_type="CAUSAL_LM")
    return make_trainer(
        checkpoint_layers=checkpoint_layers,
        model=model,
        args=SFTConfig(**args),
        train_dataset=Dataset.from_list([row_to_prompt_completion(r) for r in ROWS]),
        processing_class=tok,
        peft_config=peft,
    )


@pytest.fixture(scope="module")
def trainer(embedded_dir, tmp_path_factory):
    import torch

    from tools.train.sft import pick_cpu_threads

    threads = torch.get_num_threads()
    torch.set_num_threads(pick_cpu_threads())  # as the runner does: 2 threads on 2 busy cores crawl
    yield _trainer(embedded_dir, tmp_path_factory.mktemp("fast"))
    torch.set_num_threads(threads)


def _loss_and_grads(trainer, batches, num_items=None):
    """Loss of each micro-batch and the summed LoRA gradients, as `Trainer.training_step` would take them."""
    model = trainer.model
    model.train()
    model.zero_grad()
    losses = []
    for b in batches:
        loss = trainer.compute_loss(model, dict(b), num_items_in_batch=num_items)
        loss.backward()
        losses.append(loss.item())
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    model.zero_grad()
    return losses, grads, dict(trainer._metrics["train"])


def _batches(trainer, n):
    import torch

    rows = [trainer.train_dataset[i] for i in range(len(trainer.train_dataset))]
    coll = trainer.data_collator
    batches = [coll(rows[i * 3 : (i + 1) * 3]) for i in range(n)]
    items = sum(int((b["labels"][:, 1:] != -100).sum()) for b in batches)
    return batches, torch.tensor(items)


def _both_heads(trainer, batches, num_items, monkeypatch, direct: bool):
    """((losses, grads, metrics) with TRL's stock head — all positions, masked after —, the same with ours)."""
    from tools.train import sft

    if not direct:
        monkeypatch.setattr(sft, "DIRECT_HEAD_MAX_ELEMENTS", 0)  # force the chunked-kernel branch
    from trl.trainer.utils import add_fused_lm_head

    base = trainer.model.get_base_model()
    del base.forward  # back to the class's forward, then TRL's stock fused head as SFTTrainer adds it
    add_fused_lm_head(base, outputs=("log_probs", "entropy", "is_top1"))
    trainer._metrics["train"].clear()
    stock = _loss_and_grads(trainer, batches, num_items)
    applied = sft.answer_only_head(base)
    trainer._metrics["train"].clear()
    return stock, _loss_and_grads(trainer, batches, num_items), applied


def _same(stock, ours) -> list[str]:
    """What differs between the two heads' losses (1e-4), LoRA gradients (1e-5 + 1e-4 relative) and
    metrics (1e-4); [] when nothing does."""
    import torch

    (ref_losses, ref_grads, ref_metrics), (losses, grads, metrics) = stock, ours
    out = [] if losses == pytest.approx(ref_losses, abs=1e-4) else [f"losses {losses} vs {ref_losses}"]
    out += [n for n, g in ref_grads.items() if not torch.allclose(grads[n], g, atol=1e-5, rtol=1e-4)]
    out += [
        k for k in ("mean_token_accuracy", "entropy") if metrics[k] != pytest.approx(ref_metrics[k], abs=1e-4)
    ]
    return out


def test_answer_only_head_applies_to_the_embedded_model(trainer):
    assert trainer.answer_only_logits


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "chunked"])
def test_answer_only_head_gives_the_stock_loss_and_gradients(trainer, monkeypatch, direct):
    batches, _ = _batches(trainer, 1)
    stock, ours, applied = _both_heads(trainer, batches, None, monkeypatch, direct)
    assert applied
    assert _same(stock, ours) == []
    assert max(g.abs().max().item() for g in ours[1].values()) > 1e-4  # the gradients are not trivially zero


def test_answer_only_head_under_gradient_accumulation(trainer, monkeypatch):
    # two micro-batches normalised by the tokens of both (num_items_in_batch), as the Trainer does
    batches, items = _batches(trainer, 2)
    stock, ours, applied = _both_heads(trainer, batches, items, monkeypatch, direct=True)
    assert applied
    assert _same(stock, ours) == []
    assert len(ours[0]) == 2 and max(g.abs().max().item() for g in ours[1].values()) > 1e-4


@pytest.mark.parametrize("bf16", [False, True], ids=["fp32", "bf16"])
def test_eager_attention_gives_the_sdpa_loss(trainer, bf16):
    """The runner picks eager attention under CPU bf16 (faster there); it is the same attention: the loss on a
    batch matches SDPA's within 1e-4 in fp32, and within bf16 rounding (5%) under bf16 autocast."""
    import contextlib

    import torch

    base = trainer.model.get_base_model()
    batch, _ = _batches(trainer, 1)
    trainer.model.eval()  # no dropout: the two forwards see the same network
    losses = {}
    for impl in ("sdpa", "eager"):
        base.set_attn_implementation(impl)
        autocast = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
        with torch.no_grad(), autocast:
            losses[impl] = trainer.compute_loss(trainer.model, dict(batch[0])).item()
    base.set_attn_implementation("sdpa")
    # bf16 autocast: ~3 significant digits per op over 30 layers; a clean-clone run under load saw 1.408 vs
    # 1.437 (2%). A wrong attention (no causal mask, wrong scale) is off by far more than 5%.
    assert losses["eager"] == pytest.approx(losses["sdpa"], **({"rel": 5e-2} if bf16 else {"abs": 1e-4}))


def test_the_runner_uses_eager_attention_under_cpu_bf16(embedded_dir):
    from tools.train.config import TrainConfig
    from tools.train.sft import load_model_and_tokenizer

    model, _ = load_model_and_tokenizer(TrainConfig(dtype="bfloat16"), embedded_dir, on_cuda=False)
    assert model.config._attn_implementation == "eager"
    model, _ = load_model_and_tokenizer(TrainConfig(dtype="float32"), embedded_dir, on_cuda=False)
    assert model.config._attn_implementation != "eager"


def test_answer_only_head_leaves_models_it_does_not_know():
    import torch

    from tools.train.sft import answer_only_head

    assert not answer_only_head(torch.nn.Linear(2, 2))  # not a causal LM given TRL's fused head


def test_length_grouped_batches_see_every_row_once_per_epoch(embedded_dir, tmp_path):
    from tools.train.sft import length_grouped_sampler

    lengths = [5, 40, 7, 33, 12, 90, 8, 61, 20, 3, 55, 14, 70, 9, 26, 41]
    sampler = length_grouped_sampler(lengths, batch_size=2, seed=3)
    epochs = []
    for epoch in range(3):
        sampler.set_epoch(epoch)
        epochs.append(list(sampler))
    assert all(sorted(e) == list(range(len(lengths))) for e in epochs)  # a permutation: each row once
    assert len({tuple(e) for e in epochs}) == 3  # a fresh order every epoch
    sampler.set_epoch(1)
    assert list(sampler) == epochs[1]  # reproducible: a resumed run skips exactly what it trained on

    def padding(order):
        return sum(
            max(lengths[i] for i in b) * 2 - sum(lengths[i] for i in b)
            for b in zip(order[::2], order[1::2], strict=True)
        )

    import random

    rng = random.Random(0)
    shuffled = [rng.sample(range(len(lengths)), len(lengths)) for _ in range(20)]
    assert sum(map(padding, epochs)) / 3 < sum(map(padding, shuffled)) / 20


def test_the_trainer_batches_by_length_through_its_dataloader(trainer):
    sampler = trainer._get_train_sampler()
    assert type(sampler).__name__ == "EpochSeededLengthGroupedSampler"
    dl = trainer.get_train_dataloader()
    seen = []
    for epoch in range(2):
        dl.set_epoch(epoch)
        rows = collections.Counter()
        for b in dl:
            for ids, mask in zip(b["input_ids"], b["attention_mask"], strict=True):
                rows[tuple(ids[mask.bool()].tolist())] += 1
        seen.append(rows)
    want = collections.Counter(tuple(trainer.train_dataset[i]["input_ids"]) for i in range(len(ROWS)))
    assert seen[0] == want and seen[1] == want


def test_the_runner_asks_for_length_grouped_batches(tmp_path):
    from tools.train.config import TrainConfig
    from tools.train.sft import build_sft_config

    # last in this file: building training arguments resets accelerate's state under the module's trainer
    args = build_sft_config(TrainConfig(), tmp_path, has_eval=False, on_cuda=False)
    assert args.train_sampling_strategy == "group_by_length"


def test_checkpointing_part_of_the_layers_changes_no_number(embedded_dir, tmp_path):
    """`checkpoint_layers`: checkpointing every other layer (between none and all in memory and time) gives
    the loss and LoRA gradients of checkpointing every layer, and of none."""
    from transformers import TrainerCallback

    from tools.train.config import TrainConfig
    from tools.train.sft import checkpoint_some_layers

    assert TrainConfig().checkpoint_layers == 1.0  # all, as before, unless asked
    results = {}
    for name, gc, share in (("none", False, 1.0), ("all", True, 1.0), ("half", True, 0.5)):
        tr = _trainer(embedded_dir, tmp_path / name, gradient_checkpointing=gc, max_steps=1)
        if gc:
            tr.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        layers = [m for m in tr.model.modules() if type(m).__name__.endswith("DecoderLayer")]
        counted = checkpoint_some_layers(tr.model, share) if gc else (0, len(layers))
        flags = [bool(m.gradient_checkpointing) for m in layers]
        batches, items = _batches(tr, 2)
        results[name] = (_loss_and_grads(tr, batches, items), counted, flags)
    assert results["all"][1] == (30, 30) and results["none"][1] == (0, 30)
    assert results["half"][1] == (15, 30) and results["half"][2] == [i % 2 == 1 for i in range(30)]
    assert _same(results["none"][0], results["half"][0]) == []
    assert _same(results["all"][0], results["half"][0]) == []

    # the runner's trainer applies the share as training starts (after the Trainer turns checkpointing on)
    seen = {}

    class Look(TrainerCallback):
        def on_step_end(self, args, state, control, model=None, **kw):
            seen["flags"] = [bool(m.gradient_checkpointing) for m in model.modules() if m in layers]

    tr = _trainer(
        embedded_dir,
        tmp_path / "run",
        checkpoint_layers=0.5,
        gradient_checkpointing=True,
        gradient_checkpointing_kwargs={"use_reentrant": False},
    )
    layers = {m for m in tr.model.modules() if type(m).__name__.endswith("DecoderLayer")}
    tr.add_callback(Look())
    tr.train()
    assert tr.checkpointed_layers == (15, 30) and sum(seen["flags"]) == 15
