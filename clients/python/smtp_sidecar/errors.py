"""Typed exceptions for the sidecar's error codes (proto-spec/errors.md).

Every exception is a :class:`SidecarError` carrying ``code``, ``message``,
``retryable``, ``retry_after`` (seconds, from ``retry_after_ms``), ``smtp``,
``field``, ``phase`` and the partial ``result`` (a dict) of a failed send.
A code this client does not know becomes a plain :class:`SidecarError` whose
``retryable`` comes from the daemon (protocol §4).
"""
from __future__ import annotations

from collections import abc
from typing import Any, Dict, Mapping, Optional, Type


class SidecarError(Exception):
    """An error answered by the daemon, or detected by the client."""

    def __init__(
        self,
        code: str,
        message: str = "",
        *,
        retryable: bool = False,
        retry_after: Optional[float] = None,
        smtp: Optional[Dict[str, Any]] = None,
        field: Optional[str] = None,
        result: Optional[Dict[str, Any]] = None,
        error: Optional[Dict[str, Any]] = None,
        may_have_been_sent: bool = False,
    ) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.smtp = smtp
        self.field = field
        self.result = result
        #: The raw error object as received (unknown members kept).
        self.error = error if error is not None else {"code": code, "message": message, "retryable": retryable}
        #: True when the request may have been carried out although no answer
        #: says so (outcome_unknown, a connection lost or a client timeout
        #: while a send was in flight). The retry helper never re-sends then.
        self.may_have_been_sent = may_have_been_sent

    @property
    def phase(self) -> Optional[str]:
        if isinstance(self.result, dict):
            p = self.result.get("phase")
            return p if isinstance(p, str) else None
        return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, retryable={self.retryable!r}, message={self.message!r})"


# --- protocol and daemon -------------------------------------------------
class ProtocolError(SidecarError):
    """Framing or request errors: a bug in the client or a version mismatch."""


class FrameTooLargeError(ProtocolError):
    pass


class InvalidParamsError(SidecarError, ValueError):
    pass


class UnsupportedVersionError(ProtocolError):
    pass


class NotImplementedBySidecarError(ProtocolError):
    pass


class InternalError(SidecarError):
    pass


class SidecarConnectionError(SidecarError, ConnectionError):
    """The connection to the daemon failed: cannot connect (``sidecar_unavailable``),
    lost while a request was in flight (``connection_lost``), or the daemon
    refused the connection (``too_many_connections``, ``shutting_down``)."""


class PeerNotAllowedError(SidecarError, PermissionError):
    pass


class RequestTimeoutError(SidecarError, TimeoutError):
    """``request_timeout``: the request's ``timeout_ms`` passed; nothing was sent."""


class ClientTimeoutError(SidecarError, TimeoutError):
    """The client gave up waiting for an answer (``client_timeout``). For a send
    the message may still be delivered (``may_have_been_sent``)."""


# --- message composition ----------------------------------------------------
class MessageCompositionError(SidecarError, ValueError):
    """The message could not be composed (header_*, invalid_address, attachment_*…)."""


# --- SMTP transport -----------------------------------------------------------
class SMTPError(SidecarError):
    """The user's SMTP server refused or failed; ``smtp`` holds its reply."""


class AuthError(SMTPError):
    pass


class SMTPConnectionError(SMTPError, ConnectionError):
    pass


class SMTPTimeoutError(SMTPError, TimeoutError):
    pass


class TLSError(SMTPError):
    pass


class SenderRejectedError(SMTPError):
    pass


class RecipientsRejectedError(SMTPError):
    pass


class MessageRejectedError(SMTPError):
    pass


class ThrottledError(SMTPError):
    """The provider is throttling this account: retry after ``retry_after``."""


class QuotaExceededError(SMTPError):
    """The provider says the account's daily quota is spent: retry after ``retry_after``
    at the earliest (the sidecar refuses locally until then)."""


class SenderNotAllowedError(SenderRejectedError):
    """The provider refused the From address for this login (SendAsDenied)."""


class SMTPAuthDisabledError(AuthError):
    """The provider does not accept SMTP AUTH for this login as configured."""


class OutcomeUnknownError(SMTPError):
    """The message was transmitted but no final reply came: it may have been
    delivered. Never re-send it blindly."""


class SMTPProtocolError(SMTPError):
    pass


# --- send policy ---------------------------------------------------------------
class PolicyError(SidecarError):
    pass


class RateLimitedError(PolicyError):
    pass


class MailLoopError(PolicyError):
    pass


class DestinationForbiddenError(PolicyError, PermissionError):
    pass


class CredentialNotFoundError(PolicyError, LookupError):
    pass


class AttachmentFetchError(PolicyError):
    pass


class PoolBusyError(PolicyError):
    pass


class StateUnavailableError(SidecarError):
    """The daemon's shared state database (a fleet's PostgreSQL) is unavailable: nothing
    was sent. Retryable: send the same request again after a pause."""


_BY_CODE: Dict[str, Type[SidecarError]] = {
    "frame_too_large": FrameTooLargeError,
    "truncated_frame": ProtocolError,
    "invalid_json": ProtocolError,
    "not_an_object": ProtocolError,
    "missing_id": ProtocolError,
    "duplicate_id": ProtocolError,
    "unknown_operation": ProtocolError,
    "invalid_params": InvalidParamsError,
    "unsupported_version": UnsupportedVersionError,
    "peer_not_allowed": PeerNotAllowedError,
    "too_many_connections": SidecarConnectionError,
    "shutting_down": SidecarConnectionError,
    "not_implemented": NotImplementedBySidecarError,
    "request_timeout": RequestTimeoutError,
    "invalid_configuration": InternalError,
    "internal_error": InternalError,
    "state_unavailable": StateUnavailableError,
    "auth_failed": AuthError,
    "oauth_reauthorization_required": AuthError,
    "oauth_token_failed": AuthError,
    "connection_failed": SMTPConnectionError,
    "timeout": SMTPTimeoutError,
    "tls_failed": TLSError,
    "certificate_invalid": TLSError,
    "starttls_unavailable": TLSError,
    "smtputf8_unsupported": SMTPError,
    "sender_rejected": SenderRejectedError,
    "recipients_rejected": RecipientsRejectedError,
    "message_rejected": MessageRejectedError,
    "outcome_unknown": OutcomeUnknownError,
    "smtp_protocol_error": SMTPProtocolError,
    "throttled": ThrottledError,
    "quota_exceeded": QuotaExceededError,
    "sender_not_allowed": SenderNotAllowedError,
    "smtp_auth_disabled": SMTPAuthDisabledError,
    "port_25_blocked": PolicyError,
    "mail_loop": MailLoopError,
    "destination_forbidden": DestinationForbiddenError,
    "attachment_fetch_failed": AttachmentFetchError,
    "rate_limited": RateLimitedError,
    "credential_not_found": CredentialNotFoundError,
    "pool_busy": PoolBusyError,
}
for _c in (
    "header_forbidden_characters", "header_reserved", "header_name_invalid", "too_many_headers",
    "header_value_too_long", "subject_too_long", "body_too_large", "invalid_address", "no_sender",
    "no_recipients", "too_many_recipients", "attachment_invalid_base64", "attachment_invalid",
    "too_many_attachments", "attachment_too_large", "message_too_large",
):
    _BY_CODE[_c] = MessageCompositionError


def exception_class_for(code: str) -> Type[SidecarError]:
    """The exception class for an error code (:class:`SidecarError` when unknown)."""
    return _BY_CODE.get(code, SidecarError)


def error_from_response(error: Mapping[str, Any], result: Optional[Mapping[str, Any]] = None) -> SidecarError:
    """Build the typed exception for a response's ``error`` object."""
    code = error.get("code")
    if not isinstance(code, str) or not code:
        code = "internal_error"
    retry_after_ms = error.get("retry_after_ms")
    retry_after = retry_after_ms / 1000.0 if isinstance(retry_after_ms, (int, float)) and not isinstance(retry_after_ms, bool) else None
    smtp = error.get("smtp")
    field = error.get("field")
    cls = exception_class_for(code)
    return cls(
        code,
        str(error.get("message") or ""),
        retryable=error.get("retryable") is True,
        retry_after=retry_after,
        smtp=dict(smtp) if isinstance(smtp, abc.Mapping) else None,
        field=field if isinstance(field, str) else None,
        result=dict(result) if isinstance(result, abc.Mapping) else None,
        error=dict(error),
        may_have_been_sent=(code == "outcome_unknown"),
    )
