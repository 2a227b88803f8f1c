"""The IBM Cloud Code Engine variant of the Knative deployment, and the deployment's README.

Code Engine runs Knative underneath and delivers its cron, Object Storage and Kafka
subscriptions to apps as the same CloudEvents (``dev.knative.sources.ping``,
``com.ibm.cloud.cos.document.write | delete``, ``dev.knative.kafka.event``; the attribute sets of
https://cloud.ibm.com/docs/codeengine?topic=codeengine-subscribe-cron,
https://cloud.ibm.com/docs/codeengine?topic=codeengine-eventing-cosevent-producer and
https://cloud.ibm.com/docs/codeengine?topic=codeengine-working-kafkaevent-producer), so the same image and
runtime serve it: one Code Engine application per handler (``ibmcloud ce application create``),
and one subscription per event handler (``ibmcloud ce subscription cron | cos | kafka create``).
Code Engine has no Broker: topic handlers are refused in the script, with the reason.

Code Engine sizes an app by a vCPU / memory pair from a fixed list
(https://cloud.ibm.com/docs/codeengine?topic=codeengine-mem-cpu-combo): the script picks the
least memory covering the handler's ``memory`` (see :func:`cpu_memory`).

Every flag the script writes is one of the CLI reference's
(https://cloud.ibm.com/docs/codeengine?topic=codeengine-cli): ``application create`` (``--cpu``,
``--memory``, ``--request-timeout`` at most 600, ``--min-scale``, ``--max-scale``, ``--concurrency``,
``--visibility``, ``--env``, ``--env-from-secret``), ``subscription cron create`` (``--schedule``,
``--time-zone``, ``--content-type``, ``--data``), ``subscription cos create`` (``--bucket``,
``--event-type`` write | delete | all, ``--prefix``, ``--suffix``) and ``subscription kafka create``
(``--topic``, ``--secret`` holding ``username`` and ``password``, and one ``--broker`` per broker:
the option takes a single server and is repeated, so the script expands ``KAFKA_BROKERS``,
comma-separated as Event Streams lists them, into one flag each).
"""

from __future__ import annotations

import math
import shlex

from corefn.app import App
from corefn.loader import bundled_ref
from corefn.specs import HandlerSpec, StorageTrigger, TimerTrigger
from corefn_knative.generator import k8s_name, secret_keys, secret_name, service_name

#: Code Engine's valid (vCPU, memory GB) pairs for apps: its CPU-intensive, balanced and
#: memory-intensive columns (https://cloud.ibm.com/docs/codeengine?topic=codeengine-mem-cpu-combo)
CPU_MEMORY: tuple[tuple[str, float], ...] = (
    ("0.125", 0.25), ("0.125", 0.5), ("0.125", 1), ("0.25", 0.5), ("0.25", 1), ("0.25", 2), ("0.5", 1), ("0.5", 2),
    ("0.5", 4), ("1", 2), ("1", 4), ("1", 8), ("2", 4), ("2", 8), ("2", 16), ("4", 8), ("4", 16), ("4", 32),
    ("6", 12), ("6", 24), ("6", 48), ("8", 16), ("8", 32), ("10", 20), ("10", 40), ("12", 24), ("12", 48),
)
#: COS subscription --event-type per corefn operation set
COS_EVENTS = {frozenset({"created"}): "write", frozenset({"deleted"}): "delete", frozenset({"created", "deleted"}): "all"}
MAX_REQUEST_TIMEOUT = 600  # seconds: the app timeout maximum of https://cloud.ibm.com/docs/codeengine?topic=codeengine-limits


def cpu_memory(memory_mb: int) -> tuple[str, str]:
    """The valid pair with the least memory covering ``memory_mb``, and the most vCPU among
    those (1 vCPU per 2 GB where the table has it: CPU in proportion to memory, as Lambda gives
    it, so a port runs at a comparable speed); more than the largest pair is a ConfigurationError."""
    fitting = [(gb, -float(cpu), cpu) for cpu, gb in CPU_MEMORY if gb * 1024 >= memory_mb]
    if not fitting:
        from corefn.errors import ConfigurationError

        raise ConfigurationError(f"memory={memory_mb} MB is more than a Code Engine app can have ({max(g for _, g in CPU_MEMORY):g} GB)")
    gb, _, cpu = min(fitting)
    return cpu, f"{gb:g}G"


def _q(value: str) -> str:
    return shlex.quote(value)


def _app_command(app: App, spec: HandlerSpec, app_ref: str) -> list[str]:
    options, name = spec.options, service_name(app, spec)
    args = [
        f"ibmcloud ce application create --name {name} --image \"$IMAGE\"",
        f"--env COREFN_APP={_q(bundled_ref(app_ref))} --env COREFN_HANDLER={_q(spec.name)}",
    ]
    args += [f"--env {_q(f'{k}={v}')}" for k, v in sorted(options.env.items())]
    if secret_keys(app):
        args.append(f"--env-from-secret {secret_name(app)}")
    if options.memory:
        cpu, memory = cpu_memory(options.memory)
        args.append(f"--cpu {cpu} --memory {memory}")
    if options.timeout:
        args.append(f"--request-timeout {min(MAX_REQUEST_TIMEOUT, math.ceil(options.timeout))}")
    if options.warm:
        args.append("--min-scale 1")
    if options.concurrency:
        args.append(f"--max-scale {options.concurrency} --concurrency 1")
    args.append("--visibility public" if spec.kind == "http" else "--visibility project")
    return [" \\\n    ".join(args)]


def _subscription(app: App, spec: HandlerSpec) -> list[str]:
    name = service_name(app, spec)
    if isinstance(spec.trigger, TimerTrigger):
        data = '{"corefn":"timer","name":' + f'"{spec.name}"' + "}"
        return [
            f"ibmcloud ce subscription cron create --name {k8s_name(name, 'cron')} --destination {name} \\\n"
            f"    --schedule {_q(spec.trigger.schedule)} --time-zone {_q(spec.trigger.tz)} \\\n"
            f"    --content-type application/json --data {_q(data)}"
        ]
    if isinstance(spec.trigger, StorageTrigger):
        wanted = frozenset(spec.trigger.operations)
        event_type = COS_EVENTS.get(wanted)
        if event_type is None:
            return [f"# {spec.name}: Code Engine's COS subscriptions report writes and deletes only, not {', '.join(sorted(wanted))}"]
        line = (
            f"ibmcloud ce subscription cos create --name {k8s_name(name, 'cos')} --destination {name} \\\n"
            f"    --bucket \"${{BUCKET_{_env(spec.resource or '')}}}\" --event-type {event_type}"
        )
        if spec.trigger.prefix:
            line += f" --prefix {_q(spec.trigger.prefix)}"
        if spec.trigger.suffix:
            line += f" --suffix {_q(spec.trigger.suffix)}"
        return [line]
    if spec.kind in ("queue", "stream"):
        return [
            f"ibmcloud ce subscription kafka create --name {k8s_name(name, 'kafka')} --destination {name} \\\n"
            f"    \"${{KAFKA_BROKER_FLAGS[@]}}\" --topic {_q(spec.resource or '')} --secret \"$KAFKA_SECRET\""
        ]
    if spec.kind == "topic":
        return [f"# {spec.name}: Code Engine has no event broker for topics; publish to a Kafka topic and declare a stream or queue"]
    return []


def _env(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).upper()


def codeengine_script(app: App, app_ref: str) -> str:
    lines = [
        "#!/usr/bin/env bash",
        f"# {app.name} on IBM Cloud Code Engine: one application per handler, one subscription per event handler.",
        "# Needs: ibmcloud login, a selected project (ibmcloud ce project select --name ...), IMAGE pushed to a",
        "# registry Code Engine can pull from" + (f", the {secret_name(app)} secret (README.md)" if secret_keys(app) else "") + ",",
        "# BUCKET_<NAME> for each watched bucket, KAFKA_BROKERS (comma-separated) and KAFKA_SECRET (keys username, password) for Kafka.",
        "set -euo pipefail",
        ': "${IMAGE:?set IMAGE to the pushed image}"',
        "",
    ]
    if any(spec.kind in ("queue", "stream") for spec in app.handlers):
        lines += [
            "# one --broker per Kafka broker (the option takes one server and is repeated)",
            ': "${KAFKA_BROKERS:?set KAFKA_BROKERS to the comma-separated brokers}"',
            "KAFKA_BROKER_FLAGS=()",
            'IFS=, read -ra _brokers <<< "$KAFKA_BROKERS"',
            'for b in "${_brokers[@]}"; do KAFKA_BROKER_FLAGS+=(--broker "$b"); done',
            "",
        ]
    for spec in app.handlers:
        lines += [f"# {spec.name} ({spec.kind})", *_app_command(app, spec, app_ref), *_subscription(app, spec), ""]
    if app.flows:
        lines += _flow_engine(app, app_ref)
    return "\n".join(lines)


def _flow_engine(app: App, app_ref: str) -> list[str]:
    """The flow engine (:mod:`corefn_knative.flows`) as a Code Engine app and its minute tick (a
    cron subscription). Runs started elsewhere are picked up by the tick: the other apps are not
    given the engine's address (a project's internal host names depend on its subdomain)."""
    from corefn_knative._flows_deploy import TICK, engine_name
    from corefn_knative.flows import LEASE

    name = engine_name(app)
    args = [
        f"ibmcloud ce application create --name {name} --image \"$IMAGE\"",
        f"--env COREFN_APP={_q(bundled_ref(app_ref))} --env COREFN_FLOWS=1",
        *([f"--env-from-secret {secret_name(app)}"] if secret_keys(app) else []),
        f"--request-timeout {int(min(LEASE, MAX_REQUEST_TIMEOUT))} --visibility project",
    ]
    return [
        f"# the flow engine ({', '.join(flow.name for flow in app.flows)}): state in the table sink declared with flow_state=True",
        " \\\n    ".join(args),
        f"ibmcloud ce subscription cron create --name {name}-tick --destination {name} \\\n"
        f"    --schedule {_q(TICK)} --time-zone Etc/UTC --content-type application/json --data '{{\"corefn\":\"flows\"}}'",
        "",
    ]


SELF_HOSTED_SINKS = """\
| sink | backend that fits a self-hosted cluster | URL |
|---|---|---|
| object | MinIO, Ceph RGW, IBM COS (S3-compatible) | `cos://BUCKET?endpoint=http://minio.minio:9000` |
| cache | Redis (or Valkey) | `redis://redis.NS:6379/0` |
| sql | PostgreSQL (CloudNativePG, or any) | `postgresql://USER:PASS@HOST/DB` |
| publisher (topic) | the Knative Broker: binary-mode CloudEvents its Triggers route | `knative://broker-ingress.knative-eventing.svc.cluster.local/NS/default` |
| publisher (queue, stream) | Kafka (Strimzi, Redpanda), read by the KafkaSources | `kafka://BROKER:9092/TOPIC` |
| table | PostgreSQL through the sql backend; no Kubernetes-native NoSQL table backend ships with corefn | - |
"""


def readme(app: App) -> str:
    secret = secret_name(app)
    keys = secret_keys(app)
    create = (
        f"kubectl create secret generic {secret} \\\n"
        + " \\\n".join(f"  --from-literal={k}='...'" for k in keys)
        + "\n"
        if keys
        else "# this app reads no secret\n"
    )
    from corefn_knative.generator import compiled

    notes = [note for spec in app.handlers for note in compiled(app, spec).notes]
    limits = "".join(f"- {note}\n" for note in notes) or "- none: every retry policy maps to Knative's delivery settings\n"
    storage = [s for s in app.handlers if s.kind == "storage"]
    webhooks = "".join(
        f"mc admin config set ALIAS notify_webhook:{k8s_name(s.name)} "
        f"endpoint=http://{service_name(app, s)}.NAMESPACE.svc.cluster.local/_corefn/s3 "
        f"auth_token=\"$COREFN_WEBHOOK_TOKEN\"\n"
        f"mc event add ALIAS/{s.resource} arn:minio:sqs::{k8s_name(s.name)}:webhook --event "
        + ",".join({"created": "put", "deleted": "delete"}.get(op, op) for op in s.trigger.operations)  # type: ignore[attr-defined]
        + "\n"
        for s in storage
    )
    flows = "" if not app.flows else (
        f"## Flows\n\n`knative/flows.yaml` runs corefn's flow engine in `{k8s_name(app.name, 'flows')}` (its state in the\n"
        "table sink declared with `flow_state=True`), ticked every minute by a PingSource.\n\n"
    )
    return f"""# {app.name} on Knative

Generated by `corefn deploy --cloud knative`. One image for the app, one Knative Service per
handler (`COREFN_HANDLER` pinned), fed by Triggers, PingSources and KafkaSources.

## Build and push the image

```sh
docker build -t REGISTRY/{k8s_name(app.name)}:VERSION .   # this folder: Dockerfile, requirements.txt, app/
docker push REGISTRY/{k8s_name(app.name)}:VERSION
```

## Secrets (never written to these files)

Every sink URL{' and the API key' if any(s.options.api_key for s in app.handlers) else ''} comes from the `{secret}` Secret:

```sh
{create}```

## Apply

```sh
export IMAGE=REGISTRY/{k8s_name(app.name)}:VERSION KAFKA_BOOTSTRAP_SERVERS=my-cluster-kafka-bootstrap.kafka:9092
for f in knative/*.yaml; do envsubst '$IMAGE $KAFKA_BOOTSTRAP_SERVERS' < "$f" | kubectl apply -f -; done
```

Failed events are retried with exponential backoff and then sent to the dead-letter Broker in
`knative/brokers.yaml`; read them with a Trigger on it (Knative adds `knativeerrorcode` and
`knativeerrordata`). What Knative cannot do of the declared retry policies:

{limits}{"" if not storage else f'''
## Object-store notifications (MinIO and other S3-compatible stores)

The store posts its bucket notifications to the handler's Service, which wraps them into
storage events (route `/_corefn/s3`); it must send the `COREFN_WEBHOOK_TOKEN` of the Secret:

```sh
{webhooks}```
'''}
{flows}## Sink backends for a self-hosted cluster

{SELF_HOSTED_SINKS}
Cloud-only backends (DynamoDB, Cosmos DB, Firestore, SQS, Pub/Sub...) work from a cluster too,
with their credentials in the Secret, but tie the app to that cloud.

## IBM Cloud Code Engine

`codeengine.sh` deploys the same image to Code Engine: an application per handler and its cron,
Object Storage or Kafka subscription (`ibmcloud ce subscription ...`). Create the secret there with
`ibmcloud ce secret create --name {secret} --from-env-file secrets.env`.
"""
