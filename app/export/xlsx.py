"""A small, fast SpreadsheetML (.xlsx) writer for DataFrames.

openpyxl writes about 100,000 cells a second, so the ratings of a large study (500 panellists
× 200 items × 3 rounds = 300,000 rows) took over 20 seconds. This writer builds each sheet's XML
column by column with vectorised string operations and shared strings, and is checked by
reading its files back with openpyxl (tests/web/test_export.py). It writes numbers, booleans and
text; a bold, frozen header row; nothing else.
"""

from __future__ import annotations

import re
import zipfile
from itertools import chain
from typing import IO
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{_NS}"><fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/></font></fonts><fills count="2"><fill>\
<patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>"""


class _SharedStrings:
    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def code(self, value: str) -> int:
        code = self.index.get(value)
        if code is None:
            code = self.index[value] = len(self.index)
        return code

    def xml(self) -> str:
        items = "".join(
            f'<si><t xml:space="preserve">{_text(value)}</t></si>' for value in self.index
        )
        count = len(self.index)
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<sst xmlns="{_NS}" count="{count}" uniqueCount="{count}">{items}</sst>'
        )


def _text(value: str) -> str:
    return escape(_ILLEGAL_XML.sub("", value))


def _cell(value: object, strings: _SharedStrings) -> str:
    if isinstance(value, bool | np.bool_):
        return f'<c t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | np.integer):
        return f"<c><v>{int(value)}</v></c>"
    if isinstance(value, float | np.floating):
        return f"<c><v>{float(value)!r}</v></c>" if np.isfinite(value) else "<c/>"
    return f'<c t="s"><v>{strings.code(str(value))}</v></c>'


def _column_cells(series: pd.Series, strings: _SharedStrings) -> np.ndarray:
    """One XML cell per value: each distinct value is rendered once, then looked up."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    # The last entry answers code -1 (a missing value) with an empty cell.
    lookup = np.array([_cell(v, strings) for v in uniques] + ["<c/>"], dtype=object)
    return lookup[codes]


def _sheet_xml(frame: pd.DataFrame, strings: _SharedStrings) -> str:
    header = "".join(f'<c t="s" s="1"><v>{strings.code(str(c))}</v></c>' for c in frame.columns)
    columns = [np.full(len(frame), "<row>", dtype=object)]
    columns += [_column_cells(frame[c], strings) for c in frame.columns]
    columns.append(np.full(len(frame), "</row>", dtype=object))
    body = "".join(chain.from_iterable(zip(*columns, strict=True)))
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        f'<worksheet xmlns="{_NS}" xmlns:r="{_REL}"><sheetViews><sheetView workbookViewId="0">'
        '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        f"</sheetView></sheetViews><sheetData><row>{header}</row>{body}</sheetData></worksheet>"
    )


def write_xlsx(sheets: dict[str, pd.DataFrame], target: str | IO[bytes]) -> None:
    """Write one sheet per DataFrame (sheet names at most 31 characters)."""
    strings = _SharedStrings()
    names = [name[:31] for name in sheets]
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for n, frame in enumerate(sheets.values(), start=1):
            zf.writestr(f"xl/worksheets/sheet{n}.xml", _sheet_xml(frame, strings))
        zf.writestr("xl/sharedStrings.xml", strings.xml())
        zf.writestr("xl/styles.xml", _STYLES)
        sheet_entries = "".join(
            f'<sheet name="{escape(name)}" sheetId="{n}" r:id="rId{n}"/>'
            for n, name in enumerate(names, start=1)
        )
        zf.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<workbook xmlns="{_NS}" xmlns:r="{_REL}"><sheets>{sheet_entries}</sheets></workbook>',
        )
        count = len(names)
        rels = "".join(
            f'<Relationship Id="rId{n}" Type="{_REL}/worksheet" Target="worksheets/sheet{n}.xml"/>'
            for n in range(1, count + 1)
        )
        rels += (
            f'<Relationship Id="rId{count + 1}" Type="{_REL}/sharedStrings" '
            'Target="sharedStrings.xml"/>'
            f'<Relationship Id="rId{count + 2}" Type="{_REL}/styles" Target="styles.xml"/>'
        )
        zf.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns='
            f'"http://schemas.openxmlformats.org/package/2006/relationships">{rels}</Relationships>',
        )
        zf.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns='
            '"http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        overrides = "".join(
            f'<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
            for n in range(1, count + 1)
        )
        zf.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns='
            '"http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/'
            'vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            f"{overrides}"
            '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            "</Types>",
        )
