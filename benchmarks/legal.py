"""The legal desk's own time: receipt to action for a blocking order, receipt to a disclosure package.

    .venv/bin/python benchmarks/legal.py [--sizes 10,100,1000] [--rounds 3] [--stores sqlite,postgresql]
        [--postgres-url URL] [--json]

The human steps (verifying the order, approving the package) are scripted to take no time: what is
measured is what the system adds. For each scope size N (items of 10 accounts named by @handle, benign
rows with no media) and store:

- **blocking order**: the platform forwards the order (``Platform.legal_forward``: scope resolved,
  clocks started), the desk verifies it and withholds everything in scope
  (``Platform.legal_act``: a decision and an action per item, each action's delivery job queued).
  Receipt to action = the forward's start to the act's end.
- **disclosure**: a data-disclosure request is forwarded, verified, its scope preserved
  (``legal_preserve``: holds and preservation jobs), the preservation jobs run by a worker (snapshots
  sealed in the vault), and the package drafted (``legal_disclose``: facts, PDF, the signed evidence
  package). Receipt to package = the forward's start to the draft's end.

No peer is run beside it: HMA, ROOST Coop and Thorn Safer have no legal desk to compare with; the 3 h
clock of IT Rules r.3(1)(d) and the 72 h of r.3(1)(j) are the yardsticks printed beside each figure.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from suraksha.app import Platform  # noqa: E402
from suraksha.content.models import Account, Item  # noqa: E402
from suraksha.enforcement.models import ActionKind  # noqa: E402
from suraksha.legal.clocks import RequestKind  # noqa: E402
from suraksha.legal.models import ScopeKind  # noqa: E402
from suraksha.legal.services import NewRequest, ScopeEntry  # noqa: E402
from suraksha.settings import Settings  # noqa: E402
from suraksha.vault.crypto import KeyEncryptionKey, generate_signing_key_text  # noqa: E402
from suraksha.vault.services import EvidenceActor  # noqa: E402

ACCOUNTS = 10
COUNSEL = EvidenceActor("user:bench-counsel", frozenset({"legal"}))


def seed(platform: Platform, run: str, items: int) -> list[str]:
    """``items`` items spread over ten accounts; their handles."""
    handles = [f"@{run}-seller-{n}" for n in range(ACCOUNTS)]
    with platform.db.session() as session:
        accounts = [Account(platform_account_id=f"{run}-acct-{n}", handle=h) for n, h in enumerate(handles)]
        session.add_all(accounts)
        session.flush()
        session.add_all(
            Item(
                platform_item_id=f"{run}-post-{n}",
                payload_digest="0" * 64,
                kind="post",
                account_id=accounts[n % ACCOUNTS].id,
            )
            for n in range(items)
        )
    return handles


def forward(platform: Platform, kind: RequestKind, handles: list[str]) -> int:
    shown, _ = platform.legal_forward(
        NewRequest(
            kind=kind,
            jurisdiction="IN",
            received_at=datetime.now(UTC),
            reference=f"bench-{uuid.uuid4().hex[:8]}",
            scope=[ScopeEntry(ScopeKind.ACCOUNT, h) for h in handles],
            external_id=uuid.uuid4().hex,
        ),
        authority={"agency": "Bench Police", "jurisdiction": "IN", "rank": "Joint Secretary"},
        actor="api:bench",
    )
    return int(str(shown["id"]))


def blocking_order(platform: Platform, handles: list[str]) -> float:
    started = time.perf_counter()
    request = forward(platform, RequestKind.BLOCKING_ORDER, handles)
    platform.legal_verify(request, actor="user:bench", how="scripted")
    platform.legal_act(request, ActionKind.WITHHOLD, actor="user:bench", countries=["IN"])
    return time.perf_counter() - started


def disclosure(platform: Platform, handles: list[str]) -> float:
    started = time.perf_counter()
    request = forward(platform, RequestKind.DATA_DISCLOSURE, handles)
    platform.legal_verify(request, actor="user:bench", how="scripted")
    platform.legal_preserve(request, actor="user:bench")
    index = platform.bank_index().load()
    try:
        platform.run_worker(
            index, kinds=["vault.preserve"], until_drained=True, install_signal_handlers=False
        )
    finally:
        index.close()
    platform.legal_disclose(request, actor=COUNSEL)
    return time.perf_counter() - started


def store_url(store: str, work: Path, postgres_url: str) -> tuple[str, str | None]:
    if store == "sqlite":
        return f"sqlite:///{work / 'bench.sqlite3'}", None
    name = f"suraksha_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(postgres_url).set(database=name).render_as_string(hide_password=False), name


def drop(postgres_url: str, name: str) -> None:
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get(
            "SURAKSHA_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    for store in args.stores.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            url, name = store_url(store, work, args.postgres_url)
            settings = Settings.load(
                {
                    "database_url": url,
                    "data_dir": str(work / "data"),
                    "index_dir": str(work / "index"),
                    "vault_kek": KeyEncryptionKey.generate().to_text(),
                    "vault_signing_key": generate_signing_key_text(),
                    "audit_checkpoint_every_s": 0.0,
                    "legal_alert_every_s": 0.0,
                }
            )
            platform = Platform(settings)
            try:
                for size in (int(s) for s in args.sizes.split(",")):
                    for what, run in (("blocking_order", blocking_order), ("disclosure", disclosure)):
                        seconds = [
                            run(platform, seed(platform, uuid.uuid4().hex[:8], size))
                            for _ in range(args.rounds)
                        ]
                        results.append(
                            {
                                "store": store,
                                "what": what,
                                "items": size,
                                "median_s": round(statistics.median(seconds), 3),
                                "min_s": round(min(seconds), 3),
                                "max_s": round(max(seconds), 3),
                                "rounds": [round(s, 3) for s in seconds],
                            }
                        )
                        row = results[-1]
                        yardstick = 3 * 3600 if what == "blocking_order" else 72 * 3600
                        print(
                            f"{store:10} {what:15} {size:5} items: median {row['median_s']:8.3f} s "
                            f"(min {row['min_s']:.3f}, max {row['max_s']:.3f}); "
                            f"{row['median_s'] / yardstick:.2e} of the legal clock",
                            file=sys.stderr,
                        )
            finally:
                platform.close()
                if name:
                    drop(args.postgres_url, name)
    if args.json:
        print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
