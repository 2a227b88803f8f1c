"""Import time of corefn + one adapter's entry point, side by side with its peers.

Each figure is the median, over fresh interpreter processes, of the time taken by the import
statement alone (interpreter start-up excluded, as it is the same for all). Runs are interleaved
(A B C A B C ...) so a drift in machine speed hits every candidate alike.

The measurement runs in a separate virtual environment with a *regular* install of this checkout
(what Lambda gets from a deployment zip): an editable install adds its own path finder, which
costs more than corefn itself. The environment is created on first use.

    python benchmarks/cold_start.py [--runs 21] [--venv /tmp/corefn-bench]

Target (issue 3): corefn + adapter at most 0.3 of Powertools' data classes.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
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


def make_venv(venv: Path) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        print(f"creating {venv} with a regular install of {ROOT} and the peers ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", str(ROOT)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", str(ROOT), *PEERS], check=True)
    return python


def measure(python: Path, stmt: str) -> float:
    done = subprocess.run([str(python), "-c", PROBE.format(stmt=stmt)], capture_output=True, text=True, check=True, cwd="/")
    return float(done.stdout.strip().splitlines()[-1]) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--venv", type=Path, default=Path("/tmp/corefn-bench"))
    args = parser.parse_args()
    python = make_venv(args.venv)
    for stmt in CANDIDATES.values():  # warm the OS file cache and .pyc files
        measure(python, stmt)
    samples: dict[str, list[float]] = {name: [] for name in CANDIDATES}
    for _ in range(args.runs):
        for name, stmt in CANDIDATES.items():
            samples[name].append(measure(python, stmt))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    peer = medians["powertools data_classes"]
    print(f"import time, median of {args.runs} fresh processes ({sys.version.split()[0]}, regular install)")
    for name, value in medians.items():
        print(f"  {name:32s} {value:7.2f} ms   x{value / peer:5.2f} of Powertools")
    ratio = medians["corefn + corefn_aws.runtime"] / peer
    print(f"corefn + AWS adapter / Powertools = {ratio:.2f} (target <= 0.30)")


if __name__ == "__main__":
    main()
