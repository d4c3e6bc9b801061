"""``xml_query``: XPath 1.0 over XML text, with a hardened parser.

Safety contract: documents whose DOCTYPE declares entities are refused before parsing (entity
expansion is how billion-laughs and XXE attacks work; libxml2 would even expand internal entities
when an XPath takes a string value, despite ``resolve_entities=False``). The parser never loads
a DTD or anything from the network (``load_dtd=False``, ``no_network=True``), keeps libxml2's
size and depth limits (``huge_tree=False``), and the parsed tree is checked again for entity
declarations. XPath runs without EXSLT extension functions (their namespaces are refused; some
build huge strings) and without regular expressions. lxml is imported only when the tool runs.
"""

from __future__ import annotations

import math
import re
from functools import partial
from typing import Any

from llmspell.errors import LlmspellError
from llmspell.tools import ToolContext, tool
from llmspell_tools_data.support import (
    MAX_TEXT_CHARS,
    check_output,
    dump_json,
    invalid,
    run_blocking,
    shorten,
)

#: Longest XPath expression accepted, in characters.
MAX_XPATH_CHARS = 1000
#: Most results listed (``max_results`` may lower it).
MAX_RESULTS = 1000
#: Default of ``max_results``.
DEFAULT_MAX_RESULTS = 100
#: Longest text of one element summary, and of one string result, in characters.
MAX_RESULT_TEXT_CHARS = 2000
#: Longest serialized XML of one element (``include_xml``), in characters.
MAX_RESULT_XML_CHARS = 20_000
#: Most namespace prefixes.
MAX_NAMESPACES = 50

_XML_NS = "http://www.w3.org/XML/1998/namespace"
_POSITION_SUFFIX = re.compile(r",? line \d+, column \d+$")
#: A namespace prefix in an XPath expression (``p:`` but not the axis separator ``::``).
_PREFIX = re.compile(r"(?<![\w.:-])([A-Za-z_][\w.-]*):(?![:])")
_TOOL = "xml_query"


def _refused(problem: str) -> LlmspellError:
    return invalid(
        _TOOL, "xml", problem,
        hint="entity declarations are refused because their expansion can exhaust memory "
        "(billion laughs) or read local files (XXE); remove the DOCTYPE's <!ENTITY ...> "
        "declarations",
        reason="entities",
    )


def parse_xml(text: str) -> Any:
    """The root element of ``text`` parsed with the hardened parser (see the module docstring);
    ``invalid_args`` naming ``xml`` for a DOCTYPE with entities or malformed XML."""
    from lxml import etree

    lowered = text.lower()
    if "<!doctype" in lowered and "<!entity" in lowered:
        raise _refused("the document's DOCTYPE declares entities, which are refused")
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        dtd_validation=False,
        attribute_defaults=False,
        encoding="utf-8",  # the text is re-encoded as UTF-8 whatever its declaration says
    )
    try:
        root = etree.fromstring(text.encode("utf-8", "surrogatepass"), parser)
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (None, None)
        where = f" at line {line}, column {column}" if line else ""
        problem = _POSITION_SUFFIX.sub("", exc.msg or "") or "not well-formed"
        raise invalid(
            _TOOL, "xml", f"malformed XML{where}: {problem}", line=line, column=column
        ) from None
    if root is None:
        raise invalid(_TOOL, "xml", "the document has no root element")
    dtd = root.getroottree().docinfo.internalDTD
    if dtd is not None and any(True for _ in dtd.iterentities()):
        raise _refused("the document's DOCTYPE declares entities, which are refused")
    return root


def _qualified(tag: str, nsmap: dict[str | None, str]) -> str:
    """``{uri}local`` as ``prefix:local`` when a prefix for ``uri`` is in scope."""
    if not tag.startswith("{"):
        return tag
    uri, local = tag[1:].split("}", 1)
    if uri == _XML_NS:
        return f"xml:{local}"
    for prefix, bound in nsmap.items():
        if bound == uri and prefix:
            return f"{prefix}:{local}"
    return tag


def _element(el: Any, include_xml: bool) -> dict[str, Any]:
    from lxml import etree

    qname = etree.QName(el)
    text = "".join(el.itertext()).strip()
    out: dict[str, Any] = {
        "kind": "element",
        "tag": f"{el.prefix}:{qname.localname}" if el.prefix else qname.localname,
        "namespace": qname.namespace,
        "attributes": {_qualified(k, el.nsmap): v for k, v in el.attrib.items()},
        "text": shorten(text, MAX_RESULT_TEXT_CHARS),
        "children": sum(1 for c in el if isinstance(c.tag, str)),
        "line": el.sourceline,
    }
    if include_xml:
        xml = etree.tostring(el, encoding="unicode", with_tail=False)
        out["xml"] = shorten(xml, MAX_RESULT_XML_CHARS)
    return out


def _item(node: Any, include_xml: bool) -> Any:
    from lxml import etree

    if isinstance(node, str):
        return shorten(node, MAX_RESULT_TEXT_CHARS)
    if isinstance(node, tuple):  # a namespace node
        return {"kind": "namespace", "prefix": node[0], "uri": node[1]}
    if isinstance(node, etree._Comment):
        return {"kind": "comment", "text": shorten(node.text or "", MAX_RESULT_TEXT_CHARS)}
    if isinstance(node, etree._ProcessingInstruction):
        return {
            "kind": "processing_instruction",
            "target": node.target,
            "text": shorten(node.text or "", MAX_RESULT_TEXT_CHARS),
        }
    if isinstance(node, etree._Element) and isinstance(node.tag, str):
        return _element(node, include_xml)
    return shorten(str(node), MAX_RESULT_TEXT_CHARS)


def _number(value: float) -> int | float | None:
    if not math.isfinite(value):
        return None
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def _check_namespaces(namespaces: dict[str, str]) -> None:
    for prefix, uri in namespaces.items():
        if not prefix or ":" in prefix:
            raise invalid(
                _TOOL, "namespaces",
                f"prefix {prefix!r} is not usable in XPath (give a non-empty name without ':'; "
                "XPath 1.0 has no default namespace)",
            )
        if uri.startswith("http://exslt.org"):
            raise invalid(
                _TOOL, "namespaces",
                f"{uri!r}: EXSLT extension functions are not available",
            )


def _query(args: dict[str, Any]) -> dict[str, Any]:
    from lxml import etree

    namespaces: dict[str, str] = args.get("namespaces", {})
    _check_namespaces(namespaces)
    expression: str = args["xpath"]
    try:
        xpath = etree.XPath(
            expression, namespaces=namespaces, regexp=False, smart_strings=False
        )
    except etree.XPathSyntaxError as exc:
        last = exc.error_log.last_error if exc.error_log else None
        position = last.column if last is not None and last.column >= 0 else None
        where = f" at position {position}" if position is not None else ""
        raise invalid(
            _TOOL, "xpath", f"XPath syntax error{where}: {exc}", position=position,
            hint=f"position counts characters from 0:\n{expression}\n{' ' * position}^"
            if position is not None else None,
        ) from None
    root = parse_xml(args["xml"])
    try:
        result = xpath(root)
    except etree.XPathEvalError as exc:
        message = str(exc)
        field = "namespaces" if "namespace prefix" in message.lower() else "xpath"
        if field == "namespaces":
            unmapped = sorted(set(_PREFIX.findall(expression)) - set(namespaces))
            if unmapped:
                message += f" (not mapped: {', '.join(repr(p) for p in unmapped)})"
        hint = (
            "map every prefix the expression uses in 'namespaces', e.g. {\"x\": \"urn:example\"}"
            if field == "namespaces"
            else None
        )
        raise invalid(_TOOL, field, f"XPath error: {message}", hint=hint) from None
    if isinstance(result, bool):
        return {"type": "boolean", "value": result}
    if isinstance(result, float):
        return {"type": "number", "value": _number(result)}
    if isinstance(result, str):
        return {"type": "string", "value": check_output(_TOOL, result)}
    limit = int(args.get("max_results", DEFAULT_MAX_RESULTS))
    include_xml = bool(args.get("include_xml", False))
    nodes = list(result)
    out = {
        "type": "nodes",
        "count": len(nodes),
        "results": [_item(n, include_xml) for n in nodes[:limit]],
        "truncated": len(nodes) > limit,
    }
    check_output(_TOOL, dump_json(out))
    return out


@tool(
    name="xml_query",
    description="Evaluate an XPath 1.0 expression over XML text. Returns, for a node-set, "
    '{"type": "nodes", "count", "truncated", "results": [...]} where elements are '
    '{"kind": "element", "tag", "namespace", "attributes", "text" (all text inside, trimmed), '
    '"children", "line", "xml" (with include_xml)}, attributes and text nodes are strings, '
    'comments {"kind": "comment", "text"}; for other expressions {"type": "string"|"number"|'
    '"boolean", "value"} (count() gives an integer; NaN gives null). Elements in a namespace '
    "need a prefix mapped in 'namespaces' (XPath 1.0 has no default namespace). Safe parsing: "
    "a DOCTYPE declaring entities is refused, no DTD or network access. At most max_results "
    f"results (default {DEFAULT_MAX_RESULTS}, limit {MAX_RESULTS}); texts cut at "
    f"{MAX_RESULT_TEXT_CHARS} characters; XML at most {MAX_TEXT_CHARS} characters.",
    category="data",
    parameters={
        "type": "object",
        "properties": {
            "xml": {
                "type": "string",
                "maxLength": MAX_TEXT_CHARS,
                "description": f"The XML document (at most {MAX_TEXT_CHARS} characters).",
            },
            "xpath": {
                "type": "string",
                "minLength": 1,
                "maxLength": MAX_XPATH_CHARS,
                "description": "The XPath 1.0 expression, e.g. \"//book[@year > 2000]/title\" "
                "or \"count(//book)\".",
            },
            "namespaces": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "maxProperties": MAX_NAMESPACES,
                "description": "Prefixes used in the expression and their namespace URIs, e.g. "
                '{"a": "http://www.w3.org/2005/Atom"}.',
            },
            "include_xml": {
                "type": "boolean",
                "default": False,
                "description": "Add each element's serialized XML (cut at "
                f"{MAX_RESULT_XML_CHARS} characters); default false.",
            },
            "max_results": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_RESULTS,
                "default": DEFAULT_MAX_RESULTS,
                "description": f"Most results to list (1 to {MAX_RESULTS}, default "
                f"{DEFAULT_MAX_RESULTS}); 'count' is always the full number.",
            },
        },
        "required": ["xml", "xpath"],
        "additionalProperties": False,
    },
    example={
        "xml": '<library><book year="1999"><title>Old</title></book>'
        '<book year="2021"><title>New</title></book></library>',
        "xpath": "//book[@year > 2000]/title",
    },
)
async def xml_query(args: dict[str, Any], ctx: ToolContext) -> dict[str, Any]:
    return await run_blocking(partial(_query, args))
