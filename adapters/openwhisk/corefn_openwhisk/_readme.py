"""The OpenWhisk bundle's scripts and README: ``build.sh`` (the zips, from any folder),
``deploy.sh`` (checks every setting, builds, runs wskdeploy, wires the bucket notifications) and
``README.md`` (the commands from a fresh machine, what is created, the teardown).

The bucket notifications follow MinIO's webhook target and ``mc event add``
(https://min.io/docs/minio/linux/administration/monitoring/publish-events-to-webhook.html and
https://min.io/docs/minio/linux/reference/minio-mc/mc-event-add.html): a target
``notify_webhook:<id>`` with ``endpoint`` (the action's web URL, from ``wsk action get --url``),
``auth_token`` (sent as ``Authorization: Bearer``) and ``queue_dir`` (events kept and resent while
the action answers non-2xx), then one ``mc event add`` per storage handler with its filters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from corefn_openwhisk.storage import MINIO_EVENTS

if TYPE_CHECKING:
    from corefn.app import App
    from corefn_openwhisk.generator import ActionPlan

#: deployer variable → what it holds (the README's table; unknown names are sink URLs or env options)
VARIABLES: dict[str, str] = {
    "COREFN_API_KEY": "the key HTTP callers send in x-api-key",
    "COREFN_WEBHOOK_TOKEN": "a long random token the object store sends with each notification (auth_token)",
    "COREFN_S3_ENDPOINT": "the S3-compatible store's endpoint (https://minio.example:9000)",
    "S3_ACCESS_KEY_ID": "an access key of that store",
    "S3_SECRET_ACCESS_KEY": "its secret key",
    "CLOUDANT_URL": "the Cloudant / CouchDB service URL",
    "CLOUDANT_AUTH_TYPE": "how the IBM SDK authenticates: iam (Cloudant), basic (CouchDB; add CLOUDANT_USERNAME/PASSWORD as env options) or noauth",
    "CLOUDANT_APIKEY": "the IAM API key (any non-empty text when the type is not iam)",
    "CLOUDANT_HOST": "the Cloudant host the changes feed reads",
    "KAFKA_BROKERS": "the Kafka bootstrap brokers, comma-separated host:port",
    "KAFKA_BROKERS_SASL": "the same brokers as a JSON array of strings (what the Kafka feed takes)",
    "KAFKA_USER": "the Kafka SASL user (Event Streams: token)",
    "KAFKA_PASSWORD": "the Kafka SASL password (Event Streams: the API key)",
    "KAFKA_ADMIN_URL": "the Kafka admin REST URL the feed checks the topic with",
    "MINIO_ALIAS": "the mc alias of the object store (mc alias set ...)",
    "MINIO_QUEUE_DIR": "a folder on the store's server where undelivered notifications wait",
}


#: sink family → the URL form on Apache OpenWhisk (the README's table)
SINK_URLS: dict[str, str] = {
    "object": "`s3compat://BUCKET` (the bucket must exist; endpoint and keys below)",
    "table": "`cloudant://DB` (the database must exist at CLOUDANT_URL)",
    "publisher": "`kafka://BROKER:PORT[,BROKER:PORT]/TOPIC` (the topic must exist)",
    "sql": "`postgresql+psycopg://USER:PASSWORD@HOST:5432/DB`",
    "cache": "`redis://HOST:6379/0` (or `rediss://`)",
}


def build_script(app: App) -> str:
    return f"""#!/usr/bin/env bash
# Builds build/<action>.zip for every OpenWhisk action of corefn app {app.name!r}, from this folder's
# src/ (the app, its modules and corefn, vendored by corefn deploy) and each action's pinned
# requirements.txt, with wheels for the action runtime (python:3.11, manylinux x86_64) whatever this
# machine is. Runs from any folder; fails on a missing source and on a zip over the 48 MB limit.
set -euo pipefail
HERE="$(cd "$(dirname "${{BASH_SOURCE[0]}}")" && pwd)"
PYTHON="${{PYTHON:-python3}}"
if [ ! -d "$HERE/src/corefn_openwhisk" ]; then
  echo "build.sh: $HERE/src holds no vendored corefn: run corefn deploy APP --cloud openwhisk --out DIR (without --no-bundle)" >&2
  exit 1
fi
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {{ echo "build.sh: $PYTHON is older than Python 3.11" >&2; exit 1; }}
exec "$PYTHON" -I -c 'import sys; sys.path.insert(0, sys.argv[1]); from corefn_openwhisk.build import main; sys.exit(main(sys.argv[2:]))' "$HERE/src" "$HERE"
"""


def _storage(actions: list[ActionPlan]) -> list[tuple[str, Any]]:
    return [(a.name, a.specs[0]) for a in actions if a.handler is not None and a.specs[0].kind == "storage"]


def _mc_event(app: App, action: str, spec: Any) -> str:
    trigger = spec.trigger
    events = ",".join(MINIO_EVENTS[op] for op in trigger.operations if op in MINIO_EVENTS)
    filters = "".join(f" --{k} {v!r}" for k, v in (("prefix", trigger.prefix), ("suffix", trigger.suffix)) if v)
    return f'mc event add "$MINIO_ALIAS/{trigger.bucket}" "arn:minio:sqs::corefn_{action}:webhook" --event {events}{filters}'


def deploy_script(app: App, actions: list[ActionPlan], variables: list[str]) -> str:
    storage = _storage(actions)
    needed = variables + (["MINIO_ALIAS", "MINIO_QUEUE_DIR"] if storage else [])
    lines = [
        "#!/usr/bin/env bash",
        f"# Deploys corefn app {app.name!r} to Apache OpenWhisk (wsk and wskdeploy configured for your host",
        "# and namespace; mc for the object store). Every variable the manifest binds must be set: wskdeploy",
        '# would bind an unset one as "", and the action would then fail at its first activation.',
        "set -euo pipefail",
        'HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"',
        "missing=()",
        f"for name in {' '.join(needed)}; do",
        '  if [ -z "${!name:-}" ]; then missing+=("$name"); fi',
        "done",
        'if [ ${#missing[@]} -gt 0 ]; then',
        '  echo "deploy.sh: set these variables first (README.md says what each holds): ${missing[*]}" >&2',
        "  exit 1",
        "fi",
        '"$HERE/build.sh"',
        'wskdeploy -m "$HERE/manifest.yaml"',
    ]
    for action, spec in storage:
        lines += [
            f"# bucket {spec.trigger.bucket!r} → action {action} (the MinIO webhook bridge)",
            f'url="$(wsk action get "{app.name}/{action}" --url | tail -n 1)"',
            f'mc admin config set "$MINIO_ALIAS" "notify_webhook:corefn_{action}" endpoint="$url" '
            'auth_token="$COREFN_WEBHOOK_TOKEN" queue_dir="$MINIO_QUEUE_DIR"',
        ]
    if storage:
        lines.append('mc admin service restart "$MINIO_ALIAS"  # the store loads new notification targets on restart')
        lines += [_mc_event(app, action, spec) for action, spec in storage]
    return "\n".join(lines) + "\n"


def _limits(actions: list[ActionPlan]) -> list[str]:
    """Actions asking more than the default deployment allows (``facts/limits.toml``): wskdeploy
    would be refused until the operator raises them."""
    import tomllib
    from importlib import resources

    facts = tomllib.loads(resources.files("corefn_openwhisk.facts").joinpath("limits.toml").read_text())["limits"]
    found = []
    for action in actions:
        memory = max((s.options.memory or 0 for s in action.specs), default=0)
        timeout = max((s.options.timeout or 0 for s in action.specs), default=0)
        if memory > facts["memory"]["max"]:
            found.append(f"- `{action.name}` asks {memory} MB; a default deployment allows {facts['memory']['min']}-{facts['memory']['max']} MB (an operator setting of the controller)")
        if timeout > facts["timeout"]["max"]:
            found.append(f"- `{action.name}` asks {timeout:g} s; a default deployment allows up to {facts['timeout']['max']} s (an operator setting of the controller)")
    if not found:
        return []
    return ["## Limits to raise first", "", "The controller refuses these actions until its operator raises the limit:", "", *found, ""]


def readme(app: App, app_ref: str, actions: list[ActionPlan], skipped: list[str], variables: list[str]) -> str:
    from corefn.policy import compile_policies
    from corefn_openwhisk.queue import dead_letter_topic

    storage = _storage(actions)
    queues = [a.specs[0] for a in actions if a.handler is not None and a.specs[0].kind == "queue"]
    notes = [n for compiled in compile_policies(app, "openwhisk").values() for n in compiled.notes]
    out = [
        f"# {app.name} on Apache OpenWhisk",
        "",
        f"Generated by `corefn deploy {app_ref} --cloud openwhisk`; regenerate instead of editing.",
        "",
        "## Deploy from a fresh machine",
        "",
        "Needs Python 3.11+ with pip (the build downloads wheels for the action runtime from PyPI), `wsk` and",
        "`wskdeploy` configured for your OpenWhisk host and namespace" + (", and `mc` with an alias for the object store." if storage else "."),
        "",
        "```sh",
        "python3 -m venv .venv && .venv/bin/pip install -e PATH/TO/corefn   # corefn is not on PyPI: a checkout",
        f"corefn deploy {app_ref} --cloud openwhisk --out DIR   # writes DIR/openwhisk/, builds every zip",
        "export " + " ".join(f"{v}=..." for v in variables + (["MINIO_ALIAS", "MINIO_QUEUE_DIR"] if storage else [])),
        "DIR/openwhisk/deploy.sh   # refuses to run while a variable is unset; builds, wskdeploy, notifications",
        "```",
        "",
        "`build.sh` alone rebuilds the zips (from any folder). A zip over OpenWhisk's 48 MB action code limit,",
        "counted base64-encoded as the controller stores it, fails the build with the numbers; the remedy is",
        "fewer dependencies for that handler or a Docker action.",
        "",
        "## Settings",
        "",
        "| variable | what it holds |",
        "|---|---|",
    ]
    sinks = {sink.env_var: sink for sink in app.sinks}
    for name in variables + (["MINIO_ALIAS", "MINIO_QUEUE_DIR"] if storage else []):
        sink = sinks.get(name)
        if sink is not None:
            what = f"sink `{sink.name}`: {SINK_URLS.get(sink.family, 'its URL')}"
        else:
            what = VARIABLES.get(name) or "a handler's env option"
        out.append(f"| `{name}` | {what} |")
    out += [
        "",
        "OpenWhisk has no secret store: bound parameters (the API key, database URLs with their passwords) are",
        "stored by the controller with the action and shown to anyone who may `wsk action get` it.",
        "",
        "## What gets created",
        "",
        f"- package `{app.name}` with {len(actions)} action(s) (kind python:3.11): " + ", ".join(f"`{a.name}`" for a in actions),
        "- the triggers and rules of the manifest (alarms, Kafka and Cloudant feeds) and the API Gateway routes",
    ]
    for action, spec in storage:
        out.append(f"- a MinIO webhook target `corefn_{action}` and the notification of bucket `{spec.trigger.bucket}` to it")
    for spec in queues:
        out.append(f"- nothing for queue `{spec.resource}`: create its Kafka topic and the dead-letter topic `{dead_letter_topic(spec)}`")
    for spec in [a.specs[0] for a in actions if a.handler is not None and a.specs[0].kind in ("stream", "nosql")]:
        out.append(f"- nothing for {spec.kind} `{spec.resource}`: create its Kafka topic and the dead-letter topic `{dead_letter_topic(spec)}`")
    out += [
        "",
        "Costs: Apache OpenWhisk is self-hosted: what runs it (and the store, Kafka, databases) is yours to pay.",
        "",
        *_limits(actions),
        "## Retries",
        "",
        *[f"- {note}" for note in notes],
        *[f"- not deployed: {s} (Apache OpenWhisk has no trigger for it)" for s in skipped],
        "",
        "## Tear down",
        "",
        "```sh",
        *[f'mc event remove "$MINIO_ALIAS/{spec.trigger.bucket}" --force --event {",".join(MINIO_EVENTS[o] for o in spec.trigger.operations if o in MINIO_EVENTS)}' for _, spec in storage],
        *[f'mc admin config reset "$MINIO_ALIAS" "notify_webhook:corefn_{action}"' for action, _ in storage],
        "wskdeploy undeploy -m DIR/openwhisk/manifest.yaml",
        "```",
        "",
    ]
    return "\n".join(out)
