from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app.core.forms import Form, strip
from app.feedback.models import QuestionKind


def _kind_choices() -> list[tuple[str, str]]:
    from app.core.labels import label

    return [(k.value, label(k)) for k in QuestionKind]


class QuestionForm(Form):
    kind = SelectField(_l("Kind of question"), validators=[DataRequired()])
    text_en = StringField(_l("Question in English"), filters=[strip], validators=[DataRequired(), Length(max=500)])
    text_it = StringField(_l("Question in Italian"), filters=[strip], validators=[Optional(), Length(max=500)],
                          description=_l("Left empty, the English text is shown."))
    text_zh = StringField(_l("Question in Chinese"), filters=[strip], validators=[Optional(), Length(max=500)],
                          description=_l("Left empty, the English text is shown."))
    choices = TextAreaField(_l("Choices, one per line"), validators=[Optional(), Length(max=6000)],
                            description=_l("For choice questions: English | Italiano | 中文 on each line."))
    required = BooleanField(_l("An answer is required"))
    submit = SubmitField(_l("Save question"))

    def fill_choices(self) -> None:
        if getattr(self, "kind", None) is not None:  # editing leaves the kind out: it never changes
            self.kind.choices = _kind_choices()

    def texts(self) -> dict:
        return {"en": self.text_en.data, "it": self.text_it.data, "zh": self.text_zh.data}
