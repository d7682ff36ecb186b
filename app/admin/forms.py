from __future__ import annotations

import io

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from PIL import Image
from werkzeug.datastructures import FileStorage
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from app.catalogue.models import CourseKind, EnrolmentMode
from app.core.forms import LANGUAGE_CHOICES, CountryField, Form, TimezoneField, country_choices, strip, timezone_choices
from app.core.labels import label

LOGO_MAX_BYTES = 1024 * 1024
LOGO_MAX_SIDE = 4000
SLUG = Regexp(r"^[a-z0-9]+(?:-[a-z0-9]+)*$", message=_l("Use lower-case letters, digits and hyphens only."))


class ProgrammeForm(Form):
    title = StringField(_l("Title"), filters=[strip], validators=[DataRequired(), Length(max=200)])
    slug = StringField(_l("Address (slug)"), filters=[strip], validators=[Optional(), Length(max=80), SLUG],
                       description=_l("Left empty, it is made from the title."))
    description = TextAreaField(_l("Description"), filters=[strip], validators=[Optional(), Length(max=20000)])
    funding_statement = TextAreaField(
        _l("Funding statement"), filters=[strip], validators=[Optional(), Length(max=1000)],
        description=_l("Printed at the foot of every page of the attendance and participants lists, "
                       "e.g. “Funded by …”."))
    # Not named after the column: filled from the programme, the field would hold its bytes.
    logo = FileField(_l("Funder's logo"), description=_l("PNG or JPEG, at most 1 MB; printed at the top of every list."))
    remove_logo = BooleanField(_l("Remove the logo"))
    submit = SubmitField(_l("Save"))

    logo_bytes: bytes | None = None  # the checked upload, once validated

    def validate_logo(self, field) -> None:  # noqa: ANN001
        """A PNG or JPEG of at most 1 MB and LOGO_MAX_SIDE pixels a side, as Pillow reads
        it, whatever the file is called: a renamed text file is refused here."""
        upload = field.data
        if not isinstance(upload, FileStorage) or not upload:
            return
        data = upload.stream.read(LOGO_MAX_BYTES + 1)
        if len(data) > LOGO_MAX_BYTES:
            raise ValidationError(_l("The logo must be 1 MB or smaller."))
        try:
            with Image.open(io.BytesIO(data), formats=["PNG", "JPEG"]) as image:
                too_big = max(image.size) > LOGO_MAX_SIDE
                if not too_big:
                    image.load()  # decodes it all: a truncated or corrupt file fails here
        except Image.DecompressionBombError:  # Pillow refuses images of hundreds of megapixels at once
            too_big = True
        except Exception:  # noqa: BLE001 - anything Pillow cannot read as PNG or JPEG
            raise ValidationError(_l("The logo must be a PNG or JPEG image.")) from None
        if too_big:
            raise ValidationError(_l("The logo must be at most %(px)d pixels wide and high.", px=LOGO_MAX_SIDE))
        self.logo_bytes = data


class CourseForm(Form):
    title = StringField(_l("Title"), filters=[strip], validators=[DataRequired(), Length(max=200)])
    slug = StringField(_l("Address (slug)"), filters=[strip], validators=[Optional(), Length(max=80), SLUG],
                       description=_l("Left empty, it is made from the title."))
    kind = SelectField(_l("Kind"), validators=[DataRequired()])
    programme_id = SelectField(_l("Programme"), coerce=int, validators=[Optional()])
    summary = StringField(_l("Summary"), filters=[strip], validators=[Optional(), Length(max=500)])
    description = TextAreaField(_l("Description"), filters=[strip], validators=[Optional(), Length(max=50000)])
    language = SelectField(_l("Language of instruction"), choices=LANGUAGE_CHOICES)
    venue_id = SelectField(_l("Venue"), coerce=int, validators=[Optional()])
    is_online = BooleanField(_l("Online"))
    train_the_trainer = BooleanField(_l("Train the trainer"), description=_l(
        "For people who will teach the topic themselves: the impact dashboard counts whom they reach later."))
    city = StringField(_l("City"), filters=[strip], validators=[Optional(), Length(max=100)])
    country = CountryField(_l("Country"), validators=[Optional()])
    timezone = TimezoneField(_l("Time zone of the course"), validators=[DataRequired()])
    starts_on = DateField(_l("First day"), validators=[InputRequired()])
    ends_on = DateField(_l("Last day"), validators=[InputRequired()])
    capacity = IntegerField(_l("Places"), validators=[Optional(), NumberRange(min=0, max=100000)],
                            description=_l("Empty means no limit."))
    enrolment_mode = SelectField(_l("Enrolment"))
    application_questions = TextAreaField(
        _l("Application questions"), filters=[strip], validators=[Optional(), Length(max=4000)],
        description=_l("For applications reviewed by staff: one question per line."))
    enrolment_opens_at = DateTimeLocalField(_l("Enrolment opens"), validators=[Optional()],
                                            description=_l("In the course's time zone."))
    enrolment_closes_at = DateTimeLocalField(_l("Enrolment closes"), validators=[Optional()],
                                             description=_l("In the course's time zone."))
    withdrawal_deadline = DateTimeLocalField(_l("Withdrawal deadline"), validators=[Optional()],
                                             description=_l("In the course's time zone."))
    submit = SubmitField(_l("Save"))

    def fill_choices(self, programmes, venues) -> None:  # noqa: ANN001
        self.kind.choices = [(k.value, label(k)) for k in CourseKind]
        self.enrolment_mode.choices = [(m.value, label(m)) for m in EnrolmentMode]
        self.programme_id.choices = [(0, _l("— none —"))] + [(p.id, p.title) for p in programmes]
        self.venue_id.choices = [(0, _l("— none —"))] + [(v.id, f"{v.name} ({v.city or _l('Online')})") for v in venues]
        self.country.choices = country_choices()
        self.timezone.choices = timezone_choices()


class CancelCourseForm(Form):
    reason = TextAreaField(_l("Reason (sent to every participant)"), filters=[strip],
                           validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Cancel this activity"))
