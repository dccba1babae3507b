"""ArticleResult, the one result type of the page parsers, hands the spiders stored field names only."""
from __future__ import annotations

from dataclasses import fields

from kspider.extract.result import ArticleResult
from kspider.items import Article


def test_every_field_a_parser_hands_over_is_a_stored_article_field() -> None:
    stored = {f.name for f in fields(Article)}
    assert set(ArticleResult().item_fields()) <= stored
    # What is not handed over: the canonical link (checked by the spider) and the fallback bookkeeping.
    assert {f.name for f in fields(ArticleResult)} - stored == {"canonical", "fallback_fields"}


def test_flags_are_kept_once_in_order() -> None:
    result = ArticleResult()
    for name in ("missing_date", "layout_fallback", "missing_date"):
        result.flag(name)
    assert result.quality_flags == ["missing_date", "layout_fallback"]
