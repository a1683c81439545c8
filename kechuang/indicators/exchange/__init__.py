"""Excel, CSV and DHIS2 JSON in and out of Kechuang: parsing and building files, no database.

parse (``reading``) → rows → validate (``checking``, pure, every problem with
its place) → one service call in one transaction
(``kechuang.indicators.services.exchange``) → audit. ``layout`` is the one
description of every file shape; ``template`` builds the fill-in workbook and
``writing`` the exports (the values layout, CSV, JSON and the wide table).
"""

from kechuang.indicators.exchange.checking import (
    Catalogue,
    CleanValue,
    DataSetInfo,
    Group,
    IndicatorInfo,
    UnitInfo,
    parse_year,
    plan,
    validate,
)
from kechuang.indicators.exchange.layout import neutralise
from kechuang.indicators.exchange.problems import ImportFailed, ImportProblem
from kechuang.indicators.exchange.reading import ParsedFile, RawValue, read_file
from kechuang.indicators.exchange.template import TemplateRow, build_template
from kechuang.indicators.exchange.writing import (
    ExportRow,
    TableColumn,
    workbook_bytes,
    write_table,
    write_values,
)

__all__ = [
    "Catalogue",
    "CleanValue",
    "DataSetInfo",
    "ExportRow",
    "Group",
    "ImportFailed",
    "ImportProblem",
    "IndicatorInfo",
    "ParsedFile",
    "RawValue",
    "TableColumn",
    "TemplateRow",
    "UnitInfo",
    "build_template",
    "neutralise",
    "parse_year",
    "plan",
    "read_file",
    "validate",
    "workbook_bytes",
    "write_table",
    "write_values",
]
