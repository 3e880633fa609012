"""The CyberTipline simulator speaks the documented protocol: Basic auth, XSD validation, ids, the
flow order and its response codes, expiry of unfinished reports, and failures on demand."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from suraksha.reporting.contents import ReportContent, ReportedFile, ReportedUser, Reporter
from suraksha.reporting.simulator import NcmecSimulator, SimClock, simulator_from_xsd
from suraksha.reporting.xml import NcmecAnswer, file_details_xml, parse_answer, report_xml
from suraksha.web.ncmec_sim import create_simulator_app

AUTH = {"Authorization": "Basic " + base64.b64encode(b"esp:secret-pw").decode()}
REPORT = report_xml(
    ReportContent(
        incident_at=datetime(2026, 11, 24, tzinfo=UTC),
        reporter=Reporter(email="t@example.org"),
        user=ReportedUser(esp_identifier="acct"),
        files=(),
    )
)


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


@pytest.fixture
def simulator(xsd_path: Path, clock: SimClock) -> NcmecSimulator:
    return simulator_from_xsd(xsd_path, username="esp", password="secret-pw", clock=clock)


@pytest.fixture
def client(simulator: NcmecSimulator, clock: SimClock) -> Iterator[TestClient]:
    with TestClient(create_simulator_app(simulator, clock=clock)) as client:
        client.headers.update(AUTH)
        yield client


def answer(response: object) -> NcmecAnswer:
    return parse_answer(response.content)  # type: ignore[attr-defined]


def submit(client: TestClient) -> int:
    reply = answer(client.post("/ispws/submit", content=REPORT))
    assert reply.ok and reply.report_id is not None
    return reply.report_id


def upload(client: TestClient, report_id: int, data: bytes = b"benign bytes") -> NcmecAnswer:
    return answer(client.post("/ispws/upload", data={"id": str(report_id)}, files={"file": ("f.bin", data)}))


def test_credentials_are_required(client: TestClient) -> None:
    for headers in (
        {"Authorization": ""},
        {"Authorization": "Basic " + base64.b64encode(b"esp:nope").decode()},
    ):
        response = client.get("/ispws/status", headers=headers)
        assert response.status_code == 401 and answer(response).code == 2000
    assert answer(client.get("/ispws/status")).ok
    assert client.get("/_sim/state", headers={"Authorization": ""}).status_code == 401


def test_the_documented_flow_and_its_codes(client: TestClient, simulator: NcmecSimulator) -> None:
    assert answer(client.post("/ispws/submit", content=b"<report/>")).code == 4100
    assert answer(client.post("/ispws/submit", content=b"<report")).code == 4100
    assert upload(client, 999).code == 5001  # never opened
    first, second = submit(client), submit(client)
    assert second == first + 1
    uploaded = upload(client, first, b"abc")
    assert uploaded.ok and uploaded.md5 == "900150983cd24fb0d6963f7d28e17f72" and uploaded.file_id
    details = file_details_xml(first, uploaded.file_id, ReportedFile(key=1, sha256="a" * 64))
    assert answer(client.post("/ispws/fileinfo", content=details)).ok
    assert answer(client.post("/ispws/fileinfo", content=details)).ok  # a repeat replaces the details
    foreign = file_details_xml(second, uploaded.file_id, ReportedFile(key=1, sha256="a" * 64))
    assert answer(client.post("/ispws/fileinfo", content=foreign)).code == 4100
    done = answer(client.post("/ispws/finish", data={"id": str(first)}))
    assert done.ok and done.file_ids == (uploaded.file_id,)
    assert answer(client.post("/ispws/finish", data={"id": str(first)})).code == 5102
    assert answer(client.post("/ispws/retract", data={"id": str(first)})).code == 5102
    assert upload(client, first).code == 5102
    assert answer(client.post("/ispws/retract", data={"id": str(second)})).ok
    assert answer(client.post("/ispws/finish", data={"id": str(second)})).code == 5001
    assert answer(client.post("/ispws/finish", data={"id": "x"})).code == 4100
    assert answer(client.post("/ispws/finish", data={})).code == 4100
    assert client.get("/ispws/xsd").content == simulator.xsd_bytes
    state = client.get("/_sim/state").json()
    assert list(state["finished"]) == [str(first)] and state["open"] == []


def test_unfinished_reports_expire(client: TestClient, clock: SimClock, simulator: NcmecSimulator) -> None:
    report_id = submit(client)
    clock.advance(23 * 3600)
    assert upload(client, report_id).ok  # a change: the 1 h clock restarts, the 24 h one keeps running
    clock.advance(3000)
    assert upload(client, report_id).ok  # 23 h 50 min after opening, 50 min after the last change
    clock.advance(3599)
    assert upload(client, report_id).ok  # past 24 h from opening, but within 1 h of the last change
    assert client.post("/_sim/clock", json={"advance_s": 3601}).status_code == 204
    assert upload(client, report_id).code == 5001
    assert simulator.counters.expired == 1


def test_failures_on_demand(client: TestClient, simulator: NcmecSimulator) -> None:
    assert client.post("/_sim/fail", json={"step": "submit", "code": 1000, "times": 2}).status_code == 204
    assert answer(client.post("/ispws/submit", content=REPORT)).code == 1000
    assert answer(client.post("/ispws/submit", content=REPORT)).code == 1000
    report_id = submit(client)
    simulator.fail("upload", lost=True)
    lost = client.post("/ispws/upload", data={"id": str(report_id)}, files={"file": ("f", b"x")})
    assert lost.status_code == 502 and b"reportResponse" not in lost.content
    assert len(simulator.open[report_id].files) == 1  # it acted; only the answer was lost
    assert client.post("/_sim/fail", json={"step": "nope"}).status_code == 400
    client.post("/_sim/fail", json={"step": "finish", "code": 1000})
    assert client.delete("/_sim/fail").status_code == 204
    assert answer(client.post("/ispws/finish", data={"id": str(report_id)})).ok
