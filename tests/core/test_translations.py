"""Every message is translated into Italian and Chinese, every plural form included:
an empty or fuzzy entry falls back to English on the page."""
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

CATALOGUES = Path(__file__).resolve().parents[2] / "app" / "translations"


@pytest.mark.parametrize("language", ["it", "zh"])
def test_every_message_and_plural_form_is_translated(language):
    with open(CATALOGUES / language / "LC_MESSAGES" / "messages.po", "rb") as f:
        catalogue = read_po(f)
    missing = []
    for message in catalogue:
        if not message.id:
            continue
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(forms) or (isinstance(message.id, tuple) and len(forms) != catalogue.num_plurals):
            missing.append(message.id)
    assert missing == []


def test_the_catalogues_hold_every_message_of_the_code(tmp_path, monkeypatch):
    """Read from the code as it is now, not from the last `make extract-messages`: a
    message added without extracting it would show in English only."""
    from babel.messages.frontend import CommandLineInterface

    monkeypatch.chdir(CATALOGUES.parents[1])
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", "app/translations/babel.cfg", "-k", "_l",
                                "-k", "lazy_gettext", "-k", "lazy_pgettext:1c,2", "-o", str(tmp_path / "now.pot"), "."])
    with open(tmp_path / "now.pot", "rb") as f:
        template = {m.id for m in read_po(f) if m.id}
    assert len(template) > 1000
    for language in ("it", "zh"):
        with open(CATALOGUES / language / "LC_MESSAGES" / "messages.po", "rb") as f:
            translated = {m.id for m in read_po(f) if m.id}  # read_po keeps obsolete entries apart
        assert template <= translated, language


def test_italian_speaks_of_the_enrolment_not_the_persons_gender(app):
    """Enrolment states agree with "l'iscrizione" (feminine) and messages to a person use
    neutral turns ("Ti diamo il benvenuto", "Ritiro registrato"): nobody reads "ritirato"."""
    from flask_babel import force_locale, gettext

    from app.catalogue.models import CourseStatus
    from app.core.labels import label
    from app.enrolment.models import EnrolmentStatus

    with app.test_request_context(), force_locale("it"):
        assert label(EnrolmentStatus.WITHDRAWN) == "Ritirata"
        assert label(EnrolmentStatus.CANCELLED) == "Annullata"
        assert label(CourseStatus.CANCELLED) == "Annullato"  # il corso
        assert gettext("You have withdrawn from %(course)s.", course="X") == "Ritiro da X registrato."
        assert "Benvenuto" not in gettext("Welcome, %(name)s", name="Giulia")
