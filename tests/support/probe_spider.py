"""A probe spider for the download-stack tests: one item per response, describing it."""
import hashlib

import scrapy


class ProbeSpider(scrapy.Spider):
    name = "probe"
    custom_settings = {"ITEM_PIPELINES": {}, "HTTPERROR_ALLOW_ALL": True}

    def __init__(self, urls: str = "", *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.urls = [u for u in urls.split(",") if u]

    async def start(self):
        for url in self.urls:
            yield scrapy.Request(url, dont_filter=True)

    def parse(self, response):
        text = getattr(response, "text", None)
        yield {
            "url": response.url,
            "status": response.status,
            "encoding": getattr(response, "encoding", None),
            "title": response.css("title::text").get() if text is not None else None,
            "body_sha1": hashlib.sha1(response.body).hexdigest(),
            "redirect_urls": response.meta.get("redirect_urls", []),
            "flags": response.flags,
        }
