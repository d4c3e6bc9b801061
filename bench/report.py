"""Run every benchmark and write bench/RESULTS.md: ``uv run python bench/report.py``."""

from __future__ import annotations

import platform
import sys
from pathlib import Path

import trio

sys.path.insert(0, str(Path(__file__).parent))

import bench_bridges
import bench_kernel


def main() -> None:
    header = [
        "# Benchmark results",
        "",
        f"Machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}, trio {trio.__version__}, 2 shared cores. Medians of "
        "several rounds; the machines are shared and noisy, so read ratios before absolutes.",
        "",
    ]
    body = trio.run(bench_kernel.main) + "\n" + trio.run(bench_bridges.main)
    report = "\n".join(header) + body
    Path(__file__).with_name("RESULTS.md").write_text(report, encoding="utf-8")
    print(report)


if __name__ == "__main__":
    main()
