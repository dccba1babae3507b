"""Factory / warehouse / land rental and sale ads: detection and field extraction.

Pure functions over text; every spider uses them (docs/DATA_MODEL.md, collection
``rental_ads``):

* ``extract_ad(text, title=None)`` → the RentalAd content fields, or None when
  the text is not an ad;
* ``is_ad(text, title=None)``;
* ``find_inline_ads(post_text)`` → the raw text of each ad block inside a post;
* ``normalize_ad_text(text)`` / ``ad_fingerprint(text)`` → the ad's identity
  (``_id`` = ``ad_fingerprint(raw_text)``).

Why hand-written rules: no maintained library parses Chinese property-listing
text; the listings follow a small set of conventions (面积 "1100平起", 价格
"0.9元/平/天", 层高/承重/配电 lines) that regular expressions cover well.

Text is analysed after NFKC (full-width digits and punctuation, ㎡ → "m2") and
Traditional → Simplified conversion, so values taken "as written"
(property_type, features, location_text …) are in that normalized form.

Conventions (decided here, documented for the users of the data):

* deal_type: 出租/招租/租金/转租 … → ``rent``; 出售/售价/总价/转让 … → ``sale``
  (转让 of a factory or land in these ads is a sale of the property; a lease
  transfer is written 转租); both kinds of word, or 租售/可租可售 →
  ``rent_or_sale``. With no deal word, a rent-only price unit (per day, per
  month, per year) gives ``rent`` and a sale-only unit (元/㎡, 万元 total)
  gives ``sale``; otherwise null — never guessed.
* area: 平/平米/平方/平方米/㎡/m² are m²; "N万平" multiplies by 10 000. A range
  gives min/max; "N平起" gives min N and max = the largest single figure, if
  larger, else null; single figures give min = smallest, max = largest
  (two buildings of 2000 and 3000 give 2000/3000). 占地 figures in m² count
  only when no other figure is given (a land ad), parts (其中/含 …) only when
  nothing else is. 亩 → land_area_mu (first figure).
* price: the first price in the text that is not a fee (物业费, 管理费, 电费 …);
  of a range the lower value. Units: ``元/㎡/天``, ``元/㎡/月``, ``元/㎡``
  (sale per area), ``万元`` (total; 亿 × 10 000, 元 ÷ 10 000), ``万元/年``.
  Units outside the normalized ones (docs/DATA_MODEL.md) that ads really use are kept rather than
  converted (a conversion would invent precision): ``元/㎡/年``,
  ``万元/月``, ``万元/亩`` (land price).
* city/district: from the gazetteer (data/gazetteer.json). ``city`` is the
  county-level unit of the market, without 市: 昆山, 太仓, 常熟, 张家港 …,
  Shanghai's districts themselves (嘉定, 青浦, 松江 …: "上海嘉定" is 嘉定), and
  苏州 for Suzhou's urban districts. ``district`` is the level below the city:
  the town or zone without 镇 (周市, 千灯, 安亭, 外冈 …) or Suzhou's urban
  district (吴中, 相城, 工业园区 …), else null. city = the first place named
  outside transport notes, made more specific when a bare prefecture
  (上海, 苏州) is followed by one of its county-level units; district = the
  first place named below that city. location_text = the phrase after
  位于/地处/地址 …, else the first run of place names as written.
* features: when the ad has a labelled feature line (特色/优势/亮点/配套: …),
  exactly that line's items as written (split on 、，,；; and whitespace);
  otherwise the known feature phrases found anywhere in the text.
* transport: when the ad has a labelled line (交通/周边交通/区位: …), its
  parts as written (split on ，,；;); otherwise the transport phrases found
  in the text ("地铁11号线安亭站车程10分钟" keeps its line number).
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from typing import Any

from kspider.extract.gazetteer import Place, find_places
from kspider.extract.phones import extract_phones

AD_FIELDS: tuple[str, ...] = (
    "title", "deal_type", "property_type", "park_name", "city", "district", "location_text",
    "area_sqm_min", "area_sqm_max", "land_area_mu", "price_value", "price_unit",
    "floor_height_m", "floor_load_t_per_sqm", "power_kva", "availability", "features",
    "transport", "contact_name", "contact_phones", "wechat", "raw_text",
)

# ---------------------------------------------------------------------------
# text normalization


@lru_cache(maxsize=1)
def _t2s() -> Any:
    import opencc  # imported lazily: loading its dictionaries takes a moment

    return opencc.OpenCC("t2s")


_DASHES = str.maketrans({c: "-" for c in "‐‑‒–—―－﹣−"})


@lru_cache(maxsize=8192)
def _analysis_text(text: str) -> str:
    """NFKC + Simplified script + one kind of dash: the form all rules run on.
    (Cached: an agency's contact and ad lines come back on page after page.)"""
    text = unicodedata.normalize("NFKC", text or "").translate(_DASHES)
    text = _t2s().convert(text)
    # 1,100平 → 1100平 (thousands separators inside numbers)
    return re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", text)


class _DropPunctuation(dict):  # type: ignore[type-arg]
    """A ``str.translate`` table deleting punctuation, symbols, separators and control characters
    (Unicode categories P, S, Z, C), filled as characters are met: one lookup per character in C."""

    def __missing__(self, codepoint: int) -> int | None:
        value = None if unicodedata.category(chr(codepoint))[0] in "PSZC" else codepoint
        self[codepoint] = value
        return value


_DROP_PUNCTUATION = _DropPunctuation()


def normalize_ad_text(text: str) -> str:
    """The ad's identity text: Simplified, NFKC, lower case, no whitespace,
    punctuation or symbols, 蕞 restored to 最 (the site's advertising-law
    rewrite). The same ad copied onto many pages with other spacing,
    punctuation, phone grouping or script gives the same string."""
    text = _analysis_text(text).lower()
    text = re.sub(r"蕞(?!尔)", "最", text)
    return text.translate(_DROP_PUNCTUATION)


def ad_fingerprint(text: str) -> str:
    """`_id` of a rental ad: SHA-1 (hex) of ``normalize_ad_text(text)``."""
    return hashlib.sha1(normalize_ad_text(text).encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------
# vocabulary

NUM = r"\d+(?:\.\d+)?"
RANGE_SEP = r"\s*(?:-|~|至|到)\s*"
AREA_UNIT = r"(?:平方米|平米|平方(?!公里|千米)|m2|平(?!方|台|湖|谦|安|均|层|顶|地|米))"
_CUT_CHARS = r"\s,，。;；、!！?？:：|【】\[\]()《》“”\"'"

_PROPERTY = re.compile(
    r"(?:(?:单层|双层|多层|高层|一层|二层|两层|三层|四层|标准|钢结构|钢构|钢混|框架|高标准?|独栋|工业)\s*)*"
    r"(?:厂房|仓库|冷库|仓储|厂区|车间|工业用地|工业土地|商业用地|土地|研发办公楼|研发楼|办公楼|写字楼|"
    r"高标仓|标准仓|物流仓库|物流仓|独栋)"
)

_PARK_SUFFIX = (
    r"(?:产业园区|工业园区|科技园区|创业园区|物流园区|智造园区|科创园区|产业园|工业园|科技园|创业园|创新园|物流园|智造园|科创园|"
    r"企业园|工业坊|产业基地|产业港|智谷|园区)"
)
_PARK = re.compile(r"([\u4e00-\u9fffA-Za-z0-9]{2,14}?)" + _PARK_SUFFIX)
# Words after which a park name starts ("欢迎入驻太仓事达产业园" → 太仓事达产业园).
_PARK_BREAKERS = re.compile(
    r".*(?:位于|地处|坐落于|坐落在|入驻|欢迎|出租|出售|招租|租售|转让|招商|推荐|考察|来访|属于|隶属|靠近|紧邻|临近|"
    r"毗邻|距离|厂房|仓库|土地|重点|特色|多个|多家|各类|优质|现代|大型|在|于|近|距|离|内|的|是|为|有|和|与|及|本|该|平|起|房)"
)

_AVAILABILITY = re.compile(
    r"即租即用|即买即用|拎包入驻|拎包入住|可随时入驻|随时可入驻|随时入驻|可立即入驻|立即入驻|即可入驻|马上入驻|"
    r"随时看房|现已空置|准现房|现房|期房|年底交付"
)

_FEATURES = re.compile(
    "|".join(
        [
            r"(?:可以|可|能)(?:做|办|过)?环评",
            r"环评齐全",
            r"土地证房产证齐全|两证齐全|房产证齐全|土地证齐全|独立产证|独立产权|有产证|产证齐全|证件齐全|手续齐全|双证齐全|独立土地证|大产证|有房产证",
            r"(?:带|有|配|配备|含)(?:\d+(?:\.\d+)?[吨tT])?行车|\d+(?:\.\d+)?[吨tT]行车",
            r"消防(?:等级)?(?:丙二类|丙一类|丙类|乙类|甲类)|(?:丙二类|丙一类|丙类|乙类|甲类)消防|丙二类|丙一类",
            r"可分割出租|可分割|可分层出租|可分层|可分租|可整租",
            r"独门独院",
            r"[三五六七九]通一平",
            r"精装修?|简装修?|豪华装修|毛坯",
            r"双回路",
            r"(?:消防|自动)?喷淋",
            r"可注册公司|可注册|可办(?:营业)?执照|可开票",
            r"(?:带|配套|配|有)办公(?:室|楼)?|(?:带|配套|配|有)宿舍|(?:带|配套|有)食堂",
            r"(?:带|有)?卸货平台|(?:带|有)?货梯|高台库|月台|大雨棚|环氧地坪",
            r"大车可进|集卡可进|可进集卡|可停大车",
            r"可做食品|可做医疗器械|可做仓储",
            r"可过户|可按揭|可贷款",
            r"国有出让|\d+年产权",
        ]
    )
)

_RENT_WORDS = re.compile(r"出租(?!率|车)|招租|急租|转租|租金(?!补贴|收入|水平|上涨|下降)|月租|年租|日租|起租|分租|整租|可租|求租|租赁(?!市场|行业|业务)")
# 转让 of equipment or shares (设备可转让) is not a sale of the property.
_SALE_WORDS = re.compile(r"出售(?!率)|急售|售价|(?<!设备)(?<!设备可)(?<!股权)(?<!生意)转让|总价|可售|整售|分售|一口价|出让价")
_BOTH_WORDS = re.compile(r"租售|可租可售|出租出售|出售出租|租或售|售或租|租/售|售/租")

# Paragraphs of news: narration, officials, investment totals.
_NEWS_MARKERS = re.compile(
    r"签约|亿元|开工|竣工|投产|落户|记者|通讯员|据悉|据了解|会议|同比|增长|举行|书记|市长|区长|主任|领导|与会|"
    r"表示|指出|总投资|年产(?:能|值|量|\d)|产值|补贴|奖励|扶持|给予|营收|项目|建成后|预计|计划|发布会|致辞|座谈|调研|入驻率|出租率|累计|今年以来|"
    r"企业|规划|拟建|新建|开发商|成交|均价|楼盘|住宅|交房|新增|平均|去年|今年|上半年|下半年|季度|供应|保持在|"
    r"报告|数据显示|空置率|全市|全区|截至|已有"
)
_HARD_NEWS = re.compile(r"记者|通讯员|据悉|据了解|新华社|日电")

# Transport
_DIST = r"(?:约|仅|只有|只需|仅需|大约)?\s*\d+(?:\.\d+)?\s*(?:分钟|公里|km|千米)"
# Road and metro codes inside a place name: G15沈海高速, S17苏昆太高速, 地铁11号线.
_ROAD_CODE = r"(?:[GSXgsx]\d{1,4}|\d{1,2}号线)"
_TRANSPORT = re.compile(
    "|".join(
        [
            r"(?P<pre1>[^" + _CUT_CHARS + r"]{0,12}?)车程\s*" + _DIST + r"(?:左右|以内)?",
            r"(?:距离?|离|到)\s*(?:" + _ROAD_CODE + r"|[^" + _CUT_CHARS + r"\d]){1,15}?\s*(?:车程)?\s*" + _DIST
            + r"(?:车程|左右|以内)?",
            _DIST + r"\s*(?:上|到达?|直达|抵达|可达)\s*[^" + _CUT_CHARS + r"\d]{1,12}",
            r"(?:紧邻|靠近|临近|毗邻|邻近|近)\s*[^" + _CUT_CHARS + r"]{0,10}?(?:高速|地铁|轻轨|高铁站|高铁|火车站|机场|港口|码头|国道|省道|互通)"
            r"(?:\d+号线)?(?:[\u4e00-\u9fff]{1,4}?(?:出入口|出口|入口|道口|互通|站)|出入口|出口|入口|口|站)?",
            r"(?P<pre5>[^" + _CUT_CHARS + r"]{0,10}?)(?:高速|地铁站|高铁站|火车站)(?:出口|道口|口)?(?:旁|边上|附近)",
        ]
    )
)
# Words after which a transport note starts (what precedes belongs to the ad's other fields).
# A digit ends the ad's figures, except the digits of a metro line ("地铁11号线安亭站车程10分钟").
_TRANSPORT_LEAD = re.compile(
    r".*(?:厂房|仓库|土地|现房|即租即用|入驻|出租|出售|招租|平起|起租|平米|平方米|平方|平|米|吨|kva|交通便利|交通便捷|交通方便|交通发达|位于|"
    r"(?<![A-Za-z\d])\d+(?!\d|号线))",
    re.I,
)

# Labelled lines ("特色:带行车、可环评", "交通:距…3公里,…车程10分钟"); the label starts a line
# or follows a space or separator; the value runs to the end of the line or the next label.
_LABEL_START = r"(?:^|(?<=[\s/|】\]]))"
# A label is written "特色:" or "【特色】" (the agency's listings use both).
_LABEL_END = r"(?:\s*:|(?<=[\u4e00-\u9fff])】)\s*"


def _labelled_line(names: str) -> re.Pattern[str]:
    return re.compile(_LABEL_START + r"(?:【\s*)?(?:" + names + r")" + _LABEL_END + r"(?P<value>[^\n]*)", re.M)


_FEATURE_LINE = _labelled_line(
    r"(?:项目|厂房|房源|园区|物业|仓库|土地|地块|核心|产品)?(?:特色|优势|亮点)|(?:园区|厂区|周边|生活)?配套(?:设施)?"
)
_TRANSPORT_LINE = _labelled_line(r"周边交通|交通区位|交通(?:优势|位置|状况|情况)?|区位(?:优势|交通)?")
# The labelled kind of property ("类型：独栋厂房", "【类型】工业用地"): what the ad says it offers,
# which wins over a word of the title (工业土地, 厂房).
_TYPE_LINE = _labelled_line(r"(?:物业|房源|厂房|土地|用地|房屋|物件)?类型|物业性质|土地性质|用地性质")
_NEXT_LABEL = re.compile(r"\s+(?:[\u4e00-\u9fff]{2,6}\s*:|【[\u4e00-\u9fff]{2,6}】)")

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范"
    "金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤葛殷倪施庞"
)
_TITLE = r"(?:总经理|经理|先生|女士|小姐|老师|主任|总(?![价额计面共投部体规建经值]))"
_CONTACT_LABEL = re.compile(
    r"(?:联系人|联系人员|负责人|业务联系|招商联系人|招商经理)\s*[:：]?\s*([\u4e00-\u9fff]{2,4}?)"
    r"(?=\s|[,，:：;；(（/]|\d|电话|手机|微信|热线|$)"
)
_CONTACT_TITLED = re.compile(f"[{_SURNAMES}]{_TITLE}")
_CONTACT_BEFORE_PHONE = re.compile(
    rf"(?:^|[\s,，:：;；(（。!！])([{_SURNAMES}][\u4e00-\u9fff]{{1,2}})\s*[:：]?\s*(?:手机|电话|tel|Tel|TEL)?\s*[:：]?\s*(?=1[3-9]\d|0\d{{2,3}}|400|800)"
)
_NOT_NAMES = re.compile(r"电话|手机|热线|咨询|来电|考察|联系|微信|厂房|仓库|出租|出售|招商|欢迎|地址|价格|面积|租金|现房")

_WECHAT = re.compile(
    r"(?:微信号?|vx|v信|wx|weixin|wechat)\s*(?:号)?\s*[:：]?\s*([A-Za-z][-_A-Za-z0-9]{5,19}|1[3-9]\d{9}(?!\d))", re.I
)
_WECHAT_SAME = re.compile(r"微信同号|同微信|微信同步")

# ---------------------------------------------------------------------------
# numbers


def _num(value: str) -> float | int:
    number = float(value)
    return int(number) if number.is_integer() else number


def _round(value: float) -> float | int:
    return _num(f"{value:.6f}".rstrip("0").rstrip("."))


# ---------------------------------------------------------------------------
# fields


def _property_type(text: str) -> str | None:
    for match in _TYPE_LINE.finditer(text):
        value = re.split(r"[\s,，;；、/|]", match.group("value").strip(), maxsplit=1)[0].rstrip("。.")
        if value and _PROPERTY.search(value):
            return value
    # A heading in brackets (【厂房推荐】) names the section, not the property, when the text names one.
    headings = [m.span() for m in re.finditer(r"【[^】\n]{0,12}】", text)]
    found = [m for m in _PROPERTY.finditer(text)]
    outside = [m for m in found if not any(a <= m.start() < b for a, b in headings)]
    match = (outside or found or [None])[0]
    return re.sub(r"\s+", "", match.group(0)) if match else None


def _park_name(text: str) -> str | None:
    for match in _PARK.finditer(text):
        name = match.group(0)
        cut = _PARK_BREAKERS.match(name[: len(match.group(1))])
        if cut:
            name = name[cut.end():]
        prefix = name[: len(name) - len(re.search(_PARK_SUFFIX + "$", name).group(0))]
        if len(prefix) < 2:
            continue
        # a district such as 苏州工业园区 is a place, not a park
        places = find_places(name)
        if places and places[0].start == 0 and places[0].end == len(name):
            continue
        return name
    return None


_AREA_RANGE = re.compile(
    rf"(?<![\d./])({NUM})\s*(万)?\s*(?:{AREA_UNIT})?{RANGE_SEP}({NUM})\s*(万)?\s*{AREA_UNIT}(?!\s*/)"
)
_AREA_START = re.compile(
    rf"(?<![\d./])({NUM})\s*(万)?\s*{AREA_UNIT}\s*(?:起|以上)"
    rf"|(?:最小|最少)(?:可)?(?:分割|分租)?(?:面积)?\s*[:：]?\s*({NUM})\s*(万)?\s*{AREA_UNIT}"
    rf"|起租面积\s*[:：]?\s*({NUM})\s*(万)?\s*{AREA_UNIT}"
)
_AREA_SINGLE = re.compile(rf"(?<![\d./])({NUM})\s*(万)?\s*{AREA_UNIT}(?!\s*(?:/|每|·)\s*(?:天|日|月|年))")
_LAND_MU = re.compile(rf"(?<![\d.])({NUM})(?:{RANGE_SEP}{NUM})?\s*亩(?!均)")


def _sqm(value: str, wan: str | None) -> float | int:
    return _round(float(value) * (10000 if wan else 1))


def _areas(text: str) -> tuple[float | int | None, float | int | None]:
    taken: list[tuple[int, int]] = []

    def free(span: tuple[int, int]) -> bool:
        return all(span[1] <= a or span[0] >= b for a, b in taken)

    for match in _AREA_RANGE.finditer(text):
        low, high = _sqm(match.group(1), match.group(2) or match.group(4)), _sqm(match.group(3), match.group(4))
        if high > low:
            return low, high
    starts = []
    for match in _AREA_START.finditer(text):
        groups = [g for g in match.groups()]
        value = next(v for v in (groups[0], groups[2], groups[4]) if v)
        wan = groups[1] or groups[3] or groups[5]
        starts.append(_sqm(value, wan))
        taken.append(match.span())
    main, land, parts = [], [], []
    for match in _AREA_SINGLE.finditer(text):
        if not free(match.span()):
            continue
        # the label of this figure: its own clause, back to the last separator
        before = re.split(r"[,，;；。、\n]", text[max(0, match.start() - 10) : match.start()])[-1]
        value = _sqm(match.group(1), match.group(2))
        if re.search(r"占地", before) and not re.search(r"建筑|厂房面积|建面", before):
            land.append(value)
        elif re.search(r"其中|含|包括|办公|宿舍|食堂", before):
            parts.append(value)
        else:
            main.append(value)
    singles = main or parts or land
    if starts:
        low = starts[0]
        high = max(singles) if singles and max(singles) > low else None
        return low, high
    if singles:
        return min(singles), max(singles)
    return None, None


def _land_mu(text: str) -> float | int | None:
    match = _LAND_MU.search(text)
    return _num(match.group(1)) if match else None


_PRICE_NUM = rf"({NUM})(?:{RANGE_SEP}{NUM})?"  # a range keeps its lower value
_PER = r"\s*(?:/|每|一|·|\.|\*|x)?\s*"
_PRICE_RULES: list[tuple[re.Pattern[str], str]] = [
    # per area and time: 0.9元/平/天, 22元/平米/月, 25元/m2·月, 0.9元每平每天
    (re.compile(rf"{_PRICE_NUM}\s*(?:元|块)?\s*(?:/|每)\s*(?:个)?{AREA_UNIT}{_PER}(天|日|月|年)"), "area_time"),
    # time before area: 0.9元/天/平
    (re.compile(rf"{_PRICE_NUM}\s*(?:元|块)?\s*/\s*(天|日|月|年)\s*/\s*{AREA_UNIT}"), "time_area"),
    # 月租22元/平, 日租金0.9元/㎡
    (re.compile(rf"(日|月|年)租金?\s*(?:为|是)?\s*[:：]?\s*{_PRICE_NUM}\s*(?:元|块)\s*(?:/|每)\s*{AREA_UNIT}"), "lead_time_area"),
    # 每月每平方米20元, 每平方米每天0.8元
    (re.compile(rf"每(天|日|月|年)每{AREA_UNIT}\s*{_PRICE_NUM}\s*(?:元|块)"), "lead_time_area"),
    (re.compile(rf"每{AREA_UNIT}每(天|日|月|年)\s*{_PRICE_NUM}\s*(?:元|块)"), "lead_time_area"),
    # land price: 45万/亩, 每亩45万
    (re.compile(rf"{_PRICE_NUM}\s*(万)?\s*元?\s*(?:/|每)\s*亩"), "per_mu"),
    (re.compile(rf"每亩\s*(?:价格|售价)?\s*[:：]?\s*{_PRICE_NUM}\s*(万)?\s*元?"), "mu_lead"),
    # yearly / monthly total rent: 80万元/年, 年租金80万
    (re.compile(rf"{_PRICE_NUM}\s*(万)?\s*元\s*/\s*(年|月)|{_PRICE_NUM}\s*(万)\s*/\s*(年|月)"), "total_time"),
    (re.compile(rf"(年|月)租金?\s*(?:为|是)?\s*[:：]?\s*(?:约)?\s*{_PRICE_NUM}\s*(万|元)"), "lead_total_time"),
    # sale per area: 售价3500元/平, 3500元/平方米
    (re.compile(rf"{_PRICE_NUM}\s*(?:元|块)\s*(?:/|每|一)\s*{AREA_UNIT}(?!{_PER}(?:天|日|月|年))"), "per_area"),
    # total: 总价1200万, 售价1.2亿, 1200万出售
    (re.compile(rf"(?:总价|售价|价格|转让价|报价|出售价|一口价|价)\s*(?:为|是)?\s*[:：]?\s*(?:约)?\s*{_PRICE_NUM}\s*(万|亿)\s*元?(?!\s*元?\s*(?:/|每))"), "total"),
    (re.compile(rf"(?<![\d.]){_PRICE_NUM}\s*(万|亿)\s*元?\s*(?:出售|急售|转让|一口价|整体出售)"), "total"),
]
# Characters each rule cannot match without, in _PRICE_RULES' order: each string names
# alternatives, at least one of which the text must hold (the rule's literal words and units).
_PRICE_NEEDS: list[tuple[str, ...]] = [
    ("/每", "天日月年"), ("/", "天日月年"), ("租", "元块", "/每"), ("每", "元块"), ("每", "元块"),
    ("亩",), ("亩",), ("/", "年月"), ("租", "年月", "万元"), ("元块",), ("价", "万亿"), ("万亿", "售让价"),
]
assert len(_PRICE_NEEDS) == len(_PRICE_RULES)
_FEE_BEFORE = re.compile(r"(?:物业费|物业|管理费|电费|水费|服务费|押金|保证金|停车费?|税)[^,，;；\n]{0,6}$")
_TIME_UNIT = {"天": "元/㎡/天", "日": "元/㎡/天", "月": "元/㎡/月", "年": "元/㎡/年"}


_PRICE_HINT = re.compile(r"[元万亿价租售]")


def _price(text: str) -> tuple[float | int | None, str | None]:
    # The price rules are costly to run over a whole post; only lines that can hold a price
    # (a currency unit or a price word) are searched, in their order.
    text = "\n".join(line for line in text.split("\n") if _PRICE_HINT.search(line))
    found: list[tuple[int, int, float | int, str]] = []
    for (pattern, kind), needs in zip(_PRICE_RULES, _PRICE_NEEDS):
        # A rule whose words are not in the text cannot match: not run (most rules start at every digit).
        if not all(any(c in text for c in chars) for chars in needs):
            continue
        for match in pattern.finditer(text):
            if _FEE_BEFORE.search(text[max(0, match.start() - 10) : match.start()]):
                continue
            g = [x for x in match.groups()]
            if kind in ("area_time", "time_area"):
                value, unit = _num(g[0]), _TIME_UNIT[g[1]]
            elif kind == "lead_time_area":
                value, unit = _num(g[1]), _TIME_UNIT[g[0]]
            elif kind in ("per_mu", "mu_lead"):
                value = _num(g[0]) if g[1] else _round(float(g[0]) / 10000)
                unit = "万元/亩"
            elif kind == "total_time":
                if g[0] is not None:
                    value = _num(g[0]) if g[1] else _round(float(g[0]) / 10000)
                    period = g[2]
                else:
                    value, period = _num(g[3]), g[5]
                unit = "万元/年" if period == "年" else "万元/月"
            elif kind == "lead_total_time":
                value = _num(g[1]) if g[2] == "万" else _round(float(g[1]) / 10000)
                unit = "万元/年" if g[0] == "年" else "万元/月"
            elif kind == "per_area":
                value, unit = _num(g[0]), "元/㎡"
            else:  # total
                value = _round(float(g[0]) * (10000 if g[1] == "亿" else 1))
                unit = "万元"
            found.append((match.start(), -(match.end() - match.start()), value, unit))
    if not found:
        return None, None
    _, _, value, unit = min(found)
    return value, unit


_HEIGHT = re.compile(
    rf"(?:层高|檐高|檐口高度?|净高|梁下净高|滴水|屋檐高|高度)[^\d\n,，;；]{{0,4}}?({NUM})(?:{RANGE_SEP}{NUM})?\s*(?:米|m)(?![2a-z])"
    rf"|(?<![\d.])({NUM})\s*(?:米|m)\s*(?:层高|檐高|净高|高)",
    re.I,
)
_LOAD = re.compile(
    rf"(?:承重|荷载|载荷|负荷)[^\d\n,，;；]{{0,4}}?({NUM})(?:{RANGE_SEP}{NUM})?\s*(吨|t|公斤|kg|千克)"
    rf"|(?<![\d.])({NUM})\s*(吨|t|公斤|kg|千克)\s*/\s*(?:每)?\s*(?:{AREA_UNIT})",
    re.I,
)
_POWER = re.compile(
    rf"(?<![\d.])({NUM})\s*(?:kva|千伏安|kv\.a)"
    rf"|(?:配电|变压器|电容|电量|用电|电力)[^\d\n]{{0,6}}?({NUM})\s*(?:kv|千伏)(?!a|安)",
    re.I,
)


def _floor_height(text: str) -> float | int | None:
    match = _HEIGHT.search(text)
    if not match:
        return None
    value = _num(match.group(1) or match.group(2))
    return value if 2 <= value <= 40 else None  # a storey, not a building or a distance


def _floor_load(text: str) -> float | int | None:
    match = _LOAD.search(text)
    if not match:
        return None
    value, unit = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
    number = float(value)
    if unit.lower() in ("公斤", "kg", "千克"):
        number /= 1000
    return _round(number)


def _power(text: str) -> float | int | None:
    for match in _POWER.finditer(text):
        if match.group(1):
            return _num(match.group(1))
        if float(match.group(2)) >= 50:  # "10kv" is a line voltage, "500kv 配电" a sloppy kVA
            return _num(match.group(2))
    return None


def _first_phrase(pattern: re.Pattern[str], text: str) -> str | None:
    match = pattern.search(text)
    return match.group(0) if match else None


def _labelled_items(pattern: re.Pattern[str], text: str, separators: str) -> list[tuple[int, int, str]]:
    """(start, end, item) of each item of the labelled lines of `pattern`, in order, as written."""
    items: list[tuple[int, int, str]] = []
    for match in pattern.finditer(text):
        start = match.start("value")
        value = match.group("value")
        next_label = _NEXT_LABEL.search(value)
        if next_label:
            value = value[: next_label.start()]
        for part in re.finditer(f"[^{separators}]+", value):
            item = part.group(0).strip().rstrip("。.!！")
            if item and item not in [seen for _, _, seen in items]:
                items.append((start + part.start(), start + part.end(), item))
    return items


def _features(text: str) -> list[str]:
    labelled = _labelled_items(_FEATURE_LINE, text, r"、,;\s")
    if labelled:
        return [item for _, _, item in labelled]
    found: list[str] = []
    for match in _FEATURES.finditer(text):
        phrase = match.group(0)
        if phrase not in found:
            found.append(phrase)
    return found


def _transport_spans(text: str) -> list[tuple[int, int, str]]:
    spans: list[tuple[int, int, str]] = []
    for match in _TRANSPORT.finditer(text):
        start, phrase = match.start(), match.group(0)
        prefix = match.group("pre1") if match.group("pre1") is not None else match.group("pre5")
        if prefix:
            # what precedes the place name belongs to the ad's other fields
            lead = _TRANSPORT_LEAD.match(prefix)
            if lead:
                start, phrase = start + lead.end(), phrase[lead.end():]
        phrase = phrase.strip()
        if re.search(r"[\u4e00-\u9fff]", phrase):
            spans.append((start, start + len(phrase), phrase))
    return spans


def _transport(text: str) -> tuple[list[str], list[tuple[int, int, str]]]:
    """(the ad's transport notes, the spans of text that are transport notes).

    A labelled 交通 line gives the notes; without one, the phrases found. The
    spans of both kinds are returned: places named in them are not the ad's place.
    """
    labelled = _labelled_items(_TRANSPORT_LINE, text, r",;")
    phrases = _transport_spans(text)
    notes = [item for _, _, item in labelled] if labelled else [phrase for _, _, phrase in phrases]
    return notes, labelled + phrases


def _contact_name(text: str) -> str | None:
    match = _CONTACT_LABEL.search(text)
    if match and not _NOT_NAMES.search(match.group(1)):
        return match.group(1)
    match = _CONTACT_TITLED.search(text)
    if match:
        return match.group(0)
    for match in _CONTACT_BEFORE_PHONE.finditer(text):
        name = match.group(1)
        if not _NOT_NAMES.search(name) and not find_places(name):
            return name
    return None


def _wechat(text: str, phones: list[str]) -> str | None:
    match = _WECHAT.search(text)
    if match:
        return match.group(1)
    if _WECHAT_SAME.search(text):
        mobile = next((p for p in phones if re.match(r"\+861[3-9]\d{9}$", p)), None)
        return mobile[3:] if mobile else None
    return None


def _deal_type(text: str, price_unit: str | None) -> str | None:
    rent = bool(_RENT_WORDS.search(text))
    sale = bool(_SALE_WORDS.search(text))
    if _BOTH_WORDS.search(text) or (rent and sale):
        return "rent_or_sale"
    if rent:
        return "rent"
    if sale:
        return "sale"
    # No deal word: a price unit that only a rent (or only a sale) has.
    if price_unit in ("元/㎡/天", "元/㎡/月", "元/㎡/年", "万元/年", "万元/月"):
        return "rent"
    if price_unit in ("元/㎡", "万元", "万元/亩"):
        return "sale"
    return None


def _location(text: str, transport: list[tuple[int, int, str]]) -> tuple[str | None, str | None, str | None]:
    def outside_transport(place: Place) -> bool:
        return all(place.end <= a or place.start >= b for a, b, _ in transport)

    places = [p for p in find_places(text) if outside_transport(p)]
    strong = [p for p in places if not p.weak] or places
    city = strong[0].city if strong else None
    if strong and strong[0].district is None:
        # "上海嘉定", "苏州昆山": the first later place of this prefecture says which unit;
        # a county-level unit below it (嘉定, 昆山) is the city, an urban district (吴中) is not.
        below = next((p for p in strong[1:] if p.parent == city or (p.city == city and p.district)), None)
        if below is not None and below.parent == city:
            city = below.city
    district = next((p.district for p in strong if p.city == city and p.district), None)

    explicit = re.search(
        r"(?:位于|地处|坐落于|坐落在|地址|地点|位置|所在地)[\s:：】\]]*([^,，。;；!！\n]{2,40}?)(?=[,，。;；!！\n]|\s{1,}\S*(?:厂房|仓库|平|米|电话)|$)",
        text,
    )
    if explicit:
        location_text = explicit.group(1).strip()
    elif places:
        # the fullest run of adjacent place names ("吴江汾湖高新区" over a title's "汾湖")
        runs: list[list[Place]] = []
        for place in places:
            if runs and runs[-1][-1].end == place.start:
                runs[-1].append(place)
            else:
                runs.append([place])
        best = max(runs, key=lambda run: (len(run), run[-1].end - run[0].start))
        location_text = text[best[0].start : best[-1].end]
    else:
        location_text = None
    return city, district, location_text


# ---------------------------------------------------------------------------
# detection


def _signals(text: str) -> dict[str, Any]:
    """What an ad is recognised by, computed once for is_ad and extract_ad."""
    area_min, area_max = _areas(text)
    price_value, price_unit = _price(text)
    phones = extract_phones(text)
    return {
        "property_type": _property_type(text),
        "park_name": _park_name(text),
        "area": (area_min, area_max),
        "land_area_mu": _land_mu(text),
        "price": (price_value, price_unit),
        "availability": _first_phrase(_AVAILABILITY, text),
        "phones": phones,
        "deal": bool(_RENT_WORDS.search(text) or _SALE_WORDS.search(text) or _BOTH_WORDS.search(text)),
        "news_markers": set(_NEWS_MARKERS.findall(text)),
        "hard_news": bool(_HARD_NEWS.search(text)),
        "specs": bool(_floor_height(text) or _floor_load(text) or _power(text)),
    }


def _decide(sig: dict[str, Any], text: str) -> bool:
    has_object = bool(sig["property_type"] or sig["park_name"])
    has_offer = bool(
        sig["area"][0] is not None or sig["land_area_mu"] is not None or sig["price"][0] is not None
        or sig["availability"] or sig["specs"]
    )
    has_contact = bool(sig["phones"]) or bool(_CONTACT_LABEL.search(text) or _CONTACT_TITLED.search(text))
    if not (has_object and has_offer and (sig["deal"] or has_contact)):
        return False
    # Without a contact an ad still names a price or when it can be used; a
    # news paragraph with a floor area and 出租 does not.
    if not has_contact and sig["price"][0] is None and not sig["availability"]:
        return False
    if sig["hard_news"]:
        return False
    # News paragraphs use ad words too ("标准厂房出租率", "新建厂房5万平方米"); an ad
    # tolerates one stray news word, or two when it gives a contact.
    return len(sig["news_markers"]) < (3 if has_contact and sig["deal"] else 2)


def is_ad(text: str, title: str | None = None) -> bool:
    """Whether the text (with its title, if any) is a rental/sale ad."""
    if not text or not isinstance(text, str):
        return False
    full = _analysis_text(f"{title}\n{text}" if title else text)
    return _decide(_signals(full), full)


# A label alone on its line, its value on the next: what a listing laid out as a table gives
# ("类型" / "高台仓库" from <td>类型</td><td>高台仓库</td>).
_BARE_LABEL = re.compile(
    r"^(?:物业类型|房源类型|类型|位置|地址|所在位置|面积|建筑面积|占地面积|土地面积|租金|价格|售价|租售价格|层高|檐高|承重|"
    r"配电|特色|优势|亮点|配套|交通|周边交通|联系|联系人|联系方式|电话)$"
)


def _join_label_rows(text: str) -> str:
    lines = text.split("\n")
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        if _BARE_LABEL.match(line) and i + 1 < len(lines) and lines[i + 1].strip() and not _BARE_LABEL.match(
                lines[i + 1].strip()):
            out.append(f"{line}:{lines[i + 1].strip()}")
            i += 2
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


def extract_ad(text: str, title: str | None = None) -> dict[str, Any] | None:
    """The RentalAd content fields (docs/DATA_MODEL.md) of an ad text, or None if it is not an ad.

    `title`, when given, is analysed together with the text (listing titles
    carry the property type, area and place) and returned as ``title``;
    ``raw_text`` is `text` as given.
    """
    if not text or not isinstance(text, str):
        return None
    full = _join_label_rows(_analysis_text(f"{title}\n{text}" if title else text))
    sig = _signals(full)
    if not _decide(sig, full):
        return None
    transport, transport_spans = _transport(full)
    city, district, location_text = _location(full, transport_spans)
    price_value, price_unit = sig["price"]
    return {
        "title": title,
        "deal_type": _deal_type(full, price_unit),
        "property_type": sig["property_type"],
        "park_name": sig["park_name"],
        "city": city,
        "district": district,
        "location_text": location_text,
        "area_sqm_min": sig["area"][0],
        "area_sqm_max": sig["area"][1],
        "land_area_mu": sig["land_area_mu"],
        "price_value": price_value,
        "price_unit": price_unit,
        "floor_height_m": _floor_height(full),
        "floor_load_t_per_sqm": _floor_load(full),
        "power_kva": _power(full),
        "availability": sig["availability"],
        "features": _features(full),
        "transport": transport,
        "contact_name": _contact_name(full),
        "contact_phones": sig["phones"],
        "wechat": _wechat(full, sig["phones"]),
        "raw_text": text,
    }


# ---------------------------------------------------------------------------
# inline blocks

_MAX_BLOCK_LINES = 6
_MAX_AD_LINE = 120


def _line_is_adlike(line: str) -> bool:
    """A line that can belong to an ad block: short, has an ad signal, not narration."""
    if not line or len(line) > _MAX_AD_LINE:
        return False
    if _HARD_NEWS.search(line) or len(set(_NEWS_MARKERS.findall(line))) >= 2 or re.search(r"了|。.*。", line):
        return False
    return bool(
        _PROPERTY.search(line) or _park_name(line) or _AVAILABILITY.search(line) or _RENT_WORDS.search(line)
        or _SALE_WORDS.search(line) or _BOTH_WORDS.search(line) or _AREA_SINGLE.search(line)
        or _LAND_MU.search(line) or _TRANSPORT.search(line) or re.search(r"位于|地处|坐落", line)
        or extract_phones(line)
    )


_SEVEN_DIGITS = re.compile(r"(?:[0-9０-９]\D{0,3}){7}")


class _LazyLines:
    """``_analysis_text`` of each line, computed on first use."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.done: dict[int, str] = {}

    def __getitem__(self, index: int) -> str:
        if index not in self.done:
            self.done[index] = _analysis_text(self.lines[index])
        return self.done[index]


def find_inline_ads(text: str) -> list[str]:
    """Raw text of each ad block inside a post body (lines joined by "\\n"), in order.

    A block ends with a line carrying a phone number (the ad's contact line)
    and reaches up over the ad-like lines before it, at most six, stopping at
    an earlier contact line. Blank lines inside a block are dropped.
    """
    if not text or not isinstance(text, str):
        return []
    lines = [line.strip() for line in text.split("\n")]
    # Only contact lines (and the few lines above them) are analysed: most of a body is
    # neither, and a line without seven digits cannot hold a phone number.
    analysed = _LazyLines(lines)
    blocks: list[str] = []
    used_until = -1
    for index, raw_line in enumerate(lines):
        if not raw_line or not _SEVEN_DIGITS.search(raw_line):
            continue
        line = analysed[index]
        if not line or not extract_phones(line) or not _line_is_adlike(line):
            continue
        members = [index]
        cursor = index - 1
        while cursor > used_until and len(members) < _MAX_BLOCK_LINES:
            previous = analysed[cursor]
            if previous:
                if extract_phones(previous) or not _line_is_adlike(previous):
                    break
                members.insert(0, cursor)
            cursor -= 1
        # the smallest upper part that still makes an ad wins over a longer one
        # only if the longer one is not an ad; try the full block first
        for first in range(len(members)):
            candidate = "\n".join(lines[i] for i in members[first:])
            if is_ad(candidate):
                blocks.append(candidate)
                used_until = index
                break
    return blocks
