"""The PDF impact report: A4, in English, Italian or Chinese, with vector charts, every
table, and a methodology page (the CO2e factors and the five-response rule). Built by
the `build_impact_reports` job (a long range takes a while; the page shows progress),
or at once by `flask impact report`."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from pathlib import Path
from xml.sax.saxutils import escape

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from app.accounts.models import User
from app.catalogue.models import Programme
from app.certificates.render import _font, printable
from app.core.cas import compare_and_set
from app.core.labels import label
from app.core.types import utcnow
from app.extensions import db
from app.feedback.services import MIN_RESPONSES
from app.impact import co2, metrics
from app.impact.charts import report_charts
from app.impact.models import ImpactReport

log = logging.getLogger(__name__)
KEEP_FOR = dt.timedelta(days=30)


def queue_report(user: User, f: metrics.Filters, lang: str) -> ImpactReport:
    """Queue a report, or give back the same one already waiting (a second click: the
    partial unique index decides, so eight clicks at once queue one)."""
    key = hashlib.sha256(json.dumps(f.as_dict(), sort_keys=True).encode()).hexdigest()
    report = ImpactReport(requested_by_id=user.id, filters=f.as_dict(), filters_key=key, language=lang)
    try:
        with db.session.begin_nested():
            db.session.add(report)
            db.session.flush()
    except sa.exc.IntegrityError:  # a twin request asked first: its report (finished already, at the latest)
        return db.session.scalars(sa.select(ImpactReport).where(
            ImpactReport.requested_by_id == user.id, ImpactReport.language == lang, ImpactReport.filters_key == key)
            .order_by(ImpactReport.id.desc()).limit(1)).one()
    from app.audit.services import record

    record("impact.report_requested", None, actor=user, report=report.id, **{"from": f.date_from.isoformat(),
                                                                            "to": f.date_to.isoformat()})
    return report


def report_dir() -> Path:
    folder = Path(current_app.config["PONTE_REPORT_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def build_pending_reports(now: dt.datetime | None = None) -> dict[str, int]:
    """The job: build every queued report, each claimed by a compare-and-set; forget
    reports older than 30 days with their files."""
    now = now or utcnow()
    built = failed = 0
    for report_id in db.session.scalars(sa.select(ImpactReport.id).where(ImpactReport.status == "queued")).all():
        report = db.session.get_one(ImpactReport, report_id)
        if not compare_and_set(report, ImpactReport.status == "queued", status="building", progress=5):
            db.session.commit()
            continue
        db.session.commit()

        def progress(percent: int, report_id: int = report_id) -> None:
            db.session.execute(sa.update(ImpactReport).where(ImpactReport.id == report_id).values(progress=percent))
            db.session.commit()

        try:
            pdf = render(metrics.Filters.from_dict(report.filters), report.language, progress=progress)
            path = report_dir() / f"impact-{report_id}.pdf"
            path.write_bytes(pdf)
        except Exception as error:  # noqa: BLE001 - one report must not stop the others
            db.session.rollback()
            log.exception("impact report %s failed", report_id)
            compare_and_set(db.session.get(ImpactReport, report_id), ImpactReport.status == "building",
                            status="failed", error=str(error)[:500])
            db.session.commit()
            failed += 1
            continue
        compare_and_set(db.session.get(ImpactReport, report_id), ImpactReport.status == "building", status="ready",
                        progress=100, path=str(path), size=len(pdf), ready_at=utcnow())
        db.session.commit()
        built += 1
    old = db.session.scalars(sa.select(ImpactReport).where(ImpactReport.requested_at < now - KEEP_FOR)).all()
    for report in old:
        if report.path:
            Path(report.path).unlink(missing_ok=True)
        db.session.delete(report)
    db.session.commit()
    return {"built": built, "failed": failed, "removed": len(old)}


def _figures(report: metrics.Report) -> list[tuple[str, str]]:
    """The key figures as the reader's language writes them ("93,6 %" in Italian)."""
    from app.core.numbers import decimal, percent

    def shown(value, unit: str) -> str:  # noqa: ANN001
        if value is None:
            return "–"
        if unit == "%":
            return percent(value)
        return f"{decimal(value)} {unit}".strip()

    return [(name, shown(value, unit)) for name, value, unit in metrics.key_figures(report)]


def render(f: metrics.Filters, lang: str, *, progress=lambda percent: None) -> bytes:  # noqa: ANN001
    """The report as PDF bytes, in `lang`."""
    from io import BytesIO

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, PageBreak, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from app.core.numbers import decimal

    font = _font(current_app.config.get("PONTE_CERT_FONT"))
    with force_locale(lang):
        report = metrics.build(f)
        progress(60)
        charts = report_charts(report)
        styles = {
            "h1": ParagraphStyle("h1", fontName=font, fontSize=18, leading=24, spaceAfter=8),
            "h2": ParagraphStyle("h2", fontName=font, fontSize=13, leading=18, spaceBefore=10, spaceAfter=6),
            "p": ParagraphStyle("p", fontName=font, fontSize=9.5, leading=14, wordWrap="CJK" if lang == "zh" else None),
            # CJK wrapping breaks lines anywhere: right for Chinese, wrong for Latin words.
            "cell": ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=11,
                                   wordWrap="CJK" if lang == "zh" else None),
        }

        def para(text: str, style: str = "p") -> Paragraph:
            return Paragraph(escape(printable(str(text), font)), styles[style])

        def cell(value) -> str:  # noqa: ANN001 - numbers as the language writes them
            if value is None:
                return ""
            return decimal(value) if isinstance(value, int | float) and not isinstance(value, bool) else str(value)

        def table(rows: list[list], widths: list[float] | None = None) -> Table:
            data = [[para(cell(v), "cell") for v in row] for row in rows]
            t = Table(data, colWidths=widths, repeatRows=1)
            t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                                   ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e7f1ee")),
                                   ("VALIGN", (0, 0), (-1, -1), "TOP")]))
            return t

        programme = db.session.get(Programme, f.programme_id) if f.programme_id else None
        scope = [f"{f.date_from.isoformat()} – {f.date_to.isoformat()}"]
        if programme:
            scope.append(programme.title)
        if f.kind:
            scope.append(label(f.kind))
        if f.city:
            scope.append(f.city)
        story = [para(_("Impact report"), "h1"), para(" · ".join(scope)),
                 para(_("Generated on %(date)s by Ponte.", date=utcnow().date().isoformat())), Spacer(1, 6 * mm),
                 para(_("Key figures"), "h2"), table([[_("Measure"), _("Value")]] + [list(x) for x in _figures(report)],
                                                    [110 * mm, 60 * mm])]
        sections = [
            (_("Social reach"), ["countries", "organisation_types", "gender", "returning"]),
            (_("Delivery"), ["courses"]),
            (_("Effectiveness"), ["surveys", "knowledge"]),
            (_("Environment"), ["travel", "avoided"]),
            (_("Train the trainer"), ["multiplier"]),
        ]
        for title, keys in sections:
            story += [PageBreak(), para(title, "h1")]
            for key in keys:
                t = report.tables[key]
                heading = [para(t.title, "h2")]
                if key in charts and charts[key].bars:  # a heading never ends a page without its chart
                    heading += [charts[key].drawing(font, printable), Spacer(1, 3 * mm)]
                story.append(KeepTogether(heading))
                story.append(table([t.columns] + t.rows))
                if t.note:
                    story.append(para(t.note))
        progress(80)
        story += [PageBreak(), para(_("Methodology"), "h1")] + [para(p) for p in methodology_paragraphs()]
        story.append(table([[_("Mode"), _("Applies to"), _("kg CO2e per passenger-km")]]
                           + [[str(x.label), str(x.applies), f"{x.kg_per_passenger_km:.5f}"] for x in co2.factor_table()],
                           [85 * mm, 40 * mm, 45 * mm]))
        story.append(para(_("Source: %(source)s (%(version)s).", source=co2.FACTORS_SOURCE, version=co2.FACTORS_VERSION)))

        def footer(canvas, doc) -> None:  # noqa: ANN001
            canvas.setFont(font, 8)
            canvas.drawRightString(A4[0] - 15 * mm, 10 * mm, f"{doc.page}")
            canvas.drawString(15 * mm, 10 * mm, printable(_("Ponte impact report"), font))

        out = BytesIO()
        doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                                bottomMargin=18 * mm, title=_("Impact report"), author="Ponte", lang=lang)
        doc.build(story, onFirstPage=footer, onLaterPages=footer)
        progress(95)
        return out.getvalue()


def methodology_paragraphs() -> list[str]:
    """The methodology in words, shared by the page and the PDF."""
    return [
        _("Scope: published and archived activities whose dates meet the range; cancelled activities and drafts are "
          "left out. People are those who held a place (accepted, passed or not passed)."),
        _("Survey results are shown only from %(num)d responses, for an activity and for every breakdown, so that "
          "nobody can be recognised by their answers. Staff never see who answered what; comments are shown "
          "without names.", num=MIN_RESPONSES),
        _("NPS (Net Promoter Score) is the percentage of answers of 9 or 10 minus the percentage of answers from 0 "
          "to 6 to “How likely are you to recommend it to a colleague?”."),
        _("Travel emissions: for each person who attended an activity in person at least once, the great-circle "
          "distance from their city (their survey answer, else their profile) to the venue, there and back (× 2), "
          "with a routing uplift of × %(uplift)s, times the factor of the mode they named. Flights use the band of "
          "the one-way distance. Without an answer, the mode is assumed from the distance: under %(local)d km local "
          "(zero), under %(plane)d km train, else plane; the number of assumed modes is shown.",
          uplift=str(co2.ROUTING_UPLIFT), local=co2.LOCAL_BELOW_KM, plane=co2.ASSUME_PLANE_FROM_KM),
        _("City coordinates come from GeoNames (cities of 15,000 people or more), installed with Ponte. A city that "
          "is not found is counted as “distance unknown”, never guessed."),
        _("Emissions avoided: people who attended an online activity, as if they had travelled from their city to "
          "the place the activity is run from, with the mode assumed from the distance."),
        _("Train the trainer: people who completed an activity marked “train the trainer” in the range and later "
          "joined the staff of an activity that started after it ended, with the number of people those activities "
          "reached."),
    ]
