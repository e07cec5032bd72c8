"""What the survey's definition and an answer may hold, checked on every backup and at start-up."""

from __future__ import annotations

from typing import Annotated, Literal, Optional, Union

from msgspec import Meta

from ..core.schema import Many, Month, Record, Sealed, Text
from .rules import MAX_FREE_TEXT, MAX_OPTION, MAX_OPTIONS, MAX_QUESTION, MAX_QUESTIONS, MAX_TITLE

Choice = Annotated[int, Meta(ge=0, lt=MAX_OPTIONS)]
Question = Annotated[str, Meta(pattern=rf"^q[1-{MAX_QUESTIONS}]$")]


class SurveyQuestion(Record):
    text: Text(MAX_QUESTION)
    kind: Literal["single", "multiple", "text"]
    options: Many(Text(MAX_OPTION), MAX_OPTIONS)


class Survey(Record):
    title: Text(MAX_TITLE)
    questions: Many(SurveyQuestion, MAX_QUESTIONS)
    key: Text(40)
    open: bool = False


class Answer(Record):
    month: Month
    answers: Annotated[dict[Question, Union[Choice, Many(Choice, MAX_OPTIONS), Text(MAX_FREE_TEXT)]],
                       Meta(max_length=MAX_QUESTIONS)]
    sealed: Optional[Sealed] = None  # the free-text answers, for the coordinators (core/keys.py)
