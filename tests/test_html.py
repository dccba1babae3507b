"""kspider.extract.html on tpure-shaped markup built from the seed 000 text."""
import parsel
import pytest
from lxml import html as lxml_html

from kspider.extract.boilerplate import Block
from kspider.extract.html import body_blocks, extract_images, sanitize_html

BASE = "http://kunshanmaigao.021cf.cn/index.php/post/2050.html"

SINGLE = """<div class="single">
<p>　　7月5日,西班牙加泰罗尼亚城市联盟(ACM)代表团一行到访江苏昆山,围绕产业合作、城市治理等议题展开深度交流。</p>
<p style="text-align: center;"><img src="/zb_users/upload/2025/07/202507151752570123.jpg" width="600" onclick="big(this)"/></p>
<p>　　西班牙加泰罗尼亚城市联盟(ACM)代表团一行参观江苏昆山城市会客厅。江佳骏图</p>
<div>网络招商运营服务平台:<a href="/index.php/category-2.html">园区产业招商</a><br/>葛毅明微信号</div>
<script>var _hmt = _hmt || [];</script>
<ul><li><a href="/index.php/post/2049.html">人民日报|戏曲百戏(昆山)盛典开幕</a></li>
<li><a href="post/2048.html">江苏昆山持续擦亮这张文化“金名片”——让古老昆曲重焕青春</a></li></ul>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<img src="http://hm.baidu.com/hm.gif?si=1" width="1" height="1">
<figure><img src="data:image/gif;base64,AAAA" data-original="/zb_users/upload/2025/07/b.jpg" alt=""><figcaption>蒙特拉贡产业园</figcaption></figure>
<p><img src="/zb_users/upload/2025/07/c.jpg" alt="座谈会现场"></p>
<iframe src="http://player.example/v"></iframe>
<form action="/search"><input name="q"></form>
</div>"""


def test_body_blocks_from_parsel_selector():
    blocks = body_blocks(parsel.Selector(text=SINGLE).css("div.single"))
    assert blocks == [
        Block("7月5日,西班牙加泰罗尼亚城市联盟(ACM)代表团一行到访江苏昆山,围绕产业合作、城市治理等议题展开深度交流。", 0.0),
        Block("西班牙加泰罗尼亚城市联盟(ACM)代表团一行参观江苏昆山城市会客厅。江佳骏图", 0.0),
        Block("网络招商运营服务平台:园区产业招商", 0.353),  # 6 of 17 characters are the link
        Block("葛毅明微信号", 0.0),
        Block("人民日报|戏曲百戏(昆山)盛典开幕", 1.0),
        Block("江苏昆山持续擦亮这张文化“金名片”——让古老昆曲重焕青春", 1.0),
        Block("蒙特拉贡产业园", 0.0),
    ]


def test_body_blocks_from_lxml_element_and_nothing():
    root = lxml_html.fromstring("<div><h2>新姿态：高起点谋划开放合作</h2>地区生产总值同比增长6.6%<br>实际利用外资增长130.7%</div>")
    assert [b.text for b in body_blocks(root)] == ["新姿态：高起点谋划开放合作", "地区生产总值同比增长6.6%", "实际利用外资增长130.7%"]
    assert body_blocks(None) == []
    assert body_blocks("") == []


def test_sanitize_html():
    out = sanitize_html(SINGLE, BASE)
    assert out == (
        "<p>\u3000\u30007月5日,西班牙加泰罗尼亚城市联盟(ACM)代表团一行到访江苏昆山,围绕产业合作、城市治理等议题展开深度交流。</p>\n"
        '<p><img src="http://kunshanmaigao.021cf.cn/zb_users/upload/2025/07/202507151752570123.jpg"></p>\n'
        "<p>\u3000\u3000西班牙加泰罗尼亚城市联盟(ACM)代表团一行参观江苏昆山城市会客厅。江佳骏图</p>\n"
        '<p>网络招商运营服务平台:<a href="http://kunshanmaigao.021cf.cn/index.php/category-2.html">园区产业招商</a><br>葛毅明微信号</p>\n'
        "\n"
        '<ul><li><a href="http://kunshanmaigao.021cf.cn/index.php/post/2049.html">人民日报|戏曲百戏(昆山)盛典开幕</a></li>\n'
        '<li><a href="http://kunshanmaigao.021cf.cn/index.php/post/post/2048.html">江苏昆山持续擦亮这张文化“金名片”——让古老昆曲重焕青春</a></li></ul>\n'
        "\n\n"
        '<figure><img src="http://kunshanmaigao.021cf.cn/zb_users/upload/2025/07/b.jpg" alt=""><figcaption>蒙特拉贡产业园</figcaption></figure>\n'
        '<p><img src="http://kunshanmaigao.021cf.cn/zb_users/upload/2025/07/c.jpg" alt="座谈会现场"></p>'
    )


@pytest.mark.parametrize(
    "dirty, clean",
    [
        ('<p onclick="x()" class="a" style="color:red" align="center">正文</p>', "<p>正文</p>"),
        ('<a href="javascript:alert(1)">x</a>', "<a>x</a>"),
        ("<h1>标题</h1><h3>小标题</h3>", "标题<h3>小标题</h3>"),
        ("<html><head><title>t</title><style>p{}</style></head><body><p>正文</p></body></html>", "<p>正文</p>"),
        ("", ""),
    ],
)
def test_sanitize_html_small(dirty, clean):
    assert sanitize_html(dirty, BASE) == clean


def test_extract_images():
    images = extract_images(parsel.Selector(text=SINGLE).css("div.single")[0], BASE)
    assert images == [
        {"url": "http://kunshanmaigao.021cf.cn/zb_users/upload/2025/07/202507151752570123.jpg",
         "caption": "西班牙加泰罗尼亚城市联盟(ACM)代表团一行参观江苏昆山城市会客厅。江佳骏图"},
        {"url": "http://kunshanmaigao.021cf.cn/zb_users/upload/2025/07/b.jpg", "caption": "蒙特拉贡产业园"},
        {"url": "http://kunshanmaigao.021cf.cn/zb_users/upload/2025/07/c.jpg", "caption": "座谈会现场"},
    ]


def test_extract_images_long_paragraph_is_no_caption():
    body = ('<div><p><img src="a.jpg"></p><p>坐落于昆山市千灯镇的中西产业园和蒙特拉贡产业园,是昆山与西班牙合作的标志性载体。'
            '其中,海斯坦普汽车组件、法格锻压机床等20家西班牙企业,已经形成了新能源汽车零配件、智能制造等产业集群。</p></div>')
    assert extract_images(body, BASE) == [{"url": "http://kunshanmaigao.021cf.cn/index.php/post/a.jpg", "caption": None}]


def test_clean_blocks_uses_link_ratios():
    from kspider.extract.text import clean_blocks
    from kspider.sites import site_for_host

    # tail of the 021cf fixture post 1986: a related-links list, then the contact block
    body = """<div class="single"><p>张浦镇有关负责人表示，将围绕项目建设全周期做好服务保障，推动项目早竣工、早投产。</p>
<p><a href="/index.php/post/1980.html">江苏一季度重大项目开工数量创新高</a></p>
<p><a href="/index.php/post/1981.html">苏州发布新一轮制造业智能化改造政策</a></p>
<p>苏ICP备05006060号</p>
<p>网络招商运营服务平台:<a href="/index.php/category-2.html">园区产业招商</a></p>
<p>葛毅明微信号</p></div>"""
    result = clean_blocks(body_blocks(body), site_for_host("kunshanmaigao.021cf.cn"))
    assert result.text == "张浦镇有关负责人表示，将围绕项目建设全周期做好服务保障，推动项目早竣工、早投产。"
