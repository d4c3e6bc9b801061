"""Every hook of llmspell, with its contract. A plugin implements any subset of them.

Two kinds of hooks:

**Registration hooks** are called once, when the kernel loads its plugins. Each receives a
registry and adds components to it; the kernel records which plugin added what. An
implementation may also take ``config``: the merged ``llmspell.toml``
(:class:`llmspell.config.Config`) — e.g. a provider plugin reads ``config.provider("openai")``.

**Lifecycle hooks** are called around every operation of a run. Each receives one
:class:`llmspell.lifecycle.HookContext` (``ctx``) and returns ``None`` to continue, or an action
from :mod:`llmspell.lifecycle`:

=====================  =========================================================
point                  actions it may return
=====================  =========================================================
``before_*``           ``Modify(input)``, ``Skip(result)``, ``Cancel(reason)``
``after_*``            ``Modify(output)``, ``Cancel(reason)``, ``Retry(reason)``
``on_error``           ``Skip(result)`` (recover), ``Retry(reason)``
``spell_start``        ``Modify(input)`` (the spell's args), ``Cancel(reason)``
``spell_end``          ``Modify(output)``
=====================  =========================================================

Implementations may be plain or ``async`` functions. They run one after another in priority order
(higher ``priority`` first; see :func:`llmspell.lifecycle.hookimpl`); a ``Modify`` is visible to the
hooks after it, and ``Skip``/``Cancel``/``Retry`` end the chain. An exception raised by a hook
fails the operation (fail closed): an :class:`~llmspell.errors.LlmspellError` as it is, anything
else as ``plugin_error`` naming the hook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click

    from llmspell.config import Config
    from llmspell.kernel import Kernel
    from llmspell.lifecycle import HookContext
    from llmspell.registry import Registry
    from llmspell.runtime import SpellRun
    from llmspell.tools import Tool, ToolRegistry

PROJECT = "llmspell"
hookspec = pluggy.HookspecMarker(PROJECT)


# --- registration hooks -----------------------------------------------------------------------


@hookspec
def llmspell_register_tools(registry: ToolRegistry, config: Config) -> None:
    """Add :class:`llmspell.tools.Tool` objects with ``registry.register(tool)``."""


@hookspec
def llmspell_register_agents(registry: Registry[Any], config: Config) -> None:
    """Add agent types: ``registry.add(name, factory)`` where ``factory(**spec) -> Agent``."""


@hookspec
def llmspell_register_providers(registry: Registry[Any], config: Config) -> None:
    """Add model providers: ``registry.add(name, provider)``; ``name`` is the prefix of model
    strings such as ``name/model``."""


@hookspec
def llmspell_register_engines(registry: Registry[Any], config: Config) -> None:
    """Add script engines: ``registry.add(name, engine)``; ``engine.extensions`` lists the file
    extensions (``".lua"``) it runs."""


@hookspec
def llmspell_register_workflows(registry: Registry[Any], config: Config) -> None:
    """Add workflow kinds: ``registry.add(name, factory)`` where ``factory(**spec) -> Workflow``."""


@hookspec
def llmspell_register_commands(group: click.Group) -> None:
    """Add ``click`` commands to the ``llmspell`` command line with ``group.add_command(cmd)``."""


@hookspec
def llmspell_configure(config: Config, kernel: Kernel) -> None:
    """Called once when the plugin is loaded, after its registration hooks, with the merged
    ``llmspell.toml`` (its own settings are ``config.plugin(NAME)``) and the kernel. A plugin
    with lifecycle hooks reads its settings here; a ``config_error`` raised here reaches the
    user, any other exception withdraws the plugin (see ``kernel.failures``)."""


# --- lifecycle hooks --------------------------------------------------------------------------


@hookspec
def llmspell_before_agent(ctx: HookContext) -> Any:
    """Before an agent runs. ``ctx.name`` is the agent, ``ctx.input`` its input."""


@hookspec
def llmspell_after_agent(ctx: HookContext) -> Any:
    """After an agent ran. ``ctx.output`` is its :class:`llmspell.messages.Result`."""


@hookspec
def llmspell_before_llm_call(ctx: HookContext) -> Any:
    """Before a provider call. ``ctx.name`` is the model string, ``ctx.input`` the
    :class:`llmspell.providers.ChatRequest`. ``Skip(response)`` answers without the provider."""


@hookspec
def llmspell_after_llm_call(ctx: HookContext) -> Any:
    """After a provider call. ``ctx.output`` is the :class:`llmspell.providers.ChatResponse`."""


@hookspec
def llmspell_before_tool_call(ctx: HookContext) -> Any:
    """Before a tool runs. ``ctx.name`` is the tool, ``ctx.input`` its argument object (not yet
    validated: a ``Modify`` is validated like the original)."""


@hookspec
def llmspell_after_tool_call(ctx: HookContext) -> Any:
    """After a tool ran. ``ctx.output`` is its JSON result."""


@hookspec
def llmspell_before_workflow(ctx: HookContext) -> Any:
    """Before a workflow runs. ``ctx.name`` is the workflow, ``ctx.input`` its input."""


@hookspec
def llmspell_after_workflow(ctx: HookContext) -> Any:
    """After a workflow ran. ``ctx.output`` is its result."""


@hookspec
def llmspell_before_workflow_step(ctx: HookContext) -> Any:
    """Before one attempt of a workflow step (a step with ``retry`` is hooked once per attempt;
    ``ctx.metadata["attempt"]`` counts from 1). ``ctx.name`` is ``workflow/step``, ``ctx.input``
    the step input."""


@hookspec
def llmspell_after_workflow_step(ctx: HookContext) -> Any:
    """After one attempt of a workflow step. ``ctx.output`` is the step output."""


@hookspec
def llmspell_before_state_write(ctx: HookContext) -> Any:
    """Before a state write. ``ctx.name`` is ``scope/key``, ``ctx.input`` the new value
    (``ctx.metadata["op"]`` is ``"set"`` or ``"delete"``)."""


@hookspec
def llmspell_after_state_write(ctx: HookContext) -> Any:
    """After a state write."""


@hookspec
def llmspell_before_event_emit(ctx: HookContext) -> Any:
    """Before an event is published. ``ctx.name`` is the topic, ``ctx.input`` the data."""


@hookspec
def llmspell_after_event_emit(ctx: HookContext) -> Any:
    """After an event was published. ``ctx.output`` is the :class:`llmspell.events.Event`."""


@hookspec
def llmspell_spell_start(ctx: HookContext) -> Any:
    """A spell run starts. ``ctx.name`` is the spell file, ``ctx.input`` its arguments."""


@hookspec
def llmspell_spell_end(ctx: HookContext) -> Any:
    """A spell run ended. ``ctx.output`` is its result, ``ctx.error`` its error if it failed."""


@hookspec
def llmspell_on_error(ctx: HookContext) -> Any:
    """An operation failed. ``ctx.error`` is the :class:`~llmspell.errors.LlmspellError`,
    ``ctx.kind``/``ctx.name`` say which operation; ``Skip(result)`` recovers with a result and
    ``Retry`` runs the operation again (bounded by the policy's ``max_hook_retries``)."""


# --- approval ---------------------------------------------------------------------------------


@hookspec
def llmspell_approve_tool(tool: Tool, args: dict[str, Any], run: SpellRun) -> bool | None:
    """Decide whether ``tool`` may run with ``args`` when the run's policy says it needs a
    person's approval (see :meth:`llmspell.security.SecurityPolicy.needs_approval`).

    Return ``True`` to approve, ``False`` to refuse, ``None`` to leave the decision to the next
    implementation and finally to the run's approver (the CLI asks on the terminal). May be
    ``async``. Implementations are asked in priority order; the first ``True``/``False`` wins.
    """
