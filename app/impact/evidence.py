"""Evidence for funders: an attendance list per session and a participants list per
course, as PDF (A4 portrait), and a ZIP of every list of a course.

Reads only: each function takes ids, queries, and returns a file name and bytes; it
never writes or commits. Who may see what is the caller's business (evidence_views.py):
it passes the cohort a staff member is bound to (`cohort_id`), and the lists then hold
that cohort's people and sessions only. A document costs the same few queries whatever
the number of people.

The programme's funding statement and logo are printed on every page (logo top left,
statement in the footer with "page / pages"). Text uses the certificates' font (Latin
and Chinese) through `printable()`, and every user-supplied string is escaped before it
reaches Paragraph markup, so a name such as `<b>&` is printed as typed.
"""
from __future__ import annotations

import io
import logging
import re
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import escape

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import get_locale
from flask_babel import gettext as _
from PIL import Image
from reportlab.lib.colors import HexColor, white
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen import canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from app.accounts.models import User
from app.catalogue.models import Course
from app.certificates.render import _font, printable
from app.core.labels import label
from app.core.timezones import skeleton, to_local
from app.core.types import utcnow
from app.enrolment.models import HOLDS_PLACE, Enrolment
from app.extensions import db
from app.schedule.models import CourseSession, SessionStatus
from app.teaching.models import Attendance, AttendanceMethod, AttendanceStatus, Cohort

log = logging.getLogger(__name__)

PAGE_W, PAGE_H = A4
SIDE = 15 * mm
INSET = 6  # the padding of the page's frame: the footer and logo line up with the text
CONTENT_W = PAGE_W - 2 * SIDE - 2 * INSET
TOP = 12 * mm
BOTTOM = 10 * mm
LOGO_H = 30 * mm
LOGO_MAX_W = 80 * mm
FOOT_SIZE, FOOT_LEADING = 7.5, 9.5
GREEN = HexColor("#0b5d4b")
INK = HexColor("#1f2a2e")
GREY = HexColor("#5f6b6d")
RULE = HexColor("#b7c2c4")
STRIPE = HexColor("#f2f5f5")
ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)


# --- what the pages carry ------------------------------------------------------------

@dataclass
class _Page:
    """What every page of one document shows besides its flow: the funder's logo, the
    funding statement and "n / N"."""

    font: str
    label: str
    statement: list[str]  # already wrapped to the page width
    logo: ImageReader | None
    logo_w: float = 0
    logo_h: float = 0

    @property
    def top_margin(self) -> float:
        return TOP + (self.logo_h + 5 * mm if self.logo else 0)

    @property
    def bottom_margin(self) -> float:
        return BOTTOM + FOOT_LEADING * (len(self.statement) + 1) + 6 * mm

    def decorate(self, c: canvas.Canvas, number: int, total: int) -> None:
        c.saveState()
        if self.logo:
            c.drawImage(self.logo, SIDE + INSET, PAGE_H - TOP - self.logo_h, self.logo_w, self.logo_h, mask="auto")
        left_x, right_x = SIDE + INSET, PAGE_W - SIDE - INSET
        c.setFont(self.font, FOOT_SIZE)
        c.setFillColor(GREY)
        pages = f"{number} / {total}"
        c.drawRightString(right_x, BOTTOM, pages)
        room = CONTENT_W - pdfmetrics.stringWidth(pages, self.font, FOOT_SIZE) - 8 * mm
        left = simpleSplit(self.label, self.font, FOOT_SIZE, room)
        c.drawString(left_x, BOTTOM, left[0] + ("…" if len(left) > 1 else "") if left else "")
        c.setStrokeColor(RULE)
        c.setLineWidth(0.4)
        c.line(left_x, BOTTOM + FOOT_LEADING, right_x, BOTTOM + FOOT_LEADING)
        y = BOTTOM + FOOT_LEADING * (len(self.statement) + 1)
        c.setFillColor(INK)
        for line in self.statement:
            c.drawString(left_x, y, line)
            y -= FOOT_LEADING
        c.restoreState()


def _canvas_for(page: _Page) -> type[canvas.Canvas]:
    """A canvas that keeps its pages until the end, so that each can say "n / N"."""

    class PageCanvas(canvas.Canvas):
        def __init__(self, *args, **kwargs):  # noqa: ANN002, ANN003
            super().__init__(*args, **kwargs)
            self._kept: list[dict] = []

        def showPage(self) -> None:  # noqa: N802 - ReportLab's name
            self._kept.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._kept)
            for number, state in enumerate(self._kept, 1):
                self.__dict__.update(state)
                page.decorate(self, number, total)
                canvas.Canvas.showPage(self)
            canvas.Canvas.save(self)

    return PageCanvas


def _logo(data: bytes | None) -> tuple[ImageReader | None, float, float]:
    """The logo scaled to 30 mm high (narrower when it would be wider than 80 mm). A logo
    that cannot be read is left out rather than failing the whole list."""
    if not data:
        return None, 0, 0
    try:
        image: Image.Image = Image.open(io.BytesIO(data), formats=["PNG", "JPEG"])
        image.load()
        if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "CMYK"):
            image = image.convert("RGBA")
        w, h = image.size
        reader = ImageReader(image)
    except Exception:  # noqa: BLE001 - checked on upload; never let a bad logo break the evidence
        log.warning("funding logo could not be read; lists printed without it", exc_info=True)
        return None, 0, 0
    scale = min(LOGO_H / h, LOGO_MAX_W / w)
    return reader, w * scale, h * scale


def _page(course: Course, font: str, label_text: str) -> _Page:
    programme = course.programme
    statement = _lines(programme.funding_statement if programme else "", font)
    wrapped = [part for line in statement for part in simpleSplit(line, font, FOOT_SIZE, CONTENT_W)]
    logo, w, h = _logo(programme.funding_logo if programme else None)
    return _Page(font, printable(label_text, font), wrapped[:12], logo, w, h)


def _lines(text: str, font: str) -> list[str]:
    """`text` line by line, each stripped of what the font cannot print; empty lines dropped."""
    return [line for line in (printable(raw, font) for raw in (text or "").splitlines()) if line]


# --- text and tables -------------------------------------------------------------------

class _Styles:
    def __init__(self, font: str) -> None:
        self.font = font
        self.cell = ParagraphStyle("cell", fontName=font, fontSize=8.5, leading=10.5, textColor=INK)
        self.note = ParagraphStyle("note", parent=self.cell, fontSize=7.5, leading=9.5, textColor=GREY)
        self.head = ParagraphStyle("head", parent=self.cell, textColor=white)
        self.title = ParagraphStyle("title", parent=self.cell, fontSize=16, leading=20, textColor=GREEN)
        self.subtitle = ParagraphStyle("subtitle", parent=self.cell, fontSize=11.5, leading=15, spaceAfter=4)
        self.key = ParagraphStyle("key", parent=self.cell, fontSize=9, leading=12, textColor=GREY)
        self.value = ParagraphStyle("value", parent=self.cell, fontSize=9, leading=12)

    def text(self, value: str | None, style: ParagraphStyle | None = None) -> Paragraph:
        """User text (or a label) as a Paragraph: printable, escaped, never markup."""
        return Paragraph(self.safe(value), style or self.cell)

    def safe(self, value: str | None) -> str:
        return escape(printable(value or "", self.font))

    def two_lines(self, first: str | None, second: str | None, style: ParagraphStyle | None = None) -> Paragraph:
        """A main line and a grey second line (a name in both scripts; a status and how it was taken)."""
        markup = self.safe(first)
        if second and self.safe(second):
            markup += f'<br/><font color="#5f6b6d">{self.safe(second)}</font>'
        return Paragraph(markup, style or self.cell)


def _heading(st: _Styles, title: str, subtitle: str, meta: list[tuple[str, str]]) -> list:
    rows = [[st.text(k, st.key), st.text(v, st.value)] for k, v in meta if v]
    table = Table(rows, colWidths=[45 * mm, CONTENT_W - 45 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1)]))
    return [st.text(title, st.title), st.text(subtitle, st.subtitle), table, Spacer(1, 5 * mm)]


def _table(st: _Styles, header: list[str], rows: list[list], shares: list[float]) -> Table:
    """A table over the page's width (`shares`: the columns' relative widths) whose header
    row repeats on every page."""
    widths = [CONTENT_W * share / sum(shares) for share in shares]
    table = Table([[st.text(h, st.head) for h in header]] + rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, 0), GREEN),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [white, STRIPE]),
        ("GRID", (0, 0), (-1, -1), 0.4, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]))
    return table


def _build(page: _Page, story: list, title: str) -> bytes:
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=SIDE, rightMargin=SIDE, topMargin=page.top_margin,
                            bottomMargin=page.bottom_margin, title=printable(title, page.font), author="Ponte",
                            creator="Ponte", subject=page.label)
    doc.build(story, canvasmaker=_canvas_for(page))
    return buf.getvalue()


# --- reading the database ----------------------------------------------------------------

def _course(course_id: int) -> Course:
    return db.session.scalars(sa.select(Course).where(Course.id == course_id).options(
        so.joinedload(Course.programme), so.joinedload(Course.venue))).one()


def _cohort_names(course_id: int) -> dict[int, str]:
    return dict(db.session.execute(sa.select(Cohort.id, Cohort.name).where(Cohort.course_id == course_id)).tuples().all())


def _marks(where: sa.ColumnElement[bool]) -> dict[tuple[int, int], Attendance]:
    """Attendance rows by (session, enrolment), with who recorded them, in one query."""
    return {(a.session_id, a.enrolment_id): a for a in db.session.scalars(
        sa.select(Attendance).where(where).options(so.joinedload(Attendance.recorded_by)))}


def _people(course_id: int, cohort_id: int | None, with_rows: sa.Select | None = None) -> list[Enrolment]:
    """The course's enrolments that hold a place — and, for attendance lists, those with
    an attendance row though they no longer hold one (they did attend) — with their users,
    in one query, by name."""
    holds = Enrolment.status.in_(HOLDS_PLACE)
    stmt = (sa.select(Enrolment).join(Enrolment.user)
            .where(Enrolment.course_id == course_id,
                   holds if with_rows is None else sa.or_(holds, Enrolment.id.in_(with_rows)))
            .options(so.contains_eager(Enrolment.user)).order_by(User.full_name, Enrolment.id))
    if cohort_id is not None:
        stmt = stmt.where(Enrolment.cohort_id == cohort_id)
    return list(db.session.scalars(stmt))


def _in_session(session: CourseSession, e: Enrolment, marks: dict) -> bool:
    """Whether `e` belongs on the session's list: expected there, or recorded there."""
    if (session.id, e.id) in marks:
        return True
    return e.status in HOLDS_PLACE and (session.cohort_id is None or e.cohort_id == session.cohort_id)


def _visible_sessions(course_id: int, cohort_id: int | None) -> list[CourseSession]:
    """The course's sessions that are not cancelled, of the whole course or of `cohort_id`."""
    stmt = (sa.select(CourseSession).where(CourseSession.course_id == course_id,
                                           CourseSession.status == SessionStatus.SCHEDULED)
            .options(so.joinedload(CourseSession.venue), so.selectinload(CourseSession.instructors))
            .order_by(CourseSession.starts_at, CourseSession.id))
    if cohort_id is not None:
        stmt = stmt.where(sa.or_(CourseSession.cohort_id.is_(None), CourseSession.cohort_id == cohort_id))
    return list(db.session.scalars(stmt))


# --- the words ---------------------------------------------------------------------------

def _country(code: str | None) -> str:
    if not code:
        return ""
    locale = get_locale()
    return (locale.territories.get(code.upper()) if locale else None) or code


def _place(course: Course, session: CourseSession | None = None) -> str:
    venue = (session.venue if session else None) or course.venue
    if venue is not None and venue.is_online:
        return _("Online")
    if venue is not None:
        return ", ".join(part for part in (venue.name, venue.address, venue.city) if part)
    if course.is_online or (session is not None and session.join_url):
        return _("Online")
    return course.city or ""


def _when(session: CourseSession, tz: str) -> tuple[str, str]:
    start, end = to_local(session.starts_at, tz), to_local(session.ends_at, tz)
    day = skeleton(start, "full_date")
    if end.date() != start.date():
        day += " – " + skeleton(end, "full_date")
    return day, f"{skeleton(start, 'time')}–{skeleton(end, 'time')} ({tz})"


def _printed(tz: str) -> str:
    return f"{skeleton(to_local(utcnow(), tz), 'medium')} ({tz})"


def _how(row: Attendance | None, session: CourseSession, tz: str) -> tuple[str, str]:
    """(status, how it was taken) for one attendance cell."""
    if row is None:
        return _("Not recorded"), ""
    if row.method is AttendanceMethod.SELF_CHECKIN:
        at = to_local(row.recorded_at, tz)
        same_day = at.date() == to_local(session.starts_at, tz).date()
        how = _("Self check-in at %(time)s", time=skeleton(at, "time" if same_day else "MMMdHm"))
    elif row.method is AttendanceMethod.IMPORT:
        how = _("Imported")
    elif row.recorded_by is not None:
        how = _("Attendance sheet, recorded by %(name)s", name=row.recorded_by.full_name)
    else:
        how = label(row.method)
    return label(row.status), how


def _course_meta(course: Course, cohort_name: str | None) -> list[tuple[str, str]]:
    return [(_("Programme"), course.programme.title if course.programme else ""),
            (_("Cohort"), cohort_name or "")]


# --- the documents -----------------------------------------------------------------------

def _attendance_pdf(course: Course, session: CourseSession, people: list[Enrolment], marks: dict,
                    cohorts: dict[int, str], cohort_id: int | None) -> bytes:
    font = _font(None)
    st = _Styles(font)
    tz = course.timezone
    day, hours = _when(session, tz)
    title = _("Attendance list")
    session_title = session.title + (f" ({_('cancelled')})" if session.status is SessionStatus.CANCELLED else "")
    rows, attended = [], 0
    for n, e in enumerate(people, 1):
        mark = marks.get((session.id, e.id))
        attended += bool(mark and mark.status in ATTENDED)
        status, how = _how(mark, session, tz)
        rows.append([st.text(str(n)), st.two_lines(e.user.full_name, e.user.native_name), st.text(e.user.organisation),
                     st.text(_country(e.user.country)), st.two_lines(status, how), Spacer(1, 20)])
    meta = [(_("Session"), session_title), (_("Date"), day), (_("Time"), hours), (_("Venue"), _place(course, session)),
            (_("Instructors"), ", ".join(u.full_name for u in session.instructors)),
            *_course_meta(course, cohorts.get(session.cohort_id or cohort_id or 0)),
            (_("Participants"), str(len(people))), (_("Attended (present or late)"), str(attended)),
            (_("Printed"), _printed(tz))]
    story = _heading(st, title, course.title, meta)
    if rows:
        story.append(_table(st, ["#", _("Participant"), _("Organisation"), _("Country"), _("Attendance"), _("Signature")],
                            rows, [8, 44, 38, 22, 38, 30]))
    else:
        story.append(st.text(_("Nobody is expected at this session."), st.value))
    story += [Spacer(1, 10 * mm), _signature_line(st)]
    page = _page(course, font, f"{title} · {course.title} · {session.title} · {day}")
    return _build(page, story, f"{title} – {session.title}")


def _signature_line(st: _Styles) -> Table:
    line = Table([[st.text(_("Instructor (name and signature)"), st.value), ""]], colWidths=[60 * mm, 70 * mm],
                 rowHeights=[12 * mm], hAlign="LEFT")
    line.setStyle(TableStyle([("LINEBELOW", (1, 0), (1, 0), 0.6, INK), ("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                              ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return line


def _participants_pdf(course: Course, people: list[Enrolment], sessions: list[CourseSession], marks: dict,
                      cohorts: dict[int, str], cohort_id: int | None) -> bytes:
    font = _font(None)
    st = _Styles(font)
    now = utcnow()
    held = [s for s in sessions if s.counts_for_attendance and s.ends_at <= now]
    rows = []
    for n, e in enumerate(people, 1):
        attended = counted = 0
        for s in held:
            if s.cohort_id is not None and s.cohort_id != e.cohort_id:
                continue
            status = getattr(marks.get((s.id, e.id)), "status", None)
            if status is AttendanceStatus.EXCUSED:
                continue
            counted += 1
            attended += status in ATTENDED
        rows.append([st.text(str(n)), st.two_lines(e.user.full_name, e.user.native_name), st.text(e.user.organisation),
                     st.text(_country(e.user.country)), st.text(label(e.status)), st.text(f"{attended} / {counted}")])
    title = _("Participants list")
    dates = skeleton(course.starts_on, "date")
    if course.ends_on != course.starts_on:
        dates += " – " + skeleton(course.ends_on, "date")
    meta = [(_("Dates"), dates), (_("Venue"), _place(course)), *_course_meta(course, cohorts.get(cohort_id or 0)),
            (_("Participants"), str(len(people))), (_("Printed"), _printed(course.timezone))]
    story = _heading(st, title, course.title, meta)
    if rows:
        story.append(_table(st, ["#", _("Participant"), _("Organisation"), _("Country"), _("Status"), _("Sessions attended")],
                            rows, [8, 50, 50, 26, 24, 22]))
        story += [Spacer(1, 3 * mm), st.text(_(
            "Sessions attended: sessions at which the participant was present or late, out of the sessions held so far "
            "that count for attendance; excused absences are left out of both."), st.note)]
    else:
        story.append(st.text(_("Nobody holds a place yet."), st.value))
    page = _page(course, font, f"{title} · {course.title}")
    return _build(page, story, f"{title} – {course.title}")


# --- file names and the public functions ----------------------------------------------------

def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:80] or "course"


def attendance_filename(session: CourseSession, tz: str) -> str:
    """attendance-2026-07-06-0930-<id>.pdf: the local start, then the id (two sessions may start together)."""
    return f"attendance-{to_local(session.starts_at, tz):%Y-%m-%d-%H%M}-{session.id}.pdf"


def participants_filename(course: Course) -> str:
    return f"participants-{_safe(course.slug)}.pdf"


def zip_filename(course: Course) -> str:
    return f"lists-{_safe(course.slug)}.zip"


def attendance_list(course_id: int, session_id: int, cohort_id: int | None = None) -> tuple[str, bytes]:
    """The attendance list of one session: (file name, PDF). `cohort_id`: only that
    cohort's people (staff bound to a cohort). Five queries, however many people."""
    course = _course(course_id)
    session = db.session.scalars(sa.select(CourseSession).where(
        CourseSession.id == session_id, CourseSession.course_id == course_id)
        .options(so.joinedload(CourseSession.venue), so.selectinload(CourseSession.instructors))).one()
    marks = _marks(Attendance.session_id == session.id)
    people = [e for e in _people(course_id, cohort_id, sa.select(Attendance.enrolment_id).where(
        Attendance.session_id == session.id)) if _in_session(session, e, marks)]
    pdf = _attendance_pdf(course, session, people, marks, _cohort_names(course_id), cohort_id)
    return attendance_filename(session, course.timezone), pdf


def _participants_data(course_id: int, cohort_id: int | None) -> tuple[list[Enrolment], list[CourseSession], dict]:
    sessions = _visible_sessions(course_id, cohort_id)
    of_course = Attendance.session_id.in_(sa.select(CourseSession.id).where(CourseSession.course_id == course_id))
    return _people(course_id, cohort_id, sa.select(Attendance.enrolment_id).where(of_course)), sessions, _marks(of_course)


def participants_list(course_id: int, cohort_id: int | None = None) -> tuple[str, bytes]:
    """Everyone who holds a place (of `cohort_id` only, when given): (file name, PDF)."""
    course = _course(course_id)
    people, sessions, marks = _participants_data(course_id, cohort_id)
    holders = [e for e in people if e.status in HOLDS_PLACE]
    pdf = _participants_pdf(course, holders, sessions, marks, _cohort_names(course_id), cohort_id)
    return participants_filename(course), pdf


def all_lists(course_id: int, cohort_id: int | None = None) -> tuple[str, bytes]:
    """A ZIP of the participants list and one attendance list per session that is not
    cancelled (of `cohort_id` and the whole course only, when given). The data is read
    once for all lists: six queries, however many people and sessions."""
    course = _course(course_id)
    cohorts = _cohort_names(course_id)
    people, sessions, marks = _participants_data(course_id, cohort_id)
    stamp = to_local(utcnow(), course.timezone).timetuple()[:6]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        def add(name: str, data: bytes) -> None:
            zf.writestr(zipfile.ZipInfo(name, date_time=stamp), data, compress_type=zipfile.ZIP_DEFLATED)

        holders = [e for e in people if e.status in HOLDS_PLACE]
        add(participants_filename(course), _participants_pdf(course, holders, sessions, marks, cohorts, cohort_id))
        for session in sessions:
            listed = [e for e in people if _in_session(session, e, marks)]
            add(attendance_filename(session, course.timezone),
                _attendance_pdf(course, session, listed, marks, cohorts, cohort_id))
    return zip_filename(course), buf.getvalue()

