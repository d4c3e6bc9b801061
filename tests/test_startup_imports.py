"""Loading every installed plugin stays cheap: heavy libraries are imported when first used,
not when the kernel starts (``llmspell run`` of a one-line spell is held to 0.3 s)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("httpx", "llama_cpp", "jsonschema", "tenacity")


def test_loading_the_kernel_imports_no_heavy_library() -> None:
    code = (
        "import sys\n"
        "from llmspell.kernel import Kernel\n"
        "kernel = Kernel.load()\n"
        "assert 'openai' in kernel.providers, kernel.providers.names()\n"
        "kernel.providers.get('openai').status()\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
