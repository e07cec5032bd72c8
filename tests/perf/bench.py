"""Benchmark: the kiosk against a minimal Flask "hello" app on the same Waitress settings.

Run by hand (not part of the test run), on this machine or a coordinator's Pi:

    .venv/bin/python tests/perf/bench.py                # 5,000 and 500 live, 50,000 archived, 16 clients
    .venv/bin/python tests/perf/bench.py --live 5000 --base-live 500 --seconds 4 --json out.json

It seeds data folders with `kiosk seed`, starts `kiosk serve` on loopback in a separate
process, drives it with concurrent keep-alive clients (threads), and prints a table and JSON:
requests per second and p50 / p95 / p99 latency for /board, /p/<id>, /p/<id>/qr.svg (with the
page cache on, then off) and posting, each as a ratio to the hello app; posting with --live
against --base-live open posts (the same archive), and posting against the ceiling scrypt sets
(the same two hashes at once the server allows, measured in the same run); the server's peak
memory; the time from start to the first answered /healthz. The write budgets are turned off
(KIOSK_WRITE_BUDGET_SCALE=0): the bench is one "neighborhood" posting far past them.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

KIOSK = str(Path(sys.executable).parent / "kiosk")
HELLO = """
import sys
from flask import Flask
from waitress import serve
app = Flask("hello")
@app.get("/")
def hello():
    return "hello"
serve(app, host="127.0.0.1", port=int(sys.argv[1]), threads=8, ident="kiosk", max_request_body_size=1048576,
      clear_untrusted_proxy_headers=True, expose_tracebacks=False)
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, command: list[str], env: dict):
        self.port = free_port()
        self.command = [part.replace("{port}", str(self.port)) for part in command]
        self.env = env

    def __enter__(self):
        started = time.monotonic()
        # A file, not a pipe: Waitress warns about its queue under load, and a full pipe would
        # stall the server.
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(self.command, env=self.env, stdout=subprocess.DEVNULL, stderr=self.log)
        while True:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise SystemExit(f"server failed: {self.log.read().decode()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/healthz" if "serve" in self.command else "/")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.005)
        self.startup = time.monotonic() - started
        return self

    def peak_rss_mb(self) -> float:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=30)


class Client:
    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookie = ""

    def send(self, method: str, path: str, body: str | None = None):
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        cookie = response.getheader("Set-Cookie")
        if cookie and cookie.startswith("kiosk="):
            self.cookie = cookie.split(";", 1)[0]
        return response.status, data


def drive(port: int, clients: int, seconds: float, make_request) -> dict:
    """Keep-alive clients in threads, each sending make_request(client) until time is up."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def worker():
        nonlocal errors
        client = Client(port)
        prepare = getattr(make_request, "prepare", None)
        state = prepare(client) if prepare else None
        mine, bad = [], 0
        while time.monotonic() < stop:
            t0 = time.perf_counter()
            status = make_request(client, state)
            mine.append(time.perf_counter() - t0)
            if status >= 400:
                bad += 1
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return summary(latencies, time.monotonic() - started, errors)


def summary(latencies: list[float], elapsed: float, errors: int) -> dict:
    latencies = sorted(latencies)

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))] * 1000

    return {"rps": len(latencies) / elapsed, "p50_ms": pct(50), "p95_ms": pct(95), "p99_ms": pct(99),
            "requests": len(latencies), "errors": errors, "elapsed": elapsed, "latencies": latencies}


def alternating(ports: dict, clients: int, seconds: float, rounds: int = 2) -> dict:
    """Posting on each server in turn, ``rounds`` times, each turn a share of ``seconds``: a
    machine that slows down (or speeds up) during the run favours none of them."""
    runs: dict = {name: [] for name in ports}
    for _ in range(rounds):
        for name, port in ports.items():
            runs[name].append(drive(port, clients, seconds / rounds, posting()))
    return {name: summary([x for r in parts for x in r["latencies"]], sum(r["elapsed"] for r in parts),
                          sum(r["errors"] for r in parts)) for name, parts in runs.items()}


def get(path: str):
    def request(client, state):
        return client.send("GET", path)[0]

    return request


def posting():
    def prepare(client):
        status, html = client.send("GET", "/new/request")
        return re.search(rb'name="csrf_token" value="([^"]+)"', html).group(1).decode()

    counter = iter(range(10**9))

    def request(client, token):
        body = urlencode({"csrf_token": token, "category": "food", "title": f"benchmark post {next(counter)}",
                          "details": "A few lines of details, as people write them."})
        return client.send("POST", "/new/request", body)[0]

    request.prepare = prepare
    return request


SCRYPT_CEILING = """
import sys, threading, time
from kiosk.cli.memory import tune_malloc
from kiosk.core import codes
tune_malloc()  # as the server runs its hashes (kiosk/cli/memory.py)
stop = time.monotonic() + float(sys.argv[1])
done = []
def work():
    n = 0
    while time.monotonic() < stop:
        codes.hash_secret("fetch-floss-blurt-glue")
        n += 1
    done.append(n)
threads = [threading.Thread(target=work) for _ in range(16)]
started = time.monotonic()
for t in threads: t.start()
for t in threads: t.join()
print(sum(done) / (time.monotonic() - started))
"""


def scrypt_ceiling(seconds: float, env: dict) -> float:
    """Posts a second if posting cost only its scrypt hash: two at once and the allocator set
    as in the server (which hands each hash's 8 MiB back to the system: ~18% slower hashing
    here, for a server that stays small)."""
    out = subprocess.run([sys.executable, "-c", SCRYPT_CEILING, str(seconds)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return float(out.strip())


def seeded(folder: Path, live: int, archived: int, env: dict) -> Path:
    subprocess.run([KIOSK, "seed", "--data", str(folder), "--live", str(live), "--archived", str(archived)],
                   env=env, check=True, stdout=subprocess.DEVNULL)
    return folder


def drop_os_caches() -> bool:
    """Empty the kernel's page cache (root only), so nothing a page needs is in it as a file."""
    try:
        os.sync()
        Path("/proc/sys/vm/drop_caches").write_text("3")
        return True
    except OSError:
        return False


def pages(port: int, clients: int, seconds: float, prefix: str, results: dict, cold: bool = False) -> None:
    client = Client(port)
    board = client.send("GET", "/board")[1].decode()
    post_id = re.search(r'href="/p/([A-Z0-9]{5})"', board).group(1)
    for name, request in (("board", get("/board")), ("post", get(f"/p/{post_id}")),
                          ("qr", get(f"/p/{post_id}/qr.svg"))):
        print(f"driving {prefix}{name} ...", flush=True)
        if cold and not drop_os_caches():
            raise SystemExit("--drop-os-caches needs root")
        results[prefix + name] = drive(port, clients, seconds, request)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live", type=int, default=5000)
    parser.add_argument("--base-live", type=int, default=500)
    parser.add_argument("--archived", type=int, default=50_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--json", dest="json_path", default="tests/perf/results/bench.json")
    parser.add_argument("--drop-os-caches", action="store_true",
                        help="empty the kernel's page cache before each page is driven (root only)")
    args = parser.parse_args()

    env = {**os.environ, "KIOSK_PUBLIC_URL": "http://aid.lan", "KIOSK_NAME": "Bench", "KIOSK_WRITE_BUDGET_SCALE": "0"}
    work = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    results: dict = {"machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
                     "date": time.strftime("%Y-%m-%d"), "live": args.live, "base_live": args.base_live,
                     "archived": args.archived, "clients": args.clients, "seconds": args.seconds,
                     "os_caches_dropped": args.drop_os_caches}
    try:
        print(f"seeding {args.live} and {args.base_live} live + {args.archived} archived posts ...", flush=True)
        full = seeded(work / "full", args.live, args.archived, env)
        base = seeded(work / "base", args.base_live, args.archived, env)

        with Server([sys.executable, "-c", HELLO, "{port}"], env) as hello:
            results["hello"] = drive(hello.port, args.clients, args.seconds, get("/"))

        serve = [KIOSK, "serve", "--host", "127.0.0.1", "--port", "{port}", "--data"]
        with Server(serve + [str(full)], env) as kiosk, Server(serve + [str(base)], env) as other:
            results["startup_s"] = kiosk.startup
            pages(kiosk.port, args.clients, args.seconds, "", results, cold=args.drop_os_caches)
            print(f"driving posting with {args.live} and {args.base_live} live, in turns ...", flush=True)
            both = alternating({"posting": kiosk.port, "posting_base": other.port}, args.clients, 2 * args.seconds)
            results.update(both)
            results["peak_rss_mb"] = kiosk.peak_rss_mb()
        with Server(serve + [str(full)], {**env, "KIOSK_PAGE_CACHE": "0"}) as kiosk:
            pages(kiosk.port, args.clients, args.seconds, "nocache_", results, cold=args.drop_os_caches)
        print("measuring the scrypt ceiling ...", flush=True)
        results["scrypt_ceiling_per_s"] = scrypt_ceiling(args.seconds, env)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(results, args)


NAMES = ("hello", "board", "post", "qr", "nocache_board", "nocache_post", "nocache_qr", "posting", "posting_base")


def report(results: dict, args) -> None:
    hello = results["hello"]
    for name in NAMES[1:]:
        results[name]["ratio_to_hello"] = results[name]["rps"] / hello["rps"]
    results["posting_p95_ratio_live_vs_base"] = results["posting"]["p95_ms"] / results["posting_base"]["p95_ms"]
    results["posting_vs_scrypt_ceiling"] = results["posting"]["rps"] / results["scrypt_ceiling_per_s"]
    targets = {
        f"posting p95 ({args.live} live) <= 1.2 x p95 ({args.base_live} live)": results["posting_p95_ratio_live_vs_base"] <= 1.2,
        "posting >= 0.8 x the scrypt ceiling": results["posting_vs_scrypt_ceiling"] >= 0.8,
        "peak RSS < 80 MB": results["peak_rss_mb"] < 80,
        "first /healthz < 1.5 s": results["startup_s"] < 1.5,
    }
    for prefix, cache in (("", "on"), ("nocache_", "off")):
        for page in ("board", "post"):
            targets[f"/{page} >= 1.0 x hello (page cache {cache})"] = results[prefix + page]["ratio_to_hello"] >= 1.0
        targets[f"/p/<id> p99 <= 3 x hello p99 (page cache {cache})"] = results[prefix + "post"]["p99_ms"] <= 3 * hello["p99_ms"]
    results["targets"] = targets

    print(f"\n{results['machine']}, {results['date']}: {args.live} live (base {args.base_live}), {args.archived} archived, "
          f"{args.clients} clients, {args.seconds:g} s each")
    print(f"{'':16}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'x hello':>9}{'errors':>8}")
    for name in NAMES:
        r = results[name]
        print(f"{name:16}{r['rps']:9.0f}{r['p50_ms']:9.1f}{r['p95_ms']:9.1f}{r['p99_ms']:9.1f}"
              f"{r['rps'] / hello['rps']:9.2f}{r['errors']:8d}")
    print(f"posting p95 with {args.live} live / with {args.base_live}: {results['posting_p95_ratio_live_vs_base']:.2f}")
    print(f"posting {results['posting']['rps']:.1f}/s against the scrypt ceiling {results['scrypt_ceiling_per_s']:.1f}/s: "
          f"{results['posting_vs_scrypt_ceiling']:.2f}")
    print(f"peak RSS {results['peak_rss_mb']:.1f} MB; first /healthz after {results['startup_s']:.2f} s")
    for target, ok in targets.items():
        print(f"  [{'ok' if ok else 'MISSED'}] {target}")
    for value in results.values():
        if isinstance(value, dict):
            value.pop("latencies", None)
    out = Path(args.json_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"JSON: {out}")


if __name__ == "__main__":
    main()
