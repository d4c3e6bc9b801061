"""State scopes (``spell``, ``global``, ``session:<id>`` ...) and state keys: parsing and checks."""

from __future__ import annotations

import functools
import re

import attrs

from llmspell.errors import LlmspellError, did_you_mean

#: Scope kinds that stand alone: ``spell`` (this run) and ``global`` (every run).
BARE_KINDS: tuple[str, ...] = ("spell", "global")
#: Scope kinds that take a name after a colon: ``session:<id>``, ``agent:<name>`` ...
NAMED_KINDS: tuple[str, ...] = ("session", "agent", "workflow")
#: Every valid scope form, as shown in error messages.
VALID_SCOPE_FORMS: tuple[str, ...] = (
    "spell",
    "global",
    "session:<id>",
    "agent:<name>",
    "workflow:<name>",
)
#: The id or name part of a named scope.
SCOPE_NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,128}")
#: Longest state key, in characters.
MAX_KEY_LENGTH = 512

_CONTROL = r"[\x00-\x1f\x7f-\x9f]"
_SURROGATE = r"[\ud800-\udfff]"


def _scope_error(scope: object, problem: str) -> LlmspellError:
    forms = ", ".join(VALID_SCOPE_FORMS)
    return LlmspellError(
        "invalid_value",
        f"invalid state scope {scope!r}: {problem}; valid forms are {forms} "
        "(id/name: 1-128 characters of A-Z a-z 0-9 _ . -)",
        {
            "scope": repr(scope) if not isinstance(scope, str) else scope,
            "valid_forms": list(VALID_SCOPE_FORMS),
        },
    )


@attrs.frozen
class Scope:
    """A validated scope: ``kind`` plus ``name`` for the named kinds, ``None`` for bare ones.

    Constructing an invalid scope raises ``invalid_value``. ``str(scope)`` is the canonical text
    form (``"global"``, ``"agent:writer"``) that backends store.
    """

    kind: str
    name: str | None = None

    def __attrs_post_init__(self) -> None:
        text = self.kind if self.name is None else f"{self.kind}:{self.name}"
        if self.kind in BARE_KINDS:
            if self.name is not None:
                raise _scope_error(text, f"{self.kind!r} takes no name")
        elif self.kind in NAMED_KINDS:
            if self.name is None or not SCOPE_NAME_RE.fullmatch(self.name):
                raise _scope_error(text, f"{self.kind!r} needs an id/name after the colon")
        else:
            guess = did_you_mean(self.kind, (*BARE_KINDS, *NAMED_KINDS))
            suggestion = f" ({guess[2:]})" if guess.startswith("; did you mean") else ""
            raise _scope_error(text, f"unknown scope kind {self.kind!r}{suggestion}")

    def __str__(self) -> str:
        return self.kind if self.name is None else f"{self.kind}:{self.name}"


def parse_scope(scope: str | Scope) -> Scope:
    """Parse a scope string (or pass a :class:`Scope` through).

    Raises ``invalid_value`` naming the scope and listing the valid forms when ``scope`` is not
    one of ``spell``, ``global``, ``session:<id>``, ``agent:<name>``, ``workflow:<name>``.
    """
    if isinstance(scope, Scope):
        return scope
    if not isinstance(scope, str):
        raise _scope_error(scope, f"a scope is a string, not {type(scope).__name__}")
    return _parse_text(scope)


@functools.lru_cache(maxsize=1024)
def _parse_text(scope: str) -> Scope:
    """Parse a scope string; valid ones are cached (errors are raised, never cached)."""
    kind, colon, name = scope.partition(":")
    if not colon:
        if kind in NAMED_KINDS:
            raise _scope_error(scope, f"{kind!r} needs an id/name after a colon")
        return Scope(kind)
    return Scope(kind, name)


#: canonical text of valid scope strings seen (a state read looks its scope up here)
_TEXTS: dict[str, str] = {}
_MAX_TEXTS = 1024


def scope_text(scope: str | Scope) -> str:
    """The canonical text of a scope; raises ``invalid_value`` like :func:`parse_scope`."""
    if type(scope) is str:
        text = _TEXTS.get(scope)
        if text is None:
            text = str(_parse_text(scope))  # raises for an invalid one (never cached)
            if len(_TEXTS) < _MAX_TEXTS:
                _TEXTS[scope] = text
        return text
    return str(parse_scope(scope))


def _key_error(key: object, problem: str) -> LlmspellError:
    shown = key if not isinstance(key, str) or len(key) <= 60 else key[:60] + "..."
    return LlmspellError(
        "invalid_value",
        f"invalid state key {shown!r}: {problem}",
        {"key": shown if isinstance(shown, str) else repr(shown), "problem": problem},
        hint=f"keys are non-empty strings of at most {MAX_KEY_LENGTH} characters "
        "without control characters",
    )


def check_key(key: object) -> str:
    """Return ``key`` if it is a valid state key, else raise ``invalid_value`` naming it.

    A key is a non-empty ``str`` of at most :data:`MAX_KEY_LENGTH` characters with no control
    characters (U+0000-U+001F, U+007F-U+009F) and no lone surrogates.
    """
    # the common case at C speed: printable ASCII is exactly U+0020-U+007E
    if type(key) is str and key.isascii() and key.isprintable() and 0 < len(key) <= MAX_KEY_LENGTH:
        return key
    if not isinstance(key, str):
        raise _key_error(key, f"a key is a string, not {type(key).__name__}")
    if not key:
        raise _key_error(key, "a key must not be empty")
    if len(key) > MAX_KEY_LENGTH:
        raise _key_error(key, f"{len(key)} characters long; the limit is {MAX_KEY_LENGTH}")
    bad = re.search(_CONTROL, key)  # compiled on first use (re caches it)
    if bad:
        raise _key_error(key, f"contains the control character U+{ord(bad.group()):04X}")
    if re.search(_SURROGATE, key):
        raise _key_error(key, "contains a lone surrogate (not valid Unicode)")
    return key
