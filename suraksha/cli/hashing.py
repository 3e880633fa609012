"""``suraksha hash PATH...``: print the signals of files."""

from __future__ import annotations

from pathlib import Path

import typer

from suraksha.cli.common import EXIT_ERROR, out, platform, print_json
from suraksha.cli.scan import parse_fps, walk

FPS_HELP = "Video frames hashed per second, or 'all' for every frame (default: setting video_fps)."


def hash_command(
    paths: list[Path] = typer.Argument(..., help="Files or folders."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object a file."),
    frames: bool = typer.Option(False, "--frames", help="With --json: include every vPDQ frame."),
    video_fps: str | None = typer.Option(None, "--video-fps", help=FPS_HELP),
    fast: bool = typer.Option(False, "--fast", help="Fast PDQ: luminance straight from the JPEG decoder."),
) -> None:
    """Hash files: MD5, SHA-256, PDQ (images) and vPDQ (video)."""
    from suraksha.signals.file_signals import hash_path  # noqa: PLC0415

    with platform() as p:
        options = p.hash_options(fast=fast or None, video_fps=parse_fps(video_fps))
        failures = 0
        for path in walk(paths):
            signals = hash_path(path, options)
            failures += signals.error is not None
            if json_out:
                print_json(signals.as_dict(frames=frames))
                continue
            state = signals.state.value + (f": {signals.error}" if signals.error else "")
            out.print(f"[bold]{path}[/bold]  {signals.media_type or 'unknown type'}  {state}")
            out.print(f"  md5    {signals.md5}\n  sha256 {signals.sha256}")
            if signals.pdq is not None:
                out.print(f"  pdq    {signals.pdq.hex}  quality {signals.pdq.quality}")
            if signals.vpdq:
                usable = sum(f.quality >= options.quality_floor for f in signals.vpdq)
                out.print(
                    f"  vpdq   {len(signals.vpdq)} frames ({usable} of quality >= {options.quality_floor})"
                )
        if failures:
            raise typer.Exit(EXIT_ERROR)
