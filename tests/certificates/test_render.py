"""The renderer: every language, hostile names, determinism, an embedded CJK font, a QR that scans."""
import io
import subprocess
import tempfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.certificates.render import render_certificate

HOSTILE = [
    "<para>Giulia</para>", '<img src="/etc/passwd"/>', "Rossi &amp; Bianchi", "<b>Bold</b>", "Chiara 🌱 Verdi",
    "王" * 60, "Maria " + "Giovanna " * 14 + "Rossi",
]


def snapshot(**kw):
    base = {
        "language": "en", "kind": "completion", "holder_name": "Giulia Rossi", "holder_native_name": "",
        "organisation": "Ponte Foundation", "course_title": "Winter School on Low-Carbon Cities", "course_kind": "winter_school",
        "place": "Shanghai", "online": False, "starts_on": "2026-11-28", "ends_on": "2026-12-04", "hours": 42.0,
        "attendance_rate": 92.9, "signatories": [{"name": "Anna Ferraro", "title": "Director"}], "serial": "PONTE-2026-000042",
        "verification_code": "K1-3F9A-7C2B-1D4E-88AA", "issued_on": "2026-12-05",
        "verify_url": "https://ponte.example.org/verify/0123456789abcdef0123456789abcdef",
    }
    base.update(kw)
    return base


def text_of(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


#: Both font paths: Debian's WenQuanYi Micro Hei (embedded), and ReportLab's built-in
#: STSong-Light where that font is missing.
FONTS = {"wenquanyi": None, "stsong-fallback": "/nonexistent/font.ttf"}


@pytest.mark.parametrize("font", list(FONTS))
@pytest.mark.parametrize("language", ["en", "it", "zh"])
@pytest.mark.parametrize("name", HOSTILE)
def test_every_language_prints_hostile_names_literally(language, name, font):
    native = "王伟<para>" if language == "zh" else ""
    pdf = render_certificate(snapshot(language=language, holder_name=name, holder_native_name=native),
                             font_path=FONTS[font])
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    assert reader.attachments == {}  # nothing embedded from the name
    text = text_of(pdf).replace("\n", "")
    assert "\x00" not in text  # no missing-glyph boxes: characters the font lacks are left out
    assert "🌱" not in text  # neither font has emoji
    printable_name = name.replace("🌱", "")
    assert printable_name.replace(" ", "")[:40] in text.replace(" ", "")
    if native:
        assert "王伟<para>" in text
    assert {"en": "Certificate of Completion", "it": "Attestato di completamento", "zh": "结业证书"}[language] in text


def test_the_cjk_font_is_embedded():
    pdf = render_certificate(snapshot(holder_native_name="陈晓玲"))
    fonts = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()
            for d in descriptor.get("/DescendantFonts", [descriptor]):
                fd = d.get_object().get("/FontDescriptor")
                if fd is not None and "/FontFile2" in fd.get_object():
                    fonts.add(str(d.get_object()["/BaseFont"]))
    assert fonts, "a TrueType font must be embedded"


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "9 of 12 hours attended · attendance rate 75%"),
    ("it", "9 ore frequentate su 12 · frequenza 75%"),
    ("zh", "出勤 9 小时（共 12 小时） · 出勤率 75%"),
])
def test_hours_read_as_attended_of_held_in_every_language(language, expected):
    text = text_of(render_certificate(snapshot(language=language, hours=9.0, held_hours=12.0, attendance_rate=75.0)))
    assert expected.replace(" ", "") in text.replace(" ", "").replace("\n", "")


def test_italian_certificates_write_decimals_with_a_comma():
    text = text_of(render_certificate(snapshot(language="it", hours=7.5, held_hours=12.0, attendance_rate=62.5)))
    assert "7,5" in text and "62,5%" in text


def test_same_snapshot_same_bytes():
    assert render_certificate(snapshot()) == render_certificate(snapshot())
    assert render_certificate(snapshot()) != render_certificate(snapshot(holder_name="Someone Else"))


def test_long_names_shrink_instead_of_overflowing():
    from reportlab.pdfbase import pdfmetrics

    from app.certificates.render import PAGE_W, _fit, _font

    font = _font(None)
    name = "Maria " + "Giovanna " * 14 + "Rossi"
    size = _fit(name, font, 30, PAGE_W - 160)
    assert size < 30 and pdfmetrics.stringWidth(name, font, size) <= PAGE_W - 160 + 0.01


def test_missing_font_falls_back_to_stsong(caplog):
    from app.certificates.render import _font

    _font.cache_clear()  # the warning is logged once per path, when the font is first looked for
    pdf = render_certificate(snapshot(holder_native_name="王伟"), font_path="/nonexistent/font.ttf")
    assert "王伟" in text_of(pdf)
    assert "falling back to STSong-Light" in caplog.text


def test_the_qr_code_scans_to_the_verification_url():
    import shutil

    if not shutil.which("pdftoppm"):  # `make test` installs it; a test that cannot run fails
        pytest.fail("pdftoppm missing: install Debian's poppler-utils")
    import zxingcpp
    from PIL import Image

    pdf = render_certificate(snapshot(language="zh", holder_native_name="王伟"))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "c.pdf"
        path.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "200", str(path), str(Path(tmp) / "page")], check=True)
        [png] = list(Path(tmp).glob("page*.png"))
        results = zxingcpp.read_barcodes(Image.open(png))
    assert [r.text for r in results] == ["https://ponte.example.org/verify/0123456789abcdef0123456789abcdef"]
