"""Benchmark: how long three kiosks take to share one board through Syncthing.

Run by hand (not part of the test run; needs /usr/bin/syncthing):

    .venv/bin/python tests/perf/network_bench.py                 # 3 kiosks x 2,000 open posts
    .venv/bin/python tests/perf/network_bench.py --posts 500 --kiosks 2 --every 10

Each kiosk's data folder is seeded with --posts open posts of its own (realistic lengths, some
with replies; kiosk/cli/seed.py's posts, made the kiosk's own) and paired with the others in
its settings, as a coordinator pairs on /coordinate/network; then three real Syncthing
processes and three `kiosk serve` processes (network loop on, every --every seconds) start on
loopback, and the clock runs until every kiosk holds every kiosk's posts (its /healthz
live_posts). It prints a table (and JSON): per kiosk, the start (which writes its posts into its
outbox as records), when the other kiosks' records had all arrived (Syncthing's part) and when
they were all applied (the inbox's part).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(TESTS.parent), str(TESTS)]

from kiosk.cli.seed import seed  # noqa: E402
from kiosk.core.store import Store  # noqa: E402
from kiosk.core.times import utcnow  # noqa: E402
from kiosk.network import setup  # noqa: E402
from network_nodes import Node  # noqa: E402

NAMES = ("Library", "Church hall", "School", "Youth club", "Clinic")


def seed_own(data: Path, posts: int, rnd: random.Random) -> str:
    """``posts`` open posts made at this kiosk, as `kiosk seed` makes them (their home is this
    kiosk, so they travel)."""
    store = Store(data)
    try:
        seed(store, live=posts, archived=0, now=utcnow(), rnd_seed=rnd.randint(1, 10**6))
        return store.kiosk_id
    finally:
        store.close()


def pair_in_settings(node: Node, others: list[Node]) -> None:
    """What the coordinators' page stores when they pair (setup.add_peer), before the start."""
    store = Store(node.data)
    try:
        for other in others:
            setup.add_peer(store, other.st.device_id, other.name, utcnow(), other.st.listen)
    finally:
        store.close()


def received(node: Node, others: list[Node]) -> bool:
    """Every other kiosk's records complete in this kiosk's copy of its folder."""
    for other in others:
        theirs = other.outbox / "records"
        mine = node.data / "network" / "peers" / other.kiosk_id / "records"
        for segment in theirs.glob("*.jsonl"):
            copy = mine / segment.name
            if not copy.is_file() or copy.stat().st_size != segment.stat().st_size:
                return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=3, choices=range(2, len(NAMES) + 1))
    parser.add_argument("--posts", type=int, default=2000, help="open posts made at each kiosk")
    parser.add_argument("--every", type=int, default=1, help="KIOSK_NETWORK_EVERY_SECONDS")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--json", dest="json_path", default="tests/perf/results/network_bench.json")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="kiosk-network-bench-"))
    nodes: list[Node] = []
    total = args.kiosks * args.posts
    results = {"machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
               "date": time.strftime("%Y-%m-%d"), "kiosks": args.kiosks, "posts_each": args.posts,
               "every_s": args.every, "kiosk": {}}
    try:
        rnd = random.Random(1)
        print(f"seeding {args.kiosks} kiosks with {args.posts} posts each ...", flush=True)
        for n in range(args.kiosks):
            node = Node(work, chr(ord("a") + n), NAMES[n], every=args.every, coordinator=False)
            seed_own(node.data, args.posts, rnd)
            nodes.append(node)
        for node in nodes:
            pair_in_settings(node, [o for o in nodes if o is not node])
        print(f"starting {args.kiosks} Syncthing and {args.kiosks} kiosk serve; waiting for {total} posts each ...",
              flush=True)
        began = time.monotonic()
        for node in nodes:
            t0 = time.monotonic()
            node.start()
            results["kiosk"][node.name] = {"start_s": time.monotonic() - t0,
                                           "records_written": _lines(node.outbox)}
        pending = {node.name: node for node in nodes}
        arrived: dict[str, float] = {}
        deadline = began + args.timeout
        while pending and time.monotonic() < deadline:
            for name, node in list(pending.items()):
                others = [o for o in nodes if o is not node]
                if name not in arrived and received(node, others):
                    arrived[name] = time.monotonic() - began
                count = node.live_count()
                results["kiosk"][name]["live_posts"] = count
                if count >= total:
                    results["kiosk"][name].update(all_posts_s=time.monotonic() - began,
                                                  records_arrived_s=arrived.get(name))
                    del pending[name]
            time.sleep(0.2)
        results["all_s"] = None if pending else max(r["all_posts_s"] for r in results["kiosk"].values())
        results["outbox_bytes"] = sum(p.stat().st_size for p in (nodes[0].outbox / "records").glob("*.jsonl"))
    finally:
        for node in nodes:
            node.close()
        shutil.rmtree(work, ignore_errors=True)
    report(results, total)
    out = Path(args.json_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"JSON: {out}")


def _lines(outbox: Path) -> int:
    return sum(p.read_bytes().count(b"\n") for p in (outbox / "records").glob("*.jsonl"))


def report(results: dict, total: int) -> None:
    print(f"\n{results['machine']}, {results['date']}: {results['kiosks']} kiosks x {results['posts_each']} posts, "
          f"network pass every {results['every_s']} s; one outbox {results.get('outbox_bytes', 0) / 1e6:.1f} MB")
    print(f"{'kiosk':14}{'start s':>9}{'records':>9}{'arrived s':>11}{'all posts s':>13}{'posts':>8}")
    for name, r in results["kiosk"].items():
        arrived = f"{r['records_arrived_s']:.1f}" if r.get("records_arrived_s") is not None else "-"
        done = f"{r['all_posts_s']:.1f}" if r.get("all_posts_s") is not None else "not yet"
        print(f"{name:14}{r['start_s']:9.2f}{r['records_written']:9d}{arrived:>11}{done:>13}{r.get('live_posts', 0):8d}")
    print(f"every kiosk holds all {total} posts after: "
          + (f"{results['all_s']:.1f} s" if results["all_s"] is not None else "did not converge in time"))


if __name__ == "__main__":
    main()
