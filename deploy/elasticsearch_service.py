"""A single Elasticsearch 8 node from Elastic's own distribution on Maven Central.

Elastic publishes a runnable, minimal distribution of the real server as
``org.elasticsearch.distribution.integ-test-zip:elasticsearch`` (server, launcher, and the
transport-netty4, x-pack-core and x-pack-security modules). It is resolved with Maven,
unpacked into ``NEWSMON_CACHE`` and started with its own launcher, configuration under
``NEWSMON_HOME/elasticsearch``. Elasticsearch refuses to run as root: when newsmon runs as
root, the node runs as the unprivileged system user ``newsmon-es``.
"""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import subprocess
import zipfile
from pathlib import Path

from newsmon.connectors.elasticsearch import check_elasticsearch, local_credentials_file
from newsmon.deploy.local_service import LocalService, ServiceError, find_java, port_in_use, run_maven
from newsmon.errors import ServiceUnavailableError
from newsmon.settings import masked_url

ES_VERSION = "8.19.21"
ES_ARTIFACT = f"org.elasticsearch.distribution.integ-test-zip:elasticsearch:{ES_VERSION}:zip"
SERVICE_USER = "newsmon-es"
LOCAL_USER = "newsmon"


class ElasticsearchService(LocalService):
    name = "elasticsearch"
    start_timeout = 180.0

    @property
    def port(self) -> int:
        return self.settings.es_port

    @property
    def is_local(self) -> bool:
        return self.settings.es_is_local

    @property
    def es_home(self) -> Path:
        return self.settings.cache / f"elasticsearch-{ES_VERSION}"

    @property
    def config_dir(self) -> Path:
        return self.data_dir / "config"

    def install(self) -> None:
        stamp = self.es_home / ".complete"
        if stamp.exists():
            return
        download = self.settings.cache / "downloads"
        run_maven(["dependency:copy", f"-Dartifact={ES_ARTIFACT}", f"-DoutputDirectory={download}"],
                  f"Elasticsearch {ES_VERSION}", self.progress)
        archive = download / f"elasticsearch-{ES_VERSION}.zip"
        self.progress(f"elasticsearch: unpacking {archive.name}")
        shutil.rmtree(self.es_home, ignore_errors=True)
        with zipfile.ZipFile(archive) as bundle:
            bundle.extractall(self.settings.cache)
            for info in bundle.infolist():
                mode = info.external_attr >> 16
                if mode & 0o111:  # zipfile drops permission bits; the launchers need them
                    (self.settings.cache / info.filename).chmod(mode & 0o777)
        archive.unlink()
        stamp.write_text(ES_VERSION + "\n")

    def launch(self) -> None:
        java = find_java()
        if port_in_use(self.transport_port):
            msg = f"elasticsearch: transport port {self.transport_port} on 127.0.0.1 is already in use"
            raise ServiceError(msg)
        self.write_config()
        env = os.environ | {
            "ES_PATH_CONF": str(self.config_dir),
            "ES_JAVA_HOME": str(java.parent.parent),
        }
        env.pop("ES_JAVA_OPTS", None)  # heap and options come from jvm.options.d only
        command = [str(self.es_home / "bin" / "elasticsearch"), "-d", "-p", str(self.pid_file)]
        if os.geteuid() == 0:
            command = [*self._drop_root(), *command]
        # A session of its own, as Kafka's: the node outlives whoever started it (a test
        # that restarts it, `newsmon demo`), and no lifeline guard of theirs ends it.
        with open(self.log_dir / "console.log", "ab") as console:
            done = subprocess.run(command, env=env, stdin=subprocess.DEVNULL, stdout=console,
                                  stderr=subprocess.STDOUT, check=False, start_new_session=True)
        if done.returncode != 0:
            msg = (f"elasticsearch: the node did not start (exit code {done.returncode}); see "
                   f"{self.log_dir}/newsmon.log and {self.log_dir}/console.log")
            raise ServiceError(msg)

    @property
    def command_marker(self) -> str:
        return f"-Des.path.home={self.es_home}"

    @property
    def transport_port(self) -> int:
        return self.port + 100

    def write_config(self) -> None:
        if not (self.config_dir / "jvm.options").exists():
            shutil.copytree(self.es_home / "config", self.config_dir, dirs_exist_ok=True)
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        (self.config_dir / "elasticsearch.yml").write_text("\n".join([
            "# Written by newsmon on every start; edit the settings, not this file.",
            "cluster.name: newsmon",
            "node.name: newsmon-1",
            "network.host: 127.0.0.1",
            f"http.port: {self.port}",
            f"transport.port: {self.transport_port}",
            "discovery.type: single-node",
            f"path.data: {self.data_dir / 'data'}",
            f"path.logs: {self.log_dir}",
            # Users and passwords on (any local process or a browser page could otherwise change
            # the watch list or delete indices), TLS off: the node listens on loopback only.
            "xpack.security.enabled: true",
            "xpack.security.http.ssl.enabled: false",
            "xpack.security.transport.ssl.enabled: false",
            # Shared development disks are often fuller than the production watermarks allow.
            "cluster.routing.allocation.disk.threshold_enabled: false",
            "",
        ]))
        heap = self.settings.es_heap
        (self.config_dir / "jvm.options.d" / "newsmon-heap.options").write_text(
            f"-Xms{heap}\n-Xmx{heap}\n")
        self._write_user()

    def _write_user(self) -> None:
        """The node's one user, a superuser in its file realm, with a password generated once
        and kept in NEWSMON_HOME (mode 0600) where every newsmon command reads it.
        """
        credentials = local_credentials_file(self.settings)
        if not credentials.exists():
            credentials.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(credentials, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as out:
                out.write(f"{LOCAL_USER}:{secrets.token_urlsafe(24)}\n")
        user, _, password = credentials.read_text(encoding="utf-8").strip().partition(":")
        users = self.config_dir / "users"
        if users.exists() and any(line.startswith(f"{user}:") for line in users.read_text().splitlines()):
            action = ["passwd", user, "-p", password]  # the file may have been replaced: keep them equal
        else:
            action = ["useradd", user, "-p", password, "-r", "superuser"]
        java_home = find_java().parent.parent
        env = os.environ | {"ES_PATH_CONF": str(self.config_dir), "ES_JAVA_HOME": str(java_home)}
        env.pop("ES_JAVA_OPTS", None)
        done = subprocess.run([str(self.es_home / "bin" / "elasticsearch-users"), *action], env=env,
                              capture_output=True, text=True, check=False)
        if done.returncode != 0:
            reason = (done.stdout + done.stderr).replace(password, "********").strip()[-500:]
            msg = f"elasticsearch: could not set up the user {user}: {reason}"
            raise ServiceError(msg)

    def _drop_root(self) -> list[str]:
        try:
            user = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            self.progress(f"elasticsearch: creating system user {SERVICE_USER} (it refuses to run as root)")
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                            SERVICE_USER], check=True, capture_output=True)
            user = pwd.getpwnam(SERVICE_USER)
        for path in [self.data_dir, *self.data_dir.rglob("*")]:
            os.chown(path, user.pw_uid, user.pw_gid)
        for parent in [*self.data_dir.parents, *self.es_home.parents]:
            if not os.stat(parent).st_mode & 0o001:
                msg = (f"elasticsearch runs as {SERVICE_USER} when newsmon runs as root, and it "
                       f"cannot enter {parent}; choose NEWSMON_HOME and NEWSMON_CACHE outside it")
                raise ServiceError(msg)
        return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups"]

    def healthy(self) -> bool:
        if not port_in_use(self.port):
            return False
        try:
            self._health = check_elasticsearch(self.settings, wait_seconds=1)
        except ServiceUnavailableError:
            return False
        return True

    def health_detail(self) -> str:
        health = getattr(self, "_health", None) or check_elasticsearch(self.settings)
        return f"cluster {health['cluster_name']} is {health['status']} at {masked_url(self.settings.es_url)}"
