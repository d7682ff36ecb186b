"""/surveys/<token> (answer, no login), the admin's survey editor and the results
that admins and a course's lead or instructors see (aggregates only)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, refresh
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.access import admin_required
from app.catalogue.models import Course
from app.core.db import begin_write
from app.core.errors import DomainError
from app.core.forms import ConfirmForm
from app.core.http import domain_error_to_form
from app.core.types import utcnow
from app.core.writes import write
from app.extensions import db, limiter
from app.feedback import results as survey_results
from app.feedback import services
from app.feedback.forms import QuestionForm
from app.feedback.models import QuestionKind
from app.feedback.template import SCALE_ENDS
from app.teaching.access import course_for_staff

bp = Blueprint("feedback", __name__)


def _language() -> str:
    """The link carries the person's language; they may switch on the page."""
    chosen = request.args.get("lang")
    if chosen in services.LANGS and not current_user.is_authenticated:
        session["lang"] = chosen
        refresh()
    return str(get_locale() or "en")


def _closed_or_gone(error: DomainError):
    return render_template("feedback/unavailable.html", message=error.message), error.status_code


@bp.route("/surveys/<token>", methods=["GET", "POST"])
@limiter.limit("30 per minute", methods=["POST"])
def answer(token: str):
    lang = _language()
    now = utcnow()
    try:
        survey, enrolment = services.invitation(token, now)
    except DomainError as error:
        return _closed_or_gone(error)
    if services.already_answered(survey, enrolment):
        status = 409 if request.method == "POST" else 200
        return render_template("feedback/thanks.html", course=survey.course, again=True), status
    if not survey.is_open(now):
        return render_template("feedback/unavailable.html", closed=True, course=survey.course,
                               message=_("This survey is closed. Thank you all the same.")), 410
    questions = services.asked(survey, survey.course)
    form = ConfirmForm()
    given: dict[int, list[str]] = {}
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("This form has expired. Please send it again."), "danger")
            return _survey_page(survey, questions, token, lang, form, {}, {}, 400)
        given = {q.id: request.form.getlist(f"q{q.id}") for q in questions}
        with write(begin=True) as outcome:
            services.submit(token, given, language=lang, now=now)
        refusal = outcome.error
        if refusal is None:
            return redirect(url_for("feedback.thanks", token=token))
        if isinstance(refusal, services.AlreadyAnswered):
            return render_template("feedback/thanks.html", course=survey.course, again=True), 409
        if not isinstance(refusal, services.Problems):
            return _closed_or_gone(refusal)
        flash(refusal.message, "danger")
        return _survey_page(survey, questions, token, lang, form, refusal.errors, given, 400)
    return _survey_page(survey, questions, token, lang, form, {}, {}, 200)


def _survey_page(survey, questions, token, lang, form, errors, given, status):  # noqa: ANN001
    return render_template("feedback/survey.html", survey=survey, course=survey.course, questions=questions,
                           token=token, lang=lang, form=form, errors=errors, given=given, kinds=QuestionKind,
                           ends=SCALE_ENDS, text_of=services.text_of), status


@bp.route("/surveys/<token>/thanks")
def thanks(token: str):
    try:
        survey, enrolment = services.invitation(token)
    except DomainError as error:
        return _closed_or_gone(error)
    if not services.already_answered(survey, enrolment):
        return redirect(url_for("feedback.answer", token=token))
    return render_template("feedback/thanks.html", course=survey.course, again=False)


# --- the admin's editor -------------------------------------------------------------

def _editor(course: Course, form: QuestionForm | None = None, status: int = 200, edit_id: int | None = None):
    survey = services.survey_for(course)
    db.session.commit()  # the survey exists from now on (created once, race-safe)
    if form is None:
        form = QuestionForm(formdata=None)
    form.fill_choices()
    forms = {}
    for q in survey.questions:
        f = form if edit_id == q.id else QuestionForm(formdata=None, prefix=f"q{q.id}", data={
            "kind": q.kind.value, "text_en": q.text.get("en", ""), "text_it": q.text.get("it", ""),
            "text_zh": q.text.get("zh", ""), "choices": services.choices_as_text(q), "required": q.required})
        f.fill_choices()
        forms[q.id] = f
    return render_template("feedback/editor.html", course=course, survey=survey, form=form if edit_id is None else
                           QuestionForm(formdata=None), forms=forms, confirm_form=ConfirmForm(),
                           responses=services.response_count(survey.id), kinds=QuestionKind,
                           text_of=services.text_of), status


@bp.route("/admin/courses/<int:course_id>/survey", methods=["GET", "POST"])
@admin_required
def editor(course_id: int):
    course = db.get_or_404(Course, course_id)
    if request.method == "GET":
        begin_write()
        return _editor(course)
    form = QuestionForm()
    form.fill_choices()
    if form.validate_on_submit():
        begin_write()
        survey = services.survey_for(course)
        with write() as outcome:
            services.add_question(survey, current_user, kind=QuestionKind(form.kind.data), texts=form.texts(),
                                  choices=form.choices.data or "", required=form.required.data)
        if outcome.error:
            domain_error_to_form(outcome.error, form)
            return _editor(course, form, outcome.error.status_code)
        flash(_("Question added."), "success")
        return redirect(url_for("feedback.editor", course_id=course.id))
    begin_write()
    return _editor(course, form, 400)


def _question_change(course_id: int, question_id: int, change, done: str):  # noqa: ANN001
    course = db.get_or_404(Course, course_id)
    begin_write()
    survey = services.survey_for(course)
    with write() as outcome:
        change(survey, services.question_of(survey, question_id))
    if outcome.error:
        flash(outcome.error.message, "danger")
        begin_write()
        return _editor(course, status=outcome.error.status_code)
    if done:
        flash(done, "success")
    return redirect(url_for("feedback.editor", course_id=course.id, _anchor=f"question-{question_id}"))


@bp.route("/admin/courses/<int:course_id>/survey/<int:question_id>", methods=["POST"])
@admin_required
def edit_question(course_id: int, question_id: int):
    course = db.get_or_404(Course, course_id)
    survey = services.survey_of(course.id)
    if survey is None or all(q.id != question_id for q in survey.questions):
        abort(404)
    form = QuestionForm(prefix=f"q{question_id}")
    form.fill_choices()
    del form.kind  # a question keeps its kind: the answers read it
    if not form.validate_on_submit():
        begin_write()
        return _editor(course, form, 400, edit_id=question_id)

    def change(survey, question):  # noqa: ANN001
        services.update_question(survey, question, current_user, texts=form.texts(), choices=form.choices.data,
                                 required=form.required.data)

    return _question_change(course_id, question_id, change, _("Question saved."))


@bp.route("/admin/courses/<int:course_id>/survey/<int:question_id>/remove", methods=["POST"])
@admin_required
def remove_question(course_id: int, question_id: int):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _question_change(course_id, question_id,
                            lambda s, q: services.remove_question(s, q, current_user), _("Question removed."))


@bp.route("/admin/courses/<int:course_id>/survey/<int:question_id>/move", methods=["POST"])
@admin_required
def move_question(course_id: int, question_id: int):
    if not ConfirmForm().validate_on_submit() or request.form.get("direction") not in ("up", "down"):
        abort(400)
    up = request.form["direction"] == "up"
    return _question_change(course_id, question_id,
                            lambda s, q: services.move_question(s, q, current_user, up=up), "")


# --- results ------------------------------------------------------------------------

def _results_page(course: Course, back: str):
    survey = services.survey_of(course.id)
    total, rows = (0, []) if survey is None else survey_results.results(survey, services.asked(survey, course))
    return render_template("feedback/results.html", course=course, survey=survey, total=total, rows=rows,
                           minimum=services.MIN_RESPONSES, back=back, kinds=QuestionKind,
                           text_of=services.text_of, lang=str(get_locale() or "en"))


@bp.route("/admin/courses/<int:course_id>/survey/results")
@admin_required
def admin_results(course_id: int):
    course = db.get_or_404(Course, course_id)
    return _results_page(course, url_for("admin.course_detail", course_id=course.id))


@bp.route("/teach/courses/<slug>/survey")
@login_required
def staff_results(slug: str):
    """A course's lead and instructors see its results (aggregates, no names)."""
    course = course_for_staff(slug, current_user, manage=True, whole_course=True)
    return _results_page(course, url_for("teaching.roster", slug=course.slug))
