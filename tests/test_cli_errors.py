"""The CLI's help and its clear errors: port taken, Java missing, services unreachable.

Each runs the real ``newsmon`` entry point in a subprocess with its own NEWSMON_HOME, so
nothing here touches the services other tests use.
"""

import logging
import os
import shutil
import socket
import subprocess

import pytest

from tests.support.commands import run_newsmon


def newsmon(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_newsmon(*args, env=env)


@pytest.fixture
def isolated_env(tmp_path, closed_port):
    """Settings that point at ports where nothing runs, and an empty NEWSMON_HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    return env | {
        "NEWSMON_HOME": str(tmp_path / "home"),
        "NEWSMON_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{closed_port}",
        "NEWSMON_ES_URL": f"http://127.0.0.1:{closed_port}",
    }


def test_help_lists_every_command(isolated_env):
    done = newsmon("--help", env=isolated_env)
    assert done.returncode == 0
    for command in ("services", "smoke", "demo", "feeds", "pipeline", "settings", "model"):
        assert command in done.stdout


def test_settings_command_masks_secrets(isolated_env):
    env = isolated_env | {"NEWSMON_ES_USERNAME": "elastic", "NEWSMON_ES_PASSWORD": "hunter2"}
    done = newsmon("settings", env=env)
    assert done.returncode == 0
    assert "es_password" in done.stdout
    assert "hunter2" not in done.stdout + done.stderr


def test_settings_command_masks_the_password_of_a_url(isolated_env, closed_port):
    env = isolated_env | {"NEWSMON_ES_URL": f"http://elastic:hunter2@127.0.0.1:{closed_port}"}
    done = newsmon("settings", env=env)
    assert done.returncode == 0
    assert f"http://elastic:********@127.0.0.1:{closed_port}" in done.stdout
    assert "hunter2" not in done.stdout + done.stderr


def test_port_in_use_is_reported(isolated_env):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        env = isolated_env | {"NEWSMON_ES_URL": f"http://127.0.0.1:{port}"}
        done = newsmon("services", "up", "--only", "elasticsearch", env=env)
    assert done.returncode == 2
    assert f"port {port} on 127.0.0.1 is already in use" in done.stderr


def test_missing_java_is_reported(isolated_env, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("mvn", "go"):  # everything but java
        if shutil.which(tool):
            (bin_dir / tool).symlink_to(shutil.which(tool))
    env = isolated_env | {"PATH": str(bin_dir), "JAVA_HOME": str(tmp_path / "no-jdk")}
    done = newsmon("services", "up", "--only", "kafka", env=env)
    assert done.returncode == 2
    assert "Java 17+ was not found" in done.stderr


@pytest.mark.parametrize(("service", "message"), [
    ("kafka", "Kafka is not reachable at 127.0.0.1:"),
    ("elasticsearch", "Elasticsearch is not reachable at http://127.0.0.1:"),
])
def test_unreachable_services_are_reported(isolated_env, settings, service, message):
    # Point only one service at the closed port; the other at the real one.
    env = dict(isolated_env)
    if service == "kafka":
        env["NEWSMON_ES_URL"] = settings.es_url
    else:
        env["NEWSMON_KAFKA_BOOTSTRAP_SERVERS"] = ",".join(settings.kafka_bootstrap_servers)
    done = newsmon("smoke", "--timeout", "5", env=env)
    assert done.returncode == 2
    assert message in done.stderr


def test_status_exit_code_says_services_are_down(isolated_env):
    done = newsmon("services", "status", env=isolated_env)
    assert done.returncode == 3
    assert "stopped" in done.stdout


def test_pipeline_without_kafka_says_so(isolated_env):
    done = newsmon("pipeline", "run", "--runner", "DirectRunner", env=isolated_env)
    assert done.returncode == 2
    assert "Kafka is not reachable" in done.stderr


def test_beam_options_are_refused_outside_the_pipeline_command(isolated_env):
    done = newsmon("settings", "--runner", "FlinkRunner", env=isolated_env)
    assert done.returncode == 2
    assert "unrecognized arguments: --runner FlinkRunner" in done.stderr


def test_feeds_run_without_feeds_says_what_to_do(isolated_env, kafka):
    env = isolated_env | {"NEWSMON_KAFKA_BOOTSTRAP_SERVERS": ",".join(kafka.kafka_bootstrap_servers)}
    done = newsmon("feeds", "run", "--once", env=env)
    assert done.returncode == 2
    assert "no enabled feeds: add some with `newsmon feeds add URL`" in done.stderr


@pytest.mark.parametrize("command", [("search", "Belavia"), ("watch", "list"), ("alerts", "list"),
                                     ("watch", "add", "Ihar Losik"), ("es", "setup")])
def test_commands_that_read_elasticsearch_say_it_is_down(isolated_env, closed_port, command):
    env = isolated_env | {"NEWSMON_ES_URL": f"http://elastic:hunter2@127.0.0.1:{closed_port}"}
    done = newsmon(*command, env=env)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    where = f"http://elastic:********@127.0.0.1:{closed_port}"
    assert f"newsmon: error: Elasticsearch is not reachable at {where}" in done.stderr
    assert "newsmon services up" in done.stderr and "NEWSMON_ES_URL" in done.stderr
    assert "hunter2" not in done.stdout + done.stderr


def test_a_feed_list_error_names_the_file_and_the_feed(isolated_env, tmp_path):
    listed = tmp_path / "desk-feeds.yaml"
    listed.write_text("feeds:\n  - url: https://a.example/feed\n    enabled: \"false\"\n")
    done = newsmon("feeds", "import-opml", str(listed), env=isolated_env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert (f"newsmon: error: {listed}: feed #1 (https://a.example/feed): enabled must be true or false"
            in done.stderr)


@pytest.mark.parametrize(("command", "name", "text"), [
    (("feeds", "import-opml"), "feeds.yaml", b"feeds:\n  - url: https://a.example/feed\n    name: caf\xe9\n"),
    (("watch", "import"), "watch.yaml", b"watch:\n  - name: Jos\xe9 Martinez\n"),
    (("alerts", "deliver", "--config"), "notifiers.yaml", b"lists:\n  default:\n    notifiers: []  # \xff\n"),
])
def test_files_that_are_not_utf8_are_refused_clearly(isolated_env, tmp_path, command, name, text):
    path = tmp_path / name
    path.write_bytes(text)
    done = newsmon(*command, str(path), env=isolated_env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"newsmon: error: {path}: " in done.stderr and "UTF-8" in done.stderr.replace("utf-8", "UTF-8")


def test_a_metadata_request_cancelled_by_closing_is_not_reported_but_a_failure_is():
    """kafka-python logs an ERROR when closing a client cancels its metadata request in flight;
    the command had its answer, so it is noise on stderr. A real failure stays logged.
    """
    from kafka.errors import Cancelled, KafkaConnectionError

    from newsmon.cli import _not_cancelled_on_close

    def record(error: Exception) -> logging.LogRecord:
        return logging.LogRecord("kafka.cluster", logging.ERROR, "cluster.py", 175,
                                 "Metadata refresh: failed %s", (error,), None)

    assert not _not_cancelled_on_close(record(Cancelled()))
    assert _not_cancelled_on_close(record(KafkaConnectionError("connection refused")))
