"""The visitor's consent and the signed cookie that carries it.

The cookie holds only the explicit choices (category -> granted), the policy version they
answer, a random pseudonymous subject id, and when and how they were made. It is signed
with itsdangerous, so a visitor cannot forge or alter it; anything that fails to verify is
treated as "no decision yet".
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cached_property
from types import MappingProxyType
from typing import Any, Final, Literal, NamedTuple

from itsdangerous import BadSignature, URLSafeTimedSerializer

from .fingerprint import category_fingerprints
from .policy import Policy

__all__ = ["Consent", "ConsentCodec", "SecretKeyError", "resolve_secret_keys"]

#: Ways a decision can be made; recorded in the cookie and the audit trail.
Method = Literal["accept_all", "reject_all", "save", "withdraw", "embed", "gpc"]
METHODS: Final = ("accept_all", "reject_all", "save", "withdraw", "embed", "gpc")

MAX_COOKIE_BYTES: Final = 4096
_SALT: Final = "consentkit.consent.v1"
_ENV_KEYS: Final = "CONSENTKIT_SECRET_KEYS"
MIN_KEY_LENGTH: Final = 16


class SecretKeyError(ValueError):
    """No usable secret key was configured."""


def resolve_secret_keys(secret_keys: Iterable[str | bytes] | str | bytes | None) -> tuple[bytes, ...]:
    """The signing keys, oldest first, from the argument or ``CONSENTKIT_SECRET_KEYS``."""
    if secret_keys is None:
        raw = os.environ.get(_ENV_KEYS, "")
        keys: list[str | bytes] = [k.strip() for k in raw.split(",") if k.strip()]
        origin = f"the {_ENV_KEYS} environment variable"
    else:
        keys = [secret_keys] if isinstance(secret_keys, str | bytes) else list(secret_keys)
        origin = "secret_keys"
    if not keys:
        raise SecretKeyError(
            "consentkit needs a secret key to sign consent cookies: pass secret_keys=[...] to "
            f"ConsentMiddleware or set {_ENV_KEYS} (comma-separated, oldest first). "
            "Generate one with `consentkit keygen`."
        )
    result = []
    for i, key in enumerate(keys):
        data = key.encode("utf-8") if isinstance(key, str) else bytes(key)
        if len(data) < MIN_KEY_LENGTH:
            raise SecretKeyError(
                f"secret key #{i + 1} from {origin} is {len(data)} bytes long; use at least "
                f"{MIN_KEY_LENGTH} random bytes (`consentkit keygen` prints one)"
            )
        result.append(data)
    return tuple(result)


def new_subject_id() -> str:
    """A random, pseudonymous identifier for one browser's consent history.

    Never starting with "-": operators paste it into ``consentkit audit subject``, where a
    leading "-" would be read as an option.
    """
    while True:
        subject = secrets.token_urlsafe(16)
        if not subject.startswith("-"):
            return subject


@dataclass(frozen=True)
class Consent:
    """A visitor's consent as seen by the app (``request.state.consent``).

    ``explicit`` holds the visitor's own choices; ``signal_denied`` the categories a browser
    privacy signal (Global Privacy Control, Do Not Track) opts out of on this request.
    The first time a signal is seen for a visitor it overrides earlier grants of the
    categories it covers (``signal_recorded`` then becomes true); a choice the visitor makes
    after that is respected.
    """

    policy_version: str
    optional: tuple[str, ...]
    required: tuple[str, ...] = ()
    explicit: Mapping[str, bool] = field(default_factory=dict)
    subject_id: str | None = None
    method: str | None = None
    decided_at: datetime | None = None
    signal_denied: frozenset[str] = frozenset()
    #: The opt-out signal has been recorded for this subject (one audit record per subject).
    signal_recorded: bool = False
    #: Categories asked about again because what is behind them changed since the visitor chose.
    changed: tuple[str, ...] = ()
    #: Services the visitor turned off one by one inside categories they allow.
    excluded: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "explicit", MappingProxyType(dict(self.explicit)))
        excluded = {c: frozenset(s) for c, s in self.excluded.items() if s}
        object.__setattr__(self, "excluded", MappingProxyType(excluded))

    @classmethod
    def undecided(cls, policy: Policy) -> Consent:
        """No decision: every optional category is off."""
        return cls(policy.version, policy.optional_categories, policy.required_categories)

    @cached_property
    def pending(self) -> tuple[str, ...]:
        """Optional categories the visitor has not answered and no signal covers."""
        return tuple(c for c in self.optional if c not in self.explicit and c not in self.signal_denied)

    @property
    def decided(self) -> bool:
        """True once nothing is left to ask: every optional category is answered or signalled."""
        return not self.pending

    @property
    def has_choice(self) -> bool:
        """True when the visitor has made an explicit choice (not only sent a signal)."""
        return bool(self.explicit)

    def allows(self, category: str, service: str | None = None) -> bool:
        """Whether ``category`` (or one ``service`` of it) may be used for this visitor now.

        Raises ``ValueError`` for a category the policy does not define: a typo must not
        silently read as "not allowed" (or hide a tag forever).
        """
        if category in self.required:
            return True
        if category not in self.optional:
            known = ", ".join((*self.required, *self.optional)) or "none"
            raise ValueError(f"unknown consent category {category!r} (the policy defines: {known})")
        if category in self.signal_denied and not self.signal_recorded:
            return False
        allowed = self.explicit.get(category, False)
        if service is not None and allowed:
            return service not in self.excluded.get(category, ())
        return allowed

    @property
    def excluded_services(self) -> Mapping[str, frozenset[str]]:
        """Services turned off one by one in the categories allowed now (what blocking adds)."""
        return {c: s for c, s in self.excluded.items() if self.allows(c)}

    @property
    def choices(self) -> dict[str, bool]:
        """Every category of the policy, explicitly true or false."""
        result = dict.fromkeys(self.required, True)
        for category in self.optional:
            result[category] = self.allows(category)
        return result

    @property
    def granted(self) -> frozenset[str]:
        return frozenset(c for c in self.optional if self.allows(c))

    @cached_property
    def denied(self) -> frozenset[str]:
        return frozenset(c for c in self.optional if not self.allows(c))

    def to_json(self) -> dict[str, Any]:
        """The consent as the JSON the endpoint returns."""
        return {
            "decided": self.decided,
            "choices": self.choices,
            "pending": list(self.pending),
            "signal_denied": sorted(self.signal_denied),
            "subject_id": self.subject_id,
            "policy_version": self.policy_version,
            "method": self.method,
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
            "changed": list(self.changed),
            "excluded_services": {c: sorted(s) for c, s in self.excluded_services.items()},
        }

    # --- deciding ---

    def decide(
        self,
        action: str,
        selected: Iterable[str] = (),
        *,
        now: float | None = None,
        excluded: Mapping[str, Iterable[str]] | None = None,
    ) -> Consent:
        """The consent after the visitor's ``action`` (accept_all, reject_all, save, withdraw, embed).

        With ``save``, ``excluded`` names the services turned off inside allowed categories;
        every other action allows or refuses whole categories (``embed`` allows all of one).

        ``accept_all`` does not override an active privacy signal: the categories the signal
        covers stay off unless the visitor ticks them one by one (``save``) or grants them
        through an embed placeholder.
        """
        chosen = set(selected)
        explicit: dict[str, bool]
        if action == "accept_all":
            explicit = {c: c not in self.signal_denied or self.allows(c) for c in self.optional}
        elif action in ("reject_all", "withdraw"):
            explicit = dict.fromkeys(self.optional, False)
        elif action == "save":
            explicit = {c: c in chosen for c in self.optional}
        elif action == "embed":
            explicit = dict(self.explicit)
            explicit.update(dict.fromkeys(chosen & set(self.optional), True))
        else:
            raise ValueError(f"unknown consent action {action!r}")
        kept: dict[str, frozenset[str]] = {}
        if action == "save":
            kept = {c: frozenset(s) for c, s in (excluded or {}).items() if explicit.get(c)}
        elif action == "embed":
            kept = {c: s for c, s in self.excluded.items() if c not in chosen}
        return replace(
            self,
            explicit=explicit,
            excluded=kept,
            subject_id=self.subject_id or new_subject_id(),
            method=action,
            decided_at=datetime.fromtimestamp(int(now if now is not None else time.time()), UTC),
            signal_recorded=self.signal_recorded or bool(self.signal_denied),
            changed=(),
        )

    def with_signal(self, denied: frozenset[str]) -> Consent:
        """This consent with a privacy signal denying ``denied`` on the current request."""
        if denied == self.signal_denied:
            return self
        return replace(self, signal_denied=denied)

    @property
    def signal_unrecorded(self) -> bool:
        """A privacy signal is active and has not yet been applied and recorded for this visitor."""
        return bool(self.signal_denied) and not self.signal_recorded

    def with_signal_applied(self, *, now: float | None = None) -> Consent:
        """The consent once the active signal is honoured: its categories off, recorded, with a subject id."""
        explicit = dict(self.explicit)
        for category in self.signal_denied:
            if category in explicit:
                explicit[category] = False
        return replace(
            self,
            explicit=explicit,
            subject_id=self.subject_id or new_subject_id(),
            method=self.method or "gpc",
            decided_at=self.decided_at
            or datetime.fromtimestamp(int(now if now is not None else time.time()), UTC),
            signal_recorded=True,
        )


def audit_event(before: Consent, after: Consent) -> str:
    """Classify a decision for the audit trail: given, refused, updated or withdrawn."""
    if not before.has_choice:
        return "given" if after.granted else "refused"
    lost = before.granted - after.granted
    gained = after.granted - before.granted
    if lost and not gained:
        return "withdrawn"
    return "updated"


class _Decoded(NamedTuple):
    """A verified, parsed cookie value: what it says whatever the time (``consent`` None: no choices)."""

    consent: Consent | None
    subject: str | None
    signed_at: int
    current_version: bool


class ConsentCodec:
    """Signs and verifies the consent cookie; rotates keys (sign with the newest, verify with all)."""

    def __init__(self, secret_keys: Sequence[bytes], policy: Policy, *, cache_size: int = 4096) -> None:
        self.policy = policy
        self.max_age = policy.cookie.max_age_days * 86400
        self.serializer = URLSafeTimedSerializer(
            list(secret_keys),
            salt=_SALT,
            signer_kwargs={"key_derivation": "hmac", "digest_method": hashlib.sha256},
        )
        self._cache: dict[str, _Decoded] = {}
        self._cache_size = cache_size
        self._undecided = Consent.undecided(policy)
        self.fingerprints = category_fingerprints(policy)

    def dumps(self, consent: Consent) -> str:
        """The signed cookie value for ``consent``."""
        payload: dict[str, Any] = {
            "v": consent.policy_version,
            "s": consent.subject_id,
            "c": {c: int(v) for c, v in consent.explicit.items()},
        }
        if consent.method:
            payload["m"] = consent.method
        if consent.decided_at:
            payload["t"] = int(consent.decided_at.timestamp())
        if consent.signal_recorded:
            payload["o"] = 1
        payload["f"] = self.fingerprints  # what the visitor was shown
        if consent.excluded:
            payload["x"] = {c: sorted(s) for c, s in consent.excluded.items()}
        return self.serializer.dumps(payload)

    def _verify(self, value: str) -> tuple[dict[str, Any] | None, int]:
        """(payload, signed-at) for a good signature, (None, 0) otherwise."""
        result: tuple[dict[str, Any] | None, int]
        try:
            payload, signed = self.serializer.loads(value, return_timestamp=True)
            result = (payload if isinstance(payload, dict) else None, int(signed.timestamp()))
        except (BadSignature, ValueError, TypeError, UnicodeError):  # expiry is checked by the caller
            result = (None, 0)
        return result

    def loads(self, value: str | None, *, now: float | None = None) -> tuple[Consent, str | None]:
        """The consent in a cookie value, and a subject id worth keeping.

        Anything wrong (missing, oversized, bad signature, malformed, expired, another policy
        version) gives "no decision". A well-signed but expired or outdated cookie still
        yields its subject id, so one browser keeps one pseudonym across re-asks.
        """
        undecided = self._undecided
        if not value or len(value) > MAX_COOKIE_BYTES:
            return undecided, None
        consent, subject, signed_at, current_version = self._decode(value)
        current = now if now is not None else time.time()
        if not current_version or not (0 <= current - signed_at <= self.max_age):
            return undecided, subject
        if consent is None:
            return undecided, None
        return consent, subject

    def loads_all(self, values: Sequence[str], *, now: float | None = None) -> tuple[Consent, str | None]:
        """Several consent cookies in one request: never more than the most restrictive of them.

        A category is granted only if every cookie grants it, refused if any refuses it, and
        left unanswered (asked again) otherwise; a service turned off in any of them stays off.
        The subject id is kept only if all agree.
        """
        decoded = [self.loads(v, now=now) for v in values]
        consents = [c for c, _ in decoded]
        subjects = {s for _, s in decoded}
        subject = subjects.pop() if len(subjects) == 1 else None
        explicit: dict[str, bool] = {}
        for category in self.policy.optional_categories:
            answers = [c.explicit.get(category) for c in consents]
            if False in answers:
                explicit[category] = False
            elif all(a is True for a in answers):
                explicit[category] = True
        first = consents[0]
        excluded: dict[str, frozenset[str]] = {}
        for consent in consents:  # a service turned off in any cookie stays off
            for category, services in consent.excluded.items():
                excluded[category] = excluded.get(category, frozenset()) | services
        merged = replace(
            first,
            explicit=explicit,
            subject_id=subject,
            signal_recorded=all(c.signal_recorded for c in consents),
            changed=tuple(dict.fromkeys(c for consent in consents for c in consent.changed)),
            excluded=excluded,
        )
        return (merged if explicit else self._undecided), subject

    def _decode(self, value: str) -> _Decoded:
        """Verify and parse a cookie value; the results are cached (a Consent is immutable)."""
        hit = self._cache.get(value)
        if hit is not None:
            return hit
        payload, signed_at = self._verify(value)
        decoded = _Decoded(None, None, signed_at, False)
        if payload is not None:
            subject = payload.get("s")
            subject = subject if isinstance(subject, str) and 8 <= len(subject) <= 64 else None
            current_version = payload.get("v") == self.policy.version
            decoded = _Decoded(self._consent(payload, subject), subject, signed_at, current_version)
        if len(self._cache) >= self._cache_size:
            self._cache.pop(next(iter(self._cache)))
        self._cache[value] = decoded
        return decoded

    def _consent(self, payload: dict[str, Any], subject: str | None) -> Consent | None:
        raw_choices = payload.get("c")
        if not isinstance(raw_choices, dict) or subject is None:
            return None
        optional = self.policy.optional_categories
        explicit = {c: bool(v) for c, v in raw_choices.items() if c in optional and v in (0, 1)}
        shown = payload.get("f")
        changed: tuple[str, ...] = ()
        if isinstance(shown, dict):
            # Categories whose services, hosts or cookies changed are asked about again; the
            # choices about the others stand.
            changed = tuple(c for c in optional if shown.get(c) != self.fingerprints[c])
            explicit = {c: v for c, v in explicit.items() if c not in changed}
        raw_excluded = payload.get("x")
        excluded: dict[str, frozenset[str]] = {}
        if isinstance(raw_excluded, dict):
            for category, names in raw_excluded.items():
                known = self.policy.categories[category].services if category in explicit else {}
                if isinstance(names, list):
                    excluded[category] = frozenset(n for n in names if isinstance(n, str) and n in known)
        method = payload.get("m")
        decided = payload.get("t")
        return Consent(
            policy_version=self.policy.version,
            optional=optional,
            required=self.policy.required_categories,
            explicit=explicit,
            subject_id=subject,
            method=method if method in METHODS else None,
            decided_at=datetime.fromtimestamp(decided, UTC)
            if isinstance(decided, int) and decided > 0
            else None,
            signal_recorded=payload.get("o") == 1,
            changed=changed,
            excluded=excluded,
        )
