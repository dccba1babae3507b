"""Topic filter: how much an article is about the crawler's subject.

The crawler wants industrial parks, investment, factories and the
Suzhou–Kunshan–Shanghai region; general news sites (xinjiapo.news) carry far
more than that. A site's registry entry lists weighted keywords
(``Site.topic_keywords``) and a threshold (``Site.topic_min_score``); the
spider keeps an article when ``topic_score`` reaches the threshold.

The score is deliberately simple and explainable (a sum of weights, no model):
each keyword counts once, with its weight, when it occurs in the body, and
twice when it occurs in the title (a headline keyword says what the article is
about; a body mention may be in passing). Repetition does not add up, so a long
article is not favoured over a short one. Keywords are Simplified Chinese;
text in Traditional script and pinyin artifacts (蘇州高新區(qū)) are normalized
before matching, so one keyword list serves both scripts.
"""
from __future__ import annotations

from typing import Mapping, Optional

from kspider.extract.text import normalize_text, strip_pinyin, to_simplified

TITLE_FACTOR = 2.0


def _matchable(text: Optional[str]) -> str:
    """Text as keywords are matched: normalized, pinyin artifacts removed, Simplified, lower case."""
    out = normalize_text(text or "")
    out, _ = strip_pinyin(out)
    return to_simplified(out).lower()


def topic_hits(title: Optional[str], text: Optional[str], keywords: Mapping[str, float]) -> dict[str, float]:
    """Keyword → points it contributed (weight, or weight × 2 when in the title). Unmatched keywords are absent."""
    head = _matchable(title)
    body = _matchable(text)
    hits: dict[str, float] = {}
    for keyword, weight in keywords.items():
        key = _matchable(keyword)
        if not key:
            continue
        if key in head:
            hits[keyword] = float(weight) * TITLE_FACTOR
        elif key in body:
            hits[keyword] = float(weight)
    return hits


def topic_score(title: Optional[str], text: Optional[str], keywords: Mapping[str, float]) -> float:
    """The article's topic score: the sum of ``topic_hits`` (0.0 when nothing matches or no keywords)."""
    return round(sum(topic_hits(title, text, keywords).values()), 3)


def on_topic(score: float, keywords: Mapping[str, float], min_score: float) -> bool:
    """Whether an article with this score is kept: always when the site has no keyword list."""
    return not keywords or score >= min_score
