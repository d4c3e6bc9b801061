"""xml_query through the real kernel path, with billion-laughs and XXE documents proving that
entities are never expanded, no file is read and nothing is fetched."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import trio

from llmspell_tools_data.xml_tools import MAX_RESULT_TEXT_CHARS, parse_xml

if TYPE_CHECKING:
    from conftest import RecordingServer, Tools

LIBRARY = """<?xml version="1.0"?>
<library xmlns="urn:books" xmlns:m="urn:meta" xml:lang="en">
  <!-- the catalogue -->
  <book id="b1" year="1999" m:rating="4"><title>Old &amp; Gold</title><price>10.5</price></book>
  <book id="b2" year="2021"><title>New</title><price>20</price></book>
  <?render mode="full"?>
  <m:note>two <m:b>books</m:b></m:note>
</library>
"""
NS = {"b": "urn:books", "m": "urn:meta"}


async def query(tools: Tools, xpath: str, **args: Any) -> Any:
    return await tools.call(
        "xml_query", {"xml": LIBRARY, "xpath": xpath, "namespaces": NS, **args}
    )


async def test_xml_query_elements(tools: Tools) -> None:
    result = await query(tools, "//b:book[@year > 2000]/b:title")
    assert result == {
        "type": "nodes",
        "count": 1,
        "truncated": False,
        "results": [
            {
                "kind": "element",
                "tag": "title",
                "namespace": "urn:books",
                "attributes": {},
                "text": "New",
                "children": 0,
                "line": 5,
            }
        ],
    }


async def test_xml_query_element_summary_with_xml(tools: Tools) -> None:
    result = await query(tools, "//b:book[1]", include_xml=True)
    assert result["results"] == [
        {
            "kind": "element",
            "tag": "book",
            "namespace": "urn:books",
            "attributes": {"id": "b1", "year": "1999", "m:rating": "4"},
            "text": "Old & Gold10.5",
            "children": 2,
            "line": 4,
            "xml": '<book xmlns="urn:books" xmlns:m="urn:meta" id="b1" year="1999" m:rating="4">'
            "<title>Old &amp; Gold</title><price>10.5</price></book>",
        }
    ]
    note = (await query(tools, "//m:note"))["results"][0]
    assert (note["tag"], note["namespace"], note["text"], note["children"]) == (
        "m:note", "urn:meta", "two books", 1
    )
    root = (await query(tools, "/b:library"))["results"][0]
    assert root["attributes"] == {"xml:lang": "en"}


@pytest.mark.parametrize(
    ("xpath", "expected"),
    [
        ("count(//b:book)", {"type": "number", "value": 2}),
        ("sum(//b:price)", {"type": "number", "value": 30.5}),
        ("number('x')", {"type": "number", "value": None}),  # NaN
        ("1 div 0", {"type": "number", "value": None}),  # Infinity
        ("string(//b:book[2]/@id)", {"type": "string", "value": "b2"}),
        ("normalize-space(//m:note)", {"type": "string", "value": "two books"}),
        ("boolean(//b:book[@year = 1999])", {"type": "boolean", "value": True}),
        ("//b:price > 15", {"type": "boolean", "value": True}),
    ],
)
async def test_xml_query_scalars(tools: Tools, xpath: str, expected: Any) -> None:
    assert await query(tools, xpath) == expected


async def test_xml_query_other_nodes(tools: Tools) -> None:
    assert (await query(tools, "//b:book/@id"))["results"] == ["b1", "b2"]
    assert (await query(tools, "//b:title/text()"))["results"] == ["Old & Gold", "New"]
    assert (await query(tools, "//comment()"))["results"] == [
        {"kind": "comment", "text": " the catalogue "}
    ]
    assert (await query(tools, "//processing-instruction()"))["results"] == [
        {"kind": "processing_instruction", "target": "render", "text": 'mode="full"'}
    ]
    namespaces = (await query(tools, "/b:library/namespace::*"))["results"]
    assert {"kind": "namespace", "prefix": "m", "uri": "urn:meta"} in namespaces
    assert {"kind": "namespace", "prefix": None, "uri": "urn:books"} in namespaces


async def test_xml_query_without_namespaces(tools: Tools) -> None:
    result = await tools.call("xml_query", {"xml": "<a><b>1</b><b>2</b></a>", "xpath": "//b"})
    assert [r["text"] for r in result["results"]] == ["1", "2"]
    # a default namespace needs a prefix in XPath 1.0: unprefixed names match nothing
    result = await tools.call("xml_query", {"xml": LIBRARY, "xpath": "//book"})
    assert (result["count"], result["results"]) == (0, [])


async def test_xml_query_bounds_results_and_text(tools: Tools) -> None:
    xml = "<r>" + "".join(f"<i>{n}</i>" for n in range(30)) + "<big>" + "x" * 5000 + "</big></r>"
    result = await tools.call("xml_query", {"xml": xml, "xpath": "//i", "max_results": 5})
    assert (result["count"], result["truncated"]) == (30, True)
    assert [r["text"] for r in result["results"]] == ["0", "1", "2", "3", "4"]
    big = (await tools.call("xml_query", {"xml": xml, "xpath": "//big/text()"}))["results"][0]
    assert big == "x" * (MAX_RESULT_TEXT_CHARS - 1) + "…"


async def test_xml_query_reads_any_declared_encoding(tools: Tools) -> None:
    # the text is already decoded: a declaration naming another encoding does not matter
    xml = '<?xml version="1.0" encoding="ISO-8859-1"?><a>é ✓</a>'
    assert await tools.call("xml_query", {"xml": xml, "xpath": "string(/a)"}) == {
        "type": "string", "value": "é ✓"
    }


# --- hostile documents ----------------------------------------------------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>
"""


@pytest.mark.parametrize("xpath", ["string(/lolz)", "//lolz", "//text()", "count(//*)"])
async def test_billion_laughs_is_refused(tools: Tools, xpath: str) -> None:
    with trio.fail_after(30):  # generous: expansion would take minutes and gigabytes
        err = await tools.invalid("xml_query", {"xml": BILLION_LAUGHS, "xpath": xpath}, "xml")
    assert "the document's DOCTYPE declares entities, which are refused" in err.message
    assert err.details["reason"] == "entities"
    assert err.hint is not None and "billion laughs" in err.hint
    assert "lollol" not in err.message


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-MARKER\n")
    return path


@pytest.mark.parametrize(
    "template",
    [
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "{url}">]><r>&x;</r>',
        '<!DOCTYPE r [\n  <!ENTITY  x  SYSTEM "{url}" >\n]>\n<r><a>&x;</a></r>',
        '<!DOCTYPE r [<!ENTITY % p SYSTEM "{url}"> %p;]><r/>',
    ],
)
@pytest.mark.parametrize("target", ["passwd", "secret"])
async def test_xxe_is_refused_and_reads_nothing(
    tools: Tools, secret_file: Path, template: str, target: str
) -> None:
    url = "file:///etc/passwd" if target == "passwd" else secret_file.as_uri()
    xml = template.replace("{url}", url)
    for xpath in ("string(/)", "//r", "//text()"):
        err = await tools.invalid("xml_query", {"xml": xml, "xpath": xpath}, "xml")
        assert "declares entities, which are refused" in err.message
        text = repr(err.to_dict()) + (err.hint or "")
        assert "root:" not in text and "TOP-SECRET-MARKER" not in text


def test_hardened_parser_refuses_before_parsing() -> None:
    # the refusal happens on the text: the parser never sees the declarations
    from llmspell.errors import LlmspellError

    with pytest.raises(LlmspellError) as info:
        parse_xml(BILLION_LAUGHS)
    assert info.value.details["reason"] == "entities"
    # a DOCTYPE without entity declarations is fine
    root = parse_xml('<!DOCTYPE r [<!ELEMENT r (#PCDATA)>]><r>ok</r>')
    assert root.text == "ok"


async def test_external_dtds_and_entities_are_never_fetched(
    tools: Tools, recording_server: RecordingServer
) -> None:
    recording_server.body = b'<!ENTITY leak "LEAKED-FROM-NETWORK">'
    url, requests = recording_server.url, recording_server.requests
    # an external DTD is neither loaded nor fetched: the document parses, &leak; stays empty
    xml = f'<!DOCTYPE r SYSTEM "{url}/ext.dtd"><r>a&leak;b</r>'
    result = await tools.call("xml_query", {"xml": xml, "xpath": "string(/r)"})
    assert result == {"type": "string", "value": "ab"}
    # external entities, general or parameter, are refused before any request
    for decl in (f'<!ENTITY x SYSTEM "{url}/x.xml">', f'<!ENTITY % p SYSTEM "{url}/p.dtd"> %p;'):
        err = await tools.invalid(
            "xml_query", {"xml": f"<!DOCTYPE r [{decl}]><r>&x;</r>", "xpath": "string(/)"}, "xml"
        )
        assert "LEAKED" not in err.message
    assert requests == []


async def test_xinclude_is_not_processed(tools: Tools, secret_file: Path) -> None:
    xml = (
        '<r xmlns:xi="http://www.w3.org/2001/XInclude">'
        f'<xi:include href="{secret_file.as_uri()}" parse="text"/></r>'
    )
    result = await tools.call("xml_query", {"xml": xml, "xpath": "string(/)"})
    assert result == {"type": "string", "value": ""}


async def test_deep_documents_hit_the_parser_limit(tools: Tools) -> None:
    xml = "<a>" * 300 + "</a>" * 300
    err = await tools.invalid("xml_query", {"xml": xml, "xpath": "count(//a)"}, "xml")
    assert "Excessive depth in document: 256" in err.message


# --- invalid arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "argument", "fragment"),
    [
        ({"xml": "<a><b></a>"}, "xml",
         "malformed XML at line 1, column 11: Opening and ending tag mismatch: b line 1 and a"),
        ({"xml": "<a>\n<b>"}, "xml", "malformed XML at line 2"),
        ({"xml": ""}, "xml", "Document is empty"),
        ({"xml": "just text"}, "xml", "malformed XML at line 1, column 1"),
        ({"xpath": "//b["}, "xpath", "XPath syntax error at position 4: Invalid expression"),
        ({"xpath": "nope()"}, "xpath", "XPath error: Unregistered function"),
        ({"xpath": "$v"}, "xpath", "XPath error: Undefined variable"),
        ({"xpath": "//q:b | //r:c"}, "namespaces",
         "XPath error: Undefined namespace prefix (not mapped: 'q', 'r')"),
        ({"xpath": "//x:b", "namespaces": {"": "urn:x"}}, "namespaces",
         "prefix '' is not usable in XPath"),
        ({"xpath": "str:padding(100000000, 'x')", "namespaces": {"str": "http://exslt.org/strings"}},
         "namespaces", "EXSLT extension functions are not available"),
        ({"xpath": "re:test('a', 'a+')", "namespaces":
          {"re": "http://exslt.org/regular-expressions"}},
         "namespaces", "EXSLT extension functions are not available"),
        ({"xpath": ""}, "xpath", "should be non-empty"),
        ({"xpath": "/" * 1001}, "xpath", "is too long"),
        ({"xpath": "/", "max_results": 0}, "max_results", "less than the minimum of 1"),
        ({"xpath": "/", "max_results": 1001}, "max_results", "greater than the maximum"),
        ({"xpath": "/", "namespaces": {"x": 1}}, "namespaces/x", "1 is not of type 'string'"),
        ({"xpath": "/", "include_xml": "yes"}, "include_xml", "not of type 'boolean'"),
    ],
)
async def test_xml_query_invalid_args(
    tools: Tools, args: dict[str, Any], argument: str, fragment: str
) -> None:
    err = await tools.invalid("xml_query", {"xml": "<a><b/></a>", "xpath": "//b", **args},
                              argument)
    assert fragment in err.message


async def test_xml_query_needs_xml_and_xpath(tools: Tools) -> None:
    err = await tools.invalid("xml_query", {"xpath": "/"}, None)
    assert "'xml' is a required property" in err.message
    err = await tools.invalid("xml_query", {"xml": "<a/>"}, None)
    assert "'xpath' is a required property" in err.message
