"""Benchmark: what topic tagging costs per article of ordinary news, against spaCy's time on
the same articles (the issue's budget: under 10% of it).

The articles are the BBC News dataset's full texts (``bench/topic_corpus.py`` says where
it comes from; read from ``$NEWSMON_CACHE/sources/bbc/<category>/NNN.txt``): business,
entertainment, politics, sport and tech, a few with a topic, most without. Every k-th file
in name order, so the same sample each run. Measured in the same run, one process:

1. spaCy reading them as the pipeline does (``nlp.pipe``, the pipeline's components);
2. the tagger the pipeline runs (the linear model, and the fine-tuned encoder for the
   sentences past its gates, where its base weights are installed);
3. the linear model alone;

each as milliseconds per article and as a share of spaCy's time, with the sentences the
encoder read per article. Run from the repository root::

    python -m bench.topic_cost [--articles 300] [--source DIR]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from newsmon.settings import Settings


def sample(folder: Path, count: int) -> list[str]:
    """``count`` articles spread over the dataset: title line and body as one text."""
    files = sorted(folder.glob("*/*.txt"))
    step = max(1, len(files) // count)
    return [" ".join(path.read_text(encoding="latin-1").split()) for path in files[::step][:count]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--source", type=Path, default=None, help="default: $NEWSMON_CACHE/sources/bbc")
    parser.add_argument("--encoder", default=None,
                        help="the encoder's adapter file, or `off` (default: the packaged "
                        "seeds/topic_encoder.npz)")
    args = parser.parse_args(argv)
    folder = args.source or Settings.load().cache / "sources" / "bbc"
    texts = sample(folder, args.articles)
    if not texts:
        print(f"error: no articles under {folder} (bench/topic_corpus.py names the dataset)",
              file=sys.stderr)
        return 2

    from newsmon.analysis.analyse import UNUSED_COMPONENTS
    from newsmon.analysis.nlp import load_model
    from newsmon.analysis.text import sentences_of
    from newsmon.analysis.topic_tagger import TopicTagger

    nlp, tagger = load_model(disable=UNUSED_COMPONENTS), TopicTagger.load(encoder=args.encoder)
    linear = TopicTagger(rules=tagger.rules, model=tagger.model)
    started = time.perf_counter()
    read = [sentences_of(doc) for doc in nlp.pipe(texts, batch_size=32)]
    spacy_seconds = time.perf_counter() - started
    encoded = 0
    if tagger.encoder is not None:
        encode = tagger.encoder.probabilities

        def counted(batch):  # noqa: ANN001, ANN202 - the encoder's own signature
            nonlocal encoded
            encoded += len(batch)
            return encode(batch)

        tagger.encoder.probabilities = counted
    seconds = {}
    for name, running in (("pipeline tagger", tagger), ("linear alone", linear)):
        started = time.perf_counter()
        for sentences in read:
            running.tag(sentences)
        seconds[name] = time.perf_counter() - started
    n = len(texts)
    words = sum(len(text.split()) for text in texts) / n
    sentences = sum(map(len, read)) / n
    print(f"{n} BBC articles, {words:.0f} words and {sentences:.0f} sentences each on average; "
          f"tagger {tagger.provenance}")
    print(f"spaCy: {1000 * spacy_seconds / n:.1f} ms per article")
    for name, spent in seconds.items():
        print(f"{name}: {1000 * spent / n:.1f} ms per article, {spent / spacy_seconds:.1%} of spaCy's time")
    if tagger.encoder is not None:
        print(f"encoder: {encoded / n:.2f} sentences per article ({encoded / max(1, n * sentences):.1%} "
              f"of all sentences)")
    else:
        print("encoder: not installed, so the pipeline tagger is the linear model alone")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
