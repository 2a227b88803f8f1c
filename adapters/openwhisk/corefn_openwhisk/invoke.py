"""Direct invocation (``wsk action invoke``, a sequence step, another action's call) and the
warm-up ping.

An invoke carries the caller's parameters and nothing else: no signature, so detection is by
exclusion (see the package docstring). Two rules keep that safe:

- ``corefn inspect`` reads a payload no shape claims as an invoke only with ``--cloud
  openwhisk`` (or ``--shape invoke``), and with ``--cloud openwhisk`` a payload carrying another
  cloud's signature is a WrongCloudError, never an invoke (``corefn.adapters.parse``);
- at run time an unclaimed payload goes to the app's invoke handler (the one the action is
  pinned to), and is an error when the app declares none (``corefn.adapters.handle``).

The payload the handler sees is the params without corefn's ``__corefn_*`` defaults. The warm-up
ping (``{"corefn": "warmup"}``, what the generator's keep-warm alarm sends, or the
``serverless-plugin-warmup`` form) is answered by :class:`~corefn.adapters.WarmupShape` before
any user code runs.

An OpenWhisk action must return a JSON object: a handler's dict is returned as is, anything
else (a list, a string, ``None``) as ``{"result": value}``.
"""

from __future__ import annotations

from typing import Any

from corefn.adapters import WarmupShape

WARMUP_PAYLOAD: dict[str, str] = {"corefn": "warmup"}


def invoke_result(value: Any) -> dict[str, Any]:
    """The activation result for an invoke handler's return value."""
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return value
    return {"result": value}


__all__ = ["WARMUP_PAYLOAD", "WarmupShape", "invoke_result"]
