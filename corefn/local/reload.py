"""``corefn run --reload``: a supervisor that restarts the runtime when Python code changes.

The runtime itself runs in a child process (the same command without ``--reload``); the parent
only watches ``*.py`` files under the working directory (and the app file's folder) with
watchdog, and on a change stops the child (SIGTERM, then SIGKILL after 5 s) and starts a new one.
A restart is safe: the child's unfinished deliveries are recovered by the next one (see
:mod:`corefn.local.store`). uvicorn's own reloader would only reload the HTTP server, not the
workers, timers and watchers.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

DEBOUNCE = 0.3
CHANGES = frozenset({"modified", "created", "moved", "deleted"})
CHILD = "import sys; from corefn.cli import main; sys.argv[0] = 'corefn'; main()"


def _roots(args: list[str]) -> list[Path]:
    roots = {Path.cwd()}
    for arg in args:
        target = arg.rpartition(":")[0] or arg
        if target.endswith(".py") and Path(target).exists():
            roots.add(Path(target).resolve().parent)
    return sorted(roots)


def supervise(args: list[str]) -> int:
    from watchdog.events import FileSystemEvent, FileSystemEventHandler
    from watchdog.observers import Observer

    changed = threading.Event()

    class OnChange(FileSystemEventHandler):
        def on_any_event(self, event: FileSystemEvent) -> None:
            if event.event_type not in CHANGES:
                return  # inotify also reports opens and reads: the child importing the code
            path = os.fsdecode(getattr(event, "dest_path", "") or event.src_path)
            if path.endswith(".py") and "/." not in path and "__pycache__" not in path:
                changed.set()

    observer = Observer()
    for root in _roots(args):
        observer.schedule(OnChange(), str(root), recursive=True)
    observer.daemon = True
    observer.start()
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    status = 0
    try:
        while not stopping.is_set():
            child = subprocess.Popen([sys.executable, "-c", CHILD, *args])
            changed.clear()
            while child.poll() is None and not changed.is_set() and not stopping.is_set():
                time.sleep(0.1)
            if child.poll() is not None and not changed.is_set():
                status = child.returncode
                # the child exited by itself (an error, or --until-idle): wait for a fix
                print(f"corefn run --reload: runtime exited with status {status}; waiting for a code change", file=sys.stderr)
                while not changed.is_set() and not stopping.is_set():
                    time.sleep(0.1)
            _stop(child)
            if changed.is_set():
                time.sleep(DEBOUNCE)
                print("corefn run --reload: code changed, restarting", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        observer.stop()
    return status


def _stop(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is not None:
        return
    child.send_signal(signal.SIGTERM)
    try:
        child.wait(5)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
