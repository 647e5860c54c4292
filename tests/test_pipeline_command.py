"""``newsmon pipeline run`` as users start it: the real command in a subprocess, streaming
for longer than several of its progress intervals while articles keep arriving.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

from newsmon.settings import env_name
from tests.support.pipeline import message, produce, search, wait_for

RUN_SECONDS = 110  # past three progress reports at the default interval of 30 s
BETWEEN_ARTICLES = 15


def command_env(settings) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    for name in ("home", "kafka_bootstrap_servers", "es_url", "topic_articles", "topic_deadletter",
                 "topic_alerts", "es_index_articles", "es_index_alerts", "es_index_watchlist"):
        value = getattr(settings, name)
        env[env_name(name)] = ",".join(value) if isinstance(value, tuple) else str(value)
    return env


class Lines:
    """Collects a stream's lines as they are written."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._thread.start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def join(self) -> str:
        self._thread.join(30)
        return "\n".join(self.lines)


def indexed_count(es, settings, ids: list[str]) -> int:
    return len(search(es, settings, {"ids": {"values": ids}}))


def test_pipeline_run_streams_past_several_progress_reports(isolated, es):
    settings, group = isolated, f"test-{uuid.uuid4().hex[:8]}"
    command = [sys.executable, "-m", "newsmon", "pipeline", "run", "--consumer_group", group]
    process = subprocess.Popen(command, env=command_env(settings), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    out, err = Lines(process.stdout), Lines(process.stderr)
    started, sent = time.monotonic(), []
    try:
        while time.monotonic() - started < RUN_SECONDS:
            n = len(sent)
            article = message(f"https://wire.example.com/streaming-{n}",
                              f"Envoys meet for round {n} of talks",
                              f"Foreign ministers held talks in Vienna on Monday, round {n} of the series.")
            produce(settings, article)
            sent.append(article["article_id"])
            time.sleep(BETWEEN_ARTICLES)
            assert process.poll() is None, f"pipeline run exited early:\n{err.join()}"
        # Still streaming: every article is indexed, the last ones sent long after the start.
        wait_for(lambda: indexed_count(es, settings, sent) == len(sent), "every article sent to be indexed",
                 timeout=120)
        assert process.poll() is None, f"pipeline run exited:\n{err.join()}"
    finally:
        process.send_signal(signal.SIGTERM)  # stops it like Ctrl-C
        try:
            code = process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    log = err.join()
    assert code == 0, log
    assert "pipeline stopped; it resumes from the committed offsets" in out.join()
    reports = [line for line in err.lines if "] pipeline: " in line]
    assert len(reports) >= 3, log
    # Each report asks the runner afresh: the counts grow as articles arrive.
    indexed = [int(line.split("IndexArticles.indexed ")[1].split(",")[0])
               for line in reports if "IndexArticles.indexed " in line]
    assert indexed and indexed[-1] > indexed[0], log
    assert "Traceback" not in log
