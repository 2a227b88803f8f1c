"""Offline tools for proving a generated gcloud script: a fake ``gcloud`` that records each call
and answers ``describe`` as the test wants, and gcloud's own argument parser for every call.

**The shim** (a mock: there is no Google Cloud emulator for the control plane): a bash script
named ``gcloud`` put first on PATH. It appends each argv to ``$FAKE_GCLOUD_LOG`` and
answers: ``describe`` and ``versions list`` from ``$FAKE_GCLOUD_MODE`` (``absent``: exit 1 with a
NOT_FOUND message, or an empty list; ``present``: exit 0), and the few calls whose output the
script reads (project number, the Cloud Storage agent, a function's URL) with plausible values;
bucket notifications are kept in ``$HOME/notifications`` so a later run lists what an earlier one
created (``list`` prints the id of each whose topic the ``--filter`` names, as gcloud's filter would).

**The parser**: gcloud's CLI is loaded once, in gcloud's own Python, and each recorded argv is
executed with a fresh ``CLOUDSDK_CONFIG`` and no credentials: gcloud parses the whole command
line first (exit 2, "unrecognized arguments" / "argument ...: ..." on a mistake), then stops at
the missing account. One process for all calls: a gcloud start costs seconds here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

SHIM = r'''#!/usr/bin/env bash
# each call: its arguments separated by \x1f, then \x1e (no argument holds either)
{ printf '%s\x1f' "$@"; printf '\x1e'; } >> "$FAKE_GCLOUD_LOG"
case " $* " in *" --data-file=- "*) cat >/dev/null ;; esac  # read stdin as gcloud does (the writer would get SIGPIPE)
words=()
for a in "$@"; do case "$a" in -*) ;; *) words+=("$a");; esac; done
w="${words[*]:0:3}"
case "$w" in
  "config get-value"*) echo corefn-test ;;
  "projects describe"*) echo 123456789012 ;;
  "storage service-agent"*) echo service-123456789012@gs-project-accounts.iam.gserviceaccount.com ;;
  "secrets versions list") [ "$FAKE_GCLOUD_MODE" = present ] && echo 1 ;;
  "storage buckets notifications")  # kept in $HOME/notifications: a later run lists what an earlier one created
    case "${words[3]}" in
      create) for a in "$@"; do case "$a" in --topic=*) echo "${words[4]} ${a#--topic=}" >> "$HOME/notifications";; esac; done ;;
      list) n=0; while read -r url topic; do n=$((n + 1))  # the id of each config whose topic --filter names
              [ "$url" = "${words[4]}" ] && case "$*" in *"/topics/$topic\""*) echo "$n";; esac
            done < <(cat "$HOME/notifications" 2>/dev/null) ;;
    esac ;;
  "functions describe"*) case "$*" in *serviceConfig.uri*) echo "https://${words[2]}-abc123-uc.a.run.app" ;; *) [ "$FAKE_GCLOUD_MODE" = present ] || { echo "ERROR: NOT_FOUND" >&2; exit 1; } ;; esac ;;
  *)
    for x in "${words[@]}"; do
      if [ "$x" = describe ] && [ "$FAKE_GCLOUD_MODE" != present ]; then echo "ERROR: (gcloud) NOT_FOUND: no such resource" >&2; exit 1; fi
    done ;;
esac
exit 0
'''

PARSER = r'''
import contextlib, io, json, os, sys
root = sys.argv[1]
sys.path[0:0] = [os.path.join(root, "lib"), os.path.join(root, "lib", "third_party")]

class Switch(io.TextIOBase):
    target = io.StringIO()
    def write(self, text):
        return self.target.write(text)
    def flush(self):
        pass

switch = Switch()
real_stdout = sys.stdout
sys.stderr = switch
sys.stdout = switch
from googlecloudsdk import gcloud_main
cli = gcloud_main.CreateCLI([])
results = []
for argv in json.loads(sys.stdin.read()):
    switch.target = io.StringIO()
    code = 0
    try:
        cli.Execute(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException as exc:  # gcloud raises its own errors after parsing (no account, no network)
        code = 1
        switch.target.write(f"{type(exc).__name__}: {exc}")
    results.append({"argv": argv, "code": code, "stderr": switch.target.getvalue()[-600:]})
real_stdout.write(json.dumps(results))
'''

#: what gcloud says once it has parsed a command and needs credentials (or a network) to go on
AUTH_ERRORS = ("active account", "credentials", "gcloud auth login", "Reauthentication")


def install_shim(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "gcloud"
    shim.write_text(SHIM)
    shim.chmod(0o755)
    return folder


def run_script(script: Path, shim_dir: Path, log: Path, mode: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run a generated script with the shim first on PATH; ``log`` collects the calls."""
    full = {"PATH": f"{shim_dir}{os.pathsep}{os.environ['PATH']}", "HOME": str(log.parent), "FAKE_GCLOUD_LOG": str(log),
            "FAKE_GCLOUD_MODE": mode, **env}  # fmt: skip
    return subprocess.run(["bash", str(script)], env=full, capture_output=True, text=True, timeout=120)


def calls(log: Path) -> list[list[str]]:
    if not log.exists():
        return []
    return [record.split("\x1f")[:-1] for record in log.read_text().split("\x1e")[:-1]]


def sdk_root() -> Path:
    gcloud = shutil.which("gcloud")
    assert gcloud, "the gcloud CLI is needed (preinstalled on this machine kind; see .ci/setup)"
    return Path(os.path.realpath(gcloud)).parent.parent


def gcloud_python(root: Path) -> str:
    bundled = root / "platform" / "bundledpythonunix" / "bin" / "python3"
    return os.environ.get("CLOUDSDK_PYTHON") or (str(bundled) if bundled.exists() else "python3")


def parse_all(argvs: list[list[str]], cwd: Path, config: Path) -> list[dict[str, Any]]:
    """Each argv through gcloud's own parser (see the module docstring); one result per argv."""
    root = sdk_root()
    env = {
        "PATH": os.environ["PATH"], "HOME": str(config.parent), "CLOUDSDK_CONFIG": str(config),
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1", "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "1",
        "CLOUDSDK_CORE_DISABLE_USAGE_REPORTING": "1", "CLOUDSDK_CORE_PROJECT": "corefn-test",
    }  # fmt: skip
    done = subprocess.run([gcloud_python(root), "-c", PARSER, str(root)], input=json.dumps(argvs), cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    results: list[dict[str, Any]] = json.loads(done.stdout)
    return results


def parsed(result: dict[str, Any]) -> bool:
    """True when gcloud accepted the command line (it then ran, or stopped for credentials)."""
    if result["code"] == 0:
        return True
    return result["code"] != 2 and any(marker in result["stderr"] for marker in AUTH_ERRORS)
