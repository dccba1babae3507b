"""``scrapy runspider``, exiting with the crawl's own status (see kspider.commands.crawl)."""
from __future__ import annotations

from scrapy.commands.runspider import Command as ScrapyRunSpiderCommand

from kspider.commands.crawl import CrawlStatusMixin


class Command(CrawlStatusMixin, ScrapyRunSpiderCommand):
    pass
