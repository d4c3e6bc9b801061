"""Options shared by commands that run tools or spells: the security policy and JSON output."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from llmspell.errors import LlmspellError
from llmspell.security import SecurityPolicy


def policy_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Add ``--allow-read/--allow-write/--allow-net/--allow-private-network/--allow-process/
    --allow-command/--allow-env/--require-approval/--yes`` and pass a ``policy`` keyword instead."""

    @click.option("--allow-read", multiple=True, type=click.Path(path_type=Path),
                  help="Directory tools may read (repeatable).")
    @click.option("--allow-write", multiple=True, type=click.Path(path_type=Path),
                  help="Directory tools may read and write (repeatable).")
    @click.option("--allow-net", multiple=True, metavar="HOST",
                  help="Host glob tools may reach, '*' for any public host (repeatable).")
    @click.option("--allow-private-network", is_flag=True,
                  help="Also allow loopback and private addresses.")
    @click.option("--allow-process", is_flag=True, help="Allow tools to spawn processes.")
    @click.option("--allow-command", multiple=True, metavar="CMD",
                  help="Executable that command-running tools may start, '*' for any "
                  "(repeatable; implies --allow-process).")
    @click.option("--allow-env", multiple=True, metavar="NAME",
                  help="Environment variable tools may read (repeatable).")
    @click.option("--require-approval", multiple=True, metavar="TOOL",
                  help="Also ask before this tool runs (repeatable).")
    @click.option("--yes", "-y", is_flag=True, help="Approve every tool that asks for approval.")
    @functools.wraps(fn)
    def wrapper(
        *args: Any,
        allow_read: tuple[Path, ...],
        allow_write: tuple[Path, ...],
        allow_net: tuple[str, ...],
        allow_private_network: bool,
        allow_process: bool,
        allow_command: tuple[str, ...],
        allow_env: tuple[str, ...],
        require_approval: tuple[str, ...],
        yes: bool,
        **kwargs: Any,
    ) -> Any:
        policy = SecurityPolicy(
            read_roots=allow_read,
            write_roots=allow_write,
            network_hosts=allow_net,
            allow_private_network=allow_private_network,
            allow_processes=allow_process,
            commands=allow_command,
            env_names=allow_env,
            approve_tools=require_approval,
            auto_approve=yes,
        )
        return fn(*args, policy=policy, **kwargs)

    return wrapper


def parse_json_arg(text: str, what: str) -> Any:
    """Decode a JSON command-line argument or raise ``invalid_args`` naming it."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise LlmspellError(
            "invalid_args",
            f"{what} is not valid JSON: {exc.msg} at column {exc.colno}: {text!r}",
            {"argument": what},
            hint="quote the JSON for your shell, e.g. '{\"text\": \"hi\"}'",
        ) from None


def echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=False))
