"""The running service over HTTP: items/s end to end, and /api/v1/check latency, against raw hashing.

    .venv/bin/python benchmarks/service.py [--items 1000] [--rounds 3] [--checks 300] [--concurrency 8]
        [--stores sqlite,postgresql] [--postgres-url URL] [--json]

Each store gets a fresh service: ``suraksha serve`` (web + embedded worker: the one-process SQLite
deployment), or on PostgreSQL ``suraksha serve --workers 0`` plus two ``suraksha worker`` processes.
A "known bad" bank holds hashes of a few of the (benign) pictures. A bounded load generator on
loopback (``--concurrency`` requests in flight) submits ``--items`` items, each one 1 MP JPEG (50
distinct photos made like the hashing benchmark's, cycled) plus text, to ``POST /api/v1/items``, then
reads every item's decision time: items/s = items / (first submit .. last decision, by the
service's clock on the same machine). Then
``--checks`` sequential ``POST /api/v1/check`` calls with a 1 MP JPEG give p50/p99 latency.

Each store runs ``--rounds`` times (fresh items each, on the same service); the median run is
reported, with every round's figure (other load on a shared machine moves single runs by 10-20 %).

The peers in the same run: the hashing benchmark's exact mode (``benchmarks/hashing.py``'s
``exact_rate``: decode + PDQ on its 1.6 MP corpus, one pinned core, in a process of its own), against
which the service issue sets its target (end-to-end throughput >= 70 % of it); and raw hashing,
``hash_bytes`` (exact PDQ + MD5 + SHA-256, what the pipeline runs) on the same 1 MP JPEGs, one image at
a time, in this process: the stricter ratio.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from hashing import _photo, _sources  # noqa: E402

from suraksha.signals.file_signals import HashOptions, hash_bytes  # noqa: E402
from suraksha.vault.crypto import KeyEncryptionKey, generate_signing_key_text  # noqa: E402

SURAKSHA = [sys.executable, "-m", "suraksha"]
TEXT = "Sunday market, fresh fruit and a long walk by the river"


def photos(count: int) -> list[bytes]:
    """``count`` distinct 1 MP JPEGs (benign, made from scikit-image's sample photos)."""
    import io

    rng = np.random.default_rng(7)
    sources = _sources()
    out = []
    for _ in range(count):
        image = _photo(rng, sources).resize((1155, 866))  # 1.0 MP
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=88)
        out.append(buffer.getvalue())
    return out


def raw_hashing(jpegs: list[bytes], rounds: int = 2) -> float:
    options = HashOptions()
    hash_bytes(jpegs[0], options)
    start = time.perf_counter()
    for _ in range(rounds):
        for data in jpegs:
            hash_bytes(data, options)
    return rounds * len(jpegs) / (time.perf_counter() - start)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Service:
    def __init__(self, store: str, postgres_url: str | None, jpegs: list[bytes], serve_workers: int) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="suraksha-bench-"))
        self.processes: list[subprocess.Popen[bytes]] = []
        self.database: str | None = None
        if store == "sqlite":
            url = f"sqlite:///{self.folder / 'bench.sqlite3'}"
        else:
            assert postgres_url, "--postgres-url is needed for the PostgreSQL run"
            self.admin = postgres_url
            self.database = f"suraksha_bench_{uuid.uuid4().hex[:8]}"
            engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.database}"'))
            engine.dispose()
            url = make_url(postgres_url).set(database=self.database).render_as_string(hide_password=False)
        self.env = dict(os.environ, SURAKSHA_DATABASE_URL=url, SURAKSHA_DATA_DIR=str(self.folder))
        self.env.pop("SURAKSHA_WEBHOOK_URL", None)
        # The vault's keys (made for this run): matches of the csam bank are preserved, as in production.
        self.env.setdefault("SURAKSHA_VAULT_KEK", KeyEncryptionKey.generate().to_text())
        self.env.setdefault("SURAKSHA_VAULT_SIGNING_KEY", generate_signing_key_text())
        subprocess.run([*SURAKSHA, "db", "upgrade"], env=self.env, check=True, capture_output=True)
        subprocess.run(
            [*SURAKSHA, "bank", "create", "bench-known-bad", "--category", "csam"],
            env=self.env,
            check=True,
            capture_output=True,
        )
        known = self.folder / "known"
        known.mkdir()
        for i, data in enumerate(jpegs[:5]):
            (known / f"{i}.jpg").write_bytes(data)
        subprocess.run(
            [*SURAKSHA, "bank", "add", "bench-known-bad", *map(str, sorted(known.iterdir()))],
            env=self.env,
            check=True,
            capture_output=True,
        )
        created = subprocess.run(
            [*SURAKSHA, "apikey", "create", "bench", "--role", "ingest", "--json"],
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        self.key = json.loads(created.stdout)["key"]
        self.port = free_port()
        serve = [*SURAKSHA, "serve", "--port", str(self.port), "--workers", str(serve_workers)]
        if store == "postgresql":
            serve[-1] = "0"
        self.processes.append(
            subprocess.Popen(serve, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        )
        if store == "postgresql":
            for _ in range(2):
                self.processes.append(
                    subprocess.Popen(
                        [*SURAKSHA, "worker"],
                        env=self.env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit("the service did not become ready in 120 s")

    def close(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        if self.database:
            engine = create_engine(self.admin, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
            engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)


def item_body(i: int, jpeg: bytes, prefix: str) -> dict[str, Any]:
    return {
        "platform_item_id": f"{prefix}-{i}",
        "kind": "post",
        "account": {"platform_id": f"acct-{i % 97}", "handle": f"@user{i % 97}"},
        "text": TEXT,
        "media": [{"data": base64.b64encode(jpeg).decode(), "content_type": "image/jpeg"}],
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far (Linux /proc; 0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if (entry / "comm").read_text().strip() == "postgres":
                pids.append(int(entry.name))
        except OSError:
            continue
    return pids


def cpu_snapshot(service: Service) -> dict[str, float]:
    """CPU seconds so far of the service's processes, PostgreSQL's server processes (when it is the
    store) and this process (the load generator)."""
    own = os.times()
    snapshot = {
        "web": cpu_seconds(service.processes[0].pid),
        "workers": sum(cpu_seconds(p.pid) for p in service.processes[1:]),
        "load_generator": own.user + own.system,
    }
    if service.database:
        snapshot["postgresql"] = sum(cpu_seconds(pid) for pid in postgres_pids())
    return snapshot


def hashing_benchmark_exact(count: int) -> float:
    """What ``benchmarks/hashing.py --count COUNT --rounds 2`` reports for exact mode (images/s, one
    pinned core), measured now in a process of its own: the issue's target is 70 % of it."""
    code = (
        "import sys; sys.path.insert(0, 'benchmarks'); from hashing import exact_rate; "
        f"print(exact_rate({count}, 2))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True, text=True)
    return float(done.stdout.strip().splitlines()[-1])


def end_to_end(
    service: Service, jpegs: list[bytes], count: int, concurrency: int, prefix: str = "e2e"
) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {service.key}"}
    bodies = [json.dumps(item_body(i, jpegs[i % len(jpegs)], prefix)).encode() for i in range(count)]
    ids: list[int] = []
    with httpx.Client(base_url=service.base, headers=headers, timeout=60) as client:

        def submit(body: bytes) -> int:
            answer = client.post("/api/v1/items", content=body, headers={"Content-Type": "application/json"})
            answer.raise_for_status()
            return int(answer.json()["id"])

        cpu_before = cpu_snapshot(service)
        started_at = datetime.now(UTC)
        start = time.perf_counter()
        with ThreadPoolExecutor(concurrency) as pool:
            ids = list(pool.map(submit, bodies))
        submitted = time.perf_counter() - start

        def decided_at(item_id: int) -> datetime | None:
            decisions = client.get(f"/api/v1/items/{item_id}").json()["decisions"]
            return max((datetime.fromisoformat(d["created_at"]) for d in decisions), default=None)

        # Wait (one cheap request per 100 ms) until the newest item is decided: the work is then done
        # but for stragglers, and the CPU window closes. Then read every item's decision time: the run
        # ends at the last one (the service's own clock, the same machine's), so how fast this poller
        # walks the items does not count.
        deadline = time.monotonic() + 600
        while decided_at(ids[-1]) is None and time.monotonic() < deadline:
            time.sleep(0.1)
        cpu_after = cpu_snapshot(service)
        pending, last = sorted(ids), started_at
        while pending and time.monotonic() < deadline:
            at = decided_at(pending[0])
            if at is None:
                time.sleep(0.1)
                continue
            pending.pop(0)
            last = max(last, at)
        elapsed = (last - started_at).total_seconds()
    if pending:
        raise SystemExit(f"{len(pending)} items were not decided within 10 minutes")
    cpu_window = max(elapsed, 1e-9)
    cpu_ms = {k: 1000 * (cpu_after[k] - cpu_before[k]) / count for k in cpu_before}
    return {
        "items": count,
        "seconds": elapsed,
        "submit_seconds": submitted,
        "items_per_s": count / elapsed,
        "cpu_ms_per_item": cpu_ms,
        "cpu_cores_busy": sum(cpu_after[k] - cpu_before[k] for k in cpu_before) / cpu_window,
    }


def check_latency(service: Service, jpegs: list[bytes], count: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {service.key}", "Content-Type": "application/json"}
    bodies = [json.dumps(item_body(i, jpegs[5 + i % (len(jpegs) - 5)], "chk")).encode() for i in range(count)]
    times = []
    with httpx.Client(base_url=service.base, timeout=60) as client:
        client.post("/api/v1/check", content=bodies[0], headers=headers).raise_for_status()
        for body in bodies:
            start = time.perf_counter()
            answer = client.post("/api/v1/check", content=body, headers=headers)
            times.append(time.perf_counter() - start)
            answer.raise_for_status()
    times.sort()
    return {
        "checks": count,
        "p50_ms": 1000 * statistics.median(times),
        "p99_ms": 1000 * times[min(len(times) - 1, int(0.99 * len(times)))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=1000, help="items per round")
    parser.add_argument("--checks", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "SURAKSHA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--serve-workers", type=int, default=2, help="worker threads in the SQLite process")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="end-to-end runs per store (the median counts; load on a shared machine varies)",
    )
    parser.add_argument(
        "--hashing-count", type=int, default=300, help="corpus of the hashing benchmark's reference run"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    print("making 50 one-megapixel JPEGs ...", file=sys.stderr, flush=True)
    jpegs = photos(50)
    raw = raw_hashing(jpegs)
    print(
        f"the hashing benchmark's exact mode on {args.hashing_count} images ...", file=sys.stderr, flush=True
    )
    reference = hashing_benchmark_exact(args.hashing_count)
    report: dict[str, Any] = {
        "raw_hashing_per_s": raw,
        "hashing_benchmark_exact_per_s": reference,
        "stores": {},
    }
    for store in args.stores.split(","):
        print(f"{store}: starting the service ...", file=sys.stderr, flush=True)
        service = Service(store, args.postgres_url, jpegs, args.serve_workers)
        try:
            runs = []
            for round_ in range(args.rounds):
                print(f"{store}: round {round_ + 1} of {args.rounds} ...", file=sys.stderr, flush=True)
                runs.append(end_to_end(service, jpegs, args.items, args.concurrency, prefix=f"e2e{round_}"))
            result = sorted(runs, key=lambda r: r["items_per_s"])[len(runs) // 2]  # the median run
            result["rounds_items_per_s"] = [round(r["items_per_s"], 1) for r in runs]
            result.update(check_latency(service, jpegs, args.checks))
        finally:
            service.close()
        result["x_raw_hashing"] = result["items_per_s"] / raw
        result["x_hashing_benchmark"] = result["items_per_s"] / reference
        report["stores"][store] = result
    if args.json:
        print(json.dumps(report, indent=2))
        return
    print(f"\nraw hashing (hash_bytes, exact PDQ + digests, one core, these 1 MP files): {raw:.1f} images/s")
    print(f"hashing benchmark, exact mode ({args.hashing_count} images, one core): {reference:.1f} images/s")
    print(f"target: >= 70 % of it = {0.7 * reference:.1f} items/s")
    header = f"{'store':12} {'items/s':>8} {'of hashing':>11} {'of raw':>7}"
    print(header + f" {'check p50 ms':>13} {'check p99 ms':>13}  rounds")
    for store, r in report["stores"].items():
        line = (
            f"{store:12} {r['items_per_s']:8.1f} {r['x_hashing_benchmark']:11.0%} {r['x_raw_hashing']:7.0%}"
        )
        rounds = ", ".join(f"{v:.1f}" for v in r["rounds_items_per_s"])
        print(line + f" {r['p50_ms']:13.1f} {r['p99_ms']:13.1f}  {rounds}")
    print(f"\nCPU per item (ms) and cores busy; raw hashing is {1000 / raw:.1f} ms of CPU per image")
    for store, r in report["stores"].items():
        parts = " ".join(f"{k}={v:.1f}" for k, v in r["cpu_ms_per_item"].items())
        total = sum(r["cpu_ms_per_item"].values())
        print(f"{store:12} {parts} total={total:.1f} cores_busy={r['cpu_cores_busy']:.2f}")


if __name__ == "__main__":
    main()
