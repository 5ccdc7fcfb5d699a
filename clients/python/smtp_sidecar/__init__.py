"""Client for the smtp-sidecar daemon (proto-spec version 1)."""
from .aio import DEFAULT_SOCKET_PATH, AsyncSidecarClient
from .errors import *  # noqa: F401,F403
from .errors import SidecarError, error_from_response, exception_class_for
from .helpers import idempotency_key, retry, retry_async, should_retry
from .sync import SidecarClient
from .types import (
    Attachment,
    Credential,
    HelloResult,
    Limits,
    PingResult,
    RecipientResult,
    SendResult,
    SMTPReply,
    VerifyResult,
)

__version__ = "0.1.0"
__all__ = [
    "AsyncSidecarClient", "SidecarClient", "DEFAULT_SOCKET_PATH", "SidecarError", "error_from_response",
    "exception_class_for", "idempotency_key", "retry", "retry_async", "should_retry", "Attachment",
    "Credential", "HelloResult", "Limits", "PingResult", "RecipientResult", "SendResult", "SMTPReply",
    "VerifyResult",
]
