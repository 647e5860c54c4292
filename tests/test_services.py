"""The local services' bookkeeping: a pid file names the service's process only while that
process is the service.
"""

from __future__ import annotations

import subprocess
import sys

from newsmon.deploy.elasticsearch_service import ElasticsearchService
from newsmon.deploy.kafka_service import KafkaService
from newsmon.settings import Settings


def test_a_stale_pid_file_never_stops_an_unrelated_process(tmp_path):
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for service in (KafkaService(Settings(home=tmp_path)), ElasticsearchService(Settings(home=tmp_path))):
            service.pid_file.parent.mkdir(parents=True, exist_ok=True)
            service.pid_file.write_text(f"{unrelated.pid}\n")  # the service died; its pid was reused
            assert service.pid() is None
            assert service.down() == f"{service.name}: not running"
            assert not service.pid_file.exists()
            assert unrelated.poll() is None  # still running
    finally:
        unrelated.kill()
        unrelated.wait()


def test_the_running_services_are_recognised_by_their_pid_files(kafka, es):
    settings = Settings.load()
    kafka_pid = KafkaService(settings).pid()
    assert kafka_pid is not None and KafkaService(settings).status().healthy
    if settings.es_is_local:
        assert ElasticsearchService(settings).pid() is not None
