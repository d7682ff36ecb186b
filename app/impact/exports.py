"""The dashboard's tables as CSV (one table) and XLSX (every table, one sheet each)."""
from __future__ import annotations

import csv
import io

from app.impact.metrics import Report, Table

# A cell starting with one of these is a formula to a spreadsheet: quote it (CSV injection).
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _safe(value):  # noqa: ANN001, ANN202
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def write_csv(out: io.StringIO, table: Table) -> None:
    writer = csv.writer(out)
    writer.writerow([_safe(c) for c in table.columns])
    for row in table.rows:
        writer.writerow(["" if v is None else _safe(v) for v in row])
    if table.note:
        writer.writerow([])
        writer.writerow([_safe(table.note)])


def workbook(report: Report) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    first = book.active
    first.title = "Summary"
    f = report.filters
    first.append(["Ponte impact report"])
    first["A1"].font = Font(bold=True, size=14)
    first.append(["From", f.date_from.isoformat()])
    first.append(["To", f.date_to.isoformat()])
    first.append(["Activities", report.courses])
    for section, figures in report.figures.items():
        first.append([])
        first.append([section])
        first.cell(first.max_row, 1).font = Font(bold=True)
        for name, value in figures.items():
            first.append([name, value])
    for table in report.tables.values():
        sheet = book.create_sheet(table.key[:31])
        sheet.append([table.title])
        sheet["A1"].font = Font(bold=True)
        sheet.append([_safe(c) for c in table.columns])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in table.rows:
            sheet.append([_safe(v) for v in row])
        if table.note:
            sheet.append([])
            sheet.append([_safe(table.note)])
        sheet.column_dimensions["A"].width = 44
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
