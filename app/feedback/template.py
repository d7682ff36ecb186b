"""The default survey every course starts from. Texts are data (stored with each
survey, editable per course by an admin), so they carry all three languages here
rather than going through the message catalogues."""
from __future__ import annotations

from app.feedback.models import QuestionKind

TRAVEL_MODES = ("plane", "train", "car", "bus", "local")

_TRAVEL_CHOICES = [
    {"value": "plane", "en": "Plane", "it": "Aereo", "zh": "飞机"},
    {"value": "train", "en": "Train", "it": "Treno", "zh": "火车"},
    {"value": "car", "en": "Car", "it": "Auto", "zh": "汽车"},
    {"value": "bus", "en": "Bus or coach", "it": "Autobus o pullman", "zh": "巴士或长途客车"},
    {"value": "local", "en": "Local (walk, bike, public transport in town)",
     "it": "In città (a piedi, in bici, con i mezzi pubblici)", "zh": "本地出行（步行、骑车、市内公共交通）"},
]

# (key, kind, texts, required, in_person_only, choices)
DEFAULT_QUESTIONS: list[tuple[str, QuestionKind, dict, bool, bool, list]] = [
    ("satisfaction", QuestionKind.LIKERT,
     {"en": "Overall, how satisfied are you with this activity?",
      "it": "Nel complesso, quanto sei soddisfatto/a di questa attività?",
      "zh": "总体而言，您对本次活动的满意度如何？"}, True, False, []),
    ("relevance", QuestionKind.LIKERT,
     {"en": "How relevant was it to your work?",
      "it": "Quanto è stata utile per il tuo lavoro?",
      "zh": "本次活动与您的工作相关程度如何？"}, True, False, []),
    ("organisation", QuestionKind.LIKERT,
     {"en": "How well was it organised?",
      "it": "Come valuti l'organizzazione?",
      "zh": "您如何评价本次活动的组织工作？"}, False, False, []),
    ("nps", QuestionKind.SCALE,
     {"en": "How likely are you to recommend it to a colleague?",
      "it": "Quanto è probabile che tu la consigli a un collega?",
      "zh": "您向同事推荐本次活动的可能性有多大？"}, True, False, []),
    ("knowledge_before", QuestionKind.LIKERT,
     {"en": "Your knowledge of the topic before the activity",
      "it": "La tua conoscenza dell'argomento prima dell'attività",
      "zh": "参加活动前您对该主题的了解程度"}, False, False, []),
    ("knowledge_after", QuestionKind.LIKERT,
     {"en": "Your knowledge of the topic after the activity",
      "it": "La tua conoscenza dell'argomento dopo l'attività",
      "zh": "参加活动后您对该主题的了解程度"}, False, False, []),
    ("apply", QuestionKind.TEXT,
     {"en": "What will you apply in your work?",
      "it": "Che cosa applicherai nel tuo lavoro?",
      "zh": "您将在工作中应用哪些内容？"}, False, False, []),
    ("travel_mode", QuestionKind.SINGLE,
     {"en": "How did you travel to the venue (the longest part of the trip)?",
      "it": "Come hai raggiunto la sede (la tratta più lunga del viaggio)?",
      "zh": "您是如何前往活动地点的（以行程中最长的一段为准）？"}, False, True, _TRAVEL_CHOICES),
    ("travel_city", QuestionKind.TEXT,
     {"en": "From which city did you travel?",
      "it": "Da quale città sei partito/a?",
      "zh": "您从哪个城市出发？"}, False, True, []),
]

INSTRUCTOR_TEXT = {
    "en": "How would you rate {name} as an instructor?",
    "it": "Come valuti {name} come docente?",
    "zh": "您如何评价讲师{name}？",
}

# Where the Likert and 0–10 scales are labelled at their ends.
SCALE_ENDS = {
    QuestionKind.LIKERT: {"en": ("1 = not at all", "5 = very much"), "it": ("1 = per niente", "5 = moltissimo"),
                          "zh": ("1 = 完全不", "5 = 非常")},
    QuestionKind.SCALE: {"en": ("0 = not at all likely", "10 = extremely likely"),
                         "it": ("0 = per niente probabile", "10 = estremamente probabile"),
                         "zh": ("0 = 完全不可能", "10 = 极有可能")},
}
