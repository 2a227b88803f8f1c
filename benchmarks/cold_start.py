"""Cold start, side by side with the peers, in two figures:

1. import time of corefn + one adapter's entry point, against Powertools' data classes and
   functions-framework;
2. cold start to first answer: a fresh process imports the framework, loads the app (a hello
   JSON route) and answers one API Gateway HTTP API (2.0) event, against Powertools'
   ``APIGatewayHttpResolver`` doing the same. This is what a Lambda cold start costs beyond the
   runtime's own start.

Each figure is the median, over fresh interpreter processes, of the time measured inside the
process from its first statement (interpreter start-up excluded, as it is the same for all; the
bare interpreter's own start is printed as the floor). Runs are interleaved (A B C A B C ...) so
a drift in machine speed hits every candidate alike; on this shared machine only the ratios of
one run mean anything.

The measurement runs in a separate virtual environment with a *regular* install of this checkout
(what Lambda gets from a deployment zip): an editable install adds its own path finder, which
costs more than corefn itself. The environment is created on first use.

    python benchmarks/cold_start.py [--runs 21] [--venv /tmp/corefn-bench]

Targets (issue 25): import, corefn + AWS adapter at most 0.2x Powertools' data classes; first
answer, at most 0.5x Powertools' resolver.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PEERS = ["aws-lambda-powertools", "functions-framework"]

CANDIDATES = {
    "corefn + corefn_aws.runtime": "import corefn, corefn_aws.runtime",
    "corefn + corefn_gcp": "import corefn, corefn_gcp",
    "powertools data_classes": "import aws_lambda_powertools.utilities.data_classes",
    "functions_framework": "import functions_framework",
}
PROBE = "import time; t = time.perf_counter(); {stmt}; print(time.perf_counter() - t)"

IMPORT_TARGET = 0.2
ANSWER_TARGET = 0.5

#: the API Gateway HTTP API 2.0 event every first-answer candidate answers (AWS's sample, trimmed)
EVENT = {
    "version": "2.0", "routeKey": "GET /hello", "rawPath": "/hello", "rawQueryString": "",
    "headers": {"accept": "application/json", "host": "id.execute-api.us-east-1.amazonaws.com", "user-agent": "curl/8.5.0"},
    "requestContext": {
        "accountId": "123456789012", "apiId": "id", "domainName": "id.execute-api.us-east-1.amazonaws.com",
        "domainPrefix": "id", "requestId": "JKJaXmPLvHcESHA=", "routeKey": "GET /hello", "stage": "$default",
        "time": "10/Mar/2020:00:03:14 +0000", "timeEpoch": 1583798594000,
        "http": {"method": "GET", "path": "/hello", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "curl/8.5.0"},
    },
    "isBase64Encoded": False,
}

COREFN_APP = """
from corefn import App

app = App("bench")


@app.get("/hello")
def hello(req):
    return {"message": "hello"}
"""

#: name -> statements run in a fresh process; each must print its answer's status code last but one
FIRST_ANSWER = {
    "corefn (Lambda entry, app from COREFN_APP)": (
        "import os, sys; sys.path.insert(0, {folder!r}); os.environ['COREFN_APP'] = 'cold_bench_app:app'\n"
        "from corefn_aws.{entry} import handler\n"
        "answer = handler({event!r}, None)"
    ),
    "Powertools APIGatewayHttpResolver": (
        "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver\n"
        "app = APIGatewayHttpResolver()\n"
        "@app.get('/hello')\n"
        "def hello():\n"
        "    return {{'message': 'hello'}}\n"
        "answer = app.resolve({event!r}, None)"
    ),
}
ANSWER_PROBE = (
    "import time\nt = time.perf_counter()\n{body}\nelapsed = time.perf_counter() - t\n"
    "assert answer['statusCode'] == 200, answer\nprint(elapsed)"
)


def make_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} with a regular install of {ROOT} and the peers ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", str(ROOT)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(ROOT), *PEERS], check=True)
    return python


def measure(python: Path, stmt: str, probe: str = PROBE) -> float:
    code = probe.format(stmt=stmt) if probe is PROBE else stmt
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, cwd="/")
    if done.returncode:
        raise SystemExit(f"probe failed:\n{code}\n{done.stderr}")
    return float(done.stdout.strip().splitlines()[-1]) * 1000


def interpreter_start(python: Path, runs: int) -> float:
    """The bare interpreter's start to exit, wall clock: the floor under every figure here."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([str(python), "-c", "pass"], check=True, cwd="/")
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def first_answer_probes(python: Path, folder: Path) -> dict[str, str]:
    (folder / "cold_bench_app.py").write_text(COREFN_APP)
    has_runtime = subprocess.run([str(python), "-c", "import corefn_aws.runtime"], capture_output=True, cwd="/").returncode == 0
    entry = "runtime" if has_runtime else "handler"  # the entry module's name (issue 14 renames it)
    return {
        name: ANSWER_PROBE.format(body=body.format(folder=str(folder), entry=entry, event=EVENT))
        for name, body in FIRST_ANSWER.items()
    }


def verdict(ratio: float, target: float) -> str:
    return "MET" if ratio <= target else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--venv", type=Path, default=Path("/tmp/corefn-bench"))
    args = parser.parse_args()
    python = make_venv(args.venv)
    folder = Path(tempfile.mkdtemp(prefix="corefn-cold-"))
    answers = first_answer_probes(python, folder)
    for stmt in CANDIDATES.values():  # warm the OS file cache and .pyc files
        measure(python, stmt)
    for code in answers.values():
        measure(python, code, probe=code)
    samples: dict[str, list[float]] = {name: [] for name in [*CANDIDATES, *answers]}
    for _ in range(args.runs):
        for name, stmt in CANDIDATES.items():
            samples[name].append(measure(python, stmt))
        for name, code in answers.items():
            samples[name].append(measure(python, code, probe=code))
    shutil.rmtree(folder, ignore_errors=True)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    floor = interpreter_start(python, args.runs)
    print(f"median of {args.runs} fresh processes ({sys.version.split()[0]}, regular install); "
          f"the bare interpreter starts and exits in {floor:.1f} ms (not included below)")  # fmt: skip
    print("1. import time")
    peer = medians["powertools data_classes"]
    for name in CANDIDATES:
        print(f"  {name:44s} {medians[name]:7.2f} ms   x{medians[name] / peer:5.2f} of Powertools")
    ratio = medians["corefn + corefn_aws.runtime"] / peer
    print(f"verdict: corefn + AWS adapter / Powertools data classes = {ratio:.2f} "
          f"(target <= {IMPORT_TARGET}) {verdict(ratio, IMPORT_TARGET)}")  # fmt: skip
    print("2. cold start to first answer (import, load the app, answer one HTTP API 2.0 event)")
    ours, theirs = (medians[name] for name in FIRST_ANSWER)
    for name in FIRST_ANSWER:
        print(f"  {name:44s} {medians[name]:7.2f} ms   x{medians[name] / theirs:5.2f} of Powertools")
    ratio = ours / theirs
    print(f"verdict: corefn / Powertools resolver = {ratio:.2f} (target <= {ANSWER_TARGET}) {verdict(ratio, ANSWER_TARGET)}; "
          f"with the interpreter's start: {(ours + floor) / (theirs + floor):.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
