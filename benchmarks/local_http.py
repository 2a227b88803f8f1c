"""Local HTTP hello-world requests/s: ``corefn run`` side by side with the floor it stands on, a
bare ASGI app under the same uvicorn (uvloop + httptools, no access log), and with
``functions-framework`` serving the same function; one after the other in the same run,
measured by the same client.

    python benchmarks/local_http.py [--seconds 3] [--rounds 3] [--connections 64]

The client is ``wrk`` when installed (``apt-get install wrk``; it is not in ``.ci/setup``, as
benchmarks are run on demand), else a small raw-asyncio keep-alive load generator
(``--client asyncio``), which shares the two cores with the server and so compresses every
ratio. The servers run as they would on a laptop: ``corefn run APP`` (uvicorn, the per-request
console line included, output discarded), ``uvicorn bare:app`` and
``functions-framework --target hello`` (its default server).

Target (issue 25): corefn >= 0.8x the bare ASGI app (and, as before, >= 3x functions-framework).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

COREFN_APP = '''
from corefn import App

app = App("bench")


@app.get("/")
def hello(req):
    return "Hello, World!"
'''

FF_APP = '''
def hello(request):
    return "Hello, World!"
'''

BARE_APP = '''
HEADERS = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"13")]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": b"Hello, World!"})
'''

BARE_TARGET = 0.8
FF_TARGET = 3.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


def load_wrk(url: str, seconds: float, connections: int) -> float:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{int(seconds)}s", url], capture_output=True, text=True, check=True
    ).stdout
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise SystemExit(f"{url}: {errors.group(1)} failed responses")
    return float(match.group(1)) if match else 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time that the process and its descendants (functions-framework's
    server forks workers) have used so far, from Linux's ``/proc/PID/stat``."""
    stats: dict[int, tuple[int, float]] = {}  # pid -> (parent pid, CPU seconds)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"))
    family, total = {pid}, 0.0
    for child in sorted(stats):  # a child's pid is usually above its parent's; loop until stable
        if stats[child][0] in family:
            family.add(child)
    changed = True
    while changed:
        changed = False
        for child, (parent, _) in stats.items():
            if parent in family and child not in family:
                family.add(child)
                changed = True
    for member in family:
        total += stats.get(member, (0, 0.0))[1]
    return total


def load_asyncio(url: str, seconds: float, connections: int) -> float:
    """Keep-alive HTTP/1.1 GETs over raw asyncio streams (httpx's own overhead would be the
    bottleneck). Slower than wrk: it shares the CPU with the server, so compare ratios only."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    request = f"GET {parts.path or '/'} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()

    async def run() -> int:
        done = 0
        stop = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal done
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
            while time.perf_counter() < stop:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 200"):
                    raise SystemExit(f"{url}: {head[:40]!r}")
                length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
                await reader.readexactly(length)
                done += 1
            writer.close()

        await asyncio.gather(*(worker() for _ in range(connections)))
        return done

    started = time.perf_counter()
    count = asyncio.run(run())
    return count / (time.perf_counter() - started)


def start(cmd: list[str], port: int, cwd: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_listening(port, proc)
    return proc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3, help="seconds of load per server and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--client", choices=("auto", "wrk", "asyncio"), default="auto")
    args = parser.parse_args()
    client = args.client if args.client != "auto" else ("wrk" if shutil.which("wrk") else "asyncio")
    folder = Path(tempfile.mkdtemp(prefix="corefn-http-bench-"))
    (folder / "bench_app.py").write_text(COREFN_APP)
    (folder / "main.py").write_text(FF_APP)
    (folder / "bare.py").write_text(BARE_APP)
    env = {**os.environ, "PYTHONPATH": str(folder), "COREFN_STATE_DIR": str(folder / "state")}
    bindir = Path(sys.executable).parent
    ports = [free_port() for _ in range(3)]
    commands = {
        "corefn": [str(bindir / "corefn"), "run", "bench_app:app", "--port", str(ports[0])],
        "bare": [str(bindir / "uvicorn"), "bare:app", "--port", str(ports[1]), "--log-level", "warning", "--no-access-log",
                 "--loop", "uvloop", "--http", "httptools", "--lifespan", "off"],
        "ff": [str(bindir / "functions-framework"), "--target", "hello", "--source", "main.py", "--port", str(ports[2]),
               "--host", "127.0.0.1"],
    }  # fmt: skip
    load = load_wrk if client == "wrk" else load_asyncio
    procs: list[subprocess.Popen[bytes]] = []
    best = dict.fromkeys(commands, 0.0)
    cpu = dict.fromkeys(commands, float("inf"))  # the server's CPU microseconds per request
    try:
        for cmd, port in zip(commands.values(), ports, strict=True):
            procs.append(start(cmd, port, folder, env))
            load(f"http://127.0.0.1:{port}/", 1, args.connections)  # warm-up
        # Rounds interleave the servers (A B C A B C ...), each keeping its best round: a busy
        # neighbour on this shared machine then slows every server alike.
        for _ in range(args.rounds):
            for (name, proc), port in zip(zip(commands, procs, strict=True), ports, strict=True):
                before = cpu_seconds(proc.pid)
                rate = load(f"http://127.0.0.1:{port}/", args.seconds, args.connections)
                used = (cpu_seconds(proc.pid) - before) / (rate * args.seconds) * 1e6
                best[name] = max(best[name], rate)
                cpu[name] = min(cpu[name], used)
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)
    corefn, bare, ff = best["corefn"], best["bare"], best["ff"]
    print(f"client: {client}, {args.connections} connections, best of {args.rounds} interleaved rounds of {args.seconds:g} s")
    c_cpu, b_cpu, f_cpu = cpu["corefn"], cpu["bare"], cpu["ff"]
    print("  server                          req/s (best round)   server CPU per request (best round)")
    print(f"  corefn run                      {corefn:>9,.0f}  {corefn / bare:5.2f}x   {c_cpu:7.1f} us  {b_cpu / c_cpu:5.2f}x")
    print(f"  bare ASGI app, uvicorn (floor)  {bare:>9,.0f}  {1:5.2f}x   {b_cpu:7.1f} us  {1:5.2f}x")
    print(f"  functions-framework             {ff:>9,.0f}  {ff / bare:5.2f}x   {f_cpu:7.1f} us  {b_cpu / f_cpu:5.2f}x")
    ratio, by_cpu = corefn / bare, b_cpu / c_cpu
    print("(the server's CPU per request is the steadier figure on a shared machine: time the server waits for a"
          " core does not count; the client shares the cores)")  # fmt: skip
    print(f"verdict: corefn / bare ASGI = {ratio:.2f} by req/s, {by_cpu:.2f} by CPU per request (target >= {BARE_TARGET}) "
          f"{'MET' if min(ratio, by_cpu) >= BARE_TARGET else 'MISSED'}; corefn / functions-framework = {corefn / ff:.2f} "
          f"(>= {FF_TARGET}) {'MET' if corefn / ff >= FF_TARGET else 'MISSED'}")  # fmt: skip


if __name__ == "__main__":
    main()
