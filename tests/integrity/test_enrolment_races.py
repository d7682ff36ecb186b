"""Eight identical clicks at once, and two people acting on one enrolment at once.

Before the compare-and-set (094c85b and earlier), each move checked the status in
Python and then wrote without a condition. Under PostgreSQL's READ COMMITTED both
requests of a double click passed the check: measured from outside, eight Withdraws at
once released eight places for one person ("released a place ... that was not taken",
500s), one course held 9 people in 8 places, and every twin queued its own email and
audit event. These tests fail against that version on PostgreSQL (see the README,
"Integrity", for how it was shown failing) and pass on both databases now: exactly one
request makes the change, the others are told how it stands (409), no 5xx, one email and
one audit event per real change, and `flask doctor` finds nothing.
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from app.accounts.models import Role
from app.catalogue.models import Course, EnrolmentMode
from app.core.types import utcnow
from app.enrolment import services
from app.enrolment.models import Enrolment
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from app.teaching.models import CourseStaff, StaffRole
from tests.factories import CourseFactory, UserFactory
from tests.integrity.harness import (
    Shot,
    assert_doctor_clean,
    audits,
    emails,
    no_5xx,
    outcome,
    race,
    same,
    signed_in,
    twins,
)


def _world(app, *, capacity: int = 2, mode: EnrolmentMode = EnrolmentMode.OPEN, people: int = 3, **course):
    """A course with a lead instructor and `people` participants enrolled in order
    (with capacity 2 and 3 people: two accepted, one waiting)."""
    with app.app_context():
        c = CourseFactory(capacity=capacity, enrolment_mode=mode, **course)
        lead = UserFactory(email=f"lead-{c.slug}@example.org", role=Role.INSTRUCTOR)
        db.session.add(CourseStaff(course_id=c.id, user_id=lead.id, role=StaffRole.LEAD))
        users = [UserFactory(email=f"p{i}-{c.slug}@example.org") for i in range(people)]
        db.session.commit()
        for u in users:
            services.enrol(c.id, u)
            db.session.commit()
        ids = [services.get_enrolment(c.id, u.id).id for u in users]
        result = (c.id, c.slug, lead.email, [u.email for u in users], ids)
        db.session.remove()
    return result


def _status(app, enrolment_id: int) -> S:
    with app.app_context():
        return db.session.get(Enrolment, enrolment_id).status


def _seats(app, course_id: int) -> int:
    with app.app_context():
        return db.session.get(Course, course_id).seats_taken


def test_eight_withdrawals_release_one_place_and_promote_one_person(app):
    course_id, slug, _lead, emails_, (a, _b, waiting) = _world(app)
    codes = race(same(Shot(None, f"/courses/{slug}/withdraw"), twins(app, emails_[0])))
    no_5xx(codes)
    assert outcome(codes) == {302: 1, 409: 7}
    assert _status(app, a) is S.WITHDRAWN and _status(app, waiting) is S.ACCEPTED
    assert _seats(app, course_id) == 2
    with app.app_context():
        assert audits("enrolment.withdrawn") == 1 and audits("enrolment.promoted") == 1
        assert emails("enrolment", emails_[0]) == 2  # accepted, withdrawn: once each
        assert emails("enrolment", emails_[2]) == 2  # waiting, promoted
    assert_doctor_clean(app)


def test_a_late_twin_is_told_it_has_already_withdrawn(app):
    _course_id, slug, _lead, emails_, _ids = _world(app)
    client = signed_in(app, emails_[0])
    assert client.post(f"/courses/{slug}/withdraw").status_code == 302
    again = client.post(f"/courses/{slug}/withdraw")
    assert again.status_code == 409 and "already withdrawn" in again.get_data(as_text=True)


def _staff_race(app, lead: str, path: str, data: dict | None = None) -> list[int]:
    codes = race(same(Shot(None, path, data or {}), twins(app, lead)))
    no_5xx(codes)
    return codes


def test_eight_approvals_accept_once(app):
    course_id, slug, lead, emails_, ids = _world(app, mode=EnrolmentMode.APPROVAL, people=1)
    codes = _staff_race(app, lead, f"/teach/courses/{slug}/enrolments/{ids[0]}/approve")
    assert outcome(codes) == {302: 1, 409: 7}
    assert _status(app, ids[0]) is S.ACCEPTED and _seats(app, course_id) == 1
    with app.app_context():
        assert audits("enrolment.accepted") == 1
        assert emails("enrolment", emails_[0]) == 2  # received, accepted
    assert_doctor_clean(app)


def test_eight_rejections_reject_once(app):
    _course_id, slug, lead, emails_, ids = _world(app, mode=EnrolmentMode.APPROVAL, people=1)
    codes = _staff_race(app, lead, f"/teach/courses/{slug}/enrolments/{ids[0]}/reject", {"reason": "Not eligible"})
    assert outcome(codes) == {302: 1, 409: 7}
    with app.app_context():
        assert audits("enrolment.rejected") == 1 and emails("enrolment", emails_[0]) == 2
    assert_doctor_clean(app)


def test_eight_moves_to_the_waiting_list_move_once(app):
    _course_id, slug, lead, emails_, ids = _world(app, mode=EnrolmentMode.APPROVAL, people=1)
    codes = _staff_race(app, lead, f"/teach/courses/{slug}/enrolments/{ids[0]}/waitlist")
    assert outcome(codes) == {302: 1, 409: 7}
    assert _status(app, ids[0]) is S.WAITLISTED
    with app.app_context():
        assert audits("enrolment.waitlisted") == 1 and emails("enrolment", emails_[0]) == 2
    assert_doctor_clean(app)


def test_eight_cancellations_free_one_place_and_promote_one_person(app):
    course_id, slug, lead, emails_, (a, _b, waiting) = _world(app)
    codes = _staff_race(app, lead, f"/teach/courses/{slug}/enrolments/{a}/cancel", {"reason": "Visa refused"})
    assert outcome(codes) == {302: 1, 409: 7}
    assert _status(app, a) is S.CANCELLED and _status(app, waiting) is S.ACCEPTED and _seats(app, course_id) == 2
    with app.app_context():
        assert audits("enrolment.cancelled") == 1 and audits("enrolment.promoted") == 1
        assert emails("enrolment", emails_[0]) == 2
    assert_doctor_clean(app)


def test_eight_re_additions_of_a_withdrawn_person_add_once(app):
    course_id, slug, lead, emails_, (a, _b, _w) = _world(app, capacity=5)
    assert signed_in(app, emails_[0]).post(f"/courses/{slug}/withdraw").status_code == 302
    codes = _staff_race(app, lead, f"/teach/courses/{slug}/enrolments/add", {"email": emails_[0]})
    assert outcome(codes) == {302: 1, 409: 7}
    assert _status(app, a) is S.ACCEPTED and _seats(app, course_id) == 3
    with app.app_context():
        assert audits("enrolment.added_by_staff") == 1
        assert emails("enrolment", emails_[0]) == 3  # accepted, withdrawn, accepted again
    assert_doctor_clean(app)


def test_eight_bulk_approvals_accept_each_application_once(app):
    course_id, slug, lead, _emails, ids = _world(app, mode=EnrolmentMode.APPROVAL, capacity=2, people=3)
    codes = _staff_race(app, lead, f"/teach/courses/{slug}/enrolments/bulk", {"action": "approve", "ids": ids})
    assert outcome(codes) == {302: 1, 409: 7}  # all or nothing: the losers change nobody
    assert sorted(_status(app, i).value for i in ids) == ["accepted", "accepted", "waitlisted"]
    assert _seats(app, course_id) == 2
    with app.app_context():
        assert audits("enrolment.accepted") == 2 and audits("enrolment.waitlisted") == 1
    assert_doctor_clean(app)


# --- two different people on one enrolment -------------------------------------------------

def test_participant_withdrawing_while_staff_cancel(app):
    for _round in range(3):
        course_id, slug, lead, emails_, (a, _b, waiting) = _world(app)
        me, staff = signed_in(app, emails_[0]), signed_in(app, lead)
        codes = race([Shot(me, f"/courses/{slug}/withdraw"),
                      Shot(staff, f"/teach/courses/{slug}/enrolments/{a}/cancel", {"reason": "Course moved"})])
        no_5xx(codes)
        assert sorted(codes) == [302, 409]
        assert _status(app, a) in (S.WITHDRAWN, S.CANCELLED)
        assert _status(app, waiting) is S.ACCEPTED and _seats(app, course_id) == 2
        with app.app_context():
            assert audits("enrolment.promoted") == _round + 1
        assert_doctor_clean(app)


def test_approve_against_reject(app):
    """Both staff saw an application under review: one decision wins, the other is told
    it came too late (their form says what they saw), and the person gets one email."""
    for _round in range(3):
        course_id, slug, lead, emails_, ids = _world(app, mode=EnrolmentMode.APPROVAL, people=1)
        with app.app_context():
            before = audits("enrolment.accepted") + audits("enrolment.rejected")
            mails = emails("enrolment", emails_[0])
        seen = {"seen": "pending"}
        shots = ([Shot(signed_in(app, lead), f"/teach/courses/{slug}/enrolments/{ids[0]}/approve", seen)
                  for _ in range(4)]
                 + [Shot(signed_in(app, lead), f"/teach/courses/{slug}/enrolments/{ids[0]}/reject",
                         dict(seen, reason="Late")) for _ in range(4)])
        codes = race(shots)
        no_5xx(codes)
        assert outcome(codes) == {302: 1, 409: 7}
        final = _status(app, ids[0])
        assert final in (S.ACCEPTED, S.REJECTED)
        assert _seats(app, course_id) == (1 if final is S.ACCEPTED else 0)
        with app.app_context():
            assert audits("enrolment.accepted") + audits("enrolment.rejected") - before == 1
            assert emails("enrolment", emails_[0]) - mails == 1
        assert_doctor_clean(app)


def test_two_staff_approving_for_the_last_place(app):
    for _round in range(3):
        course_id, slug, lead, _emails, ids = _world(app, mode=EnrolmentMode.APPROVAL, capacity=1, people=2)
        with app.app_context():
            other = UserFactory(role=Role.INSTRUCTOR)
            db.session.add(CourseStaff(course_id=course_id, user_id=other.id, role=StaffRole.INSTRUCTOR))
            db.session.commit()
            other_email = other.email
        codes = race([Shot(signed_in(app, lead), f"/teach/courses/{slug}/enrolments/{ids[0]}/approve"),
                      Shot(signed_in(app, other_email), f"/teach/courses/{slug}/enrolments/{ids[1]}/approve")])
        no_5xx(codes)
        assert codes == [302, 302]
        assert sorted(_status(app, i).value for i in ids) == ["accepted", "waitlisted"]
        assert _seats(app, course_id) == 1
        assert_doctor_clean(app)


def test_sixteen_people_logging_in_at_once_all_get_in(app):
    app.config["RATELIMIT_ENABLED"] = False
    with app.app_context():
        people = [UserFactory().email for _ in range(16)]
        db.session.remove()
    from tests.factories import PASSWORD

    for _round in range(2):
        shots = [Shot(app.test_client(), "/auth/login", {"email": e, "password": PASSWORD}) for e in people]
        assert race(shots) == [302] * 16


def test_withdrawal_gives_back_the_bus_seat(app):
    """A site visit's own places follow the course place: withdrawing, being rejected or
    cancelled gives the seat on the bus back (before, it stayed taken by nobody)."""
    from tests.factories import SessionFactory

    course_id, slug, _lead, emails_, (a, b, _w) = _world(app, capacity=2)
    with app.app_context():
        course = db.session.get(Course, course_id)
        bus = SessionFactory(course=course, capacity=1,
                             starts_at=utcnow() + dt.timedelta(days=31), ends_at=utcnow() + dt.timedelta(days=31, hours=3))
        db.session.commit()
        bus_id = bus.id
    first = signed_in(app, emails_[0])
    assert first.post(f"/sessions/{bus_id}/signup").status_code == 302
    assert first.post(f"/courses/{slug}/withdraw").status_code == 302
    second = signed_in(app, emails_[1])
    assert second.post(f"/sessions/{bus_id}/signup").status_code == 302  # the freed seat
    with app.app_context():
        assert audits("session.signup_released") == 1
    assert_doctor_clean(app)
    with app.app_context():
        waiting_sql = sa.select(Enrolment.status).where(Enrolment.id == b)
        assert db.session.scalar(waiting_sql) is S.ACCEPTED
