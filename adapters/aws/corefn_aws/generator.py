"""``corefn deploy APP --cloud aws``: a SAM project for the app.

One ``AWS::Serverless::Function`` per declared handler (``COREFN_HANDLER`` pins it), all
running ``corefn_aws.runtime.handler`` from the self-contained bundle in ``src/``; the trigger's
event source; a resource for every declared bucket, queue, topic, stream and table; one IAM role
per function with only what its ``uses=`` and its trigger need (:mod:`._iam`); and the retry
policy compiled by :mod:`corefn_aws.policy` (every field below comes from it):

- SQS: a redrive policy to the dead letter after ``max_attempts`` receives (default 5);
  ``ReportBatchItemFailures`` so only failed messages are retried.
- Kinesis / DynamoDB Streams: ``ReportBatchItemFailures``, bisect, ``MaximumRetryAttempts``
  (default 4 retries: 5 attempts), then an on-failure destination (SQS or SNS).
- S3 / SNS / schedules (asynchronous invocations): Lambda retries, then the function's
  dead-letter queue.

Secrets (the API key, the URLs of databases and caches outside the stack) are parameters holding
Secrets Manager ARNs; the function's environment holds ``secretsmanager:<ARN>`` and the function
fetches the value at cold start (:mod:`corefn.secrets`). Functions whose sinks live in a private
network (SQL, caches) run in the VPC subnets given as parameters, and only those.

Physical names are ``${ResourcePrefix}-${Stage}-<name>`` (buckets add the account id: they are global),
and ``COREFN_NAMES`` maps them back to the logical names handlers see. Functions never ``Ref``
a bucket: the bucket's notification already depends on the function, so a reference back would
be a circular dependency; names are built with ``Fn::Sub`` from parameters instead.

Timers use EventBridge Scheduler (SAM ``ScheduleV2``): only it evaluates cron in a time zone
(``ScheduleExpressionTimezone``). Functions themselves run in UTC.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from corefn.errors import ConfigurationError
from corefn.specs import (
    AuthorizerTrigger,
    HttpTrigger,
    InvokeTrigger,
    NoSqlTrigger,
    QueueTrigger,
    StorageTrigger,
    StreamTrigger,
    TimerTrigger,
    TopicTrigger,
    Trigger,
)
from corefn_aws._cron import to_eventbridge
from corefn_aws._flow_resources import add_flows
from corefn_aws._gateway_auth import authorizer_permissions, http_api_auth, on_http_api, route_auth
from corefn_aws._iam import role
from corefn_aws._readme import readme
from corefn_aws._sam_resources import (
    CODE_DIR,
    ENV_KEY,
    RESOURCE_TYPES,
    SQS_ENCRYPTION,
    Plan,
    environment_key,
    pascal,
    resource,
    sub,
)
from corefn_aws._yaml import dump

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.specs import HandlerSpec

WARMUP_INPUT = json.dumps({"corefn": "warmup"})

#: storage operation → S3 notification event types
S3_EVENTS: dict[str, tuple[str, ...]] = {
    "created": ("s3:ObjectCreated:*",),
    "deleted": ("s3:ObjectRemoved:*", "s3:LifecycleExpiration:*"),
    "archived": ("s3:LifecycleTransition", "s3:IntelligentTiering"),
    "metadata_updated": ("s3:ObjectTagging:*", "s3:ObjectAcl:Put", "s3:ObjectRestore:*"),
}


# ------------------------------------------------------------------------------ functions


def _http_events(plan: Plan, spec: HandlerSpec, trigger: HttpTrigger) -> dict[str, Any]:
    rest = not on_http_api(spec)
    methods = ["ANY"] if "*" in trigger.methods else list(trigger.methods)
    if plan.app.cors is not None and "ANY" not in methods and "OPTIONS" not in methods:
        methods.append("OPTIONS")  # the dispatcher answers CORS preflights itself
    if spec.options.timeout and spec.options.timeout > 29:
        plan.warnings.append(f"{spec.name}: API Gateway gives up after 29-30 s whatever the function timeout ({spec.options.timeout} s)")
    events = {}
    for method in methods:
        props = {"Path": trigger.route, "Method": method, ("RestApiId" if rest else "ApiId"): {"Ref": "RestApi" if rest else "HttpApi"}}
        if method != "OPTIONS":  # a CORS preflight carries no token (Fetch standard, CORS-preflight request)
            props.update(route_auth(plan, spec))
        events[f"{pascal(method.lower())}{pascal(trigger.route) or 'Root'}"] = {"Type": "Api" if rest else "HttpApi", "Properties": props}
    return events


def _destination_arn(plan: Plan, spec: HandlerSpec, target: dict[str, Any], own: str) -> Any:
    if target["name"] is None:
        return {"Fn::GetAtt": [pascal(spec.name) + own, "Arn"]}
    if target["Type"] == "SNS":
        return {"Ref": plan.logical_id(target["name"])}
    return {"Fn::GetAtt": [plan.logical_id(target["name"]), "Arn"]}


def _poll_settings(plan: Plan, spec: HandlerSpec, start: str | None) -> dict[str, Any]:
    props: dict[str, Any] = {"FunctionResponseTypes": ["ReportBatchItemFailures"]}
    if spec.options.batch_size:
        props["BatchSize"] = spec.options.batch_size
    if start is not None:  # Kinesis / DynamoDB Streams
        compiled = plan.policies[spec.name].settings
        props.update({"StartingPosition": start, "ParallelizationFactor": 1})
        for field in ("MaximumRetryAttempts", "BisectBatchOnFunctionError", "MaximumRecordAgeInSeconds"):
            props[field] = compiled[field]
        target = compiled["OnFailure"]
        props["DestinationConfig"] = {"OnFailure": {"Type": target["Type"], "Destination": _destination_arn(plan, spec, target, "FailedRecords")}}
    return props


def _storage_events(plan: Plan, spec: HandlerSpec, trigger: StorageTrigger) -> dict[str, Any]:
    props: dict[str, Any] = {"Bucket": {"Ref": plan.logical_id(trigger.bucket)},
                             "Events": [e for op in trigger.operations for e in S3_EVENTS[op]]}  # fmt: skip
    rules = [{"Name": n, "Value": v} for n, v in (("prefix", trigger.prefix), ("suffix", trigger.suffix)) if v]
    if rules:
        props["Filter"] = {"S3Key": {"Rules": rules}}
    return {"Objects": {"Type": "S3", "Properties": props}}


def _queue_events(plan: Plan, spec: HandlerSpec, trigger: QueueTrigger) -> dict[str, Any]:
    queue = {"Queue": {"Fn::GetAtt": [plan.logical_id(trigger.queue), "Arn"]}, **_poll_settings(plan, spec, None)}
    return {"Messages": {"Type": "SQS", "Properties": queue}}


def _topic_events(plan: Plan, spec: HandlerSpec, trigger: TopicTrigger) -> dict[str, Any]:
    return {"Messages": {"Type": "SNS", "Properties": {"Topic": {"Ref": plan.logical_id(trigger.topic)}}}}


def _stream_events(plan: Plan, spec: HandlerSpec, trigger: StreamTrigger) -> dict[str, Any]:
    start = "TRIM_HORIZON" if trigger.start == "earliest" else "LATEST"
    stream = {"Stream": {"Fn::GetAtt": [plan.logical_id(trigger.stream), "Arn"]}, **_poll_settings(plan, spec, start)}
    return {"Records": {"Type": "Kinesis", "Properties": stream}}


def _nosql_events(plan: Plan, spec: HandlerSpec, trigger: NoSqlTrigger) -> dict[str, Any]:
    changes = {"Stream": {"Fn::GetAtt": [plan.logical_id(trigger.table), "StreamArn"]}, **_poll_settings(plan, spec, "TRIM_HORIZON")}
    return {"Changes": {"Type": "DynamoDB", "Properties": changes}}


def _timer_events(plan: Plan, spec: HandlerSpec, trigger: TimerTrigger) -> dict[str, Any]:
    envelope = {
        "detail-type": "Scheduled Event", "source": "aws.scheduler", "id": "<aws.scheduler.execution-id>",
        "time": "<aws.scheduler.scheduled-time>", "resources": ["<aws.scheduler.schedule-arn>"],
        "detail": {"schedule": trigger.schedule, "tz": trigger.tz},
    }  # fmt: skip
    return {"Schedule": {"Type": "ScheduleV2", "Properties": {
        "Name": sub(plan.function_name(spec.name)),
        "ScheduleExpression": to_eventbridge(trigger.schedule),
        "ScheduleExpressionTimezone": trigger.tz,
        "Input": json.dumps(envelope, separators=(",", ":")),
        "RetryPolicy": {"MaximumRetryAttempts": max(0, (spec.options.max_attempts or 3) - 1)},
    }}}  # fmt: skip


def _called_directly(plan: Plan, spec: HandlerSpec, trigger: InvokeTrigger | AuthorizerTrigger) -> dict[str, Any]:
    """No event source: the caller (``aws lambda invoke``, API Gateway's authorizer) invokes it."""
    return {}


#: trigger declaration → the function's SAM ``Events`` for it (each function takes its own
#: trigger class, so no narrowing is needed; a trigger class missing here cannot be deployed)
EVENTS: dict[type[Trigger], Callable[[Plan, HandlerSpec, Any], dict[str, Any]]] = {
    HttpTrigger: _http_events,
    StorageTrigger: _storage_events,
    QueueTrigger: _queue_events,
    TopicTrigger: _topic_events,
    StreamTrigger: _stream_events,
    NoSqlTrigger: _nosql_events,
    TimerTrigger: _timer_events,
    InvokeTrigger: _called_directly,
    AuthorizerTrigger: _called_directly,
}


def _trigger_events(plan: Plan, spec: HandlerSpec) -> dict[str, Any]:
    events = EVENTS.get(type(spec.trigger))
    if events is None:
        raise ConfigurationError(f"the aws adapter cannot deploy {spec.kind} handler {spec.name!r}")
    return events(plan, spec, spec.trigger)


def needs_private_network(plan: Plan, spec: HandlerSpec) -> bool:
    """SQL databases and caches live outside the stack and, on AWS, usually in a VPC (RDS,
    ElastiCache): a function using one runs in the given subnets unless the sink says
    ``private_network=False`` (a public endpoint)."""
    from corefn.policy import used_sinks

    return any(
        s.kind in ("sql", "cache") and s.options.get("private_network", True) is not False for s in used_sinks(plan.app, spec)
    )


def _secret_parameter(name: str) -> str:
    return pascal(name) + "UrlSecret"


def _environment(plan: Plan, spec: HandlerSpec) -> tuple[dict[str, Any], list[str]]:
    """The function's own variables (the pinned handler, the URLs of the sinks it uses, secret
    references) and the template parameters of the secrets it refers to."""
    from corefn.policy import used_sinks

    env: dict[str, Any] = {"COREFN_HANDLER": spec.name}
    secrets: list[str] = []
    for sink in used_sinks(plan.app, spec):
        rtype = plan.resources[sink.name].type
        if rtype in RESOURCE_TYPES:
            env[sink.env_var] = sub(f"{RESOURCE_TYPES[rtype][1]}://{plan.physical(sink.name)}")
        else:  # caches and SQL databases live outside this stack: their URL (with its password) is a secret
            secrets.append(_secret_parameter(sink.name))
            env[sink.env_var] = sub(f"secretsmanager:${{{secrets[-1]}}}")
    if spec.kind == "http" and spec.options.api_key:
        secrets.append("ApiKeySecret")
        env[plan.app.api_key_env] = sub("secretsmanager:${ApiKeySecret}")
    env.update(spec.options.env)
    return env, secrets


def _what(spec: HandlerSpec) -> str:
    trigger = spec.trigger
    if isinstance(trigger, HttpTrigger):
        return f"{' '.join(trigger.methods)} {trigger.route}"
    if isinstance(trigger, TimerTrigger):
        return f"{trigger.schedule} {trigger.tz}"
    return spec.resource or spec.name


_KEPT_QUEUE = {"MessageRetentionPeriod": 1209600, **SQS_ENCRYPTION}


def _function(plan: Plan, spec: HandlerSpec) -> dict[str, dict[str, Any]]:
    fid = pascal(spec.name) + "Function"
    options = spec.options
    compiled = plan.policies[spec.name].settings
    env, secrets = _environment(plan, spec)
    in_vpc = needs_private_network(plan, spec)
    props: dict[str, Any] = {
        "FunctionName": sub(plan.function_name(spec.name)),
        "Handler": "corefn_aws.runtime.handler",
        "Description": f"corefn {plan.app.name}: {spec.name} ({spec.kind} {_what(spec)})",
        "Role": {"Fn::GetAtt": [fid + "Role", "Arn"]},
        "Environment": {"Variables": env},
        "Events": _trigger_events(plan, spec),
    }
    if options.memory:
        props["MemorySize"] = options.memory
    if "Timeout" in compiled:
        props["Timeout"] = compiled["Timeout"]
    if options.concurrency:
        props["ReservedConcurrentExecutions"] = options.concurrency
    if in_vpc:
        props["VpcConfig"] = {"SubnetIds": {"Ref": "PrivateSubnetIds"}, "SecurityGroupIds": {"Ref": "SecurityGroupIds"}}
    out: dict[str, dict[str, Any]] = {
        fid: {"Type": "AWS::Serverless::Function", "Properties": props},
        fid + "Role": role(plan, spec, secrets, in_vpc),
    }
    if "DeadLetterQueue" in compiled:
        target = compiled["DeadLetterQueue"]
        if target["name"] is None:
            out[pascal(spec.name) + "DeadLetterQueue"] = {"Type": "AWS::SQS::Queue", "Properties": dict(_KEPT_QUEUE)}
        props["DeadLetterQueue"] = {"Type": target["Type"], "TargetArn": _destination_arn(plan, spec, target, "DeadLetterQueue")}
        props["EventInvokeConfig"] = {"MaximumRetryAttempts": compiled["MaximumRetryAttempts"]}
    if "OnFailure" in compiled and compiled["OnFailure"]["name"] is None:
        out[pascal(spec.name) + "FailedRecords"] = {"Type": "AWS::SQS::Queue", "Properties": dict(_KEPT_QUEUE)}
    if options.warm:
        props["Events"]["WarmUp"] = {"Type": "Schedule", "Properties": {"Schedule": "rate(5 minutes)", "Input": WARMUP_INPUT}}
    return out


# ------------------------------------------------------------------------------- template


def template(plan: Plan) -> dict[str, Any]:
    app = plan.app
    prefix = re.sub(r"[^a-z0-9-]", "-", app.name.lower())[:20].strip("-") or "corefn"
    parameters: dict[str, Any] = {
        "ResourcePrefix": {"Type": "String", "Default": prefix, "AllowedPattern": "^[a-z0-9][a-z0-9-]{0,19}$",
                           "Description": "Prefix of every physical resource name (lower case: S3 bucket names must be)"},
        "Stage": {"Type": "String", "Default": "dev", "AllowedPattern": "^[a-z0-9]{1,8}$",
                  "Description": "Stage in every physical name, so dev and prod stacks coexist in one account"},
    }  # fmt: skip
    resources: dict[str, Any] = {}
    for name, declared in plan.resources.items():
        if declared.type in RESOURCE_TYPES:
            resources.update(resource(plan, name, declared.type))
    secret = {"Type": "String", "AllowedPattern": "^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:.+$"}
    for sink in app.sinks:
        if plan.resources[sink.name].type not in RESOURCE_TYPES:
            parameters[pascal(sink.name) + "UrlSecret"] = {**secret, "Description": f"ARN of the Secrets Manager secret whose value is the {sink.kind} URL of sink {sink.name!r}"}
    https = [s for s in plan.handlers if s.kind == "http"]
    outputs: dict[str, Any] = {}
    if any(s.options.api_key for s in https):
        parameters["ApiKeySecret"] = {**secret, "Description": "ARN of the Secrets Manager secret holding the key HTTP callers send in x-api-key (20+ characters)"}
    if any(needs_private_network(plan, s) for s in plan.handlers):
        parameters["PrivateSubnetIds"] = {"Type": "List<AWS::EC2::Subnet::Id>", "Description": "Subnets of the VPC your database / cache lives in (functions using them run there)"}
        parameters["SecurityGroupIds"] = {"Type": "List<AWS::EC2::SecurityGroup::Id>", "Description": "Security groups allowed to reach that database / cache"}
    if any(on_http_api(s) for s in https):
        resources["HttpApi"] = {"Type": "AWS::Serverless::HttpApi", "Properties": http_api_auth(plan)}
        resources.update(authorizer_permissions(plan))
        outputs["HttpApiUrl"] = {"Value": sub("https://${HttpApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/")}
    if any(not on_http_api(s) for s in https):
        resources["RestApi"] = {"Type": "AWS::Serverless::Api", "Properties": {"StageName": "api"}}
        outputs["RestApiUrl"] = {"Value": sub("https://${RestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api/")}
    resources.update(environment_key())
    for spec in plan.handlers:
        resources.update(_function(plan, spec))
    add_flows(plan, resources)  # state machines; their starters' ARN and StartExecution
    doc: dict[str, Any] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": f"corefn app {app.name} ({plan.app_ref}), generated by corefn deploy --cloud aws",
        "Parameters": parameters,
        "Globals": {"Function": {
            "Runtime": plan.runtime, "CodeUri": f"{CODE_DIR}/", "Architectures": [plan.architecture], "MemorySize": 256, "Timeout": 10,
            "KmsKeyArn": {"Fn::GetAtt": [ENV_KEY, "Arn"]},
            "Environment": {"Variables": {"COREFN_APP": plan.app_ref, "COREFN_NAMES": plan.names_env(), "COREFN_LOG_FORMAT": "json"}},
        }},  # fmt: skip
        "Resources": resources,
    }
    if outputs:
        doc["Outputs"] = outputs
    return doc


def plan(app: App, app_ref: str) -> Plan:
    """What the SAM project holds (:class:`~corefn_aws._sam_resources.Plan`), before any file."""
    return Plan(app, app_ref)


def render(plan: Plan) -> dict[str, str | bytes]:
    """``template.yaml``, ``src/requirements.txt`` (pinned from deploy/locks/) and ``README.md``."""
    from corefn.bundle import requirement_names
    from corefn.deploy_lock import lock_for, requirements_txt

    app = plan.app
    body = template(plan)
    header = f"Generated by corefn for {app.name} ({plan.source_ref}); regenerate instead of editing.\nDeploy: see README.md"
    lock = lock_for("aws", plan.runtime)
    lock.check_architecture(plan.architecture)
    return {
        "template.yaml": dump(body, header),
        f"{CODE_DIR}/requirements.txt": requirements_txt(lock, requirement_names(app, plan.source_ref, "aws"), f"{app.name} on AWS Lambda {plan.runtime} {plan.architecture}"),
        "README.md": readme(plan, body),
    }
