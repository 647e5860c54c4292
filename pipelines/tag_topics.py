"""TagTopics: the topic tagger (learned model and rules, :mod:`newsmon.analysis.topic_tagger`)
applied to each analysed article, in batches.

Where the fine-tuned encoder reads sentences it holds a core as spaCy does: with
``processes`` > 1 each worker tags in that many child processes
(:mod:`~newsmon.pipelines.analysis_processes`).
"""

from __future__ import annotations

from operator import attrgetter
from pathlib import Path

import apache_beam as beam
from apache_beam.metrics import Metrics
from apache_beam.utils.shared import Shared

from newsmon.analysis.analyse import with_tags
from newsmon.analysis.messages import AnalysedArticle
from newsmon.analysis.topic_tagger import TopicTagger
from newsmon.pipelines.analysis_processes import AnalysisProcesses, checked_processes
from newsmon.pipelines.dead_letters import DEAD_LETTER, dead_letter

STAGE = "topics"


class _Tag(beam.DoFn):
    def __init__(self, shared: Shared, processes: int, files: tuple) -> None:
        self._shared = shared
        self._processes = processes
        self._files = files
        self._tagged = Metrics.counter("TagTopics", "topics")

    def setup(self) -> None:
        self._tagger = self._shared.acquire(
            lambda: AnalysisProcesses(self._processes, TopicTagger.load, *self._files))
        self._provenance = self._tagger.call(attrgetter("provenance"))

    def process(self, batch: list[AnalysedArticle]):
        found = self._tagger.each(TopicTagger.tag_each, [item.sentences for item in batch])
        for item, tags in zip(batch, found, strict=True):
            if isinstance(tags, Exception):
                yield dead_letter(item, STAGE, tags)
                continue
            self._tagged.inc(len(tags))
            yield with_tags(item, tags, self._provenance)


class TagTopics(beam.PTransform):
    """Returns outputs ``articles`` (AnalysedArticle with their topics) and ``deadletter``;
    ``rules`` is a topic-rules file, ``model`` a learned model and ``encoder`` the fine-tuned
    encoder's adapters or ``"off"`` (default: the packaged ``seeds/topic_rules.yaml``,
    ``seeds/topic_model.json.gz`` and ``seeds/topic_encoder.npz``); ``processes`` tagging
    processes per worker.
    """

    def __init__(self, rules: Path | None = None, model: Path | None = None,
                 encoder: str | Path | None = None, *, processes: int = 1, max_batch_size: int = 32) -> None:
        super().__init__()
        self._files = rules, model, encoder
        self._processes = checked_processes(processes)
        self._max_batch_size = max_batch_size
        if any(file is not None for file in self._files):
            # Read once here so that a file given that cannot be read is a ConfigError when the
            # pipeline is built, not a failing setup on every worker.
            TopicTagger.load(*self._files)

    def expand(self, articles):
        return (articles
                | "Batch" >> beam.BatchElements(min_batch_size=1, max_batch_size=self._max_batch_size)
                | "Tag" >> beam.ParDo(_Tag(Shared(), self._processes, self._files)).with_outputs(
                    DEAD_LETTER, main="articles"))
