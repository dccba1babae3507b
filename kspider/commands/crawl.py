"""``scrapy crawl``, exiting with the crawl's own status (docs/OPERATING.md, "Exit codes").

Scrapy's command ends the process with ``self.exitcode``, which it sets only
when the crawler could not start; this one also takes the status the
ExitStatus extension recorded. Scrapyd runs jobs through ``scrapy crawl`` too,
so a failed job ends with a non-zero process status there as well.
"""
from __future__ import annotations

from typing import Any

from scrapy.commands.crawl import Command as ScrapyCrawlCommand

from kspider.extensions import exit_code


class CrawlStatusMixin:
    """Remembers the crawlers a command creates and exits with the highest status they recorded."""

    def _create_crawler(self, spidercls: Any) -> Any:
        crawler = super()._create_crawler(spidercls)  # type: ignore[misc]
        self.__dict__.setdefault("_crawlers", []).append(crawler)
        return crawler

    def run(self, args: list[str], opts: Any) -> None:
        super().run(args, opts)  # type: ignore[misc]
        code = max((exit_code(c) for c in self.__dict__.get("_crawlers", [])), default=0)
        if code and not self.exitcode:  # type: ignore[has-type]
            self.exitcode = code


class Command(CrawlStatusMixin, ScrapyCrawlCommand):
    pass
