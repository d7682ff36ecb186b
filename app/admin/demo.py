"""`flask seed demo`: an idempotent demo data set, dated relative to today."""
from __future__ import annotations

import datetime as dt
import random

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from app.accounts.models import Gender, OrganisationType, Role, Sector, User
from app.accounts.passwords import hash_password
from app.catalogue.models import Course, CourseKind, CourseStatus, EnrolmentMode, Programme
from app.core.timezones import localize
from app.core.types import utcnow
from app.enrolment.models import HOLDS_PLACE, Enrolment, EnrolmentStatus
from app.extensions import db
from app.schedule.models import CourseSession, SessionKind, Venue
from app.teaching.models import Attendance, AttendanceMethod, AttendanceStatus, Cohort, CourseStaff, StaffRole

DEMO_PASSWORD = "ponte-demo-2026"
DEMO_LOGINS = (
    ("admin@example.org", "admin"),
    ("instructor@example.org", "instructor"),
    ("participant@example.org", "participant"),
)

seed_cli = AppGroup("seed", help="Load demonstration data.")

ITALIANS = [
    ("Giulia Rossi", None), ("Marco Bianchi", None), ("Francesca Romano", None), ("Luca Colombo", None),
    ("Chiara Ricci", None), ("Alessandro Marino", None), ("Sara Greco", None), ("Matteo Bruno", None),
    ("Elena Gallo", None), ("Davide Conti", None), ("Valentina De Luca", None), ("Simone Mancini", None),
    ("Martina Costa", None), ("Andrea Giordano", None), ("Federica Rizzo", None), ("Stefano Lombardi", None),
    ("Alessia Moretti", None), ("Riccardo Barbieri", None), ("Silvia Fontana", None), ("Nicolò Santoro", None),
]
CHINESE = [
    ("Wang Wei", "王伟"), ("Li Na", "李娜"), ("Zhang Min", "张敏"), ("Liu Yang", "刘洋"), ("Chen Jing", "陈静"),
    ("Yang Fan", "杨帆"), ("Zhao Lei", "赵磊"), ("Huang Xiu", "黄秀"), ("Zhou Jie", "周杰"), ("Wu Ting", "吴婷"),
    ("Xu Hao", "徐浩"), ("Sun Li", "孙丽"), ("Hu Jun", "胡军"), ("Zhu Yan", "朱艳"), ("Gao Peng", "高鹏"),
    ("Lin Xue", "林雪"), ("He Qiang", "何强"), ("Guo Mei", "郭梅"), ("Ma Chao", None), ("Luo Yu", None),
]
ORGANISATIONS = [
    ("Verde Energia S.r.l.", OrganisationType.SME), ("Comune di Roma", OrganisationType.PUBLIC_ADMINISTRATION),
    ("Sapienza Università di Roma", OrganisationType.UNIVERSITY), ("Tongji University", OrganisationType.UNIVERSITY),
    ("Shanghai Municipal Ecology Bureau", OrganisationType.PUBLIC_ADMINISTRATION),
    ("Enel Group", OrganisationType.LARGE_COMPANY), ("Legambiente", OrganisationType.NGO),
    ("SinoGreen Tech Co.", OrganisationType.SME), ("Fudan University", OrganisationType.UNIVERSITY),
    ("Independent consultant", OrganisationType.OTHER),
]


def _user(email: str, name: str, native: str | None, role: Role, password_hash: str, *, locale: str, tz: str,
          country: str, org: tuple[str, OrganisationType]) -> User:
    user = User(
        email=email, password_hash=password_hash, full_name=name, native_name=native, role=role,
        locale=locale, timezone=tz, country=country, organisation=org[0], organisation_type=org[1],
        privacy_consent_at=utcnow(), email_verified_at=utcnow(),
        privacy_version=current_app.config["PONTE_PRIVACY_VERSION"],
        transfer_consent_at=utcnow() if country == "CN" else None,
        transfer_version=current_app.config["PONTE_PRIVACY_VERSION"] if country == "CN" else None,
    )
    db.session.add(user)
    return user


def _first_monday(day: dt.date) -> dt.date:
    return day + dt.timedelta(days=(7 - day.weekday()) % 7)


def demo_calendar(today: dt.date) -> dict[str, tuple[dt.date, int]]:
    """When each demo activity runs, (first day, number of days), in its season: the
    Summer School in the next summer (early July), the Winter School in the current winter
    (running now, from December to February) or the next one (mid-January); the webinar
    series is always running, the forum finished, the seminar and site visit upcoming."""
    summer = _first_monday(dt.date(today.year, 7, 1))
    if summer - dt.timedelta(days=14) < today:
        summer = _first_monday(dt.date(today.year + 1, 7, 1))
    if today.month in (12, 1, 2):  # running now, all seven days inside this winter
        year = today.year + 1 if today.month == 12 else today.year
        first, last = dt.date(year - 1, 12, 1), dt.date(year, 3, 1) - dt.timedelta(days=1)
        winter = min(max(today - dt.timedelta(days=2), first), last - dt.timedelta(days=6))
    else:
        winter = _first_monday(dt.date(today.year + 1, 1, 8))
    return {
        "summer-school-rome": (summer, 10),
        "winter-school-shanghai": (winter, 7),
        "seminar-green-finance": (today + dt.timedelta(days=12), 1),
        "forum-water-2026": (today - dt.timedelta(days=40), 2),
        "site-visit-hydrogen-valley": (today + dt.timedelta(days=20), 1),
        "train-the-trainer-gpp": (today - dt.timedelta(days=1), 3),
        "webinar-carbon-markets": (today - dt.timedelta(days=6), 2),
        "train-the-trainer-energy-audits": (today - dt.timedelta(days=120), 2),
    }


def load_demo(today: dt.date | None = None) -> bool:
    """Load the demo data unless it is already there. Returns True when it loaded."""
    if db.session.scalar(sa.select(User.id).where(User.email == "admin@example.org")):
        return False
    today = today or utcnow().date()
    rng = random.Random(2026)
    pw = hash_password(DEMO_PASSWORD)

    _user("admin@example.org", "Anna Ferraro", None, Role.ADMIN, pw, locale="en", tz="Europe/Rome",
                  country="IT", org=("Ponte Foundation", OrganisationType.NGO))
    instructor = _user("instructor@example.org", "Paolo Esposito", None, Role.INSTRUCTOR, pw, locale="it",
                       tz="Europe/Rome", country="IT", org=ORGANISATIONS[2])
    instructor_cn = _user("instructor.cn@example.org", "Zhang Hua", "张华", Role.INSTRUCTOR, pw, locale="zh",
                          tz="Asia/Shanghai", country="CN", org=ORGANISATIONS[3])
    participant = _user("participant@example.org", "Chen Xiaoling", "陈晓玲", Role.PARTICIPANT, pw, locale="en",
                        tz="Asia/Shanghai", country="CN", org=ORGANISATIONS[4])
    participants = [participant]
    for i, (name, native) in enumerate(ITALIANS):
        email = name.lower().replace(" ", ".").replace("ò", "o") + "@example.org"
        participants.append(_user(email, name, native, Role.PARTICIPANT, pw, locale="it", tz="Europe/Rome",
                                  country=rng.choice(["IT", "IT", "IT", "CH", "FR"]), org=ORGANISATIONS[i % 10]))
    for i, (name, native) in enumerate(CHINESE):
        email = name.lower().replace(" ", ".") + "@example.cn"
        participants.append(_user(email, name, native, Role.PARTICIPANT, pw, locale=rng.choice(["zh", "zh", "en"]),
                                  tz="Asia/Shanghai", country=rng.choice(["CN", "CN", "CN", "SG"]),
                                  org=ORGANISATIONS[(i + 3) % 10]))

    rome = Venue(name="Casa della Sostenibilità", address="Via Nazionale 194", city="Rome", country="IT",
                 timezone="Europe/Rome", capacity=80)
    shanghai = Venue(name="Tongji Green Campus, Building C", address="1239 Siping Road", city="Shanghai",
                     country="CN", timezone="Asia/Shanghai", capacity=120)
    online = Venue(name="Ponte Online Room", city="", timezone="UTC", is_online=True)
    db.session.add_all([rome, shanghai, online])

    programme = Programme(
        slug=f"italy-china-sustainability-{today.year}",
        title=f"Italy–China Cooperation for Sustainable Development {today.year}",
        description="A year of schools, courses and exchanges on the green transition.",
    )
    db.session.add(programme)
    programme.funding_statement = ("Co-funded by the European Union under the Italy–China Green Transition "
                                   "cooperation project. Views expressed are those of the authors only.")
    db.session.flush()

    calendar = demo_calendar(today)

    def course(slug, title, kind, venue, capacity, mode=EnrolmentMode.OPEN, summary="", language="en"):
        first, days = calendar[slug]
        start = (first - today).days
        c = Course(
            programme=programme, slug=slug, title=title, kind=kind, venue=venue, is_online=venue.is_online,
            # An online activity is run from Rome: its city places the trips people did not make.
            city=venue.city or "Rome", country=venue.country or "IT",
            timezone=venue.timezone if not venue.is_online else "Europe/Rome",
            starts_on=today + dt.timedelta(days=start), ends_on=today + dt.timedelta(days=start + days - 1),
            capacity=capacity, enrolment_mode=mode, status=CourseStatus.PUBLISHED, summary=summary, language=language,
            description=("The programme combines lectures, hands-on workshops and visits, taught by "
                         "experts from Italian and Chinese universities, companies and public administrations."),
            enrolment_opens_at=utcnow() - dt.timedelta(days=60),
            enrolment_closes_at=dt.datetime.combine(today + dt.timedelta(days=start), dt.time(0), dt.UTC),
            withdrawal_deadline=dt.datetime.combine(today + dt.timedelta(days=start - 3), dt.time(0), dt.UTC),
        )
        db.session.add(c)
        return c

    summer = course("summer-school-rome", "Summer School on Circular Economy, Rome", CourseKind.SUMMER_SCHOOL, rome,
                    30, EnrolmentMode.APPROVAL,
                    "Ten days in Rome on circular economy policy, from EU rules to Chinese pilot cities.")
    winter = course("winter-school-shanghai", "Winter School on Low-Carbon Cities, Shanghai", CourseKind.WINTER_SCHOOL,
                    shanghai, 25, EnrolmentMode.OPEN,
                    "A week in Shanghai on low-carbon urban planning, energy and mobility.")
    seminar = course("seminar-green-finance", "Seminar: Green Finance for SMEs", CourseKind.SEMINAR, rome, 8,
                     summary="How small and medium enterprises can access green credit in Italy and China.")
    forum = course("forum-water-2026", "Italy–China Water Forum", CourseKind.FORUM, shanghai, 100,
                   summary="Two days of exchange on integrated water management.")
    visit = course("site-visit-hydrogen-valley", "Site visit: Hydrogen Valley", CourseKind.SITE_VISIT, rome, 20,
                   summary="A day at hydrogen production and storage plants near Rome.")
    webinar = course("train-the-trainer-gpp", "Train the Trainer: Green Public Procurement", CourseKind.WEBINAR, online,
                     None, summary="Three online sessions for officers who will teach green public procurement.")
    webinar.train_the_trainer = True
    carbon = course("webinar-carbon-markets", "Webinar: Carbon Markets in China and the EU", CourseKind.WEBINAR,
                    online, None, summary="Two online afternoons on emissions trading in the EU and China.")
    audits = course("train-the-trainer-energy-audits", "Train the Trainer: Energy Audits for SMEs", CourseKind.COURSE,
                    rome, 12, summary="Two days in Rome for people who will teach energy audits to small firms.")
    audits.train_the_trainer = True
    signatories = [{"name": "Anna Ferraro", "title": "Director, Ponte Foundation"},
                   {"name": "Zhang Hua", "title": "Lead instructor"}]
    for c in (summer, winter, seminar, forum, visit, webinar, carbon, audits):
        c.signatories = signatories
    forum.auto_issue_after_days = 3  # the scheduler issues its certificates on its first run
    db.session.flush()

    for c, lead, other in ((summer, instructor, instructor_cn), (winter, instructor_cn, instructor),
                           (seminar, instructor, None), (forum, instructor_cn, None), (visit, instructor, None),
                           (webinar, instructor, instructor_cn), (carbon, instructor_cn, None),
                           (audits, instructor, None)):
        db.session.add(CourseStaff(course=c, user=lead, role=StaffRole.LEAD))
        if other:
            db.session.add(CourseStaff(course=c, user=other, role=StaffRole.INSTRUCTOR))

    cohorts = {}
    for c in (summer, winter):
        cohorts[c.slug] = [Cohort(course=c, name="Rome cohort"), Cohort(course=c, name="Shanghai cohort")]
        db.session.add_all(cohorts[c.slug])
    db.session.flush()

    sessions: dict[str, list[CourseSession]] = {}
    for c in (summer, winter, seminar, forum, visit, webinar, carbon, audits):
        sessions[c.slug] = []
        for day in range((c.ends_on - c.starts_on).days + 1):
            date = c.starts_on + dt.timedelta(days=day)
            slots = [((9, 30), (12, 30), SessionKind.LECTURE), ((14, 0), (17, 0), SessionKind.WORKSHOP)]
            if c.is_online:
                slots = [((15, 0), (17, 0), SessionKind.WEBINAR)]
            if c is visit:
                slots = [((8, 30), (17, 30), SessionKind.SITE_VISIT)]
            for (h1, m1), (h2, m2), kind in slots:
                start = localize(dt.datetime.combine(date, dt.time(h1, m1)), c.timezone)
                end = localize(dt.datetime.combine(date, dt.time(h2, m2)), c.timezone)
                s = CourseSession(
                    course=c, title=f"{kind.value.replace('_', ' ').title()} — day {day + 1}", kind=kind,
                    starts_at=start, ends_at=end, venue=c.venue,
                    join_url=f"https://meet.example.org/{c.slug}" if c.is_online else None,
                    is_mandatory=(day == 0 and kind is SessionKind.LECTURE),
                    capacity=20 if c is visit else None,
                )
                s.instructors.append(instructor if c.timezone == "Europe/Rome" else instructor_cn)
                db.session.add(s)
                sessions[c.slug].append(s)
    db.session.flush()

    def enrol(c: Course, user: User, status: EnrolmentStatus, minutes_ago: int = 0) -> Enrolment:
        e = Enrolment(course=c, user=user, status=status, motivation="I work on these topics every day.")
        if status is EnrolmentStatus.WAITLISTED:
            e.waitlisted_at = utcnow() - dt.timedelta(minutes=minutes_ago)
        if status in HOLDS_PLACE:
            c.seats_taken += 1
        db.session.add(e)
        return e

    pool = participants[1:]
    rng.shuffle(pool)
    # Winter School (running in winter, else next winter's): 20 accepted in two cohorts, attendance for the days already held.
    winter_enrolments = [enrol(winter, participant, EnrolmentStatus.ACCEPTED)]
    winter_enrolments += [enrol(winter, u, EnrolmentStatus.ACCEPTED) for u in pool[:19]]
    for i, e in enumerate(winter_enrolments):
        e.cohort_id = cohorts["winter-school-shanghai"][i % 2].id
    # Summer School (approval mode): applications in every state.
    for i, u in enumerate(pool[19:31]):
        status = [EnrolmentStatus.PENDING, EnrolmentStatus.ACCEPTED, EnrolmentStatus.REJECTED][i % 3]
        e = enrol(summer, u, status)
        if status is EnrolmentStatus.REJECTED:
            e.decision_reason = "The school is aimed at public-administration officers this year."
    enrol(summer, participant, EnrolmentStatus.PENDING)
    # Seminar: full, with a waiting list.
    for u in pool[:8]:
        enrol(seminar, u, EnrolmentStatus.ACCEPTED)
    for i, u in enumerate(pool[8:11]):
        enrol(seminar, u, EnrolmentStatus.WAITLISTED, minutes_ago=300 - i * 60)
    enrol(seminar, pool[11], EnrolmentStatus.WITHDRAWN)
    # Forum (finished): completed and not completed.
    forum_enrolments = [enrol(forum, u, EnrolmentStatus.COMPLETED if i % 5 else EnrolmentStatus.NOT_COMPLETED)
                        for i, u in enumerate(pool[15:35])]
    forum_enrolments.append(enrol(forum, participant, EnrolmentStatus.COMPLETED))
    for e in forum_enrolments:
        e.completion_passed = e.status is EnrolmentStatus.COMPLETED
        e.completion_recorded_at = utcnow() - dt.timedelta(days=37)
    # Site visit and webinar: a few accepted.
    for u in pool[20:26]:
        enrol(visit, u, EnrolmentStatus.ACCEPTED)
    webinar_enrolments = [enrol(webinar, u, EnrolmentStatus.ACCEPTED) for u in pool[25:37]]
    webinar_enrolments.append(enrol(webinar, participant, EnrolmentStatus.ACCEPTED))
    # The carbon-markets webinar ended last week; the energy-audit trainers were trained in the spring.
    carbon_enrolments = [enrol(carbon, u, EnrolmentStatus.ACCEPTED) for u in pool[2:15]]
    carbon_enrolments.append(enrol(carbon, participant, EnrolmentStatus.ACCEPTED))
    audit_enrolments = [enrol(audits, u, EnrolmentStatus.COMPLETED if i < 6 else EnrolmentStatus.NOT_COMPLETED)
                        for i, u in enumerate(pool[30:38])]
    db.session.flush()

    now = utcnow()
    for c_slug, enrolments in (("winter-school-shanghai", winter_enrolments), ("forum-water-2026", forum_enrolments),
                               ("train-the-trainer-gpp", webinar_enrolments),
                               ("webinar-carbon-markets", carbon_enrolments),
                               ("train-the-trainer-energy-audits", audit_enrolments)):
        for s in sessions[c_slug]:
            if s.ends_at > now:
                continue
            for e in enrolments:
                roll = rng.random()
                mark = (AttendanceStatus.PRESENT if roll < 0.8 else AttendanceStatus.LATE if roll < 0.88
                        else AttendanceStatus.EXCUSED if roll < 0.93 else AttendanceStatus.ABSENT)
                db.session.add(Attendance(session=s, enrolment=e, status=mark, method=AttendanceMethod.SHEET,
                                          recorded_by=s.instructors[0], recorded_at=s.ends_at))
    db.session.flush()
    _impact_demo(rng, today, participants, instructor, forum, carbon, audits,
                 forum_enrolments, carbon_enrolments, audit_enrolments)
    return True


ITALIAN_CITIES = ["Roma", "Milano", "Torino", "Bologna", "Napoli", "Firenze", "Venezia", "Genova"]
CHINESE_CITIES = ["上海", "北京", "Hangzhou", "苏州", "Shenzhen", "Nanjing", "Chengdu", "Wuhan"]
JOB_ROLES = ["Energy manager", "Procurement officer", "PhD student", "Urban planner", "Sustainability consultant",
             "Policy officer", "Researcher", "Project manager"]


def _impact_demo(rng: random.Random, today: dt.date, participants: list[User], instructor: User, forum: Course,
                 carbon: Course, audits: Course, forum_enrolments: list[Enrolment],
                 carbon_enrolments: list[Enrolment], audit_enrolments: list[Enrolment]) -> None:
    """What the impact dashboard needs to show every section on `make run`: reporting
    fields, answered surveys (enough on two activities, too few on one), and a
    train-the-trainer chain (two graduates of the energy-audit course teach the webinar)."""
    from app.feedback.models import SurveyAnswer, SurveyResponse
    from app.feedback.services import OPEN_FOR, survey_for, token_for
    from app.notifications.services import queue_email

    genders = [Gender.WOMAN, Gender.MAN, Gender.WOMAN, Gender.MAN, Gender.NON_BINARY, Gender.UNDISCLOSED, None]
    for i, user in enumerate(participants[1:]):
        chinese = user.email.endswith(".cn")
        user.city = rng.choice(CHINESE_CITIES if chinese else ITALIAN_CITIES)
        user.gender = genders[i % len(genders)]
        user.sector = list(Sector)[i % len(Sector)] if i % 5 else None
        user.job_role = JOB_ROLES[i % len(JOB_ROLES)]
        user.reporting_asked_at = utcnow()
    participants[0].city = "上海"  # the demo participant is asked for the rest on My Ponte

    # Two graduates of the energy-audit course teach the carbon-markets webinar (they take no part in it).
    graduates = [e.user for e in audit_enrolments[:2]]
    assert not {u.id for u in graduates} & {e.user_id for e in carbon_enrolments}
    for user in graduates:
        user.role = Role.INSTRUCTOR
        db.session.add(CourseStaff(course=carbon, user=user, role=StaffRole.INSTRUCTOR))
    db.session.flush()

    def answer(survey, enrolment: Enrolment, in_person: bool, when: dt.datetime) -> None:  # noqa: ANN001
        good = rng.random() < 0.75
        values = {"satisfaction": rng.choice([4, 5, 5] if good else [2, 3, 4]),
                  "relevance": rng.choice([4, 5] if good else [3, 4]),
                  "organisation": rng.choice([3, 4, 5]), "instructor": rng.choice([4, 5]),
                  "nps": rng.choice([9, 10, 8] if good else [5, 6, 7, 8]),
                  "knowledge_before": rng.choice([1, 2, 3]), "knowledge_after": rng.choice([3, 4, 5])}
        response = SurveyResponse(survey_id=survey.id, enrolment_id=enrolment.id, language=enrolment.user.locale,
                                  submitted_at=when)
        for q in survey.questions:
            if q.key in values:
                response.answers.append(SurveyAnswer(question_id=q.id, number=values[q.key]))
            elif q.key == "apply" and rng.random() < 0.6:
                response.answers.append(SurveyAnswer(question_id=q.id, text=rng.choice([
                    "An energy audit checklist for our suppliers.", "Green criteria in our next tender.",
                    "Il confronto tra i sistemi ETS europeo e cinese.", "把循环经济的案例用于我们的城市规划。",
                    "Monitoring water use across our plants."])))
            elif in_person and q.key == "travel_mode":
                far = enrolment.user.country != (enrolment.course.country or "")
                response.answers.append(SurveyAnswer(question_id=q.id, text=rng.choice(
                    ["plane", "plane", "train"] if far else ["train", "train", "car", "bus", "local"])))
            elif in_person and q.key == "travel_city" and rng.random() < 0.5:
                response.answers.append(SurveyAnswer(question_id=q.id, text=enrolment.user.city))
        db.session.add(response)

    for course, enrolments, answered, in_person in ((forum, forum_enrolments, 14, True),
                                                      (carbon, carbon_enrolments, 8, False),
                                                      (audits, audit_enrolments, 4, True)):
        survey = survey_for(course)
        invited_at = dt.datetime.combine(course.ends_on + dt.timedelta(days=1), dt.time(8), dt.UTC)
        attended = [e for e in enrolments if e.user is not participants[0]]
        survey.invited_at, survey.closes_at = invited_at, invited_at + OPEN_FOR
        survey.reminded_at = invited_at + dt.timedelta(days=3)  # as if the reminder had gone out
        survey.invited_count = len(enrolments)
        for e in attended[:answered]:
            answer(survey, e, in_person, invited_at + dt.timedelta(hours=rng.randint(2, 60)))
        if course is carbon:  # still open: the demo participant has a link waiting (My Ponte and the outbox)
            mine = next(e for e in enrolments if e.user is participants[0])
            queue_email(participants[0], "survey_invitation", dedupe_key=f"survey:{survey.id}:{mine.id}", course=course,
                        token=token_for(survey, mine.id), closes_at=survey.closes_at, reminder=False)
    db.session.flush()


@seed_cli.command("demo")
def seed_demo() -> None:
    """Load the demo data (only once; refused in production)."""
    if current_app.config.get("PONTE_ENV") == "production":
        raise click.ClickException("The demo data is never loaded under the production configuration.")
    if load_demo():
        db.session.commit()
        click.echo("Demo data loaded.")
    else:
        click.echo("Demo data already present; nothing changed.")
    print_logins()


@seed_cli.command("scale")
@click.option("--factor", type=float, default=1.0, show_default=True,
              help="1 adds about 50 courses, 400 people, 2,000 enrolments, 500 sessions and 10,000 attendance rows.")
def seed_scale(factor: float) -> None:
    """Add a decade of programmes sized by FACTOR (for benchmarks; refused in production)."""
    from app.admin.scale import load_scale

    if current_app.config.get("PONTE_ENV") == "production":
        raise click.ClickException("Scale data is never loaded under the production configuration.")
    try:
        summary = load_scale(factor)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        # After a bulk load, as an operator would: statistics and the visibility map now,
        # not when autovacuum gets to them (in the middle of whatever runs next).
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    click.echo(f"Scale data loaded (factor {factor:g}): {summary}.")


def print_logins() -> None:
    click.echo(f"Demo logins (password for each: {DEMO_PASSWORD}):")
    for email, role in DEMO_LOGINS:
        click.echo(f"  {role:<12} {email}")
