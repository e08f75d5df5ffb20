"""indexer/clean.py: containers, each drop/keep rule, meta capture, robustness, real pages."""

from __future__ import annotations

import json

import pytest

from indexer.clean import clean_html, clean_page, clean_text, strip_site_suffix
from indexer.models import RawPage

from tests.conftest import require_shared

P1 = "根据省委统一部署，省委第二巡视组对本区开展了常规巡视，现将整改进展情况予以公布。"
P2 = "区委成立巡视整改工作领导小组，制定整改方案和整改清单，细化分解具体问题四十项。"
P3 = "欢迎广大干部群众对巡视整改落实情况进行监督，如有意见建议，请及时向我们反映。"


def page(body: str, head: str = "<title>巡视整改进展情况的通报_某某区人民政府</title>") -> str:
    return f"<html><head>{head}</head><body>{body}</body></html>"


NAV = ('<div class="nav"><a href="/">首页</a><a href="/a">政务公开</a><a href="/b">新闻中心</a>'
       '<a href="/c">互动交流</a></div><div class="crumb">当前位置：<a href="/">首页</a> &gt; '
       '<a href="/x">通知公告</a></div>')
FOOTER = ('<div class="footer"><p>主办单位：某某区人民政府办公室 版权所有</p>'
          '<p>网站标识码：6101040001 陕ICP备12345678号</p><p><a href="/l">联系我们</a></p></div>')


@pytest.mark.parametrize("container", [
    '<div class="TRS_Editor">{}</div>', '<div id="UCAP-CONTENT">{}</div>',
    '<div id="zoom">{}</div>', '<div class="article-content">{}</div>',
    '<div class="pages_content">{}</div>', '<div class="con_text">{}</div>',
    '<div id="fontzoom">{}</div>', '<div class="view">{}</div>', '<div>{}</div>',
])
def test_container_types(container: str):
    inner = f"<p>{P1}</p><p>{P2}</p><p>{P3}</p>"
    html = page(NAV + '<h1>巡视整改进展情况的通报</h1>' + container.format(inner) + FOOTER)
    c = clean_html(html)
    assert c.title == "巡视整改进展情况的通报"
    assert c.paragraphs == ["巡视整改进展情况的通报", P1, P2, P3]


def test_known_container_beats_a_wordier_sidebar():
    side = "".join(f"<p>相关评论文章第{i}篇，内容丰富，观点鲜明，值得一读。</p>" for i in range(3))
    html = page(f'<div class="side">{side}</div><div class="TRS_Editor"><p>{P1}</p></div>')
    assert P1 in clean_html(html).body
    assert "相关评论" not in clean_html(html).body


def test_br_splits_lines_and_text_directly_in_container():
    html = page(f'<div id="zoom">　　{P1}<br>{P2}<br/><br>　{P3}&nbsp;</div>')
    assert clean_html(html).paragraphs[-3:] == [P1, P2, P3]


def test_table_rows_become_lines():
    table = ("<table><tr><td>序号</td><td>问题</td><td>整改情况</td></tr>"
             "<tr><td>1</td><td>选人用人不规范</td><td>已完成</td></tr></table>")
    c = clean_html(page(f'<div class="TRS_Editor"><p>{P1}</p>{table}<p>{P2}</p></div>'))
    assert "序号 问题 整改情况" in c.paragraphs
    assert "1 选人用人不规范 已完成" in c.paragraphs


def test_bylines_dropped_but_read_into_meta():
    byline = ('<div class="info">来源：莲湖区纪委监委　发布时间：2022-05-06 10:30　'
              '浏览次数：<span>123</span>　【字体：<a>大</a> <a>中</a> <a>小</a>】</div>')
    html = page(f'<h1>巡视整改进展情况的通报</h1>{byline}<div class="TRS_Editor"><p>{P1}</p>'
                f'<p>{P2}</p></div>')
    c = clean_html(html)
    assert c.meta["source"] == "莲湖区纪委监委"
    assert c.meta["byline_date"] == "2022-05-06 10:30"
    assert "来源" not in c.body and "浏览次数" not in c.body and "字体" not in c.body


@pytest.mark.parametrize("junk", [
    "分享到：微信 微博 QQ空间",
    "【打印本页】 【关闭窗口】",
    "责任编辑：张三",
    "（编辑：李四）",
    "上一篇：关于做好防汛工作的通知",
    "下一篇：关于开展安全检查的通知",
    "网站标识码：6101040001 陕ICP备12345678号",
    "版权所有：某某区人民政府",
    "当前位置：首页 > 通知公告",
])
def test_boilerplate_lines_dropped(junk: str):
    html = page(f'<div class="TRS_Editor"><p>{P1}</p><p>{junk}</p><p>{P2}</p></div>')
    c = clean_html(html)
    assert junk not in c.body
    assert P1 in c.body and P2 in c.body


def test_related_links_and_trailing_link_lists_dropped():
    links = "".join(f'<li><a href="/n{i}">关于第{i}批巡察反馈情况的通报</a></li>' for i in range(5))
    html = page(f'<div class="content"><p>{P1}</p><p>{P2}</p><p>中共某某区委</p>'
                f'<p>2022年5月6日</p><div class="xg"><h3>相关新闻</h3><ul>{links}</ul></div></div>')
    c = clean_html(html)
    assert c.paragraphs[-2:] == ["中共某某区委", "2022年5月6日"]
    assert "第3批" not in c.body


def test_hidden_blocks_dropped():
    hidden = ('<div style="display: none">隐藏的文字不应出现</div><script>var a="脚本文字";</script>'
              '<style>.x{}</style><noscript>请启用脚本</noscript><template><p>模板文字</p></template>'
              '<span aria-hidden="true">图标文字</span>')
    c = clean_html(page(f'<div class="TRS_Editor"><p>{P1}</p>{hidden}<p>{P2}</p></div>'))
    for word in ("隐藏", "脚本", "模板", "图标"):
        assert word not in c.body
    assert c.paragraphs[-2:] == [P1, P2]


def test_author_line_above_text_dropped():
    html = page(f'<h1>巡视整改进展情况的通报</h1><div class="content"><p>本报记者 张三</p>'
                f'<p>{P1}</p><p>{P2}</p></div>')
    assert clean_html(html).paragraphs == ["巡视整改进展情况的通报", P1, P2]


def test_meta_tags_and_info_table():
    head = ('<title>关于开展巡察工作的公告-某某县人民政府</title>'
            '<meta name="PubDate" content="2023-04-01 09:00">'
            '<meta name="ContentSource" content="县委巡察办">'
            '<meta name="SiteIDCode" content="5101230001">'
            '<link rel="canonical" href="http://www.x.gov.cn/art/2023/4/1/art_1_2.html">')
    info = ('<table class="xxgk"><tr><td>索引号：</td><td>001-2023-0042</td>'
            '<td>发文机关：</td><td>某某县人民政府办公室</td></tr>'
            '<tr><td>成文日期：</td><td>2023年03月30日</td><td>文号：</td><td>某府办发〔2023〕5号</td>'
            '</tr></table>')
    c = clean_html(page(info + f'<div class="TRS_Editor"><p>{P1}</p><p>{P2}</p></div>', head))
    assert c.meta["pubdate"] == "2023-04-01 09:00"
    assert c.meta["source"] == "县委巡察办"
    assert c.meta["site_id_code"] == "5101230001"
    assert c.meta["canonical"] == "http://www.x.gov.cn/art/2023/4/1/art_1_2.html"
    assert c.meta["info_索引号"] == "001-2023-0042"
    assert c.meta["info_发文机关"] == "某某县人民政府办公室"
    assert c.meta["info_成文日期"] == "2023年03月30日"
    assert c.meta["info_文号"] == "某府办发〔2023〕5号"
    assert c.title == "关于开展巡察工作的公告"
    assert c.paragraphs[0] == "关于开展巡察工作的公告"


@pytest.mark.parametrize("raw, expected", [
    ("中央纪委国家监委公开通报典型问题————头条——中央纪委国家监委网站", "中央纪委国家监委公开通报典型问题"),
    ("1-10月德清县固定资产投资结构趋稳趋优", "1-10月德清县固定资产投资结构趋稳趋优"),
    ("关于巡察的公告_通知公告_某某市人民政府", "关于巡察的公告"),
    ("关于巡察的公告 | 某某网", "关于巡察的公告"),
])
def test_strip_site_suffix(raw: str, expected: str):
    assert strip_site_suffix(raw) == expected


def test_escaped_markup_in_title_is_removed():
    html = page('<h2 class="tit">&lt;p&gt;&lt;span style="x"&gt;巡视整改进展情况的通报&lt;/span&gt;&lt;/p&gt;'
                f'</h2><div class="content"><p>{P1}</p></div>', "<title>x</title>")
    assert clean_html(html).title == "巡视整改进展情况的通报"


def test_two_html_roots_and_text_outside_body():
    html = ("<html><head><title>决议</title></head><body><div>站点导航</div></body></html>"
            f'<div class="pages_content" id="UCAP-CONTENT"><p>{P1}</p><p>{P2}</p></div>'
            "</body></html>")
    c = clean_html(html)
    assert P1 in c.body and P2 in c.body


def test_deep_nesting_does_not_raise():
    depth = 10_000
    html = "<html><body>" + "<div>" * depth + f"<p>{P1}</p>" + "</div>" * depth + "</body></html>"
    c = clean_html(html)
    assert P1 in c.body


def test_empty_and_junk_html():
    assert clean_html("").paragraphs == []
    assert clean_html("<html></html>").paragraphs == []
    c = clean_html("<<<>>> &&& <p")
    assert isinstance(c.paragraphs, list)


def test_huge_page_is_bounded():
    html = page(f'<div class="TRS_Editor"><p>{P1}</p></div>' + "<p>填充文字。</p>" * 200_000)
    c = clean_html(html)
    assert P1 in c.body


def test_whitespace_normalised_characters_kept():
    html = page(f'<div id="zoom"><p>　　第一条\u3000\u3000为了　规范&nbsp;&nbsp;管理，ＡＢＣ１２３。</p></div>')
    assert clean_html(html).paragraphs[-1] == "第一条 为了 规范 管理，ＡＢＣ１２３。"


# --------------------------------------------------------------------------- plain text


def test_clean_text_rules():
    text = ("关于巡视整改进展情况的通报\n\n　　" + P1 + "\n来源：区纪委监委 发布时间：2022-05-06\n"
            + P2 + "\n分享到：微信\n上一篇：某某通知\n中共某某区委\n2022年5月6日\n")
    c = clean_text(text)
    assert c.title == "关于巡视整改进展情况的通报"
    assert c.paragraphs == ["关于巡视整改进展情况的通报", P1, P2, "中共某某区委", "2022年5月6日"]
    assert c.meta["source"] == "区纪委监委"


def test_clean_text_no_heading():
    assert clean_text(P1 + "\n" + P2).title is None


def test_seed_tail_removed_signature_kept():
    path = require_shared("seeds", "000_adc2271a027bd8df.txt")
    c = clean_page(RawPage(source=str(path), content=path.read_text(encoding="utf-8"),
                           is_html=False))
    assert c.paragraphs[-2:] == ["中共西安市莲湖区委", "2022年5月6日"]
    for headline in ("勐腊", "丽江", "洛阳市", "小金库", "门头沟", "济南"):
        assert headline not in c.body
    assert "|" not in c.body
    assert c.title is None  # the seed starts with a sentence, not a heading


def test_hints_title_wins():
    c = clean_page(RawPage(source="x#line=1", content=P1, is_html=False,
                           hints={"title": "给定标题"}))
    assert c.title == "给定标题"


# --------------------------------------------------------------------------- real pages


def test_real_pages_have_body_and_no_junk():
    folder = require_shared("corpus", "html")
    junk = ("ICP备", "版权所有", "分享到", "上一篇", "下一篇", "责任编辑", "当前位置", "网站标识码")
    for path in sorted(folder.glob("*.html")):
        from indexer.sources import read_file
        (raw,) = read_file(path)
        c = clean_page(raw)
        assert len(c.body) >= 100, path.name
        assert c.title, path.name
        for word in junk:
            assert word not in c.body, (path.name, word)


def test_gold_pages_titles_match():
    folder = require_shared("corpus", "gold")
    from indexer.evaluate import same_text
    from indexer.sources import read_file
    for gold_path in sorted(folder.glob("*.gold.json")):
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        (raw,) = read_file(folder / gold["source_file"])
        assert same_text(clean_page(raw).title, gold["title"]), gold_path.name


# --------------------------------------------------------------------------- source and stamp


def _news(head_extra: str, header: str, body: str = f"<p>{P1}</p><p>{P2}</p><p>{P3}</p>",
          aside: str = "") -> str:
    return page(f'<div class="top"><h1>巡视整改进展情况的通报</h1>{header}</div>'
                f'<div id="content">{body}</div>{aside}',
                head="<title>巡视整改进展情况的通报_某某新闻网</title>" + head_extra)


def test_photo_credit_is_not_the_source():
    body = (f"<p>{P1}</p><div><img src='a.jpg'><span>图片来源：城市交通年度统计报告</span></div>"
            f"<p>{P2}</p><p>{P3}</p>")
    c = clean_html(_news("", "", body=body))
    assert "source" not in c.meta
    c = clean_html(_news("", '<div><a class="source" href="http://x.cn/">每日经济新闻</a></div>',
                         body=body))
    assert c.meta["source"] == "每日经济新闻"


def test_source_element_keeps_author_apart():
    header = ('<div><span id="pubtime_baidu">2023-06-15 08:10</span>'
              '<span id="source_baidu">来源：中国新闻网</span><span id="author_baidu">王帆</span></div>')
    c = clean_html(_news("", header))
    assert c.meta["source"] == "中国新闻网"


def test_unlabelled_stamp_under_heading():
    header = ('<div class="tip"><span>2019-09-26 10:56:28</span> '
              '<a href="http://x.cn/1.html">证券时报网</a></div>')
    c = clean_html(_news("", header))
    assert c.meta["byline_date"].startswith("2019-09-26")
    assert c.meta["source"] == "证券时报网"
    # a date followed by a nickname: the date counts, the nickname is no source
    c = clean_html(_news("", '<p class="time"><span>2019-05-17</span> · <span>城市生活报道</span></p>'))
    assert c.meta["byline_date"] == "2019-05-17" and "source" not in c.meta


def test_event_date_in_prose_is_no_stamp():
    body = "<p>2019年2月27日下午，区委召开常委会，研究巡视整改工作。</p>" + f"<p>{P2}</p><p>{P3}</p>"
    c = clean_html(_news("", "", body=body))
    assert "byline_date" not in c.meta


def test_self_link_in_a_table_of_contents():
    toc = ('<div class="toc"><a href="http://mag.example.cn/a/202309/t20230914_1.html">另一篇文章的标题'
           '</a><a href="http://mag.example.cn/a/202309/t20230914_2.html">巡视整改进展情况的通报</a></div>')
    c = clean_html(_news("", "", aside=toc))
    assert c.meta["self_link"].endswith("t20230914_2.html")
    # two addresses carry the title: which one is this page is unknown
    twice = toc + '<a href="http://mag.example.cn/a/202310/t20231001_9.html">巡视整改进展情况的通报</a>'
    assert "self_link" not in clean_html(_news("", "", aside=twice)).meta


def test_mobile_agent_and_title_site():
    head = '<meta http-equiv="mobile-agent" content="format=html5; url=http://m.x.cn/2019-09-26/1.html">'
    c = clean_html(_news(head, ""))
    assert c.meta["alternate_url"] == "http://m.x.cn/2019-09-26/1.html"
    assert c.meta["title_site"] == "某某新闻网"
    assert "canonical" not in c.meta  # another host's copy is no id of this page


def test_signature_date_of_a_short_notice_is_no_stamp():
    html = page('<h1>停水通知</h1><div><p>因管道维修，明日停水一天，请居民提前储水。</p>'
                '<p>某某区供水公司</p><p>2022年5月6日</p></div>')
    assert "byline_date" not in clean_html(html).meta


# --------------------------------------------------------------------------- no notice lost

ONE_PARA = ("9月3日，根据县委统一部署，县委第二轮巡察完成进驻工作。3个巡察组将对6个县直部门开展常规巡察，"
            "巡察时间为40天左右。巡察期间设立值班电话和意见箱，主要受理反映被巡察单位领导班子及其成员"
            "问题的来信来电来访，其他信访问题将按规定由有关单位处理。")


def test_one_paragraph_notice_ending_in_a_table_pipe_is_kept():
    """A scraped table cell (`…处理。 |`) is a notice, not a trailing headline list."""
    c = clean_text(ONE_PARA + " |\n")
    assert c.paragraphs == [ONE_PARA]
    # with the scrape's layout residue and a pager around it
    c = clean_text("![]() |\n第3版:要闻 | 上一版2 4下一版 | ![]() |\n|\n||||||\n" + ONE_PARA
                   + " |\n2上一篇 下一篇4 |\n版权声明 @ 某某网 网站版权所有 |\n")
    assert c.paragraphs == [ONE_PARA]


def test_headline_list_tail_still_dropped_after_a_prose_cell():
    heads = "巡察故事 | 一本台账的来历 | |\n“您好，我想咨询一下社保...... |\n"
    c = clean_text(ONE_PARA + " |\n" + heads)
    assert c.paragraphs == [ONE_PARA]


def test_a_filter_never_empties_a_page_with_a_substantial_paragraph():
    """Whatever a tail trim takes for a link list, the page's prose survives."""
    html = page(f'<div class="content"><p><a href="/n1">{ONE_PARA}</a></p></div>')
    assert ONE_PARA in clean_html(html).paragraphs
    # headline-only link lists are still dropped when prose is left
    links = "".join(f'<p><a href="/n{i}">关于第{i}批巡察反馈情况的通报</a></p>' for i in range(3))
    c = clean_html(page(f'<div class="content"><p>{P1}</p><p>{P2}</p>{links}</div>'))
    assert "第1批" not in c.body


def test_whole_shared_corpus_builds_without_a_failure(tmp_path):
    """Every real input (html pages, gold pages, notices.jsonl) yields a notice."""
    from indexer.index import build

    corpus = require_shared("corpus")
    for part in ("html", "gold", "notices.jsonl"):
        require_shared("corpus", part)
    report = build([str(corpus)], tmp_path / "ix", workers=1, progress=False)
    assert not report.failed, report.failed
    assert report.added >= 200


# --------------------------------------------------------------------------- WeChat articles

# A WeChat official-account article as a browser saves it (written for these tests, modelled on
# the page layout): the text sits in #js_content with `visibility: hidden`, which a script
# flips to visible; the time is only in `var ct`.
WECHAT = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1.0">
<meta property="og:title" content="遂昌县：“清单制”推动群众身边问题整改见效">
<meta property="og:url" content="http://mp.weixin.qq.com/s?__biz=MzA5OTk5OTk5OQ==&amp;mid=2650000001&amp;idx=1&amp;sn=0a1b2c3d">
<meta property="og:site_name" content="微信公众平台">
<meta property="og:description" content="遂昌县纪委监委以问题清单推动整改落实">
<title>遂昌县：“清单制”推动群众身边问题整改见效</title>
<style>.rich_media_content{font-size:17px}</style>
<script>var nickname = "清风遂昌"; var ct = "1716969600"; var msg_title = "遂昌县：“清单制”推动群众身边问题整改见效";</script>
</head>
<body id="activity-detail" class="zh_CN mm_appmsg">
<div id="js_article" class="rich_media">
  <div id="js_top_ad_area" class="top_banner"></div>
  <div class="rich_media_inner">
    <div id="page-content" class="rich_media_area_primary">
      <div class="rich_media_area_primary_inner">
        <div id="img-content" class="rich_media_wrp">
          <h1 class="rich_media_title" id="activity-name">
            遂昌县：“清单制”推动群众身边问题整改见效
          </h1>
          <div id="meta_content" class="rich_media_meta_list">
            <span class="rich_media_meta rich_media_meta_text">遂昌县纪委监委</span>
            <span class="rich_media_meta rich_media_meta_nickname" id="profileBt">
              <a href="javascript:void(0);" class="wx_tap_link js_wx_tap_highlight weui-wa-hotarea" id="js_name">清风遂昌</a>
            </span>
            <em id="publish_time" class="rich_media_meta rich_media_meta_text"></em>
          </div>
          <div class="rich_media_content js_underline_content autoTypeSetting24psection" id="js_content" style="visibility: hidden;">
            <section style="margin-bottom: 0px;"><section><p style="text-align: center;"><img data-src="https://mmbiz.qpic.cn/example/640" class="rich_pages wxw-img"></p></section></section>
            <p style="text-indent: 2em;"><span style="font-size: 15px;">今年以来，遂昌县纪委监委聚焦群众反映强烈的急难愁盼问题，建立“问题清单、责任清单、整改清单”三张清单，推动巡察反馈问题和群众身边问题一体整改，截至目前已督促解决各类问题三百二十余个。</span></p>
            <p style="text-indent: 2em;"><span style="font-size: 15px;">“村里的路灯坏了大半年，这次巡察组来了以后，一个星期就修好了。”说起身边的变化，东河镇柳树村村民老周感慨地说。县委巡察组进驻以来，通过走访群众、设置意见箱、公布值班电话等方式，共收集群众反映的问题八十六个，逐一建立台账，明确责任单位和完成时限。</span></p>
            <section><p style="text-indent: 2em;"><span style="font-size: 15px;">为防止整改“一交了之”，县纪委监委对清单中的问题实行销号管理，整改一个、核查一个、销号一个。对整改进度滞后的单位，及时下发督办函，并约谈相关负责人。今年以来，共下发督办函十二份，约谈部门负责人九人次。</span></p></section>
            <p style="text-indent: 2em;"><span style="font-size: 15px;">在推动个案整改的同时，县纪委监委注重举一反三，针对巡察发现的农村集体“三资”管理不规范、惠民资金发放不及时等共性问题，督促相关职能部门开展专项治理，完善制度规定十五项，推动形成长效机制。</span></p>
            <p style="text-indent: 2em;"><span style="font-size: 15px;">下一步，遂昌县纪委监委将持续深化清单制管理，把整改成效交给群众评判，让群众在一件件小事实事中感受到公平正义。</span></p>
            <p style="text-align: center;"><span style="font-size: 12px;color: #888;">（图为县委巡察组在东河镇柳树村走访群众）</span></p>
            <p><span style="font-size: 14px;">来源：遂昌县纪委监委</span></p>
            <p><span style="font-size: 14px;">编辑：李明</span></p>
            <p><span style="font-size: 14px;">审核：王强</span></p>
          </div>
          <script type="text/javascript">document.getElementById("js_content").style.visibility = "visible";</script>
          <div class="rich_media_tool" id="js_toobar3">
            <div class="media_tool_meta tips_global meta_primary" id="js_read_area3">阅读 <span id="readNum3">2316</span></div>
            <span class="media_tool_meta meta_extra meta_praise" id="like3">在看</span>
          </div>
        </div>
      </div>
    </div>
    <div id="js_pc_qr_code" class="qr_code_pc_outer" style="display: none;">
      <div class="qr_code_pc_inner"><div class="qr_code_pc"><img id="js_pc_qr_code_img" class="qr_code_pc_img"><p>微信扫一扫<br>关注该公众号</p></div></div>
    </div>
  </div>
</div>
<div id="js_share_notice" style="display:none">轻点两下取消在看</div>
</body>
</html>
"""


def test_wechat_article_hidden_by_style_until_a_script_reveals_it():
    c = clean_html(WECHAT)
    assert c.title == "遂昌县：“清单制”推动群众身边问题整改见效"
    assert c.paragraphs[0] == c.title
    assert c.paragraphs[1].startswith("今年以来，遂昌县纪委监委聚焦群众反映强烈")
    assert c.paragraphs[-1] == "（图为县委巡察组在东河镇柳树村走访群众）"
    for junk in ("阅读", "在看", "微信扫一扫", "编辑：李明", "审核", "清风遂昌"):
        assert junk not in c.body
    assert c.meta["source"] == "遂昌县纪委监委"


def test_wechat_article_metadata():
    from indexer.pipeline import process_page

    n = process_page(RawPage(source="wx.html", content=WECHAT, is_html=True))
    assert (n.date, n.issuer, n.region_code) == ("2024-05-29", "遂昌县纪委监委", "331123")


def test_hidden_block_that_is_not_the_main_text_still_dropped():
    side = "隐藏的侧栏说明文字，" * 15  # 150 characters of prose, hidden, beside a longer notice
    body = f"<p>{P1}</p><p>{P2}</p><p>{P3}</p><p>{P1}</p><p>{P2}</p><p>{P3}</p>"
    html = page(f'<div style="display:none"><p>{side}</p></div><div class="TRS_Editor">{body}</div>')
    c = clean_html(html)
    assert "隐藏" not in c.body and P3 in c.body


# --------------------------------------------------------------------------- titles as printed


@pytest.mark.parametrize("head", [
    "某某科普网 > 时政新闻 >",          # a breadcrumb without a label
    "您现在位置: 首页 >> 巡察工作 >>",
    "本篇文章612字,读完约2分钟",         # reading-time clutter
])
def test_clutter_line_is_neither_title_nor_body(head: str):
    c = clean_text(head + "\n" + ONE_PARA + "\n")
    assert c.title is None
    assert c.paragraphs == [ONE_PARA]


def test_salutation_is_no_title():
    c = clean_text("各乡镇人民政府,县政府各部门,县属各单位:\n" + ONE_PARA + "\n")
    assert c.title is None


def test_site_banner_above_login_links_is_no_title():
    c = clean_text("汇聚全网商机\n登录/注册\n****\n" + ONE_PARA + "\n")
    assert c.title is None
    assert c.paragraphs == [ONE_PARA]


def test_title_keeps_full_width_forms_of_the_page():
    from indexer.pipeline import process_page

    title = "融媒视界｜浙江遂昌：茶叶推介行（中亚站）启程"
    html = page(f'<h1>{title}</h1><div class="TRS_Editor"><p>{P1}</p><p>{P2}</p></div>',
                head=f"<title>{title}_某某网</title>")
    n = process_page(RawPage(source="t.html", content=html, is_html=True))
    assert n.title == title
    assert n.body.startswith(title)


def test_prose_naming_a_footer_word_is_kept_and_the_footer_still_goes() -> None:
    """`主办单位` is footer furniture as a label (主办单位：…) but ordinary prose in a notice
    (请主办单位于5月15日前完成整改): the sentence must survive, the footer line must not."""
    from indexer.clean import clean_html

    html = (
        "<html><head><title>关于政府网站抽查情况的通报</title></head><body>"
        "<div id='zoom'><p>根据国务院办公厅的要求，市政府办公厅对全市各级政府网站进行了抽查。现将抽查情况通报如下：</p>"
        "<p>（一）抓紧整改。对本次抽查不合格的6个网站，请主办单位于5月15日前完成整改，并将整改报告报市政府办公厅。</p>"
        "<p>（二）对整改不到位的，予以通报。</p></div>"
        "<div>主办单位：某某市人民政府办公室 承办单位：某某市大数据中心</div></body></html>"
    )
    body = "\n".join(clean_html(html).paragraphs)
    assert "请主办单位于5月15日前完成整改" in body
    assert "承办单位：" not in body


# --------------------------------------------------------------------------- text boilerplate


def test_properties_table_in_text_is_dropped_and_read() -> None:
    """Scraped text and JSON-lines records carry a 信息公开 table as lines: several fields on
    a line, or `• label:` with its value on the next line. Without HTML to guide the cleaner
    the table is recognised by its shape (two or more field lines close together); its
    values go to meta, its lines never reach the body (snippets opened with 废止时间:)."""
    text = "\n".join([
        "索引号: 000111222/202301-00042 组配分类: 通知公告",
        "信息分类: 公告 发布机构: 某某县人民政府办公室",
        "生成日期: 2023-03-01 文号:",
        "废止时间: 2025-03-01 名称: 某某县人民政府关于开展巡察工作的公告",
        "某某县人民政府关于开展巡察工作的公告",
        P1, P2,
    ])
    c = clean_text(text)
    assert "废止时间" not in c.body and "索引号" not in c.body and "组配分类" not in c.body
    assert c.paragraphs == ["某某县人民政府关于开展巡察工作的公告", P1, P2]
    assert c.meta["info_索引号"] == "000111222/202301-00042"
    assert c.meta["info_发布机构"] == "某某县人民政府办公室"


def test_bulleted_properties_with_values_on_their_own_lines() -> None:
    text = "\n".join([
        "某某县人民政府工作规则",
        "• 索引号:", "6101230000/2024-000123",
        "• 主题分类:",
        "• 发文机构:", "县政府办公室",
        "某政发〔2024〕7号",
        "• 有效性:", "有效",
        "• 内容概述:", "某某县人民政府工作规则",
        "第一章 总则",
        P1, P2, "朗读", "视力保护色:", "友情链接:", "转载请注明地址:http://example.com/a/1.html",
    ])
    c = clean_text(text)
    assert c.paragraphs == ["某某县人民政府工作规则", "第一章 总则", P1, P2]
    assert c.meta["info_文号"] == "某政发〔2024〕7号"


def test_one_field_line_in_a_notice_is_text() -> None:
    """`时间：` or `名称：` alone is part of a notice (a meeting's time, a project's name)."""
    text = "\n".join(["关于召开巡察工作动员会的通知", P1, "名称：巡察工作动员会", P2])
    assert "名称：巡察工作动员会" in clean_text(text).paragraphs


# --------------------------------------------------------------------------- headings


@pytest.mark.parametrize("heading", [
    # kicker and main line as sibling elements
    '<div class="article"><h3 class="pre">推进新征程纪检监察工作高质量发展</h3>'
    '<h1 class="title">常态长效深化落实中央八项规定精神</h1>',
    # the same with each line in a wrapper of its own
    '<div class="article"><div class="yt"><h2>推进新征程纪检监察工作高质量发展</h2></div>'
    '<div class="tit"><h2>常态长效深化落实中央八项规定精神</h2></div>',
])
def test_two_line_heading_keeps_both_lines(heading: str) -> None:
    """A heading printed over two elements (引题 + 主题) whose <title> names only the main
    line: the title and the body keep both lines, in page order, joined by a space."""
    html = page(heading + '<div class="info">来源：某某网站 发布时间：2024-01-10</div>'
                f'<div class="TRS_Editor"><p>{P1}</p><p>{P2}</p></div></div>',
                head="<title>常态长效深化落实中央八项规定精神_某某网站</title>")
    c = clean_html(html)
    assert c.title == "推进新征程纪检监察工作高质量发展 常态长效深化落实中央八项规定精神"
    assert c.paragraphs[:3] == ["推进新征程纪检监察工作高质量发展", "常态长效深化落实中央八项规定精神", P1]


def test_subtitle_below_heading_is_kept_and_column_name_above_is_not() -> None:
    html = page('<div class="main"><h2>通知公告</h2><h1>关于开展巡察工作的公告</h1>'
                '<h3 class="subtitle">——十三届区委第二轮巡察进驻情况</h3>'
                f'<div class="TRS_Editor"><p>{P1}</p><p>{P2}</p></div></div>',
                head="<title>关于开展巡察工作的公告_某某区人民政府</title>")
    c = clean_html(html)
    assert c.title == "关于开展巡察工作的公告 ——十三届区委第二轮巡察进驻情况"
    assert "通知公告" not in c.body


# --------------------------------------------------------------------------- platform reposts


def test_platform_repost_names_the_account_not_the_platform() -> None:
    """A 澎湃号·政务 page reposts a government account's text; 来源 names the platform's
    channel, the breadcrumb names the account, and the account is the source."""
    html = page('<div class="crumb"><a href="/">澎湃号</a> &gt; <a href="/gov_1">中国某某发布</a></div>'
                '<h1>关于开展巡察工作的公告</h1><p class="info">2019-08-13 14:07<span>来源：澎湃新闻·澎湃号·政务</span></p>'
                f'<div class="news_txt"><p>{P1}</p><p>{P2}</p></div>',
                head="<title>关于开展巡察工作的公告_澎湃新闻</title>")
    c = clean_html(html)
    assert c.meta["source"] == "中国某某发布"
    assert c.meta["platform"] == "澎湃新闻·澎湃号·政务"


# --------------------------------------------------------------------------- PDF-derived text


def test_pdf_text_loses_page_numbers_and_running_heads() -> None:
    """Text taken from a PDF carries page numbers (— 2 —, 第3页 共3页) and repeats its
    running head on every page; the letterhead's first occurrence stays."""
    head = "某某县人民政府办公室文件"
    text = "\n".join([head, "关于开展巡察整改工作的通知", P1, "— 1 —", head, P2, "— 2 —", head, P3,
                      "第3页 共3页"])
    c = clean_text(text)
    assert c.paragraphs == [head, "关于开展巡察整改工作的通知", P1, P2, P3]


def test_repeated_short_lines_without_page_numbers_are_kept() -> None:
    """A table flattened into lines repeats its cells: without page numbers, no running head."""
    rows = ["整改措施落实到位情况", "已完成整改销号"] * 3
    text = "\n".join(["关于巡察整改进展情况的通报", P1] + rows + [P2])
    assert clean_text(text).paragraphs.count("已完成整改销号") == 3


def test_e_paper_page_label_is_not_text() -> None:
    text = "\n".join(["第01版:头版", "九届省委第二轮巡视全面展开", P1, "第3版：要闻", P2])
    c = clean_text(text)
    assert c.paragraphs == ["九届省委第二轮巡视全面展开", P1, P2]
    assert c.title == "九届省委第二轮巡视全面展开"
