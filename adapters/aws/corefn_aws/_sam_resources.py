"""The resources of a generated SAM template: the plan (physical names, FIFO queues, the name
map) and one CloudFormation resource per declared bucket, queue, topic, stream and table.

Physical names are ``${ResourcePrefix}-${Stage}-<name>`` (so dev and prod stacks coexist in one
account) built with ``Fn::Sub`` from parameters, never with ``Ref`` to the resource: an S3
bucket's notification depends on the function, so a function referring back to its bucket would
be a circular dependency.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from corefn.app import App
    from corefn.policy import CompiledPolicy

#: Lambda runtime and architecture when the app does not choose
#: (``App(defaults=Options(provider={"aws": {"runtime": "python3.13", "architecture": "x86_64"}}))``)
RUNTIME = "python3.12"
ARCHITECTURE = "arm64"
ARCHITECTURES = ("arm64", "x86_64")
#: where the function's code goes in the SAM project (``CodeUri``); ``sam build`` installs
#: ``requirements.txt`` from there
CODE_DIR = "src"
#: encryption at rest with the AWS managed key of each service (no key to pay for or manage; the
#: key policy lets the account's principals use it through the service, so roles need no KMS grant)
SQS_ENCRYPTION: dict[str, Any] = {"KmsMasterKeyId": "alias/aws/sqs"}
#: the stack's one customer managed key: Lambda encrypts environment variables with it
ENV_KEY = "EnvironmentKey"
#: characters of a handler name in its function's name (64 - 20 prefix - 8 stage - 2 dashes)
MAX_HANDLER_IN_NAME = 34

#: resource type → (logical id suffix, sink URL scheme)
RESOURCE_TYPES: dict[str, tuple[str, str]] = {
    "bucket": ("Bucket", "s3"),
    "queue": ("Queue", "sqs"),
    "topic": ("Topic", "sns"),
    "stream": ("Stream", "kinesis"),
    "table": ("Table", "dynamodb"),
}

#: sink URL scheme → the backend class whose ``permissions(url, kind)`` lists its grants
BACKENDS: dict[str, str] = {
    "s3": "corefn_aws.sinks.s3:S3Store",
    "dynamodb": "corefn_aws.sinks.dynamodb:DynamoTable",
    "sqs": "corefn_aws.sinks.sqs:SqsPublisher",
    "sns": "corefn_aws.sinks.sns:SnsPublisher",
    "kinesis": "corefn_aws.sinks.kinesis:KinesisPublisher",
}


def pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name) if part)


def sub(text: str) -> dict[str, str]:
    return {"Fn::Sub": text}


class Plan:
    """What the template holds, worked out from the app's declarations before anything is
    written. Resources are keyed by logical name; a function's pieces by handler name.
    ``source_ref`` is the app reference deploy was given, ``app_ref`` the one inside the bundle."""

    def __init__(self, app: App, app_ref: str) -> None:
        from corefn.app import Resource
        from corefn.loader import bundled_ref
        from corefn.policy import retry_policy
        from corefn_aws.policy import compile_policy

        self.app = app
        self.source_ref = app_ref
        self.app_ref = bundled_ref(app_ref)
        self.resources = app.resources()
        self.handlers = list(app.handlers)
        self.policies: dict[str, CompiledPolicy] = {s.name: compile_policy(app, retry_policy(app, s)) for s in self.handlers}
        for compiled in self.policies.values():
            dead = compiled.policy.dead_letter
            if dead is not None and not dead.declared:  # a dead-letter queue only the options name
                self.resources[dead.name] = Resource(dead.name, "queue")
        ordered = [s for s in self.handlers if s.kind == "queue" and s.options.ordered]
        # SQS: a FIFO queue's dead-letter queue must be FIFO too
        self.fifo: set[str | None] = {s.resource for s in ordered} | {s.options.dead_letter for s in ordered if s.options.dead_letter}
        self.warnings: list[str] = [n for c in self.policies.values() for n in c.notes]
        if app.sinks:
            self.warnings += [
                f"{s.name}: no uses=; its role is granted every sink of the app (declare uses=[...] for least privilege)"
                for s in self.handlers
                if s.options.uses is None
            ]
        aws = dict(app.defaults.provider.get("aws") or {})
        self.runtime = str(aws.get("runtime") or RUNTIME)
        self.architecture = str(aws.get("architecture") or ARCHITECTURE)
        if self.architecture not in ARCHITECTURES:
            from corefn.errors import ConfigurationError

            raise ConfigurationError(f"aws architecture must be one of {', '.join(ARCHITECTURES)}, got {self.architecture!r}")

    def function_name(self, handler: str) -> str:
        """Lambda function names are at most 64 characters: with the longest prefix (20) and
        stage (8), a handler name keeps 34; a longer one is cut and made unique with a hash."""
        if len(handler) > MAX_HANDLER_IN_NAME:
            import hashlib

            handler = handler[: MAX_HANDLER_IN_NAME - 7] + "-" + hashlib.sha1(handler.encode()).hexdigest()[:6]
        return f"${{ResourcePrefix}}-${{Stage}}-{handler}"

    def physical(self, name: str) -> str:
        """The Fn::Sub template of a resource's physical name."""
        rtype = self.resources[name].type
        clean = re.sub(r"[^a-z0-9-]", "-", name.lower())
        if rtype == "bucket":
            return f"${{ResourcePrefix}}-${{Stage}}-{clean}-${{AWS::AccountId}}"
        if rtype == "queue" and name in self.fifo:
            return f"${{ResourcePrefix}}-${{Stage}}-{clean}.fifo"
        return f"${{ResourcePrefix}}-${{Stage}}-{clean}"

    def logical_id(self, name: str) -> str:
        return pascal(name) + RESOURCE_TYPES[self.resources[name].type][0]

    def names_env(self) -> dict[str, str]:
        """``COREFN_NAMES``: the ``Fn::Sub`` of the physical → logical name map, as JSON text."""
        names = {self.physical(n): n for n, r in self.resources.items() if r.type in RESOURCE_TYPES}
        for spec in self.handlers:
            if spec.kind == "timer":
                names[self.function_name(spec.name)] = spec.name
        return sub(json.dumps(names, separators=(",", ":"), sort_keys=True))


# ------------------------------------------------------------------------------ resources


def resource(plan: Plan, name: str, rtype: str) -> dict[str, dict[str, Any]]:
    """The CloudFormation resources of the app's resource ``name`` (a type of RESOURCE_TYPES)."""
    return RESOURCES[rtype](plan, name, plan.logical_id(name), sub(plan.physical(name)))


def _bucket(plan: Plan, name: str, lid: str, phys: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {lid: {
        "Type": "AWS::S3::Bucket", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain",
        "Properties": {
            "BucketName": phys,
            "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
            "PublicAccessBlockConfiguration": {k: True for k in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")},
        },
    }}  # fmt: skip


def _topic(plan: Plan, name: str, lid: str, phys: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {lid: {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": phys, "KmsMasterKeyId": "alias/aws/sns"}}}


def _stream(plan: Plan, name: str, lid: str, phys: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {lid: {"Type": "AWS::Kinesis::Stream", "Properties": {
        "Name": phys, "StreamModeDetails": {"StreamMode": "ON_DEMAND"},
        "StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"},
    }}}  # fmt: skip


def _queue(plan: Plan, name: str, lid: str, phys: dict[str, str]) -> dict[str, dict[str, Any]]:
    spec = next((s for s in plan.handlers if s.kind == "queue" and s.resource == name), None)
    props: dict[str, Any] = {"QueueName": phys, **SQS_ENCRYPTION}
    out: dict[str, dict[str, Any]] = {lid: {"Type": "AWS::SQS::Queue", "Properties": props}}
    if name in plan.fifo:
        props["FifoQueue"] = True
    if spec is None:
        return out
    compiled = plan.policies[spec.name].settings
    props["VisibilityTimeout"] = compiled["VisibilityTimeout"]  # AWS: at least 6x the function timeout
    target = compiled["DeadLetter"]["name"]
    if target is not None:
        dlq_arn = {"Fn::GetAtt": [plan.logical_id(target), "Arn"]}
    else:
        dlq = lid.removesuffix("Queue") + "DeadLetterQueue"
        dlq_name = plan.physical(name).removesuffix(".fifo") + "-dlq" + (".fifo" if name in plan.fifo else "")
        dlq_props: dict[str, Any] = {"QueueName": sub(dlq_name), "MessageRetentionPeriod": 1209600, **SQS_ENCRYPTION}
        if name in plan.fifo:
            dlq_props["FifoQueue"] = True
        out[dlq] = {"Type": "AWS::SQS::Queue", "Properties": dlq_props}
        dlq_arn = {"Fn::GetAtt": [dlq, "Arn"]}
    if compiled["maxReceiveCount"] is not None:
        props["RedrivePolicy"] = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": compiled["maxReceiveCount"]}
    else:  # max_attempts=0: retried until the message expires (kept the longest SQS allows)
        props["MessageRetentionPeriod"] = 1209600
    return out


def _table(plan: Plan, name: str, lid: str, phys: dict[str, str]) -> dict[str, dict[str, Any]]:
    sink = next((s for s in plan.app.sinks if s.name == name and s.kind == "table"), None)
    options: Mapping[str, Any] = sink.options if sink is not None else {}
    keys = [(options.get("key") or "id", "HASH")]
    if options.get("sort_key"):
        keys.append((options["sort_key"], "RANGE"))
    props: dict[str, Any] = {
        "TableName": phys,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": k, "AttributeType": "S"} for k, _ in keys],
        "KeySchema": [{"AttributeName": k, "KeyType": t} for k, t in keys],
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS", "KMSMasterKeyId": "alias/aws/dynamodb"},
    }
    if any(s.kind == "nosql" and s.resource == name for s in plan.handlers):
        props["StreamSpecification"] = {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    from corefn.idempotency import EXPIRATION, record_sink

    if any(record_sink(s) == name for s in plan.handlers):  # idempotency records: DynamoDB deletes expired ones
        props["TimeToLiveSpecification"] = {"AttributeName": EXPIRATION, "Enabled": True}
    return {lid: {"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain", "Properties": props}}


#: resource type → its CloudFormation resources (the keys of RESOURCE_TYPES)
RESOURCES: dict[str, Callable[[Plan, str, str, dict[str, str]], dict[str, dict[str, Any]]]] = {
    "bucket": _bucket,
    "queue": _queue,
    "topic": _topic,
    "stream": _stream,
    "table": _table,
}


def environment_key() -> dict[str, Any]:
    """A customer managed key for the functions' environment variables (which hold no secret, only
    names and references): administered by the account, rotated yearly."""
    return {ENV_KEY: {"Type": "AWS::KMS::Key", "DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete", "Properties": {
        "Description": sub("corefn ${ResourcePrefix}-${Stage}: encrypts the functions' environment variables"),
        "EnableKeyRotation": True,
        "KeyPolicy": {"Version": "2012-10-17", "Statement": [{
            "Sid": "AccountAdministersTheKey", "Effect": "Allow",
            "Principal": {"AWS": sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")},
            "Action": "kms:*", "Resource": "*",
        }]},
    }}}  # fmt: skip
