"""Each cloud's sinks package (Azure, GCP, IBM/OpenWhisk) as a package: no SDK at import time
(cold start), every URL scheme found through the ``corefn.sinks`` entry points, a missing SDK
named with its pip extra, and what deploy reads from every backend class.

One table row per cloud: the checks are the same on every cloud, only the names differ.
"""

from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys
from dataclasses import dataclass

import pytest

from corefn.errors import MissingExtraError
from corefn.sinks import backend_factory
from tests.sinks.contract import make_spec


@dataclass(frozen=True)
class CloudSinks:
    package: str
    #: URL scheme → backend module name inside ``package``
    schemes: dict[str, str]
    #: URL scheme → a URL that ``permissions()`` can read without any environment
    example_urls: dict[str, str]
    #: top-level SDK modules that must not be imported by importing the package
    sdk_prefixes: tuple[str, ...]
    #: (backend module, SDK module to hide, URL, extra, pip package) for the missing-SDK check
    missing: tuple[str, str, str, str, str]

    @property
    def modules(self) -> list[str]:
        return [f"{self.package}.{name}" for name in dict.fromkeys(self.schemes.values())]


CLOUDS: dict[str, CloudSinks] = {
    "azure": CloudSinks(
        package="corefn_azure.sinks",
        schemes={"az": "blob", "azqueue": "queue", "aztable": "table", "cosmos": "cosmos", "servicebus": "servicebus"},
        example_urls={"az": "az://acct/c", "azqueue": "azqueue://acct/q", "aztable": "aztable://acct/t",
                      "cosmos": "cosmos://acct/db/c", "servicebus": "servicebus://ns/q"},  # fmt: skip
        sdk_prefixes=("azure",),
        missing=("blob", "azure.storage.blob", "az://container", "azure", "azure-storage-blob"),
    ),
    "gcp": CloudSinks(
        package="corefn_gcp.sinks",
        schemes={"gs": "gcs", "firestore": "firestore", "pubsub": "pubsub"},
        example_urls={"gs": "gs://b", "firestore": "firestore://p/c", "pubsub": "pubsub://p/t"},
        sdk_prefixes=("google", "grpc"),
        missing=("gcs", "google.cloud.storage", "gs://bucket", "gcp", "google-cloud-storage"),
    ),
    "ibm": CloudSinks(
        package="corefn_openwhisk.sinks",
        schemes={"cloudant": "cloudant"},
        example_urls={"cloudant": "cloudant://host/db"},
        sdk_prefixes=("ibmcloudant", "ibm_cloud_sdk_core", "requests"),
        missing=("cloudant", "ibmcloudant", "cloudant://host/db", "openwhisk", "ibmcloudant"),
    ),
    # a cloud-neutral backend in the core (Kafka); the S3-API ones: tests/sinks/test_s3compat.py
    "neutral": CloudSinks(
        package="corefn.sinks",
        schemes={"kafka": "kafka"},
        example_urls={"kafka": "kafka://b:9093/t"},
        sdk_prefixes=("boto3", "botocore", "kafka"),
        missing=("kafka", "kafka", "kafka://b:9092/t", "kafka", "kafka-python"),
    ),
}
SCHEMES = [(cloud, scheme) for cloud, sinks in CLOUDS.items() for scheme in sorted(sinks.schemes)]


def _modules_after(code: str) -> set[str]:
    probe = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    return set(json.loads(done.stdout))


@pytest.fixture(scope="module")
def baseline_modules() -> set[str]:
    # namespace packages such as ``google`` are imported at start-up by .pth files: not ours
    return _modules_after("pass")


@pytest.mark.parametrize("cloud", sorted(CLOUDS))
def test_importing_the_backends_imports_no_sdk(cloud: str, baseline_modules: set[str]) -> None:
    sinks = CLOUDS[cloud]
    loaded = _modules_after("".join(f"import {module}\n" for module in [sinks.package, *sinks.modules]))
    assert sorted(m for m in loaded - baseline_modules if m.split(".")[0] in sinks.sdk_prefixes) == []
    assert set(sinks.modules) <= loaded  # the probe really imported them


@pytest.mark.parametrize(("cloud", "scheme"), SCHEMES)
def test_scheme_resolves_to_its_backend(cloud: str, scheme: str) -> None:
    sinks = CLOUDS[cloud]
    factory = backend_factory(scheme)
    assert factory.__module__ == f"{sinks.package}.{sinks.schemes[scheme]}"
    assert factory.__name__ == "open_backend"


@pytest.mark.parametrize("cloud", sorted(CLOUDS))
def test_missing_sdk_names_the_extra(cloud: str, monkeypatch: pytest.MonkeyPatch) -> None:
    sinks = CLOUDS[cloud]
    backend, sdk_module, url, extra, package = sinks.missing
    open_backend = importlib.import_module(f"{sinks.package}.{backend}").open_backend

    monkeypatch.setitem(sys.modules, sdk_module, None)  # as if the package were not installed
    with pytest.raises(MissingExtraError) as caught:
        open_backend(make_spec("object"), url)
    assert f"pip install 'corefn[{extra}]'" in str(caught.value)
    assert caught.value.package == package


@pytest.mark.parametrize(("cloud", "scheme"), SCHEMES)
def test_backends_declare_what_deploy_reads(cloud: str, scheme: str) -> None:
    sinks = CLOUDS[cloud]
    module = importlib.import_module(f"{sinks.package}.{sinks.schemes[scheme]}")
    (backend,) = [c for c in vars(module).values() if inspect.isclass(c) and c.__module__ == module.__name__
                  and hasattr(c, "permissions")]  # fmt: skip
    url = sinks.example_urls[scheme]
    assert len(backend.families) == 1
    assert backend.private_network is False and backend.needs_private_network(url) is False
    grants = backend.permissions(url, backend.families[0])
    assert grants and all(g.actions and g.resource for g in grants)
