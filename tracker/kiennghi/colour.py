"""A kiến nghị's colour, computed when read: the pure rule
(tracker.rules.recommendations) of its stored facts at the moment, with the deployment's
calendar and policy. Nothing is stored: only time turns it yellow or red, and every list
that selects by colour uses the rule's SQL twin (tracker.rules.recommendations_sql)."""

from __future__ import annotations

from datetime import date, datetime

from tracker.kiennghi.models import Recommendation
from tracker.rules.recommendations import (
    RecommendationColour,
    RecommendationFacts,
    recommendation_colour,
    warning_horizon,
)
from tracker.rules.store import load_calendar, load_policy


def facts_of(rec: Recommendation) -> RecommendationFacts:
    return RecommendationFacts(status=str(rec.status), response_due=rec.response_due,
                               answered_at=rec.answered_at)


def colour_of(rec: Recommendation, moment: datetime) -> RecommendationColour:
    return recommendation_colour(facts_of(rec), load_calendar(), load_policy(), moment)


def today_and_horizon(moment: datetime) -> tuple[date, date]:
    """The constants the SQL twins take at `moment`: today in the zone, and the last
    deadline inside the warning window."""
    calendar = load_calendar()
    today = calendar.local_date(moment)
    return today, warning_horizon(today, calendar, load_policy())
