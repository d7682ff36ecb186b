"""What staff may see of a survey: counts, averages, distributions and free text, never
who answered what, and nothing broken down below MIN_RESPONSES answers."""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from app.extensions import db
from app.feedback.models import QuestionKind, Survey, SurveyAnswer, SurveyQuestion, SurveyResponse
from app.feedback.services import MIN_RESPONSES


@dataclass
class QuestionResult:
    question: SurveyQuestion
    answers: int = 0
    mean: float | None = None
    distribution: list[tuple[str, int]] = field(default_factory=list)  # (value or choice value, count)
    texts: list[str] = field(default_factory=list)
    nps: int | None = None
    private: bool = False  # counted, never listed (where someone travelled from)

    @property
    def shown(self) -> bool:
        return self.answers >= MIN_RESPONSES


def nps(scores: list[int]) -> int | None:
    """Net Promoter Score: % of 9–10 minus % of 0–6, rounded; None without answers."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100 * (promoters - detractors) / len(scores))


def results(survey: Survey, questions: list[SurveyQuestion]) -> tuple[int, list[QuestionResult]]:
    """(number of responses, one result per question). Two queries, whatever the size."""
    total = db.session.scalar(sa.select(sa.func.count(SurveyResponse.id)).where(SurveyResponse.survey_id == survey.id)) or 0
    rows = db.session.execute(
        sa.select(SurveyAnswer.question_id, SurveyAnswer.number, SurveyAnswer.text, SurveyAnswer.choices)
        .join(SurveyResponse, SurveyResponse.id == SurveyAnswer.response_id)
        .where(SurveyResponse.survey_id == survey.id)).all()
    by_question: dict[int, list] = {}
    for row in rows:
        by_question.setdefault(row.question_id, []).append(row)
    out = []
    for q in questions:
        # An answer counts while it says something (erasure empties the words of one).
        got = [g for g in by_question.get(q.id, []) if g.number is not None or g.text or g.choices]
        r = QuestionResult(question=q, answers=len(got))
        if q.kind in (QuestionKind.LIKERT, QuestionKind.SCALE):
            numbers = [g.number for g in got if g.number is not None]
            low, high = (1, 5) if q.kind is QuestionKind.LIKERT else (0, 10)
            r.mean = sum(numbers) / len(numbers) if numbers else None
            r.distribution = [(str(v), numbers.count(v)) for v in range(low, high + 1)]
            if q.key == "nps":
                r.nps = nps(numbers)
        elif q.kind is QuestionKind.SINGLE:
            r.distribution = [(c["value"], sum(1 for g in got if g.text == c["value"])) for c in q.choices]
        elif q.kind is QuestionKind.MULTIPLE:
            r.distribution = [(c["value"], sum(1 for g in got if c["value"] in (g.choices or []))) for c in q.choices]
        elif q.key == "travel_city":
            r.private = True  # one "Milano" among "Shanghai"s points at one person: for the travel estimate only
        else:
            # Sorted, so that the order says nothing about who answered first.
            r.texts = sorted((g.text for g in got if g.text), key=str.casefold)
        if not r.shown:
            r.mean, r.distribution, r.texts, r.nps = None, [], [], None
        out.append(r)
    return total, out
