"""``newsmon pipeline run`` as users start it: the real command in a subprocess, streaming
for longer than several of its progress intervals while articles keep arriving.
"""

from __future__ import annotations

import time
import uuid

from tests.support.commands import Command, command_env
from tests.support.pipeline import message, produce, search, wait_for

RUN_SECONDS = 110  # past three progress reports at the default interval of 30 s
BETWEEN_ARTICLES = 15


def indexed_count(es, settings, ids: list[str]) -> int:
    return len(search(es, settings, {"ids": {"values": ids}}))


def test_pipeline_run_streams_past_several_progress_reports(isolated, es):
    settings, group = isolated, f"test-{uuid.uuid4().hex[:8]}"
    command = Command("pipeline", "run", "--consumer_group", group, env=command_env(settings))
    started, sent = time.monotonic(), []
    try:
        while time.monotonic() - started < RUN_SECONDS:
            n = len(sent)
            article = message(f"https://wire.example.com/streaming-{n}",
                              f"Envoys meet for round {n} of talks",
                              f"Foreign ministers held talks in Vienna on Monday, round {n} of the series.")
            produce(settings, article)
            sent.append(article["article_id"])
            time.sleep(BETWEEN_ARTICLES)  # a steady trickle, as feeds publish
            assert command.running(), f"pipeline run exited early:\n{command.err.text()}"
        # Still streaming: every article is indexed, the last ones sent long after the start.
        wait_for(lambda: indexed_count(es, settings, sent) == len(sent), "every article sent to be indexed",
                 timeout=120)
        assert command.running(), f"pipeline run exited:\n{command.err.text()}"
    finally:
        code = command.stop()
    log = command.err.text()
    assert code == 0, log
    assert "pipeline stopped; it resumes from the committed offsets" in command.out.text()
    reports = [line for line in command.err.lines if "] pipeline: " in line]
    assert len(reports) >= 3, log
    # Each report asks the runner afresh: the counts grow as articles arrive.
    indexed = [int(line.split("IndexArticles.indexed ")[1].split(",")[0])
               for line in reports if "IndexArticles.indexed " in line]
    assert indexed and indexed[-1] > indexed[0], log
    assert "Traceback" not in log
