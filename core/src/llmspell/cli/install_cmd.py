"""``llmspell install|uninstall``: add or remove plugin packages in the environment llmspell
runs in, then show what changed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import click

from llmspell.errors import LlmspellError

_LIST_PLUGINS = (
    "import json; from llmspell.kernel import Kernel; k = Kernel.load(); "
    "print(json.dumps({n: {'package': i.package, 'version': i.version, "
    "'components': k.components(n)} for n, i in k.plugins.items()}))"
)


def installer(action: str, packages: tuple[str, ...], *, no_deps: bool = False) -> list[str]:
    """The command that installs (or uninstalls) ``packages`` into this interpreter's
    environment: ``uv pip`` when uv is available, else ``python -m pip``."""
    flags = ["--no-deps"] if no_deps and action == "install" else []
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv:
        return [uv, "pip", action, "--python", sys.executable, *flags, *packages]
    if action == "uninstall":
        flags.append("-y")
    return [sys.executable, "-m", "pip", action, *flags, *packages]


def loaded_plugins() -> dict[str, dict[str, object]]:
    """The plugins a fresh process of this environment loads (a new process sees new
    entry points)."""
    out = subprocess.run(
        [sys.executable, "-c", _LIST_PLUGINS], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        return {}
    loaded: dict[str, dict[str, object]] = json.loads(out.stdout)
    return loaded


def _change(action: str, packages: tuple[str, ...], *, no_deps: bool = False) -> None:
    before = loaded_plugins()
    command = installer(action, packages, no_deps=no_deps)
    click.echo("$ " + " ".join(command), err=True)
    done = subprocess.run(command, check=False)
    if done.returncode != 0:
        raise LlmspellError(
            "plugin_error",
            f"{action} of {', '.join(packages)} failed (exit status {done.returncode})",
            {"command": command},
            hint="see the installer's output above",
        )
    after = loaded_plugins()
    for name in sorted(set(after) - set(before)):
        info = after[name]
        click.echo(f"+ plugin {name} ({info['package']} {info['version']}): "
                   f"{json.dumps(info['components'])}")
    for name in sorted(set(before) - set(after)):
        click.echo(f"- plugin {name} ({before[name]['package']})")
    if after == before:
        click.echo("no plugins added or removed", err=True)


@click.command()
@click.argument("packages", nargs=-1, required=True)
@click.option("--no-deps", is_flag=True, help="Do not install the packages' dependencies.")
def install(packages: tuple[str, ...], no_deps: bool) -> None:
    """Install plugin PACKAGES (names, paths or URLs pip understands) into llmspell's
    environment and show the plugins they add."""
    _change("install", packages, no_deps=no_deps)


@click.command()
@click.argument("packages", nargs=-1, required=True)
def uninstall(packages: tuple[str, ...]) -> None:
    """Uninstall plugin PACKAGES and show the plugins that went away."""
    _change("uninstall", packages)
