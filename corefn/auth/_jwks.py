"""Signing keys of an issuer: OpenID Connect discovery, a cached JWKS, rotation on an unknown kid.

- Discovery (OpenID Connect Discovery 1.0 §4): ``<issuer>/.well-known/openid-configuration``;
  its ``issuer`` must equal the configured one exactly (§4.3) and its ``jwks_uri`` names the keys.
- Providers rotate keys by publishing the new one before signing with it, so a token whose ``kid``
  is unknown triggers one refetch — at most once per :data:`REFETCH_AFTER` seconds, so a flood of
  forged kids cannot turn the function into a load generator against the identity provider.
- Key sets are cached per process (a warm Lambda / Functions host reuses them) for
  :data:`MAX_AGE` seconds.
- Only ``https`` URLs, except on the loopback interface (a local identity provider or a test).
  The local issuer's keys come from the file ``corefn token`` writes (:mod:`corefn.auth.local`).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

#: seconds a fetched key set is trusted before it is fetched again
MAX_AGE = 3600.0
#: fewest seconds between two fetches triggered by unknown kids
REFETCH_AFTER = 30.0
#: bytes read at most from a discovery document or key set
MAX_BYTES = 1 << 20
LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


class KeysUnavailable(Exception):
    """The key set could not be fetched or read (the provider is down or misconfigured)."""


def fetch_json(url: str, timeout: float = 5.0) -> Any:
    parts = urlsplit(url)
    if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in LOOPBACK):
        raise KeysUnavailable(f"{url!r}: keys are fetched over https only (plain http on loopback)")
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"accept": "application/json"}), timeout=timeout) as answer:
            return json.loads(answer.read(MAX_BYTES))
    except (OSError, ValueError) as error:
        raise KeysUnavailable(f"{url}: {error}") from None


class KeySet:
    """The JWKS of one issuer, thread-safe (the local server runs handlers on threads)."""

    def __init__(self, issuer: str, jwks_url: str | None, fetch: Callable[[str], Any] = fetch_json) -> None:
        self.issuer = issuer
        self.jwks_url = jwks_url
        self._fetch = fetch
        self._keys: list[dict[str, Any]] = []
        self._fetched = float("-inf")
        self._discovered: str | None = None
        self._lock = threading.Lock()
        self.fetches = 0

    def candidates(self, kid: str | None) -> list[dict[str, Any]]:
        """The keys a token with this ``kid`` may be checked against (refetching on a miss)."""
        with self._lock:
            now = time.monotonic()
            if now - self._fetched > MAX_AGE:
                try:
                    self._refresh(now, rediscover=True)
                except KeysUnavailable:
                    if not self._keys:
                        raise
                    # The provider is unreachable but its keys were good an hour ago: keep them,
                    # and try again after REFETCH_AFTER rather than failing every request.
                    self._fetched = now - MAX_AGE + REFETCH_AFTER
            found = self._match(kid)
            if not found and now - self._fetched >= REFETCH_AFTER:
                self._refresh(now, rediscover=False)
                found = self._match(kid)
            return found

    def _match(self, kid: str | None) -> list[dict[str, Any]]:
        if kid is None:  # RFC 7515 §4.1.4: kid is optional; then any key of the set may have signed
            return list(self._keys)
        return [k for k in self._keys if k.get("kid") == kid]

    def _refresh(self, now: float, rediscover: bool) -> None:
        """A rotation refetches the key set only; the discovery document is read again with the
        periodic refresh (a provider moving its ``jwks_uri`` is rarer than a new key)."""
        if self.jwks_url is None and (rediscover or self._discovered is None):
            self._discovered = self._discover()
        url = self.jwks_url or self._discovered
        assert url is not None
        document = self._fetch(url)
        keys = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(keys, list):
            raise KeysUnavailable(f"{url}: not a JWK set (RFC 7517 §5: an object with 'keys')")
        self._keys = [k for k in keys if isinstance(k, dict) and k.get("use", "sig") == "sig"]
        self._fetched = now
        self.fetches += 1

    def _discover(self) -> str:
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        document = self._fetch(url)
        if not isinstance(document, dict) or document.get("issuer") != self.issuer:
            raise KeysUnavailable(f"{url}: the discovery document names another issuer (OIDC Discovery §4.3)")
        jwks_uri = document.get("jwks_uri")
        if not isinstance(jwks_uri, str):
            raise KeysUnavailable(f"{url}: no jwks_uri")
        return jwks_uri


_SETS: dict[tuple[str, str | None], KeySet] = {}
_SETS_LOCK = threading.Lock()


def key_set(issuer: str, jwks_url: str | None) -> KeySet:
    """The process-wide key set of an issuer (shared by every route that names it)."""
    with _SETS_LOCK:
        found = _SETS.get((issuer, jwks_url))
        if found is None:
            if issuer == _local_issuer():
                from corefn.auth.local import local_key_set

                found = local_key_set()
            else:
                found = KeySet(issuer, jwks_url)
            _SETS[(issuer, jwks_url)] = found
        return found


def _local_issuer() -> str:
    from corefn.auth import LOCAL_ISSUER

    return LOCAL_ISSUER


def forget() -> None:
    """Drop every cached key set (tests; a long-lived process after an issuer change)."""
    with _SETS_LOCK:
        _SETS.clear()
