"""A trusted flagger's notice to its decision, in the demo's load, over HTTP.

    .venv/bin/python benchmarks/notices.py [--notices 200] [--rate 4] [--targets 3] [--seed 7] [--json]

The demo (``suraksha demo --no-serve``: its banks, thousands of accounts and posts, the racket, the
legal desk's replay) is built in a temporary folder and served as the one-process deployment
(``suraksha serve``: web and its embedded worker on SQLite). A flagger registered for the run sends
``--notices`` notices to ``POST /api/v1/notices`` at ``--rate`` a second, each naming one to
``--targets`` of the demo's posts (by post URL or by the platform's id), and reads each notice's
state from ``GET /api/v1/notices/{id}`` every 20 ms. Scripted reviewers in this process decide each
case as soon as it is in their queue (a sale-or-solicitation violation with removal, or nothing found,
one in three), through the same review services the console calls. The human step takes no time:
what is measured is what the system adds, per notice:

- **acknowledgement**: the POST's round trip (the answer is the acknowledgement);
- **receipt to review**: from the POST until every post it names has a case in the review queue;
- **decision to outcome**: from the reviewer's last decision on the notice's posts (committed) until
  the flagger reads the notice as decided with its outcome;
- **notice to decision**: from the POST until the flagger reads the outcome, with reviewers that take
  no time: the floor of the notice-to-decision time that a platform's reviewers add their own to.

The clocks of IT Rules r.3(2) (acknowledge within 24 h; 2 h for a complaint about a person's own
intimate imagery) are the yardsticks. No peer is run beside it: HMA has no notices; ROOST Coop and
Thorn Safer publish no such figure.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from suraksha.access.models import ConsoleUser  # noqa: E402
from suraksha.app import Platform  # noqa: E402
from suraksha.content.models import Item, ItemState  # noqa: E402
from suraksha.enforcement.models import ActionKind  # noqa: E402
from suraksha.flaggers.models import NoticeTarget  # noqa: E402
from suraksha.flaggers.registry import NewFlagger  # noqa: E402
from suraksha.review import services as review  # noqa: E402
from suraksha.review.decisions import ReviewChoice, decide  # noqa: E402
from suraksha.review.models import CaseState, ReviewCase, ViolationCategory  # noqa: E402
from suraksha.settings import Settings  # noqa: E402

SURAKSHA = [sys.executable, "-m", "suraksha"]
POST_URL = "https://social.example/p/{item_id}"
REVIEWERS = 4
DECIDABLE = (CaseState.OPEN, CaseState.CLAIMED)


@dataclass
class Sent:
    notice_id: int
    posted_at: float
    acknowledged_at: float
    targets: int
    queued_at: float | None = None
    decided_at: float | None = None
    """The reviewers' last decision on its posts (perf_counter)."""
    outcome_at: float | None = None
    outcome: str | None = None
    cases: set[int] = field(default_factory=set)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_demo(base: Path) -> tuple[dict[str, str], float]:
    env = {
        **os.environ,
        "SURAKSHA_DATA_DIR": str(base),
        "SURAKSHA_DATABASE_URL": f"sqlite:///{base / 'demo.sqlite3'}",
        "SURAKSHA_CONSOLE_SECURE_COOKIES": "false",
        "SURAKSHA_PLATFORM_ITEM_URL": POST_URL,
    }
    started = time.perf_counter()
    subprocess.run(
        [*SURAKSHA, "demo", "--no-serve", "--dir", str(base)], env=env, check=True, capture_output=True
    )
    keys = (base / "demo-vault-keys.env").read_text().splitlines()
    env.update(line.split("=", 1) for line in keys if "=" in line)
    return env, time.perf_counter() - started


def demo_posts(platform: Platform) -> tuple[list[str], int, int]:
    """The demo's posts a flagger could name (not taken down), and the demo's accounts and posts."""
    with platform.db.reading() as session:
        rows = session.execute(select(Item.platform_item_id, Item.state, Item.account_id)).all()
    held = (ItemState.SCANNED, ItemState.DECIDED)  # not taken down, not failed
    posts = [r.platform_item_id for r in rows if r.state in held and r.platform_item_id]
    return posts, len({r.account_id for r in rows}), len(rows)


def reviewers(platform: Platform) -> list[ConsoleUser]:
    users = []
    with platform.db.session() as session:
        for n in range(REVIEWERS):
            user = ConsoleUser(
                email=f"bench-notices-{n}@example.org",
                pseudonym=f"bench-rev-{n}",
                roles="child_safety_reviewer",
                password_hash="not-a-password-hash (the benchmark never signs in)",
                failed_logins=0,
            )
            session.add(user)
            users.append(user)
    return users


class Reviewers(threading.Thread):
    """Decide every case a sent notice put in review, as soon as it is there."""

    def __init__(self, platform: Platform, sent: list[Sent], lock: threading.Lock, seed: int) -> None:
        super().__init__(daemon=True)
        self.platform, self.sent, self.lock = platform, sent, lock
        self.users = reviewers(platform)
        self.random = random.Random(seed)
        self.stop = threading.Event()
        self.errors: list[str] = []
        self.decisions = 0

    def run(self) -> None:
        options = self.platform.review_options
        while not self.stop.is_set():
            with self.lock:
                waiting = [s for s in self.sent if s.decided_at is None]
            if not waiting:
                time.sleep(0.01)
                continue
            for notice in waiting:
                with self.platform.db.reading() as session:
                    targets = session.execute(
                        select(NoticeTarget.case_id, NoticeTarget.state).where(
                            NoticeTarget.notice_id == notice.notice_id
                        )
                    ).all()
                    case_ids = [t.case_id for t in targets if t.case_id is not None]
                    if len(case_ids) < notice.targets:
                        continue
                    open_cases = set(
                        session.scalars(
                            select(ReviewCase.id).where(
                                ReviewCase.id.in_(case_ids), ReviewCase.state.in_(DECIDABLE)
                            )
                        )
                    )
                if notice.queued_at is None:
                    notice.queued_at = time.perf_counter()
                for case_id in sorted(open_cases):
                    self.decide(options, case_id)
                notice.decided_at = time.perf_counter()
            time.sleep(0.005)

    def decide(self, options: Any, case_id: int) -> None:
        user = self.users[self.decisions % len(self.users)]
        benign = self.random.random() < 1 / 3
        choice = ReviewChoice(
            violation=ViolationCategory.BENIGN if benign else ViolationCategory.SALE_OR_SOLICITATION,
            actions=() if benign else (ActionKind.REMOVE,),
        )
        try:
            with self.platform.db.session() as session:
                reviewer = session.get(ConsoleUser, user.id)
                assert reviewer is not None
                review.claim(session, case_id, reviewer, options)
                decide(session, case_id, reviewer, choice, options)
            self.decisions += 1
        except Exception as exc:  # a case decided meanwhile (two notices naming one post) is fine
            self.errors.append(f"case {case_id}: {exc.__class__.__name__}: {exc}")


def spread(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"count": 0, "p50": None, "p90": None, "p99": None, "max": None}
    ordered = sorted(values)

    def rank(q: float) -> float:  # nearest rank
        return round(ordered[max(1, math.ceil(q * len(ordered))) - 1], 4)

    return {
        "count": len(ordered),
        "p50": round(statistics.median(ordered), 4),
        "p90": rank(0.9),
        "p99": rank(0.99),
        "max": round(ordered[-1], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notices", type=int, default=200)
    parser.add_argument("--rate", type=float, default=4.0, help="notices sent a second")
    parser.add_argument("--targets", type=int, default=3, help="at most this many posts per notice")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="suraksha-bench-notices-") as folder:
        base = Path(folder) / "demo"
        env, demo_s = build_demo(base)
        os.environ.update(env)
        platform = Platform(Settings.load())
        posts, accounts, items = demo_posts(platform)
        shown = platform.flagger_add(
            NewFlagger(
                name="bench-ngo",
                organisation="Benchmark Child Rights Foundation",
                country="IN",
                designation="partner",
                contacts=["desk <desk@ngo.example>"],
                expertise=("sale_or_solicitation",),
                priority=70,
            ),
            actor="cli:bench",
        )
        key = str(shown["api_key"])
        port = free_port()
        server = subprocess.Popen(
            [*SURAKSHA, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        sent: list[Sent] = []
        lock = threading.Lock()
        deciders = Reviewers(platform, sent, lock, args.seed)
        try:
            client = httpx.Client(
                base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}, timeout=30
            )
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"suraksha serve did not start: {server.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
                time.sleep(0.2)
            deciders.start()
            named: set[str] = set()
            started = time.perf_counter()
            for n in range(args.notices):
                due = started + n / args.rate
                time.sleep(max(0.0, due - time.perf_counter()))
                count = rng.randint(1, args.targets)
                chosen = rng.sample([p for p in posts if p not in named] or posts, count)
                named.update(chosen)
                targets = [
                    {"url": POST_URL.format(item_id=p)} if i % 2 else {"platform_id": p}
                    for i, p in enumerate(chosen)
                ]
                body = {
                    "reference": f"BENCH-{n}",
                    "category": "sale_or_solicitation",
                    "explanation": "Offers sets of pictures for UPI payments (benchmark: benign data).",
                    "targets": targets,
                }
                posted = time.perf_counter()
                answer = client.post("/api/v1/notices", json=body)
                answered = time.perf_counter()
                if answer.status_code != 201:
                    raise SystemExit(f"notice {n}: HTTP {answer.status_code} {answer.text[:500]}")
                with lock:
                    sent.append(Sent(int(answer.json()["id"]), posted, answered, count))
                poll(client, sent, lock)
            while any(s.outcome_at is None for s in sent) and deciders.is_alive():
                if time.perf_counter() - started > 600 + args.notices / args.rate:
                    break
                poll(client, sent, lock)
                time.sleep(0.02)
            wall = time.perf_counter() - started
        finally:
            deciders.stop.set()
            server.terminate()
            server.wait(timeout=30)
        accuracy = platform.flagger_figures()
    done = [s for s in sent if s.outcome_at is not None]
    result = {
        "demo": {"accounts": accounts, "posts": items, "built_s": round(demo_s, 1)},
        "notices": args.notices,
        "rate_per_s": args.rate,
        "targets_named": sum(s.targets for s in sent),
        "decided": len(done),
        "outcomes": {
            o: sum(1 for s in done if s.outcome == o) for o in sorted({s.outcome for s in done if s.outcome})
        },
        "wall_s": round(wall, 1),
        "acknowledgement_s": spread([s.acknowledged_at - s.posted_at for s in sent]),
        "receipt_to_review_s": spread([s.queued_at - s.posted_at for s in sent if s.queued_at is not None]),
        "decision_to_outcome_s": spread(
            [
                s.outcome_at - s.decided_at
                for s in done
                if s.decided_at is not None and s.outcome_at is not None
            ]
        ),
        "notice_to_decision_s": spread(
            [s.outcome_at - s.posted_at for s in done if s.outcome_at is not None]
        ),
        "reviewer_errors": deciders.errors[:5],
        "flagger_accuracy": [f.as_dict() for f in accuracy if f.flagger == "bench-ngo"],
        "machine": f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}",
    }
    if args.json:
        print(json.dumps(result, indent=2, default=str))
        return
    print(
        f"demo: {accounts} accounts, {items} posts (built in {demo_s:.0f} s); {args.notices} notices at "
        f"{args.rate}/s naming {result['targets_named']} posts; decided {len(done)} in {wall:.0f} s; "
        f"outcomes {result['outcomes']}; {result['machine']}"
    )
    print(f"{'seconds':<24}{'p50':>9}{'p90':>9}{'p99':>9}{'max':>9}")
    for name in ("acknowledgement_s", "receipt_to_review_s", "decision_to_outcome_s", "notice_to_decision_s"):
        s = result[name]
        assert isinstance(s, dict)
        print(
            f"{name[:-2].replace('_', ' '):<24}"
            + "".join(f"{s[k] if s[k] is not None else '-':>9}" for k in ("p50", "p90", "p99", "max"))
        )
    print("yardsticks (IT Rules r.3(2)): acknowledge within 24 h; 2 h for one's own intimate imagery")
    if deciders.errors:
        print(f"reviewer errors ({len(deciders.errors)}): {deciders.errors[:3]}")


def poll(client: httpx.Client, sent: list[Sent], lock: threading.Lock) -> None:
    """Read every notice not yet decided once (the flagger's status route)."""
    with lock:
        waiting = [s for s in sent if s.outcome_at is None and s.decided_at is not None]
    for notice in waiting:
        read = client.get(f"/api/v1/notices/{notice.notice_id}")
        if read.status_code == 200 and read.json()["state"] == "decided":
            notice.outcome_at = time.perf_counter()
            notice.outcome = read.json().get("outcome")


if __name__ == "__main__":
    main()
