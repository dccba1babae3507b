"""Page kind and listing links read without selectors (kspider.extract.pagekind / listing), the
"hints first, generic fallback" merge (kspider.extract.result.fill_from_generic), and request
routing for spiders that classify pages by content."""
from __future__ import annotations

from kspider.extract.listing import channel_matches, find_links
from kspider.extract.pagekind import ARTICLE, LISTING, OTHER, classify_page
from kspider.extract.result import ArticleResult, fill_from_generic

BASE = "http://news.example.cn/"
NAV = ('<div class="menu"><ul><li><a href="/">首页</a></li><li class="on"><a href="/c/12/">苏州新闻</a></li>'
       '<li><a href="/c/13/">体育</a></li><li><a href="/c/14/">娱乐</a></li></ul></div>')
HOT = "".join(f'<li><a href="/a/{900 + i}.shtml">热门新闻第{i}条标题比较长一些</a></li>' for i in range(8))
SIDEBAR = f'<div class="r"><h3>排行</h3><ul class="rank">{HOT}</ul></div>'
FOOT = "<div class='bottom'><p>版权所有 © 2024 新闻网 苏ICP备12345678号</p></div>"
PARAS = ["5月27日，苏州工业园区举行重大项目集中签约活动，共有12个项目现场签约，总投资超过80亿元。",
         "签约项目涉及生物医药、半导体设备和绿色能源等领域，其中外资项目7个，内资项目5个。",
         "园区负责人表示，今年将新建标准厂房60万平方米，为企业提供“拿地即开工”的审批服务。",
         "据了解，园区上半年实际使用外资同比增长31%，新增外资项目86个。"]


def article_html(paras=PARAS) -> str:
    body = "".join(f"<p>{p}</p>" for p in paras)
    return (f"<html><head><title>园区签约12个项目_苏州新闻</title></head><body>{NAV}"
            f"<div class='main'><div class='l'><h1>园区签约12个项目 总投资超80亿元</h1>"
            f"<div class='src'>2024-05-28 10:14 来源：苏州日报</div><div class='txt'>{body}</div></div>{SIDEBAR}</div>"
            f"{FOOT}</body></html>")


def listing_html(n: int = 6, page: int = 1, pages: int = 2) -> str:
    items = "".join(f'<li><a href="/a/{100 + i}.shtml">苏州工业园区第{i}个项目签约落地</a><em>2024-05-{10 + i}</em></li>'
                    for i in range(n))
    pager = "".join(f'<a href="/c/12/index_{p}.shtml">{p}</a>' if p != page else f"<b>{p}</b>"
                    for p in range(1, pages + 1))
    if page < pages:
        pager += f'<a href="/c/12/index_{page + 1}.shtml">下一页</a>'
    return (f"<html><body>{NAV}<div class='main'><div class='l'><ul class='lst'>{items}</ul>"
            f"<div class='fenye'>{pager}</div></div>{SIDEBAR}</div>{FOOT}</body></html>")


# --------------------------------------------------------------------------- page kind

def test_article_beside_a_longer_hot_list_is_an_article():
    page = classify_page(article_html(), BASE + "a/101.shtml")
    assert page.kind == ARTICLE
    assert page.body_chars > 150 and page.body_punct >= 8


def test_listing_with_dates_and_pager_is_a_listing():
    page = classify_page(listing_html(), BASE + "c/12/")
    assert page.kind == LISTING
    assert page.headline_links == 6


def test_last_listing_page_of_two_items_is_a_listing_by_its_pager():
    page = classify_page(listing_html(n=2, page=2), BASE + "c/12/index_2.shtml")
    assert page.kind == LISTING
    assert page.listing.article_urls == [BASE + "a/100.shtml", BASE + "a/101.shtml"]


def test_prior_settles_a_short_article():
    html = article_html(paras=["苏州工业园区5月27日举行项目签约活动，12个项目签约，总投资超过80亿元。",
                               "签约项目涉及生物医药、半导体设备和绿色能源，园区今年将新建标准厂房60万平方米。"])
    assert classify_page(html, BASE + "a/1.shtml").kind != ARTICLE
    assert classify_page(html, BASE + "a/1.shtml", prior=ARTICLE).kind == ARTICLE


def test_empty_and_broken_pages_are_other():
    for html in ("", "   ", "<html></html>", "\x00<<<", "<p>关于我们</p>"):
        assert classify_page(html, BASE).kind == OTHER


def test_deep_nesting_is_walked_without_recursion():
    html = "<html><body>" + "<div>" * 6000 + "".join(f"<p>{p}</p>" for p in PARAS * 3) + "</div>" * 6000 + "</body></html>"
    page = classify_page(html, BASE + "a/1.shtml")
    assert page.kind == ARTICLE


# --------------------------------------------------------------------------- listing links

def test_main_list_not_the_ranking_sidebar():
    got = find_links(listing_html(), BASE + "c/12/")
    assert got.article_urls == [f"{BASE}a/{100 + i}.shtml" for i in range(6)]
    assert got.next_page_url == BASE + "c/12/index_2.shtml"
    assert got.page_urls == [BASE + "c/12/index_2.shtml"]


def test_dated_short_list_beats_an_undated_ranking_outside_sidebars():
    ranking = "".join(f'<dd><a href="/a/{900 + i}.shtml">本月排行第{i}名的新闻标题</a></dd>' for i in range(6))
    html = listing_html(n=2, page=2).replace(SIDEBAR, f"<div class='box'><dl>{ranking}</dl></div>")
    got = find_links(html, BASE + "c/12/index_2.shtml")
    assert got.article_urls == [BASE + "a/100.shtml", BASE + "a/101.shtml"]


def test_channel_menu_keeps_the_current_item_and_the_filter_picks_by_name():
    got = find_links(listing_html(), BASE + "c/12/")
    assert ("苏州新闻", BASE + "c/12/") in got.channels and ("体育", BASE + "c/13/") in got.channels
    kept = [url for text, url in got.channels if channel_matches(text, url, ("苏州新闻",))]
    assert kept == [BASE + "c/12/"]
    assert channel_matches("中國", "https://x.example/category/china/", ("/category/china",))


def test_actions_search_and_feeds_never_followed():
    html = listing_html().replace(NAV, NAV + '<div class="t"><a href="/search?q=园区苏州工业园区项目签约">搜索苏州工业园区项目签约新闻</a>'
                                  '<a href="/member/login.php">会员登录</a><a href="javascript:;">分享</a></div>')
    got = find_links(html, BASE + "c/12/")
    assert not [u for u in got.article_urls + got.page_urls + [u for _, u in got.channels]
                if "search" in u or "member" in u or "javascript" in u]


# --------------------------------------------------------------------------- hints first, generic fallback

def test_fill_from_generic_fills_flags_and_keeps_what_the_hints_found():
    hinted = ArticleResult(title="标题", content_text="正文。", source_name=None)
    generic = ArticleResult(title="别的标题", content_text="别的正文。", content_html="<p>别的正文。</p>",
                            published_at="2024-05-28T10:14:00+08:00", published_raw="2024-05-28 10:14",
                            date_precision="minute", source_name="苏州日报", editor="王丽",
                            quality_flags=["multi_page"])
    got = fill_from_generic(hinted, generic, watched=("title", "published_at", "content_text"),
                            silent=("source_name", "editor", "author"))
    assert (got.title, got.content_text) == ("标题", "正文。")
    assert (got.published_at, got.published_raw, got.date_precision) == (
        "2024-05-28T10:14:00+08:00", "2024-05-28 10:14", "minute")
    assert (got.source_name, got.editor, got.author) == ("苏州日报", "王丽", None)
    assert got.fallback_fields == ["published_at"]
    assert got.quality_flags == ["layout_fallback"]  # the body's flags only travel with the body


def test_fill_from_generic_runs_the_extractor_only_when_needed():
    calls = []

    def generic() -> ArticleResult:
        calls.append(1)
        return ArticleResult(title="x")

    full = ArticleResult(title="t", content_text="c", published_at="2024-01-01T00:00:00+08:00")
    assert fill_from_generic(full, generic, watched=("title", "published_at", "content_text")).fallback_fields == []
    assert calls == []
    empty = fill_from_generic(ArticleResult(), generic, watched=("published_at",))
    assert calls == [1] and empty.fallback_fields == [] and "missing_date" in empty.quality_flags


# --------------------------------------------------------------------------- routing

def test_content_spiders_accept_any_page_of_their_host_strict_ones_do_not():
    from scrapy.utils.test import get_crawler

    from kspider.spiders.jssuxun import JssuxunSpider
    from kspider.spiders.zblog_tpure import ZblogTpureSpider

    crawler = get_crawler(JssuxunSpider)
    spider = JssuxunSpider.from_crawler(crawler)
    unknown = spider.request_for("http://www.jssuxun.example/index.php?m=content&c=index&a=show&catid=12&id=1")
    assert unknown is not None and unknown.callback == spider.parse_page
    assert unknown.meta["page_kind"] == "listing" and "route" not in unknown.meta
    known = spider.request_for("http://www.jssuxun.example/html/2021/szxw_0528/20517.html")
    assert known.callback == spider.parse_page and known.meta["route"] == "parse_article"
    assert known.meta["page_kind"] == "post"
    assert spider.request_for("http://elsewhere.example/html/szxw/") is None

    crawler = get_crawler(ZblogTpureSpider)
    strict = ZblogTpureSpider.from_crawler(crawler)
    assert strict.request_for("http://suzhou.021cf.cn/some/unknown/page.php?id=1") is None


def test_home_page_channel_boxes_filtered_by_their_heading():
    from kspider.extract.listing import channel_article_urls

    def box(name: str, catid: int, first: int) -> str:
        items = "".join(f'<li><a href="/show/{first + i}.html">{name}第{i}条新闻的标题在这里</a><span>06-1{i}</span></li>'
                        for i in range(4))
        return (f'<div class="box"><h5 class="title"><a href="/list/{catid}/" class="more">更多&gt;&gt;</a>{name}</h5>'
                f'<div class="content"><ul class="list">{items}</ul></div></div>')

    html = f"<html><body>{NAV}<div class='col-left'>{box('苏州新闻', 12, 100)}{box('江苏新闻', 9, 200)}</div></body></html>"
    found = find_links(html, BASE)
    assert len(found.article_urls) == 8
    assert channel_article_urls(found, BASE, ("苏州新闻",)) == [f"{BASE}show/{100 + i}.html" for i in range(4)]
    assert channel_article_urls(found, BASE, ()) == found.article_urls
