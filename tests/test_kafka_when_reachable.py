"""Pipeline steps wait for an unreachable broker when they set up a client (no services needed)."""

from __future__ import annotations

import pytest

from newsmon.connectors.kafka import when_reachable
from newsmon.errors import ServiceUnavailableError


def test_a_client_is_made_once_the_broker_answers():
    attempts = []

    def make():
        attempts.append(1)
        if len(attempts) < 3:
            msg = "Kafka is not reachable at 127.0.0.1:9 (PLAINTEXT): KafkaTimeoutError"
            raise ServiceUnavailableError(msg)
        return "client"

    assert when_reachable(make, what="a test client") == "client"
    assert len(attempts) == 3


def test_other_errors_are_not_waited_out():
    def make():
        msg = "bad setting"
        raise ValueError(msg)

    with pytest.raises(ValueError, match="bad setting"):
        when_reachable(make, what="a test client")
