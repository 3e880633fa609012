"""Delivering webhooks to a real local receiver, classifying its answers, and when to retry."""

from __future__ import annotations

import json
import logging
import random
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from suraksha.errors import InvalidInput
from suraksha.outbound.signatures import verify_signature
from suraksha.outbound.targets import Refusal, TargetRefused, parse_target, resolve_target
from suraksha.outbound.webhooks import (
    DeliveryOutcome,
    DeliveryResult,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookSender,
    backoff_delay,
    parse_retry_after,
    retry_delay,
)
from suraksha.settings import Secret

from .conftest import Platform

SECRET = Secret("whsec_benign_test_secret")


def sender(platform: Platform, **kw: object) -> WebhookSender:
    return WebhookSender(allow_loopback_ports_for_testing={platform.port}, **kw)  # type: ignore[arg-type]


def endpoint(platform: Platform, path: str, **kw: object) -> WebhookEndpoint:
    return WebhookEndpoint(platform.url(path), (SECRET,), **kw)  # type: ignore[arg-type]


DELIVERY = WebhookDelivery.create("action.remove", {"item_id": "benign-42", "action": "remove"})


def test_delivered_signed_and_verifiable(platform: Platform) -> None:
    result = sender(platform).deliver(endpoint(platform, "/ok"), DELIVERY)
    assert result.outcome is DeliveryOutcome.DELIVERED and result.status == 200
    assert result.address == "127.0.0.1" and result.delivery_id == DELIVERY.delivery_id
    got = platform.received[-1]
    assert got.body == DELIVERY.body
    assert verify_signature(SECRET, got.headers, got.body) > 0
    assert got.headers["Suraksha-Delivery-Id"] == DELIVERY.delivery_id
    assert got.headers["Suraksha-Event"] == "action.remove"
    assert got.headers["Content-Type"] == "application/json"
    assert json.loads(got.body)["data"] == {"item_id": "benign-42", "action": "remove"}


def test_retries_keep_the_delivery_id_and_sign_afresh(platform: Platform) -> None:
    clock = iter([1_780_000_000.0, 1_780_000_060.0])
    send = sender(platform, clock=lambda: next(clock))
    for _ in range(2):
        send.deliver(endpoint(platform, "/fail"), DELIVERY)
    first, second = platform.received[-2:]
    assert first.headers["Suraksha-Delivery-Id"] == second.headers["Suraksha-Delivery-Id"]
    assert first.headers["Suraksha-Timestamp"] != second.headers["Suraksha-Timestamp"]
    assert first.body == second.body


def test_every_secret_signs_while_rotating(platform: Platform) -> None:
    old, new = Secret("whsec_old_benign"), Secret("whsec_new_benign")
    rotating = WebhookEndpoint(platform.url("/ok"), (new, old))
    sender(platform).deliver(rotating, DELIVERY)
    got = platform.received[-1]
    assert verify_signature(old, got.headers, got.body) and verify_signature(new, got.headers, got.body)


@pytest.mark.parametrize(
    ("path", "outcome", "status", "retry_after"),
    [
        ("/created", DeliveryOutcome.DELIVERED, 201, None),
        ("/fail", DeliveryOutcome.RETRYABLE, 500, None),
        ("/unavailable", DeliveryOutcome.RETRYABLE, 503, 30.0),
        ("/busy", DeliveryOutcome.RETRYABLE, 429, 7.0),
        ("/bad", DeliveryOutcome.FAILED, 400, None),
        ("/gone", DeliveryOutcome.FAILED, 410, None),
        ("/moved", DeliveryOutcome.FAILED, 302, None),
    ],
)
def test_answers_are_classified(
    platform: Platform, path: str, outcome: DeliveryOutcome, status: int, retry_after: float | None
) -> None:
    result = sender(platform).deliver(endpoint(platform, path), DELIVERY)
    assert (result.outcome, result.status, result.retry_after_s) == (outcome, status, retry_after)


def test_slow_receiver_is_retryable_within_the_timeout(platform: Platform) -> None:
    started = time.monotonic()
    result = sender(platform).deliver(endpoint(platform, "/slow", timeout_s=0.3), DELIVERY)
    assert result.outcome is DeliveryOutcome.RETRYABLE and "Timeout" in result.detail
    assert time.monotonic() - started < 1.5


def test_nothing_listening_is_retryable() -> None:
    result = WebhookSender(allow_loopback_ports_for_testing={1}).deliver(
        WebhookEndpoint("http://127.0.0.1:1/hook", (SECRET,)), DELIVERY
    )
    assert result.outcome is DeliveryOutcome.RETRYABLE and result.status is None


def test_private_address_is_refused_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    def dns(host: str, port: int, timeout_s: float) -> list[str]:
        return ["10.0.0.5"]

    caplog.set_level(logging.INFO, logger="suraksha.outbound.webhooks")
    hook = WebhookEndpoint("https://hooks.platform.example/suraksha?token=abc", (SECRET,))
    result = WebhookSender(resolver=dns).deliver(hook, DELIVERY)
    assert result.outcome is DeliveryOutcome.FAILED and result.refusal is Refusal.BLOCKED_ADDRESS
    assert result.address == "10.0.0.5"
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.startswith("event=webhook.blocked url=https://hooks.platform.example/suraksha ")
    assert "token=abc" not in caplog.text and SECRET.reveal() not in caplog.text


def test_private_network_opt_in_passes_the_address_check() -> None:
    def dns(host: str, port: int, timeout_s: float) -> list[str]:
        return ["10.0.0.5"]

    deadline = time.monotonic() + 5
    for opted_in in (False, True):
        hook = WebhookEndpoint("https://hooks.internal.example/", (SECRET,), allow_private_network=opted_in)
        policy = hook.target_policy()
        target = parse_target(hook.url, policy)
        if opted_in:
            assert [str(a) for a in resolve_target(target, policy, dns, deadline)] == ["10.0.0.5"]
        else:
            with pytest.raises(TargetRefused):
                resolve_target(target, policy, dns, deadline)


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest", "http://[::1]:8080/", "http://127.0.0.1:6379/", "file:///x"]
)
def test_opt_in_never_opens_metadata_loopback_or_other_schemes(url: str) -> None:
    result = WebhookSender().deliver(WebhookEndpoint(url, (SECRET,), allow_private_network=True), DELIVERY)
    assert result.outcome is DeliveryOutcome.FAILED and result.refusal is not None


def test_unresolvable_name_is_retryable() -> None:
    def dns(host: str, port: int, timeout_s: float) -> list[str]:
        raise OSError("Name or service not known")

    result = WebhookSender(resolver=dns).deliver(WebhookEndpoint("https://x.example/", (SECRET,)), DELIVERY)
    assert result.outcome is DeliveryOutcome.RETRYABLE and result.refusal is Refusal.DNS_FAILURE


def test_secrets_never_print() -> None:
    hook = WebhookEndpoint("https://hooks.example/", (SECRET,))
    assert SECRET.reveal() not in repr(hook)


def test_bad_endpoints_and_deliveries() -> None:
    with pytest.raises(InvalidInput, match="secret"):
        WebhookEndpoint("https://hooks.example/", ())
    with pytest.raises(InvalidInput, match="event"):
        WebhookDelivery.create("bad event\r\nX-Injected: 1", {})
    with pytest.raises(InvalidInput, match="over"):
        WebhookDelivery.create("action.remove", {"blob": "x" * 2_000_000})


def test_delivery_ids_are_unique_and_can_be_given() -> None:
    ids = {WebhookDelivery.create("action.remove", {}).delivery_id for _ in range(100)}
    assert len(ids) == 100
    assert WebhookDelivery.create("action.remove", {}, delivery_id="act-7-ep-2").delivery_id == "act-7-ep-2"


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    rng = random.Random(7)
    for attempt in range(1, 12):
        ceiling = min(3600.0, 5.0 * 2 ** (attempt - 1))
        for _ in range(20):
            assert ceiling / 2 <= backoff_delay(attempt, rng=rng) <= ceiling
    assert backoff_delay(10_000, rng=rng) <= 3600.0
    assert len({backoff_delay(5, rng=rng) for _ in range(10)}) > 1
    with pytest.raises(ValueError, match="from 1"):
        backoff_delay(0)


def test_retry_delay_honours_retry_after_and_never_retries_the_final() -> None:
    busy = DeliveryResult("d", DeliveryOutcome.RETRYABLE, "HTTP 429", status=429, retry_after_s=7.0)
    assert retry_delay(busy, 1) == 7.0
    huge = DeliveryResult("d", DeliveryOutcome.RETRYABLE, "HTTP 503", status=503, retry_after_s=10**9)
    assert retry_delay(huge, 1, cap_s=600) == 600
    plain = DeliveryResult("d", DeliveryOutcome.RETRYABLE, "HTTP 500", status=500)
    assert 20.0 <= (retry_delay(plain, 4) or 0) <= 40.0  # 5 s doubled three times, upper half
    for final in (DeliveryOutcome.DELIVERED, DeliveryOutcome.FAILED):
        assert retry_delay(DeliveryResult("d", final, ""), 1) is None


def test_parse_retry_after() -> None:
    now = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now=now) == 90.0
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert parse_retry_after("-5") is None


def test_a_short_answer_is_kept_for_its_outcome(platform: Platform) -> None:
    """A receiver may answer with the action's outcome (suraksha.enforcement.acknowledgements); the
    answer is read only when it is a short 2xx body."""
    done = sender(platform).deliver(endpoint(platform, "/done"), DELIVERY)
    assert done.outcome is DeliveryOutcome.DELIVERED and json.loads(done.answer) == {"outcome": "done"}
    assert sender(platform).deliver(endpoint(platform, "/ok"), DELIVERY).answer == b"{}"
    refused = sender(platform).deliver(endpoint(platform, "/bad"), DELIVERY)
    assert refused.outcome is DeliveryOutcome.FAILED and refused.answer == b""
