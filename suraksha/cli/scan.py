"""``suraksha scan`` (folders against banks) and ``suraksha match`` (one hash or file)."""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from suraksha.banks.index import BankIndex
from suraksha.banks.matching import MatchOutcome
from suraksha.cli.common import err, fail, out, platform, print_json, scan_exit_code
from suraksha.cli.pool import hash_files
from suraksha.signals.file_signals import FileSignals, HashState, hash_path
from suraksha.signals.pdq import PdqHash
from suraksha.signals.types import SignalKind, validate_signal

BANK = typer.Option([], "--bank", "-b", help="Match only these block banks (repeatable; default: all).")


def parse_fps(raw: str | None) -> float | None:
    """'all' -> 0 (every frame); a positive number -> that rate; None -> the setting."""
    if raw is None:
        return None
    if raw.strip().lower() == "all":
        return 0.0
    try:
        fps = float(raw)
    except ValueError:
        raise fail(f"--video-fps {raw!r}: give a number of frames per second, or 'all'") from None
    if fps <= 0:
        raise fail("--video-fps must be positive (or 'all' for every frame)")
    return fps


def walk(paths: list[Path]) -> Iterator[Path]:
    """Files under the given paths, in a stable order; symlinked folders are not followed (no loops)."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    yield Path(root) / name
        elif path.exists():
            yield path
        else:
            raise fail(f"{path} does not exist")


def scan_command(
    paths: list[Path] = typer.Argument(..., help="Files or folders to scan."),
    bank: list[str] = BANK,
    json_out: bool = typer.Option(False, "--json", help="One JSON object a file, then a summary object."),
    workers: int = typer.Option(
        os.cpu_count() or 1, "--workers", "-w", help="Hashing processes (0: in-process)."
    ),
    fast: bool = typer.Option(False, "--fast", help="Fast PDQ: luminance straight from the JPEG decoder."),
    rotations: bool = typer.Option(False, "--rotations", help="Also match the 8 rotations and flips."),
    video_fps: str | None = typer.Option(None, "--video-fps", help="Video frames per second, or 'all'."),
) -> None:
    """Scan files and folders against the banks.

    Exit code: 0 every file fully checked and no match; 1 a match (every file fully checked); 2 some file
    not fully checked (could not be decoded, broke a limit, timed out, or too flat for PDQ: its MD5 and
    SHA-256 were still matched) and no match; 3 a match AND some file not fully checked. An unchecked
    file is never reported as clean.
    """
    with platform() as p, _following(p.matcher(bank or None)) as matcher:
        options = p.hash_options(fast=fast or None, video_fps=parse_fps(video_fps))
        files = list(walk(paths))
        started = time.perf_counter()
        states: Counter[str] = Counter()
        matched_files = 0
        table = Table("bank", "entry", "type", "distance", "category")
        table.add_column("file", overflow="fold", ratio=1)
        notes: list[str] = []
        show_progress = not json_out and sys.stderr.isatty()
        with Progress(
            TextColumn("scanning"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            disable=not show_progress,
            transient=True,
        ) as progress:
            task = progress.add_task("scan", total=len(files))
            for signals in hash_files(files, options, workers):
                progress.advance(task)
                outcome = matcher.match(signals, rotations=rotations)
                states[signals.state.value] += 1
                matched_files += bool(outcome.hits)
                if json_out:
                    print_json(_file_result(signals, outcome))
                for hit in outcome.hits:
                    distance = "" if hit.distance is None else str(hit.distance)
                    if hit.query_match_percent is not None:
                        distance = f"{hit.query_match_percent:g}% / {hit.target_match_percent:g}%"
                    table.add_row(
                        hit.bank,
                        str(hit.entry_id),
                        hit.signal_type,
                        distance,
                        hit.category,
                        str(signals.path),
                    )
                if outcome.suppressed and not outcome.hits:
                    banks = ", ".join(sorted({h.bank for h in outcome.allowed_by}))
                    notes.append(f"suppressed by allow list {banks}: {signals.path}")
                if signals.state is HashState.LOW_QUALITY:
                    notes.append(f"low quality (digests checked, PDQ not matchable): {signals.path}")
                if not json_out and signals.error:
                    err.print(f"[yellow]{signals.state.value}:[/yellow] {signals.path}: {signals.error}")
        elapsed = time.perf_counter() - started
        errors = sum(n for s, n in states.items() if s not in (HashState.HASHED, HashState.LOW_QUALITY))
        summary = {
            "files": len(files),
            "matched_files": matched_files,
            "states": dict(states),
            "errors": errors,
            "not_fully_checked": errors + states.get(HashState.LOW_QUALITY, 0),
            "seconds": round(elapsed, 3),
            "files_per_second": round(len(files) / elapsed, 2) if elapsed > 0 else None,
            "banks": bank or "all",
            "entries": matcher.entry_count,
            "pdq_mode": options.mode.value,
        }
        if json_out:
            print_json({"summary": summary})
        else:
            if table.row_count:
                out.print(table)
            for note in notes:
                out.print(note)
            out.print(
                f"{len(files)} files, {matched_files} matched, "
                f"{states.get(HashState.LOW_QUALITY, 0)} low quality (PDQ not matchable; digests checked), "
                f"{errors} could not be checked, {elapsed:.1f} s"
            )
        unchecked = bool(errors or states.get(HashState.LOW_QUALITY, 0))
        raise typer.Exit(scan_exit_code(matched=bool(matched_files), unchecked=unchecked))


def _file_result(signals: FileSignals, outcome: MatchOutcome) -> dict[str, object]:
    return {
        **signals.as_dict(),
        "matches": [h.as_dict() for h in outcome.hits],
        "suppressed": [h.as_dict() for h in outcome.suppressed],
        "allowed_by": [h.as_dict() for h in outcome.allowed_by],
    }


def match_command(
    pdq: str | None = typer.Option(None, "--pdq", help="A PDQ hash (64 hex digits)."),
    md5: str | None = typer.Option(None, "--md5", help="An MD5 (32 hex digits)."),
    sha256: str | None = typer.Option(None, "--sha256", help="A SHA-256 (64 hex digits)."),
    file: Path | None = typer.Option(
        None, "--file", exists=True, dir_okay=False, help="A file to hash and match."
    ),
    bank: list[str] = BANK,
    rotations: bool = typer.Option(False, "--rotations", help="Also match the 8 rotations and flips."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Match one hash or one file against the banks. Exit codes as `scan`: 0 no match, 1 a match, 2 not
    fully checked (not decoded, or too flat for PDQ) and no match, 3 a match but not fully checked."""
    given = [v for v in (pdq, md5, sha256, file) if v is not None]
    if len(given) != 1:
        raise fail("give exactly one of --pdq, --md5, --sha256 or --file")
    with platform() as p:
        matcher = p.matcher(bank or None)
        if file is not None:
            signals = hash_path(file, p.hash_options())
        else:
            signals = FileSignals(path=None, size=0)
            try:
                if pdq is not None:
                    signals.pdq = PdqHash.from_hex(validate_signal(SignalKind.PDQ, pdq), quality=100)
                elif md5 is not None:
                    signals.md5 = validate_signal(SignalKind.MD5, md5)
                elif sha256 is not None:
                    signals.sha256 = validate_signal(SignalKind.SHA256, sha256)
            except ValueError as exc:
                raise fail(str(exc)) from None
        outcome = matcher.match(signals, rotations=rotations)
        if json_out:
            print_json(_file_result(signals, outcome))
        else:
            if signals.error:
                err.print(f"[yellow]{signals.state.value}:[/yellow] {signals.error}")
            for hit in outcome.hits:
                out.print(
                    f"match: bank {hit.bank} entry {hit.entry_id} {hit.signal_type} distance {hit.distance}"
                    + (f" ({hit.rotation})" if hit.rotation else "")
                )
            for hit in outcome.suppressed:
                out.print(f"suppressed by an allow list: bank {hit.bank} entry {hit.entry_id}")
            if signals.state is HashState.LOW_QUALITY:
                out.print("low quality: too flat for PDQ to match; MD5 and SHA-256 were checked")
            if not outcome.hits:
                out.print("no match" if not signals.error else "could not be checked")
        unchecked = bool(signals.error) or signals.state is HashState.LOW_QUALITY
        code = scan_exit_code(matched=bool(outcome.hits), unchecked=unchecked)
        if code:
            raise typer.Exit(code)


@contextmanager
def _following(index: BankIndex) -> Iterator[BankIndex]:
    """The index following the bank change feed for as long as the scan runs: a scan of a large folder
    keeps up with the banks as they change, and an index no longer refreshed refuses to answer once
    ``index_stale_after_s`` has passed (a scan that took longer than that failed with "stale")."""
    index.follow()
    try:
        yield index
    finally:
        index.close()
