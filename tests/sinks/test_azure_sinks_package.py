"""corefn_azure.sinks as a package: no SDK at import time (cold start), every URL scheme found through
the ``corefn.sinks`` entry points, and a missing SDK named with its pip extra."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from corefn.errors import MissingExtraError
from corefn.sinks import backend_factory
from tests.sinks.contract import make_spec

PACKAGE = "corefn_azure.sinks"
MODULES = [f"{PACKAGE}.{name}" for name in "blob queue table cosmos servicebus".split()]
SCHEMES: dict[str, str] = {"az": "blob", "azqueue": "queue", "aztable": "table", "cosmos": "cosmos", "servicebus": "servicebus"}
EXAMPLE_URLS: dict[str, str] = {"az": "az://acct/c", "azqueue": "azqueue://acct/q", "aztable": "aztable://acct/t", "cosmos": "cosmos://acct/db/c", "servicebus": "servicebus://ns/q"}
SDK_PREFIXES = ("azure",)


def _modules_after(code: str) -> set[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    return set(json.loads(done.stdout))


def test_importing_the_backends_imports_no_sdk() -> None:
    # namespace packages such as ``google`` are imported at start-up by .pth files: not ours
    baseline = _modules_after("pass")
    loaded = _modules_after("".join(f"import {module}\n" for module in [PACKAGE, *MODULES]))
    assert sorted(m for m in loaded - baseline if m.split(".")[0] in SDK_PREFIXES) == []
    assert set(MODULES) <= loaded  # the probe really imported them


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_scheme_resolves_to_its_backend(scheme: str) -> None:
    factory = backend_factory(scheme)
    assert factory.__module__ == f"{PACKAGE}.{SCHEMES[scheme]}"
    assert factory.__name__ == "open_backend"


def test_missing_sdk_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from corefn_azure.sinks.blob import open_backend

    monkeypatch.setitem(sys.modules, "azure.storage.blob", None)  # as if the package were not installed
    with pytest.raises(MissingExtraError) as caught:
        open_backend(make_spec("object"), "az://container")
    assert "pip install 'corefn[azure]'" in str(caught.value)
    assert caught.value.package == "azure-storage-blob"


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_backends_declare_what_deploy_reads(scheme: str) -> None:
    import importlib
    import inspect

    module = importlib.import_module(f"{PACKAGE}.{SCHEMES[scheme]}")
    (backend,) = [c for c in vars(module).values() if inspect.isclass(c) and c.__module__ == module.__name__
                  and hasattr(c, "permissions")]  # fmt: skip
    url = EXAMPLE_URLS[scheme]
    assert len(backend.kinds) == 1
    assert backend.private_network is False and backend.needs_private_network(url) is False
    grants = backend.permissions(url, backend.kinds[0])
    assert grants and all(g.actions and g.resource for g in grants)
