"""The cleaning pipeline every item passes.

Spiders hand over the text they found; this pipeline applies the shared,
per-site cleaning functions of kspider.extract: whitespace and width,
advertising-law restoration, pinyin artifacts, script and Simplified text,
encoding damage, boilerplate lines; then the content hash and quality flags.
Each flag raised is counted in the stats as ``clean/flag/<flag>``.
"""
from __future__ import annotations

import logging
from typing import Any

from itemadapter import ItemAdapter

from kspider.extract.ids import text_fingerprint
from kspider.extract.text import clean_text, normalize_text, restore_adlaw, strip_pinyin
from kspider.items import Article, RentalAd
from kspider.sites import site_for_host

logger = logging.getLogger(__name__)


def _merge_flags(existing: list[str], new: list[str]) -> list[str]:
    out = list(existing or [])
    for flag in new:
        if flag not in out:
            out.append(flag)
    return out


def clean_inline(text: str, rules: tuple[str, ...]) -> tuple[str, list[str]]:
    """A one-line field (title, names): normalized, pinyin and ad-law rewrites undone."""
    flags: list[str] = []
    text = normalize_text(text).replace("\n", " ")
    text, stripped = strip_pinyin(text)
    if stripped:
        flags.append("pinyin_stripped")
    if rules:
        text, restored = restore_adlaw(text, rules)
        if restored:
            flags.append("adlaw_restored")
    return text, flags


class CleaningPipeline:
    def __init__(self, stats) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.stats)

    def process_item(self, item: Any, spider=None) -> Any:
        adapter = ItemAdapter(item)
        site = site_for_host(adapter.get("site") or "")
        rules = site.adlaw_rules if site else ()
        flags: list[str] = []
        if isinstance(item, Article):
            flags += self._clean_article(adapter, site, rules)
        elif isinstance(item, RentalAd):
            if adapter.get("title"):
                adapter["title"], title_flags = clean_inline(adapter["title"], rules)
                flags += title_flags
        adapter["quality_flags"] = _merge_flags(adapter.get("quality_flags") or [], flags)
        for flag in adapter["quality_flags"]:
            self.stats.inc_value(f"clean/flag/{flag}")
        return item

    def _clean_article(self, adapter: ItemAdapter, site, rules: tuple[str, ...]) -> list[str]:
        flags: list[str] = []
        for name in ("title", "author", "editor", "source_name", "category"):
            if adapter.get(name):
                adapter[name], more = clean_inline(adapter[name], rules)
                flags += more
        result = clean_text(adapter.get("content_text") or "", site)
        adapter["content_text"] = result.text
        flags += result.flags
        if adapter.get("content_html"):
            # The HTML gets the same character-level repairs as the text, so both say the same.
            html, stripped = strip_pinyin(adapter["content_html"])
            if rules:
                html, _ = restore_adlaw(html, rules)
            adapter["content_html"] = html
        if not adapter.get("lang"):
            adapter["lang"] = result.lang
        if result.text_hans is not None:
            adapter["content_text_hans"] = result.text_hans
        if result.text:
            adapter["content_hash"] = text_fingerprint(result.text)
        else:
            self.stats.inc_value("clean/empty_body")
            logger.warning("empty body after cleaning: %s", adapter.get("url"))
            flags.append("empty_body")
        if not adapter.get("published_at"):
            flags.append("missing_date")
        return flags
