"""``newsmon pipeline run`` as users start it: the real command in a subprocess, streaming
for longer than several of its progress intervals while articles keep arriving.
"""

from __future__ import annotations

import signal
import time
import uuid

import psutil

from tests.support.commands import Command, command_env, run_newsmon
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


def test_a_topic_file_that_cannot_be_read_stops_pipeline_run_at_start(isolated, tmp_path):
    broken = tmp_path / "topic_encoder.npz"
    broken.write_bytes(b"not an adapter file")
    for name, value in (("NEWSMON_TOPIC_ENCODER", str(broken)),
                        ("NEWSMON_TOPIC_MODEL", str(tmp_path / "missing.json.gz"))):
        env = command_env(isolated, **{name: value})
        done = run_newsmon("pipeline", "run", "--consumer_group", f"test-{uuid.uuid4().hex[:8]}", env=env,
                           timeout=90)
        assert done.returncode == 2, done.stderr
        assert "newsmon: error: cannot read the topic" in done.stderr and value in done.stderr
        assert "Traceback" not in done.stderr


def prism_below(pid: int) -> list[psutil.Process]:
    below = psutil.Process(pid).children(recursive=True)
    return below if any("prism" in " ".join(process.cmdline()) for process in below) else []


def test_nothing_of_a_killed_pipeline_run_stays_behind(isolated):
    """SIGKILL runs no exit handler, and a Prism whose job was not yet running stayed."""
    command = Command("pipeline", "run", "--consumer_group", f"test-{uuid.uuid4().hex[:8]}",
                      env=command_env(isolated))
    try:
        deadline = time.monotonic() + 180
        while not prism_below(command.process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # its job not yet running: nothing ends Prism but the guard
        below = prism_below(command.process.pid)
        assert below, f"no Prism below pipeline run:\n{command.err.text()}"
        command.process.send_signal(signal.SIGKILL)
        command.process.wait(30)
        _, left = psutil.wait_procs(below, timeout=10)
        for process in left:
            process.kill()
        assert not left, [" ".join(process.cmdline()) for process in left]
    finally:
        if command.running():
            command.process.kill()
