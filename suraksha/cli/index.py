"""``suraksha index``: publish the match index as a memory-mapped generation, and show its state."""

from __future__ import annotations

import time

import typer

from suraksha.banks import index_store
from suraksha.cli.common import out, platform, print_json

index_app = typer.Typer(
    help="Match index: publish generations that workers start from.", no_args_is_help=True
)


@index_app.command("publish")
def publish_command(
    rebuild: bool = typer.Option(
        False, "--rebuild", help="Build from the database instead of starting from the current generation."
    ),
    json_out: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Write a compacted generation of the whole index at the feed's current position and make it
    current. Running processes swap to it by themselves (mapped, shared, no database reload)."""
    with platform() as p:
        started = time.perf_counter()
        index = p.bank_index()
        if rebuild:
            index.index_dir = None
            index.load()
            index.index_dir = p.settings.index_path
        else:
            index.load()
        generation = index.publish()
        assert generation is not None
        result = {
            "generation": generation.name,
            "path": str(generation.path),
            "position": generation.position,
            "entries": generation.entries,
            "seconds": round(time.perf_counter() - started, 3),
        }
        if json_out:
            print_json(result)
        else:
            out.print(
                f"published {result['generation']}: {generation.entries:,} entries at feed position "
                f"{generation.position} in {result['seconds']} s ({generation.path})"
            )


@index_app.command("status")
def status_command(json_out: bool = typer.Option(False, "--json", help="Machine-readable output.")) -> None:
    """The current published generation and how far the change feed has moved past it."""
    with platform() as p:
        folder = p.settings.index_path
        generation = index_store.current_generation(folder)
        head = p.bank_index().feed_head()
        result = {
            "folder": str(folder),
            "generation": None if generation is None else generation.name,
            "position": None if generation is None else generation.position,
            "entries": None if generation is None else generation.entries,
            "feed_head": head,
            "changes_behind": None if generation is None else head - generation.position,
        }
        if json_out:
            print_json(result)
        elif generation is None:
            out.print(f"no generation published in {folder}: processes build from the database")
        else:
            out.print(
                f"{generation.name}: {generation.entries:,} entries at position {generation.position}; "
                f"the feed is at {head} ({head - generation.position} changes since)"
            )
