"""Alert delivery through an endpoint outage: an alert that could not be delivered for a
reason waiting can fix is neither committed past nor dropped, it is tried again with the
backoff policy until the endpoint is back; what an endpoint refuses for good is recorded
and passed; a restart sends nothing twice; ``newsmon alerts deliver`` says so, and exits
non-zero, when it stops on an error. The commands run for real in subprocesses, against
the real Kafka and Elasticsearch, a real webhook receiver and real closed ports.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid

import yaml
from kafka import TopicPartition

from newsmon.connectors.alert_delivery import Dispatcher
from newsmon.connectors.kafka import make_admin, make_consumer, make_producer
from newsmon.connectors.notifier_config import ListConfig
from tests.support.commands import Command, command_env
from tests.support.notifiers import SECRET, Clock, Results, Sleeps, config_of, make_alert, webhook
from tests.support.pipeline import wait_for
from tests.support.webhook_server import WebhookServer

SECRET_ENV = "NEWSMON_TEST_HOOK_SECRET"


def test_an_alert_waits_out_an_outage_and_later_alerts_still_get_their_attempts(closed_port):
    clock, sleeps, results, handled = Clock(), Sleeps(), Results(), []
    hook = webhook(f"http://127.0.0.1:{closed_port}/hook", attempts=3, description="desk-hook")
    dispatcher = Dispatcher(config_of(ListConfig("belarus-watch", (hook,))), clock=clock, sleep=sleeps,
                            on_result=results)
    first, second = make_alert(1), make_alert(2)
    dispatcher.submit(first, on_handled=lambda: handled.append(first["alert_id"]))
    dispatcher.submit(second, on_handled=lambda: handled.append(second["alert_id"]))

    # Connection refused: neither alert is handled (so neither is committed), and the second
    # got its three attempts like the first, not one.
    assert handled == [] and results == []
    assert sleeps == [1.0, 2.0, 1.0, 2.0]
    assert dispatcher.waiting_ids == {first["alert_id"], second["alert_id"]}
    assert dispatcher.next_due() == 4.0  # backoff.delay(3): the doubling goes on after the attempts

    clock.now = 3.9
    assert dispatcher.retry() == 0
    clock.now = 4.0
    assert dispatcher.retry() == 2  # one try each while the endpoint stays down, no waiting in it
    assert sleeps == [1.0, 2.0, 1.0, 2.0] and dispatcher.next_due() == 12.0  # 4 + delay(4)

    server = WebhookServer(secret=SECRET, port=closed_port)  # the endpoint is back, unwell at first
    try:
        server.answer(503, (429, {"Retry-After": "40"}))
        clock.now = 12.0
        dispatcher.retry()
        assert handled == [] and dispatcher.next_due() == 28.0  # 503: 12 + delay(5)
        clock.now = 28.0
        dispatcher.retry()
        assert handled == [first["alert_id"]]
        clock.now = 51.9  # the 429 asked for 40 s, more than the backoff's 16
        assert dispatcher.retry() == 0
        clock.now = 52.0
        dispatcher.retry()
        assert handled == [first["alert_id"], second["alert_id"]] and not dispatcher.waiting_ids
        assert [r.status for r in server.received] == [503, 429, 200, 200]
        assert [r.json()["alerts"][0]["alert_id"] for r in server.received if r.status == 200] == [
            first["alert_id"], second["alert_id"]]
        assert [(ids, ok) for ids, _, ok, _ in results] == [((first["alert_id"],), True),
                                                           ((second["alert_id"],), True)]
        assert (dispatcher.stats.delivered, dispatcher.stats.failed) == (2, 0)
    finally:
        server.close()


def test_a_refused_alert_is_recorded_and_passed_and_a_restart_sends_nothing_twice(es, aliases, receiver):
    from newsmon.connectors.delivery_records import AlertIndexRecords
    from newsmon.connectors.elasticsearch import setup_index

    alias = aliases["alerts"]
    setup_index(es, "news-alerts", alias)
    alert = make_alert(1)
    es.create(index=alias, id=alert["alert_id"], document=alert | {"kafka_delivered": True, "deliveries": []},
              refresh=True)
    receiver.answer(400)
    config = config_of(ListConfig("belarus-watch", (
        webhook(receiver.url("/refuses"), description="belarus-watch#1 refuses"),
        webhook(receiver.url("/fine"), description="belarus-watch#2 fine"))))
    handled, results = [], Results()
    Dispatcher(config, on_result=results, sleep=Sleeps(), records=AlertIndexRecords(es, alias)).submit(
        alert, on_handled=lambda: handled.append(1))

    assert handled == [1]  # a 400 will not pass by waiting: the alert is done with
    assert [(name, ok) for _, name, ok, _ in results] == [("belarus-watch#1 refuses", False),
                                                          ("belarus-watch#2 fine", True)]
    deliveries = es.get(index=alias, id=alert["alert_id"])["_source"]["deliveries"]
    assert [(d["notifier"], d["ok"]) for d in deliveries] == [("belarus-watch#1 refuses", False),
                                                              ("belarus-watch#2 fine", True)]
    assert "HTTP 400" in deliveries[0]["error"] and deliveries[1]["error"] is None

    # A restart reads the alert again (its offset was not committed yet): a new process, with
    # nothing in memory, leaves out the notifier that has it already.
    again = Dispatcher(config, sleep=Sleeps(), records=AlertIndexRecords(es, alias))
    again.submit(alert)
    assert [r.path for r in receiver.received] == ["/refuses", "/fine", "/refuses"]
    assert again.stats.already_delivered == 1
    deliveries = es.get(index=alias, id=alert["alert_id"])["_source"]["deliveries"]
    assert [(d["notifier"], d["ok"]) for d in deliveries] == [("belarus-watch#1 refuses", True),
                                                              ("belarus-watch#2 fine", True)]


def test_a_digest_that_cannot_be_sent_keeps_its_alerts_until_it_is(receiver):
    clock, handled = Clock(), []
    config = config_of(ListConfig("belarus-watch", (webhook(receiver.url(), attempts=2),), digest_minutes=5))
    dispatcher = Dispatcher(config, clock=clock, sleep=Sleeps(), on_result=Results())
    alerts = [make_alert(n) for n in range(3)]
    for alert in alerts:
        dispatcher.submit(alert, on_handled=lambda a=alert: handled.append(a["alert_id"]))
    receiver.answer(502, 502)
    clock.now = 300.0
    assert dispatcher.flush() == 1
    assert handled == [] and dispatcher.waiting_ids == {a["alert_id"] for a in alerts}
    assert dispatcher.next_due() == 302.0  # 300 + delay(2)
    clock.now = 302.0
    assert dispatcher.retry() == 1
    assert handled == [a["alert_id"] for a in alerts] and not dispatcher.waiting_ids
    [digest] = receiver.wait_for(1)
    assert [a["alert_id"] for a in digest.json()["alerts"]] == [a["alert_id"] for a in alerts]


def test_alerts_wait_while_their_delivery_records_cannot_be_read(receiver, closed_port, caplog):
    from newsmon.connectors.delivery_records import AlertIndexRecords
    from newsmon.connectors.elasticsearch import make_client
    from newsmon.settings import Settings

    unreachable = make_client(Settings(es_url=f"http://127.0.0.1:{closed_port}"), max_retries=0)
    clock, handled = Clock(), []
    dispatcher = Dispatcher(config_of(ListConfig("belarus-watch", (webhook(receiver.url()),))), clock=clock,
                            sleep=Sleeps(), records=AlertIndexRecords(unreachable, "news-alerts"))
    alert = make_alert(1)
    dispatcher.submit(alert, on_handled=lambda: handled.append(1))
    # Whether it was delivered before a restart cannot be known: it is not sent, and waits.
    assert handled == [] and receiver.received == [] and dispatcher.waiting_ids == {alert["alert_id"]}
    assert "reading the delivery records" in caplog.text and dispatcher.next_due() == 1.0
    unreachable.close()


# -- the real command ------------------------------------------------------------------------------


def _notifier_file(tmp_path, *urls: str) -> str:
    path = tmp_path / "notifiers.yaml"
    path.write_text(yaml.safe_dump({"lists": {"belarus-watch": {"notifiers": [
        {"type": "webhook", "url": url, "secret_env": SECRET_ENV, "attempts": 2, "timeout": 2}
        for url in urls]}}}))
    return str(path)


def _produce(settings, alerts) -> None:
    producer = make_producer(settings)
    for alert in alerts:
        producer.send(settings.topic_alerts, key=alert["alert_id"].encode(), value=json.dumps(alert).encode())
    producer.flush(30)
    producer.close(timeout=10)


def _committed(settings, group: str) -> int | None:
    consumer = make_consumer(settings, group_id=group)
    try:
        return consumer.committed(TopicPartition(settings.topic_alerts, 0))
    finally:
        consumer.close()


def _delete_group(settings, group: str) -> None:
    admin = make_admin(settings)
    try:
        admin.delete_groups([group])
    except Exception:  # noqa: BLE001 - cleanup only; an empty group expires on its own
        pass
    finally:
        admin.close()


def _retried(line: str) -> int:
    match = re.search(r"\bretried (\d+)", line)
    return int(match.group(1)) if match and line.split("] ", 1)[-1].startswith("delivery:") else -1


def _deliver(settings, config: str, group: str) -> Command:
    return Command("alerts", "deliver", "--config", config, "--group", group, "--progress-every", "1",
                   env=command_env(settings, **{SECRET_ENV: SECRET}))


def ids_of(server: WebhookServer) -> list[str]:
    return [a["alert_id"] for r in server.received if r.status == 200 for a in r.json()["alerts"]]


def test_deliver_command_holds_alerts_through_an_outage_then_delivers_each_once(isolated, tmp_path,
                                                                               closed_port):
    settings = isolated
    alerts = [make_alert(n) for n in range(4)]
    _produce(settings, alerts)
    group = f"test-notifier-{uuid.uuid4().hex}"
    command = _deliver(settings, _notifier_file(tmp_path, f"http://127.0.0.1:{closed_port}/hook"), group)
    server = None
    try:
        # Down for longer than the notifier's attempts and several of the waits after them,
        # with progress reports all along.
        command.wait_for_line(lambda line: _retried(line) >= 3, "reporting a third retry", timeout=90)
        reports = [line for line in command.err.lines if _retried(line) >= 0]
        assert len(reports) >= 3 and "waiting to retry 1" in reports[-1]
        assert _committed(settings, group) in (None, 0)  # not committed past the first alert
        server = WebhookServer(secret=SECRET, port=closed_port)
        arrived = server.wait_for(4, timeout=90)
        assert [a["alert_id"] for r in arrived for a in r.json()["alerts"]] == [a["alert_id"] for a in alerts]
        wait_for(lambda: _committed(settings, group) == 4, "the offsets to be committed", 30)
        assert command.running()
    finally:
        code = command.stop()
        if server is not None:
            server.close()
        _delete_group(settings, group)
    assert code == 0, command.err.text()
    assert ids_of(server) == [a["alert_id"] for a in alerts]  # each once: no loss, no repeat
    assert all(r.signature_ok for r in server.received)
    assert "alert delivery stopped: received 4" in command.out.text()
    assert SECRET not in command.out.text() + command.err.text()


def test_deliver_command_restarted_mid_outage_sends_nothing_twice(isolated, es, tmp_path, closed_port,
                                                                  receiver):
    from newsmon.connectors.elasticsearch import setup_index

    settings = isolated
    alert = make_alert(5)
    setup_index(es, "news-alerts", settings.es_index_alerts)
    es.create(index=settings.es_index_alerts, id=alert["alert_id"],
              document=alert | {"kafka_delivered": True, "deliveries": []}, refresh=True)
    _produce(settings, [alert])
    group = f"test-notifier-{uuid.uuid4().hex}"
    config = _notifier_file(tmp_path, receiver.url("/up"), f"http://127.0.0.1:{closed_port}/down")
    down = None
    try:
        first = _deliver(settings, config, group)
        try:
            assert len(receiver.wait_for(1, timeout=60)) == 1
            first.wait_for_line(lambda line: _retried(line) >= 1, "reporting a retry")
        finally:
            assert first.stop() == 0, first.err.text()
        assert _committed(settings, group) in (None, 0)  # the second notifier still owes it

        down = WebhookServer(secret=SECRET, port=closed_port)
        second = _deliver(settings, config, group)
        try:
            assert len(down.wait_for(1, timeout=60)) == 1
            wait_for(lambda: _committed(settings, group) == 1, "the offset to be committed", 30)
        finally:
            assert second.stop() == 0, second.err.text()
    finally:
        if down is not None:
            down.close()
        _delete_group(settings, group)
    assert ids_of(receiver) == [alert["alert_id"]] and ids_of(down) == [alert["alert_id"]]
    deliveries = es.get(index=settings.es_index_alerts, id=alert["alert_id"])["_source"]["deliveries"]
    assert [(d["notifier"], d["ok"]) for d in deliveries] == [
        (f"belarus-watch#1 webhook http://127.0.0.1:{receiver.port}", True),
        (f"belarus-watch#2 webhook http://127.0.0.1:{closed_port}", True)]


def test_deliver_command_exits_non_zero_when_it_cannot_run(tmp_path, closed_port):
    config = _notifier_file(tmp_path, "http://127.0.0.1:9/hook")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSMON_")}
    env |= {"NEWSMON_HOME": str(tmp_path / "home"), SECRET_ENV: SECRET,
            "NEWSMON_KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{closed_port}",
            "NEWSMON_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "NEWSMON_KAFKA_SASL_MECHANISM": "PLAIN",
            "NEWSMON_KAFKA_SASL_USERNAME": "newsmon", "NEWSMON_KAFKA_SASL_PASSWORD": "kafka-pass-5e1d"}
    done = subprocess.run([sys.executable, "-m", "newsmon", "alerts", "deliver", "--config", config],
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "newsmon: error:" in done.stderr and "Kafka is not reachable" in done.stderr
    assert "kafka-pass-5e1d" not in done.stdout + done.stderr and SECRET not in done.stdout + done.stderr


def test_deliver_command_exits_non_zero_when_delivery_crashes(tmp_path, monkeypatch, capsys):
    from kafka.errors import KafkaError

    from newsmon import cli
    from newsmon.connectors import alert_delivery

    def crashing(settings, config, *, stop, **_options):
        msg = f"the broker said no (while sending with {SECRET})"
        raise KafkaError(msg)

    monkeypatch.setattr(alert_delivery, "run_delivery", crashing)
    monkeypatch.setenv(SECRET_ENV, SECRET)
    code = cli.main(["alerts", "deliver", "--config", _notifier_file(tmp_path, "http://127.0.0.1:9/hook")])
    shown = capsys.readouterr()
    assert code != 0
    assert "newsmon: error: alert delivery stopped" in shown.err and "the broker said no" in shown.err
    assert SECRET not in shown.out + shown.err

