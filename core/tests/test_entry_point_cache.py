"""The cache of the ``llmspell`` entry points (``llmspell.plugins.entry_point_list``): it saves
reading every distribution's metadata at start-up, and is never used once a distribution has
been installed, removed or changed."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmspell import plugins
from llmspell.kernel import Kernel

GROUP = "llmspell"
_clock = itertools.count(time.time_ns() - 3600 * 10**9, 10**9)


def _age(*paths: Path) -> None:
    """Make ``paths`` look unchanged for a while (as installed packages are): their times are
    set to a moment an hour ago, a later one at each call (time moves on)."""
    ns = next(_clock)
    for path in paths:
        os.utime(path, ns=(ns, ns))


def _install(site: Path, name: str, entry_points: str, version: str = "1.0") -> Path:
    """A distribution ``name`` as an installer leaves it: a ``.dist-info`` with METADATA and
    ``entry_points.txt``, and a module ``name`` whose ``plugin`` is an (empty) plugin."""
    module = site / f"{name}.py"
    module.write_text("class Plugin:\n    pass\n\nplugin = Plugin()\n")
    info = site / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(entry_points)
    return info


class Scans:
    """Counts how often the metadata is really read."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = plugins._scan_entry_points

        def scan(group: str) -> tuple[list[plugins.EntryPointRow], list[str] | None]:
            self.count += 1
            return real(group)

        monkeypatch.setattr(plugins, "_scan_entry_points", scan)


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on ``sys.path`` to install distributions into, and a private cache."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setenv(plugins.CACHE_ENV, str(tmp_path / "cache"))
    yield folder
    for name in [m for m in sys.modules if m.startswith("epcache_")]:
        del sys.modules[name]


def _names(rows: list[plugins.EntryPointRow]) -> list[str]:
    return [row[0] for row in rows]


def _fresh() -> list[plugins.EntryPointRow]:
    import importlib.metadata

    return [
        (ep.name, ep.value, ep.dist.name if ep.dist else "", ep.dist.version if ep.dist else "")
        for ep in importlib.metadata.entry_points(group=GROUP)
    ]


def test_the_cache_gives_what_the_metadata_gives(site: Path, monkeypatch: pytest.MonkeyPatch):
    info = _install(site, "epcache_one", "[llmspell]\nepcache-one = epcache_one:plugin\n")
    _age(info / "METADATA", info / "entry_points.txt", info, site)
    scans = Scans(monkeypatch)
    first = plugins.entry_point_list(GROUP)
    second = plugins.entry_point_list(GROUP)
    assert scans.count == 1  # the second came from the cache file
    assert first == second == _fresh()
    assert ("epcache-one", "epcache_one:plugin", "epcache_one", "1.0") in second


def test_installing_and_removing_a_package_is_seen_at_once(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans = Scans(monkeypatch)
    _age(site)
    before = plugins.entry_point_list(GROUP)
    assert "epcache-two" not in _names(before)
    assert scans.count == 1

    info = _install(site, "epcache_two", "[llmspell]\nepcache-two = epcache_two:plugin\n")
    assert "epcache-two" in _names(plugins.entry_point_list(GROUP))  # installed: read again
    assert scans.count == 2
    _age(info / "METADATA", info / "entry_points.txt", info, site)
    assert "epcache-two" in _names(plugins.entry_point_list(GROUP))
    assert "epcache-two" in _names(plugins.entry_point_list(GROUP))
    assert scans.count == 3  # cached again once the installation had settled

    # removed (an uninstaller deletes the .dist-info): never served from the cache
    for child in info.iterdir():
        child.unlink()
    info.rmdir()
    _age(site)
    assert "epcache-two" not in _names(plugins.entry_point_list(GROUP))
    assert scans.count == 4
    assert plugins.entry_point_list(GROUP) == before


def test_an_upgrade_and_an_edit_in_place_are_seen(site: Path, monkeypatch: pytest.MonkeyPatch):
    scans = Scans(monkeypatch)
    info = _install(site, "epcache_three", "[llmspell]\nepcache-three = epcache_three:plugin\n")
    _age(info / "METADATA", info / "entry_points.txt", info, site)
    assert ("epcache-three", "epcache_three:plugin", "epcache_three", "1.0") in (
        plugins.entry_point_list(GROUP))

    # the entry_points.txt of an installed distribution edited in place (same directory,
    # same size, an old time stamp): still seen
    (info / "entry_points.txt").write_text("[llmspell]\nepcache-THREE = epcache_three:plugin\n")
    _age(info / "entry_points.txt")
    assert "epcache-THREE" in _names(plugins.entry_point_list(GROUP))
    assert scans.count == 2

    # an upgrade: the old .dist-info replaced by one of the new version
    for child in info.iterdir():
        child.unlink()
    info.rmdir()
    (site / "epcache_three.py").unlink()
    new = _install(site, "epcache_three", "[llmspell]\nepcache-three = epcache_three:plugin\n",
                   version="2.0")
    _age(new / "METADATA", new / "entry_points.txt", new, site)
    assert ("epcache-three", "epcache_three:plugin", "epcache_three", "2.0") in (
        plugins.entry_point_list(GROUP))
    assert scans.count == 3


def test_a_change_to_sys_path_is_seen(site: Path, tmp_path: Path, monkeypatch):
    scans = Scans(monkeypatch)
    _age(site)
    plugins.entry_point_list(GROUP)
    other = tmp_path / "other"
    other.mkdir()
    info = _install(other, "epcache_four", "[llmspell]\nepcache-four = epcache_four:plugin\n")
    _age(info / "METADATA", info / "entry_points.txt", info, other)
    monkeypatch.syspath_prepend(str(other))
    assert "epcache-four" in _names(plugins.entry_point_list(GROUP))
    assert scans.count == 2


def test_a_recent_change_is_not_cached(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # something on the path changed within the clock's resolution of the snapshot: the cache
    # is not written (a later change in the same tick would not show)
    scans = Scans(monkeypatch)
    _install(site, "epcache_five", "[llmspell]\nepcache-five = epcache_five:plugin\n")
    plugins.entry_point_list(GROUP)
    plugins.entry_point_list(GROUP)
    assert scans.count == 2
    assert not list(Path(os.environ[plugins.CACHE_ENV]).glob("*.json"))


def test_a_broken_cache_file_is_ignored_and_an_empty_setting_disables_it(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scans = Scans(monkeypatch)
    _age(site)
    expected = plugins.entry_point_list(GROUP)
    [cache] = Path(os.environ[plugins.CACHE_ENV]).glob("*.json")
    for broken in ("{", "[]", json.dumps({"format": plugins.CACHE_FORMAT})):
        cache.write_text(broken)
        assert plugins.entry_point_list(GROUP) == expected
    data = json.loads(cache.read_text())
    data["layouts"][0]["entry_points"] = [["x", 1]]  # the right snapshot, nonsense rows
    cache.write_text(json.dumps(data))
    assert plugins.entry_point_list(GROUP) == expected
    count = scans.count
    monkeypatch.setenv(plugins.CACHE_ENV, "")
    assert plugins.cache_dir() is None
    plugins.entry_point_list(GROUP)
    plugins.entry_point_list(GROUP)
    assert scans.count == count + 2


def test_entry_points_load_from_the_cache(site: Path) -> None:
    info = _install(site, "epcache_six", "[llmspell]\nepcache-six = epcache_six:plugin\n")
    _age(info / "METADATA", info / "entry_points.txt", info, site)
    plugins.entry_point_list(GROUP)
    kernel = Kernel.load(env={plugins.LOAD_ENV: "epcache-six"})
    assert list(kernel.plugins) == ["epcache-six"]
    info_ = kernel.plugins["epcache-six"]
    assert (info_.package, info_.version) == ("epcache_six", "1.0")


def test_a_warm_start_does_not_read_the_metadata(tmp_path: Path) -> None:
    # importlib.metadata (and the email package it parses metadata with) is not imported by a
    # kernel whose entry points come from the cache
    code = (
        "import sys\n"
        "from llmspell.kernel import Kernel\n"
        "kernel = Kernel.load()\n"
        "print(len(kernel.plugins), 'importlib.metadata' in sys.modules)\n"
    )
    env = {**os.environ, plugins.CACHE_ENV: str(tmp_path / "cache")}
    work = tmp_path / "work"  # the current directory is on sys.path of `python -c`
    work.mkdir()
    _age(work)
    outs = [
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                       env=env, cwd=work).stdout.split()
        for _ in range(2)
    ]
    if not list((tmp_path / "cache").glob("*.json")):
        pytest.skip("something on sys.path changed in the last seconds: nothing was cached")
    assert outs[0][0] == outs[1][0]
    assert outs[1][1] == "False", outs


def test_each_sys_path_layout_has_its_own_entry(site: Path, tmp_path: Path, monkeypatch) -> None:
    # the console script and `python -c` (the current directory first on sys.path) both stay
    # cached side by side instead of replacing each other
    scans = Scans(monkeypatch)
    _age(site)
    first = plugins.entry_point_list(GROUP)
    other = tmp_path / "elsewhere"
    other.mkdir()
    _age(other)
    monkeypatch.syspath_prepend(str(other))
    second = plugins.entry_point_list(GROUP)
    assert scans.count == 2
    assert plugins.entry_point_list(GROUP) == second
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(other)])
    assert plugins.entry_point_list(GROUP) == first
    assert scans.count == 2  # both layouts came from the cache
    [cache] = Path(os.environ[plugins.CACHE_ENV]).glob("*.json")
    assert len(json.loads(cache.read_text())["layouts"]) == 2


def test_a_plugin_its_distribution_declares_off_by_default_is_not_even_imported(
    site: Path,
) -> None:
    """Group ``llmspell.default_off`` names plugins that are off by default: the loader skips
    them without importing their module, and imports them only when enabled."""
    _install(site, "epcache_off", "[llmspell]\nepcache-off = epcache_off\n"
             "[llmspell.default_off]\nepcache-off = epcache_off\n")
    (site / "epcache_off.py").write_text("raise RuntimeError('imported')\n")
    kernel = Kernel.load(env={plugins.CACHE_ENV: os.environ[plugins.CACHE_ENV]})
    assert "epcache-off" not in kernel.plugins
    assert "epcache_off" not in sys.modules
    assert not [f for f in kernel.loader.failures if f.name == "epcache-off"]
    enabled = Kernel.load(env={plugins.CACHE_ENV: os.environ[plugins.CACHE_ENV]},
                          enable=["epcache-off"])
    (failure,) = [f for f in enabled.loader.failures if f.name == "epcache-off"]
    assert "imported" in failure.error  # enabled: the module was imported (and failed here)
