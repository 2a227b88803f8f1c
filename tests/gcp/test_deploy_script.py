"""The generated ``deploy.sh`` and ``teardown.sh`` of both examples, proved offline:

- run twice with a fake ``gcloud`` first on PATH (see :mod:`tests.gcp.gcloud_tools`: a mock, since
  Google's control plane has no emulator): once with every ``describe`` answering "not found",
  once with everything existing. The first run creates each resource once; the second creates
  nothing and still exits 0 (a re-run of the old script died on ALREADY_EXISTS);
- every call of both runs (and of the teardown's) through gcloud's own argument parser: a bad
  flag or a bad value fails the test, the missing account is the expected end;
- the resources against the app: a bucket per object store and watched bucket (with the prefix),
  a service account per handler plus the invoker, a pull subscription per dead-letter topic, each
  function deployed with its own account;
- a secret without a value stops the script before any function is deployed, with the command
  that adds it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from corefn.cli.deploy import write_files
from corefn.loader import load_app
from corefn.specs import StorageTrigger
from corefn_gcp import adapter
from corefn_gcp._infra import storage_topic
from corefn_gcp.generator import target_name
from tests.gcp import gcloud_tools

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = {"iot_site": "examples/iot_site/app.py:app", "image_pipeline": "examples/image_pipeline/app.py:app",
            "image_pipeline_flow": "examples/image_pipeline/flow.py:app"}  # fmt: skip
SETTINGS = {"PROJECT": "corefn-test", "REGION": "us-central1", "PREFIX": "corefn-test-dev"}


def _secrets_env(folder: Path) -> dict[str, str]:
    script = (folder / "deploy.sh").read_text()
    import re

    return {name: "value-of-" + name.lower() for name in set(re.findall(r'\$\{(SECRET_[A-Z0-9_]+):-\}', script))}


class Runs:
    def __init__(self, folder: Path, app: Any, first: list[list[str]], second: list[list[str]], teardown: list[list[str]]) -> None:
        self.folder, self.app, self.first, self.second, self.teardown = folder, app, first, second, teardown


def _generate(example: str, out: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The adapter's own generation (``corefn deploy`` still refuses apps with flows in the core;
    the GCP adapter deploys them when called)."""
    monkeypatch.chdir(ROOT)
    write_files(dict(adapter.generate(load_app(EXAMPLES[example]), EXAMPLES[example])), out)
    return out


def _run(example: str, base: Path) -> Runs:
    with pytest.MonkeyPatch.context() as mp:
        folder = _generate(example, base / "project", mp)
        app = load_app(EXAMPLES[example])
    shim = gcloud_tools.install_shim(base / "shim")
    env = {**SETTINGS, "ENV_DIR": str(base / "env")}
    (base / "env").mkdir()
    logs = {name: base / f"{name}.jsonl" for name in ("first", "second", "teardown")}
    first = gcloud_tools.run_script(folder / "deploy.sh", shim, logs["first"], "absent", {**env, **_secrets_env(folder)})
    assert first.returncode == 0, first.stderr[-3000:]
    second = gcloud_tools.run_script(folder / "deploy.sh", shim, logs["second"], "present", env)
    assert second.returncode == 0, second.stderr[-3000:]
    down = gcloud_tools.run_script(folder / "teardown.sh", shim, logs["teardown"], "present", {**env, "DELETE_DATA": "1"})
    assert down.returncode == 0, down.stderr[-3000:]
    return Runs(folder, app, *(gcloud_tools.calls(logs[n]) for n in ("first", "second", "teardown")))


@pytest.fixture(scope="module")
def all_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Runs]:
    return {example: _run(example, tmp_path_factory.mktemp(f"gcp-script-{example}")) for example in sorted(EXAMPLES)}


@pytest.fixture(params=sorted(EXAMPLES))
def runs(request: pytest.FixtureRequest, all_runs: dict[str, Runs]) -> Runs:
    return all_runs[request.param]


@pytest.fixture(scope="module")
def parser_results(all_runs: dict[str, Runs], tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Every distinct call of every run of every example, parsed in one gcloud process (the
    ``--env-vars-file`` paths are per example, so the calls stay apart)."""
    argvs: list[list[str]] = []
    for runs in all_runs.values():
        argvs += [json.loads(c) for c in sorted({json.dumps(c) for c in runs.first + runs.second + runs.teardown})]
    control = [*argvs[0], "--no-such-flag"]  # the negative control: the same parser must reject a bad flag
    results = gcloud_tools.parse_all([*argvs, control], ROOT, tmp_path_factory.mktemp("gcloud") / "config")
    return {json.dumps(r["argv"]): r for r in results}


def _creates(calls: list[list[str]]) -> list[list[str]]:
    return [c for c in calls if "create" in c and "describe" not in c]


def _positional(call: list[str], after: str) -> str:
    return call[call.index(after) + 1]


def test_every_call_of_both_runs_and_the_teardown_passes_gclouds_parser(runs: Runs, parser_results: dict[str, dict[str, Any]]) -> None:
    control = next(r for key, r in parser_results.items() if key.endswith('"--no-such-flag"]'))
    assert not gcloud_tools.parsed(control), f"gcloud did not reject a bad flag: {control}"
    mine = [parser_results[json.dumps(c)] for c in runs.first + runs.second + runs.teardown]
    refused = [f"{' '.join(r['argv'])}\n    → {r['stderr'].strip()[-300:]}" for r in mine if not gcloud_tools.parsed(r)]
    assert not refused, "gcloud refused:\n" + "\n".join(refused)
    assert len({json.dumps(r["argv"]) for r in mine}) > 30


def test_the_first_run_creates_and_the_second_creates_nothing(runs: Runs) -> None:
    assert _creates(runs.first), "the first run created nothing"
    assert not _creates(runs.second), f"the second run created again: {_creates(runs.second)[:3]}"
    deployed = lambda calls: sorted(c[2] for c in calls if c[:2] == ["functions", "deploy"])  # noqa: E731
    assert deployed(runs.first) == deployed(runs.second) and deployed(runs.first)
    subscriptions_updated = [c for c in runs.second if c[:3] == ["pubsub", "subscriptions", "update"]]
    assert len(subscriptions_updated) == sum(1 for c in runs.first if c[:3] == ["pubsub", "subscriptions", "create"] and
                                             any(a.startswith("--push-endpoint=") for a in c))  # fmt: skip


def test_each_watched_bucket_notifies_its_topic_once_and_teardown_removes_it(runs: Runs) -> None:
    watched: dict[str, set[str]] = {}
    for h in runs.app.handlers:
        if isinstance(h.trigger, StorageTrigger):
            watched.setdefault(h.trigger.bucket, set()).update(h.trigger.operations)
    creates = [c for c in runs.first if c[:4] == ["storage", "buckets", "notifications", "create"]]
    assert sorted(c[4] for c in creates) == sorted(f"gs://{SETTINGS['PREFIX']}-{b}" for b in watched)
    from corefn_gcp.generator import NOTIFICATION_TYPES

    for bucket, operations in watched.items():
        (create,) = [c for c in creates if c[4] == f"gs://{SETTINGS['PREFIX']}-{bucket}"]
        assert f"--topic={storage_topic(runs.app.name, bucket)}" in create and "--payload-format=json" in create
        assert f"--event-types={','.join(sorted(NOTIFICATION_TYPES[o] for o in operations))}" in create
        # the notification publishes to a topic a push subscription (with its dead letter) reads
        assert any(c[:3] == ["pubsub", "subscriptions", "create"] and f"--topic={storage_topic(runs.app.name, bucket)}" in c
                   and any(a.startswith("--dead-letter-topic=") for a in c) for c in runs.first)  # fmt: skip
    listed = lambda calls: [c for c in calls if c[:4] == ["storage", "buckets", "notifications", "list"]]  # noqa: E731
    assert len(listed(runs.first)) == len(listed(runs.second)) == len(watched)  # described before each create
    deleted = [c[4] for c in runs.teardown if c[:4] == ["storage", "buckets", "notifications", "delete"]]
    assert sorted(deleted) == sorted(f"projects/_/buckets/{SETTINGS['PREFIX']}-{b}/notificationConfigs/1" for b in watched)  # its own id only


def test_the_notification_lookup_selects_corefns_config_with_gclouds_own_filter(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The script's --filter/--format, applied by gcloud's resource filter and printer to what
    ``notifications list`` yields: corefn's config is found by its topic, another one on the
    same bucket is not (the fake gcloud cannot show this: it does not evaluate filters)."""
    import re
    import subprocess

    from corefn_gcp._script import NOTIFICATION_ID

    call = subprocess.run(["bash", "-c", NOTIFICATION_ID.replace("gcloud ", "printf '%s\\n' ") + "\nPROJECT=p; notification_ids b app-b-events"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    args = call.stdout.splitlines()
    expression = next(a.removeprefix("--filter=") for a in args if a.startswith("--filter="))
    projection = next(a.removeprefix("--format=") for a in args if a.startswith("--format="))
    listed = [{"Bucket URL": "gs://b", "Notification Configuration": {"id": str(i), "topic": f"//pubsub.googleapis.com/projects/p/topics/{t}"}}
              for i, t in ((1, "someone-elses"), (2, "app-b-events"), (3, "app-b-events-dead-letter"))]  # fmt: skip
    program = (
        "import json, os, sys\nroot = sys.argv[1]\nsys.path[0:0] = [os.path.join(root, 'lib'), os.path.join(root, 'lib', 'third_party')]\n"
        "from googlecloudsdk.core.resource import resource_filter, resource_printer\n"
        "f = resource_filter.Compile(sys.argv[2])\n"
        "resource_printer.Print([r for r in json.loads(sys.argv[4]) if f.Evaluate(r)], sys.argv[3])\n"
    )
    root = gcloud_tools.sdk_root()
    done = subprocess.run([gcloud_tools.gcloud_python(root), "-c", program, str(root), expression, projection, json.dumps(listed)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["2"]
    assert re.fullmatch(r"value\(.*\.id\)", projection)


def test_a_bucket_per_object_store_and_watched_bucket_with_the_prefix(runs: Runs) -> None:
    wanted = {f"gs://{SETTINGS['PREFIX']}-{name}" for name, r in runs.app.resources().items() if r.kind == "bucket"}
    created = {c[3] for c in _creates(runs.first) if c[:3] == ["storage", "buckets", "create"]}
    assert created == wanted
    for call in _creates(runs.first):
        if call[:3] == ["storage", "buckets", "create"]:
            assert "--uniform-bucket-level-access" in call and "--public-access-prevention" in call


def test_a_service_account_per_handler_and_each_function_runs_as_its_own(runs: Runs) -> None:
    created = [_positional(c, "create") for c in _creates(runs.first) if c[:3] == ["iam", "service-accounts", "create"]]
    assert len(created) == len(set(created))
    flows = len(runs.app.flows)
    assert len(created) == len(runs.app.handlers) + 2 + flows  # + the invoker and the builder + one per workflow
    builder = f"projects/corefn-test/serviceAccounts/{runs.app.name}-build@corefn-test.iam.gserviceaccount.com"
    assert all(f"--build-service-account={builder}" in c for c in runs.first if c[:2] == ["functions", "deploy"])
    accounts: dict[str, str] = {}
    for call in runs.first:
        if call[:2] == ["functions", "deploy"]:
            account = next(a.split("=", 1)[1] for a in call if a.startswith("--service-account="))
            assert account.split("@")[0] in created and "compute@developer" not in account
            handler = next(h.name for h in runs.app.handlers if call[2].startswith(f"{runs.app.name}-{h.name.replace('_', '-')}"))
            assert accounts.setdefault(handler, account) == account
    assert len(set(accounts.values())) == len(accounts) == len(runs.app.handlers)


def test_every_dead_letter_topic_has_a_subscription_and_the_pubsub_agent_may_forward(runs: Runs) -> None:
    push = [c for c in _creates(runs.first) if c[:3] == ["pubsub", "subscriptions", "create"] and any(a.startswith("--push-endpoint") for a in c)]
    dead_topics = {a.split("=", 1)[1] for c in push for a in c if a.startswith("--dead-letter-topic=")}
    queue_handlers = [h for h in runs.app.handlers if h.kind in ("queue", "topic", "stream", "storage")]  # a DL subscription per storage handler too
    assert len(push) == len(queue_handlers)
    assert len(dead_topics) == len([h for h in queue_handlers if h.options.max_attempts != 0])
    pulls = {a.split("=", 1)[1] for c in _creates(runs.first) if c[:3] == ["pubsub", "subscriptions", "create"]
             and not any(x.startswith("--push-endpoint") for x in c) for a in c if a.startswith("--topic=")}  # fmt: skip
    assert dead_topics <= pulls
    agent = "serviceAccount:service-123456789012@gcp-sa-pubsub.iam.gserviceaccount.com"
    for topic in dead_topics:
        assert any(c[:4] == ["pubsub", "topics", "add-iam-policy-binding", topic] and f"--member={agent}" in c and
                   "--role=roles/pubsub.publisher" in c for c in runs.first)  # fmt: skip
    for sub in push:
        assert any(c[:4] == ["pubsub", "subscriptions", "add-iam-policy-binding", sub[3]] and f"--member={agent}" in c for c in runs.first)


def test_service_agents_and_the_invoker_are_granted(runs: Runs) -> None:
    gcs = "--member=serviceAccount:service-123456789012@gs-project-accounts.iam.gserviceaccount.com"
    assert not any(c[:2] == ["projects", "add-iam-policy-binding"] and gcs in c for c in runs.first), "the GCS agent's grant is per topic"
    watched = {h.trigger.bucket for h in runs.app.handlers if isinstance(h.trigger, StorageTrigger)}
    published = {c[3] for c in runs.first if c[:3] == ["pubsub", "topics", "add-iam-policy-binding"] and gcs in c and "--role=roles/pubsub.publisher" in c}
    assert published == {storage_topic(runs.app.name, b) for b in watched}
    invoker = f"--member=serviceAccount:{runs.app.name}-invoker@corefn-test.iam.gserviceaccount.com"
    may_invoke = {c[2] for c in runs.first if c[:2] == ["functions", "add-invoker-policy-binding"] and invoker in c}
    for call in runs.first:
        if call[:2] != ["functions", "deploy"] or "--allow-unauthenticated" in call:
            continue
        target = next(a for a in call if a.startswith("--entry-point=")).split("=", 1)[1]
        kind = next(h.kind for h in runs.app.handlers if target_name(h) == target)
        assert (call[2] in may_invoke) == (kind != "invoke"), f"{call[2]} ({kind}): invoker binding is {call[2] in may_invoke}"
        if kind == "nosql":
            assert f"--trigger-service-account={invoker.split(':', 1)[1]}" in call


def test_no_secret_value_in_any_generated_file(runs: Runs) -> None:
    for path in runs.folder.rglob("*"):
        if path.is_file():
            assert "value-of-secret" not in path.read_text()


@pytest.mark.parametrize("example", ["iot_site"])
def test_a_secret_without_a_value_stops_the_script_before_any_function(example: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _generate(example, tmp_path / "project", monkeypatch)
    shim = gcloud_tools.install_shim(tmp_path / "shim")
    log = tmp_path / "calls.jsonl"
    (tmp_path / "env").mkdir()
    done = gcloud_tools.run_script(folder / "deploy.sh", shim, log, "absent", {**SETTINGS, "ENV_DIR": str(tmp_path / "env")})
    assert done.returncode == 1
    assert "gcloud secrets versions add iot-site-api-key --data-file=-" in done.stderr
    assert "gcloud secrets versions add iot-site-sink-reports --data-file=-" in done.stderr
    calls = gcloud_tools.calls(log)
    assert not [c for c in calls if c[:2] == ["functions", "deploy"]]
    assert [c for c in calls if c[:3] == ["storage", "buckets", "create"]], "the resources before the secrets are created"


def test_a_prefix_that_makes_a_bucket_name_too_long_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = _generate("image_pipeline", tmp_path / "project", monkeypatch)
    shim = gcloud_tools.install_shim(tmp_path / "shim")
    done = gcloud_tools.run_script(folder / "deploy.sh", shim, tmp_path / "c.jsonl", "absent", {**SETTINGS, "PREFIX": "p" * 60})
    assert done.returncode == 2 and "over 63 characters" in done.stderr
    bad = gcloud_tools.run_script(folder / "deploy.sh", shim, tmp_path / "d.jsonl", "absent", {**SETTINGS, "PREFIX": "Bad_Prefix"})
    assert bad.returncode == 2 and "PREFIX must be" in bad.stderr
    assert not os.path.exists(tmp_path / "d.jsonl") or not [c for c in gcloud_tools.calls(tmp_path / "d.jsonl") if "create" in c]


def test_a_flow_is_a_workflow_allowed_to_call_only_its_steps(all_runs: dict[str, Runs]) -> None:
    runs = all_runs["image_pipeline_flow"]
    (flow,) = runs.app.flows
    (deploy,) = [c for c in runs.first if c[:2] == ["workflows", "deploy"]]
    account = next(a.split("=", 1)[1] for a in deploy if a.startswith("--service-account="))
    assert deploy[2] == "image-pipeline-flow-process-upload" and account.startswith("wf-")
    allowed = {c[2] for c in runs.first if c[:2] == ["functions", "add-invoker-policy-binding"] and f"--member=serviceAccount:{account}" in c}
    steps = {f"image-pipeline-flow-{task.handler}" for task in flow.tasks()}
    assert allowed == steps
    assert not [c for c in runs.first if f"--member=serviceAccount:{account}" in c and c[:2] != ["functions", "add-invoker-policy-binding"]
                and c[:3] != ["iam", "service-accounts", "create"]]  # fmt: skip
    # the function the storage trigger runs may start executions of that one workflow, and touches no sink
    starter = "--member=serviceAccount:image-pipeline-flow-proc-ad7f9@corefn-test.iam.gserviceaccount.com"
    starter_grants = [c for c in runs.first if starter in c]
    assert len(starter_grants) == 1 and "--role=roles/workflows.invoker" in starter_grants[0]
    assert "workflows/image-pipeline-flow-process-upload" in next(a for a in starter_grants[0] if a.startswith("--condition="))
    assert 'COREFN_FLOW_PROCESS_UPLOAD: "projects/${PROJECT}/locations/${REGION}/workflows/image-pipeline-flow-process-upload"' in (
        runs.folder / "deploy.sh").read_text()  # fmt: skip
    assert (runs.folder / "workflows" / "image-pipeline-flow-process-upload.yaml").is_file()


def test_each_push_subscription_carries_its_handlers_compiled_policy(runs: Runs) -> None:
    from corefn.policy import compile_policies

    compiled = compile_policies(runs.app, "gcp")
    flags = {"ack_deadline": "--ack-deadline", "min_retry_delay": "--min-retry-delay", "max_retry_delay": "--max-retry-delay",
             "max_delivery_attempts": "--max-delivery-attempts", "dead_letter_topic": "--dead-letter-topic"}  # fmt: skip
    for handler in runs.app.handlers:
        if handler.kind not in ("queue", "topic", "stream", "storage"):
            continue
        name = f"{runs.app.name}-{handler.name.replace('_', '-')}-push"
        (create,) = [c for c in runs.first if c[:4] == ["pubsub", "subscriptions", "create", name]]
        (update,) = [c for c in runs.second if c[:4] == ["pubsub", "subscriptions", "update", name]]
        settings = compiled[handler.name].settings
        for call in (create, update):
            given = {a.split("=", 1)[0]: a.split("=", 1)[1] for a in call if a.startswith("--") and "=" in a}
            assert {key: given.get(flag) for key, flag in flags.items()} == {key: str(settings[key]) if key in settings else None for key in flags}


def test_each_account_is_granted_exactly_what_its_uses_need(runs: Runs) -> None:
    """Granted == needed, per handler: a bucket, topic, database or secret binding for each sink of
    its ``uses=`` (and the API key's secret for a keyed route), and nothing else."""
    from corefn.policy import used_sinks
    from corefn_gcp._infra import account_id
    from corefn_gcp.generator import function_name

    for handler in runs.app.handlers:
        account = f"serviceAccount:{account_id(function_name(runs.app, handler))}@corefn-test.iam.gserviceaccount.com"
        granted = set()
        for call in runs.first:
            if f"--member={account}" not in call or "add-iam-policy-binding" not in call:
                continue
            role = next(a.split("=", 1)[1] for a in call if a.startswith("--role="))
            where = call[: call.index("add-iam-policy-binding")]
            target = call[call.index("add-iam-policy-binding") + 1]
            if where == ["iam", "service-accounts"]:
                target = "self" if target == account.split(":", 1)[1] else target
            granted.add((" ".join(where), target, role))
        needed = set()
        for sink in used_sinks(runs.app, handler):
            if sink.family == "object":
                needed |= {("storage buckets", f"gs://{SETTINGS['PREFIX']}-{sink.name}", "roles/storage.objectAdmin"),
                           ("iam service-accounts", "self", "roles/iam.serviceAccountTokenCreator")}  # fmt: skip
            elif sink.family == "publisher":
                needed.add(("pubsub topics", sink.name, "roles/pubsub.publisher"))
            elif sink.family == "table":
                needed.add(("projects", "corefn-test", "roles/datastore.user"))
            else:
                needed.add(("secrets", f"{runs.app.name}-sink-{sink.name}", "roles/secretmanager.secretAccessor"))
        if handler.kind == "http" and handler.options.api_key:
            needed.add(("secrets", f"{runs.app.name}-api-key", "roles/secretmanager.secretAccessor"))
        flows = [f for f in runs.app.flows if getattr(handler.handler, "flow", None) == f.name]
        needed |= {("projects", "corefn-test", "roles/workflows.invoker") for _ in flows}
        assert granted == needed, f"{handler.name}: granted - needed = {granted - needed}, needed - granted = {needed - granted}"


def test_only_the_functions_of_sql_and_cache_users_join_the_vpc(runs: Runs) -> None:
    from corefn.policy import used_sinks

    attached = {c[2] for c in runs.first if c[:2] == ["functions", "deploy"] and any(a.startswith("--vpc-connector=") for a in c)}
    wanted = {c[2] for c in runs.first if c[:2] == ["functions", "deploy"]
              for h in runs.app.handlers if next(a for a in c if a.startswith("--entry-point=")).endswith(f"={target_name(h)}")
              and any(s.family in ("sql", "cache") for s in used_sinks(runs.app, h))}  # fmt: skip
    assert attached == wanted
    connectors = [c for c in _creates(runs.first) if c[:5] == ["compute", "networks", "vpc-access", "connectors", "create"]]
    assert len(connectors) == (1 if wanted else 0)
    if wanted:
        assert all("--egress-settings=private-ranges-only" in c for c in runs.first if c[:2] == ["functions", "deploy"] and c[2] in attached)


def test_a_bucket_notifies_only_once_a_subscription_reads_its_topic(runs: Runs) -> None:
    """Pub/Sub keeps a message only for the subscriptions that exist when it is published
    (https://cloud.google.com/pubsub/docs/subscription-overview): an upload notified before the
    push subscription exists would be lost."""
    for i, call in enumerate(runs.first):
        if call[:4] == ["storage", "buckets", "notifications", "create"]:
            topic = next(a for a in call if a.startswith("--topic="))
            assert any(c[:3] == ["pubsub", "subscriptions", "create"] and topic in c for c in runs.first[:i])
