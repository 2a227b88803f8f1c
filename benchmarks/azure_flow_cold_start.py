"""What Durable Functions costs the cold start of an Azure function app of an app with flows.

``corefn deploy --cloud azure`` writes one ``function_app.py`` for every function app of the app;
since the ``COREFN_DURABLE`` split, only the apps that run or start flows (``1``) import
``azure.durable_functions``, the others (``0``: e.g. the flow example's ``announce``) define their
handlers' functions on a plain ``func.FunctionApp``. This measures ``import function_app`` of the
flow example's bundle in a fresh Python 3.12 interpreter (Flex Consumption's runtime) of the
bundle's own pins, in each mode, against the peer every Azure Python function pays anyway:
``import azure.functions`` alone. ``--before DIR`` adds a bundle written by an older checkout
(``corefn deploy examples/image_pipeline/flow.py:app --cloud azure --out DIR``), whose single mode
imports Durable in every app.

    python benchmarks/azure_flow_cold_start.py [--runs 21] [--before /tmp/old/azure]

Each figure is measured inside the process from its first statement (interpreter start-up
excluded); runs are interleaved so a drift of this shared machine hits every candidate alike;
min and median over the fresh processes are printed, and only the ratios of one run mean anything.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REF = "examples/image_pipeline/flow.py:app"
PROBE = (
    "import sys, time\nsys.path.insert(0, sys.argv[1])\nt = time.perf_counter()\n{stmt}\n"
    "print(time.perf_counter() - t)"
)


def python312() -> str:
    """A Python 3.12 (pyenv's own install first: its shim fails where 3.12 is not the active version)."""
    candidates = [str(p) for p in sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))] + [shutil.which("python3.12") or ""]
    for candidate in filter(None, candidates):
        if subprocess.run([candidate, "--version"], capture_output=True).returncode == 0:
            return candidate
    raise SystemExit("Flex Consumption runs Python 3.12: install it (pyenv install 3.12)")


def bundle_venv(requirements: Path) -> Path:
    """A venv of the bundle's pins alone (what the remote build installs), cached by their hash."""
    python = python312()
    key = hashlib.sha256(requirements.read_bytes() + python.encode()).hexdigest()[:16]
    venv = ROOT / ".cache" / "bundle-venvs" / key
    if not (venv / ".complete").exists():
        shutil.rmtree(venv, ignore_errors=True)
        subprocess.run([python, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        subprocess.run([*pip, "install", "-q", "--no-deps", "--only-binary=:all:", "-r", str(requirements)], check=True)
        (venv / ".complete").write_text(requirements.read_text())
    return venv / "bin" / "python"


def deploy(out: Path) -> Path:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COREFN_")}
    corefn = Path(sys.executable).parent / "corefn"
    subprocess.run([str(corefn), "deploy", REF, "--cloud", "azure", "--out", str(out)], cwd=ROOT, check=True, capture_output=True, env=env)
    return out / "azure"


def measure(python: Path, bundle: Path, stmt: str, durable: str | None) -> float:
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "COREFN_APP": "flow:app"}
    if durable is not None:
        env["COREFN_DURABLE"] = durable
    done = subprocess.run([str(python), "-I", "-c", PROBE.format(stmt=stmt), str(bundle)], capture_output=True, text=True, env=env, cwd=bundle)
    if done.returncode:
        raise SystemExit(f"probe failed ({stmt}, COREFN_DURABLE={durable}):\n{done.stderr}")
    return float(done.stdout.strip().splitlines()[-1]) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--before", type=Path, help="a bundle folder written by an older checkout")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="corefn-azflow-"))
    try:
        after = deploy(work)
        python = bundle_venv(after / "requirements.txt")
        peer = "import azure.functions (every Azure Python function)"
        candidates: dict[str, tuple[Path, str, str | None]] = {
            peer: (after, "import azure.functions", None),
            "function_app, COREFN_DURABLE=0 (announce)": (after, "import function_app", "0"),
            "function_app, COREFN_DURABLE=1 (flows, trigger)": (after, "import function_app", "1"),
        }
        if args.before is not None:
            candidates["function_app before the split (every app)"] = (args.before.resolve(), "import function_app", None)
        for bundle, stmt, durable in candidates.values():  # warm the file cache and write the .pyc files
            measure(python, bundle, stmt, durable)
        samples: dict[str, list[float]] = {name: [] for name in candidates}
        for _ in range(args.runs):
            for name, (bundle, stmt, durable) in candidates.items():
                samples[name].append(measure(python, bundle, stmt, durable))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    floor = statistics.median(samples[peer])
    print(f"{args.runs} fresh Python 3.12 processes per candidate, the bundle's pins; ms inside the process")
    print(f"  {'candidate':52s} {'min':>8s} {'median':>8s}   median / {peer.split(' (')[0]}")
    for name, values in samples.items():
        print(f"  {name:52s} {min(values):8.1f} {statistics.median(values):8.1f}   x{statistics.median(values) / floor:5.2f}")
    plain, durable = (statistics.median(samples[n]) for n in list(candidates)[1:3])
    print(f"the plain mode saves {durable - plain:.0f} ms (median) per cold start of an app that runs no flow function")


if __name__ == "__main__":
    main()
