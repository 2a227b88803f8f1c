"""One IAM role per function, holding only what that function needs: its log group, the grants
each sink it ``uses=`` declares (:meth:`permissions` of the sink backend), what its trigger's
poller needs, its dead-letter target, its secrets, and network interfaces when it runs in a VPC.

Why not SAM's ``Policies`` on a generated role: for SQS, Kinesis and DynamoDB triggers SAM adds
AWS managed execution policies whose resource is ``*`` (any queue or stream in the account), and
``AWSLambdaBasicExecutionRole`` writes to every log group. These statements name resources.

Pollers' needs (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html#events-sqs-permissions,
https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html, .../with-ddb.html); network
interfaces for VPC functions (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html):
``ec2:DescribeNetworkInterfaces`` has no resource-level permission, so it alone is on ``*``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from corefn_aws._sam_resources import BACKENDS, ENV_KEY, RESOURCE_TYPES, Plan, pascal, sub

if TYPE_CHECKING:
    from corefn.specs import HandlerSpec

#: trigger kind → actions Lambda's poller needs on the trigger's resource
POLLER_ACTIONS: dict[str, tuple[str, ...]] = {
    "queue": ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"),
    "stream": ("kinesis:DescribeStream", "kinesis:DescribeStreamSummary", "kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:ListShards", "kinesis:SubscribeToShard"),
    "nosql": ("dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"),
}
VPC_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses")
#: actions IAM cannot scope to a resource (the only statements allowed on "*")
UNSCOPABLE = ("ec2:DescribeNetworkInterfaces",)

#: placeholders of physical names, swapped for sentinels while a backend reads the URL
_SENTINELS = {"${ResourcePrefix}": "corefn-prefix-0", "${Stage}": "corefn-stage-0", "${AWS::AccountId}": "000000000000"}


def backend_statements(plan: Plan, rtype: str, name: str) -> list[dict[str, Any]]:
    """IAM statements from the grants the sink backend declares for its URL, scoped to this
    stack's partition, region and account."""
    import importlib

    scheme = RESOURCE_TYPES[rtype][1]
    module, _, cls = BACKENDS[scheme].partition(":")
    backend = getattr(importlib.import_module(module), cls)
    url = f"{scheme}://{plan.physical(name)}"
    for placeholder, sentinel in _SENTINELS.items():
        url = url.replace(placeholder, sentinel)
    statements = []
    for grant in backend.permissions(url, "publisher" if rtype in ("queue", "topic", "stream") else rtype):
        if grant.cloud != "aws":
            continue
        arn = re.sub(r"^arn:aws:([a-z0-9-]+):\*:\*:", r"arn:${AWS::Partition}:\1:${AWS::Region}:${AWS::AccountId}:", grant.resource)
        arn = re.sub(r"^arn:aws:s3:::", "arn:${AWS::Partition}:s3:::", arn)
        for placeholder, sentinel in _SENTINELS.items():
            arn = arn.replace(sentinel, placeholder)
        statements.append({"Effect": "Allow", "Action": list(grant.actions), "Resource": sub(arn)})
    return statements


def arn_of(plan: Plan, name: str) -> Any:
    """A resource's ARN without referring to the resource where that would be circular (buckets)."""
    rtype = plan.resources[name].type
    phys = plan.physical(name)
    if rtype == "bucket":
        return sub(f"arn:${{AWS::Partition}}:s3:::{phys}")
    return {"Fn::GetAtt": [plan.logical_id(name), "Arn"]}


def _dead_letter_statement(plan: Plan, spec: HandlerSpec) -> dict[str, Any] | None:
    settings = plan.policies[spec.name].settings
    target = settings.get("OnFailure") or settings.get("DeadLetterQueue")
    if target is None:
        return None
    if target["name"] is None:
        suffix = "FailedRecords" if "OnFailure" in settings else "DeadLetterQueue"
        return {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": {"Fn::GetAtt": [pascal(spec.name) + suffix, "Arn"]}}
    action = "sns:Publish" if target["Type"] == "SNS" else "sqs:SendMessage"
    resource = {"Ref": plan.logical_id(target["name"])} if target["Type"] == "SNS" else arn_of(plan, target["name"])
    return {"Effect": "Allow", "Action": [action], "Resource": resource}


def role(plan: Plan, spec: HandlerSpec, secrets: list[str], in_vpc: bool) -> dict[str, Any]:
    """The ``AWS::IAM::Role`` of ``spec``'s function; ``secrets`` are the template parameters
    holding the ARNs of the secrets its settings refer to."""
    from corefn.policy import used_sinks

    log_group = f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:/aws/lambda/{plan.function_name(spec.name)}"
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup"], "Resource": sub(log_group + ":*")},
        {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": sub(log_group + ":log-stream:*")},
    ]
    statements.append({"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": {"Fn::GetAtt": [ENV_KEY, "Arn"]}})
    for sink in used_sinks(plan.app, spec):
        rtype = plan.resources[sink.name].type
        if rtype in RESOURCE_TYPES:
            statements.extend(backend_statements(plan, rtype, sink.name))
    if spec.kind in POLLER_ACTIONS and spec.resource is not None:
        resource = (
            {"Fn::GetAtt": [plan.logical_id(spec.resource), "StreamArn"]} if spec.kind == "nosql" else arn_of(plan, spec.resource)
        )
        statements.append({"Effect": "Allow", "Action": list(POLLER_ACTIONS[spec.kind]), "Resource": resource})
    dead = _dead_letter_statement(plan, spec)
    if dead is not None:
        statements.append(dead)
    for parameter in secrets:
        statements.append({"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": {"Ref": parameter}})
    if in_vpc:
        scoped = [sub(f"arn:${{AWS::Partition}}:ec2:${{AWS::Region}}:${{AWS::AccountId}}:{what}/*") for what in ("network-interface", "subnet", "security-group")]
        statements.append({"Effect": "Allow", "Action": list(VPC_ACTIONS), "Resource": scoped})
        statements.append({"Effect": "Allow", "Action": list(UNSCOPABLE), "Resource": "*"})
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "Description": sub(f"corefn {plan.app.name}: only what function {plan.function_name(spec.name)} needs"),
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"},
            ]},  # fmt: skip
            "Policies": [{"PolicyName": "corefn-least-privilege", "PolicyDocument": {"Version": "2012-10-17", "Statement": statements}}],
        },
    }
