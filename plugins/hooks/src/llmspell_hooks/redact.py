"""Private helpers of the logging, metrics and trace hooks.

- :func:`redact` / :func:`redact_text` / :func:`summarize`: secrets out of anything logged.
  A text longer than :data:`MAX_TEXT` is cut (its last, possibly cut, word dropped) before any
  regular expression runs, and the expressions match in linear time: a megabyte of error
  message costs about as much as :data:`MAX_TEXT` characters.
  A value is replaced by ``"[REDACTED]"`` when it sits under a key named like a secret
  (``api_key``, ``Authorization``, ``access_token``, ``client_secret``, ``password``,
  ``Cookie`` ...), when it has the shape of a known credential (``sk-...``, ``sk-ant-...``,
  ``AIza...``, ``Bearer ...``, ``ghp_...``, ``xoxb-...``, ``AKIA...``), when it follows a
  secret-named key inside a text (``api_key=...``, ``"token": "..."``), or when it is the
  current value of an environment variable whose name looks secret (``..._KEY``,
  ``..._TOKEN``, ``..._SECRET``, ``...PASSWORD...``).
- :class:`PerKernel`: per-kernel state of a hook module (a ``WeakKeyDictionary`` with a
  one-entry cache in front, for the hot path); :func:`rename` to share one hook body.
- :func:`setting_path` and :func:`check_level`: settings shared by the three hooks.
"""

from __future__ import annotations

import functools
import json
import os
import re
import types
import weakref
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, Generic, TextIO, TypeVar

REDACTED = "[REDACTED]"
#: nested values deeper than this are cut (and cycles with them)
MAX_DEPTH = 24
#: environment values shorter than this are not searched for (``1``, ``true`` ...)
MIN_ENV_SECRET = 6
#: texts are cut to this many characters before they are redacted
MAX_TEXT = 4096
#: when a text is cut, its last word (up to this many characters) goes too: a secret cut in
#: two no longer has the shape that would have redacted it
_CUT_WORD = 256

# --- keys -------------------------------------------------------------------------------------

#: a word of a key that makes its value a secret
_SECRET_WORDS = frozenset({
    "token", "secret", "secrets", "password", "passwd", "passphrase", "cookie", "cookies",
    "authorization", "auth", "apikey", "credential", "credentials", "privatekey",
})
#: run-together words ending like this are secret too (``csrftoken``, ``clientsecret``)
_SECRET_ENDINGS = ("token", "secret", "password", "passwd", "apikey")
#: ``<word> key`` pairs naming a secret (``api_key``, ``X-Api-Key``, ``privateKey``)
_KEY_PREFIXES = frozenset({
    "api", "private", "access", "secret", "signing", "encryption", "master", "client",
    "session", "auth",
})
_WORDS = r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+"

# The regular expressions are compiled on first use (about 3 ms, which every ``llmspell run``
# would pay at start-up for the logging hook, though a run that logs nothing needs none).


@functools.cache
def _pattern(source: str) -> re.Pattern[str]:
    return re.compile(source)


@functools.lru_cache(maxsize=4096)
def secret_key(name: str) -> bool:
    """Whether a key called ``name`` holds a secret (``api_key``, ``Authorization``,
    ``githubToken``, ``client-secret``; not ``max_tokens`` or ``key``)."""
    words = [w.lower() for w in _pattern(_WORDS).findall(name)]
    for i, word in enumerate(words):
        if word in _SECRET_WORDS or word.endswith(_SECRET_ENDINGS):
            return True
        if word == "key" and i > 0 and words[i - 1] in _KEY_PREFIXES:
            return True
    return False


# --- texts ------------------------------------------------------------------------------------

#: credentials recognisable by their shape alone
_SHAPES = (
    r"(?<![A-Za-z0-9])sk-ant-[A-Za-z0-9_\-]{8,}"  # Anthropic
    r"|(?<![A-Za-z0-9])sk-[A-Za-z0-9_\-]{16,}"  # OpenAI (sk-..., sk-proj-...)
    r"|AIza[0-9A-Za-z_\-]{20,}"  # Google
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"  # GitHub
    r"|xox[abposr]-[A-Za-z0-9\-]{10,}"  # Slack
    r"|AKIA[0-9A-Z]{16}"  # AWS access key id
)
_BEARER = r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/\-]+=*"
#: ``secret_name = value`` / ``"secret_name": "value"`` inside a text (headers, URLs, reprs,
#: JSON); an ``Authorization`` value may start with its scheme
_KEY_VALUE = (
    r"""(?ix)
    # a key starts a word (and the whole word is taken at once, no backtracking into it): the
    # expression runs in linear time, even over one long word
    (?<![\w\-])
    ( ["']? (?>[\w\-]*? (?:api[_\-]?key|token(?!s)|secret|passw(?:or)?d|authorization|cookie)
      [\w\-]*) ["']? \s* [:=] \s* )
    ( (?:(?:bearer|basic|token|digest)\s+)?
      (?:\[REDACTED\]|"[^"]*"|'[^']*'|[^\s,;&'"}\]\)]+) )
    """
)

#: environment variables whose values are secrets
_ENV_NAME = r"(?i)(?:^|_)(?:KEY|TOKEN|SECRET|APIKEY)$|PASSWORD|PASSWD"
_extra_env_names: set[str] = set()
#: (len(os.environ), {name: value}, values longest first)
_env_cache: tuple[int, dict[str, str], tuple[str, ...]] | None = None


def add_secret_env_names(names: Iterable[str]) -> None:
    """Treat the values of these environment variables as secrets too (the ``api_key_env`` of
    configured providers)."""
    global _env_cache
    for name in names:
        if name not in _extra_env_names:
            _extra_env_names.add(name)
            _env_cache = None


def env_secrets() -> tuple[str, ...]:
    """The current values of secret-looking environment variables, longest first."""
    global _env_cache
    env = os.environ
    cached = _env_cache
    if cached is not None and cached[0] == len(env):
        for name, value in cached[1].items():
            if env.get(name) != value:
                break
        else:
            return cached[2]
    secret_name = _pattern(_ENV_NAME).search
    found = {
        name: value
        for name, value in env.items()
        if (secret_name(name) or name in _extra_env_names)
        and len(value) >= MIN_ENV_SECRET
    }
    values = tuple(sorted(set(found.values()), key=len, reverse=True))
    _env_cache = (len(env), found, values)
    return values


def _key_value(match: re.Match[str]) -> str:
    value = match.group(2)
    quote = value[0] if value[:1] in ("'", '"') else ""
    return f"{match.group(1)}{quote}{REDACTED}{quote}"


def bounded(text: str, limit: int = MAX_TEXT) -> str:
    """``text`` cut to about ``limit`` characters, ending with ``…`` when cut. The cut drops the
    last word too (back to a space, at most 256 characters): a secret cut in two would lose the
    shape or the length that redacts it."""
    if len(text) <= limit:
        return text
    cut = text[:limit]
    tail = cut[-_CUT_WORD:]
    space = max(tail.rfind(" "), tail.rfind("\n"), tail.rfind("\t"))
    return cut[: len(cut) - len(tail) + max(space, 0)] + "…"


def redact_text(text: str) -> str:
    """``text`` with every recognisable secret replaced by ``[REDACTED]``; a text longer than
    :data:`MAX_TEXT` is cut first (see :func:`bounded`)."""
    if len(text) > MAX_TEXT:
        text = bounded(text)
    for value in env_secrets():
        if value in text:
            text = text.replace(value, REDACTED)
    text = _pattern(_SHAPES).sub(REDACTED, text)
    text = _pattern(_BEARER).sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    return _pattern(_KEY_VALUE).sub(_key_value, text)


# --- values -----------------------------------------------------------------------------------


def redact(value: Any, _depth: int = 0) -> Any:
    """``value`` as JSON-like data (dicts with string keys, lists, strings, numbers, booleans,
    ``None``) with every recognisable secret replaced by ``[REDACTED]``. Objects become data
    through their ``to_dict()``, their attrs or dataclass fields, else their ``repr``."""
    if isinstance(value, str):
        return redact_text(value)
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if _depth >= MAX_DEPTH:
        return "..."
    depth = _depth + 1
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = key if isinstance(key, str) else str(key)
            out[redact_text(name)] = REDACTED if secret_key(name) else redact(item, depth)
        return out
    if isinstance(value, (list, tuple, set, frozenset)):
        return [redact(item, depth) for item in value]
    if isinstance(value, (bytes, bytearray, memoryview)):
        return f"<{len(value)} bytes>"
    if isinstance(value, BaseException):
        to_dict = getattr(value, "to_dict", None)
        if callable(to_dict):
            return redact(to_dict(), depth)
        return redact_text(f"{type(value).__name__}: {value}")
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not isinstance(value, type):
        try:
            return redact(to_dict(), depth)
        except Exception:  # a to_dict that needs arguments, or fails: fall back to the fields
            pass
    fields = _fields(value)
    if fields is not None:
        return redact(fields, depth)
    return redact_text(repr(value))


def _fields(value: Any) -> dict[str, Any] | None:
    """The fields of an attrs or dataclass instance (not recursively), else ``None``."""
    cls = type(value)
    attrs_fields = getattr(cls, "__attrs_attrs__", None)
    if attrs_fields is not None:
        return {f.name: getattr(value, f.name, None) for f in attrs_fields}
    dc_fields = getattr(cls, "__dataclass_fields__", None)
    if dc_fields is not None:
        return {name: getattr(value, name, None) for name in dc_fields}
    return None


def truncate(text: str, max_chars: int) -> str:
    """``text`` cut to ``max_chars`` characters (the last one an ellipsis)."""
    if len(text) <= max_chars:
        return text
    return text[: max(0, max_chars - 1)] + "…"


def summarize(value: Any, max_chars: int) -> str:
    """A one-line, redacted, truncated text of ``value`` (compact JSON, or the text itself)."""
    data = redact(value)
    if isinstance(data, str):
        text = data
    else:
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    return truncate(text, max_chars)


# --- per-kernel state -------------------------------------------------------------------------

S = TypeVar("S")


def _dead() -> None:
    return None


class PerKernel(Generic[S]):
    """The state of one hook module for each kernel that loaded it.

    The hot path reads the one-entry cache in front of the ``WeakKeyDictionary`` itself::

        st = states.state if states.ref() is kernel else states.lookup(kernel)
    """

    __slots__ = ("_states", "ref", "state")

    def __init__(self) -> None:
        self._states: weakref.WeakKeyDictionary[Any, S] = weakref.WeakKeyDictionary()
        #: the kernel looked up last (a weak reference) and its state
        self.ref: Callable[[], Any] = _dead
        self.state: S | None = None

    def set(self, kernel: Any, state: S) -> None:
        self._states[kernel] = state
        self.ref, self.state = _dead, None

    def of(self, kernel: Any) -> S | None:
        return self._states.get(kernel)

    def lookup(self, kernel: Any) -> S | None:
        state = self._states.get(kernel)
        if state is not None:
            self.ref, self.state = weakref.ref(kernel), state
        return state

    def get(self, ctx: Any) -> S | None:
        """The state of the kernel of ``ctx``'s run (``None`` outside a run, or for a kernel
        that did not configure the hook)."""
        run = ctx.run
        if run is None:
            return None
        kernel = run.kernel
        return self.state if self.ref() is kernel else self.lookup(kernel)


def rename(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    """A copy of function ``fn`` called ``name``: one body serves as the implementation of
    several hooks (pluggy finds implementations by name) without a call in between."""
    copy = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__,
                              fn.__closure__)
    copy.__qualname__ = name
    copy.__doc__ = fn.__doc__
    copy.__module__ = fn.__module__
    return copy


# --- settings ---------------------------------------------------------------------------------

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "critical": 50}


def check_level(table: Any, key: str, default: str) -> int:
    """The logging level named by setting ``key`` (``debug`` ... ``critical``)."""
    from llmspell.errors import did_you_mean

    name = table.get(key, str, default)
    level = LEVELS.get(name.lower())
    if level is None:
        raise table.error(key, f"must be one of {', '.join(LEVELS)}, got {name!r}"
                          + did_you_mean(name.lower(), LEVELS))
    return level


def setting_path(table: Any, key: str) -> Path | None:
    """The file named by setting ``key``: ``~`` expanded, relative to the configuration file
    that set it (else to the current directory); its directory must exist."""
    value = table.get(key, str, "")
    if not value:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute():
        base = Path(table.source).parent if table.source is not None else Path.cwd()
        path = base / path
    path = Path(os.path.abspath(path))
    if not path.parent.is_dir():
        raise table.error(key, f"names a file in a directory that does not exist: {path.parent}")
    if path.is_dir():
        raise table.error(key, f"names a directory, not a file: {path}")
    return path


def append_file(table: Any, key: str, kernel: Any) -> TextIO | None:
    """The file named by setting ``key`` (see :func:`setting_path`), opened for appending
    lines and kept open while ``kernel`` lives; ``None`` when the setting is empty."""
    path = setting_path(table, key)
    if path is None:
        return None
    try:
        file = open(path, "a", encoding="utf-8", buffering=1)
    except OSError as exc:
        raise table.error(key, f"cannot be opened: {exc.strerror}") from None
    weakref.finalize(kernel, file.close)
    return file


def positive_int(table: Any, key: str, default: int) -> int:
    value = table.get(key, int, default)
    if value <= 0:
        raise table.error(key, f"must be greater than 0, got {value!r}")
    return value
