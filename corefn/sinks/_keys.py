"""Key rules for the local object store: a key is a path *inside* the bucket folder, never out.

S3 accepts any UTF-8 key up to 1024 bytes; a file system does not, and a key like ``../../etc``
would escape the sink's folder. So the local store rejects, with a ConfigurationError naming the
rule, every key that cannot be a plain relative path on every OS the local runtime runs on:
backslashes are rejected on POSIX too, so an app tested on Linux behaves the same on Windows.
"""

from __future__ import annotations

from corefn.errors import ConfigurationError

#: the sidecar folder inside every local bucket folder (metadata, temp files); not a key
META_DIR = ".corefn-meta"

MAX_KEY_BYTES = 1024  # S3's limit, so a key that works locally works on every cloud

#: (test, why) pairs checked in order; the first failing rule is reported
_RULES: tuple[tuple[str, str], ...] = (
    ("empty", "is empty"),
    ("nul", "contains a NUL character"),
    ("backslash", "contains a backslash (use '/' to separate folders)"),
    ("absolute", "starts with '/' (keys are relative to the bucket)"),
    ("trailing", "ends with '/' (that is a folder, not an object)"),
    ("empty_segment", "contains an empty segment ('//')"),
    ("dots", "contains a '.' or '..' segment, which would leave or alias the bucket folder"),
    ("reserved", f"starts with the reserved folder {META_DIR!r}"),
    ("long", f"is longer than {MAX_KEY_BYTES} bytes"),
)


def _broken(key: str) -> dict[str, bool]:
    segments = key.split("/")
    return {
        "empty": key == "",
        "nul": "\x00" in key,
        "backslash": "\\" in key,
        "absolute": key.startswith("/"),
        "trailing": key.endswith("/"),
        "empty_segment": "" in segments[1:-1],
        "dots": any(s in (".", "..") for s in segments),
        "reserved": segments[0] == META_DIR,
        "long": len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES,
    }


def check_key(key: object, sink: str) -> str:
    """``key`` when it is a safe relative object key, else a ConfigurationError saying why."""
    if not isinstance(key, str):
        raise ConfigurationError(f"sink {sink!r}: object key must be a string, got {type(key).__name__}")
    broken = _broken(key)
    for rule, why in _RULES:
        if broken[rule]:
            raise ConfigurationError(f"sink {sink!r}: object key {key!r} {why}")
    return key
