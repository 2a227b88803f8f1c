"""Pins for deployment bundles, from a checked-in lock per cloud runtime
(``deploy/locks/<cloud>-<runtime>.txt``, written by ``deploy/locks/refresh.py``).

The lock is one resolution, for the runtime's Python version and platform, of everything a
corefn bundle for that cloud may need (the adapter's SDK, the SQL and Redis backends, the
examples' libraries). Each pinned package lists, on its ``# for:`` line, the direct requirements
whose own resolution brought it in, so a bundle takes exactly the closure of what it asks for,
at the lock's versions::

    boto3==1.35.36
        # for: boto3
    botocore==1.35.36
        # for: boto3

A requirement the lock does not cover is an error that names the command that adds it: an
unpinned line is whatever the registry serves on deploy day.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from corefn.errors import ConfigurationError

LOCKS_DIR = Path(__file__).resolve().parent.parent / "deploy" / "locks"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?")


def canonical(name: str) -> str:
    """PEP 503 normalised name (https://packaging.python.org/en/latest/specifications/name-normalization/)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_key(line: str) -> str:
    """``"psycopg[binary]>=3.1"`` → ``"psycopg[binary]"``: the name and extras, normalised."""
    match = _NAME.match(line)
    if match is None:
        raise ConfigurationError(f"cannot read requirement {line!r}")
    extras = sorted(canonical(e) for e in (match.group(2) or "").strip("[]").split(",") if e.strip())
    return canonical(match.group(1)) + (f"[{','.join(extras)}]" if extras else "")


class Lock:
    """A parsed lock: ``pins`` (canonical name → version), ``brought_by`` (canonical name →
    direct requirement keys), the header lines and the file's hash."""

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise ConfigurationError(
                f"no lock {path.name} in {path.parent}: run `python deploy/locks/refresh.py {path.stem}` "
                "(or pick a runtime that has one)"
            )
        text = path.read_text()
        self.path = path
        self.sha256 = hashlib.sha256(text.encode()).hexdigest()
        self.pins: dict[str, tuple[str, str]] = {}
        self.brought_by: dict[str, set[str]] = {}
        self.header: list[str] = []
        current = None
        for raw in text.splitlines():
            line = raw.strip()
            if not line:
                continue
            if line.startswith("# for:") and current is not None:
                self.brought_by[current] = {requirement_key(k) for k in line[6:].split(",") if k.strip()}
            elif line.startswith("#"):
                if current is None:
                    self.header.append(line)
            else:
                name, sep, version = line.partition("==")
                if not sep:
                    raise ConfigurationError(f"{path}: {raw!r} is not name==version")
                current = canonical(name)
                self.pins[current] = (name.strip(), version.strip())

    @property
    def architectures(self) -> tuple[str, ...]:
        """The architectures every pin was checked to have wheels for (the header's line)."""
        for line in self.header:
            if line.startswith("# architectures:"):
                return tuple(a.strip() for a in line.split(":", 1)[1].split(",") if a.strip())
        return ()

    def check_architecture(self, architecture: str) -> None:
        if architecture not in self.architectures:
            raise ConfigurationError(
                f"{self.path.name} is not checked for {architecture} (only {', '.join(self.architectures) or 'none'}): "
                f"add it to ARCHITECTURES in deploy/locks/refresh.py and run `python deploy/locks/refresh.py {self.path.stem}`"
            )

    @property
    def direct(self) -> set[str]:
        return set().union(*self.brought_by.values()) if self.brought_by else set()

    def pinned(self, requirements: list[str]) -> list[str]:
        """``name==version`` lines of the closure of ``requirements`` (sorted)."""
        wanted = {requirement_key(r) for r in requirements}
        covered = self.direct
        # a requirement named without extras is covered by the same name with any extras
        missing = sorted(w for w in wanted if w not in covered and canonical(w.split("[")[0]) not in self.pins)
        if missing:
            raise ConfigurationError(
                f"{self.path.name} does not pin {', '.join(missing)}: add it to the lock's inputs in "
                f"deploy/locks/refresh.py and run `python deploy/locks/refresh.py {self.path.stem}`"
            )
        names = {canonical(w.split("[")[0]) for w in wanted}
        closure = {n for n, by in self.brought_by.items() if by & wanted} | names
        return [f"{self.pins[n][0]}=={self.pins[n][1]}" for n in sorted(closure) if n in self.pins]


def lock_for(cloud: str, runtime: str, folder: Path | None = None) -> Lock:
    return Lock((folder or LOCKS_DIR) / f"{cloud}-{runtime}.txt")


def requirements_txt(lock: Lock, requirements: list[str], what: str) -> str:
    lines = [
        f"# {what}: third-party packages only, pinned from deploy/locks/{lock.path.name}",
        f"# (lock sha256 {lock.sha256[:16]}); corefn itself is vendored beside this file.",
        *lock.pinned(requirements),
    ]
    return "\n".join(lines) + "\n"
