"""``corefn deploy APP --cloud aws``: a SAM project for the app.

One ``AWS::Serverless::Function`` per declared handler (``COREFN_HANDLER`` pins it), all
running ``corefn_aws.handler.handler``; the trigger's event source; a resource for every
declared bucket, queue, topic, stream and table; least-privilege policies (SAM policy templates
scoped to one resource each) for the app's sinks; and a dead-letter path for every trigger:

- SQS: a redrive policy to ``<queue>-dlq`` after ``max_attempts`` receives (default 5);
  ``ReportBatchItemFailures`` so only failed messages are retried.
- Kinesis / DynamoDB Streams: ``ReportBatchItemFailures`` + bisect, one batch per shard at a
  time; retried until the records expire (the seed's stream semantics) unless ``max_attempts``
  is given, then sent to an SQS on-failure destination.
- S3 / SNS / schedules (asynchronous invocations): Lambda retries, then the function's
  dead-letter queue.

Physical names are ``${ResourcePrefix}-<name>`` (buckets add the account id: they are global),
and ``COREFN_NAMES`` maps them back to the logical names handlers see. Functions never ``Ref``
a bucket: the bucket's notification already depends on the function, so a reference back would
be a circular dependency; names are built with ``Fn::Sub`` from parameters instead.

Timers use EventBridge Scheduler (SAM ``ScheduleV2``): only it evaluates cron in a time zone
(``ScheduleExpressionTimezone``). Functions themselves run in UTC.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from corefn.loader import app_requirements, bundled_ref
from corefn_aws._cron import to_eventbridge
from corefn_aws._sam_resources import BACKENDS, RESOURCE_KINDS, RUNTIME, SINK_POLICIES, Plan, pascal, resource, sub
from corefn_aws._yaml import dump

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.specs import HandlerSpec

ASYNC_KINDS = frozenset({"storage", "topic", "timer"})
WARMUP_INPUT = json.dumps({"corefn": "warmup"})

#: storage operation → S3 notification event types
S3_EVENTS: dict[str, tuple[str, ...]] = {
    "created": ("s3:ObjectCreated:*",),
    "deleted": ("s3:ObjectRemoved:*", "s3:LifecycleExpiration:*"),
    "archived": ("s3:LifecycleTransition", "s3:IntelligentTiering"),
    "metadata_updated": ("s3:ObjectTagging:*", "s3:ObjectAcl:Put", "s3:ObjectRestore:*"),
}


# ------------------------------------------------------------------------------ functions


def _http_events(plan: Plan, spec: HandlerSpec) -> dict[str, Any]:
    trigger: Any = spec.trigger
    rest = (spec.options.provider.get("aws") or {}).get("api") == "rest"
    methods = ["ANY"] if "*" in trigger.methods else list(trigger.methods)
    if plan.app.cors is not None and "ANY" not in methods and "OPTIONS" not in methods:
        methods.append("OPTIONS")  # the dispatcher answers CORS preflights itself
    if spec.options.timeout and spec.options.timeout > 29:
        plan.warnings.append(f"{spec.name}: API Gateway gives up after 29-30 s whatever the function timeout ({spec.options.timeout} s)")
    events = {}
    for method in methods:
        props = {"Path": trigger.route, "Method": method, ("RestApiId" if rest else "ApiId"): {"Ref": "RestApi" if rest else "HttpApi"}}
        events[f"{pascal(method.lower())}{pascal(trigger.route) or 'Root'}"] = {"Type": "Api" if rest else "HttpApi", "Properties": props}
    return events


def _poll_settings(plan: Plan, spec: HandlerSpec, start: str | None) -> dict[str, Any]:
    props: dict[str, Any] = {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
    if spec.options.batch_size:
        props["BatchSize"] = spec.options.batch_size
    if start is not None:  # Kinesis / DynamoDB Streams
        props.update({"StartingPosition": start, "BisectBatchOnFunctionError": True, "ParallelizationFactor": 1})
        attempts = spec.options.max_attempts
        props["MaximumRetryAttempts"] = -1 if attempts is None else max(0, attempts - 1)
        if attempts is not None:
            props["DestinationConfig"] = {"OnFailure": {"Type": "SQS", "Destination": {"Fn::GetAtt": [pascal(spec.name) + "FailedRecords", "Arn"]}}}
    return props


def _trigger_events(plan: Plan, spec: HandlerSpec) -> dict[str, Any]:
    trigger: Any = spec.trigger
    kind = spec.kind
    if kind == "http":
        return _http_events(plan, spec)
    if kind == "storage":
        props: dict[str, Any] = {"Bucket": {"Ref": plan.logical_id(trigger.bucket)},
                                 "Events": [e for op in trigger.operations for e in S3_EVENTS[op]]}  # fmt: skip
        rules = [{"Name": n, "Value": v} for n, v in (("prefix", trigger.prefix), ("suffix", trigger.suffix)) if v]
        if rules:
            props["Filter"] = {"S3Key": {"Rules": rules}}
        return {"Objects": {"Type": "S3", "Properties": props}}
    if kind == "queue":
        queue = {"Queue": {"Fn::GetAtt": [plan.logical_id(trigger.queue), "Arn"]}, **_poll_settings(plan, spec, None)}
        return {"Messages": {"Type": "SQS", "Properties": queue}}
    if kind == "topic":
        return {"Messages": {"Type": "SNS", "Properties": {"Topic": {"Ref": plan.logical_id(trigger.topic)}}}}
    if kind == "stream":
        start = "TRIM_HORIZON" if trigger.start == "earliest" else "LATEST"
        stream = {"Stream": {"Fn::GetAtt": [plan.logical_id(trigger.stream), "Arn"]}, **_poll_settings(plan, spec, start)}
        return {"Records": {"Type": "Kinesis", "Properties": stream}}
    if kind == "nosql":
        changes = {"Stream": {"Fn::GetAtt": [plan.logical_id(trigger.table), "StreamArn"]}, **_poll_settings(plan, spec, "TRIM_HORIZON")}
        return {"Changes": {"Type": "DynamoDB", "Properties": changes}}
    if kind == "timer":
        envelope = {
            "detail-type": "Scheduled Event", "source": "aws.scheduler", "id": "<aws.scheduler.execution-id>",
            "time": "<aws.scheduler.scheduled-time>", "resources": ["<aws.scheduler.schedule-arn>"],
            "detail": {"schedule": trigger.schedule, "tz": trigger.tz},
        }  # fmt: skip
        return {"Schedule": {"Type": "ScheduleV2", "Properties": {
            "Name": sub(f"${{ResourcePrefix}}-{spec.name}"),
            "ScheduleExpression": to_eventbridge(trigger.schedule),
            "ScheduleExpressionTimezone": trigger.tz,
            "Input": json.dumps(envelope, separators=(",", ":")),
            "RetryPolicy": {"MaximumRetryAttempts": max(0, (spec.options.max_attempts or 3) - 1)},
        }}}  # fmt: skip
    return {}  # invoke: called directly


#: placeholders of physical names, swapped for sentinels while a backend reads the URL
_SENTINELS = {"${ResourcePrefix}": "corefn-prefix-0", "${AWS::AccountId}": "000000000000"}


def _backend_statements(plan: Plan, kind: str, name: str) -> list[dict[str, Any]]:
    """IAM statements from the grants the sink backend declares for its URL, scoped to this
    stack's region and account."""
    import importlib

    scheme = RESOURCE_KINDS[kind][1]
    module, _, cls = BACKENDS[scheme].partition(":")
    backend = getattr(importlib.import_module(module), cls)
    url = f"{scheme}://{plan.physical(name)}"
    for placeholder, sentinel in _SENTINELS.items():
        url = url.replace(placeholder, sentinel)
    statements = []
    for grant in backend.permissions(url, "publisher" if kind in ("queue", "topic", "stream") else kind):
        if grant.cloud != "aws":
            continue
        arn = re.sub(r"^arn:aws:([a-z0-9-]+):\*:\*:", r"arn:${AWS::Partition}:\1:${AWS::Region}:${AWS::AccountId}:", grant.resource)
        for placeholder, sentinel in _SENTINELS.items():
            arn = arn.replace(sentinel, placeholder)
        statements.append({"Effect": "Allow", "Action": list(grant.actions), "Resource": sub(arn)})
    return statements


def _policies(plan: Plan, spec: HandlerSpec) -> list[Any]:
    policies: list[Any] = []
    statements: list[dict[str, Any]] = []
    for sink in plan.app.sinks:
        kind = plan.resources[sink.name].kind
        if kind in SINK_POLICIES:
            template, param = SINK_POLICIES[kind]
            policies.append({template: {param: sub(plan.physical(sink.name))}})
        elif kind in RESOURCE_KINDS:
            statements.extend(_backend_statements(plan, kind, sink.name))
    if statements:
        policies.append({"Version": "2012-10-17", "Statement": statements})
    if spec.kind == "storage":  # the handler reads the object it was told about
        policies.append({"S3ReadPolicy": {"BucketName": sub(plan.physical(spec.resource or ""))}})
    unique: list[Any] = []
    for policy in policies:
        if policy not in unique:
            unique.append(policy)
    return unique


def _shared_environment(plan: Plan) -> dict[str, Any]:
    """Variables every function gets (SAM ``Globals``): the app, the name map, sink URLs."""
    env: dict[str, Any] = {"COREFN_APP": plan.app_ref, "COREFN_NAMES": plan.names_env(), "COREFN_LOG_FORMAT": "json"}
    for sink in plan.app.sinks:
        kind = plan.resources[sink.name].kind
        if kind in RESOURCE_KINDS:
            env[sink.env_var] = sub(f"{RESOURCE_KINDS[kind][1]}://{plan.physical(sink.name)}")
        else:  # caches and SQL databases live outside this stack: their URL is a parameter
            env[sink.env_var] = {"Ref": pascal(sink.name) + "Url"}
    return env


def _environment(plan: Plan, spec: HandlerSpec) -> dict[str, Any]:
    env: dict[str, Any] = {"COREFN_HANDLER": spec.name}
    if spec.kind == "http" and spec.options.api_key:
        env[plan.app.api_key_env] = {"Ref": "ApiKey"}
    env.update(spec.options.env)
    return env


def _what(spec: HandlerSpec) -> str:
    trigger: Any = spec.trigger
    if spec.kind == "http":
        return f"{' '.join(trigger.methods)} {trigger.route}"
    if spec.kind == "timer":
        return f"{trigger.schedule} {trigger.tz}"
    return spec.resource or spec.name


def _function(plan: Plan, spec: HandlerSpec) -> dict[str, dict[str, Any]]:
    fid = pascal(spec.name) + "Function"
    options = spec.options
    props: dict[str, Any] = {
        "Handler": "corefn_aws.handler.handler",
        "Description": f"corefn {plan.app.name}: {spec.name} ({spec.kind} {_what(spec)})",
        "Environment": {"Variables": _environment(plan, spec)},
        "Events": _trigger_events(plan, spec),
    }
    if options.memory:
        props["MemorySize"] = options.memory
    if options.timeout:
        props["Timeout"] = int(-(-options.timeout // 1))
    if options.concurrency:
        props["ReservedConcurrentExecutions"] = options.concurrency
    policies = _policies(plan, spec)
    if policies:
        props["Policies"] = policies
    out: dict[str, dict[str, Any]] = {fid: {"Type": "AWS::Serverless::Function", "Properties": props}}
    if spec.kind in ASYNC_KINDS:
        dlq = pascal(spec.name) + "DeadLetterQueue"
        out[dlq] = {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True}}
        props["DeadLetterQueue"] = {"Type": "SQS", "TargetArn": {"Fn::GetAtt": [dlq, "Arn"]}}
        props["EventInvokeConfig"] = {"MaximumRetryAttempts": min(2, max(0, (options.max_attempts or 3) - 1))}
    if spec.kind in ("stream", "nosql") and options.max_attempts is not None:
        out[pascal(spec.name) + "FailedRecords"] = {"Type": "AWS::SQS::Queue", "Properties": {"MessageRetentionPeriod": 1209600, "SqsManagedSseEnabled": True}}
    if options.warm:
        props["Events"]["WarmUp"] = {"Type": "Schedule", "Properties": {"Schedule": "rate(5 minutes)", "Input": WARMUP_INPUT}}
    return out


# ------------------------------------------------------------------------------- template


def template(plan: Plan) -> dict[str, Any]:
    app = plan.app
    prefix = re.sub(r"[^a-z0-9-]", "-", app.name.lower())[:30].strip("-") or "corefn"
    parameters: dict[str, Any] = {
        "ResourcePrefix": {"Type": "String", "Default": prefix, "AllowedPattern": "^[a-z0-9][a-z0-9-]{0,29}$",
                           "Description": "Prefix of every physical resource name (lower case: S3 bucket names must be)"},
    }  # fmt: skip
    resources: dict[str, Any] = {}
    for name, declared in plan.resources.items():
        if declared.kind in RESOURCE_KINDS:
            resources.update(resource(plan, name, declared.kind))
        else:
            parameters[pascal(name) + "Url"] = {"Type": "String", "NoEcho": True, "Description": f"{declared.kind} URL for sink {name!r}"}
    https = [s for s in plan.handlers if s.kind == "http"]
    outputs: dict[str, Any] = {}
    if any(s.options.api_key for s in https):
        parameters["ApiKey"] = {"Type": "String", "NoEcho": True, "MinLength": 20, "Description": "Key HTTP callers send in x-api-key"}
    if any((s.options.provider.get("aws") or {}).get("api") != "rest" for s in https):
        resources["HttpApi"] = {"Type": "AWS::Serverless::HttpApi", "Properties": {}}
        outputs["HttpApiUrl"] = {"Value": sub("https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/")}
    if any((s.options.provider.get("aws") or {}).get("api") == "rest" for s in https):
        resources["RestApi"] = {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "api"}}
        outputs["RestApiUrl"] = {"Value": sub("https://${RestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/")}
    for spec in plan.handlers:
        resources.update(_function(plan, spec))
    doc: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": f"corefn app {app.name} ({plan.app_ref}), generated by corefn deploy --cloud aws",
        "Parameters": parameters,
        "Globals": {"Function": {
            "Runtime": RUNTIME, "CodeUri": ".", "Architectures": ["arm64"], "MemorySize": 256, "Timeout": 10,
            "Environment": {"Variables": _shared_environment(plan)},
        }},  # fmt: skip
        "Resources": resources,
    }
    if outputs:
        doc["Outputs"] = outputs
    return doc


def readme(plan: Plan) -> str:
    lines = [
        f"# {plan.app.name} on AWS (generated by corefn)",
        "",
        "Deploy with the AWS SAM CLI from this folder, with your app module beside `template.yaml`",
        f"(or change `CodeUri`); `requirements.txt` brings corefn. The app is `{plan.app_ref}`.",
        "",
        "    sam build && sam deploy --guided",
        "",
        "What the template sets up:",
        "- one function per handler, all running `corefn_aws.handler.handler`; `COREFN_HANDLER` names the handler;",
        "- SQS, Kinesis and DynamoDB Streams triggers with `FunctionResponseTypes: [ReportBatchItemFailures]`:",
        "  corefn answers with the failed records only, so it MUST stay on: without it Lambda ignores the",
        "  answer and deletes (or checkpoints past) the whole batch, failed records included. Where it cannot",
        "  be on, set `COREFN_AWS_BATCH_FAILURES=raise` so a failure retries the whole batch instead;",
        "- a dead-letter queue for every trigger (queues: after `max_attempts` receives, default 5;",
        "  S3 / SNS / schedules: after Lambda's asynchronous retries);",
        "- schedules on EventBridge Scheduler, evaluated in the declared time zone. Functions run in UTC:",
        "  a handler that needs local time must convert `event.time` itself (e.g. to Asia/Seoul).",
    ]
    if plan.warnings:
        lines += ["", "Warnings:"] + [f"- {w}" for w in plan.warnings]
    return "\n".join(lines) + "\n"


def generate(app: App, app_ref: str) -> dict[str, str | bytes]:
    plan = Plan(app, bundled_ref(app_ref))
    body = template(plan)
    header = f"Generated by corefn for {app.name} ({app_ref}); regenerate instead of editing.\nDeploy: sam build && sam deploy --guided"
    return {
        "template.yaml": dump(body, header),
        "requirements.txt": "".join(f"{line}\n" for line in ["corefn[aws]", *app_requirements(app_ref)]),
        "README.md": readme(plan),
    }
