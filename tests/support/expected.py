"""Comparing crawled items with a fixture set's expected.json."""
from __future__ import annotations

from typing import Any, Mapping

# Article fields every news-portal expected.json states for each article.
NEWS_ARTICLE_FIELDS = ("canonical_url", "site", "site_name", "title", "published_raw", "published_at",
                       "date_precision", "category", "author", "editor", "source_name", "source_url", "views",
                       "lang", "content_text", "content_text_hans", "images")


def assert_fields(item: Mapping[str, Any], want: Mapping[str, Any], names=NEWS_ARTICLE_FIELDS) -> None:
    """Every named field of ``item`` equals the expected value (the URL and field name on failure)."""
    for name in names:
        assert item[name] == want[name], (want.get("url"), name, item[name], want[name])
