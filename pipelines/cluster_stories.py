"""ClusterStories: each article joins the live story it belongs to, or opens one
(:mod:`newsmon.analysis.stories`), and carries its ``story_id`` on; the stories live in
Elasticsearch (``news-stories``, :class:`~newsmon.connectors.story_store.ElasticsearchStoryStore`).

One at a time, whatever the number of workers. Assigning an article reads the stories
and writes one back, so two articles assigned at once could both open a story for the
same event, or the second could overwrite the first's addition. Every article is
therefore keyed by one constant key and handled by a stateful DoFn (a declared state
cell, the number of articles assigned): Beam processes the elements of one key and
window one after another, on one worker at a time. That caps the step at one core,
which is ample when the serial part is small: an article's profile (its terms and
MinHash signature) is made before the key, where workers and threads run in parallel;
the one key gets the articles in batches (those of an upstream bundle, up to ``BATCH``),
and each batch costs three Elasticsearch round trips, not three per article: one search
for the articles already assigned, one ``msearch`` for the candidates of the others, one
bulk request for the stories saved
(:meth:`~newsmon.connectors.story_store.ElasticsearchStoryStore.batch`). Because it is
serial, the store can keep the stories it just saved in a small write-through cache
instead of refreshing the index per article (see the store). On a local runner the
stateful step starts on a bundle's articles only once spaCy has read all of them, so
whatever it costs per article is added to the pipeline's time, not overlapped.

Ids: a story's id is derived from the article that opened it, and an article the store
already knows keeps its story, so a replay or a retried bundle changes nothing. Term
weights use the fixed IDF shipped with the package (:func:`~newsmon.analysis.story_idf.packaged_idf`,
document frequencies of real news, built by ``bench/story_idf.py``): an IDF learned online
would depend on what the worker happened to see since it started, so the same stream
would group differently after a restart, and a uniform one lets common words ("sanctions",
"government") make unrelated events look alike. An Elasticsearch outage blocks the step (nothing is lost);
an article it fails on for another reason leaves as a dead letter (stage ``stories``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import apache_beam as beam
from apache_beam.coders import VarIntCoder
from apache_beam.metrics import Metrics
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec

from newsmon.analysis.messages import AnalysedArticle
from newsmon.analysis.stories import ArticleProfile, Assignment, StoryConfig, assign, profile_of
from newsmon.analysis.story_idf import packaged_idf
from newsmon.connectors.elasticsearch import make_client
from newsmon.connectors.story_store import ElasticsearchStoryStore
from newsmon.pipelines.dead_letters import DEAD_LETTER, dead_letter
from newsmon.settings import Settings

STAGE = "stories"
KEY = "stories"  # the one key: every article goes through one serial assigner
BATCH = 500  # articles per batch at most: as many as one poll of a Kafka partition gives

Profiled = tuple[AnalysedArticle, ArticleProfile | None]


def _keyed(batch: list[Profiled]) -> tuple[str, list[Profiled]]:
    return KEY, batch


class _Profile(beam.DoFn):
    """The article's profile, made before the one key (in parallel): the serial step only compares."""

    def __init__(self, config: StoryConfig) -> None:
        self._config = config

    def setup(self) -> None:
        self._idf = packaged_idf()

    def process(self, item: AnalysedArticle) -> Iterator[Profiled]:
        try:
            profile = profile_of(item, self._idf, self._config)
        except Exception:  # noqa: BLE001 - made again by _Assign, where the failure is the article's dead letter
            profile = None
        yield item, profile


class _Assign(beam.DoFn):
    ASSIGNED = ReadModifyWriteStateSpec("assigned", VarIntCoder())

    def __init__(self, settings: Settings, config: StoryConfig) -> None:
        self._settings = settings
        self._config = config
        self._reasons = {reason: Metrics.counter("ClusterStories", reason)
                         for reason in ("new", "duplicate", "follow-up", "known")}

    def setup(self) -> None:
        self._idf = packaged_idf()
        self._client = make_client(self._settings)
        self._store = ElasticsearchStoryStore(self._client, self._settings.es_index_stories, self._config)
        self._store.setup()  # waits for Elasticsearch if it is not up yet

    def teardown(self) -> None:
        self._client.close()

    def process(self, element: tuple[str, list[Profiled]], assigned=beam.DoFn.StateParam(ASSIGNED)):
        _, batch = element
        profiled = []
        for item, profile in batch:
            try:
                profiled.append((item, profile or profile_of(item, self._idf, self._config)))
            except Exception as exc:  # noqa: BLE001 - one article's failure is its own dead letter
                yield dead_letter(item, STAGE, exc)
        done: list[Assignment | Exception] = []
        with self._store.batch([profile for _, profile in profiled]) as written:
            for _, profile in profiled:
                try:
                    done.append(assign(profile, self._store, self._config))
                except Exception as exc:  # noqa: BLE001 - one article's failure is its own dead letter
                    done.append(exc)
        for (item, _), assignment in zip(profiled, done, strict=True):
            if isinstance(assignment, Assignment):  # its story is written, unless refused
                assignment = written.refused.get(assignment.story.story_id, assignment)
            if isinstance(assignment, Exception):
                yield dead_letter(item, STAGE, assignment)
                continue
            assigned.write((assigned.read() or 0) + 1)
            self._reasons[assignment.reason].inc()
            yield dataclasses.replace(item, story_id=assignment.story.story_id)


class ClusterStories(beam.PTransform):
    """Returns outputs ``articles`` (AnalysedArticle with their ``story_id``) and ``deadletter``.

    Needs the articles as TagTopics leaves them (spaCy's sentences and entities).
    """

    def __init__(self, settings: Settings, config: StoryConfig | None = None) -> None:
        super().__init__()
        self._settings = settings
        self._config = config or StoryConfig()

    def expand(self, articles):
        return (articles
                | "Profile" >> beam.ParDo(_Profile(self._config))
                # Within a bundle: the batch waits for nothing the stage boundary after it does not.
                | "Batch" >> beam.BatchElements(min_batch_size=BATCH, max_batch_size=BATCH)
                | "OneKey" >> beam.Map(_keyed).with_output_types(
                    beam.typehints.KV[str, beam.typehints.Any])
                | "Assign" >> beam.ParDo(_Assign(self._settings, self._config)).with_outputs(
                    DEAD_LETTER, main="articles"))
