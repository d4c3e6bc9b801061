"""Tools: named, described, schema-checked async functions that spells and agents call."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import attrs

from llmspell.errors import LlmspellError
from llmspell.registry import Registry, check_name

if TYPE_CHECKING:
    from llmspell.runtime import SpellRun

#: Permissions a tool may declare; the run's security policy decides whether it may use them.
PERMISSIONS = frozenset({"fs_read", "fs_write", "network", "process", "env"})

ToolFunction = Callable[[dict[str, Any], "ToolContext"], Awaitable[Any]]

EMPTY_OBJECT_SCHEMA: dict[str, Any] = {"type": "object", "properties": {}}


@attrs.define(frozen=True)
class ToolContext:
    """What a running tool may use: the run (policy, state, events) and the call's identity."""

    run: SpellRun
    tool: Tool
    call_id: str

    @property
    def policy(self) -> Any:
        return self.run.policy


def _check_permissions(instance: Any, __: Any, value: frozenset[str]) -> None:
    unknown = sorted(value - PERMISSIONS)
    if unknown:
        raise LlmspellError(
            "invalid_value",
            f"tool {instance.name!r}: unknown permission(s) {unknown}; "
            f"known: {sorted(PERMISSIONS)}",
            {"tool": instance.name},
        )


@attrs.define(eq=False)
class Tool:
    """A tool: ``run(args, ctx)`` is awaited with arguments that passed ``parameters``.

    ``parameters`` is a JSON schema of an object (draft 2020-12). ``permissions``
    declares what the tool needs (see :data:`PERMISSIONS`); ``requires_approval`` marks a
    destructive tool that the policy may require a human to approve. ``example`` is an argument
    object shown by ``llmspell tools info``. ``parameters`` must be an object schema; the
    full JSON-schema check happens on first use (:meth:`check_schema`).
    """

    name: str = attrs.field(validator=lambda _, __, v: check_name("tool", v))
    description: str
    run: ToolFunction
    parameters: dict[str, Any] = attrs.field(factory=lambda: dict(EMPTY_OBJECT_SCHEMA))
    category: str = "general"
    permissions: frozenset[str] = attrs.field(
        default=frozenset(), converter=frozenset, validator=_check_permissions
    )
    requires_approval: bool = False
    example: dict[str, Any] | None = None
    _validator: Any = attrs.field(init=False, repr=False, default=None)
    _trivial: bool = attrs.field(init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.parameters, dict) or self.parameters.get("type") != "object":
            raise LlmspellError(
                "invalid_value",
                f"tool {self.name!r}: parameters must be a JSON schema with \"type\": \"object\"",
                {"tool": self.name},
            )
        self._trivial = set(self.parameters) <= {"type", "properties"} and not self.parameters.get(
            "properties"
        )

    def check_schema(self) -> Any:
        """The compiled validator of ``parameters``; ``invalid_value`` naming the tool if they
        are not a valid JSON schema. Done on first use, so that loading plugins does not pay
        for jsonschema; call it to check a tool up front."""
        if self._validator is None:
            from jsonschema import Draft202012Validator
            from jsonschema.exceptions import SchemaError

            try:
                Draft202012Validator.check_schema(self.parameters)
            except SchemaError as exc:
                raise LlmspellError(
                    "invalid_value",
                    f"tool {self.name!r}: parameters are not a valid JSON schema: {exc.message}",
                    {"tool": self.name},
                ) from None
            self._validator = Draft202012Validator(self.parameters)
        return self._validator

    def validate(self, args: Any) -> dict[str, Any]:
        """Return ``args`` if they match ``parameters``; else raise ``invalid_args`` naming the
        tool and the offending argument."""
        if not isinstance(args, dict):
            raise LlmspellError(
                "invalid_args",
                f"tool {self.name!r}: arguments must be an object, got {type(args).__name__}",
                {"tool": self.name},
            )
        if self._trivial:
            return args
        from jsonschema.exceptions import best_match

        error = best_match(self.check_schema().iter_errors(args))
        if error is None:
            return args
        path = "/".join(str(p) for p in error.absolute_path)
        if error.validator == "required" or not path:
            where = ""
        else:
            where = f"argument {path!r}: "
        raise LlmspellError(
            "invalid_args",
            f"tool {self.name!r}: {where}{error.message}",
            {"tool": self.name, "argument": path or None, "rule": str(error.validator)},
        )

    def spec(self) -> dict[str, Any]:
        """The tool as JSON data (what ``Tool.info`` and model providers see)."""
        return {
            "name": self.name,
            "description": self.description,
            "parameters": self.parameters,
            "category": self.category,
            "permissions": sorted(self.permissions),
            "requires_approval": self.requires_approval,
            "example": self.example,
        }


def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    parameters: dict[str, Any] | None = None,
    category: str = "general",
    permissions: Iterable[str] = frozenset(),
    requires_approval: bool = False,
    example: dict[str, Any] | None = None,
) -> Callable[[ToolFunction], Tool]:
    """Decorate ``async def fn(args, ctx)`` into a :class:`Tool` (name and description default to
    the function's name and docstring)."""

    def make(fn: ToolFunction) -> Tool:
        return Tool(
            name=name or fn.__name__,
            description=description or (fn.__doc__ or "").strip(),
            run=fn,
            parameters=parameters if parameters is not None else dict(EMPTY_OBJECT_SCHEMA),
            category=category,
            permissions=permissions,  # type: ignore[arg-type]  # the converter takes it
            requires_approval=requires_approval,
            example=example,
        )

    return make


@attrs.define(frozen=True)
class ToolRef:
    """A tool registered by name and imported on first use: ``target`` is ``"module:attr"``
    naming the :class:`Tool`, or a function of no arguments returning it."""

    name: str
    target: str | Callable[[], Tool]

    def load(self) -> Tool:
        """Import (or build) the tool; ``plugin_error`` if it is not the tool of that name."""
        try:
            if callable(self.target):
                found: Any = self.target()
            else:
                import importlib

                module, _, attr = self.target.partition(":")
                found = getattr(importlib.import_module(module), attr)
        except LlmspellError:
            raise
        except Exception as exc:
            raise LlmspellError(
                "plugin_error",
                f"tool {self.name!r} could not be loaded from {self.target!r}: "
                f"{type(exc).__name__}: {exc}",
                {"tool": self.name},
            ) from exc
        if not isinstance(found, Tool) or found.name != self.name:
            raise LlmspellError(
                "plugin_error",
                f"{self.target!r} is not the tool {self.name!r}: {found!r}",
                {"tool": self.name},
            )
        return found


class ToolRegistry(Registry[Tool]):
    """The registry of tools; ``register(tool)`` adds one under its own name,
    ``register_lazy(name, target)`` one that is imported when it is first looked up (so that
    loading a plugin does not import every tool's code: start-up time)."""

    def __init__(self) -> None:
        super().__init__("tool")

    def register(self, tool: Tool, *, replace: bool = False) -> Tool:
        return self.add(tool.name, tool, replace=replace)

    def register_lazy(
        self, name: str, target: str | Callable[[], Tool], *, replace: bool = False
    ) -> None:
        """Register tool ``name``, defined at ``target`` (``"module:attr"`` or a function
        returning it), without importing it now. Looking it up imports it; a target that is
        not the tool of that name is a ``plugin_error``."""
        self.add(name, ToolRef(name, target), replace=replace)  # type: ignore[arg-type]

    def get(self, name: str) -> Tool:
        item: Tool | ToolRef = super().get(name)
        if isinstance(item, ToolRef):
            item = item.load()
            self._items[name] = item
        return item

    def remove(self, name: str) -> Tool:
        """Remove ``name`` without importing it if it was never looked up (the returned value
        is then its :class:`ToolRef`)."""
        if name not in self._items:
            super().get(name)  # not_found with a suggestion
        del self._owners[name]
        return self._items.pop(name)

    def owner(self, name: str) -> str:
        if name not in self._items:
            super().get(name)  # not_found with a suggestion
        return self._owners[name]

    def values(self) -> list[Tool]:
        return [self.get(n) for n in self.names()]

    def filter(self, category: str | None = None, text: str | None = None) -> list[Tool]:
        """Tools of ``category`` whose name or description contains ``text`` (case-folded)."""
        return [t for t in self.values() if matches(t, category, text)]


def matches(tool: Tool, category: str | None = None, text: str | None = None) -> bool:
    """Whether ``tool`` is of ``category`` and its name or description contains ``text``
    (case-folded); ``None`` matches anything."""
    if category is not None and tool.category != category:
        return False
    return not text or text.casefold() in (tool.name + " " + tool.description).casefold()
