"""A single-node Apache Kafka broker in KRaft mode (broker and controller in one JVM).

The broker's jars are resolved from Maven Central with ``deploy/kafka.pom.xml`` and
cached under ``NEWSMON_CACHE``; the log directories live under ``NEWSMON_HOME/kafka``.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import uuid
from importlib import resources
from pathlib import Path

from newsmon.connectors.kafka import check_kafka
from newsmon.deploy.local_service import LocalService, ServiceError, find_java, port_in_use, run_maven
from newsmon.errors import ServiceUnavailableError

KAFKA_VERSION = "4.1.1"


class KafkaService(LocalService):
    name = "kafka"
    start_timeout = 90.0

    @property
    def port(self) -> int:
        return self.settings.kafka_port

    @property
    def controller_port(self) -> int:
        return self.port + 1

    @property
    def is_local(self) -> bool:
        return self.settings.kafka_is_local

    @property
    def lib_dir(self) -> Path:
        return self.settings.cache / f"kafka-{KAFKA_VERSION}" / "lib"

    def install(self) -> None:
        stamp = self.lib_dir / ".complete"
        if stamp.exists():
            return
        staging = self.lib_dir.with_name("lib.partial")
        shutil.rmtree(staging, ignore_errors=True)
        with resources.as_file(resources.files("newsmon.deploy") / "kafka.pom.xml") as pom:
            run_maven(["-f", str(pom), "dependency:copy-dependencies", f"-Dkafka.version={KAFKA_VERSION}",
                       "-DincludeScope=runtime", f"-DoutputDirectory={staging}"],
                      f"Apache Kafka {KAFKA_VERSION}", self.progress)
        shutil.rmtree(self.lib_dir, ignore_errors=True)
        staging.rename(self.lib_dir)
        stamp.write_text(KAFKA_VERSION + "\n")

    @property
    def command_marker(self) -> str:
        return str((self.data_dir / "server.properties").resolve())

    def launch(self) -> None:
        if port_in_use(self.controller_port):
            msg = (f"kafka: controller port {self.controller_port} on 127.0.0.1 is already in use; "
                   "the local broker needs the port after its client port")
            raise ServiceError(msg)
        java = find_java()
        config = self.write_config()
        if not (self.data_dir / "kraft" / "meta.properties").exists():
            self.progress("kafka: formatting the KRaft log directory")
            cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            done = subprocess.run(
                [str(java), "-cp", f"{self.lib_dir}/*", "kafka.tools.StorageTool", "format",
                 "-t", cluster_id, "-c", str(config)],
                capture_output=True, text=True, check=False)
            if done.returncode != 0:
                msg = f"kafka: formatting storage failed: {(done.stdout + done.stderr).strip()[-800:]}"
                raise ServiceError(msg)
        with resources.as_file(resources.files("newsmon.deploy") / "kafka-log4j2.properties") as log4j:
            log_config = self.data_dir / "log4j2.properties"
            shutil.copyfile(log4j, log_config)
        heap = self.settings.kafka_heap
        command = [str(java), f"-Xms{heap}", f"-Xmx{heap}", "-XX:+UseG1GC", "-Djava.awt.headless=true",
                   f"-Dkafka.logs.dir={self.log_dir}", f"-Dlog4j2.configurationFile={log_config}",
                   "-cp", f"{self.lib_dir}/*", "kafka.Kafka", str(config)]
        with open(self.log_dir / "console.log", "ab") as console:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=console,
                                       stderr=subprocess.STDOUT, start_new_session=True)
        self.pid_file.write_text(f"{process.pid}\n")

    def write_config(self) -> Path:
        path = self.data_dir / "server.properties"
        path.write_text("\n".join([
            "# Written by newsmon on every start; edit the settings, not this file.",
            "process.roles=broker,controller",
            "node.id=1",
            f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
            f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            f"log.dirs={self.data_dir / 'kraft'}",
            f"num.partitions={self.settings.kafka_partitions}",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            # Topics are created on purpose (newsmon services up); a typo must not make one.
            "auto.create.topics.enable=false",
            "",
        ]))
        return path

    def healthy(self) -> bool:
        if not port_in_use(self.port):
            return False
        try:
            self._cluster = check_kafka(self.settings)
        except ServiceUnavailableError:
            return False
        return True

    def health_detail(self) -> str:
        cluster = getattr(self, "_cluster", None) or check_kafka(self.settings)
        servers = ",".join(self.settings.kafka_bootstrap_servers)
        return f"metadata answers at {servers}, {cluster['brokers']} broker(s)"
