"""The generic article extractor (kspider.extract.article) on hand-checked pages.

Expected values are written by hand from the pages: the corpus sets' expected.json
(fixtures/corpus/*) and the values below for the pages in tests/data/articles/.
"""
from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from parsel import Selector

from kspider.extract.article import decode_html, extract_article
from kspider.extract.dates import http_date

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "articles"
CORPUS = ROOT / "fixtures" / "corpus"


# --------------------------------------------------------------------------- corpus sets

def _corpus_pages() -> list[tuple[str, dict, bytes, dict]]:
    pages = []
    for set_dir in sorted(p for p in CORPUS.glob("*") if (p / "expected.json").exists()):
        exchanges = {}
        for line in (set_dir / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
            if line.strip():
                ex = json.loads(line)
                exchanges[ex["url"]] = ex
        for entry in json.loads((set_dir / "expected.json").read_text(encoding="utf-8"))["pages"]:
            ex = exchanges[entry["url"]]
            pages.append((set_dir.name, entry, (set_dir / ex["body"]).read_bytes(), ex["headers"]))
    return pages


CORPUS_PAGES = _corpus_pages()


def _squash(text: str) -> str:
    return "".join((text or "").split())


# Fields the page shows without any label or structure the extractor reads (an account card's name,
# an unlabelled name next to the date, a source named only by the paper's logo): not asserted, and
# listed so that the gap stays visible.
KNOWN_GAPS = {
    "https://www.sohu.com/a/656123456_121106902": {"author"},
    "https://www.163.com/dy/article/HVP1Q2EF0534A4SC.html": {"author"},
    "https://new.qq.com/rain/a/20230319A02B7G00": {"source_name"},
    "https://www.yicai.com/news/101702345.html": {"author"},
    "http://xh.xhby.net/pc/con/202303/18/content_1172345.html": {"source_name"},
}


@pytest.mark.parametrize("set_name,expected,body,headers", CORPUS_PAGES,
                         ids=[f"{s}:{e['url'].split('//', 1)[1][:60]}" for s, e, _, _ in CORPUS_PAGES])
def test_corpus_page(set_name, expected, body, headers):
    ref = http_date(headers.get("Date"))
    result = extract_article(body, expected["url"], ref, expected.get("tz", "Asia/Shanghai"))
    assert result.title == expected["title"]
    shown = {"day": 10, "minute": 16}.get(result.date_precision or "")
    if shown and expected["published_at"]:
        # the page shows the day (or minute) only: a finer time in an invisible tag is not the date as shown
        assert result.published_at[:shown] == expected["published_at"][:shown]
    else:
        assert result.published_at == expected["published_at"]
    for name in ("author", "source_name", "editor"):
        if name in expected and name not in KNOWN_GAPS.get(expected["url"], ()):
            assert getattr(result, name) == expected[name], name
    want = expected["content_text"].split("\n")
    got = result.content_text.split("\n")
    assert got[0] == want[0]
    assert got[-1] == want[-1]
    body_text = _squash(result.content_text)
    for line in expected.get("boilerplate", []):
        if _squash(line) not in _squash(expected["content_text"]):
            assert _squash(line) not in body_text, line
    if expected.get("multi_page"):
        assert "multi_page" in result.quality_flags


# --------------------------------------------------------------------------- own pages

REF_JUNE_3 = datetime(2021, 6, 3, 8, 0, tzinfo=timezone.utc)
DEDE_URL = "http://www.ksinfo.example/yqdt/2021/0528/5811.html"


def test_dedecms_page_in_gbk_bytes():
    result = extract_article((DATA / "dede_kunshan.html").read_bytes(), DEDE_URL, REF_JUNE_3)
    # the logo <h1> holds only the site's logo image: the headline is the <h2>
    assert result.title == "昆山开发区今年新签约重大项目23个"
    assert result.published_at == "2021-05-28T10:14:00+08:00"
    assert result.published_raw == "2021-05-28 10:14"
    assert result.date_precision == "minute"
    assert (result.author, result.source_name, result.editor) == ("王晓梅", "昆山日报", "李婷")
    paragraphs = result.content_text.split("\n")
    assert paragraphs[0].startswith("5月27日，昆山开发区举行2021年第二季度重大项目集中签约活动")
    assert paragraphs[-1] == "开发区相关负责人表示，下一步将持续优化营商环境，做好项目落地服务，推动签约项目早开工、早投产、早见效。"
    assert "聚焦主导产业 链式招商见成效" in paragraphs  # the subhead stays in order
    assert paragraphs.index("聚焦主导产业 链式招商见成效") == 3
    for furniture in ("责任编辑", "上一篇", "下一篇", "分隔线", "最新评论", "开发区的招商力度确实很大", "推荐内容",
                      "陆家镇2000平米", "版权所有", "收藏", "打印"):
        assert furniture not in result.content_text
    assert result.images == [{"url": "http://www.ksinfo.example/uploads/allimg/210528/1-21052Q01414.jpg",
                              "caption": "签约现场"}]
    assert result.lang == "zh-Hans"
    assert result.quality_flags == []
    assert "<img" in result.content_html and "责任编辑" not in result.content_html


def test_text_and_selector_input_read_the_same():
    text = decode_html((DATA / "dede_kunshan.html").read_bytes())
    from_text = extract_article(text, DEDE_URL, REF_JUNE_3)
    selector = Selector(text=text)
    from_selector = extract_article(selector, DEDE_URL, REF_JUNE_3)
    assert from_selector == from_text
    assert selector.css("div.commentbox")  # the caller's tree is not changed


REF_JUNE_11 = datetime(2021, 6, 11, 6, 0, tzinfo=timezone.utc)


def test_logo_h1_is_not_the_title_and_comment_or_sidebar_dates_are_not_taken():
    html = (DATA / "portal_logo_nodate.html").read_text(encoding="utf-8")
    result = extract_article(html, "https://www.jssuxun.example/gangcheng/show-8815.html", REF_JUNE_11)
    assert result.title == "太仓港区新开通两条近洋航线"  # not the <h1> 江苏苏讯网
    # the article shows no date; the comments (2021-06-11 09:12) and the sidebar list do
    assert result.published_at is None
    assert "missing_date" in result.quality_flags
    assert (result.author, result.source_name, result.editor, result.views) == ("顾晓峰", "太仓日报", "沈丽", 1286)
    paragraphs = result.content_text.split("\n")
    assert paragraphs[0] == "记者从太仓港口管委会获悉，本周太仓港新开通两条近洋集装箱航线，分别直达日本名古屋和韩国釜山，每周各一班。"
    assert paragraphs[2] == "港口吞吐量稳步增长"
    assert paragraphs[-1] == "今年前五个月，太仓港完成集装箱吞吐量约300万标箱，同比增长两成以上。港区正加快推进四期码头建设，进一步提升集装箱处理能力。"
    for furniture in ("编辑：沈丽", "分享到", "上一篇", "点赞太仓港", "最新资讯", "热门排行", "ICP"):
        assert furniture not in result.content_text


def test_date_from_the_url_when_the_page_shows_none():
    html = (DATA / "portal_logo_nodate.html").read_text(encoding="utf-8")
    result = extract_article(html, "https://www.jssuxun.example/gangcheng/2021/0611/8815.html", REF_JUNE_11)
    assert (result.published_at, result.date_precision) == ("2021-06-11T00:00:00+08:00", "day")
    assert "missing_date" not in result.quality_flags


def test_meta_and_json_ld_dates_and_byline_forms():
    page = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>园区动态_某某网</title>
<meta property="article:published_time" content="2021-05-28T10:14:00+08:00">
<script type="application/ld+json">{"@type":"NewsArticle","headline":"园区动态","author":{"@type":"Person","name":"刘洋"}}</script>
</head><body><div class="nav"><a href="/">首页</a><a href="/a/">新闻</a></div>
<div class="main"><h1>园区动态</h1><div class="src">来源：新华网 时间：10:14</div>
<div class="txt"><p>第一段正文，讲述园区的新动态，内容较长，包含标点符号。</p><p>第二段正文，继续讲述，也包含足够多的文字和标点。</p></div></div>
</body></html>"""
    result = extract_article(page, "http://www.example.cn/a/123.html", REF_JUNE_3)
    # a time alone (时间：10:14) is no date: the meta tag gives it
    assert result.published_at == "2021-05-28T10:14:00+08:00"
    assert result.source_name == "新华网"
    assert result.author == "刘洋"  # from JSON-LD when the byline names no one
    assert result.content_text == ("第一段正文，讲述园区的新动态，内容较长，包含标点符号。\n"
                                   "第二段正文，继续讲述，也包含足够多的文字和标点。")


def test_five_thousand_nested_divs_do_not_raise():
    inner = "<p>这是嵌套很深的页面中的正文段落，用来检查提取器不会因为递归而失败。</p>" * 3
    html = ("<!DOCTYPE html><html><head><title>深层嵌套页面_测试网</title></head><body>"
            + "<div>" * 5000 + "<h1>深层嵌套页面</h1>" + inner + "</div>" * 5000 + "</body></html>")
    result = extract_article(html, "http://www.example.cn/2021/0528/1.html", REF_JUNE_3)
    assert result.title == "深层嵌套页面"
    assert result.content_text.split("\n") == ["这是嵌套很深的页面中的正文段落，用来检查提取器不会因为递归而失败。"] * 3
    assert result.published_at == "2021-05-28T00:00:00+08:00"
    assert "deep_nesting" in result.quality_flags


def test_empty_and_broken_input_are_flagged_not_raised():
    for html in ("", b"", "   ", "<html></html>", b"\x00\x01garbage"):
        result = extract_article(html, "http://www.example.cn/x.html", REF_JUNE_3)
        assert result.content_text == ""
        assert "no_body" in result.quality_flags and "missing_date" in result.quality_flags


# --------------------------------------------------------------------------- command line

def test_cli_prints_the_result_as_json():
    proc = subprocess.run(
        [sys.executable, "-m", "kspider.extract", "article", str(DATA / "dede_kunshan.html"), "--url", DEDE_URL,
         "--ref", "Thu, 03 Jun 2021 08:00:00 GMT"],
        cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["title"] == "昆山开发区今年新签约重大项目23个"
    assert out["published_at"] == "2021-05-28T10:14:00+08:00"
    assert out["editor"] == "李婷"
    assert out["content_text"].endswith("推动签约项目早开工、早投产、早见效。")


def test_cli_needs_url_and_reports_unreadable_files():
    proc = subprocess.run([sys.executable, "-m", "kspider.extract", "article", str(DATA / "dede_kunshan.html")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "--url" in proc.stderr
    proc = subprocess.run([sys.executable, "-m", "kspider.extract", "article", str(DATA / "missing.html"),
                           "--url", DEDE_URL], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "cannot read" in proc.stderr


REF_2005 = datetime(2005, 9, 20, 2, 0, tzinfo=timezone.utc)

# An old portal page: the lead paragraph sits above a sponsored-links table, the rest below it; the
# post's time is printed under the text (a blog's post foot); reader comments follow a 热门评论 heading.
PORTAL_2005 = """<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>某某博客 &raquo; 园区企业座谈会召开</title></head><body>
<table width="960"><tr><td><a href="/"><img src="/logo.gif" alt="某某博客"></a></td>
<td><a href="/news/">新闻</a> | <a href="/biz/">财经</a> | <a href="/ent/">娱乐</a></td></tr></table>
<div class="detail_l"><h1>园区企业座谈会召开</h1>
<p class="text">昨天下午，园区管委会召开企业座谈会，二十多家企业负责人参加，围绕用工、物流和融资问题提出建议。</p>
<table class="ad"><tr><td>·<a href="http://ad.example/1">医疗关注--新发现</a></td><td>·<a href="http://ad.example/2">专治口臭</a></td></tr>
<tr><td>·<a href="http://ad.example/3">补肾新药（图）</a></td><td>·<a href="http://ad.example/4">国际认证</a></td></tr></table>
<p class="text">管委会负责人表示，将逐条梳理企业提出的问题，一个月内给出答复，并建立定期走访制度。</p>
<p class="text">评论人：张明（园区企业服务中心）王芳（某物流公司）</p>
<p class="postfoot">发表于 2005年09月07日 11:57 - (阅读:372;评论:6)</p>
<p class="text">热门评论</p>
<p class="text">网友甲：希望座谈会的建议能尽快落实，园区的物流问题确实需要解决。2005-09-08 10:02</p>
</div>
<div class="footer">Copyright &copy; 2005 某某博客 版权所有</div>
</body></html>"""


def test_lead_paragraph_above_an_advert_post_foot_date_and_comment_heading():
    result = extract_article(PORTAL_2005, "http://blog.example.cn/more.asp?id=22546", REF_2005)
    assert result.title == "园区企业座谈会召开"
    # the date under the text (发表于 …), not the comment's
    assert result.published_at == "2005-09-07T11:57:00+08:00"
    assert result.content_text.split("\n") == [
        "昨天下午，园区管委会召开企业座谈会，二十多家企业负责人参加，围绕用工、物流和融资问题提出建议。",
        "管委会负责人表示，将逐条梳理企业提出的问题，一个月内给出答复，并建立定期走访制度。",
        "评论人：张明（园区企业服务中心）王芳（某物流公司）",  # a line that starts with 评论 is text
    ]


def test_title_site_name_after_guillemet_and_founder_and_us_dates():
    page = PORTAL_2005.replace("<h1>园区企业座谈会召开</h1>", "")
    assert extract_article(page, "http://blog.example.cn/more.asp?id=22546", REF_2005).title == "园区企业座谈会召开"
    # Founder publishing systems keep the article's date in an enpproperty comment
    founder = page.replace('<p class="postfoot">发表于 2005年09月07日 11:57 - (阅读:372;评论:6)</p>', "").replace(
        "</div>\n<div class=\"footer\">",
        "<!--enpproperty <articleid>8812</articleid><date>2005-09-06 08:30:00.0</date><author></author>"
        "/enpproperty--></div>\n<div class=\"footer\">")
    result = extract_article(founder, "http://blog.example.cn/more.asp?id=22546", REF_2005)
    assert result.published_at == "2005-09-06T08:30:00+08:00"
    # a labelled month/day/year date with a 12-hour clock (ASP.NET sites); without AM/PM the order is unknown
    us = page.replace("发表于 2005年09月07日 11:57 - (阅读:372;评论:6)", "").replace(
        '<p class="text">昨天下午', '<div class="info">发布日期： 9/5/2005 5:54:13 PM</div><p class="text">昨天下午')
    result = extract_article(us, "http://blog.example.cn/more.asp?id=22546", REF_2005)
    assert result.published_at == "2005-09-05T17:54:13+08:00"


def test_forum_thread_keeps_the_first_post():
    posts = "".join(
        f'<tr><td class="content"><p>{text}</p><p>〓 某某论坛 园区话题 发布时间 2005/03/{day} 22:36:13 by {name} 〓</p></td></tr>'
        for text, day, name in (
            ("园区新开了一家物流中心，规模很大，据说能解决周边企业的仓储难题，大家怎么看这件事情？", "15", "duscha"),
            ("支持，周边企业早就盼着了，希望收费合理一些，不然中小企业还是用不起。", "16", "笑呀忘啊"),
            ("楼上说得对，价格是关键，另外交通也要跟上，不然货车进出很麻烦。", "17", "关子"),
        ))
    page = ('<html><head><meta charset="utf-8"><title>某某论坛 - 园区话题</title></head><body>'
            '<div class="nav"><a href="/">某某论坛</a> &gt; <a href="/list">园区话题</a></div>'
            '<h2>园区新开物流中心</h2><table class="thread">' + posts + '</table>'
            '<div class="footer">某某论坛 版权所有</div></body></html>')
    result = extract_article(page, "http://bbs.example.cn/readthread.php?postid=15", REF_2005)
    assert result.title == "园区新开物流中心"
    assert result.content_text == "园区新开了一家物流中心，规模很大，据说能解决周边企业的仓储难题，大家怎么看这件事情？"
    assert result.published_at == "2005-03-15T22:36:13+08:00"


def test_relative_day_word_in_a_headline_is_no_date_and_forum_post_foot_is():
    page = ('<html><head><meta charset="utf-8"><title>昨天去园区参观 - 某某论坛</title></head><body>'
            '<div class="nav"><a href="/">某某论坛</a></div><h2>昨天去园区参观</h2>'
            '<div class="msg"><p>园区的新厂房已经建好了，一共三栋，每栋四层，听说下个月就开始招租，租金还没有公布。</p>'
            '<p>周边的道路也在拓宽，以后货车进出会方便很多，大家有兴趣可以去看看。</p>'
            '<p>本贴由大卫于2005年8月12日16:12:21在〖园区论坛〗发表</p></div></body></html>')
    result = extract_article(page, "http://bbs.example.cn/messages/5234.html", REF_2005)
    assert result.title == "昨天去园区参观"
    assert result.published_at == "2005-08-12T16:12:21+08:00"  # the post foot, not 昨天 in the headline
    assert result.content_text.split("\n") == [
        "园区的新厂房已经建好了，一共三栋，每栋四层，听说下个月就开始招租，租金还没有公布。",
        "周边的道路也在拓宽，以后货车进出会方便很多，大家有兴趣可以去看看。",
    ]


def test_labelled_publication_date_wins_over_an_earlier_blog_date_line():
    page = ('<html><head><meta charset="utf-8"><title>洞庭一叶 - 某某Blog</title></head><body><table><tr>'
            '<td class="side"><div>Blog名:洞庭一叶</div><div>日志:279</div><div>建立于:2004年10月6日</div></td>'
            '<td><table><tr><td><b>[湖湘文化]园区参观记</b></td></tr><tr><td>ggjjzhzz 发表于 2005-9-15 11:46:00</td></tr></table>'
            '<p>今天参观了园区的新厂房和物流中心，规模很大，设施也很新，企业负责人介绍了今年的招商情况。</p>'
            '<p>园区计划明年再建两栋标准厂房，主要面向中小制造企业，租金会比周边低一些。</p></td></tr></table>'
            '</body></html>')
    result = extract_article(page, "http://blog.example.cn/more.asp?name=ggjjzhzz&id=22546", REF_2005)
    assert result.published_at == "2005-09-15T11:46:00+08:00"  # not 建立于 (the blog's creation)


def test_site_address_line_notice_and_promo_lines_are_not_article_text():
    page = ('<html><head><meta charset="utf-8"><title>园区新建物流中心_某某频道</title></head><body>'
            '<div class="nav"><a href="/">首页</a> <a href="/news/">新闻</a></div>'
            '<table><tr><td><h1>园区新建物流中心</h1></td></tr><tr><td>www.example.gov.cn</td>'
            '<td>2005年08月16日 来源：新华网</td></tr></table>'
            '<div>新华网某某频道 记者 伊琳</div>'
            '<p>园区新建的物流中心昨天投入使用，占地一百二十亩，可以同时停放两百辆货车，周边企业的仓储难题将得到缓解。</p>'
            '<p>物流中心负责人介绍，中心提供仓储、分拣和配送服务，收费标准已经报物价部门备案，下周起接受预约。</p>'
            '<p>（更多内容请继续关注 某某网 www.example.com.cn）</p>'
            '<p>【推荐</p><p>】</p>'
            '<p>① 凡本网注明“来源：某某网”的所有作品，版权均属于某某网，未经本网授权不得转载、摘编或利用其它方式使用上述作品。</p>'
            '<p>② 如因作品内容、版权和其它问题需要同本网联系的，请在30日内进行。</p>'
            '</body></html>')
    result = extract_article(page, "http://www.example.gov.cn/jizhe/2005-08/16/content_4894059.htm", REF_2005)
    assert result.content_text.split("\n") == [
        "园区新建的物流中心昨天投入使用，占地一百二十亩，可以同时停放两百辆货车，周边企业的仓储难题将得到缓解。",
        "物流中心负责人介绍，中心提供仓储、分拣和配送服务，收费标准已经报物价部门备案，下周起接受预约。",
    ]
    assert result.published_at == "2005-08-16T00:00:00+08:00"
    assert result.source_name == "新华网"


REF_2025 = datetime(2025, 5, 1, 8, 0, tzinfo=timezone.utc)


def test_editorial_notes_disclaimers_and_counters_are_not_article_text():
    body = [
        "园区新建的物流中心昨天投入使用，占地一百二十亩，可以同时停放两百辆货车，周边企业的仓储难题将得到缓解。",
        "物流中心负责人介绍，中心提供仓储、分拣和配送服务，收费标准已经报物价部门备案，下周起接受预约。",
        "他表示，这一安排不代表最终方案，具体收费还会征求企业意见。",  # a sentence about a view is text
    ]
    notes = [
        "本文系某某网独家稿件，文章内容纯属作者个人观点，不代表平台观点，未经授权，不得转载。",
        "本文来自微信公众号 “某某日报”（ID：mouri），作者：张明，某某网经授权发布。",
        "特别声明：以上文章内容仅代表作者本人观点，不代表某某网观点或立场。",
        "文章代表作者个人观点，某某网仅对标题和排版略作修改。",
        "部分内容综合自：央视新闻等",
        "——《某某月刊》2005年3月号",
        "(本文发表于首页园区话题, 已被阅读178次)",
        "您是本文第 154 个阅览者",
        "某某网 > 新闻中心 > 园区动态",
        "下载某某网应用程序跟踪园区动态",
        "Podcast © FMM",
        "某某市政府门户网站 www.example.gov.cn",
        "Role, 某某网记者",
    ]
    page = ('<html><head><meta charset="utf-8"><title>园区新建物流中心_某某网</title></head><body>'
            '<div class="nav"><a href="/">首页</a> <a href="/news/">新闻</a></div>'
            '<div class="article"><h1>园区新建物流中心</h1><div class="info">2025-04-22 10:14 来源：某某网</div>'
            f'<p>{notes[-1]}</p>' + "".join(f"<p>{t}</p>" for t in body)
            + "".join(f"<p>{t}</p>" for t in notes[:-1]) + '</div></body></html>')
    result = extract_article(page, "http://www.example.com.cn/news/2025/0422/1234.html", REF_2025)
    assert result.title == "园区新建物流中心"
    assert result.content_text.split("\n") == body
    assert result.published_at == "2025-04-22T10:14:00+08:00"


# the text under every headline test below
_TEXT = ("<p>园区新建的物流中心昨天投入使用，占地一百二十亩，可以同时停放两百辆货车，周边企业的仓储难题将得到缓解。</p>"
         "<p>物流中心负责人介绍，中心提供仓储、分拣和配送服务，收费标准已经报物价部门备案，下周起接受预约。</p>")


def _old_page(title_tag: str, head: str) -> str:
    return (f'<html><head><meta charset="utf-8"><title>{title_tag}</title></head><body>'
            '<table width="760"><tr><td><a href="/"><img src="/logo.gif" alt="某某论坛"></a></td>'
            '<td><a href="/news/">新闻</a> | <a href="/bbs/">论坛</a></td></tr></table>'
            f'<table><tr><td>{head}</td></tr><tr><td>{_TEXT}</td></tr></table>'
            '<div class="footer">某某论坛 版权所有</div></body></html>')


@pytest.mark.parametrize("title_tag, head, title", [
    # a centred bold line is the headline where <title> shows only the site
    ("显示", "<p align='center'><font color=darkblue><strong>园区物流中心投用(上)</strong></font></p><p>胡平</p>",
     "园区物流中心投用(上)"),
    # a labelled subject line of a forum
    ("某某论坛 :: null", "<b>主题：</b> 园区物流中心为什么建在城东？", "园区物流中心为什么建在城东？"),
    # the page number a forum archiver adds, separators left after the headline
    ("园区物流中心投用(页 1) - 园区话题 - 某某论坛", "", "园区物流中心投用"),
    ("某某博客", "<h2>园区物流中心投用- -</h2>", "园区物流中心投用"),
])
def test_headline_shown_without_metadata_agreeing(title_tag, head, title):
    result = extract_article(_old_page(title_tag, head), "http://bbs.example.cn/thread.asp?id=1", REF_2005)
    assert result.title == title


def test_title_segments_the_page_shows_and_a_headline_broken_inside_its_heading():
    # <title> split at its separators: the run of segments the page shows as a line is the headline
    page = _old_page("某某网 - 对比试车—测试两款小型车(图)", "<b>对比试车—测试两款小型车(图)</b>")
    assert extract_article(page, "http://auto.example.cn/a/1.shtml", REF_2005).title == "对比试车—测试两款小型车(图)"
    page = _old_page("Some Site - 给计算机系学生的建议", "<p>给计算机系学生的建议</p>")
    assert extract_article(page, "http://www.example.com/a/1.html", REF_2005).title == "给计算机系学生的建议"
    # a headline whose second line is a <div> inside the <h1>
    page = ('<html><head><meta charset="utf-8"><title>园区物流中心投用预计每年为企业节省一亿元_某某市政府门户网站</title>'
            '</head><body><div class="nav"><a href="/">首页</a></div><div class="detail">'
            '<h1 class="title">园区物流中心投用<div>预计每年为企业节省一亿元</div></h1>'
            f'<div class="info">发布日期：2022-02-11 08:52</div>{_TEXT}</div></body></html>')
    result = extract_article(page, "http://www.example.gov.cn/art/2022/2/11/art_1.html", REF_JUNE_3.replace(year=2022))
    assert result.title == "园区物流中心投用预计每年为企业节省一亿元"
    assert result.published_at == "2022-02-11T08:52:00+08:00"


def test_post_time_above_the_headline_in_a_right_floated_span():
    # a forum archive: the post's time in a span floated right above the repeated headline
    page = ('<html><head><meta charset="utf-8"><title>园区物流中心投用(页 1) - 园区话题 - 某某论坛</title></head><body>'
            '<div class="nav"><a href="/">某某论坛</a> &raquo; <a href="fid-23.html">园区话题</a> &raquo; 园区物流中心投用</div>'
            '<div class="post"><div class="head"><span class="right">2003-5-29 09:07</span><b>高山流水</b></div>'
            f'<div class="msg"><p>园区物流中心投用</p>{_TEXT}</div></div>'
            '<div class="footer">某某论坛 版权所有</div></body></html>')
    result = extract_article(page, "http://bbs.example.cn/archiver/?tid-1011.html", REF_2005)
    assert result.title == "园区物流中心投用"
    assert result.published_at == "2003-05-29T09:07:00+08:00"


def test_blog_post_headline_linking_to_its_own_permalink():
    page = ('<html><head><meta charset="utf-8"></head><body><div id="side"><ul>'
            '<li><a href="/blog/zb/archive/2005/10/12/1110459.html">10. 秋冬新品发布会(6)</a></li></ul></div>'
            '<div id="main"><div class="menu"><a href="/blog/zb/archive/2005/07/31/255509.html">园区物流中心投用(附图)</a></div>'
            f'<div class="box">{_TEXT}</div></div></body></html>')
    result = extract_article(page, "http://blog.example.cn/blog/zb/archive/2005/07/31/255509.aspx", REF_2005)
    assert result.title == "园区物流中心投用(附图)"


def test_counter_credit_and_greeting_lines_go_a_sentence_naming_a_notice_stays():
    body = [
        "园区新建的物流中心昨天投入使用，占地一百二十亩，可以同时停放两百辆货车，周边企业的仓储难题将得到缓解。",
        "该视频发布后迅速走红，随后因某公司的版权声明而被删除，当事人表示仍会继续分享园区的变化和企业的故事。",
    ]
    page = ('<html><head><meta charset="utf-8"><title>园区新建物流中心_某某网</title></head><body>'
            '<div class="article"><h1>园区新建物流中心</h1><div class="info">2025-04-22 10:14</div>'
            '<p>297</p><p>欢迎来到【园区日报】栏目!这里是你每天了解园区动态的指南。</p>'
            + "".join(f"<p>{t}</p>" for t in body) + '<p>—— 由某某日报组创作</p>'
            '<table><tr><td>序号</td><td>企业</td></tr><tr><td>1</td><td>某某公司</td></tr></table></div></body></html>')
    result = extract_article(page, "http://www.example.com.cn/news/2025/0422/1234.html", REF_2025)
    assert result.content_text.split("\n") == body + ["序号 企业", "1 某某公司"]


def test_nearest_title_cell_above_the_text_wins_over_a_sidebar_heading():
    page = ('<html><head><meta charset="utf-8"><title>海姑娘 | blog.example.com</title></head><body>'
            '<div class="nav"><h3>更多文章目录</h3><h2>我的另外2个博客</h2><ul><li><a href="/b1">望月小筑</a></li>'
            '<li><a href="/b2">小茶妹的歌声</a></li></ul></div><table>'
            '<tr><td class="post-title">园区物流中心投用 (图)</td></tr><tr><td class="post-title">2005-06-14 03:25:55</td></tr>'
            f'<tr><td class="post-body">{_TEXT}</td></tr></table></body></html>')
    result = extract_article(page, "http://blog.example.com/archives.php?date=200506&blogID=1854&wid=2", REF_2005)
    assert result.title == "园区物流中心投用 (图)"
    assert result.published_at == "2005-06-14T03:25:55+08:00"
