"""The site registry: every site the crawler knows, as data.

A spider is a *template*; the sites it crawls are entries here. Adding a site
of an existing template is adding an entry (see README, "Adding a site").
Assumptions about a site that were not seen on the live site are marked
``assumed`` in its entry's ``notes`` so they are easy to find and correct.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Iterable, Optional
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Site:
    host: str  # exact host, or a glob such as "*.021cf.cn"
    spider: str  # template spider name
    name: Optional[str] = None  # the site's own name (site_name fallback)
    start_urls: tuple[str, ...] = ()
    tz: str = "Asia/Shanghai"
    lang: str = "zh-Hans"
    # Advertising-law rewrite rule sets to undo (see kspider.extract.text).
    adlaw_rules: tuple[str, ...] = ()
    # Extra boilerplate line patterns (regex), on top of the shared ones.
    boilerplate: tuple[str, ...] = ()
    # Topic filter: keyword → weight; empty means every article is kept.
    topic_keywords: dict[str, float] = field(default_factory=dict)
    topic_min_score: float = 0.0
    # Page layout for template parsers that read it (news portals): CSS selectors by role,
    # precision hints tried first; what they miss is read without selectors
    # (kspider.extract.newsportal).
    layout: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # News portals: the channels to follow, as menu link texts or URL parts ("/category/china");
    # empty with no channel_links hint: every channel of the site's menu.
    channels: tuple[str, ...] = ()
    # Spidermon: fewest items a crawl of this site should produce.
    min_items: int = 1
    notes: str = ""


# The 021cf agency's own insertions, whatever the subdomain: the promotion line names the
# local zone ("开发区…", "太仓港区…招商引资指定载体…欢迎来访考察 PHONE").
AGENCY_021CF_BOILERPLATE: tuple[str, ...] = (
    r"招商引资指定载体.{0,60}(?:一事一议|欢迎来访考察)",
)

# What every site of the 021cf template shares; an entry adds only its own host and name.
_021CF = dict(
    spider="021cf", adlaw_rules=("zui", "diyi"), boilerplate=AGENCY_021CF_BOILERPLATE,
    notes=("markup read as Z-BlogPHP 1.7.5 + tpure 5.0.2 render it (fixtures/021cf-real) and as older tpure "
           "versions (fixtures/021cf); assumed: the live sites keep the theme's default settings (relative "
           "dates, copy notice, lazy-loaded images) and the index.php URL mode"),
)

SITES: tuple[Site, ...] = (
    Site(host="kunshanmaigao.021cf.cn", name="昆山厂房出租网", start_urls=("http://kunshanmaigao.021cf.cn/",), **_021CF),
    Site(host="suzhou.021cf.cn", name="嘉定厂房网", start_urls=("http://suzhou.021cf.cn/",), **_021CF),
    # Any other subdomain of the network is a site of the same template.
    Site(host="*.021cf.cn", min_items=0, **_021CF),
    Site(
        host="www.matchexpo.com",
        spider="matchexpo",
        name="Matchexpo",
        start_urls=("https://www.matchexpo.com/community",),
        notes=("assumed: article URL /community/article/ID, UI variants /tw/ and /cn/ (canonical + hreflang); "
               "listing /community filled from /api/community/articles?page=N; 'N Last year' = N年前; "
               "details in kspider/spiders/matchexpo.py"),
    ),
    Site(
        host="xinjiapo.news",
        spider="xinjiapo",
        name="新加坡眼",
        start_urls=("https://xinjiapo.news/",),
        tz="Asia/Singapore",
        topic_keywords={
            "产业园": 3, "工业园": 3, "科技园": 2, "园区": 2, "开发区": 2, "招商": 2, "投资": 1.5,
            "外资": 1.5, "厂房": 3, "工厂": 1.5, "制造": 1.5, "智能制造": 2, "产业": 1, "项目签约": 2,
            "苏州": 2, "昆山": 3, "太仓": 3, "嘉定": 3, "相城": 2, "长三角": 2, "上海": 1,
            "经济技术开发区": 2, "新加坡工业园": 3,
        },
        topic_min_score=6.0,
        channels=("中国", "/category/china"),
        layout={
            "article": ("article.news-detail",),
            "title": ("h1.news-title",),
            "date": ("div.meta span.date",),
            "body": ("div.news-content",),
            "non_body": ("div.ad-inarticle", "div.share-bar"),
            "category": ("div.meta span.category",),
            "breadcrumb": ("div.breadcrumb a",),
            "listing_links": ("div.news-list h2 a",),
            "page_links": ("nav.pagination a",),
            # The 中国 channel carries the region's news; the topic filter sorts it. Other
            # channels (sports, entertainment, Singapore life …) are not followed.
            "channel_links": ("nav.channel-nav a[href$='/category/china']",),
            "nav_links": ("div.news-nav a",),
        },
    ),
    Site(
        host="www.jssuxun.example",
        spider="jssuxun",
        name="江蘇蘇訊網",
        start_urls=("http://www.jssuxun.example/",),
        lang="zh-Hant",
        boilerplate=(r"^江蘇蘇訊網客服[:：]", r"^關注民生\s*服務社會"),
        channels=("蘇州新聞", "苏州新闻", "/html/szxw/"),
        # DedeCMS default templates (article_article.htm, list_article.htm).
        layout={
            "article": ("div.viewbox",),
            "title": ("div.title h1",),
            "date": ("div.info span.time",),
            "meta": ("div.info",),
            "body": ("div.content",),
            "non_body": ("#contentMidPicAD",),
            "breadcrumb": ("div.place a",),
            "listing_links": ("div.listbox a.title",),
            "page_links": ("ul.pagelist a",),
            # An article's own page bar: DedeCMS ({dede:pagebreak/}), and PHPCMS ([page]) in case
            # the site runs that engine; the later pages are fetched and joined (newsportal spider).
            "article_pages": ("div.dede_pages a", "div#pages a"),
            # Only the channels on the crawler's subject (蘇州新聞); the portal's other channels
            # (national news, health, education …) are not followed.
            "channel_links": ("div.nav a[href*='/html/szxw/']",),
            "nav_links": ("div.handle div.context a",),
        },
        notes="assumed: the real address is unknown (docs/SITE_NOTES.md); set host and start_urls here",
    ),
)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def site_for_host(host: str, sites: Iterable[Site] = SITES) -> Optional[Site]:
    """The registry entry for a host: an exact entry first, else the first glob that matches."""
    host = host.lower()
    sites = tuple(sites)
    for site in sites:
        if site.host == host:
            return site
    for site in sites:
        if any(ch in site.host for ch in "*?[") and fnmatch.fnmatchcase(host, site.host):
            return site
    return None


def site_for_url(url: str) -> Optional[Site]:
    return site_for_host(host_of(url))


def sites_for_spider(spider: str) -> tuple[Site, ...]:
    return tuple(s for s in SITES if s.spider == spider)
