"""The hottest queries use an index, on both databases, and the decade of data that
`flask seed scale` builds keeps `flask doctor` clean.

The five hottest pages — the catalogue, a course page, /me, the timetable and a roster —
are requested as their users would, every SELECT they send is recorded with its
parameters, and the database is asked for its plan: SQLite's EXPLAIN QUERY PLAN, and on
PostgreSQL EXPLAIN with sequential scans disabled (so that a missing index shows as a
Seq Scan even on small test tables). No plan may scan a table that grows with the years;
the catalogue's listing must reach courses through an index that starts at "not ended"."""
from __future__ import annotations

import json
import re

import pytest
import sqlalchemy as sa

from app.admin.demo import DEMO_PASSWORD, load_demo
from app.admin.scale import load_scale
from app.catalogue.models import Course
from app.enrolment.models import Enrolment
from app.extensions import db
from app.schedule.models import CourseSession
from app.teaching.models import Attendance
from tests.integrity.harness import assert_doctor_clean

# Tables whose rows pile up with the years; programme, venue and the like stay small.
GROWING = {"course", "enrolment", "course_session", "session_instructor", "attendance", "login_session", "user",
           "certificate", "session_signup", "session_decline", "course_staff", "cohort", "audit_event",
           "outbox_message", "job_run"}
HOT_PAGES = [
    ("participant", "/courses"),
    ("participant", "/courses/winter-school-shanghai"),
    ("participant", "/me"),
    ("participant", "/me/timetable"),
    ("instructor", "/teach/courses/winter-school-shanghai/roster"),
]


@pytest.fixture
def decade(app):
    with app.app_context():
        load_demo()
        summary = load_scale(0.2)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":  # statistics, as autovacuum keeps them in production
            db.session.execute(sa.text("ANALYZE"))
            db.session.commit()
    return summary


def _selects_of(app, who: str, path: str) -> list[tuple[str, object]]:
    client = app.test_client()
    assert client.post("/auth/login", data={"email": f"{who}@example.org", "password": DEMO_PASSWORD}).status_code == 302
    seen = []

    def record(_conn, _cursor, statement, parameters, _context, _many):  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.get(path).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert seen, path
    return seen


def _index_of(conn, name: str) -> tuple[str, str]:  # noqa: ANN001
    """(table, leading column) of a PostgreSQL index."""
    return tuple(conn.exec_driver_sql(
        "SELECT t.relname, a.attname FROM pg_class i JOIN pg_index x ON x.indexrelid = i.oid "
        "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = x.indkey[0] "
        "WHERE i.relname = %(name)s AND pg_table_is_visible(i.oid)", {"name": name}).one())  # this schema's


def _plan(conn, statement: str, parameters) -> tuple[list[str], set[str]]:  # noqa: ANN001
    """(tables read without an index, index names used) for one statement."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
        nodes, stack = [], [(raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]]
        while stack:
            node = stack.pop()
            nodes.append(node)
            stack.extend(node.get("Plans", []))
        # a Seq Scan, or an index searched on a column that does not lead it (a full read of the index)
        scans = [n["Relation Name"] for n in nodes if n["Node Type"] == "Seq Scan"]
        for n in nodes:
            if "Index Cond" in n:
                table, leading = _index_of(conn, n["Index Name"])
                first = re.match(r'[(\s]*"?(\w+)', n["Index Cond"]).group(1)  # "((token_hash)::text = …)"
                if first != leading:
                    scans.append(table)
        return [t for t in scans if t in GROWING], {n["Index Name"] for n in nodes if "Index Name" in n}
    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    details = [row[3] for row in rows]
    scans = [d.split()[1] for d in details if d.startswith("SCAN ") and "INDEX" not in d]
    used = {d.split(" INDEX ")[1].split()[0] for d in details if " INDEX " in d}
    return [t for t in scans if t in GROWING], used


def test_the_decade_is_sized_by_its_factor_and_keeps_the_invariants(app, decade):
    assert (decade.courses, decade.people) == (10, 80 + 4)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Course.id)).where(Course.slug.like("scale-%"))) == 10
        enrolments = db.session.scalar(sa.select(sa.func.count(Enrolment.id)))
        sessions = db.session.scalar(sa.select(sa.func.count(CourseSession.id)))
        attendance = db.session.scalar(sa.select(sa.func.count(Attendance.id)))
        assert decade.enrolments <= enrolments and 300 <= decade.enrolments <= 500
        assert decade.sessions <= sessions and 60 <= decade.sessions <= 100
        assert decade.attendance <= attendance and 1000 <= decade.attendance <= 3000
        past = db.session.scalar(sa.select(sa.func.count(Course.id)).where(
            Course.slug.like("scale-%"), Course.ends_on < sa.func.current_date()))
        assert past >= 7  # most of a decade is history
        with pytest.raises(ValueError, match="already loaded"):
            load_scale(0.2)
        with pytest.raises(ValueError, match="factor"):
            load_scale(0)
    assert_doctor_clean(app)


@pytest.mark.parametrize(("who", "path"), HOT_PAGES)
def test_the_hottest_pages_read_growing_tables_through_indexes(app, decade, who, path):
    statements = _selects_of(app, who, path)
    with app.app_context(), db.engine.connect() as conn:
        for statement, parameters in statements:
            with conn.begin():
                scanned, _used = _plan(conn, statement, parameters)
            assert scanned == [], (path, " ".join(statement.split())[:300])


def test_the_catalogue_reads_courses_from_not_ended_onwards(app, decade):
    statements = _selects_of(app, "participant", "/courses")
    listing = [(s, p) for s, p in statements if s.lstrip().startswith("SELECT course.id") and "LIMIT" in s.upper()]
    assert len(listing) == 1
    with app.app_context(), db.engine.connect() as conn, conn.begin():
        _scanned, used = _plan(conn, *listing[0])
    assert used & {"ix_course_status_ends_on", "ix_course_ends_on_timezone"}, used


def test_the_seed_command_refuses_production_and_a_second_load(app, decade):
    app.config["PONTE_ENV"] = "production"
    result = app.test_cli_runner().invoke(args=["seed", "scale", "--factor", "1"])
    assert result.exit_code != 0 and "never loaded under the production" in result.output
    app.config["PONTE_ENV"] = "testing"
    result = app.test_cli_runner().invoke(args=["seed", "scale", "--factor", "0.1"])
    assert result.exit_code != 0 and "already loaded" in result.output


def test_the_archive_lists_a_page_without_joining_every_row(app, decade):
    """Newest first over ten years: the page's programmes and venues are read by key for
    that page only, not joined to every course before the sort."""
    statements = _selects_of(app, "participant", "/courses?past=1&page=2")
    listing = [(s, p) for s, p in statements if s.lstrip().startswith("SELECT course.id") and "LIMIT" in s.upper()]
    assert len(listing) == 1 and "JOIN" not in listing[0][0].upper()
    with app.app_context(), db.engine.connect() as conn, conn.begin():
        scanned, _used = _plan(conn, *listing[0])
    assert scanned == []


def _course_index_conditions(conn, statement: str, parameters) -> list[str]:  # noqa: ANN001
    """How each search of the course table is bounded, as the plan says it."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar()
        stack, found = [(raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]], []
        while stack:
            node = stack.pop()
            stack.extend(node.get("Plans", []))
            if node.get("Relation Name") == "course" and "Index Cond" in node:
                found.append(node["Index Cond"])
        return found
    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return [row[3].split("(", 1)[1] for row in rows
            if re.match(r"SEARCH (course|course_\d+) USING (COVERING )?INDEX", row[3]) and "(" in row[3]]


@pytest.mark.parametrize(("who", "path"), [("admin", "/admin/"), ("admin", "/admin/impact"), ("participant", "/courses"),
                                           ("participant", "/courses?past=1&page=2"), ("participant", "/me")])
def test_no_course_is_searched_by_starting_before_a_date(app, decade, who, path):
    """"Starts before X" holds for all of history: courses in a range are found from where
    they end, which the range keeps short. Once an index led with (status, starts_on),
    SQLite (without statistics) searched through it, and the impact dashboard's count of
    returning participants took 22 s at factor 100."""
    statements = _selects_of(app, who, path)
    with app.app_context(), db.engine.connect() as conn:
        for statement, parameters in statements:
            with conn.begin():
                conditions = _course_index_conditions(conn, statement, parameters)
            history_wide = [c for c in conditions if re.search(r"starts_on\s*<", c)]
            assert history_wide == [], (path, " ".join(statement.split())[:300])


def test_the_admin_home_counts_waiting_applications_from_the_index(app, decade):
    statements = _selects_of(app, "admin", "/admin/")
    waiting = [(s, p) for s, p in statements if "count(DISTINCT enrolment.course_id)" in s]
    assert len(waiting) == 1
    with app.app_context(), db.engine.connect() as conn, conn.begin():
        _scanned, used = _plan(conn, *waiting[0])
    assert "ix_enrolment_status_course_id_created_at" in used, used


SCALE_PAGES = HOT_PAGES + [
    ("participant", "/courses?kind=seminar&place=Rome&open=1&q=energy"),
    ("participant", "/courses?past=1"),
    ("participant", "/api/v1/courses"),
    ("instructor", "/teach/"),
    ("admin", "/admin/"),
    ("admin", "/admin/courses"),
    ("admin", "/admin/jobs"),
]


def test_no_page_sends_more_queries_after_a_decade_of_history(app):
    """The pages of bench/scale.py, counted with the demo alone and again once a decade of
    courses, people, enrolments, sessions and attendance has been added around it."""
    def counts() -> dict[str, int]:
        return {path: len(_selects_of(app, who, path)) for who, path in SCALE_PAGES}

    with app.app_context():
        load_demo()
        db.session.commit()
    before = counts()
    with app.app_context():
        load_scale(0.3)
        db.session.commit()
    assert counts() == before
