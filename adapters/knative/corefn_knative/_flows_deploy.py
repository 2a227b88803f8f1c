"""The flow engine's part of a Knative deployment (:mod:`corefn_knative.flows` says how it runs):
its Service, the ServiceAccount it runs as, and the PingSource that ticks it every minute.

The Service runs the app's image with ``COREFN_FLOWS=1``, cluster-local (only the app's own
Services and the tick reach it), every secret of the app mounted (steps are any invoke handlers,
and they use whatever sinks they declare) and the longest request timeout Knative allows by
default, so one pass has time to finish (:data:`corefn_knative.flows.LEASE`). Every other
Service gets ``COREFN_FLOW_ENGINE`` (its in-namespace URL) and the state table's URL, since any
handler may start a run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from corefn.loader import bundled_ref
from corefn_knative.flows import ENGINE_ENV, LEASE, state_table

if TYPE_CHECKING:
    from corefn.app import App

#: the tick: PingSource's cron has minute resolution, the finest a wait or back-off is noticed
TICK = "* * * * *"


def engine_name(app: App) -> str:
    from corefn_knative.generator import k8s_name

    return k8s_name(app.name, "flows")


def engine_env(app: App) -> list[dict[str, Any]]:
    """What every Service of an app with flows adds: where the engine is (the Service name
    resolves in the namespace: Knative makes it a Kubernetes Service)."""
    return [{"name": ENGINE_ENV, "value": f"http://{engine_name(app)}"}] if app.flows else []


def flow_engine(app: App, app_ref: str) -> list[dict[str, Any]]:
    """ServiceAccount, Service and PingSource of the flow engine."""
    from corefn_knative.generator import SERVICE, secret_keys, secret_name

    state_table(app)  # refuse early: flows need their declared state table
    name = engine_name(app)
    labels = {"app.kubernetes.io/part-of": name.rsplit("-flows", 1)[0], "corefn.dev/handler": "flows"}
    env: list[dict[str, Any]] = [
        {"name": "COREFN_APP", "value": bundled_ref(app_ref)},
        {"name": "COREFN_FLOWS", "value": "1"},
        *[{"name": k, "valueFrom": {"secretKeyRef": {"name": secret_name(app), "key": k}}} for k in secret_keys(app)],
    ]
    container = {
        "image": "${IMAGE}",
        "env": env,
        "ports": [{"containerPort": 8080}],
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
    }
    service = {
        **SERVICE,
        "metadata": {"name": name, "labels": {**labels, "networking.knative.dev/visibility": "cluster-local"}},
        "spec": {"template": {"spec": {"serviceAccountName": name, "timeoutSeconds": int(LEASE), "containers": [container]}}},
    }
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name, "labels": labels},
               "automountServiceAccountToken": False}  # fmt: skip
    tick = {
        "apiVersion": "sources.knative.dev/v1",
        "kind": "PingSource",
        "metadata": {"name": f"{name}-tick", "labels": labels},
        "spec": {"schedule": TICK, "timezone": "Etc/UTC", "contentType": "application/json", "data": '{"corefn":"flows"}',
                 "sink": {"ref": {**SERVICE, "name": name}}},  # fmt: skip
    }
    return [account, service, tick]
