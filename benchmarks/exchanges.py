"""Syncing an NCMEC hash sharing list into an empty bank: ours beside python-threatexchange's own
fetch-and-store loop, on the same data, in the same run.

    .venv/bin/python benchmarks/exchanges.py [--entries 1000000] [--page-size 1000] [--sides pytx,ours,fetch]
        [--json]

``--entries`` takes one size or several (``20000,100000``): memory should stay flat as the list grows.
For each size the local stand-in (``suraksha hashsharing-sim --seed N``: random PDQ bits, no picture's
hash) runs in a process of its own on a free loopback port, and each side runs in a fresh child
process that fetches the whole list from it:

- ``ours``: ``Platform.exchange_fetch`` (python-threatexchange's ``NCMECSignalExchangeAPI.fetch_iter``
  wrapped by ``suraksha.exchanges``), its pages committed together (``exchange_commit_entries``, 5000
  entries a transaction by default) into a bank on SQLite in a temporary folder, repeated until the
  run is ``done``. A loaded match index (``BankIndex``, the worker's)
  follows the bank change feed in the same process during the fetch, every second, as the worker's
  follower does (its CPU is charged to ours; its numba code is compiled before the clock starts, as a
  worker has long done before a fetch). "Index after commit": from the fetch's last commit until the
  index answers a match for the last entry the fetch added.
- ``fetch``: our client's pages alone (``NcmecSource.pages``), read and dropped, no database: the
  ceiling of any sync that goes through python-threatexchange's ``fetch_iter``.
- ``pytx``: what ``threatexchange fetch`` does (``threatexchange/cli/fetch_cmd.py``,
  ``execute_for_collab``): ``NCMECSignalExchangeAPI.fetch_iter`` with the CLI's client
  (``NCMECHashAPI``, its base URL pointed at the stand-in), each delta ``merge``d into the CLI's own
  store (``threatexchange.cli.cli_state.CliSimpleState``), ``flush`` every 600 s (its default
  ``--checkpoint-every``) and at the end. Its index rebuild is not timed.

The stand-in's share: the seconds it spent answering each side's entries requests (its own clock,
``/_sim/state``), over the side's fetch time. Both sides make the same requests (the same
``fetch_iter``), so it charges both the same; it runs on the same machine, in its own process.

Throughput: entries per second over the fetch (wall time, from the first request to the last commit
or flush). Memory: the child's peak resident set (``ru_maxrss``) and its resident set before the fetch
(imports done), so the growth is the fetch's: the high-water mark (``VmHWM``) is reset just before
the fetch; for ``ours`` it is read when the fetch is done, and again after the index took the entries.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

USER, PASSWORD = "bench", "bench-only-password-5d1c"


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_mb() -> float:
    """The resident set's high-water mark (VmHWM) since the start or the last ``_reset_peak``."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak() -> None:
    """Start the high-water mark afresh (Linux: ``5`` to /proc/self/clear_refs)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _warm_index_code() -> None:
    """Compile the PDQ index's numba code before the clock starts (a worker has done so long before an
    exchange fetch; the first compile takes seconds to tens of seconds on a loaded machine)."""
    import numpy as np

    from suraksha.signals.index.pdq_index import PdqIndex

    rng = np.random.default_rng(1)
    hashes = rng.integers(0, 256, (2000, 32), dtype=np.uint8)
    index = PdqIndex.build(np.arange(1, 1001), hashes[:1000])
    index.add(np.arange(1001, 2001), hashes[1000:])
    index.query(hashes[:10])
    index.remove(np.arange(1, 11))
    index.compact()
    index.query(hashes[990:1010])
    index.close()


def child_ours(url: str, entries: int, workdir: Path, *, follow: bool = True) -> dict[str, Any]:
    from sqlalchemy import select

    from suraksha.app import Platform
    from suraksha.banks.index import BankIndex
    from suraksha.banks.models import BankEntry
    from suraksha.exchanges.models import ExchangeApi, RunState, Trust
    from suraksha.settings import Settings
    from suraksha.signals.file_signals import FileSignals
    from suraksha.signals.pdq import PdqHash

    os.environ["SURAKSHA_EXCHANGE_BENCH_CREDENTIALS"] = f"{USER}:{PASSWORD}"
    settings = Settings.load(
        {
            "database_url": f"sqlite:///{workdir / 'ours.sqlite3'}",
            "data_dir": str(workdir / "data"),
            "index_dir": str(workdir / "index"),
            "exchange_fetch_budget_s": 86400,
            "exchange_timeout_s": 120,
        }
    )
    p = Platform(settings)
    try:
        p.bank_create("bench", actor="bench", category="other")
        p.exchange_create(
            "bench", ExchangeApi.NCMEC, "bench", settings={"url": url}, trust=Trust.REVIEW, actor="bench"
        )
        _warm_index_code()
        index = BankIndex(p.db).load()
        if follow:
            index.follow(1.0)  # as the worker does: the feed applied every second, during the fetch
        _reset_peak()
        before = _rss_mb()
        started = time.perf_counter()
        added = pages = 0
        while True:
            result = p.exchange_fetch("bench", actor="bench")
            added += result.added
            pages += result.pages
            if result.state != RunState.PARTIAL:
                break
        fetched = time.perf_counter()
        fetch_peak = _peak_mb()
        if result.state != RunState.DONE:
            raise RuntimeError(f"the fetch ended {result.state}: {result.error}")
        # The last entry the fetch committed: how long until the index answers a match for it.
        with p.db.reading() as session:
            last = session.execute(
                select(BankEntry.value).where(BankEntry.signal_type == "pdq").order_by(BankEntry.id.desc())
            ).first()
        assert last is not None
        probe = FileSignals(path=None, size=0, pdq=PdqHash.from_hex(last[0], quality=100))
        while True:
            if not follow:
                index.refresh()
            if index.match(probe).hits:
                break
            time.sleep(0.01)
        indexed = time.perf_counter()
        in_index = index.entry_count
        index_peak = _peak_mb()
        index.close()
    finally:
        p.close()
    seconds = fetched - started
    return {
        "side": "ours",
        "entries": entries,
        "added": added,
        "pages": pages,
        "seconds": round(seconds, 2),
        "entries_per_s": round(added / seconds, 1),
        "rss_before_mb": round(before, 1),
        "peak_mb": round(fetch_peak, 1),
        "peak_with_index_mb": round(index_peak, 1),
        "index_entries": in_index,
        "index_after_commit_s": round(indexed - fetched, 2),
        "index_followed": follow,
    }


def child_fetch(url: str, entries: int, workdir: Path) -> dict[str, Any]:
    """Our client's pages (``NcmecSource.pages``: python-threatexchange's ``fetch_iter`` with our
    client and conversion), read and dropped: no database. The ceiling of any sync through
    ``fetch_iter`` on this machine, against this stand-in."""
    from suraksha.exchanges.clients import NcmecSource

    source = NcmecSource("bench", {"url": url}, (USER, PASSWORD), timeout_s=120, budget_s=86400)
    _reset_peak()
    before = _rss_mb()
    started = time.perf_counter()
    records = pages = 0
    for page in source.pages(None):
        records += len(page.records)
        pages += 1
    seconds = time.perf_counter() - started
    return {
        "side": "fetch",
        "entries": entries,
        "added": records,
        "pages": pages,
        "seconds": round(seconds, 2),
        "entries_per_s": round(records / seconds, 1),
        "rss_before_mb": round(before, 1),
        "peak_mb": round(_peak_mb(), 1),
    }


def child_pytx(url: str, entries: int, workdir: Path) -> dict[str, Any]:
    from threatexchange.cli.cli_state import CliSimpleState
    from threatexchange.exchanges.clients.ncmec import hash_api
    from threatexchange.exchanges.impl.ncmec_api import NCMECCollabConfig, NCMECSignalExchangeAPI
    from threatexchange.signal_type.md5 import VideoMD5Signal
    from threatexchange.signal_type.pdq.signal import PdqSignal

    environment = hash_api.NCMECEnvironment.Industry
    client = hash_api.NCMECHashAPI(USER, PASSWORD, environment)
    client._base_url = url  # the stand-in instead of NCMEC's host; nothing else changed

    class Api(NCMECSignalExchangeAPI):
        def get_client(self, environment: hash_api.NCMECEnvironment) -> hash_api.NCMECHashAPI:
            return client

    collab = NCMECCollabConfig(name="bench", environment=environment)
    api = Api(collab, USER, PASSWORD)
    store = CliSimpleState(NCMECSignalExchangeAPI, workdir / "pytx-state")
    (workdir / "pytx-state").mkdir(parents=True, exist_ok=True)
    checkpoint_every, last_checkpoint = 600, time.time()
    _reset_peak()
    before = _rss_mb()
    started = time.perf_counter()
    updates = 0
    try:
        for delta in api.fetch_iter([PdqSignal, VideoMD5Signal], store.get_checkpoint(collab)):
            updates += len(delta.updates)
            store.merge(collab, delta)
            if time.time() > checkpoint_every + last_checkpoint:
                store.flush()
                last_checkpoint = time.time()
    finally:
        store.flush()
    seconds = time.perf_counter() - started
    return {
        "side": "pytx",
        "entries": entries,
        "added": updates,
        "seconds": round(seconds, 2),
        "entries_per_s": round(updates / seconds, 1),
        "rss_before_mb": round(before, 1),
        "peak_mb": round(_peak_mb(), 1),
        "state_file_mb": round(store.collab_file("bench").stat().st_size / 2**20, 1),
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_stand_in(entries: int, page_size: int) -> tuple[subprocess.Popen[bytes], str]:
    import httpx

    port = _free_port()
    env = dict(os.environ, SURAKSHA_HASHSHARING_SIM_CREDENTIALS=f"{USER}:{PASSWORD}")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "suraksha",
            "hashsharing-sim",
            "--port",
            str(port),
            "--seed",
            str(entries),
            "--page-size",
            str(page_size),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("the stand-in exited")
        try:
            if httpx.get(f"{url}/v2/status", auth=(USER, PASSWORD), timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError("the stand-in did not start")


def run_size(entries: int, page_size: int, sides: list[str], *, follow: bool = True) -> list[dict[str, Any]]:
    proc, url = _start_stand_in(entries, page_size)
    results = []

    def stand_in_state() -> dict[str, Any]:
        import httpx

        answer: dict[str, Any] = httpx.get(f"{url}/_sim/state", auth=(USER, PASSWORD), timeout=30).json()
        return answer

    try:
        for side in sides:
            before = stand_in_state()
            with tempfile.TemporaryDirectory(prefix=f"bench-exchanges-{side}-") as workdir:
                done = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--child",
                        side,
                        "--url",
                        url,
                        "--entries",
                        str(entries),
                        "--workdir",
                        workdir,
                        *([] if follow else ["--no-follow"]),
                    ],
                    env=dict(os.environ, TZ="UTC"),
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if done.returncode != 0:
                    raise RuntimeError(f"{side} failed:\n{done.stderr[-4000:]}")
                row = json.loads(done.stdout.strip().splitlines()[-1])
                after = stand_in_state()
                row["requests"] = after["requests"] - before["requests"]
                row["stand_in_s"] = round(after["serve_s"] - before["serve_s"], 2)
                row["stand_in_share"] = round(row["stand_in_s"] / row["seconds"], 2)
                results.append(row)
                print(f"# done: {json.dumps(row)}", file=sys.stderr, flush=True)  # a long run's progress
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", default="1000000", help="List size, or sizes: 20000,100000")
    parser.add_argument("--page-size", type=int, default=1000, help="Entries per page of the stand-in.")
    parser.add_argument(
        "--sides", default="pytx,ours", help="pytx, ours, and fetch (our client's pages read and dropped)"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--no-follow",
        action="store_true",
        help="ours: no index follows the feed during the fetch (it loads once after): the fetch's own memory",
    )
    parser.add_argument("--child", choices=["ours", "pytx", "fetch"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if args.child == "ours":
            answer = child_ours(args.url, int(args.entries), Path(args.workdir), follow=not args.no_follow)
        else:
            answer = {"pytx": child_pytx, "fetch": child_fetch}[args.child](
                args.url, int(args.entries), Path(args.workdir)
            )
        print(json.dumps(answer))
        return
    sides = [s.strip() for s in args.sides.split(",") if s.strip()]
    rows = []
    for size in (int(n) for n in args.entries.split(",")):
        rows += run_size(size, args.page_size, sides, follow=not args.no_follow)
        if not args.json:
            for row in rows[-len(sides) :]:
                print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        by = {(r["entries"], r["side"]): r for r in rows}
        for size in sorted({r["entries"] for r in rows}):
            for side in ("ours", "fetch"):
                if (size, side) in by and (size, "pytx") in by:
                    ratio = by[size, side]["entries_per_s"] / by[size, "pytx"]["entries_per_s"]
                    print(f"{size} entries: {side} {ratio:.2f}x python-threatexchange's entries/s")


if __name__ == "__main__":
    main()
