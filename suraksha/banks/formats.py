"""Hash-list file formats: CSV, plain lists, and the vPDQ frame list.

- CSV: a header naming at least ``signal_type`` and ``signal`` (python-threatexchange / HMA's columns);
  optional ``quality``, ``note``, ``source_ref``. Other columns are ignored and reported once.
- Plain: one hash a line (blank lines and ``#`` comments skipped). The type is detected per line:
  32 hex digits are MD5; 64 hex digits are PDQ or SHA-256, which the text alone cannot tell apart, so the
  file is taken as PDQ only when it looks like one (every hash has at most 128 bits set and nine in ten
  exactly 128, as PDQ's median threshold makes them) and otherwise needs ``--signal-type``.
- vPDQ: the reference frame list, ``frame_number,quality,pdq_hex,timestamp_seconds`` a line; one file
  is one video entry.

Parsing never touches the database: it yields ``ParsedRow`` or ``RejectedRow`` with line numbers, and the
service decides what is atomic.
"""

from __future__ import annotations

import csv
import io
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from suraksha.errors import InvalidInput
from suraksha.signals.types import SignalKind, validate_signal

HEX_RE = re.compile(r"^[0-9a-fA-F]+$")
MAX_LINE_CHARS = 4_000_000  # a vPDQ value of 40k frames in one CSV cell, and no more
READ_CHUNK_BYTES = 1024 * 1024


class ListFormat(StrEnum):
    CSV = "csv"
    PLAIN = "plain"
    VPDQ = "vpdq"


def read_hash_list(path: Path, max_bytes: int) -> str:
    """The text of a hash-list file, read at most ``max_bytes`` (setting ``import_max_bytes``).

    The bytes are counted as they are read: a pipe, a FIFO or a device (``/dev/zero``) says nothing
    true about its size, so the file's stated size only refuses an ordinary file early."""
    try:
        with path.open("rb") as source:
            stated = os.fstat(source.fileno())
            if stat.S_ISREG(stated.st_mode) and stated.st_size > max_bytes:
                raise _over_limit(path, f"{stated.st_size:,} bytes", max_bytes)
            chunks: list[bytes] = []
            read = 0
            while chunk := source.read(min(READ_CHUNK_BYTES, max_bytes + 1 - read)):
                chunks.append(chunk)
                read += len(chunk)
                if read > max_bytes:
                    raise _over_limit(path, "longer than that", max_bytes)
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return b"".join(chunks).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{path} is not UTF-8 text (byte {exc.start}): is it really a hash list?"
        ) from None


def _over_limit(path: Path, size: str, max_bytes: int) -> InvalidInput:
    return InvalidInput(
        f"{path} is {size}, over the import limit of {max_bytes:,} bytes (setting import_max_bytes): "
        "split the list, or raise the limit"
    )


@dataclass(frozen=True)
class ParsedRow:
    line: int
    signal_type: SignalKind
    value: str
    quality: int | None = None
    note: str = ""
    source_ref: str = ""


@dataclass(frozen=True)
class RejectedRow:
    line: int
    reason: str
    text: str


@dataclass
class ParsedList:
    format: ListFormat
    rows: list[ParsedRow]
    rejected: list[RejectedRow]
    warnings: list[str]


def detect_format(text: str) -> ListFormat:
    """Guess the format from the content (never from the file name)."""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        header = [c.strip().lower() for c in line.split(",")]
        if "signal_type" in header and "signal" in header:
            return ListFormat.CSV
        parts = header
        if len(parts) == 4 and parts[0].isdigit() and len(parts[2]) == 64 and HEX_RE.match(parts[2]):
            return ListFormat.VPDQ
        if len(parts) > 1:
            return ListFormat.CSV  # a table: its header is checked (and named in the error) by the CSV parser
        return ListFormat.PLAIN
    raise InvalidInput("the hash list is empty: no line holds a hash")


SIGNAL_TYPE_ALIASES = {"video_md5": SignalKind.MD5.value}
"""Other tools' names for our signal types: HMA and python-threatexchange name a video's MD5
``video_md5`` (an MD5 of the file's bytes, as ours)."""


def parse_list(text: str, fmt: ListFormat | None = None, signal_type: SignalKind | None = None) -> ParsedList:
    fmt = fmt or detect_format(text)
    if fmt is ListFormat.CSV:
        return _parse_csv(text)
    if fmt is ListFormat.VPDQ:
        return _parse_vpdq(text)
    return _parse_plain(text, signal_type)


def _check_line_length(text: str) -> None:
    for number, line in enumerate(io.StringIO(text), start=1):
        if len(line) > MAX_LINE_CHARS:
            raise InvalidInput(
                f"line {number} is {len(line):,} characters long (limit {MAX_LINE_CHARS:,}); "
                "is this really a hash list?"
            )


def _parse_csv(text: str) -> ParsedList:
    _check_line_length(text)
    reader = csv.DictReader(io.StringIO(text))
    try:
        fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    except csv.Error as exc:  # a bare carriage return inside the header line, say
        raise InvalidInput(f"CSV header line is malformed: {exc}") from None
    if "signal_type" not in fields or "signal" not in fields:
        raise InvalidInput(
            "CSV header must name the columns signal_type and signal "
            f"(found: {', '.join(fields) or 'nothing'})"
        )
    reader.fieldnames = fields
    known = {"signal_type", "signal", "quality", "note", "source_ref"}
    warnings = []
    extra = [f for f in fields if f not in known]
    if extra:
        warnings.append(f"ignored columns: {', '.join(extra)}")
    rows: list[ParsedRow] = []
    rejected: list[RejectedRow] = []
    try:
        for record in reader:
            line = reader.line_num
            raw_text = ",".join(str(v) for v in record.values() if v is not None)
            if None in record:
                rejected.append(RejectedRow(line, "more cells than header columns", raw_text))
                continue
            try:
                name = (record.get("signal_type") or "").strip().lower()
                kind = SignalKind(SIGNAL_TYPE_ALIASES.get(name, name))
            except ValueError:
                rejected.append(
                    RejectedRow(
                        line,
                        f"unknown signal_type {record.get('signal_type')!r} "
                        f"(expected one of {', '.join(k.value for k in SignalKind)})",
                        raw_text,
                    )
                )
                continue
            try:
                value = validate_signal(kind, record.get("signal") or "")
                quality = _parse_quality(record.get("quality"))
            except ValueError as exc:
                rejected.append(RejectedRow(line, str(exc), raw_text))
                continue
            rows.append(
                ParsedRow(
                    line,
                    kind,
                    value,
                    quality,
                    (record.get("note") or "").strip(),
                    (record.get("source_ref") or "").strip(),
                )
            )
    except csv.Error as exc:
        raise InvalidInput(f"CSV is malformed near line {reader.line_num}: {exc}") from exc
    return ParsedList(ListFormat.CSV, rows, rejected, warnings)


def _parse_quality(raw: str | None) -> int | None:
    if raw is None or raw.strip() == "":
        return None
    try:
        quality = int(raw)
    except ValueError:
        raise ValueError(f"quality {raw!r} is not a whole number") from None
    if not 0 <= quality <= 100:
        raise ValueError(f"quality {quality} is outside 0-100")
    return quality


def _plain_lines(text: str) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line and not line.startswith("#"):
            yield number, line


def looks_like_pdq_list(hex_values: list[str]) -> bool:
    """PDQ sets a bit where a coefficient is above the median: at most 128 bits, nearly always exactly 128.

    Random SHA-256 values have exactly 128 bits set 5 % of the time, so eight or more values tell the
    two apart beyond doubt; fewer are left to the caller.
    """
    if len(hex_values) < 8:
        return False
    counts = [int(v, 16).bit_count() for v in hex_values]
    return max(counts) <= 128 and sum(c == 128 for c in counts) >= 0.9 * len(counts)


def _parse_plain(text: str, signal_type: SignalKind | None) -> ParsedList:
    _check_line_length(text)
    lines = list(_plain_lines(text))
    warnings: list[str] = []
    if signal_type is None:
        wide = [line for _, line in lines if len(line) == 64 and HEX_RE.match(line)]
        if wide:
            if looks_like_pdq_list(wide):
                warnings.append("64-digit hashes taken as PDQ (bit counts fit PDQ, not SHA-256)")
                guess_wide = SignalKind.PDQ
            else:
                raise InvalidInput(
                    "this list has 64-hex-digit hashes, which may be PDQ or SHA-256; say which with "
                    "--signal-type pdq or --signal-type sha256"
                )
    rows: list[ParsedRow] = []
    rejected: list[RejectedRow] = []
    for number, line in lines:
        kind = signal_type
        if kind is None:
            if len(line) == 32 and HEX_RE.match(line):
                kind = SignalKind.MD5
            elif len(line) == 64 and HEX_RE.match(line):
                kind = guess_wide
            else:
                rejected.append(
                    RejectedRow(
                        number, "not a hash: expected 32 hex digits (MD5) or 64 (PDQ, SHA-256)", line[:200]
                    )
                )
                continue
        try:
            rows.append(ParsedRow(number, kind, validate_signal(kind, line)))
        except ValueError as exc:
            rejected.append(RejectedRow(number, str(exc), line[:200]))
    return ParsedList(ListFormat.PLAIN, rows, rejected, warnings)


def _parse_vpdq(text: str) -> ParsedList:
    _check_line_length(text)
    frames: list[str] = []
    rejected: list[RejectedRow] = []
    first_line = 0
    for number, line in _plain_lines(text):
        first_line = first_line or number
        try:
            frames.append(validate_signal(SignalKind.VPDQ, line))
        except ValueError as exc:
            rejected.append(RejectedRow(number, str(exc), line[:200]))
    rows: list[ParsedRow] = []
    if frames and not rejected:
        rows.append(
            ParsedRow(first_line, SignalKind.VPDQ, validate_signal(SignalKind.VPDQ, "\n".join(frames)))
        )
    elif not frames:
        raise InvalidInput("the vPDQ file holds no frame lines (frame_number,quality,pdq_hex,timestamp)")
    return ParsedList(ListFormat.VPDQ, rows, rejected, [])


def export_csv(rows: list[dict[str, object]]) -> str:
    """CSV with the import header; a vPDQ value's frames are joined with ';' to keep one line per entry."""
    out = io.StringIO()
    columns = ["signal_type", "signal", "quality", "note", "source_ref", "added_at", "enabled"]
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        value = str(row["signal"])
        writer.writerow({**row, "signal": value.replace("\n", ";")})
    return out.getvalue()
