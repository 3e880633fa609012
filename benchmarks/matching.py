"""PDQ matching at 1M-50M hashes: our index against python-threatexchange and FAISS, one thread.

    .venv/bin/python benchmarks/matching.py [--sizes 1000000,10000000] [--kinds random,clustered]
        [--queries 10000] [--batches 1,8,64,512,1000] [--rounds 3] [--peers pytx,faiss-mih,faiss-flat]
        [--peer-queries 1000] [--oracle-queries 200] [--skip-peers] [--json]

Data (benign, synthetic, cached in ``.bench-cache/matching-v2/``): ``random`` hashes, and
``clustered`` ones (families of ~32 near-duplicates within 24 bits of a centre, as re-encoded and
cropped copies of one image give). Queries: half are an entry with 0..31 bits flipped (planted
matches), half an entry with 32..40 bits flipped (planted non-matches, just beyond the threshold);
threshold 31.

Batch sizes are measured the way the product issues them (``banks/index.py``): one photo is
``query`` of a (1, 1, 32) array with a per-bank threshold mapping (batch 1; ``query_one`` is timed
beside it), one photo with rotations is its 8 dihedral variants as a (1, 8, 32) array (batch 8),
and a video's frames are an (n, 32) array (64, 512 and 1,000 frames). Queries/s counts hashes.
Each batch size is timed over all the queries, ``--rounds`` times interleaved; the median round is
reported with the spread.

Each index runs in its own child process pinned to one core (OMP, numba and FAISS set to one
thread) on the same data files:

- ``pytx``: python-threatexchange ``PDQIndex`` (FAISS ``IndexBinaryMultiHash``, what HMA serves),
  built from hex strings, queried one hash at a time (its API: the same rate at every batch size),
  ``--rounds`` times over its queries;
- ``faiss-flat`` / ``faiss-mih``: ``IndexBinaryFlat`` and ``IndexBinaryMultiHash(256, 16, 16)``
  (nflip 1), batch ``range_search``;
- ``ours``: ``PdqIndex.build`` then a snapshot write; every batch size, and a loop of ``query_one``;
- ``ours-snapshot``: a fresh process opening that snapshot (memory-mapped, CRC verified).

Memory, two ways. Resident-set growth of the child from before the index's input was loaded
(libraries imported, code warmed up) to after the queries, with the input released; an index that
keeps its input (pytx keeps every hex string) is charged for it. And counted: ours, every array
the index keeps (`PdqIndex.stats().nbytes`: hashes, ids, groups, tables, id lookup, tombstones,
delta), or the whole snapshot file when it is memory-mapped; pytx, its FAISS index serialized
(``serialize_index_binary``: codes, ids and hash tables without allocator slack) plus its Python
(hex string, id) entries by ``sys.getsizeof``. Peak: the high-water
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
CACHE = ROOT / ".bench-cache" / "matching-v2"
THRESHOLD = 31
NEAR_MISS = (32, 40)
"""Distances of the planted non-matches."""
BATCHES = (1, 8, 64, 512, 1000)
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
    """Paths of the cached hashes (.npy) and queries (.npz: queries, planted row, planted distance:
    within the threshold for half the queries, 32..40 for the others)."""
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
        matching = np.zeros(n_queries, dtype=bool)
        matching[rng.permutation(n_queries)[: n_queries // 2]] = True
        rows = rng.integers(0, n, size=n_queries).astype(np.int64)
        distances = np.where(
            matching,
            rng.integers(0, THRESHOLD + 1, size=n_queries),
            rng.integers(NEAR_MISS[0], NEAR_MISS[1] + 1, size=n_queries),
        ).astype(np.int64)
        for q in range(n_queries):
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


def faiss_serialized_bytes(index: Any) -> int:
    import faiss

    data = faiss.serialize_index_binary(index)
    size = int(data.nbytes)
    del data
    return size


def time_batches(
    index: Any, queries: npt.NDArray[np.uint8], batches: list[int], rounds: int
) -> tuple[list[tuple[int, int, int]], dict[str, list[float]]]:
    """Every batch size over all the queries, `rounds` times interleaved (so a burst of load on the
    machine touches every size alike), shaped as the product issues them (see the module
    docstring). Returns the matches (checked to agree across sizes) and the seconds of each round."""
    n = queries.shape[0]
    by_bank = {0: THRESHOLD}  # the pipeline passes {bank id: threshold}; every entry is in group 0
    times: dict[str, list[float]] = {str(b): [] for b in batches}
    times["one"] = []
    answers: dict[str, set[tuple[int, int, int]]] = {}

    def run(label: str) -> set[tuple[int, int, int]]:
        got: set[tuple[int, int, int]] = set()
        start = time.perf_counter()
        if label == "one":
            for q in range(n):
                got.update(
                    (q, m.entry_id, m.distance) for m in index.query_one(queries[q], threshold=THRESHOLD)
                )
        elif label == "1":
            for q in range(n):
                one = queries[q : q + 1].reshape(1, 1, 32)
                got.update(
                    (q, m.entry_id, m.distance) for m in index.query(one, threshold=by_bank).for_query(0)
                )
        elif label == "8":
            # a photo and its rotations: 8 hashes as the variants of one query
            for q0 in range(0, n - n % 8, 8):
                variants = queries[q0 : q0 + 8].reshape(1, 8, 32)
                matches = index.query(variants, threshold=by_bank).for_query(0)
                got.update((q0 + int(m.variant or 0), m.entry_id, m.distance) for m in matches)
        else:
            b = int(label)
            for q0 in range(0, n, b):
                matches = index.query(queries[q0 : q0 + b], threshold=by_bank)
                got.update(
                    (q0 + q, e, d)
                    for q, e, d in zip(
                        matches.query_index.tolist(),
                        matches.entry_id.tolist(),
                        matches.distance.tolist(),
                        strict=True,
                    )
                )
        times[label].append(time.perf_counter() - start)
        return got

    labels = ["one"] + [str(b) for b in batches]
    for _ in range(rounds):
        for label in labels:
            answers[label] = run(label)
    reference = answers[str(max(batches))]
    for label, got in answers.items():
        if label == "8":
            # variants report an entry once, at its closest variant: compare on those queries only
            expected = {t for t in reference if t[0] < n - n % 8}
            got_pairs = {(q // 8, e) for q, e, _ in got}
            if got_pairs != {(q // 8, e) for q, e, _ in expected}:
                raise SystemExit("batch size 8 (variants) disagrees with the other batch sizes")
        elif got != reference:
            raise SystemExit(f"batch size {label} disagrees with batch size {max(batches)}")
    return sorted(reference), times


def child(
    name: str,
    hashes_path: Path,
    queries_path: Path,
    n_queries: int,
    snapshot: Path,
    batches: list[int],
    rounds: int,
) -> dict[str, Any]:
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
        rounds_s = []
        for round_ in range(rounds):
            start = time.perf_counter()
            for q, value in enumerate(hex_queries):
                matches = index.query(value)
                if round_ == 0:
                    found.extend((q, int(m.metadata), int(m.similarity_info.distance)) for m in matches)
            rounds_s.append(time.perf_counter() - start)
        result["query_s"] = sorted(rounds_s)[len(rounds_s) // 2]
        result["peer_s"] = rounds_s
        _trim()
        result["index_bytes"] = _status("VmRSS") - base
        serialized = faiss_serialized_bytes(index.index.faiss_index)
        strings = sys.getsizeof(index.local_id_to_entry) + sum(
            sys.getsizeof(entry) + sys.getsizeof(entry[0]) for entry in index.local_id_to_entry
        )
        result["counted_bytes"] = serialized + strings
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
        # compile (or load) every kernel variant on this index's arrays before timing
        index.query(queries[: max(batches)], threshold={0: THRESHOLD})
        index.query(queries[:8].reshape(1, 8, 32), threshold={0: THRESHOLD})
        index.query_one(queries[0], threshold=THRESHOLD)
        found, times = time_batches(index, queries, batches, rounds)
        result["batch_s"] = times
        result["query_s"] = sorted(times[str(max(batches))])[len(times[str(max(batches))]) // 2]
        result["single_query_s"] = sorted(times["one"])[len(times["one"]) // 2]
        result["counted_bytes"] = index.stats().nbytes if name == "ours" else snapshot.stat().st_size
    _trim()
    result.setdefault("index_bytes", _status("VmRSS") - base)
    if name == "ours":
        start = time.perf_counter()
        info = index.save(snapshot)
        result["save_s"] = time.perf_counter() - start
        result["snapshot_bytes"] = info.file_size
    result["found"] = found
    return result


# -- driver ------------------------------------------------------------------------------------------


def run_child(
    name: str, hashes: Path, queries: Path, n_queries: int, snapshot: Path, batches: list[int], rounds: int
) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", name, "--data", str(hashes), "--query-file", str(queries)]
    command += ["--queries", str(n_queries), "--snapshot", str(snapshot)]
    command += ["--batches", ",".join(map(str, batches)), "--rounds", str(rounds)]
    env = dict(os.environ, OMP_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        return {"name": name, "error": done.stderr.strip().splitlines()[-1:] or ["failed"]}
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def score(
    result: dict[str, Any],
    truth: list[tuple[int, int, int]],
    hashes_path: Path,
    queries: npt.NDArray[np.uint8],
    planted: npt.NDArray[np.int64],
    rows: Any,
    n_oracle: int,
) -> None:
    """Recall against the oracle on the first n_oracle queries; on every query, each planted match
    found at its distance, no planted non-match found, and no result beyond the threshold or with a
    wrong distance."""
    found = [tuple(t) for t in result.pop("found")]
    sample = {t for t in found if t[0] < n_oracle}
    expected = set(truth)
    result["recall"] = len(sample & expected) / max(1, len(expected))
    result["extra"] = len(sample - expected)
    got = {(q, e): d for q, e, d in found}
    n = result["queries"]
    matching = [q for q in range(n) if planted[q] <= THRESHOLD]
    hits = sum(got.get((q, int(rows[q]))) == int(planted[q]) for q in matching)
    result["planted_recall"] = hits / max(1, len(matching))
    result["near_misses_found"] = sum((q, int(rows[q])) in got for q in range(n) if planted[q] > THRESHOLD)
    if found:
        words = np.load(hashes_path, mmap_mode="r").view("<u8").reshape(-1, 4)
        pairs = np.array(found, dtype=np.int64)
        query_words = queries.view("<u8").reshape(-1, 4)[pairs[:, 0]]
        true = np.bitwise_count(np.asarray(words[pairs[:, 1]]) ^ query_words).sum(axis=1)
        result["wrong_results"] = int(np.sum((true != pairs[:, 2]) | (true > THRESHOLD)))
    else:
        result["wrong_results"] = 0
    result["queries_per_s"] = n / result["query_s"]
    if "single_query_s" in result:
        result["single_queries_per_s"] = n / result["single_query_s"]
    if "peer_s" in result:
        rates = sorted(n / t for t in result["peer_s"])
        result["peer_rates"] = {"median": rates[len(rates) // 2], "min": rates[0], "max": rates[-1]}
    for label, times in result.get("batch_s", {}).items():
        rates = sorted(n / t for t in times)
        result.setdefault("batch_rates", {})[label] = {
            "median": rates[len(rates) // 2],
            "min": rates[0],
            "max": rates[-1],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000")
    parser.add_argument("--kinds", default="random")
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--batches", default=",".join(map(str, BATCHES)))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peers", default="pytx", help="among pytx, faiss-mih, faiss-flat")
    parser.add_argument("--peer-queries", type=int, default=1000)
    parser.add_argument("--oracle-queries", type=int, default=200)
    parser.add_argument("--skip-peers", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", choices=CONTESTANTS, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--query-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--snapshot", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    batches = sorted({int(b) for b in args.batches.split(",")})
    if args.child:
        result = child(
            args.child, args.data, args.query_file, args.queries, args.snapshot, batches, args.rounds
        )
        print(json.dumps(result))
        return
    peers = [] if args.skip_peers else [p for p in args.peers.split(",") if p]
    report: list[dict[str, Any]] = []
    for n in (int(s) for s in args.sizes.split(",")):
        for kind in args.kinds.split(","):
            hashes, queries = dataset(kind, n, args.queries)
            n_oracle = min(args.oracle_queries, args.queries)
            truth = oracle(hashes, queries, n_oracle)
            stored = np.load(queries)
            snapshot = CACHE / f"{kind}-{n}.snap"
            results = []
            for name in ["ours", "ours-snapshot", *peers]:
                count = args.queries if name.startswith("ours") else min(args.peer_queries, args.queries)
                print(f"{kind} {n:,}: {LABELS[name]} ...", file=sys.stderr, flush=True)
                result = run_child(
                    name, hashes, queries, max(count, n_oracle), snapshot, batches, args.rounds
                )
                if "error" not in result:
                    score(
                        result,
                        truth,
                        hashes,
                        stored["queries"],
                        stored["distances"],
                        stored["rows"],
                        n_oracle,
                    )
                results.append(result)
            snapshot.unlink(missing_ok=True)
            pytx = next((r for r in results if r["name"] == "pytx" and "error" not in r), None)
            for result in results:
                if pytx is not None and "error" not in result:
                    result["x_pytx_queries_per_s"] = result["queries_per_s"] / pytx["queries_per_s"]
                    result["x_pytx_memory"] = pytx["index_bytes"] / max(1, result["index_bytes"])
                    if "counted_bytes" in result:
                        result["x_pytx_counted_memory"] = pytx["counted_bytes"] / max(
                            1, result["counted_bytes"]
                        )
                    if "build_s" in result:
                        result["x_pytx_build"] = pytx["build_s"] / result["build_s"]
            load = os.getloadavg()
            report.append({"kind": kind, "n": n, "threshold": THRESHOLD, "load": load, "results": results})
            if not args.json:
                print_table(report[-1], pytx)
    if args.json:
        print(json.dumps(report, indent=2))


def print_table(entry: dict[str, Any], pytx: dict[str, Any] | None) -> None:
    load = ", ".join(f"{x:.2f}" for x in entry["load"])
    print(f"\n{entry['kind']} hashes, {entry['n']:,} entries, threshold {entry['threshold']}, one thread")
    print(f"load average at the end: {load}")
    head = f"{'index':30} {'build s':>8} {'load s':>7} {'RSS MB':>8} {'counted MB':>10} {'peak MB':>8}"
    head += f" {'recall':>7} {'planted':>7} {'near':>5} {'wrong':>5}"
    head += f" {'x mem RSS':>9} {'x counted':>9} {'x build':>7}"
    print(head)
    for r in entry["results"]:
        if "error" in r:
            print(f"{LABELS[r['name']]:30} failed: {r['error']}")
            continue

        def num(key: str, fmt: str, scale: float = 1.0, r: dict[str, Any] = r) -> str:
            return format(r[key] * scale, fmt) if key in r else "-"

        line = f"{LABELS[r['name']]:30} {num('build_s', '8.2f')} {num('load_s', '7.2f')}"
        line += f" {num('index_bytes', '8.0f', 1e-6)} {num('counted_bytes', '10.0f', 1e-6)}"
        line += f" {num('peak_bytes', '8.0f', 1e-6)} {r['recall']:7.2%} {r['planted_recall']:7.2%}"
        line += f" {r['near_misses_found']:5d} {r['wrong_results']:5d} {num('x_pytx_memory', '9.1f')}"
        line += f" {num('x_pytx_counted_memory', '9.1f')} {num('x_pytx_build', '7.1f')}"
        print(line)
    print("\nqueries/s (hashes) by batch size: median of the rounds [min-max], x pytx one at a time")
    names = {"one": "query_one"}
    print(f"{'index':30} " + " ".join(f"{names.get(label, label):>24}" for label in _labels(entry)))
    for r in entry["results"]:
        if "error" in r:
            continue
        cells = []
        for label in _labels(entry):
            rate = r.get("batch_rates", {}).get(label)
            if rate is None:
                if r["name"] != "pytx":
                    cells.append(f"{'-':>24}")
                    continue
                rate = r["peer_rates"]
            ratio = "" if pytx is None else f" x{rate['median'] / pytx['queries_per_s']:.1f}"
            text = f"{rate['median']:,.0f} [{rate['min']:,.0f}-{rate['max']:,.0f}]{ratio}"
            cells.append(f"{text:>24}")
        print(f"{LABELS[r['name']]:30} " + " ".join(cells))


def _labels(entry: dict[str, Any]) -> list[str]:
    for r in entry["results"]:
        if "batch_rates" in r:
            return list(r["batch_rates"])
    return []


if __name__ == "__main__":
    main()
