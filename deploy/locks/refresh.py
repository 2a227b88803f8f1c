"""Refresh the checked-in locks that pin deployment bundles (run on demand, with network to PyPI):

    python deploy/locks/refresh.py                 # every lock
    python deploy/locks/refresh.py aws-python3.12  # one

Each lock is pip's own resolution (``pip install --dry-run --report``) for the runtime's Python
version, implementation and platform, binary wheels only (the function cannot compile), of every
input below; then each input is resolved alone to record which inputs bring each package in
(the ``# for:`` lines :mod:`corefn.deploy_lock` reads to take a bundle's closure).

Platforms: Lambda's Python 3.12 runtime runs on Amazon Linux 2023 (glibc 2.34); arm64 is the
default architecture of corefn's SAM template
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtimes.html). Azure Functions' Flex
Consumption plan runs Python 3.10-3.12 on Linux x86_64 only (language stack ``python`` version
``3.12``: https://learn.microsoft.com/en-us/azure/azure-functions/supported-languages and
https://learn.microsoft.com/en-us/azure/azure-functions/flex-consumption-plan); its workers run
Debian 12 (glibc 2.36), so manylinux_2_28 wheels load. The Knative image is corefn's own
(``FROM python:3.12-slim``, Debian 12, glibc 2.36), built for whichever architecture the cluster's
nodes run: both amd64 and arm64 are checked. Its inputs are the ``knative`` extra and the backends a
self-hosted cluster uses (S3-compatible stores through boto3, Kafka, PostgreSQL, Redis).
Cloud Run functions' ``python312`` runtime runs on Ubuntu 22.04 (glibc 2.35), x86_64
(https://cloud.google.com/functions/docs/runtime-support).
Apache OpenWhisk's ``python:3.11`` kind is
the image ``openwhisk/action-python-v3.11``, built ``FROM python:3.11-bookworm`` (Debian 12, glibc
2.36, x86_64: https://github.com/apache/openwhisk-runtime-python/blob/master/core/python311Action/Dockerfile).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

#: lock name → (python version, platform tags, inputs). Inputs mirror pyproject.toml's extras for
#: the cloud, the SQL and Redis backends, and the examples' requirements.
LOCKS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "aws-python3.12": (
        "3.12",
        ("manylinux_2_34_aarch64", "manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"),
        ("boto3>=1.34", "SQLAlchemy>=2.0", "psycopg[binary]>=3.1", "redis>=5.0", "Pillow>=10.3", "PyJWT[crypto]>=2.8"),
    ),
    "azure-python3.12": (
        "3.12",
        ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
        ("azure-functions>=1.20", "azure-storage-blob>=12.19", "azure-storage-queue>=12.9", "azure-data-tables>=12.5",
         "azure-cosmos>=4.5", "azure-identity>=1.15", "azure-functions-durable>=1.2",
         "SQLAlchemy>=2.0", "psycopg[binary]>=3.1", "redis>=5.0", "Pillow>=10.3", "PyJWT[crypto]>=2.8"),
    ),
    "knative-python3.12": (
        "3.12",
        ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
        ("cloudevents>=1.11,<2", "uvicorn[standard]>=0.29", "boto3>=1.34", "kafka-python>=2.0.2",
         "SQLAlchemy>=2.0", "psycopg[binary]>=3.1", "redis>=5.0", "Pillow>=10.3", "PyJWT[crypto]>=2.8"),
    ),
    "gcp-python3.12": (
        "3.12",
        ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
        ("functions-framework>=3.5", "google-cloud-storage>=2.14", "google-cloud-pubsub>=2.19", "google-cloud-firestore>=2.14",
         "protobuf>=4.25", "google-events>=0.14", "SQLAlchemy>=2.0", "psycopg[binary]>=3.1", "redis>=5.0", "Pillow>=10.3",
         "PyJWT[crypto]>=2.8"),
    ),
    "openwhisk-python3.11": (
        "3.11",
        ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
        ("boto3>=1.34", "ibmcloudant>=0.9", "kafka-python>=2.0.2",
         "SQLAlchemy>=2.0", "psycopg[binary]>=3.1", "redis>=5.0", "Pillow>=10.3", "PyJWT[crypto]>=2.8"),
    ),
}
#: lock name → architecture → platform tags the pins are also checked against (every pin must have
#: a wheel there), so an app may choose any of these architectures
ARCHITECTURES: dict[str, dict[str, tuple[str, ...]]] = {
    "aws-python3.12": {
        "arm64": LOCKS["aws-python3.12"][1],
        "x86_64": ("manylinux_2_34_x86_64", "manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
    },
    "azure-python3.12": {"x86_64": LOCKS["azure-python3.12"][1]},
    "knative-python3.12": {
        "x86_64": LOCKS["knative-python3.12"][1],
        "aarch64": ("manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"),
    },
    "gcp-python3.12": {"x86_64": LOCKS["gcp-python3.12"][1]},
    "openwhisk-python3.11": {"x86_64": LOCKS["openwhisk-python3.11"][1]},
}


def resolve(python: str, platforms: tuple[str, ...], requirements: list[str]) -> dict[str, str]:
    """name → version of pip's resolution of ``requirements`` for the target."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        cmd = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--dry-run",
               "--ignore-installed", "--only-binary=:all:", "--python-version", python, "--implementation", "cp",
               "--abi", "cp" + python.replace(".", ""), "--target", str(Path(tmp) / "t"), "--report", str(report)]  # fmt: skip
        for platform in platforms:
            cmd += ["--platform", platform]
        subprocess.run([*cmd, *requirements], check=True)
        data = json.loads(report.read_text())
    return {item["metadata"]["name"]: item["metadata"]["version"] for item in data["install"]}


def refresh(name: str) -> Path:
    python, platforms, inputs = LOCKS[name]
    pins = resolve(python, platforms, list(inputs))
    brought: dict[str, list[str]] = {n: [] for n in pins}
    for requirement in inputs:
        for found in resolve(python, platforms, [requirement]):
            match = next((n for n in pins if n.lower() == found.lower()), None)
            if match is not None:
                brought[match].append(requirement.split(">")[0].split("=")[0].split("<")[0].strip())
    checked = []
    for arch, tags in ARCHITECTURES[name].items():
        same = resolve(python, tags, [f"{p}=={v}" for p, v in pins.items()])
        if {k.lower(): v for k, v in same.items()} != {k.lower(): v for k, v in pins.items()}:
            raise SystemExit(f"{name}: the pins do not resolve alike for {arch}: {same}")
        checked.append(arch)
    lines = [
        f"# corefn deploy lock {name}: Python {python}, {', '.join(platforms)}, binary wheels only.",
        f"# architectures: {', '.join(checked)}",
        "# Written by deploy/locks/refresh.py (pip's resolution); do not edit: rerun it.",
        f"# inputs: {', '.join(inputs)}",
    ]
    for package in sorted(pins, key=str.lower):
        lines.append(f"{package}=={pins[package]}")
        lines.append(f"    # for: {', '.join(sorted(set(brought[package])))}")
    path = HERE / f"{name}.txt"
    path.write_text("\n".join(lines) + "\n")
    return path


if __name__ == "__main__":
    for wanted in sys.argv[1:] or sorted(LOCKS):
        print(refresh(wanted))
