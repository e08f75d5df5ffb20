"""Tests for indexer/metadata.py: each metadata source on small fixtures, plus the seed."""

from __future__ import annotations

import pytest

from indexer import metadata as M
from indexer.models import CleanedPage, RawPage
from tests.conftest import require_shared


def _meta(paragraphs=(), title=None, meta=None, url=None, hints=None):
    page = RawPage(source="t", content="", is_html=True, url=url, hints=dict(hints or {}))
    cleaned = CleanedPage(title=title, paragraphs=list(paragraphs), meta=dict(meta or {}))
    return M.extract_metadata(page, cleaned)


def test_keys_are_exactly_the_contract():
    out = _meta()
    assert tuple(out) == M.METADATA_KEYS
    assert out["doc_type"] == "其他"
    assert all(out[k] is None for k in M.METADATA_KEYS if k != "doc_type")


# --- title -------------------------------------------------------------------------------


def test_title_order():
    assert _meta(["第一行标题"], title="页面标题", hints={"title": "提示标题"})["title"] == "提示标题"
    assert _meta(["第一行标题"], title="页面标题")["title"] == "页面标题"
    assert _meta(["关于开展巡察工作的通知", "正文。"])["title"] == "关于开展巡察工作的通知"
    assert _meta(["这是一个很长的句子，不像标题。"])["title"] is None


# --- dates -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, iso",
    [
        ("2022-05-06", "2022-05-06"),
        ("2022/5/6 18:09", "2022-05-06"),
        ("2022年5月6日", "2022-05-06"),
        ("２０２２年５月６日", "2022-05-06"),
        ("二〇二二年五月六日", "2022-05-06"),
        ("二○二二年五月六日", "2022-05-06"),
        ("二零二二年十二月三十一日", "2022-12-31"),
        ("一九九六年十一月五日", "1996-11-05"),
        ("二〇二一年二月二十八日", "2021-02-28"),
        ("2022-13-06", None),
        ("2022-02-30", None),
        ("1900-01-01", None),
        ("2999-01-01", None),
        ("二〇二一年二月三十日", None),
        ("no date", None),
        (None, None),
    ],
)
def test_parse_date(text, iso):
    assert M.parse_date(text) == iso


def test_date_source_order():
    body = ["正文。", "中共某某县委", "2020年1月2日"]
    url = "http://x.gov.cn/202203/t20220304_1.html"
    full = dict(
        info_发布日期="2022-05-06", pubdate="2022-05-07 10:00", byline_date="2022-05-08",
        info_成文日期="2022-05-01",
    )
    assert _meta(body, meta=full, url=url, hints={"date": "2021-01-01"})["date"] == "2021-01-01"
    assert _meta(body, meta=full, url=url)["date"] == "2022-05-06"
    del full["info_发布日期"]
    assert _meta(body, meta=full, url=url)["date"] == "2022-05-07"
    del full["pubdate"]
    assert _meta(body, meta=full, url=url)["date"] == "2022-05-08"
    del full["byline_date"]
    assert _meta(body, meta=full, url=url)["date"] == "2022-03-04"
    assert _meta(body, meta=full)["date"] == "2022-05-01"
    assert _meta(body)["date"] == "2020-01-02"


def test_invalid_meta_date_falls_through():
    assert _meta(["x"], meta={"pubdate": " ", "byline_date": "2022-02-31"},
                 url="http://a.cn/t20220506_1.html")["date"] == "2022-05-06"


def test_signature_date_chinese_numerals():
    out = _meta(["正文内容。", "中共西安市莲湖区委", "二○二二年五月六日"])
    assert out["date"] == "2022-05-06"
    assert out["issuer"] == "中共西安市莲湖区委"


@pytest.mark.parametrize(
    "url, iso",
    [
        ("https://www.ccdi.gov.cn/toutiaon/202209/t20220905_215850.html", "2022-09-05"),
        ("https://news.gmw.cn/2024-05/20/content_37330990.htm", "2024-05-20"),
        ("http://jw.km.gov.cn/c/2023-01-29/4656419.shtml", "2023-01-29"),
        ("http://finance.people.com.cn/n1/2024/0510/c1004-40232587.html", "2024-05-10"),
        ("http://fgw.zj.gov.cn/art/2016/11/22/art_1621004_30332664.html", "2016-11-22"),
        ("https://yndaily.yunnan.cn/content/202512/27/content_294178.html", "2025-12-27"),
        ("http://www.news.cn/politics/leaders/20240509/3dd6e33cc6d/c.html", "2024-05-09"),
        ("http://x.gov.cn/xxgk/202205/list.html", None),  # a month only: no invented day
        ("http://x.gov.cn/t20221345_1.html", None),
        (None, None),
    ],
)
def test_date_from_url(url, iso):
    assert M.date_from_url(url) == iso


def test_timestamp_in_head_is_last_resort():
    out = _meta(["安徽：派出8个巡视组", "http://www.x.com 2018-03-18 14:06:59", "正文。"])
    assert out["date"] == "2018-03-18"


# --- issuer ------------------------------------------------------------------------------


def test_issuer_from_signature_beats_info_table_only_when_no_table():
    body = ["正文。", "中共某某市纪委监委", "2022年5月6日"]
    assert _meta(body)["issuer"] == "中共某某市纪委监委"
    assert _meta(body, meta={"info_发文机关": "某某市人民政府办公室"})["issuer"] == "某某市人民政府办公室"


def test_joint_issuers_and_wrapped_names():
    assert _meta(["正文。", "国务院　中央军委", "一九九六年十一月五日"])["issuer"] == "国务院 中央军委"
    assert _meta(["正文。", "中共岳阳市委办公室", "岳阳市人民政府办公室", "2017年1月12日"])["issuer"] == (
        "中共岳阳市委办公室 岳阳市人民政府办公室"
    )
    assert _meta(["正文。", "中共乐至县委巡察工作", "领导小组办公室", "2022年1月1日"])["issuer"] == (
        "中共乐至县委巡察工作领导小组办公室"
    )


def test_issuer_signature_on_one_line():
    out = _meta(["正文。", "中共西安市莲湖区委 2022年5月6日"])
    assert out["issuer"] == "中共西安市莲湖区委" and out["date"] == "2022-05-06"


def test_issuer_from_title_and_source():
    assert _meta(["正文。"], title="中共某某县委关于巡察整改情况的通报")["issuer"] == "中共某某县委"
    assert _meta(["正文。"], meta={"source": "来源：人民网"})["issuer"] == "人民网"
    # a signature beats a news site named as source
    assert _meta(["正文。", "中共某某县委", "2022年1月2日"], meta={"source": "人民网"})["issuer"] == "中共某某县委"
    # a forwarding organ beats the forwarded document's signature
    out = _meta(["正文。", "国家地震局", "1996年1月25日"], title="国务院办公厅转发国家地震局关于某事的通知")
    assert out["issuer"] == "国务院办公厅"


def test_source_noise_is_dropped():
    assert _meta(["x"], meta={"source": "本网"})["issuer"] is None
    assert _meta(["x"], meta={"source": "向阳区委巡察办发布时间:2020-12-10"})["issuer"] == "向阳区委巡察办"


def test_sentence_is_not_an_issuer():
    out = _meta(["正文。", "请各单位认真贯彻执行，确保取得实效。", "2022年5月6日"])
    assert out["issuer"] is None and out["date"] == "2022-05-06"


# --- region ------------------------------------------------------------------------------


def test_region_from_issuer():
    out = _meta(["正文。", "中共西安市莲湖区委", "2022年5月6日"])
    assert (out["province"], out["city"], out["district"], out["region_code"]) == (
        "陕西省", "西安市", "莲湖区", "610104")


def test_national_issuer_has_no_region():
    out = _meta(["青海省纪委监委通报。"], title="青海快查快处违规吃喝问题", meta={"source": "中央纪委国家监委网站"})
    assert out["issuer"] == "中央纪委国家监委网站"
    assert out["region_code"] is None and out["province"] is None


def test_region_from_site_id_code_standard_form_only():
    out = _meta(["无地名正文。"], meta={"site_id_code": "6101040001"})
    assert out["region_code"] == "610104" and out["district"] == "莲湖区"
    # the CCDI's central-organ code is not a region code (see metadata._site_region)
    assert _meta(["无地名正文。"], meta={"site_id_code": "CA330000000604648580001"})["region_code"] is None
    assert _meta(["无地名正文。"], meta={"site_id_code": "bm01000001"})["region_code"] is None


def test_region_from_title_then_opening():
    assert _meta(["正文。"], title="镇巴县人民政府工作规则")["region_code"] == "610728"
    out = _meta(["根据省委统一部署，省委第二巡视组对西安市莲湖区开展了常规巡视。"])
    assert out["region_code"] == "610104"


def test_municipality_region_fields():
    out = _meta(["正文。", "北京市海淀区人民政府", "2022年5月6日"])
    assert (out["province"], out["city"], out["district"]) == ("北京市", "北京市", "海淀区")


# --- doc type and number -----------------------------------------------------------------


@pytest.mark.parametrize(
    "title, label",
    [
        ("中共西安市莲湖区委关于巡视整改进展情况的通报", "巡视整改进展情况"),
        ("关于省委巡视整改情况的通报", "巡视整改进展情况"),
        ("中共某县委关于十四届县委第三轮巡察整改情况的通报", "巡察整改进展情况"),
        ("省委第二巡视组向某市反馈巡视情况", "巡视反馈意见"),
        ("五届区委第二轮巡察反馈完成", "巡察反馈意见"),
        ("区委第五巡察组向某街道党工委反馈巡察意见", "巡察反馈意见"),
        ("巡 察 公 告——十三届市委第一轮巡察", "巡察公告"),
        ("巡视公告", "巡视公告"),
        # an instruction about inspection work is what its title ends with
        ("关于进一步做好巡视反馈问题整改落实工作的通知", "通知"),
        ("关于做好2025年度巡视整改日常监督工作的通知", "通知"),
        ("关于加快推进5G基站建设的实施意见", "实施意见"),
        ("国务院办公厅关于调整国家教材委员会组成人员的通知", "通知"),
        ("关于印发《某某管理办法》的通知", "通知"),
        ("某某管理办法（试行）", "办法"),
        ("国务院关于同意某事的批复", "批复"),
        ("某市2016年政府信息公开工作年度报告", "年度报告"),
        ("关于加强某项工作的意见", "意见"),
        ("延津县人民政府征收土地预公告", "公告"),
        ("关于禁止燃放烟花爆竹的通告", "通告"),
        ("某某实施方案", "方案"),
        ("全国人民代表大会常务委员会关于批准某事的决议", "决议"),
        ("国务院关于修改部分行政法规的决定", "决定"),
        ("关于某事项的函", "函"),
        ("德清县固定资产投资结构趋稳趋优", "其他"),
        ("通知群众积极参与的活动取得成效", "其他"),
        (None, "其他"),
    ],
)
def test_doc_type(title, label):
    assert M.doc_type_of(title) == label
    assert label in M.DOC_TYPES


@pytest.mark.parametrize(
    "text, number",
    [
        ("陕发〔2021〕3号", "陕发〔2021〕3号"),
        ("西政办发[2020]12号", "西政办发〔2020〕12号"),
        ("国办发（2019）5号", "国办发〔2019〕5号"),
        ("国办发(2019)5号", "国办发〔2019〕5号"),
        ("岳办发【2017】2号", "岳办发〔2017〕2号"),
        ("国函［2018］145号", "国函〔2018〕145号"),
        ("昌政征启公告〔2024〕05号", "昌政征启公告〔2024〕5号"),
        ("没有文号", None),
    ],
)
def test_parse_doc_number(text, number):
    assert M.parse_doc_number(text) == number


def test_doc_number_sources():
    assert _meta(["x"], meta={"info_文号": "陕发[2021]3号"})["doc_number"] == "陕发〔2021〕3号"
    assert _meta(["x"], title="关于某事的通知（岳办发〔2017〕2号）")["doc_number"] == "岳办发〔2017〕2号"
    assert _meta(["标题", "国办发〔1996〕32号", "各省人民政府："])["doc_number"] == "国办发〔1996〕32号"
    # split over short lines
    assert _meta(["标题", "国函〔", "2006", "〕38号", "民航总局："])["doc_number"] == "国函〔2006〕38号"
    # a number quoted in a sentence is someone else's document
    quoted = ["标题", "你们关于支持某区建设的请示（国科发高〔2018〕235号）收悉。现批复如下：很长的句子继续。"]
    assert _meta(quoted)["doc_number"] is None


def test_decree_number_and_issuer():
    out = _meta(["中华人民共和国国务院令", "第707号", "现公布修订后的条例。", "总理　　李克强", "2018年12月18日"])
    assert out["doc_number"] == "国令第707号"
    assert out["issuer"] == "国务院"


def test_bad_input_does_not_raise():
    page = RawPage(source="t", content="", is_html=False)
    out = M.extract_metadata(page, CleanedPage(title=None, paragraphs=["", "   ", "\x00"], meta={"pubdate": None}))
    assert tuple(out) == M.METADATA_KEYS


# --- the seed ----------------------------------------------------------------------------


def test_seed_document():
    seed = require_shared("seeds", "000_adc2271a027bd8df.txt")
    lines = [ln.strip() for ln in seed.read_text(encoding="utf-8").splitlines() if ln.strip()]
    end = lines.index("中共西安市莲湖区委") + 2  # the body ends with the signature date
    page = RawPage(source=str(seed), content="\n".join(lines), is_html=False)
    out = M.extract_metadata(page, CleanedPage(title=None, paragraphs=lines[:end]))
    assert out["date"] == "2022-05-06"
    assert out["issuer"] == "中共西安市莲湖区委"
    assert (out["province"], out["city"], out["district"]) == ("陕西省", "西安市", "莲湖区")
    assert out["region_code"] == "610104"
    # the seed has no title line; the type is read from the body when the title says nothing
    assert out["doc_type"] == "巡视整改进展情况"


def test_dateline_agency_and_relative_source():
    out = _meta(["新华社乌鲁木齐5月9日电（记者某某）正文。"], meta={"source": "新华网"})
    assert out["issuer"] == "新华社" and out["region_code"] is None
    out = _meta(["正文。"], title="1-10月德清县固定资产投资结构趋稳趋优",
                meta={"source": "省发改委", "site_name": "浙江省发展和改革委员会"})
    assert out["issuer"] == "浙江省发展和改革委员会"
    assert (out["province"], out["city"]) == ("浙江省", None)


def test_adoption_note_dates_a_resolution_without_byline():
    body = ["某某决议", "（2007年6月29日第十届全国人民代表大会常务委员会第二十八次会议通过）", "正文。"]
    assert _meta(body, meta={"pubdate": "2007-08-20"})["date"] == "2007-06-29"
    # a visible byline date is the page's own publication date and stays first
    assert _meta(body, meta={"pubdate": "2007-08-20", "byline_date": "2007-08-21"})["date"] == "2007-08-20"
    # a parenthesised date inside ordinary text is no adoption note
    assert _meta(["（2007年6月29日，天气晴）", "正文。"], meta={"pubdate": "2007-08-20"})["date"] == "2007-08-20"


def test_traditional_values_keep_the_page_script():
    raw = "<p>中共福州市鼓樓區委關於巡視整改進展情況的通報</p><p>中共福州市鼓樓區委</p><p>2019年11月20日</p>"
    page = RawPage(source="t.html", content=raw, is_html=True)
    cleaned = CleanedPage(title="中共福州市鼓楼区委关于巡视整改进展情况的通报",
                          paragraphs=["正文。", "中共福州市鼓楼区委", "2019年11月20日"])
    out = M.extract_metadata(page, cleaned)
    assert out["title"] == "中共福州市鼓樓區委關於巡視整改進展情況的通報"
    assert out["issuer"] == "中共福州市鼓樓區委"
    assert (out["district"], out["region_code"]) == ("鼓楼区", "350102")
    assert M.original_script("某县委", "无关文字") == "某县委"


# --- sources, outlets and pages without an address ----------------------------------------


def test_date_from_self_link_and_mobile_copy():
    assert _meta(["正文。"], meta={"self_link": "http://m.cn/a/202402/t20240204_1.html"})["date"] == "2024-02-04"
    assert _meta(["正文。"], meta={"alternate_url": "http://m.cn/s/2019-09-26/1.html"})["date"] == "2019-09-26"
    # a byline date shown on the page wins over either
    out = _meta(["正文。"], meta={"byline_date": "2024-02-05", "self_link": "http://m.cn/t20240204_1.html"})
    assert out["date"] == "2024-02-05"


@pytest.mark.parametrize(
    "source, issuer",
    [
        ("中国新闻网 王帆", "中国新闻网"),  # source + the author's name
        ("央视新闻客户端 中国青年网", "央视新闻客户端"),  # source + the hosting site's name
        ("人民网-人民日报", "人民日报"),  # the paper the site copied from
        ("人民网-文化频道", "人民网"),  # a channel of the site
        ("区委办 区政府办", "区委办 区政府办"),  # two organs stay two organs
    ],
)
def test_one_source_out_of_a_run_together_value(source, issuer):
    assert _meta(["正文。"], meta={"source": source})["issuer"] == issuer


def test_joint_issuers_in_info_table_stay_joint():
    assert _meta(["正文。"], meta={"info_发文机关": "国务院 中央军委"})["issuer"] == "国务院 中央军委"


def test_outlet_issuer_takes_no_region_from_the_story():
    out = _meta(["珠海市政府发布通知，准备拆除有轨电车。"], title="珠海有轨电车之困",
                meta={"source": "每日经济新闻"})
    assert out["issuer"] == "每日经济新闻" and out["region_code"] is None
    # an outlet named after its place still has that place
    assert _meta(["正文。"], meta={"source": "北京青年报"})["region_code"] == "110000"
    # an organ that names no place: the title still gives one
    assert _meta(["正文。"], title="莲湖区召开巡察工作会", meta={"source": "区委办"})["region_code"] == "610104"


def test_relative_organ_takes_the_region_of_the_local_site():
    out = _meta(["顺德区大良街道一行到众创金融街调研。"], title="顺德区大良街道一行到众创金融街调研",
                meta={"source": "东区办事处", "title_site": "中山网"})
    assert out["region_code"] == "442000" and out["city"] == "中山市"
    # only a province or prefecture counts: 东方 is a word before it is 东方市
    out = _meta(["正文。"], title="关于开展巡察工作的通知", meta={"source": "东区办事处", "site_name": "东方网"})
    assert out["region_code"] is None


def test_title_and_issuer_as_printed():
    """Normalisation (NFKC) is for matching only: the stored values keep full-width forms."""
    out = _meta(["正文。"], title="陕西茶叶推介行（中亚站）｜第一站：阿拉木图")
    assert out["title"] == "陕西茶叶推介行（中亚站）｜第一站：阿拉木图"
    assert _meta(["关于开展巡察工作的通知（第二批）", "正文。"])["title"] == "关于开展巡察工作的通知（第二批）"
    assert M.original_script("某市(区)委办公室", "<p>某市（区）委办公室</p>") == "某市（区）委办公室"


# --- events are not issuers (issue 14) -----------------------------------------------------


@pytest.mark.parametrize("source, issuer", [
    ("国务院新闻办公室新闻发布会", "国务院新闻办公室"),
    ("“推动高质量发展”系列主题新闻发布会", None),
    ("全省巡视工作推进会", None),
])
def test_press_conference_is_not_the_issuer(source, issuer):
    """A 来源 naming a press conference or a meeting names an event, not an organ: its host
    when the name says who held it, else nothing (the next candidate is used)."""
    out = _meta(["5月9日，新闻发布会介绍了有关情况，欢迎各界关注。"], title="某某工作取得新进展",
                meta={"source": source})
    assert out["issuer"] == issuer


def test_event_line_above_a_date_is_no_signature():
    paragraphs = ["会上，有关负责同志介绍了今年以来巡察工作进展情况。",
                  "某某市人民政府新闻办公室新闻发布会", "2024年5月9日"]
    out = _meta(paragraphs, title="某某市巡察工作进展", meta={"source": "某某市纪委监委"})
    assert out["issuer"] == "某某市纪委监委"


# --- regions from the right place (issue 14) -----------------------------------------------

_CAPTIONED_COMMENTARY = [
    "中央纪委国家监委网站 张某某 李某 “五一”将至，各地纪检监察机关紧盯节点开展监督检查。",
    "福建省石狮市纪委监委深入辖区酒店开展监督检查。图为该市纪检监察干部走访了解有关情况。林某 摄",
    "浙江省金华市婺城区纪委监委坚守节点开展监督检查。图为该区纪委监委联合审计部门抽查。楼某 摄",
]


def test_central_commentary_gets_no_county_from_its_captions():
    """A central commentary illustrated with photos from several counties belongs to none of
    them; its byline (outlet + authors run into the text) names the issuer."""
    out = _meta(_CAPTIONED_COMMENTARY, title="深度关注丨以铁的纪律狠刹歪风邪气")
    assert out["issuer"] == "中央纪委国家监委网站"
    assert out["region_code"] is None and out["district"] is None


def test_page_on_a_central_site_gets_no_region_from_a_passing_mention():
    paragraphs = ["春节将至，江西省赣州市安远县纪委监委紧盯节点，持续纠治“四风”。",
                  "各级纪检监察机关要严守节点不放松。"]
    out = _meta(paragraphs, title="小切口发力深化作风建设",
                url="http://www.ccdi.gov.cn/toutiaon/202501/t20250101_1.html")
    assert out["region_code"] is None
    # a provincial branch of a national site is local: its page keeps its place
    out = _meta(paragraphs, title="小切口发力深化作风建设",
                url="http://www.qh.xinhuanet.com/2019-03/20/c_1.htm")
    assert out["district"] == "安远县"


def test_captions_do_not_place_a_page_without_issuer():
    paragraphs = ["近日，有关部门开展了节前监督检查。图为浙江省金华市婺城区纪委监委抽查现场。楼某 摄",
                  "检查发现的问题已督促整改。"]
    assert _meta(paragraphs, title="节前监督检查见实效")["region_code"] is None


@pytest.mark.parametrize("title, code", [
    ("新华视界｜河北遵化：山区乡村旅游热起来", "130281"),
    ("安徽:派出8个巡视组开展第4轮巡视工作", "340000"),
    ("平舆县：十三届县委第十轮巡察启动", "411723"),
])
def test_local_item_headed_by_its_place_gets_that_place(title, code):
    """A national outlet's local news item headed by its place is that place's."""
    out = _meta(["近日，当地有关部门开展了专项工作，取得明显成效。"], title=title,
                meta={"source": "新华网"})
    assert out["region_code"] == code


def test_column_prefix_is_not_a_place():
    out = _meta(["近日，有关部门开展了专项工作。"], title="广安观潮丨科学精准打好作风建设持久战",
                meta={"source": "中央纪委国家监委网站"})
    assert out["region_code"] is None


@pytest.mark.parametrize("source, site, issuer", [
    ("东区办事处", "中山网", "中山市东区办事处"),      # named without its place: the site's place
    ("市发改局", "湖州市人民政府", "市发改局"),       # relative by level: left as printed
    ("中共东区工委", "中山网", "中共东区工委"),
    ("顺德区大良街道办事处", "中山网", "顺德区大良街道办事处"),  # names its own place
])
def test_organ_named_without_its_place_is_completed_by_its_site(source, site, issuer):
    out = _meta(["有关单位一行到众创金融街调研，了解企业发展情况。"], title="一行到众创金融街开展调研工作",
                meta={"source": source, "title_site": site})
    assert out["issuer"] == issuer


@pytest.mark.parametrize("issuer, code", [
    ("中国广州发布", "440100"),
    ("上海发布", "310000"),
    ("南沙发布", None),  # a bare district name is shared (广州 南沙区, 三沙 南沙区): no guess
])
def test_government_account_takes_the_place_it_is_named_after(issuer, code):
    out = _meta(["近日，有关部门发布了邮轮母港开港的消息，欢迎市民关注。"], title="邮轮母港即将开通",
                meta={"source": issuer})
    assert out["issuer"] == issuer and out["region_code"] == code
