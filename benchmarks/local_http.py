"""Local HTTP hello-world requests/s: ``corefn run`` side by side with ``functions-framework``
serving the same function, one after the other in the same run, measured by the same client.

    python benchmarks/local_http.py [--seconds 5] [--connections 64]

The client is ``wrk`` when installed (``apt-get install wrk``), else a small raw-asyncio
keep-alive load generator (``--client asyncio``). Both servers run as they would on a laptop: ``corefn run APP`` (uvicorn, the
per-request console line included, output discarded) and ``functions-framework --target hello``
(its default server). Target: corefn >= 3x functions-framework.
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


def measure(cmd: list[str], port: int, cwd: Path, seconds: float, connections: int, env: dict[str, str], client: str) -> float:
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, proc)
        url = f"http://127.0.0.1:{port}/"
        load = load_wrk if client == "wrk" else load_asyncio
        load(url, 1, connections)  # warm-up
        return load(url, seconds, connections)
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--client", choices=("auto", "wrk", "asyncio"), default="auto")
    args = parser.parse_args()
    client = args.client if args.client != "auto" else ("wrk" if shutil.which("wrk") else "asyncio")
    folder = Path(tempfile.mkdtemp(prefix="corefn-http-bench-"))
    (folder / "bench_app.py").write_text(COREFN_APP)
    (folder / "main.py").write_text(FF_APP)
    env = {**os.environ, "PYTHONPATH": str(folder), "COREFN_STATE_DIR": str(folder / "state")}
    bindir = Path(sys.executable).parent
    try:
        port = free_port()
        corefn = measure(
            [str(bindir / "corefn"), "run", "bench_app:app", "--port", str(port)], port, folder, args.seconds, args.connections, env, client
        )
        port = free_port()
        ff = measure(
            [str(bindir / "functions-framework"), "--target", "hello", "--source", "main.py", "--port", str(port), "--host", "127.0.0.1"],
            port, folder, args.seconds, args.connections, env, client,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"client: {client}, {args.connections} connections, {args.seconds:g} s each")
    print(f"corefn run:          {corefn:>9,.0f} req/s")
    print(f"functions-framework: {ff:>9,.0f} req/s")
    print(f"ratio:               {corefn / ff:.2f}x   (target >= 3x)")


if __name__ == "__main__":
    main()
