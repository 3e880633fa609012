"""Text rules throughput: ``RuleEngine.evaluate`` per item, and where its time goes, on one core.

    .venv/bin/python benchmarks/rules.py [--items 2000] [--json]

The corpus is synthetic and benign: items of a post text (40-400 characters), a bio, a display name and
a handle, built from a fixed seed. About a third carry the default pack's signals (sale offers, UPI IDs,
phone numbers, messenger links, wallets), some of them disguised (leetspeak, look-alike letters,
zero-width characters, spaced letters); the rest are ordinary prose. Reported: items per second and
per-item latency percentiles for the whole ``evaluate``, and the same items through the three stages
alone (normalise, entity extraction, the default pack's rules), then the worst case: one field of the
largest size allowed (64 KiB), clean and crowded.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from collections.abc import Callable

from suraksha.rules import RuleEngine, TextField, extract_entities, normalise
from suraksha.rules.evaluate import evaluate_rules, prepare_field
from suraksha.rules.packs import default_pack_path, load_pack

SEED = 20251124
PROSE = (
    "went to the market today and bought fresh vegetables for the week",
    "our team won the cricket match by four wickets, what a game",
    "new recipe: lentil soup with cumin, ginger and a little lemon",
    "reading a wonderful novel about a family of weavers in varanasi",
    "the monsoon came early this year and the river is full again",
    "happy birthday to my dearest friend, many happy returns of the day",
)
SIGNALS = (
    "DM for price", "p@1d c0nt3nt available", "pay via upi ravi.k@okaxis", "call me 98765 43210",
    "join my telegram t.me/example_channel", "link in bio bit.ly/example",
    "send usdt TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t",
    "\u1d05\u1d0d \ua730\u1d0f\u0280 \u1d18\u0280\u026a\u1d04\u1d07",
    "s e l l i n g content", "wa.me/919876543210", "ravi [at] oksbi", "pa\u200bid con\u200btent",
    "advance payment only",
)  # fmt: skip


def corpus(count: int) -> list[dict[str, str]]:
    rng = random.Random(SEED)
    items = []
    for index in range(count):
        words = " ".join(rng.choice(PROSE) for _ in range(rng.randint(1, 6)))
        text = words[: rng.randint(40, 400)]
        bio = rng.choice(PROSE)[:80]
        if index % 3 == 0:
            text = f"{text} {rng.choice(SIGNALS)} {rng.choice(SIGNALS)}"
            bio = f"{bio} {rng.choice(SIGNALS)}"
        name, handle = f"Person {index}", f"person_{index}"
        items.append({"text": text, "bio": bio, "display_name": name, "handle": handle})
    return items


def timed(run: Callable[[dict[str, str]], object], items: list[dict[str, str]]) -> dict[str, float]:
    latencies = []
    started = time.perf_counter()
    for item in items:
        begin = time.perf_counter()
        run(item)
        latencies.append(time.perf_counter() - begin)
    total = time.perf_counter() - started
    latencies.sort()
    return {
        "items_per_s": len(items) / total,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
        "max_ms": latencies[-1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    engine = RuleEngine.from_packs()
    pack = load_pack(default_pack_path())
    items = corpus(args.items)
    engine.evaluate(items[0])  # warm caches

    def rules_only(item: dict[str, str]) -> float:
        prepared = [
            prepare_field(TextField(k), v, max_chars=65536, phone_region="IN") for k, v in item.items()
        ]
        started = time.perf_counter()
        evaluate_rules(pack.name, pack.version, pack.rules, prepared)
        return time.perf_counter() - started

    results = {
        "evaluate": timed(engine.evaluate, items),
        "normalise": timed(lambda item: [normalise(v) for v in item.values()], items),
        "entities": timed(lambda item: [extract_entities(v) for v in item.values()], items),
    }
    rule_seconds = [rules_only(item) for item in items]
    results["rules"] = {"mean_ms": statistics.fmean(rule_seconds) * 1000}
    largest = 64 * 1024
    crowded = ("dm for price ravi@okaxis 98765 43210 bit.ly/x " * 2000)[:largest]
    clean = (" ".join(PROSE) * 200)[:largest]
    for name, text in (("worst_clean_64k", clean), ("worst_crowded_64k", crowded)):
        started = time.perf_counter()
        engine.evaluate({"text": text})
        results[name] = {"ms": (time.perf_counter() - started) * 1000}

    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"{len(items)} items, one process, default pack ({len(pack.rules)} rules)")
    for name, row in results.items():
        print(f"  {name:18s} " + "  ".join(f"{k}={v:,.3f}" for k, v in row.items()))


if __name__ == "__main__":
    main()
