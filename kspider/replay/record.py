"""Record mode: every live response written into a fixture set (format: kspider.replay.fixtures)."""
from __future__ import annotations

import logging

from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from kspider.replay.fixtures import FixtureWriter

logger = logging.getLogger(__name__)


def headers_to_dict(response: Response) -> dict:
    out: dict = {}
    for raw_name, raw_values in response.headers.items():
        name = raw_name.decode("latin-1")
        values = [v.decode("latin-1") for v in raw_values]
        out[name] = values[0] if len(values) == 1 else values
    return out


class RecordMiddleware:
    """Sits next to the downloader, so it records bodies exactly as served (still compressed)."""

    def __init__(self, crawler) -> None:
        record_dir = crawler.settings.get("RECORD_DIR")
        if not record_dir:
            raise NotConfigured
        if crawler.settings.get("REPLAY_DIR"):
            raise NotConfigured("RECORD_DIR is ignored while REPLAY_DIR is set")
        self.writer = FixtureWriter(record_dir)
        self.stats = crawler.stats
        logger.info("record: writing responses to %s", record_dir)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        if "replay" in response.flags:
            return response
        if request.meta.get("playwright"):
            # The browser handler records the raw page and its sub-resources itself;
            # what arrives here is the rendered DOM, which is not what was served.
            return response
        body = b"" if 300 <= response.status < 400 else response.body
        self.writer.write(response.url, response.status, headers_to_dict(response), body)
        self.stats.inc_value("record/written")
        return response
