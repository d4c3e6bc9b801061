"""How far the ``regex`` module expands a pattern when compiling it.

The ``regex`` module unrolls the minimum count of a repeat: ``a{1000000}`` or ``(?:a{1000}){1000}``
becomes a million nodes (about 250 MB and a second of compiling), and ``a{4294967294}`` exhausts
the memory of the whole process before failing. :func:`expansion` estimates the unrolled size
without compiling, so that such a pattern is refused up front. It over-counts (every character is
a node, alternatives add up), never under-counts a repeat's minimum.
"""

from __future__ import annotations

import re

_QUANTIFIER = re.compile(r"\{(\d*)(?:,(\d*))?\}")


def expansion(pattern: str) -> int:
    """An upper estimate of the nodes ``regex.compile(pattern)`` builds."""
    # per open group: [nodes so far, nodes of the last atom (what a quantifier repeats)]
    stack: list[list[int]] = [[0, 0]]
    i, n = 0, len(pattern)

    def atom(size: int) -> None:
        stack[-1][0] += size
        stack[-1][1] = size

    while i < n:
        c = pattern[i]
        if c == "\\":
            j = i + 2
            if (
                pattern[i + 1 : i + 2] in ("p", "P", "N", "x", "u", "U")
                and pattern[j : j + 1] == "{"
            ):
                close = pattern.find("}", j)
                j = close + 1 if close >= 0 else n
            atom(1)
            i = j
        elif c == "[":
            j = i + 1
            if pattern[j : j + 1] == "^":
                j += 1
            if pattern[j : j + 1] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            atom(1)
            i = j + 1
        elif c == "(":
            stack.append([0, 0])
            i += 1
        elif c == ")" and len(stack) > 1:
            total = stack.pop()[0]
            atom(max(total, 1))
            i += 1
        elif c == "{" and (m := _QUANTIFIER.match(pattern, i)) and (m.group(1) or m.group(2)):
            factor = max(int(m.group(1) or 0), 1)
            current = stack[-1]
            current[0] += current[1] * (factor - 1)
            current[1] *= factor
            i = m.end()
        elif c in "*+?|":
            stack[-1][1] = 0 if c == "|" else stack[-1][1]
            i += 1
        else:
            atom(1)
            i += 1
    return sum(group[0] for group in stack)
