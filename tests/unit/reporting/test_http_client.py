"""The real CyberTipline client: HTTPS only (plain http to loopback for the simulator), credentials
required, Basic auth on every call, and a clear line between "certainly not received" and "may have
been acted on" when no answer comes."""

from __future__ import annotations

import socket

import httpx
import pytest

from suraksha.errors import ConfigError
from suraksha.reporting.ports import HttpNcmecApi, NcmecUnreachable, api_from_settings
from suraksha.reporting.xml import answer_xml
from suraksha.settings import Settings


def test_only_https_or_loopback_http() -> None:
    with pytest.raises(ConfigError, match="https"):
        HttpNcmecApi("http://report.cybertip.org/ispws", "u", "p")
    with pytest.raises(ConfigError, match="credentials"):
        HttpNcmecApi("https://exttest.cybertip.org/ispws", "", "")
    HttpNcmecApi("http://127.0.0.1:1/ispws", "u", "p").close()
    HttpNcmecApi("http://[::1]:1/ispws", "u", "p").close()


def test_hosts_by_setting() -> None:
    creds = {"ncmec_username": "u", "ncmec_password": "p"}
    assert api_from_settings(Settings.load(creds)).label == "test"
    production = api_from_settings(Settings.load({**creds, "ncmec_environment": "production"}))
    assert production.label == "production"
    assert production.base_url == "https://report.cybertip.org/ispws"
    assert api_from_settings(Settings.load(creds)).base_url == "https://exttest.cybertip.org/ispws"


def test_requests_carry_basic_auth_and_the_documented_shapes() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=answer_xml(0, "", report_id=7, file_id="f", md5="0" * 32))

    api = HttpNcmecApi("https://ncmec.test/ispws", "esp", "pw", transport=httpx.MockTransport(handler))
    api.submit(b"<report/>")
    api.upload(7, "a.jpg", b"abc")
    api.finish(7)
    assert all(r.headers["authorization"].startswith("Basic ") for r in seen)
    assert [r.url.path for r in seen] == ["/ispws/submit", "/ispws/upload", "/ispws/finish"]
    assert seen[0].headers["content-type"].startswith("text/xml")
    assert seen[1].headers["content-type"].startswith("multipart/form-data")
    assert b'name="id"' in seen[1].content and b"abc" in seen[1].content
    assert seen[2].content == b"id=7"


def test_no_answer_is_classified() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    refused = HttpNcmecApi(f"http://127.0.0.1:{port}/ispws", "u", "p", timeout_s=2)
    with pytest.raises(NcmecUnreachable) as caught:
        refused.submit(b"<report/>")
    assert caught.value.sent is False

    def dropped(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("answer lost", request=request)

    lost = HttpNcmecApi("https://ncmec.test/ispws", "u", "p", transport=httpx.MockTransport(dropped))
    with pytest.raises(NcmecUnreachable) as caught:
        lost.finish(1)
    assert caught.value.sent is True

    def gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, content=b"<html>bad gateway</html>")

    bad = HttpNcmecApi("https://ncmec.test/ispws", "u", "p", transport=httpx.MockTransport(gateway))
    with pytest.raises(NcmecUnreachable, match="502"):
        bad.upload(1, "f", b"x")

    def unauthorised(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, content=b"")

    denied = HttpNcmecApi("https://ncmec.test/ispws", "u", "p", transport=httpx.MockTransport(unauthorised))
    assert denied.status().code == 2000

    def huge(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<reportResponse>" + b" " * (2 * 1024 * 1024))

    flood = HttpNcmecApi("https://ncmec.test/ispws", "u", "p", transport=httpx.MockTransport(huge))
    with pytest.raises(NcmecUnreachable, match="too large"):
        flood.status()


def test_secrets_do_not_show(capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings.load({"ncmec_username": "u", "ncmec_password": "hunter2-ncmec"})
    assert "hunter2-ncmec" not in repr(settings.ncmec_password)
    assert all("hunter2-ncmec" not in row["value"] for row in settings.describe())
