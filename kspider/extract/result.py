"""The one result type of every article-page parser.

The generic extractor (``kspider.extract.article``) and every template parser
(tpure, news portals, Matchexpo) return an ``ArticleResult``: the page's own
fields under their stored names, plus what the parser knows about how it found
them. Spiders add only identity (``_id``, ``url``, ``site`` …) and crawl
bookkeeping; they never reshape a parser's output.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields as dc_fields
from typing import Any, Callable, Iterable, Optional, Union


@dataclass
class ArticleResult:
    """What an article page says, whichever parser read it.

    ``quality_flags`` are stored on the item (e.g. ``layout_fallback``,
    ``multi_page``, ``missing_date``); ``fallback_fields`` names the fields a
    template's selectors missed and the generic extractor supplied (the spider
    counts them as ``extract/fallback/<field>``).
    """

    title: Optional[str] = None
    author: Optional[str] = None
    editor: Optional[str] = None
    category: Optional[str] = None
    breadcrumbs: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    published_at: Optional[str] = None
    published_raw: Optional[str] = None
    date_precision: Optional[str] = None
    views: Optional[int] = None
    likes: Optional[int] = None
    comments: Optional[int] = None
    shares: Optional[int] = None
    source_name: Optional[str] = None
    source_url: Optional[str] = None
    site_name: Optional[str] = None
    content_text: str = ""
    content_html: str = ""
    lang: Optional[str] = None
    images: list[dict[str, Any]] = field(default_factory=list)
    related_urls: list[str] = field(default_factory=list)
    # Not stored as such: the page's canonical link (the spider validates it) and its
    # alternate-language URLs.
    canonical: Optional[str] = None
    alt_urls: list[str] = field(default_factory=list)
    quality_flags: list[str] = field(default_factory=list)
    fallback_fields: list[str] = field(default_factory=list)

    def flag(self, name: str) -> None:
        if name not in self.quality_flags:
            self.quality_flags.append(name)

    def item_fields(self) -> dict[str, Any]:
        """The fields for ``KSpider.make_article`` (everything but ``canonical`` and ``fallback_fields``)."""
        return {f.name: getattr(self, f.name) for f in dc_fields(self)
                if f.name not in ("canonical", "fallback_fields")}


# Fields that travel together: a body is its text, HTML and images; a date its three forms.
FIELD_GROUPS: dict[str, tuple[str, ...]] = {
    "content_text": ("content_text", "content_html", "images"),
    "published_at": ("published_at", "published_raw", "date_precision"),
}
# Flags of the generic extractor that describe its body (kept when the body comes from it).
_BODY_FLAGS = ("multi_page", "deep_nesting", "no_body")


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


def fill_from_generic(hinted: ArticleResult, generic: Union[ArticleResult, Callable[[], ArticleResult]],
                      watched: Iterable[str], silent: Iterable[str] = ()) -> ArticleResult:
    """Hints first, the generic extractor for what they missed.

    ``hinted`` is what a template's selectors found; each field of ``watched``
    (a template selector exists for it) that it lacks is taken from the generic
    result, named in ``fallback_fields`` and flagged ``layout_fallback``: the
    markup changed or was never what the selectors expected. Fields of
    ``silent`` (no selector of the template covers them) are filled the same
    way without a flag. A field stays missing when the generic extractor has
    nothing either. ``generic`` may be a callable, run only when needed.
    ``missing_date`` is set or cleared to match the merged date.
    """
    watched, silent = tuple(watched), tuple(silent)
    lacking = [f for f in watched + silent if _empty(getattr(hinted, f))]
    if lacking:
        found = generic() if callable(generic) else generic
        for name in lacking:
            if _empty(getattr(found, name)):
                continue
            for part in FIELD_GROUPS.get(name, (name,)):
                setattr(hinted, part, getattr(found, part))
            if name == "content_text":
                for flag in found.quality_flags:
                    if flag in _BODY_FLAGS:
                        hinted.flag(flag)
            if name in watched and name not in hinted.fallback_fields:
                hinted.fallback_fields.append(name)
        if hinted.fallback_fields:
            hinted.flag("layout_fallback")
    if hinted.published_at is None:
        hinted.flag("missing_date")
    elif "missing_date" in hinted.quality_flags:
        hinted.quality_flags.remove("missing_date")
    return hinted
