"""Request helpers (Credential, Attachment) and typed results."""
from __future__ import annotations

import base64
from collections import abc
import dataclasses
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Union

_HIDDEN = "'***'"


def _compact(d: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


@dataclass
class Credential:
    """An inline SMTP credential (credential.schema.json).

    ``repr`` never shows ``password`` or ``access_token``. Members this class
    does not name can be given in ``extra`` (sent as is)."""

    host: str
    port: Optional[int] = None
    security: Optional[str] = None
    username: Optional[str] = None
    password: Optional[str] = field(default=None, repr=False)
    access_token: Optional[str] = field(default=None, repr=False)
    auth: Optional[str] = None
    id: Optional[str] = None
    tls: Optional[Dict[str, Any]] = None
    client_name: Optional[str] = None
    pipelining: Optional[bool] = None
    chunking: Optional[bool] = None
    max_messages_per_connection: Optional[int] = None
    limits: Optional[Dict[str, Any]] = None
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        parts = []
        for f in dataclasses.fields(self):
            if f.name == "extra":
                continue
            v = getattr(self, f.name)
            if v is None:
                continue
            if f.name in ("password", "access_token"):
                parts.append(f"{f.name}={_HIDDEN}")
            elif f.name == "tls" and isinstance(v, dict):
                parts.append(f"tls={ {k: (x if k != 'ca_pem' else '<pem>') for k, x in v.items()}!r}")
            else:
                parts.append(f"{f.name}={v!r}")
        return f"Credential({', '.join(parts)})"

    __str__ = __repr__

    def to_dict(self) -> Dict[str, Any]:
        d = _compact({f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"})
        d.update(self.extra)
        return d


@dataclass
class Attachment:
    """An attachment: ``content`` (bytes, base64-encoded for you),
    ``content_base64`` or ``url``. ``repr`` hides the content."""

    filename: str
    content: Optional[bytes] = field(default=None, repr=False)
    content_base64: Optional[str] = field(default=None, repr=False)
    url: Optional[str] = None
    content_type: Optional[str] = None
    content_id: Optional[str] = None
    inline: Optional[bool] = None
    extra: Dict[str, Any] = field(default_factory=dict, repr=False)

    def __repr__(self) -> str:
        parts = [f"filename={self.filename!r}"]
        if self.content is not None:
            parts.append(f"content=<{len(self.content)} bytes>")
        if self.content_base64 is not None:
            parts.append(f"content_base64=<{len(self.content_base64)} chars>")
        for name in ("url", "content_type", "content_id", "inline"):
            v = getattr(self, name)
            if v is not None:
                parts.append(f"{name}={v!r}")
        return f"Attachment({', '.join(parts)})"

    __str__ = __repr__

    def to_dict(self) -> Dict[str, Any]:
        b64 = self.content_base64
        if self.content is not None:
            b64 = base64.b64encode(self.content).decode("ascii")
        d = _compact(
            {
                "filename": self.filename,
                "content_type": self.content_type,
                "content_base64": b64,
                "url": self.url,
                "content_id": self.content_id,
                "inline": self.inline,
            }
        )
        d.update(self.extra)
        return d


#: Leaves to_wire returns as they are, by exact type: most of a send's values (the text
#: body, the CA PEM…), checked before the slower isinstance tests.
_WIRE_SCALARS = frozenset((str, int, float, bool, type(None)))


def to_wire(value: Any) -> Any:
    """Turn Credential/Attachment objects (anywhere in ``value``) into dicts."""
    t = type(value)
    if t in _WIRE_SCALARS:
        return value
    if t is dict:
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, (Credential, Attachment)):
        return value.to_dict()
    # collections.abc, not typing: typing.Mapping's isinstance is several times slower
    if isinstance(value, abc.Mapping):
        return {k: to_wire(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_wire(v) for v in value]
    return value


# --- results -------------------------------------------------------------------
@dataclass
class SMTPReply:
    code: Optional[int]
    enhanced_code: Optional[str]
    text: Optional[str]

    @classmethod
    def from_dict(cls, d: Any) -> Optional["SMTPReply"]:
        if not isinstance(d, abc.Mapping):
            return None
        return cls(d.get("code"), d.get("enhanced_code"), d.get("text"))


@dataclass
class RecipientResult:
    address: str
    accepted: bool
    smtp: Optional[SMTPReply]


@dataclass
class SendResult:
    """``send``'s result. ``raw`` is the result object as received (members
    this client does not know included). ``error`` is set with
    ``on_error: "continue"`` when the send failed."""

    outcome: str
    message_id: Optional[str]
    smtp: Optional[SMTPReply]
    recipients: List[RecipientResult]
    duplicate: bool
    raw: Dict[str, Any] = field(repr=False)
    error: Optional[Dict[str, Any]] = None

    @property
    def accepted(self) -> List[str]:
        return [r.address for r in self.recipients if r.accepted]

    @property
    def rejected(self) -> List[str]:
        return [r.address for r in self.recipients if not r.accepted]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "SendResult":
        recips = []
        for r in d.get("recipients") or []:
            if isinstance(r, abc.Mapping):
                recips.append(RecipientResult(str(r.get("address", "")), r.get("accepted") is True, SMTPReply.from_dict(r.get("smtp"))))
        err = d.get("error")
        return cls(
            outcome=str(d.get("outcome", "")),
            message_id=d.get("message_id"),
            smtp=SMTPReply.from_dict(d.get("smtp")),
            recipients=recips,
            duplicate=d.get("duplicate") is True,
            raw=dict(d),
            error=dict(err) if isinstance(err, abc.Mapping) else None,
        )


@dataclass
class VerifyResult:
    ok: bool
    security: Optional[str]
    server: Optional[str]
    auth_mechanisms: List[str]
    capabilities: List[str]
    raw: Dict[str, Any] = field(repr=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "VerifyResult":
        return cls(
            ok=d.get("ok") is True,
            security=d.get("security"),
            server=d.get("server"),
            auth_mechanisms=list(d.get("auth_mechanisms") or []),
            capabilities=list(d.get("capabilities") or []),
            raw=dict(d),
        )


@dataclass
class Limits:
    max_frame_bytes: int = 33554432
    max_in_flight: int = 32
    idle_timeout_ms: int = 300000


@dataclass
class HelloResult:
    version: int
    server: str
    server_version: str
    operations: List[str]
    limits: Limits
    raw: Dict[str, Any] = field(repr=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "HelloResult":
        lim = d.get("limits") or {}
        limits = Limits()
        for name in ("max_frame_bytes", "max_in_flight", "idle_timeout_ms"):
            v = lim.get(name)
            if isinstance(v, int) and not isinstance(v, bool) and v >= 1:
                setattr(limits, name, v)
        return cls(
            version=int(d.get("version", 1)),
            server=str(d.get("server", "")),
            server_version=str(d.get("server_version", "")),
            operations=[o for o in d.get("operations") or [] if isinstance(o, str)],
            limits=limits,
            raw=dict(d),
        )


@dataclass
class PingResult:
    pong: bool
    data: Optional[str]
    raw: Dict[str, Any] = field(repr=False)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "PingResult":
        return cls(pong=d.get("pong") is True, data=d.get("data"), raw=dict(d))


ParamsLike = Union[Mapping[str, Any], None]
