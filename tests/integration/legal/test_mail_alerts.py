"""Clock warnings by mail, against a real SMTP server on loopback (aiosmtpd): plain submission,
STARTTLS with the certificate checked and a password sent only over it, refusals that say what failed
and never the password, the settings that choose the port, and a warning end to end from the clock
job (fake clock) to the mailbox."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from suraksha.app import Platform
from suraksha.db import Database
from suraksha.errors import ConfigError, ExternalServiceError
from suraksha.legal import services as legal
from suraksha.legal.clocks import JurisdictionRules, RequestKind
from suraksha.legal.ports import ClockAlert, EveryAlerts, HttpAlerts, LogAlerts, MailAlerts, MailServer
from suraksha.legal.services import NewRequest
from suraksha.legal.tasks import check_clocks
from suraksha.settings import Settings

USER, PASSWORD = "desk-alerts", "s3cret-smtp-pass-771"
ALERT = ClockAlert(
    request_id=7,
    kind="removal_notice",
    jurisdiction="IN",
    reference="N-7/2026",
    step="act",
    level="warn:0.66",
    due_at="2026-03-01T12:00:00+00:00",
    remaining_s=3600,
    source="IT Rules r.3(1)(d): within three hours",
)


@dataclass
class Mailbox:
    """What the server took: each message with whether it came over TLS and who had logged in."""

    messages: list[tuple[Message, bool, Any]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        self.messages.append((parsed, session.ssl is not None, session.authenticated))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    good = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USER.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=good, handled=False)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@dataclass
class Smtp:
    port: int
    box: Mailbox
    trust: ssl.SSLContext


def _serve(ca: trustme.CA, **smtp: Any) -> Iterator[Smtp]:
    box = Mailbox()
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server_tls)
    port = _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port, tls_context=server_tls, **smtp)
    controller.start()
    trust = ssl.create_default_context()
    ca.configure_trust(trust)
    try:
        yield Smtp(port, box, trust)
    finally:
        controller.stop()


@pytest.fixture
def plain(ca: trustme.CA) -> Iterator[Smtp]:
    """A server that takes mail as it comes (a relay inside the organisation)."""
    yield from _serve(ca)


@pytest.fixture
def guarded(ca: trustme.CA) -> Iterator[Smtp]:
    """A submission server: STARTTLS first, then a user name and password."""
    yield from _serve(
        ca, require_starttls=True, auth_require_tls=True, auth_required=True, authenticator=_authenticator
    )


def mail(smtp: Smtp, **server: Any) -> MailAlerts:
    trust = server.pop("trust", smtp.trust)
    return MailAlerts(
        MailServer("127.0.0.1", smtp.port, **server),
        sender="suraksha@example.org",
        to=["legal@example.org", "oncall@example.org"],
        tls=trust,
        desk_url="https://suraksha.example.org/",
    )


def test_a_warning_is_mailed_with_what_the_desk_needs(plain: Smtp) -> None:
    mail(plain, starttls=False).send(ALERT)
    [(message, over_tls, _)] = plain.box.messages
    assert not over_tls
    assert message["From"] == "suraksha@example.org"
    assert message["To"] == "legal@example.org, oncall@example.org"
    subject = str(message["Subject"])
    assert "request #7" in subject and "N-7/2026" in subject and "66% of its time gone" in subject
    body = message.get_payload(decode=True).decode()
    assert "IT Rules r.3(1)(d)" in body and "1 h 0 min left" in body
    assert "https://suraksha.example.org/console/legal/7" in body
    overdue = ClockAlert(**{**ALERT.data(), "level": "overdue", "remaining_s": -5400})  # type: ignore[arg-type]
    mail(plain, starttls=False).send(overdue)
    late = plain.box.messages[-1][0]
    assert str(late["Subject"]).startswith("[legal desk] OVERDUE")
    assert "overdue by 1 h 30 min" in late.get_payload(decode=True).decode()


def test_starttls_then_the_password(guarded: Smtp) -> None:
    mail(guarded, user=USER, password=PASSWORD).send(ALERT)
    [(message, over_tls, auth)] = guarded.box.messages
    assert over_tls and auth is True and "request #7" in str(message["Subject"])


def test_refusals_say_what_failed_and_never_the_password(guarded: Smtp, plain: Smtp) -> None:
    with pytest.raises(ExternalServiceError) as wrong:
        mail(guarded, user=USER, password="not-the-password").send(ALERT)
    assert "SMTPAuthenticationError 535" in str(wrong.value) and "not-the-password" not in str(wrong.value)
    with pytest.raises(ExternalServiceError) as no_tls:  # the server insists on STARTTLS
        mail(guarded, starttls=False).send(ALERT)
    assert "legal alert mail failed" in str(no_tls.value)
    with pytest.raises(ExternalServiceError) as untrusted:  # a certificate nobody vouches for
        mail(guarded, user=USER, password=PASSWORD, trust=ssl.create_default_context()).send(ALERT)
    assert "SSLCertVerificationError" in str(untrusted.value)
    assert guarded.box.messages == []
    with pytest.raises(ValueError, match="only sent over STARTTLS"):
        mail(plain, starttls=False, user=USER, password=PASSWORD)
    assert PASSWORD not in repr(MailServer("h", user=USER, password=PASSWORD))
    closed = MailAlerts(MailServer("127.0.0.1", _free_port(), starttls=False), sender="a@b.c", to=["d@e.f"])
    with pytest.raises(ExternalServiceError, match="ConnectionRefusedError"):
        closed.send(ALERT)


def test_the_clock_job_mails_each_warning_once(db: Database, plain: Smtp) -> None:
    rules = JurisdictionRules.load()
    received = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with db.session() as session:
        new = NewRequest(
            kind=RequestKind.REMOVAL_NOTICE, jurisdiction="IN", received_at=received, reference="N-1"
        )
        legal.receive(session, rules, new, actor="legal", now=received)
    alerts = mail(plain, starttls=False)
    for hours in (0.5, 1.0, 1.5, 3.5, 4.0):
        with db.session() as session:
            check_clocks(session, rules, alerts, now=received + timedelta(hours=hours))
    subjects = [str(m["Subject"]) for m, _, _ in plain.box.messages]
    assert [s.split(":")[0] for s in subjects] == [
        "[legal desk] 33% of its time gone",
        "[legal desk] 66% of its time gone",
        "[legal desk] OVERDUE",
    ]
    assert all("request #1 N-1" in s for s in subjects)


def _settings(tmp_path: Path, **values: Any) -> Settings:
    (tmp_path / "none.toml").touch()
    return Settings.load(
        {"data_dir": str(tmp_path), **values}, environ={}, config_file=tmp_path / "none.toml"
    )


MAIL = {
    "legal_alert_smtp_host": "127.0.0.1",
    "legal_alert_mail_from": "suraksha@example.org",
    "legal_alert_mail_to": "legal@example.org, oncall@example.org",
}


def test_settings_choose_the_ports(tmp_path: Path) -> None:
    assert isinstance(Platform(_settings(tmp_path)).legal_alerts, LogAlerts)
    assert isinstance(Platform(_settings(tmp_path, **MAIL)).legal_alerts, MailAlerts)
    both = Platform(
        _settings(
            tmp_path, **MAIL, legal_alert_url="https://paging.example.org/hook", webhook_secrets="k" * 32
        )
    ).legal_alerts
    assert isinstance(both, EveryAlerts)
    assert {type(p) for p in both._ports} == {HttpAlerts, MailAlerts}


def test_the_password_comes_from_the_environment_only(tmp_path: Path) -> None:
    (tmp_path / "none.toml").touch()
    env = {"SURAKSHA_LEGAL_ALERT_SMTP_PASSWORD": PASSWORD, "SURAKSHA_LEGAL_ALERT_SMTP_USER": USER}
    loaded = Settings.load(
        {"data_dir": str(tmp_path), **MAIL}, environ=env, config_file=tmp_path / "none.toml"
    )
    assert loaded.legal_alert_smtp_password is not None
    assert loaded.legal_alert_smtp_password.reveal() == PASSWORD
    assert PASSWORD not in repr(loaded.legal_alert_smtp_password)
    assert PASSWORD not in str(loaded.describe())
    config = tmp_path / "suraksha.toml"
    config.write_text(f'legal_alert_smtp_password = "{PASSWORD}"\n')
    with pytest.raises(ConfigError, match="environment only"):
        Settings.load(environ={}, config_file=config)
    with pytest.raises(ConfigError, match="legal_alert_mail_to"):
        _settings(tmp_path, **{**MAIL, "legal_alert_mail_to": "not an address"})
    with pytest.raises(ConfigError, match="never goes in plain text"):
        _settings(tmp_path, **MAIL, legal_alert_smtp_user=USER, legal_alert_smtp_starttls=False)
