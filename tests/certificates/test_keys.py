"""Certificate keys by id (PONTE_CERT_KEYS): the newest signs, each certificate is checked
with the key it names, so adding a key or changing SECRET_KEY never turns an issued
certificate into "does not match"; removing a key does, on purpose."""
import hashlib
import hmac

import pytest

from app.certificates import services
from app.certificates.models import CertificateKind as K
from app.certificates.verify import _canonical, verify_by_code
from app.enrolment.models import EnrolmentStatus as S
from app.extensions import db
from tests.certificates.test_issue import _attend, _finished_course
from tests.factories import EnrolmentFactory

pytestmark = pytest.mark.usefixtures("app_ctx")

KEY1 = "first-certificate-key-" + "a" * 24
KEY2 = "second-certificate-key-" + "b" * 24
MISMATCH = "does not match its verification code"


def _certificate():
    """A fresh attendance certificate (a new course and holder each time)."""
    course, first, _second = _finished_course()
    enrolment = EnrolmentFactory(course=course, status=S.COMPLETED)
    _attend(first, enrolment)
    certificate = services.issue(enrolment, K.ATTENDANCE, None)
    db.session.commit()
    return certificate


def _verifies(client, certificate) -> bool:
    """Both ways a visitor checks: the page of the QR code, and serial + code typed in."""
    page = client.get(f"/verify/{certificate.public_id}").get_data(as_text=True)
    typed = client.post("/verify", data={"serial": certificate.serial, "code": certificate.verification_code})
    by_code = typed.status_code == 302 and typed.headers["Location"].endswith(f"/verify/{certificate.public_id}")
    assert ("Valid certificate" in page) == by_code == (MISMATCH not in page)
    return by_code


def test_a_new_key_signs_new_certificates_and_the_old_ones_keep_verifying(app, client):
    app.config["PONTE_CERT_KEYS"] = {"k1": KEY1}
    old = _certificate()
    assert old.key_id == "k1" and old.verification_code.startswith("K1-")
    app.config["PONTE_CERT_KEYS"] = {"k1": KEY1, "k2": KEY2}
    new = _certificate()
    assert new.key_id == "k2" and new.verification_code.startswith("K2-")
    assert _verifies(client, old) and _verifies(client, new)


def test_changing_the_secret_key_leaves_every_certificate_valid(app, client):
    app.config["PONTE_CERT_KEYS"] = {"k1": KEY1}
    old = _certificate()
    app.config["PONTE_CERT_KEYS"] = {"k1": KEY1, "k2": KEY2}
    new = _certificate()
    app.config["SECRET_KEY"] = "a-rotated-secret-key-" + "c" * 24
    assert _verifies(client, old) and _verifies(client, new)


def test_retiring_a_key_makes_what_it_signed_not_match_and_nothing_else(app, client):
    app.config["PONTE_CERT_KEYS"] = {"k1": KEY1}
    old = _certificate()
    app.config["PONTE_CERT_KEYS"] = {"k1": KEY1, "k2": KEY2}
    new = _certificate()
    app.config["PONTE_CERT_KEYS"] = {"k2": KEY2}  # k1 leaked: retired
    assert MISMATCH in client.get(f"/verify/{old.public_id}").get_data(as_text=True)
    assert verify_by_code(old.serial, old.verification_code) is None
    assert not _verifies(client, old)
    assert _verifies(client, new)


def test_a_certificate_from_before_keys_by_id_verifies_once_its_key_is_listed(app, client):
    """Without PONTE_CERT_KEYS the one key is derived from SECRET_KEY, id k1, exactly as
    before; listing that secret as k1 (the README's way to move) keeps such certificates
    valid, also after SECRET_KEY changes."""
    app.config["PONTE_CERT_KEYS"] = {}
    secret = app.config["SECRET_KEY"]
    legacy = _certificate()
    key = hashlib.sha256(f"ponte-certificate:{secret}".encode()).digest()
    digest = hmac.new(key, _canonical(legacy.snapshot), hashlib.sha256).hexdigest()[:16].upper()
    assert legacy.key_id == "k1"
    assert legacy.verification_code == "K1-" + "-".join(digest[i:i + 4] for i in range(0, 16, 4))
    app.config["PONTE_CERT_KEYS"] = {"k1": secret, "k2": KEY2}
    app.config["SECRET_KEY"] = "a-rotated-secret-key-" + "c" * 24
    assert _verifies(client, legacy)
