"""kspider.extract.boilerplate: pattern and structural rules on real page lines."""
import pytest

from kspider.extract.boilerplate import BOILERPLATE_PATTERNS, Block, is_boilerplate, remove_boilerplate


@pytest.mark.parametrize(
    "line",
    [
        # 021cf (seeds 000, 003)
        "版权声明:本文由昆山厂房出租网发布,如需转载请注明出处。部份内容收集于网络,如有不妥之处请联系我们删除 400-0123-021 或 13391219793",
        "免责声明:该文章系我网转载,旨在为读者提供更多新闻资讯。所涉内容不构成投资、消费建议,仅供读者参考。",
        "扫描二维码推送至手机访问。",
        "本文链接:http://kunshanmaigao.021cf.cn/index.php/post/2050.html",
        "分享给朋友:",
        "标签: 昆山平谦",
        "开发区招商引资指定载体,优质项目可享当地开发区政策,具体一事一议, 欢迎来访考察 13391219793",
        "网络招商运营服务平台:园区产业招商",
        "葛毅明微信号",
        "产业招商/厂房土地租售:400 0123 021",
        "或微信/手机:135246785151356468684613391219793",
        "请说明您的需求、用途、税收、公司、联系人、手机号,以便快速帮您对接资源。",
        "长按/扫一扫加葛毅明的微信号",
        "扫一扫关注公众号",
        "微信扫一扫",
        "扫码添加葛经理微信",
        "长按识别二维码",
        "欢迎来访考察 13391219793",
        "欢迎来电咨询：400-0123-021 或 133-91219-793",
        "重点推荐园区厂房",
        "更多厂房土地 请点击【园区产业招商】",
        "信息网络传播视听节目许可证0108263号",
        "京网文[2011]0283-097号",
        "当前位置:首页 > 昆山产业新闻 > 正文内容",
        # jssuxun (seed 002), Traditional script
        "江蘇蘇訊網版權及免責聲明:凡本網注明“來源:XXX(非江蘇蘇訊網)”的作品,均轉載自其它媒體",
        "江蘇蘇訊網客服:025-86163400",
        "【責任編輯:陸超】",
        "關注民生 服務社會 發掘真相 傳播價值 感謝您瀏覽江蘇蘇訊網。 歡迎投稿:郵箱724922822@qq.com 客服電話:025-86163400 18061633398",
        "原文地址:http://jsnews.jschina.com.cn/sz/a/202105/t20210527_2788810.shtml",
        "圖片新聞",
        "熱點資訊",
        "熱點聚焦",
        "掃描二維碼推送至手機訪問。",
        "版權聲明:本文由嘉定廠房網發布",
        # raw page blocks, before clean_text: pinyin artifacts still in (jssuxun fixture)
        "江蘇蘇訊網(wǎng)版權(quán)及免責聲明:凡本網(wǎng)注明“來源:XXX(非江蘇蘇訊網(wǎng))”的作品",
        "------分隔線----------------------------",
        # xinjiapo (seed 004)
        "订阅每日新闻以免错过最新最热门的新加坡新闻。",
        "分享: Facebook WhatsApp 复制链接",
        # matchexpo (seed 001)
        "Register {{ baseUserInfo.curr_enterprise_name }}",
        "The content is the author's independent opinion, does not represent the position of Matchexpo, and cannot be reproduced without permission",
        "Give the thumbs-up",
        # matchexpo fixture pages: v-if/v-else pairs run together, Traditional UI
        "CollectionCollected",
        "Give the thumbs-upLiked",
        "點讚已點讚",
        "內容為作者獨立觀點，不代表Matchexpo立場，未經允許不得轉載",
        "關注公眾號",
        "文章授权转载自“引力播”客户端",
    ],
)
def test_is_boilerplate(line):
    assert is_boilerplate(line) is True


@pytest.mark.parametrize(
    "line",
    [
        "7月5日,西班牙加泰罗尼亚城市联盟(ACM)代表团一行到访江苏昆山,围绕产业合作、城市治理等议题展开深度交流。",
        "渺渺江波里,最是滬蘇情。5月26日下午,“海納百川,匯聚高新”蘇州高新區融入滬蘇同城發展推介會在上海浦東舉行。",
        "新姿态:高起点谋划开放合作",
        "太仓事达产业园,位于昆山嘉定太仓交界,嘉昆泰一体化核心区",
        # mentions the words, but is a sentence of the article
        "会上,双方就知识产权保护与版权声明制度交换了意见,并签署合作备忘录,推动两地企业共享发展机遇。",
    ],
)
def test_is_not_boilerplate(line):
    assert is_boilerplate(line) is False


def test_extra_patterns_from_the_registry():
    assert is_boilerplate("關注民生 服務社會", extra_patterns=[r"^關注民生\s*服務社會"]) is True
    assert is_boilerplate("關注民生 服務社會") is False
    # a broken registry regex is skipped, not raised
    assert is_boilerplate("關注民生 服務社會", extra_patterns=["([", r"^關注民生"]) is True


def test_patterns_are_data():
    assert all(isinstance(p, str) for p in BOILERPLATE_PATTERNS)
    assert any("免责" in p for p in BOILERPLATE_PATTERNS)


def _texts(blocks):
    return [b.text for b in blocks]


HEADLINES = [
    "美国政府将限制非法移民享受学前教育福利",
    "牲畜出口再次被禁 墨西哥总统说美国“反应过度”",
    "面对美国征收35%关税威胁 加拿大总理的回应来了",
    "上半年中国汽车产销量双双跃上1500万辆",
    "中电联:预计2025年全社会用电量同比增长5%至6%",
    "专访《歌手2025》米奇·盖顿:中国观众太热情 在苦练中文歌词",
    "【中国超有young】泰国小妹在中国:从“你好”到医生",
]


def test_seed_000_pasted_headline_run_is_removed_whole():
    last = ("昆山市商务局局长熊伟,昆山市招商服务中心主任马丽,昆山市政府发展研究中心副主任季伟杰,"
            "昆山市千灯镇人大主席黄亚刚,蒙特拉贡上海代表处首席代表邹方宜出席本次活动。")
    lines = [
        "宋崎在总结讲话中强调,双方将以产业合作为纽带,以城市治理为桥梁,共同探索“创新驱动、绿色低碳、包容共享”的发展路径。",
        last,
        "免责声明:该文章系我网转载,旨在为读者提供更多新闻资讯。所涉内容不构成投资、消费建议,仅供读者参考。",
        "2025全民数字素养与技能提升月",
        *HEADLINES,
        *HEADLINES,
        "信息网络传播视听节目许可证0108263号",
        "京网文[2011]0283-097号",
        "网络招商运营服务平台:园区产业招商",
        "葛毅明微信号",
        "版权声明:本文由昆山厂房出租网发布,如需转载请注明出处。",
        "标签: 昆山平谦",
        "相关文章",
        "买房不用愁评测帮你忙!昆山兰亭栖云热搜楼盘信息新鲜出炉!",
        "买房不用愁评测帮你忙!昆山兰亭栖云热搜楼盘信息新鲜出炉!",
    ]
    kept = remove_boilerplate([Block(t) for t in lines])
    assert _texts(kept) == lines[:2]


def test_seed_004_tail_after_previous_next_links():
    lines = [
        "沈磊透露,协同创新区在“大研发、大文化、大健康”三大未来产业上酝酿更大作为。",
        "上一篇新闻",
        "西安工大亮相国际顶级会议,获得顶尖学术盛会主办权,创亚洲首次",
        "下一篇新闻",
        "日本一精锐主力师团,在二战末期竟发动兵变,囚禁日本天皇",
        "评论",
        "订阅每日新闻",
    ]
    assert _texts(remove_boilerplate([Block(t) for t in lines])) == lines[:1]


def test_previous_link_with_no_article_ends_the_body():
    lines = ["据悉,下一届会议预计于2021年秋季在西安举行。", "上一篇新闻没有了", "下一篇新闻"]
    assert _texts(remove_boilerplate([Block(t) for t in lines])) == lines[:1]


def test_seed_003_titled_related_heading_ends_the_body():
    lines = [
        "会上还进行了娄江新城沿江现代服务业集聚区推介。",
        "“2024年嘉昆太协同创新核心圈轮值会议在太仓举行” 的相关文章",
        "【招商引资项目推介】我为家乡发展助力:南昌篇",
    ]
    assert _texts(remove_boilerplate([Block(t) for t in lines])) == lines[:1]


def test_trailing_link_dense_short_blocks_are_dropped():
    blocks = [
        Block("凌鸣在讲话时表示,希望嘉昆太三地放大国家战略交汇区域优势持续加强合作。", 0.0),
        Block("苏州相城区:陆续竣工投产!产业项目迎来“加速跑”", 1.0),
        Block("六大关键词解读苏州工业园区2023年科创成绩单", 0.9),
    ]
    assert _texts(remove_boilerplate(blocks)) == ["凌鸣在讲话时表示,希望嘉昆太三地放大国家战略交汇区域优势持续加强合作。"]


def test_link_dense_block_inside_the_body_stays():
    blocks = [Block("新姿态:高起点谋划开放合作", 1.0), Block("地区生产总值同比增长6.6%、一般公共预算收入增长11%。", 0.0)]
    assert _texts(remove_boilerplate(blocks)) == ["新姿态:高起点谋划开放合作", "地区生产总值同比增长6.6%、一般公共预算收入增长11%。"]


def test_single_repeated_paragraph_kept_once():
    para = "座谈会上,双方围绕“高科技推动城市发展”展开深入探讨。宋崎表示,昆山正加快构建“2+6+X”创新集群。"
    other = "此次访问正值中西方深化合作的关键节点。"
    assert _texts(remove_boilerplate([Block(para), Block(other), Block(para)])) == [para, other]


def test_extra_patterns_in_remove_boilerplate():
    blocks = [Block("關注民生 服務社會"), Block("蘇州高新區是全國首批國家級高新區。")]
    assert _texts(remove_boilerplate(blocks, [r"^關注民生\s*服務社會"])) == ["蘇州高新區是全國首批國家級高新區。"]


def test_hot_articles_heading_ends_the_body():
    lines = ["截至目前,园区今年已累计新增产业载体超过80万平方米,意向入驻项目42个。", "Hot articles", "{{ item.title }}"]
    assert _texts(remove_boilerplate([Block(t) for t in lines])) == lines[:1]


def test_related_reading_heading_with_colon_ends_the_body():
    # 021cf fixture post 2053
    lines = ["“改造后的厂房层高更高、承重更大，能够满足设备制造企业的需求。”一位入驻企业负责人说。", "相关阅读：", "昆山发布三季度经济运行情况"]
    assert _texts(remove_boilerplate([Block(t) for t in lines])) == lines[:1]


# --- pasted headline runs, pasted once --------------------------------------------------

_INVEST = [
    "记者从昆山开发区获悉，今年前三季度，开发区完成工业投资218亿元，同比增长15.2%，其中技改投资占比超过六成。",
    "开发区经济发展局负责人介绍，前三季度开发区新开工亿元以上产业项目31个，竣工投产项目24个。",
    "下一步，开发区将围绕产业链招引上下游配套企业，力争全年工业投资突破300亿元。",
]
_LICENCE = ["信息网络传播视听节目许可证0108263号", "京网文[2011]0283-097号"]
_CONTACT = ["网络招商运营服务平台:园区产业招商", "葛毅明微信号", "扫一扫关注公众号"]
_RUN_A = ["欧洲央行宣布维持三大关键利率不变", "第十五届中国航展在珠海开幕", "多地迎来今冬首场降雪 道路结冰需注意",
          "国产大型邮轮完成第二次商业航行"]
_RUN_B = ["世界杯预选赛国足客场战平对手", "秋冬季流感进入高发期 专家提醒接种疫苗", "北方多地供暖提前启动",
          "一颗小行星将于本周末掠过地球"]
_TITLE = "昆山开发区前三季度工业投资同比增长15.2%"


def _body(lines, title=_TITLE):
    return _texts(remove_boilerplate([Block(t) for t in lines], title=title))


def test_headline_run_pasted_once_is_removed():
    assert _body(_INVEST + _RUN_A + _LICENCE + _CONTACT) == _INVEST


def test_half_runs_split_across_posts_are_removed_each():
    assert _body(_INVEST + _RUN_A[:2] + _LICENCE + _CONTACT) == _INVEST
    assert _body(_INVEST + _RUN_B[2:] + _CONTACT) == _INVEST


def test_headline_run_with_licence_lines_between_is_removed():
    lines = _INVEST + _RUN_B[:2] + _LICENCE[:1] + _RUN_B[2:] + _LICENCE[1:] + _CONTACT
    assert _body(lines) == _INVEST


def test_dated_run_without_furniture_after_it_is_removed():
    dated = ["11-28 第二十届东盟博览会在南宁闭幕", "11-28 全国铁路迎来冬季运输高峰", "11-27 南极科考队出发执行第四十二次考察"]
    assert _body(_INVEST + dated) == _INVEST


def test_the_articles_own_list_is_kept():
    lines = [
        "为破解中小制造企业用地难题，昆山市近日出台《关于支持标准厂房建设和使用的若干措施》，提出八条具体措施。",
        "措施主要包括：",
        "一、盘活存量低效工业用地", "二、提高标准厂房容积率上限", "三、允许标准厂房分割转让", "四、简化标准厂房审批流程",
        "措施明确，新建标准厂房容积率原则上不低于2.0，鼓励建设四层以上厂房，首层层高不低于8米。",
    ]
    assert _body(lines + _CONTACT, title="昆山出台八条措施支持标准厂房建设") == lines


def test_own_list_at_the_end_of_the_article_is_kept():
    lines = [
        "太仓港区今年重点推进以下标准厂房和仓储项目建设，总投资约45亿元。",
        "太仓港区高端装备产业园标准厂房二期", "太仓港区冷链物流仓储中心", "太仓港区新材料产业园标准厂房",
    ]
    assert _body(lines + _LICENCE, title="太仓港区重点推进标准厂房和仓储项目") == lines


def test_listing_field_lines_are_not_headlines():
    lines = ["【类型】工业用地", "【位置】昆山市千灯镇", "【面积】35亩", "【特色】三通一平、国有出让、50年产权",
             "类型：独栋厂房", "位置：昆山市周市镇"]
    assert _body(lines + _CONTACT, title="昆山千灯 工业土地出售 35亩 三通一平") == lines


def test_headlines_with_a_comma_or_question_mark_are_headlines():
    run = ["面对美国征收35%关税威胁，加拿大总理的回应来了", "年轻人为何爱上“反向旅游”？", "多地迎来今冬首场降雪 道路结冰需注意"]
    assert _body(_INVEST + run + _CONTACT) == _INVEST


def test_credits_and_captions_before_a_pasted_link_list_stay():
    body = _INVEST + ["产业园一期航拍图（摄影：张伟）", "（记者 陈晨 通讯员 刘洋）"]
    links = [Block(t, link_ratio=1.0) for t in ("全国铁路今日起实行新的列车运行图", "国产大飞机C919开通新航线", "多所高校公布寒假放假时间")]
    blocks = [Block(t) for t in body] + [Block("免责声明:本文系转载，版权归原作者所有。")] + links + [Block(_LICENCE[0])]
    assert _texts(remove_boilerplate(blocks, title="陆家镇智能制造产业园一期竣工")) == body


def test_off_topic_run_opening_the_body_is_removed():
    run = ["全国铁路今日起实行新的列车运行图", "国产大飞机C919开通新航线", "多所高校公布寒假放假时间"]
    assert _body(run + _INVEST) == _INVEST


def test_short_lines_of_a_listing_are_not_a_headline_run():
    lines = ["物业类型：单层仓库", "出租面积：5000平方米", "租金：1.1元/平/天", "房东直租 无中介费", "可办环评 可注册公司", "随时看房 价格面议"]
    assert _body(lines + _CONTACT, title="昆山花桥 单层仓库出租 5000平 消防丙类") == lines
