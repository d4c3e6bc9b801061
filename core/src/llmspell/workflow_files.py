"""Workflows declared in a file and run by ``llmspell run FILE``: TOML always, YAML when PyYAML
is installed. The schema is the one of the spells' ``Workflow.*`` tables
(:mod:`llmspell.workflow_specs`) with file-shaped step targets; docs/workflow-files.md has a
complete example.

- top level: ``kind`` (required: ``sequential``, ``parallel``, ``conditional``, ``loop``), the
  keys of that kind, and ``agents`` (a table of named agent tables that steps refer to by name);
- a step's target: ``agent = "name"`` or ``agent = {name, model, instructions, description,
  tools, output_schema, temperature, max_turns}``, ``tool = "name"`` (with ``args`` and
  ``input_arg``), or ``workflow = {kind, ...}`` (a nested workflow);
- predicates are condition tables (:mod:`llmspell.conditions`).

Every malformed entry is a ``config_error`` naming the file and the key path (with a
did-you-mean for misspelt keys and names).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import attrs

from llmspell.agents import LLMAgent, agent_tool
from llmspell.artifacts import ArtifactStore, default_artifacts_path
from llmspell.errors import LlmspellError, did_you_mean
from llmspell.kernel import Kernel
from llmspell.runtime import Approver, SpellRun
from llmspell.security import SecurityPolicy
from llmspell.specpath import Where, describe
from llmspell.state import MemoryBackend, SqliteBackend, StateBackend, default_state_path
from llmspell.tools import Tool
from llmspell.workflow_specs import KINDS, build_workflow
from llmspell.workflows import Workflow

#: The engine name under which runs of workflow files are recorded (:mod:`llmspell.runlog`).
WORKFLOW_ENGINE = "workflow"
TOML_SUFFIXES = (".toml",)
YAML_SUFFIXES = (".yaml", ".yml")
FILE_KEYS = ("kind", "agents")
AGENT_KEYS = ("name", "model", "instructions", "description", "tools", "output_schema",
              "temperature", "max_turns")


def read_workflow_file(path: Path) -> Any:
    """The data of a TOML or YAML workflow file; ``not_found`` or ``config_error`` naming the
    file (and the line, for syntax errors)."""
    return parse_workflow_text(path, read_workflow_text(path))


def read_workflow_text(path: Path) -> str:
    """The text of a workflow file; ``not_found`` or ``config_error`` naming the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LlmspellError("not_found", f"workflow file {str(path)!r} does not exist",
                            {"path": str(path)}) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LlmspellError("config_error", f"cannot read workflow file {str(path)!r}: {exc}",
                            {"file": str(path)}) from None
    return text


def parse_workflow_text(path: Path, text: str) -> Any:
    """The data of ``text``, the text of a workflow file named ``path`` (TOML or YAML by its
    suffix); ``config_error`` naming the file (and the line, for syntax errors)."""
    if path.suffix.lower() in TOML_SUFFIXES:
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise LlmspellError("config_error", f"{path}: invalid TOML: {exc}",
                                {"file": str(path)}) from None
    try:
        import yaml
    except ImportError:
        raise LlmspellError(
            "config_error", f"{path}: YAML workflow files need PyYAML, which is not installed",
            {"file": str(path)}, hint="write the workflow in TOML, or install PyYAML",
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LlmspellError("config_error", f"{path}: invalid YAML: {exc}",
                            {"file": str(path)}) from None


def load_workflow(kernel: Kernel, path: Path, data: Any = None) -> Workflow:
    """Build the workflow declared in the file at ``path`` (or in ``data`` read from it), with
    tools looked up in ``kernel``. The workflow's name defaults to the file's stem."""
    if data is None:
        data = read_workflow_file(path)
    where = Where(str(path), code="config_error", file=str(path))
    spec = where.table(data)
    targets = _FileTargets(kernel, where.key("agents"), where.key("agents").table(
        spec.get("agents") or {}))
    kind = spec.get("kind")
    if kind is None:
        raise where.key("kind").error(f"is required: one of {', '.join(KINDS)}")
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", path.stem)[:64] or "workflow"
    return build_workflow(str(kind), spec, where, targets, default_name=stem,
                          extra_keys=FILE_KEYS)


def workflow_input(args: dict[str, Any]) -> Any:
    """A workflow file's input from the spell arguments of ``llmspell run FILE -- ...``:
    ``--input TEXT`` if given, else the positional arguments joined by spaces, else the named
    arguments as an object (``{}`` when there are none)."""
    if "input" in args:
        return args["input"]
    positional = args.get("_") or []
    if positional:
        return " ".join(str(p) for p in positional)
    return {k: v for k, v in args.items() if k != "_"}


def output_value(result: Any) -> Any:
    """What ``llmspell run`` prints for a workflow's result: its data, else its text."""
    return result.data if result.data is not None else result.text


@attrs.define
class _FileTargets:
    """Step targets of a workflow file: agent tables, tool names, nested workflow tables."""

    kernel: Kernel
    agents_where: Where
    agent_specs: dict[str, Any]
    target_keys: tuple[str, ...] = ("agent", "workflow", "tool")
    sort_branches: bool = False
    _agents: dict[str, LLMAgent] = attrs.field(factory=dict)
    _building: list[str] = attrs.field(factory=list)

    def bare(self, item: Any, where: Where) -> tuple[str | None, Any] | None:
        if isinstance(item, dict):
            return None
        raise where.error(
            f"must be a step table (with agent, tool or workflow), got {describe(item)}"
        )

    def target(self, key: str, value: Any, where: Where) -> tuple[str | None, Any]:
        if key == "agent":
            agent = self.named_agent(value, where) if isinstance(value, str) \
                else self.agent(where.table(value), where, None)
            return agent.name, agent
        spec = where.table(value)
        if "kind" not in spec:
            raise where.key("kind").error(f"is required: one of {', '.join(KINDS)}")
        flow = build_workflow(
            str(spec["kind"]), spec, where, self,
            default_name=str(spec.get("name") or spec["kind"]), extra_keys=("kind",),
        )
        return flow.name, flow

    def tool(self, name: Any, where: Where) -> Tool:
        name = where.text(name)
        if name not in self.kernel.tools.names():
            raise where.error(f"names no registered tool {name!r}"
                              + did_you_mean(name, self.kernel.tools.names()))
        return self.kernel.tools.get(name)

    def function(self, value: Any, where: Where) -> Any:
        raise where.error(
            f"must be a condition table such as {{state = \"mode\", equals = \"fast\"}}, got "
            f"{describe(value)} (functions exist in spells, not in workflow files)"
        )

    # --- agents --------------------------------------------------------------------------------

    def named_agent(self, name: str, where: Where) -> LLMAgent:
        """The agent of ``[agents.<name>]``, built once."""
        if name in self._agents:
            return self._agents[name]
        if name not in self.agent_specs:
            raise where.error(f"names no agent {name!r} in the file's agents table"
                              + did_you_mean(name, self.agent_specs))
        if name in self._building:
            chain = " -> ".join([*self._building, name])
            raise self.agents_where.key(name).error(f"uses itself as a tool ({chain})")
        self._building.append(name)
        try:
            at = self.agents_where.key(name)
            agent = self.agent(at.table(self.agent_specs[name]), at, name)
        finally:
            self._building.pop()
        self._agents[name] = agent
        return agent

    def agent(self, spec: dict[str, Any], where: Where, name: str | None) -> LLMAgent:
        """An LLM agent from an agent table (``name`` given by an ``[agents]`` key)."""
        data = where.options(spec, AGENT_KEYS if name is None else AGENT_KEYS[1:])
        if name is None:
            if "name" not in data:
                raise where.key("name").error("is required for an agent")
            name = where.key("name").text(data["name"])
        tools: list[Tool | str] = []
        at = where.key("tools")
        for i, item in enumerate(at.array(data.get("tools") or [])):
            tool_name = at.item(i).text(item)
            if tool_name in self.kernel.tools.names():
                tools.append(self.kernel.tools.get(tool_name))
            elif tool_name in self.agent_specs:
                tools.append(agent_tool(self.named_agent(tool_name, at.item(i))))
            else:
                known = [*self.kernel.tools.names(), *self.agent_specs]
                raise at.item(i).error(
                    f"names no tool or agent {tool_name!r}" + did_you_mean(tool_name, known)
                )
        model: Any = data.get("model")
        if model is None:
            model = self.kernel.providers.default_model(self.kernel.config.default_model)
        elif not isinstance(model, str):
            model = [where.key("model").item(i).text(m)
                     for i, m in enumerate(where.key("model").array(model))]
        schema = data.get("output_schema")
        try:
            return LLMAgent(
                name=name,
                model=model,
                instructions=str(data.get("instructions") or ""),
                description=str(data.get("description") or ""),
                tools=tools,
                output_schema=None if schema is None else where.key("output_schema").table(
                    schema),
                temperature=None if data.get("temperature") is None
                else where.key("temperature").number(data["temperature"]),
                max_turns=where.key("max_turns").integer(data.get("max_turns", 10)),
            )
        except LlmspellError as err:
            if "key" in err.details:
                raise
            raise where.error(err.message) from None


async def run_workflow_file(
    kernel: Kernel, path: Path, args: dict[str, Any], policy: SecurityPolicy,
    project: Path | None = None, *, approver: Approver | None = None,
    session: str | None = None,
) -> Any:
    """Load the workflow file at ``path`` and run it in a new :class:`SpellRun` (named after
    the file, with ``args`` as the run's arguments and :func:`workflow_input` as the input);
    returns :func:`output_value` of its result. The file is checked before the run opens; the
    state and artifacts are the SQLite stores of ``project`` (in memory without one);
    ``approver`` is asked before tools that need approval run; ``session`` is the session the
    run continues. With a ``project``, the run is recorded in its run log
    (:func:`llmspell.runlog.recording`)."""
    from llmspell.runlog import recording

    text = read_workflow_text(path)
    async with recording(kernel, project, source=text, engine=WORKFLOW_ENGINE, name=str(path),
                         args=args):
        return await _run_workflow_file(kernel, path, text, args, policy, project, approver,
                                        session)


async def _run_workflow_file(
    kernel: Kernel, path: Path, text: str, args: dict[str, Any], policy: SecurityPolicy,
    project: Path | None, approver: Approver | None, session: str | None = None,
) -> Any:
    flow = load_workflow(kernel, path, parse_workflow_text(path, text))
    store: StateBackend = (
        SqliteBackend(default_state_path(project)) if project is not None else MemoryBackend()
    )
    artifacts = ArtifactStore(default_artifacts_path(project) if project is not None else None)
    try:
        async with SpellRun.open(kernel, name=str(path), args=args, policy=policy,
                                 store=store, approver=approver, artifacts=artifacts,
                                 session=session) as run:
            result = await run.run_agent(flow, workflow_input(run.args))
            run.result = output_value(result)
        return run.result
    finally:
        await store.aclose()
        await artifacts.aclose()
