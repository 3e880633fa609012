"""The command line, end to end, on a real SQLite database and benign synthetic media."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from typer.testing import CliRunner

from suraksha.banks.models import BankEntry
from suraksha.cli import pool
from suraksha.cli import scan as scan_module
from suraksha.cli.main import app
from suraksha.media.limits import MediaLimits
from suraksha.signals.file_signals import FileSignals, HashOptions, HashState
from suraksha.testing.synthetic import encode, synthetic_image, write_synthetic_video

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def json_lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


@pytest.fixture
def media(tmp_path: Path) -> dict[str, Path]:
    known = tmp_path / "known"
    uploads = tmp_path / "uploads"
    known.mkdir()
    uploads.mkdir()
    (known / "a.jpg").write_bytes(encode(synthetic_image(1), "JPEG", quality=95))
    (known / "b.jpg").write_bytes(encode(synthetic_image(2), "JPEG", quality=95))
    (uploads / "a-small.jpg").write_bytes(encode(synthetic_image(1).resize((320, 240)), "JPEG", quality=70))
    (uploads / "b-rotated.png").write_bytes(
        encode(synthetic_image(2).transpose(Image.Transpose.ROTATE_90), "PNG")
    )
    (uploads / "other.jpg").write_bytes(encode(synthetic_image(3), "JPEG"))
    return {"known": known, "uploads": uploads}


def test_bank_lifecycle_and_scan(media: dict[str, Path]) -> None:
    assert run("bank", "create", "known", "--category", "csam")[0] == 0
    code, output = run("bank", "add", "known", str(media["known"] / "a.jpg"), str(media["known"] / "b.jpg"))
    assert code == 0 and "4 added" in output
    code, output = run("bank", "list", "--json")
    [bank] = json.loads(output)
    assert bank["entries"] == 4 and bank["category"] == "csam"

    code, output = run("scan", str(media["uploads"]), "--json", "--workers", "0")
    assert code == 1
    results = {Path(str(r["path"])).name: r for r in json_lines(output) if "path" in r}
    assert results["a-small.jpg"]["matches"]
    assert not results["b-rotated.png"]["matches"]
    assert not results["other.jpg"]["matches"]
    summary = json_lines(output)[-1]["summary"]
    assert isinstance(summary, dict) and summary["matched_files"] == 1

    code, output = run("scan", str(media["uploads"]), "--json", "--rotations", "--workers", "2")
    assert code == 1
    results = {Path(str(r["path"])).name: r for r in json_lines(output) if "path" in r}
    [hit] = results["b-rotated.png"]["matches"]  # type: ignore[misc]
    assert hit["rotation"] != "original"


def test_scan_without_match_exits_zero_and_errors_exit_two(media: dict[str, Path], tmp_path: Path) -> None:
    run("bank", "create", "empty")
    assert run("scan", str(media["uploads"]), "--workers", "0")[0] == 0
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "cut.jpg").write_bytes(encode(synthetic_image(9), "JPEG")[:500])
    (broken / "notes.txt").write_text("hello")
    code, output = run("scan", str(broken), "--json", "--workers", "0")
    assert code == 2
    states = sorted(str(r["state"]) for r in json_lines(output) if "path" in r)
    assert states == ["corrupt", "unsupported"]


def test_scan_exit_codes_never_hide_an_unchecked_file(media: dict[str, Path], tmp_path: Path) -> None:
    """0 only when every file was fully checked; a flat (low-quality) file is not fully checked; a match
    beside an unchecked file says both (3)."""
    run("bank", "create", "known", "--category", "csam")
    run("bank", "add", "known", str(media["known"] / "a.jpg"))
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "flat.png").write_bytes(encode(Image.new("RGB", (300, 200), (90, 120, 160)), "PNG"))
    code, output = run("scan", str(flat), "--workers", "0")
    assert code == 2, output
    assert run("match", "--file", str(flat / "flat.png"))[0] == 2
    (media["uploads"] / "cut.jpg").write_bytes(encode(synthetic_image(9), "JPEG")[:500])
    code, output = run("scan", str(media["uploads"]), "--json", "--workers", "0")
    assert code == 3, output
    summary = json_lines(output)[-1]["summary"]
    assert isinstance(summary, dict) and summary["matched_files"] == 1 and summary["not_fully_checked"] == 1
    (media["uploads"] / "cut.jpg").unlink()
    assert run("scan", str(media["uploads"]), "--workers", "0")[0] == 1


def test_md5_matches_even_when_decoding_fails(tmp_path: Path) -> None:
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(encode(synthetic_image(9), "JPEG")[:500])
    run("bank", "create", "exact")
    code, output = run("hash", str(cut), "--json")
    md5 = json_lines(output)[0]["md5"]
    assert run("bank", "add", "exact", "--signal", f"md5:{md5}")[0] == 0
    code, output = run("match", "--file", str(cut), "--json")
    assert code == 3 and json_lines(output)[0]["matches"]  # matched by MD5, but never decoded


def test_import_reports_bad_lines_and_changes_nothing(tmp_path: Path) -> None:
    run("bank", "create", "b")
    bad = tmp_path / "list.csv"
    bad.write_text("signal_type,signal\nmd5,00112233445566778899aabbccddeeff\nmd5,nope\n")
    code, output = run("bank", "import", "b", str(bad), "--json")
    assert code == 2
    result = json.loads(output)
    assert result["rejected"][0]["line"] == 3 and result["committed"] is False
    assert json.loads(run("bank", "show", "b", "--json")[1])["entries"] == 0
    assert run("bank", "import", "b", str(bad), "--skip-invalid")[0] == 0
    assert json.loads(run("bank", "show", "b", "--json")[1])["entries"] == 1


def test_match_by_value_and_bad_values() -> None:
    run("bank", "create", "b")
    md5 = "00112233445566778899aabbccddeeff"
    run("bank", "add", "b", "--signal", f"md5:{md5}")
    assert run("match", "--md5", md5)[0] == 1
    assert run("match", "--md5", "ffffffffffffffffffffffffffffffff")[0] == 0
    code, _ = run("match", "--md5", "xyz")
    assert code == 2
    assert run("match")[0] == 2
    assert run("scan", "/nonexistent/folder")[0] == 2
    assert run("bank", "show", "missing")[0] == 2


def test_hash_json_shape(tmp_path: Path) -> None:
    path = tmp_path / "x.jpg"
    path.write_bytes(encode(synthetic_image(5), "JPEG"))
    code, output = run("hash", str(path), "--json")
    [record] = json_lines(output)
    assert code == 0
    assert set(record) >= {
        "path",
        "media_type",
        "md5",
        "sha256",
        "pdq",
        "pdq_quality",
        "vpdq_frames",
        "error",
    }
    assert record["media_type"] == "image/jpeg" and len(str(record["pdq"])) == 64


def _slow_for_one(path: str, options: HashOptions) -> FileSignals:
    if path.endswith("slow.jpg"):
        time.sleep(30)
    return FileSignals(path=path, size=1, state=HashState.HASHED)


def test_pool_kills_a_file_past_its_time_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "_hash_one", _slow_for_one)  # inherited by the forked workers
    monkeypatch.setattr(pool, "GRACE_S", 0.0)
    paths = [tmp_path / f"{name}.jpg" for name in ("a", "slow", "b", "c")]
    options = HashOptions(limits=MediaLimits(decode_timeout_s=1.0))
    started = time.monotonic()
    results = {Path(str(r.path)).name: r.state for r in pool.hash_files(paths, options, workers=2)}
    assert results == {"a.jpg": "hashed", "slow.jpg": "timed_out", "b.jpg": "hashed", "c.jpg": "hashed"}
    assert time.monotonic() - started < 15


def test_pool_hashes_videos_after_this_process_converted_frames(tmp_path: Path) -> None:
    """PyAV keeps one frame converter per thread, with FFmpeg slice threads a fork does not copy: a
    worker forked after its parent had converted a frame (written or hashed a video, as the demo does)
    waited forever on the first frame of its own video, and the scan said "timed out"."""
    clips = [write_synthetic_video(tmp_path / f"clip-{seed}.mp4", seed=seed) for seed in (107, 108)]
    options = HashOptions(limits=MediaLimits(decode_timeout_s=20.0))
    assert pool._hash_one(str(clips[0]), options).state == HashState.HASHED  # this process converts too
    results = {Path(str(r.path)).name: r.state for r in pool.hash_files(clips * 2, options, workers=2)}
    assert results == {"clip-107.mp4": "hashed", "clip-108.mp4": "hashed"}


def test_demo_runs_and_finds_what_it_planted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, output = run("demo", "--dir", str(tmp_path / "demo"), "--no-serve")
    assert code == 0, output
    assert "4 matched" in output
    assert output.count("violation") == 4 and "review" in output  # the racket's posts, through the pipeline
    # the account graph finds the whole racket (100 accounts) among 3,000 ordinary ones
    assert "1 suspected racket(s)" in output and ": 100 accounts, score" in output
    # the exchange step: the NCMEC stand-in lists 20 made-up hashes and the 6 pictures' PDQ hashes
    assert "exchange demo-ncmec -> bank demo-exchange: done" in output and "26 added" in output
    monkeypatch.setenv("SURAKSHA_DATABASE_URL", f"sqlite:///{tmp_path / 'demo' / 'demo.sqlite3'}")
    code, output = run("scan", str(tmp_path / "demo" / "uploads"), "--json", "--rotations", "--workers", "0")
    results = {Path(str(r["path"])).name: r for r in json_lines(output) if "path" in r}
    matched = {name for name, r in results.items() if r["matches"]}
    assert matched == {"repost-resized.jpg", "repost-greyscale.png", "repost-rotated.webp", "clip-copy.mp4"}
    assert results["allow-listed.jpg"]["suppressed"]
    assert results["broken.jpg"]["state"] == "corrupt"
    assert results["flat.png"]["state"] == "low_quality"
    monkeypatch.setenv("SURAKSHA_DATA_DIR", str(tmp_path / "demo"))
    code, output = run("vault", "list", "--json")  # the racket's evidence, preserved under demo-only keys
    # the racket's four matched posts, then all eight of its posts for the police's request (legal replay)
    assert code == 0 and [p["state"] for p in json.loads(output)] == ["preserved"] * 12
    # the child-rights NGO's notice: two posts held, one fetched from the platform's stand-in, in review
    code, output = run("flaggers", "notices", "demo-child-rights", "--json")
    (notice,) = json.loads(output)
    assert [(t["state"], t["detail"]) for t in notice["targets"]] == [
        ("in_review", "held here"),
        ("in_review", "held here"),
        ("in_review", "fetched from the platform"),
    ]
    code, output = run("appeals", "list", "--json")  # the wrongly removed post, appealed and reversed
    assert code == 0 and [(a["appeal_id"], a["outcome"]) for a in json.loads(output)] == [
        ("demo-appeal-1", "reversed")
    ]
    code, output = run("appeals", "rates", "--json", "--no-flag")
    rates = {(r["dimension"], r["key"]): r for r in json.loads(output)}
    assert rates["rule", "rule:default/pay-via-upi"]["reversed"] == 1
    assert rates["policy", "policy strict-rules-1"]["rate"] == 1.0


def test_after_the_demo_the_readme_commands_reach_its_data() -> None:
    """With no --dir the demo seeds the default data dir when it is empty, so `suraksha bank list` and
    the rest of the README work on the demo's data as written; a second demo replaces the first."""
    code, output = run("demo", "--no-serve")
    assert code == 0, output
    banks = {b["name"] for b in json.loads(run("bank", "list", "--json")[1])}
    assert banks == {"demo-known-bad", "demo-allow", "demo-exchange"}  # the last: the exchange's
    assert run("demo", "--no-serve")[0] == 0
    assert len(json.loads(run("bank", "list", "--json")[1])) == 3


def test_the_demo_never_touches_a_data_dir_with_real_data(tmp_path: Path) -> None:
    assert run("bank", "create", "real-list")[0] == 0
    code, output = run("demo", "--no-serve")
    assert code == 0, output
    assert "export SURAKSHA_DATA_DIR=" in output
    assert [b["name"] for b in json.loads(run("bank", "list", "--json")[1])] == ["real-list"]


def test_kill_switches_from_the_command_line() -> None:
    code, output = run("switch", "on", "pause_delivery", "--reason", "platform maintenance")
    assert code == 0 and "ON" in output
    code, output = run("switch", "list", "--json")
    switches = {row["switch"]: row for row in json.loads(output)}
    assert switches["pause_delivery"]["on"] and switches["pause_delivery"]["reason"] == "platform maintenance"
    assert switches["pause_delivery"]["by"].startswith("cli:")
    assert not switches["read_only"]["on"]
    assert run("switch", "off", "pause_delivery")[0] == 0
    assert not {r["switch"]: r for r in json.loads(run("switch", "list", "--json")[1])}["pause_delivery"][
        "on"
    ]
    assert run("switch", "on", "no_such_switch", "--reason", "x")[0] == 2


def test_serve_refuses_to_start_without_the_vault_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Uploaded media is sealed at rest under the vault's key: a service without one could take no item
    with media, so it says so at start, not at the first upload."""
    assert run("apikey", "create", "platform", "--role", "ingest")[0] == 0
    monkeypatch.delenv("SURAKSHA_VAULT_KEK")
    code, output = run("serve", "--port", "8999")
    assert code == 2 and "SURAKSHA_VAULT_KEK is not set" in output and "vault keygen" in output


def test_every_bank_change_on_the_command_line_is_audited_as_in_the_console() -> None:
    """One operation, one audit row, whoever makes the change (Platform.bank_*)."""
    import getpass

    from sqlalchemy import select

    from suraksha.app import Platform
    from suraksha.audit import AuditEvent

    assert run("bank", "create", "list-a")[0] == 0
    assert run("bank", "add", "list-a", "--signal", "md5:00112233445566778899aabbccddeeff")[0] == 0
    entry = json.loads(run("bank", "show", "list-a", "--json")[1])
    assert entry["entries"] == 1
    platform = Platform()
    try:
        with platform.db.reading() as session:
            [entry_id] = session.scalars(select(BankEntry.id)).all()
        assert run("bank", "entry-disable", str(entry_id), "--reason", "checked: benign")[0] == 0
        assert run("bank", "entry-enable", str(entry_id))[0] == 0
        assert run("bank", "disable", "list-a")[0] == 0
        with platform.db.reading() as session:
            rows = session.scalars(select(AuditEvent).where(AuditEvent.action == "bank:change")).all()
            changes = [(r.actor, r.subject, json.loads(r.details)["change"]) for r in rows]
    finally:
        platform.close()
    me = f"cli:{getpass.getuser()}"
    assert changes == [
        (me, "bank:list-a", "bank.create"),
        (me, "bank:list-a", "entry.add"),
        (me, "bank:list-a", "entry.disable"),
        (me, "bank:list-a", "entry.enable"),
        (me, "bank:list-a", "bank.disable"),
    ]


def test_a_scan_longer_than_the_staleness_limit_keeps_its_index_fresh(
    media: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan's index follows the change feed while the scan runs: one that outlasted
    index_stale_after_s answered "the match index is stale" for the rest of its files."""
    assert run("bank", "create", "known", "--category", "csam")[0] == 0
    assert run("bank", "add", "known", str(media["known"] / "a.jpg"))[0] == 0
    monkeypatch.setenv("SURAKSHA_INDEX_STALE_AFTER_S", "1.5")
    hash_files = scan_module.hash_files

    def slow(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for signals in hash_files(*args, **kwargs):
            time.sleep(1.2)  # three files: 3.6 s in all, past the limit
            yield signals

    monkeypatch.setattr(scan_module, "hash_files", slow)
    code, output = run("scan", str(media["uploads"]), "--json", "--workers", "0")
    assert code == 1, output
    summary = json_lines(output)[-1]["summary"]
    assert isinstance(summary, dict) and summary["files"] == 3 and summary["matched_files"] == 1
