"""Run the Python examples of the documentation (README.md and docs/*.md).

Fenced code blocks are handled by their info string:

- ```` ```python ````: executed, each block in a fresh namespace with a fresh temporary directory
  as the current directory. A block runs top to bottom (it may call ``trio.run(main)`` itself) and
  fails the test with the file and line of the block.
- ```` ```python no-run ````: shown only (pieces that need a network or an installed package).
- ```` ```lua ```` and ```` ```js ````: run as spells by the real engines on a kernel with the
  installed plugins and a scripted model (``scripted/...``) that answers
  "Hello from the scripted model." to anything; the spell must end without an error.
  ```` ```lua session=NAME ```` runs it in a run of session ``NAME`` (``--session NAME``).
- ```` ```LANG file=PATH ````: a file of an example package. It is written to ``PATH`` inside the
  temporary directory of every executed block of the same page, with that directory and its
  ``src/`` on ``sys.path``, so a later block can import it. A Python file block is compiled; one
  named ``test_*.py`` is run with pytest in a subprocess, in a directory holding the page's files.

Everything else (``console``, ``sh``, ``toml`` ...) is not run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import traceback
from pathlib import Path

import attrs
import pytest

ROOT = Path(__file__).resolve().parent.parent
#: code-block language -> engine name
SPELL_LANGS = {"lua": "lua", "js": "js"}
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")


@attrs.define(frozen=True)
class Block:
    page: Path
    line: int  # 1-based line of the first line of code
    lang: str
    options: tuple[str, ...]
    code: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def file(self) -> str | None:
        for opt in self.options:
            if opt.startswith("file="):
                return opt.removeprefix("file=")
        return None

    @property
    def session(self) -> str | None:
        for opt in self.options:
            if opt.startswith("session="):
                return opt.removeprefix("session=")
        return None

    @property
    def runs(self) -> bool:
        return self.lang == "python" and "no-run" not in self.options and self.file is None

    @property
    def is_spell(self) -> bool:
        return self.lang in SPELL_LANGS and "no-run" not in self.options and self.file is None


def parse_blocks(page: Path) -> list[Block]:
    """Every fenced code block of ``page``, with its language, options and first code line."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        match = _OPEN.match(lines[i])
        if match is None:
            i += 1
            continue
        fence = match["fence"]
        words = match["info"].split()
        close = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$")
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not close.match(lines[j]):
            body.append(lines[j])
            j += 1
        if j == len(lines):
            raise AssertionError(f"{page.relative_to(ROOT)}:{i + 1}: unclosed code fence")
        blocks.append(
            Block(
                page,
                i + 2,
                words[0].lower() if words else "",
                tuple(words[1:]),
                textwrap.dedent("\n".join(body)) + "\n",
            )
        )
        i = j + 1
    return blocks


ALL_BLOCKS = [block for page in PAGES for block in parse_blocks(page)]
RUN_BLOCKS = [b for b in ALL_BLOCKS if b.runs]
SPELL_BLOCKS = [b for b in ALL_BLOCKS if b.is_spell]
FILE_BLOCKS = [b for b in ALL_BLOCKS if b.file is not None]
TEST_FILES = [b for b in FILE_BLOCKS if Path(b.file or "").name.startswith("test_")]


def write_files(page: Path, into: Path) -> None:
    for block in FILE_BLOCKS:
        if block.page == page:
            target = into / (block.file or "")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(block.code, encoding="utf-8")


def test_pages_have_examples() -> None:
    assert (ROOT / "README.md") in {b.page for b in RUN_BLOCKS}
    assert len(RUN_BLOCKS) >= 10


@pytest.mark.parametrize("block", RUN_BLOCKS, ids=[b.where for b in RUN_BLOCKS])
def test_example_runs(block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_files(block.page, tmp_path)
    monkeypatch.chdir(tmp_path)
    for var in ("LLMSPELL_LOAD_PLUGINS", "LLMSPELL_DISABLE_PLUGINS", "LLMSPELL_PROJECT"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.syspath_prepend(str(tmp_path / "src"))
    # line numbers of tracebacks point into the page
    code = compile("\n" * (block.line - 1) + block.code, str(block.page), "exec")
    namespace = {"__name__": "__doc_example__", "__file__": str(block.page)}
    before = set(sys.modules)
    try:
        exec(code, namespace)
    except BaseException as exc:
        lines = [
            frame.lineno
            for frame in traceback.extract_tb(exc.__traceback__)
            if frame.filename == str(block.page)
        ]
        at = f" (line {lines[-1]})" if lines else ""
        raise AssertionError(
            f"example at {block.where} failed{at}: {type(exc).__name__}: {exc}"
        ) from exc
    finally:
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if origin.startswith(str(tmp_path)):
                del sys.modules[name]


@pytest.mark.parametrize("block", SPELL_BLOCKS, ids=[b.where for b in SPELL_BLOCKS])
async def test_spell_example_runs(
    block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from llmspell.errors import LlmspellError
    from llmspell.runtime import SpellRun
    from llmspell.security import SecurityPolicy
    from llmspell.testing import ScriptedProvider, make_kernel

    monkeypatch.chdir(tmp_path)
    kernel = make_kernel(
        entry_points=True, provider=ScriptedProvider(default="Hello from the scripted model.")
    )
    engine = kernel.engines.get(SPELL_LANGS[block.lang])
    # keep the page's line numbers in error messages
    source = "\n" * (block.line - 1) + block.code
    try:
        async with SpellRun.open(
            kernel, name=str(block.page), policy=SecurityPolicy(), session=block.session,
            args={"_": ["Hello"]},
        ) as run:
            await engine.run(source, str(block.page.relative_to(ROOT)), run)
    except LlmspellError as err:
        raise AssertionError(f"spell example at {block.where} failed: {err.message}") from err


def test_spell_api_reference_has_examples_in_both_languages() -> None:
    page = ROOT / "docs" / "spell-api.md"
    langs = [b.lang for b in SPELL_BLOCKS if b.page == page]
    assert langs.count("lua") >= 5 and langs.count("js") >= 5


@pytest.mark.parametrize(
    "block",
    [b for b in FILE_BLOCKS if b.lang == "python"],
    ids=[b.where for b in FILE_BLOCKS if b.lang == "python"],
)
def test_example_file_compiles(block: Block) -> None:
    try:
        compile("\n" * (block.line - 1) + block.code, str(block.page), "exec")
    except SyntaxError as exc:
        raise AssertionError(f"file example at {block.where} does not compile: {exc}") from exc


@pytest.mark.parametrize("block", TEST_FILES, ids=[b.where for b in TEST_FILES])
def test_example_test_file_passes(block: Block, tmp_path: Path) -> None:
    write_files(block.page, tmp_path)
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("LLMSPELL_LOAD_PLUGINS", "LLMSPELL_DISABLE_PLUGINS", "PYTEST_ADDOPTS")
    }
    env["PYTHONPATH"] = os.pathsep.join(
        [str(tmp_path / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", block.file or ""],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, (
        f"the test file example at {block.where} failed:\n{proc.stdout}\n{proc.stderr}"
    )


def test_quickstart_commands_are_in_the_readme() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "uv run llmspell run examples/hello.lua" in text
    assert "uv run pytest" in text


def _anchors(page: Path) -> set[str]:
    """GitHub's anchors for the headings of ``page``."""
    out = set()
    for block_free in _outside_fences(page):
        match = re.match(r"^#{1,6}\s+(.*?)\s*$", block_free)
        if match:
            slug = re.sub(r"[^\w\- ]", "", match[1].lower()).replace(" ", "-")
            out.add(slug)
    return out


def _outside_fences(page: Path) -> list[str]:
    lines, inside = [], False
    for line in page.read_text(encoding="utf-8").splitlines():
        if re.match(r"^[ \t]*(```|~~~)", line):
            inside = not inside
        elif not inside:
            lines.append(line)
    return lines


def test_links_between_pages_resolve() -> None:
    for page in PAGES:
        text = "\n".join(_outside_fences(page))
        for target, anchor in re.findall(r"\]\(([^)#\s]*)(?:#([^)\s]*))?\)", text):
            if "://" in target or target.startswith("mailto:"):
                continue
            where = f"{page.relative_to(ROOT)}: link {target}#{anchor}"
            linked = (page.parent / target).resolve() if target else page
            assert linked.exists(), f"{where}: no such file"
            if anchor and linked.suffix == ".md":
                assert anchor in _anchors(linked), f"{where}: no such heading"
