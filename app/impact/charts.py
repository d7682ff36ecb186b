"""Horizontal bar charts drawn on the server. One layout (rectangles and texts in
points) is turned into inline SVG for the page or a ReportLab Drawing for the PDF, so
both show the same picture. Each chart carries a title and a description for screen
readers; the page and the PDF print the table behind it as well."""
from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

PALETTE = ("#0b5d4b", "#2f8f74", "#6bb39a", "#a7d3c2", "#d9a441", "#8a8f98")
WIDTH = 480
BAR = 18
GAP = 8
LABEL_W = 190
VALUE_W = 70


@dataclass
class Bar:
    label: str
    value: float
    shown: str  # the value as printed ("42", "12.5 %")


@dataclass
class Shape:
    kind: str         # "rect" or "text"
    x: float
    y: float          # from the top
    w: float = 0
    h: float = 0
    text: str = ""
    fill: str = "#000000"
    anchor: str = "start"
    size: float = 13  # in the SVG; the PDF prints 10 pt


@dataclass
class Chart:
    key: str
    title: str
    description: str
    bars: list[Bar]

    @property
    def height(self) -> float:
        return max(len(self.bars), 1) * (BAR + GAP) + GAP

    def layout(self) -> list[Shape]:
        top = max((b.value for b in self.bars), default=0) or 1
        room = WIDTH - LABEL_W - VALUE_W
        shapes = []
        for i, bar in enumerate(self.bars):
            y = GAP + i * (BAR + GAP)
            w = max(room * bar.value / top, 1 if bar.value else 0)
            shapes.append(Shape("text", LABEL_W - 6, y + BAR * 0.72, text=_clip(bar.label, 26), anchor="end"))
            shapes.append(Shape("rect", LABEL_W, y, w, BAR, fill=PALETTE[i % len(PALETTE)]))
            shapes.append(Shape("text", LABEL_W + w + 4, y + BAR * 0.72, text=bar.shown))
        return shapes

    def svg(self) -> str:
        ident = f"chart-{self.key}"
        parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {self.height:.0f}" '
                 f'width="{WIDTH}" height="{self.height:.0f}" role="img" aria-labelledby="{ident}-t {ident}-d">',
                 f'<title id="{ident}-t">{escape(self.title)}</title>',
                 f'<desc id="{ident}-d">{escape(self.description)}</desc>']
        for s in self.layout():
            if s.kind == "rect":
                parts.append(f'<rect x="{s.x:.1f}" y="{s.y:.1f}" width="{s.w:.1f}" height="{s.h:.1f}" fill="{s.fill}"/>')
            else:
                parts.append(f'<text x="{s.x:.1f}" y="{s.y:.1f}" font-size="{s.size}" text-anchor="{s.anchor}" '
                             f'fill="{s.fill}">{escape(s.text)}</text>')
        parts.append("</svg>")
        return "".join(parts)

    def drawing(self, font: str, printable=lambda text, font: text):  # noqa: ANN001, ANN201
        """The same picture as a ReportLab Drawing (vector) in `font` (a CJK font for zh)."""
        from reportlab.graphics.shapes import Drawing, Rect, String
        from reportlab.lib.colors import HexColor

        d = Drawing(WIDTH, self.height)
        for s in self.layout():
            y = self.height - s.y
            if s.kind == "rect":
                d.add(Rect(s.x, y - s.h, s.w, s.h, fillColor=HexColor(s.fill), strokeColor=None))
            else:
                d.add(String(s.x, y, printable(s.text, font), fontName=font, fontSize=10,
                             textAnchor=s.anchor, fillColor=HexColor(s.fill)))
        return d


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def from_table(key: str, title: str, description: str, rows: list[list], value_col: int = 1,
               fmt=lambda v: f"{v:,}") -> Chart:  # noqa: ANN001
    bars = [Bar(str(r[0]), float(r[value_col] or 0), fmt(r[value_col]) if r[value_col] is not None else "–")
            for r in rows if r[value_col] is None or isinstance(r[value_col], int | float)]  # not "fewer than 5"
    return Chart(key, title, description, bars)


def report_charts(report) -> dict[str, Chart]:  # noqa: ANN001 - metrics.Report
    """The dashboard's charts, keyed by the table they draw."""
    from flask_babel import gettext as _

    from app.core.numbers import decimal

    t = report.tables
    out = {
        "countries": from_table("countries", t["countries"].title,
                                _("Bar chart: number of people by country, largest first."), t["countries"].rows[:10]),
        "organisation_types": from_table("organisation_types", t["organisation_types"].title,
                                         _("Bar chart: number of people by type of organisation."),
                                         t["organisation_types"].rows),
        "gender": from_table("gender", t["gender"].title, _("Bar chart: number of people by self-declared gender."),
                             t["gender"].rows),
        "travel": from_table("travel", t["travel"].title,
                             _("Bar chart: estimated kilograms of CO2e by mode of travel."),
                             [r for r in t["travel"].rows if r[3] is not None], value_col=3,
                             fmt=lambda v: f"{decimal(v)} kg"),
    }
    knowledge = [r for r in t["knowledge"].rows if r[1] is not None]
    if knowledge:
        out["knowledge"] = from_table("knowledge", t["knowledge"].title,
                                      _("Bar chart: average self-assessed knowledge of the topic before and after, "
                                        "on a scale of 1 to 5."), knowledge, fmt=decimal)
    return out
