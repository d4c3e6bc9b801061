"""Every tool of ``llmspell-tools-data`` (category ``data``), in registration order.

The tools work only on data passed in their arguments (text or JSON values): they declare no
permissions and touch no files, network, processes or environment.
"""

from __future__ import annotations

from llmspell.tools import Tool
from llmspell_tools_data.convert import data_convert
from llmspell_tools_data.csv_tools import csv_query, csv_stats
from llmspell_tools_data.json_diff import json_diff
from llmspell_tools_data.json_tools import json_query, json_validate
from llmspell_tools_data.tables import table_render
from llmspell_tools_data.text_diff import text_diff
from llmspell_tools_data.xml_tools import xml_query

#: Every tool of this package, in registration order.
TOOLS: tuple[Tool, ...] = (
    json_query,
    json_validate,
    json_diff,
    csv_query,
    csv_stats,
    data_convert,
    xml_query,
    text_diff,
    table_render,
)
