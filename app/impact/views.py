"""/admin/impact: the dashboard (admins: everything; instructors: their own courses), its
methodology, CSV and XLSX of every table, and PDF reports built in the background."""
from __future__ import annotations

import datetime as dt
import io

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.access import staff_required
from app.catalogue.models import CourseKind, Programme
from app.core.db import begin_write
from app.core.forms import ConfirmForm
from app.core.http import csv_response, db_id
from app.extensions import db, limiter
from app.feedback.services import MIN_RESPONSES
from app.impact import co2, exports, metrics
from app.impact.charts import report_charts
from app.impact.models import ImpactReport
from app.impact.reports import methodology_paragraphs, queue_report

bp = Blueprint("impact", __name__, url_prefix="/admin/impact")


class BadFilter(ValueError):
    pass


def _filters() -> metrics.Filters:
    """The filter in the query string; defaults to the last twelve months."""
    args = request.values  # the query string, or the fields of the report form
    base = metrics.default_filters()
    try:
        date_from = dt.date.fromisoformat(args["from"]) if args.get("from") else base.date_from
        date_to = dt.date.fromisoformat(args["to"]) if args.get("to") else base.date_to
    except ValueError:
        raise BadFilter(_("Dates are written as YYYY-MM-DD.")) from None
    if date_to < date_from:
        raise BadFilter(_("The range ends before it starts."))
    if (date_to - date_from).days > metrics.MAX_RANGE_DAYS:
        raise BadFilter(_("The range is at most twenty years."))
    programme_id = None
    if args.get("programme"):
        try:  # "²" is a digit to str.isdigit, not to int(); a huge number is no id either
            programme_id = db_id(args["programme"])
        except ValueError:
            raise BadFilter(_("Unknown programme.")) from None
        if db.session.get(Programme, programme_id) is None:
            raise BadFilter(_("Unknown programme."))
    kind = None
    if args.get("kind"):
        try:
            kind = CourseKind(args["kind"])
        except ValueError:
            raise BadFilter(_("Unknown kind of activity.")) from None
    city = (args.get("city") or "").strip() or None
    if city and len(city) > 100:
        raise BadFilter(_("A city name has at most 100 characters."))
    staff_id = None if current_user.is_admin else current_user.id
    return metrics.Filters(date_from, date_to, programme_id, kind, city, staff_id)


def _query(f: metrics.Filters) -> dict:
    return {k: v for k, v in {"from": f.date_from.isoformat(), "to": f.date_to.isoformat(), "programme": f.programme_id,
                              "kind": f.kind.value if f.kind else None, "city": f.city}.items() if v}


def _choices() -> dict:
    return {"programmes": db.session.execute(sa.select(Programme.id, Programme.title).order_by(Programme.title)).all(),
            "kinds": list(CourseKind)}


@bp.route("")
@staff_required
def dashboard():
    try:
        f = _filters()
    except BadFilter as error:
        return render_template("impact/dashboard.html", report=None, error=str(error), args=request.args,
                               **_choices()), 400
    report = metrics.build(f)
    return render_template("impact/dashboard.html", report=report, charts=report_charts(report), error=None,
                           args=request.args, query=_query(f), minimum=MIN_RESPONSES, confirm_form=ConfirmForm(),
                           version=co2.FACTORS_VERSION, **_choices())


@bp.route("/methodology")
@staff_required
def methodology():
    return render_template("impact/methodology.html", factors=co2.factor_table(), version=co2.FACTORS_VERSION,
                           source=co2.FACTORS_SOURCE, uplift=co2.ROUTING_UPLIFT, plane_from=co2.ASSUME_PLANE_FROM_KM,
                           local_below=co2.LOCAL_BELOW_KM, minimum=MIN_RESPONSES, paragraphs=methodology_paragraphs())


def _filters_or_400() -> metrics.Filters:
    try:
        return _filters()
    except BadFilter as error:
        abort(400, str(error))


@bp.route("/export.csv")
@staff_required
def export_csv():
    f = _filters_or_400()
    report = metrics.build(f)
    table = report.tables.get(request.args.get("table", ""))
    if table is None:
        abort(400, _("Unknown table."))
    rows = table.rows + ([[], [table.note]] if table.note else [])
    return csv_response(f"impact-{table.key}-{f.date_from}-{f.date_to}.csv", table.columns, rows)


@bp.route("/export.xlsx")
@staff_required
def export_xlsx():
    f = _filters_or_400()
    data = exports.workbook(metrics.build(f))
    return send_file(io.BytesIO(data), as_attachment=True, download_name=f"impact-{f.date_from}-{f.date_to}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.route("/reports")
@staff_required
def reports():
    """Ask for a PDF report of the filter shown (the dashboard's "PDF report…" button
    brings its current fields), and find the reports asked for before."""
    try:
        f = _filters()
    except BadFilter as error:
        flash(str(error), "danger")
        return redirect(url_for("impact.dashboard")), 303
    mine = db.session.scalars(sa.select(ImpactReport).where(ImpactReport.requested_by_id == current_user.id)
                              .order_by(ImpactReport.id.desc()).limit(10)).all()
    return render_template("impact/reports.html", filters=f, described=metrics.describe(f), query=_query(f),
                           reports=[(r, metrics.Filters.from_dict(r.filters)) for r in mine],
                           form=ConfirmForm(), lang=str(get_locale() or "en"))


@bp.route("/reports", methods=["POST"])
@staff_required
@limiter.limit("20 per hour", key_func=lambda: f"impact-report:{current_user.get_id()}")
def request_report():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        f = _filters()
    except BadFilter as error:
        flash(str(error), "danger")
        return redirect(url_for("impact.dashboard")), 303
    lang = request.form.get("lang") or str(get_locale() or "en")
    if lang not in ("en", "it", "zh"):
        abort(400)
    begin_write()
    report = queue_report(current_user, f, lang)
    db.session.commit()
    return redirect(url_for("impact.report_status", report_id=report.id))


def _own_report(report_id: int) -> ImpactReport:
    report = db.session.get(ImpactReport, report_id)
    if report is None or report.requested_by_id != current_user.id:
        abort(404)
    return report


@bp.route("/reports/<int:report_id>")
@staff_required
def report_status(report_id: int):
    report = _own_report(report_id)
    return render_template("impact/report_status.html", report=report,
                           filters=metrics.Filters.from_dict(report.filters))


@bp.route("/reports/<int:report_id>/download")
@staff_required
def report_download(report_id: int):
    report = _own_report(report_id)
    if report.status != "ready" or not report.path:
        abort(404)
    f = metrics.Filters.from_dict(report.filters)
    try:
        return send_file(report.path, mimetype="application/pdf", as_attachment=True,
                         download_name=f"impact-report-{f.date_from}-{f.date_to}-{report.language}.pdf")
    except FileNotFoundError:
        abort(404)
