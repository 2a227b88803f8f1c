"""corefn: write serverless handlers once, run them on AWS, Azure, GCP, OpenWhisk and locally.

The public API. Nothing here imports an adapter or a cloud SDK: cold start is the first
complaint of this field, so what a cloud needs loads only when that cloud is used.
"""

from corefn._version import __version__
from corefn.app import App, Cors
from corefn.auth import Auth, Jwt
from corefn.context import Context
from corefn.dispatch import Batch
from corefn.errors import (
    ConfigurationError,
    CorefnError,
    EventShapeError,
    HttpError,
    PayloadError,
    SinkConflictError,
    SinkError,
    SinkNotFoundError,
    SinkThrottledError,
    SinkUnavailableError,
)
from corefn.events import (
    Allow,
    AuthorizeRequest,
    Body,
    Deny,
    Event,
    HttpRequest,
    HttpResponse,
    InvokeEvent,
    NoSqlChange,
    QueueMessage,
    StorageEvent,
    StreamRecord,
    TimerEvent,
    TopicMessage,
)
from corefn.specs import Options

__all__ = [
    "Allow",
    "App",
    "Auth",
    "AuthorizeRequest",
    "Batch",
    "Body",
    "ConfigurationError",
    "Context",
    "Cors",
    "Deny",
    "CorefnError",
    "Event",
    "EventShapeError",
    "HttpError",
    "HttpRequest",
    "HttpResponse",
    "InvokeEvent",
    "Jwt",
    "NoSqlChange",
    "Options",
    "PayloadError",
    "QueueMessage",
    "SinkConflictError",
    "SinkError",
    "SinkNotFoundError",
    "SinkThrottledError",
    "SinkUnavailableError",
    "StorageEvent",
    "StreamRecord",
    "TimerEvent",
    "TopicMessage",
    "__version__",
]
