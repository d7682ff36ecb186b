"""Emails queued by a web request are rendered after its commit, outside the write lock:
the enrolment's transaction writes a row with the template's context (ids and plain
values), and the request renders it once committed. If the request dies first, delivery
renders before sending; a message that cannot be rendered is never sent empty."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g

from app.extensions import db
from app.notifications import services as outbox
from app.notifications.models import OutboxMessage, OutboxStatus
from tests.factories import CourseFactory, UserFactory


def test_a_request_queues_the_context_and_renders_after_its_commit(app, client, auth, mail):
    app.config["PONTE_DELIVER_AFTER_COMMIT"] = False  # as in production: the scheduler sends
    seen_in_transaction = {}

    @app.after_request
    def peek(response):  # runs after render_after_request (registered later, runs first): look before it
        ids = list(g.get("ponte_unrendered", []))
        if ids:
            row = db.session.get(OutboxMessage, ids[0])
            seen_in_transaction.update(subject=row.subject, context=row.render_context)
        return response

    with app.app_context():
        course = CourseFactory(title="Green Finance", capacity=3)
        UserFactory(email="p@example.org", locale="it")
        db.session.commit()
        slug = course.slug
    auth.login("p@example.org")
    assert client.post(f"/courses/{slug}/enrol").status_code == 302
    assert seen_in_transaction["subject"] == ""  # nothing rendered while the enrolment was written
    assert seen_in_transaction["context"]["course"] == {"$row": "Course", "id": seen_in_transaction["context"]["course"]["id"]}
    with app.app_context():
        message = db.session.scalar(sa.select(OutboxMessage))
        assert message.render_context is None and "Green Finance" in message.subject
        assert "Green Finance" in message.body_text and message.language == "it"
    with app.app_context():
        assert outbox.deliver_pending()["sent"] == 1
    assert mail[-1]["Subject"] == message.subject  # delivered as rendered


def test_delivery_renders_what_a_dead_request_left(app):
    with app.app_context(), app.test_request_context("/"):
        user = UserFactory(email="q@example.org")
        course = CourseFactory(title="Circular Economy")
        db.session.flush()
        message = outbox.queue_email(user, "enrolment", move="accepted", course=course, enrolment=None)
        assert message.render_context is not None and message.body_text == ""
        db.session.commit()
        g.pop("ponte_unrendered")  # the request died before its after_request
    with app.app_context():
        assert outbox.deliver_pending()["sent"] == 1
        sent = db.session.scalar(sa.select(OutboxMessage))
        assert sent.status is OutboxStatus.SENT and "Circular Economy" in sent.body_text


def test_a_message_that_cannot_be_rendered_is_retried_never_sent_empty(app):
    with app.app_context():
        user = UserFactory(email="r@example.org")
        db.session.flush()
        db.session.add(OutboxMessage(recipient=user.email, template="no_such_template", subject="", body_text="",
                                     body_html="", render_context={"user": {"$row": "User", "id": user.id}}))
        db.session.commit()
        assert outbox.deliver_pending() == {"sent": 0, "failed": 0, "retry": 1}
        row = db.session.scalar(sa.select(OutboxMessage))
        assert row.status is OutboxStatus.PENDING and "could not be rendered" in row.last_error


def test_jobs_and_commands_render_at_once(app):
    with app.app_context():
        user = UserFactory(email="s@example.org")
        db.session.flush()
        message = outbox.queue_email(user, "password_reset", token="abc", minutes=60)
        assert message.render_context is None and message.body_text


def test_the_signed_in_user_as_context_is_rendered_too(app, client):
    """`current_user` is a proxy: it is stored as the row it stands for."""
    from flask_login import login_user

    with app.app_context(), app.test_request_context("/"):
        sender = UserFactory(full_name="Paolo Esposito")
        user = UserFactory(email="t@example.org")
        course = CourseFactory(title="Water Forum")
        db.session.flush()
        login_user(sender)
        from flask_login import current_user

        message = outbox.queue_email(user, "staff_message", course=course, subject="Room change", body="Aula 3",
                                     sender=current_user)
        assert message.render_context["sender"] == {"$row": "User", "id": sender.id}
        db.session.commit()
        assert outbox.render_pending([message.id]) == 1
        db.session.refresh(message)
        assert "Aula 3" in message.body_text
