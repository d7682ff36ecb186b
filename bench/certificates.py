"""Certificate rendering and bulk issue, against a bare ReportLab baseline in the same run.

Run:  .venv/bin/python bench/certificates.py   (BENCH_CERTS=500 by default)

Prints certificates per second for Latin and Chinese names and the peak memory growth
over the batch, a bare ReportLab canvas page with the same text and no QR as the
baseline, their ratio, then the whole bulk-issue path (database, render, outbox).
"""
from __future__ import annotations

import datetime as dt
import io
import os
import secrets
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

# Before anything imports config.py: the bulk-issue part works on a throw-away database.
_TMP = Path(tempfile.mkdtemp(prefix="ponte-bench-certs-"))
os.environ.update({"PONTE_CONFIG": "development", "DATABASE_URL": f"sqlite:///{_TMP / 'bench.sqlite3'}",
                   "PONTE_INSTANCE_DIR": str(_TMP), "SECRET_KEY": secrets.token_hex(16), "MAIL_BACKEND": "memory"})
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

N = int(os.environ.get("BENCH_CERTS", "500"))


def snapshot(i: int, chinese: bool) -> dict:
    return {
        "language": "zh" if chinese else "en", "kind": "completion",
        "holder_name": f"Wang Wei {i}" if chinese else f"Giulia Rossi {i}", "holder_native_name": f"王伟{i}" if chinese else "",
        "organisation": "Ponte Foundation for Italy–China Sustainability", "course_title": "Winter School on Low-Carbon Cities",
        "course_kind": "winter_school", "place": "Shanghai", "online": False, "starts_on": "2026-11-28",
        "ends_on": "2026-12-04", "hours": 42, "attendance_rate": 92.9,
        "signatories": [{"name": "Anna Ferraro", "title": "Director"}, {"name": "Zhang Hua", "title": "Lead instructor"}],
        "serial": f"PONTE-2026-{i:06d}", "verification_code": "K1-3F9A-7C2B-1D4E-88AA", "issued_on": "2026-12-05",
        "verify_url": f"https://ponte.example.org/verify/{secrets.token_hex(16)}",
    }


def bare_reportlab(snap: dict) -> bytes:
    """The baseline: one A4 landscape page with the same text and font, no QR, no layout."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.pdfgen import canvas

    from app.certificates.render import _font

    font = _font(None)
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=landscape(A4), invariant=1)
    y = 500
    for value in (snap["organisation"], "Certificate of Completion", snap["holder_name"], snap["holder_native_name"],
                  snap["course_title"], snap["starts_on"], snap["serial"], snap["verify_url"]):
        c.setFont(font, 14)
        c.drawString(60, y, value)
        y -= 30
    c.showPage()
    c.save()
    return buf.getvalue()


def measure(fn, snaps: list[dict]) -> float:
    """Documents per second (no tracing: tracemalloc would slow everything down)."""
    start = time.perf_counter()
    for snap in snaps:
        fn(snap)
    return len(snaps) / (time.perf_counter() - start)


def peak_rss_mib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def memory_flat(fn, snaps: list[dict]) -> tuple[float, float]:
    """Memory still held after the first and after the last tenth of the batch (MiB)."""
    tracemalloc.start()
    tenth = max(len(snaps) // 10, 1)
    for snap in snaps[:tenth]:
        fn(snap)
    early = tracemalloc.get_traced_memory()[0]
    for snap in snaps[tenth:]:
        fn(snap)
    late = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return early / 1024 / 1024, late / 1024 / 1024


def bulk_issue() -> tuple[float, int]:
    from flask_migrate import upgrade

    from app import create_app
    from app.accounts.models import User
    from app.catalogue.models import Course, CourseKind, CourseStatus
    from app.certificates.batches import run_batch, start_batch
    from app.enrolment.models import Enrolment, EnrolmentStatus
    from app.extensions import db
    from app.schedule.models import CourseSession, SessionKind
    from app.teaching.models import Attendance

    app = create_app()
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        today = dt.date.today()
        course = Course(slug="bench", title="Winter School", kind=CourseKind.WINTER_SCHOOL, timezone="Asia/Shanghai",
                        starts_on=today - dt.timedelta(days=10), ends_on=today - dt.timedelta(days=8),
                        status=CourseStatus.PUBLISHED)
        db.session.add(course)
        start = dt.datetime.combine(course.starts_on, dt.time(2), dt.UTC)
        s = CourseSession(course=course, title="Lecture", kind=SessionKind.LECTURE, starts_at=start,
                          ends_at=start + dt.timedelta(hours=3))
        db.session.add(s)
        for i in range(N):
            u = User(email=f"b{i}@example.cn", password_hash="x", full_name=f"Wang Wei {i}", native_name=f"王伟{i}", locale="zh")
            e = Enrolment(course=course, user=u, status=EnrolmentStatus.COMPLETED)
            db.session.add_all([u, e])
            db.session.flush()
            db.session.add(Attendance(session_id=s.id, enrolment_id=e.id, status="present", method="sheet"))
        db.session.commit()
        # the path production takes: "Issue all eligible" starts a batch, a worker runs it
        admin = User(email="admin@example.org", password_hash="x", full_name="Bench Admin")
        db.session.add(admin)
        db.session.commit()
        t0 = time.perf_counter()
        batch = start_batch(course, admin)
        db.session.commit()
        assert run_batch(batch.id)
        db.session.refresh(batch)
        return batch.issued_count / (time.perf_counter() - t0), batch.issued_count


def main() -> None:
    from app.certificates.render import render_certificate

    latin = [snapshot(i, False) for i in range(N)]
    chinese = [snapshot(i, True) for i in range(N)]
    render_certificate(latin[0])  # font registration and imports out of the timing
    bare_reportlab(latin[0])
    base_rate = measure(bare_reportlab, latin)
    latin_rate = measure(render_certificate, latin)
    zh_rate = measure(render_certificate, chinese)
    rss = peak_rss_mib()
    early, late = memory_flat(render_certificate, chinese[: max(N // 5, 50)])
    print(f"Certificates: {N} per run, A4 landscape, WenQuanYi Micro Hei embedded, vector QR")
    print(f"  bare ReportLab page, same text, no QR (baseline) {base_rate:8.1f} /s")
    print(f"  certificate, Latin names                         {latin_rate:8.1f} /s   ratio {latin_rate / base_rate:.0%}")
    print(f"  certificate, Chinese names                       {zh_rate:8.1f} /s   ratio {zh_rate / base_rate:.0%}")
    growth = late - early
    verdict = "flat" if growth < 1 else f"GROWS by {growth:.2f} MiB"
    print(f"  peak RSS of the process {rss:.0f} MiB; Python memory still held after 1/10 of a batch "
          f"{early:.2f} MiB, after all of it {late:.2f} MiB ({verdict})")
    rate, issued = bulk_issue()
    print(f"  bulk issue through a batch, as 'Issue all eligible' runs it (database + render + SHA-256 + outbox): "
          f"{issued} in {issued / rate:.1f} s = {rate:.1f} /s")
    ok = latin_rate >= 100 and growth < 1
    print("  result:", "OK" if ok else "BELOW EXPECTATION (100 Latin certificates per second, flat memory)")


if __name__ == "__main__":
    main()
