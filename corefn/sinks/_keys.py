"""Key rules for the local object store: a key is a path *inside* the bucket folder, never out.

S3 accepts any UTF-8 key up to 1024 bytes; a file system does not, and a key like ``../../etc``
would escape the sink's folder. So the local store rejects, with a ConfigurationError naming the
rule, every key that cannot be a plain relative path on every OS the local runtime runs on:
backslashes are rejected on POSIX too, so an app tested on Linux behaves the same on Windows.
"""

from __future__ import annotations

from collections.abc import Mapping

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


#: S3 caps user metadata at 2 KB (names and values, as sent in x-amz-meta-* headers)
MAX_METADATA_BYTES = 2048
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_")
_NAME_REST = _NAME_START | frozenset("0123456789")


def check_metadata(metadata: Mapping[str, str] | None, sink: str) -> dict[str, str]:
    """Object metadata every provider accepts, so what works locally works deployed.

    Metadata travels as HTTP headers: S3 refuses values that are not ASCII, Azure refuses names
    that are not C# identifiers (``source-key`` is a 400 there), S3 caps the total at 2 KB. The
    portable rule is the intersection: identifier names, printable ASCII values, 2 KB in all
    (percent-encode anything else, e.g. ``urllib.parse.quote(key)``).
    """
    if not metadata:
        return {}
    total = 0
    for name, value in metadata.items():
        if not isinstance(name, str) or not name or name[0] not in _NAME_START or not _NAME_REST.issuperset(name):
            raise ConfigurationError(
                f"sink {sink!r}: metadata name {name!r} must be letters, digits and '_' (not starting with a digit): "
                "Azure accepts only identifiers"
            )
        if not isinstance(value, str) or not all(" " <= c <= "~" for c in value):
            raise ConfigurationError(
                f"sink {sink!r}: metadata value of {name!r} must be printable ASCII text (S3 refuses others); "
                "percent-encode it first"
            )
        total += len(name) + len(value)
    if total > MAX_METADATA_BYTES:
        raise ConfigurationError(f"sink {sink!r}: metadata is {total} bytes; S3 allows {MAX_METADATA_BYTES}")
    return dict(metadata)
