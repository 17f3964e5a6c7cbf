"""CloudEvents 1.0 in Kafka binary content mode: payload model <-> Kafka record.

Binary mode puts the CloudEvents attributes in `ce_*` headers and the bare JSON
payload in the record value, so consumers that know nothing of CloudEvents still
read plain JSON, and routing tools can filter on headers without parsing values.

We implement the small header mapping ourselves instead of calling the
`cloudevents` SDK's Kafka binding, for three reasons: its `KafkaMessage` uses a
`dict` of headers while aiokafka produces and delivers an ordered
`list[tuple[str, bytes]]`; it re-serialises data through `json.dumps`, while we
want pydantic's exact bytes out and `model_validate_json` on the raw bytes in;
and it folds every attribute problem into one validation error (treating an
unknown specversion as 1.0), while a dead-letter record needs a precise reason.
The unit tests check interoperability against the SDK in both directions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Generic, Literal, NamedTuple, TypeVar, cast, get_args
from uuid import uuid4

from pydantic import BaseModel, ValidationError

from chorus_events.contracts.registry import EventSpec, UnknownEventType, spec_for_type

P = TypeVar("P", bound=BaseModel)
Q = TypeVar("Q", bound=BaseModel)

SPECVERSION: Final = "1.0"
CONTENT_TYPE: Final = "application/json"

H_SPECVERSION: Final = "ce_specversion"
H_ID: Final = "ce_id"
H_SOURCE: Final = "ce_source"
H_TYPE: Final = "ce_type"
H_TIME: Final = "ce_time"
H_SUBJECT: Final = "ce_subject"
H_CONTENT_TYPE: Final = "content-type"

REQUIRED_HEADERS: Final = (H_SPECVERSION, H_ID, H_SOURCE, H_TYPE, H_TIME)
"""Chorus requires `ce_time` too (optional in CloudEvents): every event says when."""
RESERVED_HEADERS: Final = frozenset((*REQUIRED_HEADERS, H_SUBJECT, H_CONTENT_TYPE))
"""Headers `encode` owns; `extra_headers` may not set them."""

PoisonReason = Literal[
    "missing-header",
    "bad-header",
    "unsupported-specversion",
    "unsupported-content-type",
    "unknown-type",
    "wrong-topic",
    "empty-value",
    "bad-json",
    "invalid-payload",
]
POISON_REASONS: Final[tuple[PoisonReason, ...]] = get_args(PoisonReason)


class PoisonMessage(Exception):
    """A record that can never be processed, whatever the retries: dead-letter it.

    `reason` is a short stable code (one of `POISON_REASONS`) for the
    `chorus_error_reason` header and metrics labels; `detail` is for humans and
    never echoes payload values (they may hold personal data).
    """

    def __init__(self, reason: PoisonReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason: PoisonReason = reason
        self.detail = detail


@dataclass(frozen=True)
class KafkaRecord:
    """A record ready to produce."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class Envelope(Generic[P]):
    """A decoded, validated event as consumers receive it (read-only by convention).

    A plain slotted class rather than a frozen dataclass: one is built per consumed
    event, and `headers` is decoded only when asked for (tracing, `caused_by`), not
    for every event of every batch.
    """

    __slots__ = ("_headers", "_raw", "id", "payload", "source", "spec", "subject", "time", "type")

    def __init__(
        self,
        id: str,
        source: str,
        type: str,
        time: datetime,
        subject: str | None,
        payload: P,
        spec: EventSpec[P],
        headers: dict[str, str] | None = None,
        *,
        raw_headers: Sequence[tuple[str, bytes]] = (),
    ) -> None:
        self.id = id
        self.source = source
        self.type = type
        self.time = time
        self.subject = subject
        self.payload = payload
        self.spec = spec
        self._headers = headers
        self._raw = raw_headers

    @property
    def headers(self) -> dict[str, str]:
        """Every UTF-8 header of the record (ce_*, content-type, traceparent, ...)."""
        if self._headers is None:
            self._headers = _read_headers_carefully(self._raw)
        return self._headers

    def narrow(self, spec: EventSpec[Q]) -> Envelope[Q]:
        """This envelope typed for `spec`; TypeError when it carries another event type."""
        if self.spec != spec:
            raise TypeError(f"envelope carries {self.type}, not {spec.ce_type}")
        return cast(Envelope[Q], self)

    def _fields(self) -> tuple[Any, ...]:
        return (self.id, self.source, self.type, self.time, self.subject, self.payload, self.spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Envelope):
            return NotImplemented
        return self._fields() == other._fields() and self.headers == other.headers

    def __hash__(self) -> int:
        # Consistent with __eq__ (equal envelopes share id and type) and, unlike the
        # frozen dataclass this was, defined for payload models that are not hashable.
        return hash((self.id, self.type))

    def __repr__(self) -> str:
        return (
            f"Envelope(id={self.id!r}, source={self.source!r}, type={self.type!r}, "
            f"time={self.time!r}, subject={self.subject!r}, payload={self.payload!r})"
        )


def encode(
    spec: EventSpec[P],
    payload: P,
    *,
    source: str,
    event_id: str | None = None,
    time: datetime | None = None,
    extra_headers: Mapping[str, str] | None = None,
) -> KafkaRecord:
    """Build the Kafka record for `payload`.

    Deterministic: the same arguments with the same `event_id` and `time` give the
    same bytes, so an outbox can re-encode a stored event at publish time. A
    default `event_id` is a random UUID4 and a default `time` is now (UTC).
    Raises TypeError for a payload of the wrong model and ValueError for bad
    arguments: those are programming errors, not poison messages.
    """
    if not isinstance(payload, spec.payload):
        raise TypeError(f"{spec.ce_type} needs {spec.payload.__name__}, got {type(payload)}")
    if not source:
        raise ValueError("source must not be empty")
    event_id = str(uuid4()) if event_id is None else event_id
    if not event_id:
        raise ValueError("event_id must not be empty")
    time = datetime.now(UTC) if time is None else time
    if time.tzinfo is None:
        raise ValueError("time must be timezone-aware")

    attributes = [
        (H_SPECVERSION, SPECVERSION),
        (H_ID, event_id),
        (H_SOURCE, source),
        (H_TYPE, spec.ce_type),
        (H_TIME, format_time(time)),
    ]
    if spec.subject is not None:
        attributes.append((H_SUBJECT, spec.subject(payload)))
    attributes.append((H_CONTENT_TYPE, CONTENT_TYPE))
    for name, value in (extra_headers or {}).items():
        if name.lower() in RESERVED_HEADERS:
            raise ValueError(f"extra_headers may not set {name!r}")
        attributes.append((name, value))

    return KafkaRecord(
        topic=spec.topic,
        key=spec.key(payload).encode(),
        value=payload.model_dump_json().encode(),
        headers=[(name, value.encode()) for name, value in attributes],
    )


def decode(
    topic: str,
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
    types: Mapping[str, EventSpec[Any]] | None = None,
) -> Envelope[Any]:
    """Validate a consumed record and return its envelope; raise PoisonMessage if it can't be.

    `types` (ce_type → spec) restricts decoding to what a consumer handles; by
    default every registered type is accepted.

    Checks, in order: CloudEvents headers (UTF-8, no duplicates, specversion
    1.0, id/source/type/time present, RFC 3339 time), content type (absent
    means JSON), known type, topic of that type, payload JSON and its model.
    The key is not checked: a wrongly keyed event is mis-partitioned but still
    processable.
    """
    del key  # part of the signature so callers pass whole records; see docstring
    fast = _decode_fast(topic, value, headers, types)
    if fast is not None:
        return fast
    found = _read_headers(headers)
    attrs = _ce_attributes(found)
    content_type = found.get(H_CONTENT_TYPE)
    return _envelope(
        topic,
        value,
        types,
        attrs[H_ID],
        attrs[H_SOURCE],
        attrs[H_TYPE],
        attrs[H_TIME],
        found.get(H_SUBJECT),
        content_type,
        headers=found,
    )


def _envelope(
    topic: str,
    value: bytes | None,
    types: Mapping[str, EventSpec[Any]] | None,
    event_id: str,
    source: str,
    ce_type: str,
    time_text: str,
    subject: str | None,
    content_type: str | None,
    *,
    headers: dict[str, str] | None = None,
    raw_headers: Sequence[tuple[str, bytes]] = (),
) -> Envelope[Any]:
    """The checks after the attributes are read, in the documented order."""
    time = parse_time(time_text)
    if content_type is not None and content_type.split(";")[0].strip().lower() != CONTENT_TYPE:
        raise PoisonMessage("unsupported-content-type", f"content-type {content_type!r}")
    try:
        spec = spec_for_type(ce_type) if types is None else types[ce_type]
    except (UnknownEventType, KeyError):
        raise PoisonMessage("unknown-type", f"unknown ce_type {ce_type!r}") from None
    if topic != spec.topic:
        raise PoisonMessage("wrong-topic", f"{spec.ce_type} belongs on {spec.topic}, not {topic}")
    payload = _validate_payload(spec, value)
    return Envelope(
        event_id,
        source,
        spec.ce_type,
        time,
        subject,
        payload,
        spec,
        headers,
        raw_headers=raw_headers,
    )


class _Layout(NamedTuple):
    """Where each attribute sits in a header list of one shape (names, in order)."""

    specversion: int
    id: int
    source: int
    type: int
    time: int
    subject: int | None
    content_type: int | None


_UNSEEN: Final = object()
_LAYOUTS: dict[tuple[str, ...], _Layout | None] = {}
"""Header-name tuple -> its layout, or None when the shape is not for the fast path.
Producers write a handful of shapes (ours: fixed order, optional subject and
traceparent), so this stays tiny; capped anyway against varying header names."""
_MAX_LAYOUTS: Final = 256
_ATTRIBUTE_HEADERS: Final = frozenset((*REQUIRED_HEADERS, H_SUBJECT, H_CONTENT_TYPE))


def _layout_for(names: tuple[str, ...]) -> _Layout | None:
    # Fast only when the careful path could not object to anything but the values
    # read below: lower-case unique names, every required attribute present, and no
    # other attribute header (ce_*) whose UTF-8 validity it would check.
    ours = [n for n in names if n.startswith("ce_") or n == H_CONTENT_TYPE]
    if (
        len(set(names)) != len(names)
        or any(n != n.lower() for n in names)
        or not set(REQUIRED_HEADERS) <= set(ours)
        or not set(ours) <= _ATTRIBUTE_HEADERS
    ):
        return None
    index = {name: i for i, name in enumerate(names)}
    return _Layout(
        specversion=index[H_SPECVERSION],
        id=index[H_ID],
        source=index[H_SOURCE],
        type=index[H_TYPE],
        time=index[H_TIME],
        subject=index.get(H_SUBJECT),
        content_type=index.get(H_CONTENT_TYPE),
    )


def _decode_fast(
    topic: str,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
    types: Mapping[str, EventSpec[Any]] | None,
) -> Envelope[Any] | None:
    """`decode` for a well-formed record of a common shape, or None otherwise.

    Runs for every consumed message, so it is one flat function: it reads only
    the attributes it needs, by position (looked up once per header shape), and
    leaves the other headers undecoded until `Envelope.headers` is asked for. At
    the first thing it does not fully vouch for it returns None, and the careful
    path decides — the same envelope, or the precise poison reason.
    """
    names = tuple([name for name, _ in headers])
    layout = _LAYOUTS.get(names, _UNSEEN)
    if layout is _UNSEEN:
        layout = _layout_for(names)
        if len(_LAYOUTS) < _MAX_LAYOUTS:
            _LAYOUTS[names] = layout
    if layout is None:
        return None
    at_specversion, at_id, at_source, at_type, at_time, at_subject, at_content_type = cast(
        _Layout, layout
    )
    try:
        if headers[at_specversion][1] != b"1.0":
            return None
        if at_content_type is not None and headers[at_content_type][1] != b"application/json":
            return None  # parameters, other case or another type
        event_id = headers[at_id][1].decode()
        source = headers[at_source][1].decode()
        ce_type = headers[at_type][1].decode()
        time = datetime.fromisoformat(headers[at_time][1].decode())
        subject = None if at_subject is None else headers[at_subject][1].decode()
        spec = spec_for_type(ce_type) if types is None else types[ce_type]
        if not (event_id and source and value) or time.tzinfo is None or topic != spec.topic:
            return None
        payload = spec.payload.__pydantic_validator__.validate_json(value)
    except (UnicodeDecodeError, AttributeError, ValueError, LookupError):
        # ValidationError is a ValueError; UnknownEventType and KeyError are LookupErrors.
        return None
    return Envelope(
        event_id, source, spec.ce_type, time, subject, payload, spec, raw_headers=headers
    )


def format_time(time: datetime) -> str:
    """RFC 3339 in UTC with a 'Z', e.g. 2025-03-03T09:00:00.250000Z."""
    return time.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 timestamp with offset; PoisonMessage("bad-header") otherwise."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise PoisonMessage("bad-header", f"ce_time {text!r} is not RFC 3339") from None
    if parsed.tzinfo is None:
        raise PoisonMessage("bad-header", f"ce_time {text!r} has no UTC offset")
    return parsed


def _read_headers(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    # Fast path for what our own producers write (lower-case names, each once,
    # UTF-8 values): one comprehension instead of per-header checks. This runs for
    # every consumed message, so it matters; anything unusual takes the careful path.
    try:
        fast = {name: raw.decode("utf-8") for name, raw in headers}
    except (UnicodeDecodeError, AttributeError):
        return _read_headers_carefully(headers)
    if len(fast) == len(headers) and all(name.islower() for name in fast):
        return fast
    return _read_headers_carefully(headers)


def _read_headers_carefully(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name, raw in headers:
        lowered = name.lower()
        is_ours = lowered.startswith("ce_") or lowered == H_CONTENT_TYPE
        try:
            text = raw.decode("utf-8")
        except (UnicodeDecodeError, AttributeError):
            if is_ours:
                raise PoisonMessage("bad-header", f"header {name} is not UTF-8") from None
            continue  # someone else's binary header: not ours to judge
        if is_ours:
            # Two values for one attribute are ambiguous; guessing would be worse.
            if lowered in found:
                raise PoisonMessage("bad-header", f"header {name} appears twice")
            found[lowered] = text
        else:
            found[name] = text
    return found


def _ce_attributes(found: Mapping[str, str]) -> dict[str, str]:
    specversion = found.get(H_SPECVERSION)
    if specversion is None:
        raise PoisonMessage("missing-header", "no ce_specversion header (not a binary CloudEvent)")
    if specversion != SPECVERSION:
        raise PoisonMessage("unsupported-specversion", f"specversion {specversion!r}")
    missing = [name for name in REQUIRED_HEADERS if not found.get(name)]
    if missing:
        raise PoisonMessage("missing-header", f"missing or empty: {', '.join(missing)}")
    return {name: found[name] for name in REQUIRED_HEADERS}


def _validate_payload(spec: EventSpec[P], value: bytes | None) -> P:
    if not value:
        raise PoisonMessage("empty-value", "record has no value (tombstone?)")
    try:
        # The model's validator directly: model_validate_json adds a Python frame
        # per event for keyword plumbing.
        return cast(P, spec.payload.__pydantic_validator__.validate_json(value))
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        if any(error["type"] == "json_invalid" for error in errors):
            raise PoisonMessage("bad-json", "value is not valid JSON") from None
        summary = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '<root>'}: {error['msg']}"
            for error in errors[:5]
        )
        more = f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""
        raise PoisonMessage("invalid-payload", f"{spec.ce_type}: {summary}{more}") from None
