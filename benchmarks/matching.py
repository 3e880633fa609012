"""PDQ matching at 1M-50M hashes: our index against python-threatexchange and FAISS, one thread.

    .venv/bin/python benchmarks/matching.py [--sizes 1000000,10000000] [--kinds random,clustered]
        [--queries 10000] [--peer-queries 1000] [--oracle-queries 200] [--skip-peers] [--json]

Data (benign, synthetic, cached in ``.bench-cache/matching-v1/``): ``random`` hashes, and
``clustered`` ones (families of ~32 near-duplicates within 24 bits of a centre, as re-encoded and
cropped copies of one image give). Queries: half are an entry with 0..31 bits flipped (uniform), half
random; threshold 31.

Each index runs in its own child process pinned to one core (OMP, numba and FAISS set to one
thread) on the same data files:

- ``pytx``: python-threatexchange ``PDQIndex`` (FAISS ``IndexBinaryMultiHash``, what HMA serves),
  built from hex strings, queried one hash at a time (its API);
- ``faiss-flat`` / ``faiss-mih``: ``IndexBinaryFlat`` and ``IndexBinaryMultiHash(256, 16, 16)``
  (nflip 1), batch ``range_search``;
- ``ours``: ``PdqIndex.build`` then a snapshot write; batch queries and a loop of ``query_one``;
- ``ours-snapshot``: a fresh process opening that snapshot (memory-mapped, CRC verified).

Memory: what the index holds: resident-set growth of the child from before the index's input was
loaded (libraries imported, code warmed up) to after the queries, with the input released; an
index that keeps its input (pytx keeps every hex string) is charged for it. Peak: the high-water
mark over loading the input and building, from the same base. For ``ours-snapshot`` the resident
set counts the mapped snapshot pages the queries touched (shared page cache: a second process adds
nothing).
Peers answer the first ``--peer-queries`` queries (FAISS's flat scan takes ~50 ms a query at 10M).
Recall: every result is checked against a numpy brute-force oracle (XOR + popcount) on the first
``--oracle-queries`` queries; misses and extra results are both reported.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".bench-cache" / "matching-v1"
THRESHOLD = 31
CONTESTANTS = ("pytx", "faiss-flat", "faiss-mih", "ours", "ours-snapshot")
LABELS = {
    "pytx": "pytx PDQIndex",
    "faiss-flat": "faiss IndexBinaryFlat",
    "faiss-mih": "faiss IndexBinaryMultiHash",
    "ours": "suraksha PdqIndex (built)",
    "ours-snapshot": "suraksha PdqIndex (snapshot)",
}


# -- data ------------------------------------------------------------------------------------------


def _flip(rng: np.random.Generator, value: npt.NDArray[np.uint8], count: int) -> npt.NDArray[np.uint8]:
    out = value.copy()
    for bit in rng.choice(256, size=count, replace=False):
        out[bit >> 3] ^= np.uint8(1 << (bit & 7))
    return out


def make_hashes(kind: str, n: int, seed: int) -> npt.NDArray[np.uint8]:
    rng = np.random.default_rng(seed)
    if kind == "random":
        return rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    if kind != "clustered":
        raise SystemExit(f"unknown data kind {kind!r}: random or clustered")
    centres = rng.integers(0, 256, size=(max(1, n // 32), 32), dtype=np.uint8)
    out = centres[rng.integers(0, centres.shape[0], size=n)]
    flips = rng.integers(0, 25, size=n)
    rows = np.arange(n)
    for j in range(24):
        chosen = rows[flips > j]
        bits = rng.integers(0, 256, size=chosen.shape[0])
        out[chosen, bits >> 3] ^= (1 << (bits & 7)).astype(np.uint8)
    return out


def dataset(kind: str, n: int, n_queries: int) -> tuple[Path, Path]:
    """Paths of the cached hashes (.npy) and queries (.npz: queries, planted row, planted distance)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    hashes_path = CACHE / f"{kind}-{n}.npy"
    queries_path = CACHE / f"{kind}-{n}-queries-{n_queries}.npz"
    if not hashes_path.exists():
        print(f"generating {n:,} {kind} hashes ...", file=sys.stderr, flush=True)
        np.save(hashes_path, make_hashes(kind, n, seed=n + len(kind)))
    if not queries_path.exists():
        hashes = np.load(hashes_path, mmap_mode="r")
        rng = np.random.default_rng(n_queries + n)
        queries = rng.integers(0, 256, size=(n_queries, 32), dtype=np.uint8)
        planted = rng.permutation(n_queries)[: n_queries // 2]
        rows = np.full(n_queries, -1, dtype=np.int64)
        distances = np.full(n_queries, -1, dtype=np.int64)
        for q in planted:
            rows[q] = int(rng.integers(0, n))
            distances[q] = int(rng.integers(0, THRESHOLD + 1))
            queries[q] = _flip(rng, np.asarray(hashes[rows[q]]), int(distances[q]))
        np.savez(queries_path, queries=queries, rows=rows, distances=distances)
    return hashes_path, queries_path


def oracle(hashes_path: Path, queries_path: Path, count: int) -> list[tuple[int, int, int]]:
    """Brute force (numpy XOR + popcount) matches of the first `count` queries, cached."""
    path = queries_path.with_name(queries_path.stem + f"-oracle-{count}.npy")
    if path.exists():
        return [tuple(r) for r in np.load(path).tolist()]  # type: ignore[misc]
    print(f"brute-forcing the oracle for {count} queries ...", file=sys.stderr, flush=True)
    words = np.load(hashes_path, mmap_mode="r").view("<u8").reshape(-1, 4)
    queries = np.load(queries_path)["queries"][:count].view("<u8").reshape(-1, 4)
    found: list[tuple[int, int, int]] = []
    step = 1 << 20
    for start in range(0, words.shape[0], step):
        block = np.asarray(words[start : start + step])
        for q in range(queries.shape[0]):
            d = np.bitwise_count(block ^ queries[q]).sum(axis=1)
            for row in np.flatnonzero(d <= THRESHOLD):
                found.append((q, start + int(row), int(d[row])))
    found.sort()
    np.save(path, np.array(found, dtype=np.int64).reshape(-1, 3))
    return found


# -- measuring inside a child --------------------------------------------------------------------


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak() -> None:
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def _one_thread() -> None:
    for name in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = "1"
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[-1]})


def _trim() -> None:
    """Hand freed memory back to the OS, so the resident set shows what is still held."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def child(name: str, hashes_path: Path, queries_path: Path, n_queries: int, snapshot: Path) -> dict[str, Any]:
    """Build (or open) one index and query it. Memory is what the index holds: resident-set growth
    from before its input was loaded (libraries imported, code warmed up) to after the queries, with
    the input released; an index that keeps its input (pytx keeps its hex strings) is charged for it.
    Peak: the high-water mark over loading the input and building, from the same base."""
    _one_thread()
    queries = np.load(queries_path)["queries"][:n_queries]
    warm_hashes = np.random.default_rng(0).integers(0, 256, size=(5000, 32), dtype=np.uint8)
    result: dict[str, Any] = {"name": name, "queries": int(queries.shape[0])}
    if name == "pytx":
        from threatexchange.signal_type.pdq.pdq_index import PDQIndex

        hex_queries = [q.tobytes().hex() for q in queries]
        PDQIndex([(h.tobytes().hex(), i) for i, h in enumerate(warm_hashes[:10])]).query(hex_queries[0])
        _trim()
        base = _status("VmRSS")
        _reset_peak()
        hashes = np.load(hashes_path)
        entries = [(h.tobytes().hex(), i) for i, h in enumerate(hashes)]
        del hashes
        start = time.perf_counter()
        index = PDQIndex(entries)
        result["build_s"] = time.perf_counter() - start
        result["peak_bytes"] = _status("VmHWM") - base
        del entries
        _trim()
        found = []
        start = time.perf_counter()
        for q, value in enumerate(hex_queries):
            found.extend((q, int(m.metadata), int(m.similarity_info.distance)) for m in index.query(value))
        result["query_s"] = time.perf_counter() - start
    elif name in ("faiss-flat", "faiss-mih"):
        import faiss

        faiss.omp_set_num_threads(1)

        def make() -> Any:
            if name == "faiss-flat":
                return faiss.IndexBinaryFlat(256)
            index = faiss.IndexBinaryMultiHash(256, 16, 16)
            index.nflip = THRESHOLD // 16
            return index

        warm = make()
        warm.add(warm_hashes[:1000])
        warm.range_search(queries[:2], THRESHOLD + 1)
        del warm
        _trim()
        base = _status("VmRSS")
        _reset_peak()
        hashes = np.load(hashes_path)
        start = time.perf_counter()
        index = make()
        index.add(hashes)
        result["build_s"] = time.perf_counter() - start
        result["peak_bytes"] = _status("VmHWM") - base
        del hashes
        _trim()
        start = time.perf_counter()
        limits, distances, labels = index.range_search(queries, THRESHOLD + 1)
        result["query_s"] = time.perf_counter() - start
        found = [
            (q, int(labels[i]), int(distances[i]))
            for q in range(queries.shape[0])
            for i in range(int(limits[q]), int(limits[q + 1]))
        ]
    else:
        sys.path.insert(0, str(ROOT))
        from suraksha.signals.index import PdqIndex

        # compile (or load from numba's cache) both kernel variants: built arrays and read-only maps
        warm = PdqIndex.build(np.arange(5000), warm_hashes)
        warm_path = snapshot.with_name(f".warm-{os.getpid()}.snap")
        warm.save(warm_path)
        for each in (warm, PdqIndex.open(warm_path)):
            each.query(queries[:5])
            each.query_one(queries[0])
        warm_path.unlink()
        del warm, each
        _trim()
        base = _status("VmRSS")
        _reset_peak()
        if name == "ours":
            hashes = np.load(hashes_path)
            ids = np.arange(hashes.shape[0], dtype=np.int64)
            start = time.perf_counter()
            index = PdqIndex.build(ids, hashes)
            result["build_s"] = time.perf_counter() - start
            result["peak_bytes"] = _status("VmHWM") - base
            del hashes, ids
            _trim()
        else:
            start = time.perf_counter()
            index = PdqIndex.open(snapshot)
            result["load_s"] = time.perf_counter() - start
            start = time.perf_counter()
            PdqIndex.open(snapshot, verify=False)
            result["load_unverified_s"] = time.perf_counter() - start
        result["key_bits"] = index.stats().key_bits
        index.query(queries[:100], threshold=THRESHOLD)
        start = time.perf_counter()
        matches = index.query(queries, threshold=THRESHOLD)
        result["query_s"] = time.perf_counter() - start
        found = list(
            zip(
                matches.query_index.tolist(),
                matches.entry_id.tolist(),
                matches.distance.tolist(),
                strict=True,
            )
        )
        start = time.perf_counter()
        for value in queries:
            index.query_one(value, threshold=THRESHOLD)
        result["single_query_s"] = time.perf_counter() - start
    _trim()
    result["index_bytes"] = _status("VmRSS") - base
    if name == "ours":
        start = time.perf_counter()
        info = index.save(snapshot)
        result["save_s"] = time.perf_counter() - start
        result["snapshot_bytes"] = info.file_size
    result["found"] = found
    return result


# -- driver ------------------------------------------------------------------------------------------


def run_child(name: str, hashes: Path, queries: Path, n_queries: int, snapshot: Path) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", name, "--data", str(hashes), "--query-file", str(queries)]
    command += ["--queries", str(n_queries), "--snapshot", str(snapshot)]
    env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        return {"name": name, "error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def score(
    result: dict[str, Any],
    truth: list[tuple[int, int, int]],
    planted: npt.NDArray[np.int64],
    rows: Any,
    n_oracle: int,
) -> None:
    found = [tuple(t) for t in result.pop("found")]
    sample = {t for t in found if t[0] < n_oracle}
    expected = set(truth)
    result["recall"] = len(sample & expected) / max(1, len(expected))
    result["extra"] = len(sample - expected)
    got = {(q, e): d for q, e, d in found}
    planted_queries = [q for q in range(result["queries"]) if planted[q] >= 0]
    hits = sum(got.get((q, int(rows[q]))) == int(planted[q]) for q in planted_queries)
    result["planted_recall"] = hits / max(1, len(planted_queries))
    result["queries_per_s"] = result["queries"] / result["query_s"]
    if "single_query_s" in result:
        result["single_queries_per_s"] = result["queries"] / result["single_query_s"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000")
    parser.add_argument("--kinds", default="random,clustered")
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--peer-queries", type=int, default=1000)
    parser.add_argument("--oracle-queries", type=int, default=200)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=CONTESTANTS, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--query-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--snapshot", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.data, args.query_file, args.queries, args.snapshot)))
        return
    report: list[dict[str, Any]] = []
    for n in (int(s) for s in args.sizes.split(",")):
        for kind in args.kinds.split(","):
            hashes, queries = dataset(kind, n, args.queries)
            n_oracle = min(args.oracle_queries, args.queries)
            truth = oracle(hashes, queries, n_oracle)
            stored = np.load(queries)
            snapshot = CACHE / f"{kind}-{n}.snap"
            names = ["ours", "ours-snapshot"] + (
                [] if args.skip_peers else ["pytx", "faiss-mih", "faiss-flat"]
            )
            results = []
            for name in names:
                count = args.queries if name.startswith("ours") else min(args.peer_queries, args.queries)
                print(f"{kind} {n:,}: {LABELS[name]} ...", file=sys.stderr, flush=True)
                result = run_child(name, hashes, queries, max(count, n_oracle), snapshot)
                if "error" not in result:
                    score(result, truth, stored["distances"], stored["rows"], n_oracle)
                results.append(result)
            snapshot.unlink(missing_ok=True)
            pytx = next((r for r in results if r["name"] == "pytx" and "error" not in r), None)
            for result in results:
                if pytx is not None and "error" not in result:
                    result["x_pytx_queries_per_s"] = result["queries_per_s"] / pytx["queries_per_s"]
                    result["x_pytx_memory"] = pytx["index_bytes"] / max(1, result["index_bytes"])
                    if "build_s" in result:
                        result["x_pytx_build"] = pytx["build_s"] / result["build_s"]
            report.append({"kind": kind, "n": n, "threshold": THRESHOLD, "results": results})
            if not args.json:
                print_table(report[-1])
    if args.json:
        print(json.dumps(report, indent=2))


def print_table(entry: dict[str, Any]) -> None:
    print(f"\n{entry['kind']} hashes, {entry['n']:,} entries, threshold {entry['threshold']}, one thread")
    head = f"{'index':30} {'build s':>8} {'load s':>7} {'RSS MB':>8} {'peak MB':>8} {'queries/s':>10}"
    head += f" {'1-by-1 q/s':>10} {'recall':>7} {'extra':>5} {'x pytx q/s':>10} {'mem':>6} {'build':>6}"
    print(head)
    for r in entry["results"]:
        if "error" in r:
            print(f"{LABELS[r['name']]:30} failed: {r['error']}")
            continue

        def num(key: str, fmt: str, scale: float = 1.0, r: dict[str, Any] = r) -> str:
            return format(r[key] * scale, fmt) if key in r else "-"

        line = f"{LABELS[r['name']]:30} {num('build_s', '8.2f')} {num('load_s', '7.2f')}"
        line += f" {num('index_bytes', '8.0f', 1e-6)} {num('peak_bytes', '8.0f', 1e-6)}"
        line += f" {num('queries_per_s', '10.0f')} {num('single_queries_per_s', '10.0f')}"
        line += f" {r['recall']:7.2%} {r['extra']:5d} {num('x_pytx_queries_per_s', '10.1f')}"
        line += f" {num('x_pytx_memory', '6.1f')} {num('x_pytx_build', '6.1f')}"
        print(line)


if __name__ == "__main__":
    main()
