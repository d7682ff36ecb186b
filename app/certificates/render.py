"""Certificate PDF: a pure function of the snapshot (plus the signature images it names).

No request, no database. The same inputs give the same bytes (ReportLab's invariant
mode), so the SHA-256 stored at issue identifies the document and the PDF need not be
kept: it is rendered again on demand. Text is drawn with drawString, never through
Paragraph markup, so a name like `<img src="/etc/passwd"/>` is printed, not obeyed.
"""
from __future__ import annotations

import datetime as dt
import io
import logging
import os
import unicodedata
from functools import lru_cache

import segno
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader, simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

log = logging.getLogger(__name__)

PAGE_W, PAGE_H = landscape(A4)
MARGIN = 42
GREEN = HexColor("#0b5d4b")
GOLD = HexColor("#b08d57")
INK = HexColor("#1f2a2e")
GREY = HexColor("#5f6b6d")
DEFAULT_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"
FALLBACK_FONT = "STSong-Light"
_NO_CID_GLYPH = {"So", "Sk", "Cs", "Co", "Cn", "Cc", "Cf"}

TEXTS = {
    "en": {
        "attendance": "Certificate of Attendance", "completion": "Certificate of Completion",
        "certifies": "This is to certify that", "attended": "took part in", "completed": "successfully completed",
        "held": "held in {place} from {start} to {end}", "held_one": "held in {place} on {start}",
        "online": "online", "hours": "{hours} hours attended", "hours_of": "{hours} of {total} hours attended",
        "rate": "attendance rate {rate}",
        "serial": "Serial", "verify": "Verify this certificate at", "code": "Verification code",
        "issued": "Issued on {date}",
        "revoked": "REVOKED on {date}", "revoked_why": "Reason: {reason}",
    },
    "it": {
        "attendance": "Attestato di partecipazione", "completion": "Attestato di completamento",
        "certifies": "Si attesta che", "attended": "ha partecipato a", "completed": "ha completato con successo",
        "held": "svoltosi a {place} dal {start} al {end}", "held_one": "svoltosi a {place} il {start}",
        "online": "online", "hours": "{hours} ore frequentate", "hours_of": "{hours} ore frequentate su {total}",
        "rate": "frequenza {rate}",
        "serial": "Numero", "verify": "Verifica questo attestato su", "code": "Codice di verifica",
        "issued": "Rilasciato il {date}",
        "revoked": "REVOCATO il {date}", "revoked_why": "Motivo: {reason}",
    },
    "zh": {
        "attendance": "出席证书", "completion": "结业证书",
        "certifies": "兹证明", "attended": "参加了", "completed": "顺利完成了",
        "held": "（{place}，{start}至{end}）", "held_one": "（{place}，{start}）",
        "online": "线上", "hours": "出勤 {hours} 小时", "hours_of": "出勤 {hours} 小时（共 {total} 小时）",
        "rate": "出勤率 {rate}",
        "serial": "编号", "verify": "验证本证书：", "code": "验证码",
        "issued": "颁发日期：{date}",
        "revoked": "已于 {date} 撤销", "revoked_why": "原因：{reason}",
    },
}
KIND_NAMES = {
    "en": {"summer_school": "Summer School", "winter_school": "Winter School", "course": "Course", "seminar": "Seminar",
           "forum": "Forum", "site_visit": "Site visit", "webinar": "Webinar", "workshop": "Workshop"},
    "it": {"summer_school": "Summer School", "winter_school": "Winter School", "course": "Corso", "seminar": "Seminario",
           "forum": "Forum", "site_visit": "Visita sul campo", "webinar": "Webinar", "workshop": "Workshop"},
    "zh": {"summer_school": "暑期学校", "winter_school": "冬季学校", "course": "课程", "seminar": "研讨会",
           "forum": "论坛", "site_visit": "实地考察", "webinar": "网络研讨会", "workshop": "工作坊"},
}


@lru_cache(maxsize=4)
def _font(path: str | None) -> str:
    """Register the TrueType font once; fall back to ReportLab's built-in CJK font."""
    path = path or DEFAULT_FONT
    if os.path.exists(path):
        name = "PonteSans"
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
        return name
    log.warning("certificate font %s not found: falling back to %s (install fonts-wqy-microhei)", path, FALLBACK_FONT)
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FALLBACK_FONT


@lru_cache(maxsize=8)
def _coverage(font: str) -> frozenset[int] | None:
    face = getattr(pdfmetrics.getFont(font), "face", None)
    cmap = getattr(face, "charToGlyph", None)
    return frozenset(cmap) if cmap else None


def printable(text: str, font: str) -> str:
    """Drop characters the font has no glyph for (an emoji, say), rather than print a box."""
    covered = _coverage(font)
    if covered is None:  # the built-in CID font: Adobe-GB1 has no emoji, symbols or astral planes
        keep = (ch for ch in text if ord(ch) <= 0xFFFF and unicodedata.category(ch) not in _NO_CID_GLYPH)
    else:
        keep = (ch for ch in text if ord(ch) in covered or ch == " ")
    return " ".join("".join(keep).split())


def _fit(text: str, font: str, size: float, max_width: float, min_size: float = 9) -> float:
    """The largest size ≤ `size` at which `text` fits on one line (never below `min_size`)."""
    width = pdfmetrics.stringWidth(text, font, size)
    if width <= max_width:
        return size
    return max(min_size, size * max_width / width)


@lru_cache(maxsize=64)
def _date(value: str, lang: str) -> str:
    return format_date(dt.date.fromisoformat(value), "long", locale={"zh": "zh_Hans_CN"}.get(lang, lang))


class CertificateRenderer:
    """One method per block, drawn on a ReportLab canvas."""

    def __init__(self, snapshot: dict, images: dict[str, bytes], font_path: str | None, revoked: dict | None = None):
        self.s = snapshot
        self.revoked = revoked
        self.lang: str = str(snapshot["language"]) if snapshot.get("language") in TEXTS else "en"
        self.t = TEXTS[self.lang]
        self.images = images
        self.font = _font(font_path)
        self.buf = io.BytesIO()
        self.c = canvas.Canvas(self.buf, pagesize=(PAGE_W, PAGE_H), invariant=1, pageCompression=1)
        self.c.setTitle(f"{self.t[snapshot['kind']]} — {snapshot['holder_name']}")
        self.c.setAuthor(snapshot["organisation"])
        self.c.setSubject(snapshot["serial"])
        self.c.setCreator("Ponte")

    def render(self) -> bytes:
        self.border()
        self.heading()
        y = self.holder(PAGE_H - 215)
        y = self.body(y - 18)
        self.signatures()
        self.footer()
        self.qr()
        if self.revoked:
            self.stamp()
        self.c.showPage()
        self.c.save()
        return self.buf.getvalue()

    def stamp(self) -> None:
        """Across the page, in red: revoked, when and why. A revoked certificate is
        never handed out looking valid."""
        c = self.c
        c.saveState()
        c.translate(PAGE_W / 2, PAGE_H / 2)
        c.rotate(20)
        c.setFillColor(Color(0.75, 0.1, 0.1, alpha=0.85))
        revoked = self.revoked or {}
        title = self.t["revoked"].format(date=_date(revoked["on"], self.lang))
        c.setFont(self.font, _fit(title, self.font, 44, PAGE_W - 160))
        c.drawCentredString(0, 10, printable(title, self.font))
        reason = self.t["revoked_why"].format(reason=revoked.get("reason") or "")
        size = _fit(reason, self.font, 16, PAGE_W - 200)
        c.setFont(self.font, size)
        c.drawCentredString(0, -24, printable(reason[:200], self.font))
        c.restoreState()

    def text(self, x: float, y: float, value: str, size: float, color: Color = INK, centre: bool = True) -> None:
        value = printable(value, self.font)
        self.c.setFont(self.font, size)
        self.c.setFillColor(color)
        (self.c.drawCentredString if centre else self.c.drawString)(x, y, value)

    def border(self) -> None:
        c = self.c
        c.setStrokeColor(GREEN)
        c.setLineWidth(3)
        c.rect(MARGIN / 2, MARGIN / 2, PAGE_W - MARGIN, PAGE_H - MARGIN)
        c.setStrokeColor(GOLD)
        c.setLineWidth(0.8)
        c.rect(MARGIN / 2 + 6, MARGIN / 2 + 6, PAGE_W - MARGIN - 12, PAGE_H - MARGIN - 12)

    def heading(self) -> None:
        org = self.s["organisation"]
        self.text(PAGE_W / 2, PAGE_H - 78, org, _fit(org, self.font, 13, PAGE_W - 200), GREY)
        title = self.t[self.s["kind"]]
        self.text(PAGE_W / 2, PAGE_H - 128, title, 34, GREEN)
        self.c.setStrokeColor(GOLD)
        self.c.setLineWidth(1.2)
        self.c.line(PAGE_W / 2 - 90, PAGE_H - 145, PAGE_W / 2 + 90, PAGE_H - 145)

    def holder(self, y: float) -> float:
        self.text(PAGE_W / 2, y + 30, self.t["certifies"], 13, GREY)
        name = printable(self.s["holder_name"], self.font)
        self.text(PAGE_W / 2, y - 8, name, _fit(name, self.font, 30, PAGE_W - 160))
        native = printable(self.s.get("holder_native_name") or "", self.font)
        if native:
            y -= 34
            self.text(PAGE_W / 2, y - 6, native, _fit(native, self.font, 22, PAGE_W - 160))
        return y - 30

    def body(self, y: float) -> float:
        s, t = self.s, self.t
        self.text(PAGE_W / 2, y, t["completed"] if s["kind"] == "completion" else t["attended"], 13, GREY)
        y -= 26
        kind = KIND_NAMES[self.lang].get(s["course_kind"], s["course_kind"])
        title = f"{kind} · {s['course_title']}"
        for line in simpleSplit(title, self.font, 18, PAGE_W - 180)[:3]:
            self.text(PAGE_W / 2, y, line, 18, GREEN)
            y -= 22
        place = t["online"] if s.get("online") else (s.get("place") or "")
        start, end = _date(s["starts_on"], self.lang), _date(s["ends_on"], self.lang)
        held = (t["held_one"] if s["starts_on"] == s["ends_on"] else t["held"]).format(place=place, start=start, end=end)
        self.text(PAGE_W / 2, y - 2, held, _fit(held, self.font, 12, PAGE_W - 180), INK)
        y -= 20
        hours = _number(s.get("hours", 0), self.lang)
        held_hours = s.get("held_hours")  # snapshots before December 2026 lack it
        facts = [t["hours_of"].format(hours=hours, total=_number(held_hours, self.lang)) if held_hours
                 else t["hours"].format(hours=hours)]
        if s["kind"] == "completion" and s.get("attendance_rate") is not None:
            facts.append(t["rate"].format(rate=format_percent(round(s["attendance_rate"] / 100, 3), locale=self.lang,
                                                              decimal_quantization=False)))
        self.text(PAGE_W / 2, y - 2, " · ".join(facts), 11, GREY)
        return y

    def signatures(self) -> None:
        people = self.s.get("signatories") or []
        if not people:
            return
        people = people[:3]
        slot = (PAGE_W - 2 * 150) / len(people)
        for i, person in enumerate(people):
            x = 150 + slot * (i + 0.5)
            image = self.images.get(person.get("image_sha256") or "")
            if image:
                self.c.drawImage(ImageReader(io.BytesIO(image)), x - 60, 128, width=120, height=40,
                                 preserveAspectRatio=True, mask="auto", anchor="c")
            self.c.setStrokeColor(GREY)
            self.c.setLineWidth(0.6)
            self.c.line(x - 80, 124, x + 80, 124)
            name = person.get("name", "")
            self.text(x, 110, name, _fit(name, self.font, 11, 170))
            role = person.get("title", "")
            self.text(x, 96, role, _fit(role, self.font, 9, 170), GREY)

    def footer(self) -> None:
        s, t = self.s, self.t
        left = MARGIN + 16
        colon = "：" if self.lang == "zh" else ": "
        self.text(left, 78, f"{t['serial']}{colon}{s['serial']}", 9, GREY, centre=False)
        self.text(left, 66, f"{t['code']}{colon}{s['verification_code']}", 9, GREY, centre=False)
        self.text(left, 54, t["issued"].format(date=_date(s["issued_on"], self.lang)), 9, GREY, centre=False)
        self.text(left, 42 + 0, f"{t['verify']} {s['verify_url']}", _fit(f"{t['verify']} {s['verify_url']}", self.font, 8, 420),
                  GREY, centre=False)

    def qr(self) -> None:
        """The verification URL as a QR code, drawn as one vector path from segno's matrix.

        The mask is fixed rather than searched for: any of the eight masks scans, and the
        search is most of the cost of encoding."""
        matrix = _qr_matrix(self.s["verify_url"])
        quiet = 4
        modules = len(matrix) + 2 * quiet
        size = 86
        x0, y0 = PAGE_W - MARGIN - 16 - size, 40
        c = self.c
        c.saveState()
        c.translate(x0, y0 + size)
        c.scale(size / modules, -size / modules)  # one unit per module, rows going down
        c.setFillColor(HexColor("#ffffff"))
        c.rect(0, 0, modules, modules, stroke=0, fill=1)
        path = c.beginPath()
        for x, y, w, h in _rectangles(matrix):
            path.rect(x + quiet, y + quiet, w, h)
        c.setFillColor(HexColor("#000000"))
        c.drawPath(path, stroke=0, fill=1)
        c.restoreState()


@lru_cache(maxsize=256)
def _qr_matrix(url: str) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(row) for row in segno.make(url, error="m", boost_error=False, mask=4, micro=False).matrix)


def _rectangles(matrix) -> list[tuple[int, int, int, int]]:  # noqa: ANN001
    """Dark modules as rectangles, one per run of dark modules along a row."""
    out: list[tuple[int, int, int, int]] = []
    for r, row in enumerate(matrix):
        col, n = 0, len(row)
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                out.append((start, r, col - start, 1))
            else:
                col += 1
    return out


def _number(value: float, lang: str) -> str:
    return format_decimal(value, "#,##0.#", locale=lang)


def render_certificate(snapshot: dict, images: dict[str, bytes] | None = None, font_path: str | None = None,
                       *, revoked: dict | None = None) -> bytes:
    """The certificate's PDF bytes. Pure: the same arguments always give the same bytes.
    `revoked` ({"on": ISO date, "reason": text}) stamps the page as revoked."""
    return CertificateRenderer(snapshot, images or {}, font_path, revoked).render()
