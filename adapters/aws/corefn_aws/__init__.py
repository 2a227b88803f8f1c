"""corefn's AWS adapter: every Lambda trigger in, every answer Lambda's callers expect out.

Shape names (what ``corefn inspect`` prints as ``shape``), in detection order:

====================  =========  ==============================================================
shape                 kind       payload signature
====================  =========  ==============================================================
warmup                –          ``{"corefn": "warmup"}`` / ``serverless-plugin-warmup``
apigw-v2              http       ``version == "2.0"`` + ``requestContext`` (HTTP API), not *.lambda-url.*
function-url          http       ``version == "2.0"``, ``requestContext.domainName`` *.lambda-url.*
apigw-v1              http       ``httpMethod`` + ``requestContext`` without ``elb`` (REST API)
alb                   http       ``requestContext.elb``
sqs-s3                storage    ``Records[0].eventSource == "aws:sqs"``, body an S3 notification
sqs                   queue      ``Records[0].eventSource == "aws:sqs"``
sns-s3                storage    ``Records[0].EventSource == "aws:sns"``, Message an S3 notification
sns                   topic      ``Records[0].EventSource == "aws:sns"``
s3                    storage    ``Records[0].eventSource == "aws:s3"`` or ``Event == "s3:TestEvent"``
kinesis               stream     ``Records[0].eventSource == "aws:kinesis"``
dynamodb-stream       nosql      ``Records[0].eventSource == "aws:dynamodb"``
s3-eventbridge        storage    ``source == "aws.s3"`` + ``detail-type``
eventbridge-schedule  timer      ``detail-type == "Scheduled Event"``, ``source`` aws.events / aws.scheduler
vpc-lattice           http       ``raw_path`` + ``method``, no ``version`` (Lattice event version 1)
vpc-lattice-v2        http       ``version == "2.0"``, ``requestContext.targetGroupArn``, no ``http``
apigw-authz-token     authorizer ``type == "TOKEN"`` + ``methodArn`` (``authorizer.py``)
apigw-authz-request   authorizer ``type == "REQUEST"`` + ``methodArn`` (REST API / HTTP API 1.0)
apigw-authz-v2        authorizer ``version == "2.0"`` + ``routeArn`` (HTTP API 2.0)
====================  =========  ==============================================================

Anything else is a direct invoke at run time (``corefn.adapters.handle``); so, on purpose, are
WebSocket API routes (``requestContext.connectionId`` / ``eventType``), which look like HTTP but
want another answer (see ``http.py``). API Gateway Lambda authorizers reach ``@app.authorizer``
handlers (``authorizer.py``); the HTTP shapes leave them alone. A ``kinesis`` record packed
by the KPL yields one stream event per user record (``_kpl.py``). Importing this
package imports no AWS SDK: the Lambda cold start pays only for what it uses.
"""

from __future__ import annotations

from corefn.adapters import WarmupShape
from corefn.kit import Provider, lazy
from corefn_aws.authorizer import RequestAuthorizer, RequestAuthorizerV2, TokenAuthorizer
from corefn_aws.http import Alb, FunctionUrl, HttpApiV2, RestApiV1
from corefn_aws.lattice import LatticeV1, LatticeV2
from corefn_aws.nosql import DynamoDbStream
from corefn_aws.queue import Sns, Sqs
from corefn_aws.storage import S3EventBridge, S3Notification, S3ViaSns, S3ViaSqs
from corefn_aws.stream import Kinesis
from corefn_aws.timer import ScheduledEvent

TYPE_CHECKING = False
if TYPE_CHECKING:
    from corefn.kit import Shape

SHAPES: tuple[type[Shape], ...] = (
    WarmupShape,
    HttpApiV2,  # the busiest shape first: it excludes Function URL domains itself
    FunctionUrl,
    RestApiV1,
    Alb,
    S3ViaSqs,
    Sqs,
    S3ViaSns,
    Sns,
    S3Notification,
    Kinesis,
    DynamoDbStream,
    S3EventBridge,
    ScheduledEvent,
    LatticeV1,  # rare, and exclusive of every shape above: last, so no other shape pays for them
    LatticeV2,
    RequestAuthorizerV2,  # authorizer functions are deployed on their own: every other shape is
    RequestAuthorizer,  # exclusive of them (http.is_authorizer), so they go last
    TokenAuthorizer,
)


adapter = Provider(
    "aws",
    SHAPES,
    generator="corefn_aws.generator",  # a SAM project: template.yaml, src/requirements.txt, README.md
    samples="corefn_aws.samples",
    compile_policy=lazy("corefn_aws.policy", "compile_policy"),  # SQS / event-source-mapping / async-invoke terms
    dead_letters=lazy("corefn_aws.deadletters", "open_dead_letters"),  # corefn dead --cloud aws
    bundle_root="src",  # the SAM project's CodeUri
    deploys_flows=True,  # each flow a state machine in the SAM template (corefn_aws._flow_resources)
    start_flow=lazy("corefn_aws._flow_start", "start_flow"),  # StartExecution; boto3 on the first start only
)

__all__ = ["SHAPES", "adapter"]
