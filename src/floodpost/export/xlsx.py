"""A streaming XLSX (SpreadsheetML) writer: sheets are generated row by row into a zip written
to an unseekable sink, and the zip's bytes are handed on as they are produced.

openpyxl's write-only mode keeps the rows on disk but builds the zip only at `save()`, so a
million-row export sent nothing for two minutes, and it keeps every distinct string in memory
for the shared-strings table. Here cells are inline strings (`t="inlineStr"`), the zip uses data
descriptors (sizes after the data, as `zipfile` does on an unseekable file), and the parts that
list the sheets (workbook.xml and its relationships) come last, once all sheets are known; the
content types name worksheets by the default for `.xml`, so they can come first. openpyxl,
Excel and LibreOffice read such files; the tests read them with openpyxl.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable
from typing import IO, Any
from xml.sax.saxutils import quoteattr

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

CONTENT_TYPES = (
    _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    f'<Default Extension="xml" ContentType="{_CT}.worksheet+xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
    "</Types>"
)
ROOT_RELS = (
    _HEAD + f'<Relationships xmlns="{_PKG_REL}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
STYLES = (
    _HEAD + f'<styleSheet xmlns="{_MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
# A sheet's XML stays below this many bytes (zipfile's entry limit without ZIP64 is 2 GiB);
# a million rows of a flood log take about 1.3 GB.
MAX_SHEET_BYTES = 1_500_000_000
SHEET_START = _HEAD + f'<worksheet xmlns="{_MAIN}"><sheetData>'
SHEET_END = "</sheetData></worksheet>"

# XML 1.0 cannot hold these control characters: replaced by U+FFFD in the sheet text at once
# (the markup never contains them, so one pass over a page of rows is enough).
ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def cell(value: Any) -> str:
    """One `<c>` element: numbers as numbers, booleans as booleans, text inline."""
    if value is None:
        return "<c/>"
    cls = value.__class__
    if cls is str:
        if "&" in value or "<" in value or ">" in value:
            value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return f'<c t="inlineStr"><is><t xml:space="preserve">{value}</t></is></c>'
    if cls is bool:
        return f'<c t="b"><v>{int(value)}</v></c>'
    if cls is int or cls is float:
        if value != value or value in (float("inf"), float("-inf")):
            return "<c/>"  # no NaN or infinity in SpreadsheetML
        return f"<v>{value!r}</v>".join(("<c>", "</c>"))
    return cell(str(value))


def rows_xml(rows: Iterable[Iterable[Any]]) -> str:
    text = "".join("<row>" + "".join(map(cell, row)) + "</row>" for row in rows)
    return ILLEGAL_XML.sub("\ufffd", text)


class _Sink:
    """An unseekable file for zipfile: collects what it writes until taken."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes, /) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


class StreamingWorkbook:
    """Sheets written one after another; every method returns the zip bytes produced so far
    (possibly none), to be sent at once."""

    def __init__(self, compresslevel: int = 1) -> None:
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(
            self._sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel
        )
        self._sheets: list[str] = []
        self._part: IO[bytes] | None = None
        self.sheet_bytes = 0  # uncompressed XML of the current sheet so far
        self._zip.writestr("[Content_Types].xml", CONTENT_TYPES)
        self._zip.writestr("_rels/.rels", ROOT_RELS)
        self._zip.writestr("xl/styles.xml", STYLES)

    def start_sheet(self, title: str) -> bytes:
        """A new sheet (title ≤ 31 characters, none of []:*?/\\), ending the previous one."""
        out = self.end_sheet()
        self._sheets.append(title)
        name = f"xl/worksheets/sheet{len(self._sheets)}.xml"
        # No ZIP64 in the local headers (Excel refuses some streamed ZIP64 entries): the caller
        # keeps each sheet under MAX_SHEET_BYTES, below zipfile's 2 GiB entry limit.
        self._part = self._zip.open(name, "w")
        self._part.write(SHEET_START.encode())
        self.sheet_bytes = len(SHEET_START)
        return out + self._sink.take()

    def rows(self, rows: Iterable[Iterable[Any]]) -> bytes:
        assert self._part is not None, "start_sheet first"
        data = rows_xml(rows).encode("utf-8")
        self._part.write(data)
        self.sheet_bytes += len(data)
        return self._sink.take()

    def end_sheet(self) -> bytes:
        if self._part is not None:
            self._part.write(SHEET_END.encode())
            self._part.close()
            self._part = None
        return self._sink.take()

    def close(self) -> bytes:
        out = self.end_sheet()
        sheets = "".join(
            f'<sheet name={quoteattr(t)} sheetId="{i}" r:id="rId{i}"/>'
            for i, t in enumerate(self._sheets, 1)
        )
        self._zip.writestr(
            "xl/workbook.xml",
            _HEAD
            + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{sheets}</sheets></workbook>',
        )
        rels = "".join(
            f'<Relationship Id="rId{i}" Type="{_REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(self._sheets) + 1)
        )
        styles = len(self._sheets) + 1
        rels += f'<Relationship Id="rId{styles}" Type="{_REL}/styles" Target="styles.xml"/>'
        self._zip.writestr(
            "xl/_rels/workbook.xml.rels",
            _HEAD + f'<Relationships xmlns="{_PKG_REL}">{rels}</Relationships>',
        )
        self._zip.close()
        return out + self._sink.take()
