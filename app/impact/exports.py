"""The dashboard's tables as XLSX, every table on a sheet (CSV: core.http.csv_response)."""
from __future__ import annotations

import io

from app.core.http import spreadsheet_safe as _safe
from app.impact.metrics import Report

_NOT_IN_SHEET_NAMES = str.maketrans({c: " " for c in "[]:*?/\\"})


def workbook(report: Report) -> bytes:
    """Every table of the dashboard, one sheet each (named by its title in the reader's
    language), after a summary with the filter and the key figures."""
    from flask_babel import gettext as _
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from app.impact.metrics import describe, key_figures

    book = Workbook()
    first = book.active
    first.title = _("Summary")[:31]
    first.append([_("Ponte impact report")])
    first["A1"].font = Font(bold=True, size=14)
    for name, value in describe(report.filters):
        first.append([str(name), value])
    first.append([])
    for name, figure, unit in key_figures(report):
        first.append([str(name), figure, unit])
    first.column_dimensions["A"].width = 44
    used = {first.title}
    for table in report.tables.values():
        title = " ".join(table.title.translate(_NOT_IN_SHEET_NAMES).split())[:31]
        while title in used:
            title = title[:28] + f" {len(used)}"
        used.add(title)
        sheet = book.create_sheet(title)
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
