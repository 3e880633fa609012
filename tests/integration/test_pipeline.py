"""Items from intake to decision and actions, on SQLite and PostgreSQL, with benign synthetic media in
a "known bad" bank: each effect happens once, unknown is never clean, kill switches hold."""

from __future__ import annotations

import base64
import http.server
import logging
import socket
import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suraksha.admin.models import KillSwitch
from suraksha.admin.services import set_switch
from suraksha.app import DECISION_FOLLOW_UPS
from suraksha.banks import services as banks
from suraksha.banks.index import BankIndex
from suraksha.banks.models import BankCategory
from suraksha.content.entities import ItemEntity
from suraksha.content.models import Account, Item, ItemMatch, ItemRuleHit, ItemState, MediaState
from suraksha.db import Database
from suraksha.enforcement import services as enforcement
from suraksha.enforcement import tasks as enforcement_tasks
from suraksha.enforcement.models import Action, ActionKind, ActionState, Decision, Delivery, Verdict
from suraksha.enforcement.policy import BUILTIN, load_policy
from suraksha.enforcement.services import action_feed
from suraksha.errors import ConfigError, Conflict, InvalidInput
from suraksha.hookspecs import ClassifierFinding, hookimpl
from suraksha.intake import tasks as intake_tasks
from suraksha.intake.adapters import EngineRules, Fetch
from suraksha.intake.pipeline import Pipeline
from suraksha.intake.schemas import ItemIn, MediaIn
from suraksha.intake.services import PROCESS_ITEM, submit_item
from suraksha.intake.store import MediaStore
from suraksha.outbound.fetch import FetchPolicy, MediaFetcher
from suraksha.outbound.signatures import verify_signature
from suraksha.outbound.webhooks import WebhookEndpoint, WebhookSender, endpoint_secrets
from suraksha.plugins import Classifiers, plugin_manager
from suraksha.review.models import ReviewCase
from suraksha.rules import RuleEngine
from suraksha.signals.file_signals import FileSignals, HashOptions, hash_bytes
from suraksha.signals.types import SignalKind
from suraksha.testing.synthetic import synthetic_jpeg
from suraksha.vault.crypto import EnvelopeCipher, KeyEncryptionKey
from suraksha.vault.models import Preservation
from suraksha.worker.handlers import HandlerRegistry
from suraksha.worker.models import Job
from suraksha.worker.policy import RetryPolicy, WorkerConfig
from suraksha.worker.runner import run_worker

KNOWN = synthetic_jpeg(101)
REPOST = synthetic_jpeg(101, 500, 375, quality=70)  # a resized, re-encoded copy
OTHER = synthetic_jpeg(202)


@pytest.fixture
def pipeline(db: Database, tmp_path: Path) -> Pipeline:
    signals = hash_bytes(KNOWN, HashOptions())
    assert signals.pdq is not None
    with db.session() as s:
        bank = banks.create_bank(s, "known-bad", category=BankCategory.CSAM)
        banks.add_entry(s, bank, SignalKind.PDQ, signals.pdq.hex, quality=signals.pdq.quality)
    index = BankIndex(db).load()
    return Pipeline(
        db=db,
        index=index,
        store=MediaStore(tmp_path / "media", EnvelopeCipher(KeyEncryptionKey.generate())),
        options=HashOptions(),
        policy=BUILTIN,
        follow_ups=DECISION_FOLLOW_UPS,
    )


def item(platform_id: str, account: str, *media: bytes, text: str = "", **extra: object) -> ItemIn:
    return ItemIn.model_validate(
        {
            "platform_item_id": platform_id,
            "kind": "post",
            "account": {"platform_id": account, "handle": f"@{account}"},
            "text": text,
            "media": [{"data": base64.b64encode(m).decode(), "content_type": "image/jpeg"} for m in media],
            **extra,
        }
    )


def submit(pipeline: Pipeline, value: ItemIn) -> int:
    with pipeline.db.session() as s:
        return submit_item(s, pipeline.store, value, max_media_bytes=10_000_000).item_id


def test_banked_media_is_removed_and_the_account_suspended_once(pipeline: Pipeline) -> None:
    item_id = submit(pipeline, item("p1", "acct-1", REPOST, text="hello"))
    with pipeline.db.session() as s:
        assert s.scalar(select(Job.kind).where(Job.dedupe_key == f"item:{item_id}")) == PROCESS_ITEM
    assert pipeline.process(item_id)
    assert not pipeline.process(item_id)  # a second run (a retried job) changes nothing
    with pipeline.db.session() as s:
        row = s.get(Item, item_id)
        assert row is not None and row.state == ItemState.ACTIONED
        [decision] = s.scalars(select(Decision).where(Decision.item_id == item_id)).all()
        assert decision.verdict == Verdict.VIOLATION and decision.automated
        assert "known-bad" in decision.basis and "distance" in decision.basis
        kinds = {a.kind: a for a in s.scalars(select(Action).where(Action.decision_id == decision.id))}
        assert set(kinds) == {ActionKind.REMOVE, ActionKind.SUSPEND, ActionKind.PRESERVE, ActionKind.REPORT}
        assert kinds[ActionKind.PRESERVE].state == ActionState.INTERNAL
        deliveries = select(func.count()).select_from(Job).where(Job.kind == enforcement.DELIVER)
        assert s.scalar(deliveries) == 2  # remove + suspend: one delivery job each, whatever the endpoints
        account = s.scalar(select(Account).where(Account.platform_account_id == "acct-1"))
        assert account is not None and account.suspended_at is not None
        [match] = s.scalars(select(ItemMatch).where(ItemMatch.item_id == item_id)).all()
        assert match.bank_name == "known-bad" and match.distance is not None and match.distance <= 31
        feed = action_feed(s)
        assert [a.kind for a in feed] == [ActionKind.REMOVE, ActionKind.SUSPEND]
        assert action_feed(s, after=feed[-1].id) == []


def test_clean_items_are_clean_and_their_bytes_are_not_kept(pipeline: Pipeline) -> None:
    item_id = submit(pipeline, item("p2", "acct-2", OTHER))
    assert pipeline.process(item_id)
    with pipeline.db.session() as s:
        [decision] = s.scalars(select(Decision).where(Decision.item_id == item_id)).all()
        assert decision.verdict == Verdict.CLEAN
        row = s.get(Item, item_id)
        assert row is not None and row.media[0].state == MediaState.HASHED
        assert pipeline.store.get(row.media[0].sha256 or "") is None


def test_an_undecodable_file_is_not_clean(pipeline: Pipeline) -> None:
    item_id = submit(pipeline, item("p3", "acct-3", KNOWN[: len(KNOWN) // 3]))
    assert pipeline.process(item_id)
    with pipeline.db.session() as s:
        [decision] = s.scalars(select(Decision).where(Decision.item_id == item_id)).all()
        assert decision.verdict == Verdict.NOT_CHECKED
        row = s.get(Item, item_id)
        assert row is not None and row.media[0].state == MediaState.NOT_CHECKED and row.media[0].error


def test_reports_go_to_review(pipeline: Pipeline) -> None:
    reported = item("p4", "acct-4", text="x", reporter={"kind": "trusted_flagger", "id": "ngo-1"})
    item_id = submit(pipeline, reported)
    assert pipeline.process(item_id)
    with pipeline.db.session() as s:
        [decision] = s.scalars(select(Decision).where(Decision.item_id == item_id)).all()
        assert decision.verdict == Verdict.REVIEW and decision.priority == BUILTIN.trusted_flagger.priority


def test_paused_automation_sends_matches_to_a_person(pipeline: Pipeline) -> None:
    with pipeline.db.session() as s:
        set_switch(s, KillSwitch.PAUSE_AUTOMATED_ENFORCEMENT, True, by="lead-1", reason="drill")
    item_id = submit(pipeline, item("p5", "acct-5", KNOWN))
    assert pipeline.process(item_id)
    with pipeline.db.session() as s:
        [decision] = s.scalars(select(Decision).where(Decision.item_id == item_id)).all()
        assert decision.verdict == Verdict.REVIEW and not decision.automated
        assert s.scalar(select(func.count()).select_from(Action)) == 0


def test_submission_is_idempotent_on_the_platform_id(pipeline: Pipeline) -> None:
    first = submit(pipeline, item("p6", "acct-6", OTHER, text="a"))
    assert submit(pipeline, item("p6", "acct-6", OTHER, text="a")) == first
    with pytest.raises(Conflict, match="different payload"):
        submit(pipeline, item("p6", "acct-6", OTHER, text="b"))
    with pipeline.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 1
        assert s.scalar(select(func.count()).select_from(Job)) == 1


def test_upload_time_check_stores_nothing_unless_it_matches(pipeline: Pipeline) -> None:
    from suraksha.intake.check import CheckVerdict, check_item

    clean = check_item(pipeline, item("c1", "acct-c", OTHER), max_media_bytes=10**7)
    assert clean.verdict == CheckVerdict.NO_MATCH and clean.item_id is None
    broken = check_item(pipeline, item("c2", "acct-c", KNOWN[:500]), max_media_bytes=10**7)
    assert broken.verdict == CheckVerdict.NOT_CHECKED and broken.item_id is None
    with pipeline.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == 0
    matched = check_item(pipeline, item("c3", "acct-c", REPOST), max_media_bytes=10**7)
    assert matched.verdict == CheckVerdict.MATCH and matched.item_id is not None
    assert matched.media[0]["matches"]
    assert pipeline.process(matched.item_id)


def test_item_read_model(pipeline: Pipeline) -> None:
    from suraksha.intake.views import item_out

    item_id = submit(pipeline, item("v1", "acct-v", REPOST))
    pipeline.process(item_id)
    with pipeline.db.session() as s:
        row = s.get(Item, item_id)
        assert row is not None
        out = item_out(s, row)
    assert out.state == ItemState.ACTIONED
    assert out.media[0].matches[0].bank == "known-bad"
    assert out.decisions[0].verdict == Verdict.VIOLATION
    assert {a.kind for a in out.actions} >= {"remove", "suspend"}
    assert out.actions[0].item_id == "v1" and out.actions[0].account_id == "acct-v"


class Receiver:
    """The platform's webhook endpoint: records what arrives; answers 500 to the first N requests."""

    def __init__(self, failures: int = 0, host: str = "127.0.0.1") -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.failures = failures
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.failures > 0:
                    receiver.failures -= 1
                    self.send_response(500)
                else:
                    receiver.received.append((dict(self.headers.items()), body))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        family = http.server.ThreadingHTTPServer
        if ":" in host:

            class V6(http.server.ThreadingHTTPServer):
                address_family = socket.AF_INET6

            family = V6
        self.server = family((host, 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()


def test_actions_are_delivered_signed_once_each_through_retries(pipeline: Pipeline) -> None:
    receiver = Receiver(failures=1)
    try:
        secrets = endpoint_secrets(["s3cret-for-tests"])
        endpoints = {"platform": WebhookEndpoint(f"http://127.0.0.1:{receiver.port}/hook", secrets)}
        registry = HandlerRegistry()
        intake_tasks.register(registry, pipeline)
        enforcement_tasks.register(
            registry, pipeline.db, endpoints, WebhookSender(allow_loopback_ports_for_testing={receiver.port})
        )
        with pipeline.db.session() as s:
            set_switch(s, KillSwitch.PAUSE_DELIVERY, True, by="lead-1")
        item_id = submit(pipeline, item("w1", "acct-w", REPOST))
        config = WorkerConfig(poll_interval_s=0.05, retry=RetryPolicy(backoff_base_s=0.05, backoff_max_s=0.1))
        run_worker(
            pipeline.db, registry, config=config, install_signal_handlers=False, stop_event=_stop_after(1.0)
        )
        assert receiver.received == []  # paused: nothing left
        with pipeline.db.session() as s:  # the deliveries wait without spending attempts
            waiting = s.scalars(select(Job).where(Job.kind == "action.deliver")).all()
            assert len(waiting) == 2 and {j.state for j in waiting} == {"queued"}
            assert {j.attempts for j in waiting} == {0}
            for job in waiting:
                job.run_after = job.created_at
        with pipeline.db.session() as s:
            set_switch(s, KillSwitch.PAUSE_DELIVERY, False, by="lead-1")
        run_worker(pipeline.db, registry, config=config, until_drained=True, install_signal_handlers=False)
        assert len(receiver.received) == 2  # remove and suspend; the 500 was retried
        ids = set()
        for headers, body in receiver.received:
            verify_signature(secrets, headers, body)
            ids.add(headers["Suraksha-Delivery-Id"])
            assert b'"item_id":"w1"' in body and b'"account_id":"acct-w"' in body
        assert len(ids) == 2
        with pipeline.db.session() as s:
            states = {d.state for d in s.scalars(select(Delivery))}
            assert states == {ActionState.DELIVERED}
            assert {a.state for a in s.scalars(select(Action).where(Action.item_id == item_id))} == {
                ActionState.DELIVERED,
                ActionState.INTERNAL,
            }
    finally:
        receiver.close()


def _stop_after(seconds: float) -> threading.Event:
    event = threading.Event()
    threading.Timer(seconds, event.set).start()
    return event


class FlagsEveryPicture:
    """A stand-in classifier plugin (benign: it flags by a property of the hash, not of content)."""

    @hookimpl
    def suraksha_classify_media(
        self, data: bytes, signals: FileSignals, position: int
    ) -> list[ClassifierFinding]:
        return [
            ClassifierFinding(
                "test-model", "1.0", "sexual_violence", 0.91, priority=75, where=f"media:{position}"
            )
        ]


def test_classifier_findings_go_to_review_never_act(pipeline: Pipeline) -> None:
    pipeline.classifiers = Classifiers(plugin_manager(extra=[FlagsEveryPicture()]))
    item_id = submit(pipeline, item("k1", "acct-k", OTHER))
    assert pipeline.process(item_id)
    with pipeline.db.session() as s:
        [decision] = s.scalars(select(Decision).where(Decision.item_id == item_id)).all()
        assert decision.verdict == Verdict.REVIEW and decision.priority == 75 and not decision.automated
        assert "test-model" in decision.basis and decision.actions == []


def test_unknown_plugins_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="not installed"):
        plugin_manager(["no-such-plugin"])


def test_policy_file_withholds_in_named_countries(pipeline: Pipeline, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        """
version: local-3
bank_categories:
  csam: {verdict: violation, actions: [withhold], countries: [IN, DE], automated: true, priority: 95}
  "*": {verdict: review}
rule_categories:
  "*": {verdict: review}
not_checked: {verdict: not_checked}
user_report: {verdict: review}
trusted_flagger: {verdict: review}
"""
    )
    pipeline.policy = load_policy(policy)
    item_id = submit(pipeline, item("g1", "acct-g", REPOST))
    assert pipeline.process(item_id)
    with pipeline.db.session() as s:
        [action] = s.scalars(select(Action).where(Action.item_id == item_id)).all()
        assert action.kind == ActionKind.WITHHOLD and action.countries == "IN DE"
        [decision] = s.scalars(select(Decision).where(Decision.item_id == item_id)).all()
        assert decision.decided_by_ref == "policy local-3"
    policy.write_text("version: 1\nbank_categories: {csam: {verdict: violation, countries: [india]}}\n")
    with pytest.raises(ConfigError, match=str(policy)):
        load_policy(policy)


class MediaHost:
    """A media host on loopback serving one file, and redirecting /evil to the cloud metadata address."""

    def __init__(self, body: bytes) -> None:
        host = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/evil":
                    self.send_response(302)
                    self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(host.body)))
                self.end_headers()
                self.wfile.write(host.body)

            def log_message(self, *args: object) -> None:
                pass

        self.body = body
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_media_urls_are_fetched_and_ssrf_is_not_checked_never_clean(
    pipeline: Pipeline, caplog: pytest.LogCaptureFixture
) -> None:
    host = MediaHost(REPOST)
    try:
        policy = FetchPolicy(allowed_ports=frozenset({80, 443, host.port}))
        pipeline.fetch = Fetch(MediaFetcher(policy, allow_loopback_ports_for_testing={host.port}))
        base = f"http://127.0.0.1:{host.port}"
        fetched = ItemIn.model_validate(
            {
                "platform_item_id": "u1",
                "kind": "post",
                "account": {"platform_id": "acct-u"},
                "media": [{"url": f"{base}/picture.jpg"}],
            }
        )
        blocked = fetched.model_copy(
            update={"platform_item_id": "u2", "media": [MediaIn(url=f"{base}/evil")]}
        )  # type: ignore[arg-type]
        fetched_id, blocked_id = submit(pipeline, fetched), submit(pipeline, blocked)
        with caplog.at_level(logging.WARNING):
            assert pipeline.process(fetched_id) and pipeline.process(blocked_id)
        with pipeline.db.session() as s:
            [good] = s.scalars(select(Decision).where(Decision.item_id == fetched_id)).all()
            assert good.verdict == Verdict.VIOLATION  # the fetched bytes matched the bank
            [bad] = s.scalars(select(Decision).where(Decision.item_id == blocked_id)).all()
            assert bad.verdict == Verdict.NOT_CHECKED and "blocked_address" in bad.reason
        assert "event=fetch.blocked" in caplog.text
    finally:
        host.server.shutdown()


def _batch_items(prefix: str) -> list[ItemIn]:
    """One of each outcome: clean, banked, undecodable, a rule hit with entities, a user report."""
    return [
        item(f"{prefix}-clean", f"{prefix}-a", OTHER, text="a walk by the river"),
        item(f"{prefix}-banked", f"{prefix}-b", REPOST),
        item(f"{prefix}-broken", f"{prefix}-a", KNOWN[: len(KNOWN) // 3]),
        item(f"{prefix}-sale", f"{prefix}-c", text="content for sale, dm for price, pay to seller@okaxis"),
        item(f"{prefix}-reported", f"{prefix}-d", text="x", reporter={"kind": "user", "id": "u-1"}),
        item(f"{prefix}-clean2", f"{prefix}-d", OTHER),
    ]


def _effects(db: Database, item_ids: list[int]) -> list[tuple[object, ...]]:
    """What processing wrote for each item, without ids: comparable across runs."""
    out = []
    with db.reading() as s:
        for item_id in item_ids:
            row = s.get(Item, item_id)
            assert row is not None
            decisions = s.scalars(select(Decision).where(Decision.item_id == item_id)).all()
            out.append(
                (
                    row.state,
                    [(d.verdict, d.category, d.automated, d.priority, d.reason) for d in decisions],
                    sorted(a.kind for a in s.scalars(select(Action).where(Action.item_id == item_id))),
                    [(m.state, m.pdq, m.sha256, bool(m.error)) for m in row.media],
                    s.scalar(select(func.count()).select_from(ItemMatch).where(ItemMatch.item_id == item_id)),
                    s.scalar(
                        select(func.count()).select_from(ItemRuleHit).where(ItemRuleHit.item_id == item_id)
                    ),
                    s.scalar(
                        select(func.count()).select_from(ItemEntity).where(ItemEntity.item_id == item_id)
                    ),
                    s.scalar(
                        select(func.count()).select_from(ReviewCase).where(ReviewCase.item_id == item_id)
                    ),
                )
            )
    return out


@pytest.fixture
def ruled(pipeline: Pipeline) -> Pipeline:
    pipeline.text_rules = EngineRules(RuleEngine.from_packs())
    return pipeline


def test_a_batch_writes_what_items_one_by_one_write(ruled: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    """``process_many`` writes a batch with one statement per table; should that fail, item by item.
    Either way each item ends as ``process`` leaves it, and a second run writes nothing."""
    alone = [submit(ruled, one) for one in _batch_items("alone")]
    for item_id in alone:
        assert ruled.process(item_id)
    expected = _effects(ruled.db, alone)
    assert expected[0][1][0][0] == Verdict.CLEAN and expected[1][0] == ItemState.ACTIONED
    assert expected[3][5] and expected[3][6]  # rule hits and entities
    together = [submit(ruled, one) for one in _batch_items("together")]
    assert ruled.process_many(together) == dict.fromkeys(together)
    assert _effects(ruled.db, together) == expected
    assert ruled.process_many(together) == dict.fromkeys(together)  # run again: nothing more
    assert _effects(ruled.db, together) == expected

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the batched write failed")

    monkeypatch.setattr(enforcement, "record_plain_decisions", broken)
    split = [submit(ruled, one) for one in _batch_items("split")]
    assert ruled.process_many(split) == dict.fromkeys(split)
    assert _effects(ruled.db, split) == expected


def test_one_bad_item_of_a_batch_fails_alone(ruled: Pipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [submit(ruled, one) for one in _batch_items("bad")]
    record = Pipeline._record

    def record_or_fail(self: Pipeline, session: object, analysed: object, paused: bool) -> bool:
        if analysed.item_id == ids[3]:  # type: ignore[attr-defined]
            raise RuntimeError("this item cannot be written")
        return record(self, session, analysed, paused)  # type: ignore[arg-type]

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("the batched write failed")

    monkeypatch.setattr(enforcement, "record_plain_decisions", broken)
    monkeypatch.setattr(Pipeline, "_record", record_or_fail)
    outcomes = ruled.process_many(ids)
    assert [type(outcomes[i]).__name__ for i in ids] == ["NoneType"] * 3 + ["RuntimeError"] + ["NoneType"] * 2
    with ruled.db.reading() as s:
        states = [s.scalar(select(Item.state).where(Item.id == i)) for i in ids]
    assert states[3] == ItemState.QUEUED and all(
        state != ItemState.QUEUED for k, state in enumerate(states) if k != 3
    )


def test_the_arrows_out_of_a_decision_go_through_the_ports_above_enforcement(pipeline: Pipeline) -> None:
    """Enforcement sits below review and the vault: the case and the preservation of a banked item come
    through the ports the pipeline is given (suraksha.app.DECISION_FOLLOW_UPS); a preserve action
    without the vault's port is refused rather than recorded with no evidence kept."""
    item_id = submit(pipeline, item("p-ports", "acct-ports", REPOST))
    assert pipeline.process(item_id)
    with pipeline.db.session() as s:
        decision = s.scalar(select(Decision).where(Decision.item_id == item_id))
        assert decision is not None and ActionKind.PRESERVE in decision_actions(s, decision.id)
        assert s.scalar(select(Preservation.id).where(Preservation.decision_id == decision.id)) is not None
        assert s.scalar(select(ReviewCase.id).where(ReviewCase.item_id == item_id)) is not None
        with pytest.raises(InvalidInput, match="vault's port"):
            enforcement.add_action(s, decision, s.get(Item, item_id), ActionKind.PRESERVE, automated=True)


def decision_actions(session: Session, decision_id: int) -> set[str]:
    return set(session.scalars(select(Action.kind).where(Action.decision_id == decision_id)))
