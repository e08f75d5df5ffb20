"""Web front end: a Flask app factory over `indexer.search` (which knows nothing of Flask).

Routes are thin on purpose: they turn query parameters into a `SearchRequest`, call the
`Archive`, and hand plain dicts to Jinja templates (or `jsonify` for the `/api/*` twins).
Everything the user typed or a scraper fetched is untrusted: templates auto-escape, and the
only pre-rendered HTML (snippets, highlighted paragraphs from the search layer) goes through
`marked`, which refuses anything but text and `<mark>` tags.

Served in production by waitress (`python -m indexer serve`); never run in debug mode.
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import time
from dataclasses import replace
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, current_app, g, jsonify, redirect, render_template, request, stream_with_context, url_for
from flask.json.provider import DefaultJSONProvider
from markupsafe import Markup, escape
from werkzeug.exceptions import HTTPException, NotFound

from indexer import dates, feeds, regions
from indexer.pages import (FILLER_PLACES, body_paragraphs, date_input_type, derived_title, format_ms, is_demo,
                           official_layout, page_window, place, plain_title, reader_link, region_trail,
                           results_view, safe_link, unique_name)  # page_window, safe_link: also imported from app
from indexer.search import Archive, IndexMissing, SearchError, SearchRequest
from indexer.whooshlib import IndexUnreadable

log = logging.getLogger(__name__)

PER_PAGE = 10
MAX_Q = 1000            # characters of q the app passes on; the search layer may cut further
MAX_PARAM = 200         # other parameters are short by nature (names, codes, dates)
FACET_LIMIT = 12        # facet values shown before "更多"
DOC_ID_RE = re.compile(r"^[0-9a-f]{1,64}$")
SEARCH_PARAMS = ("q", "scope", "region", "from", "to", "type", "sort", "page", "collapse", "exact")
FILTER_PARAMS = ("q", "scope", "region", "from", "to", "type", "exact")  # what a feed or an export is "of"
SIMILAR_LIMIT = 5
MARK_RE = re.compile(r"</?mark>")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}

HTTP_MESSAGES = {
    400: ("请求有误", "请求的参数无法识别。"),
    404: ("页面不存在", "没有找到这个页面或这条公告，它可能已被删除，或链接有误。"),
    405: ("不支持的请求方式", "这个地址只支持 GET 请求。"),
    413: ("请求过大", "请求内容过大。"),
    414: ("地址过长", "请求的地址过长，请减少检索词。"),
    500: ("服务器出错", "处理请求时出现了意外错误，已记录。请稍后再试。"),
    503: ("索引不可用", "检索索引暂不可用。"),
}


class SafeJSONProvider(DefaultJSONProvider):
    """JSON with `<`, `>` and `&` escaped (\\u003c ...): identical once parsed, but scraped markup
    can never appear literally in a response body, even if something sniffs it as HTML."""

    ensure_ascii = False
    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        text = super().dumps(obj, **kwargs)
        return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class ArchiveFlask(Flask):
    json_provider_class = SafeJSONProvider


# -- the factory -------------------------------------------------------------------------


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the app; `config` overrides defaults (INDEX_DIR, TESTING).

    One `Archive` per app, kept in `app.extensions`: it holds the open index snapshot and the
    result cache, and is safe to share between waitress threads.
    """
    app = ArchiveFlask(__name__)
    app.config.from_mapping(
        INDEX_DIR=os.environ.get("INDEX_DIR") or "index",
        TESTING=False,
        DEBUG=False,
    )
    if config:
        app.config.update(config)
    app.config["DEBUG"] = False  # never: the debugger would expose a console
    app.extensions["archive"] = Archive(app.config["INDEX_DIR"])

    app.jinja_env.filters["marked"] = marked
    app.jinja_env.filters["place"] = place
    app.jinja_env.filters["ms"] = format_ms
    app.jinja_env.globals["search_url"] = search_url
    app.jinja_env.globals["safe_link"] = safe_link
    app.jinja_env.globals["date_input_type"] = date_input_type
    app.jinja_env.globals["derived_title"] = derived_title
    app.jinja_env.globals["plain_title"] = plain_title
    app.jinja_env.globals["reader_link"] = reader_link

    app.add_url_rule("/", "search", search_page)
    app.add_url_rule("/doc/<doc_id>", "doc", doc_page)
    app.add_url_rule("/api/search", "api_search", api_search)
    app.add_url_rule("/api/doc/<doc_id>", "api_doc", api_doc)
    app.add_url_rule("/feed.atom", "feed_atom", feed_atom)
    app.add_url_rule("/subscribe", "subscribe", subscribe_page)
    app.add_url_rule("/export.csv", "export_csv", export_csv)
    app.add_url_rule("/export.jsonl", "export_jsonl", export_jsonl)
    app.add_url_rule("/regions", "regions", regions_page)
    app.add_url_rule("/api/regions/suggest", "api_region_suggest", api_region_suggest)

    app.after_request(add_security_headers)
    app.after_request(compress_response)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(IndexUnreadable, index_unreadable)
    app.register_error_handler(Exception, handle_unexpected)
    return app


def archive() -> Archive:
    return current_app.extensions["archive"]


# -- parameters --------------------------------------------------------------------------


def read_params() -> dict[str, str]:
    """The search parameters of this request: stripped, non-empty, length-bounded strings."""
    out: dict[str, str] = {}
    for key in SEARCH_PARAMS:
        value = request.args.get(key, "")
        value = value.strip()
        if not value:
            continue
        out[key] = value[:MAX_Q + 1] if key == "q" else value[:MAX_PARAM]
    return out


def make_request(params: dict[str, str], per_page: int = PER_PAGE, collapse: bool = False) -> tuple[SearchRequest, list[str]]:
    """Turn raw parameters into a SearchRequest; notes are messages for the user.

    Raises SearchError for parameters the search layer cannot check itself (a page that is
    not a number); everything else is validated by `indexer.search.validate`.
    """
    notes: list[str] = []
    q = params.get("q", "")
    if len(q) > MAX_Q:
        q = q[:MAX_Q]
        notes.append(f"检索词过长，只使用了前 {MAX_Q} 个字符")
    raw_page = params.get("page", "1")
    if not raw_page.isascii() or not raw_page.isdigit() or len(raw_page) > 9:
        raise SearchError("页码应为大于 0 的整数")
    if q and params.get("scope") == "title":
        q = f"标题:({q})"  # the query language's field syntax, applied to every literal
    date_from = read_date(params.get("from"), "起始日期")
    date_to = read_date(params.get("to"), "截止日期")
    date_from, date_to, swapped = dates.order_range(date_from, date_to)
    if swapped:
        notes.append(f"起始日期晚于截止日期，已按 {date_from} 至 {date_to} 检索")
    req = SearchRequest(
        q=q,
        region=params.get("region"),
        date_from=date_from,
        date_to=date_to,
        doc_type=params.get("type"),
        sort=params.get("sort", "relevance"),
        page=int(raw_page),
        per_page=per_page,
        # reposts: one copy per notice unless collapse=0 (page default) / collapse=1 (API opt-in)
        collapse={"0": False, "1": True}.get(params.get("collapse", ""), collapse),
        # exact=1: the query as typed only (no splitting, aliases or partial matches)
        exact=params.get("exact") == "1",
    )
    return req, notes


def read_date(value: str | None, label: str) -> str | None:
    """A typed date in ISO form (2018/1/1, 2018.1.1, 2018年1月1日 are read too); the
    messages are the search layer's, which still checks the ISO result."""
    try:
        return dates.parse_date(value)
    except dates.DateFormatError:
        raise SearchError(f"{label}格式应为 YYYY-MM-DD，例如 2022-05-06") from None
    except dates.DateValueError:
        raise SearchError(f"{label}不是有效日期：{(value or '').strip()}") from None


def run_search(params: dict[str, str], per_page: int = PER_PAGE, collapse: bool = False,
               last_page_instead: bool = False) -> tuple[dict[str, Any], list[str]]:
    """Search and return (result dict, messages); raises SearchError / IndexMissing.

    `last_page_instead` (the web page): a page past the end shows the last page with a note
    rather than a 400 (a bookmarked page 5 of a result that shrank); the API keeps its 400.
    """
    req, notes = make_request(params, per_page, collapse=collapse)
    try:
        res = archive().search(req)
    except SearchError as exc:
        if not last_page_instead or req.page <= 1 or isinstance(exc, IndexMissing):
            raise
        res = None
    if last_page_instead and req.page > 1 and (res is None or res.total == 0):
        first = archive().search(replace(req, page=1))
        last = first.pages
        if req.page > last:
            notes.append(f"没有第 {req.page} 页，共 {last} 页，以下是最后一页")
            res = first if last == 1 else archive().search(replace(req, page=last))
            params["page"] = str(last)
    elif res is not None and res.total == 0 and req.page > 1:
        raise SearchError("页码超出范围：共 1 页")
    assert res is not None  # a page within range was found, or the last page was searched
    data = res.as_dict()
    mark_demo(data["hits"])
    return data, notes + list(data.get("messages") or [])


def search_url(base: dict[str, str], endpoint: str = "search", **changes: Any) -> str:
    """URL of a search from `base` parameters with `changes` applied (None removes a key).

    The page is dropped unless given explicitly: changing a filter starts again at page 1.
    `from_`/`to` are accepted as keyword names for the date parameters.
    """
    params = {k: v for k, v in base.items() if k != "page"}
    for key, value in changes.items():
        key = key.rstrip("_")
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    if params.get("page") == "1":
        params.pop("page")
    if params.get("sort") == "relevance":
        params.pop("sort")
    ordered = {k: params[k] for k in SEARCH_PARAMS if k in params}
    return url_for(endpoint, **ordered)


def mark_demo(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Add `demo` (a notice of the bundled demo corpus, indexer.pages.is_demo) to each item
    and its reposts: pages badge them, the API carries the flag (a key added, none changed)."""
    for item in items:
        item["demo"] = is_demo(item)
        for r in item.get("reposts") or []:
            r["demo"] = is_demo(r)
    return items


def with_query(url: str, extra: dict[str, str]) -> str:
    """`url` with more query parameters (ones that are not search parameters, like for=excel)."""
    return url + ("&" if "?" in url else "?") + urlencode(extra)


# -- presentation helpers ----------------------------------------------------------------


def marked(html: str | None) -> Markup:
    """Pre-rendered text from the search layer: escaped text plus <mark> tags only.

    The search layer escapes before it adds <mark>; this re-checks that promise so a bug
    there cannot become script injection here. Anything else is shown as plain text.
    """
    html = html or ""
    rest = MARK_RE.sub("", html)
    if "<" in rest or ">" in rest or '"' in rest:
        return escape(MARK_RE.sub("", html))
    return Markup(html)


def all_types() -> list[str]:
    """Document types in the whole index, for the type select (cached by the archive)."""
    try:
        res = archive().search(SearchRequest(per_page=1))
    except SearchError:
        return []
    return [t["value"] for t in res.facets.get("type", [])]


# -- routes ------------------------------------------------------------------------------


def clean_redirect(params: dict[str, str]) -> Response | None:
    """A redirect to the tidy URL of a submitted form, or None when the URL is tidy already.

    A GET form sends every field (`region=&from=&to=&sort=relevance`); readers copy and share
    those URLs, so empty and default values are dropped. 在结果中搜索 (`within`, the previous
    query) is folded into q, and dates typed as 2018/1/1 or 2018年1月1日 become 2018-01-01:
    the result is an ordinary, bookmarkable search. Only these cases redirect (never a loop).
    """
    untidy = False
    for key, value in request.args.items(multi=True):
        if key == "within" or not value.strip() or value != value.strip():
            untidy = True
        elif (key, value) in (("sort", "relevance"), ("page", "1"), ("scope", "all")):
            untidy = True
    within = request.args.get("within", "").strip()[:MAX_Q]
    if within and params.get("q") and within != params["q"]:
        params["q"] = f"{within} {params['q']}"[:MAX_Q]
    if params.get("scope") == "all":
        params.pop("scope")
    for key in ("from", "to"):
        try:
            value = dates.parse_date(params.get(key))
        except ValueError:
            continue  # left as typed: the search says what is wrong with it
        if value and value != params[key]:
            params[key], untidy = value, True
    if not untidy:
        return None
    return redirect(search_url(params, page=params.get("page")), code=302)


def region_choices(params: dict[str, str]) -> list[dict[str, Any]] | None:
    """Candidates for an ambiguous region name (鼓楼区 -> 南京市鼓楼区, 福州市鼓楼区 ...), each with
    the number of notices the search finds there; None when the name is not ambiguous."""
    name = params.get("region", "")
    if not name or name.isdigit() or regions.resolve(name) is not None:
        return None
    many = regions.candidates(name)
    if len(many) < 2:
        return None
    out = []
    for r in many[:12]:
        trail = [p for p in (regions.names(r.code)) if p and p not in FILLER_PLACES]
        try:
            req, _ = make_request({**params, "region": r.code, "page": "1"}, per_page=1)
            count = archive().count(req)
        except SearchError:
            count = 0
        out.append({"code": r.code, "path": "".join(dict.fromkeys(trail)), "count": count,
                    "href": search_url(params, region=r.code)})
    out.sort(key=lambda c: (-c["count"], c["code"]))
    return out


def with_doc_numbers(hits: list[dict[str, Any]]) -> None:
    """Add each hit's 文号 (stored with the notice; the search layer's hits do not carry it)."""
    for h in hits:
        try:
            doc = archive().get(h["id"])
        except SearchError:
            doc = None
        h["doc_number"] = (doc or {}).get("doc_number")


def search_page() -> tuple[str, int] | str | Response:
    """The search page; with no q it lists the newest notices (filters work alone)."""
    params = read_params()
    tidy = clean_redirect(params)
    if tidy is not None:
        return tidy
    g.params = params
    try:
        found = page_search(params)
    except IndexMissing as exc:
        return index_missing(exc)
    data = found["data"]
    ctx = {**found, **results_view(params, data, search_url), **search_links(params, data),
           "params": params, "types": all_types(), "facet_limit": FACET_LIMIT}
    return render_template("search.html", **ctx), 400 if found["error"] else 200


def page_search(params: dict[str, str]) -> dict[str, Any]:
    """The search behind the page: {data, messages, error, region_choices}. A bad parameter is an
    error message on the page (status 400), not an exception; an ambiguous region name searches
    everywhere meanwhile and lists the candidates. Raises IndexMissing."""
    choices = region_choices(params)
    out: dict[str, Any] = {"data": None, "messages": [], "error": None, "region_choices": choices}
    try:
        searched = {k: v for k, v in params.items() if k != "region"} if choices is not None else params
        out["data"], out["messages"] = run_search(searched, collapse=True, last_page_instead=True)
    except IndexMissing:
        raise
    except SearchError as exc:
        out["error"] = str(exc)
    if out["data"]:
        with_doc_numbers(out["data"]["hits"])
    return out


def search_links(params: dict[str, str], data: dict[str, Any] | None) -> dict[str, Any]:
    """The same search as 订阅, 导出 Excel and the developer formats (JSON, Atom, CSV, JSONL)."""
    return {
        "api_url": search_url(params, "api_search", page=params.get("page")),
        "feed_url": search_url(params, "feed_atom", sort=None),
        "csv_url": search_url(params, "export_csv"),
        "excel_url": with_query(search_url(params, "export_csv"), {"for": "excel"}),
        "subscribe_url": search_url(params, "subscribe", sort=None),
        "jsonl_url": search_url(params, "export_jsonl"),
        "feed_title": feed_title_of(params, data) if data else None,
    }


REGION_SUGGEST_LIMIT = 10


def _suggest_table() -> list[tuple[str, str, str, str]]:
    """(name, short, path, code) of every division, built once from the division table."""
    table = current_app.extensions.get("region_suggest")
    if table is None:
        table = []
        for r in regions.all_regions():
            if r.name in FILLER_PLACES:
                continue
            trail = [n for n in regions.names(r.code) if n and n not in FILLER_PLACES]
            table.append((r.name, r.short, "".join(dict.fromkeys(trail)), r.code))
        table.sort(key=lambda t: (len(t[3].rstrip("0")), t[3]))
        current_app.extensions["region_suggest"] = table
    return table


def api_region_suggest() -> Response | tuple[Response, int]:
    """Regions whose name starts with (then contains) what was typed, from the division table
    (offline), with the archive's notice count of each: the 地区 box's suggestions."""
    typed = request.args.get("q", "").strip()[:20]
    if not typed:
        return jsonify({"suggestions": []})
    try:
        counts = archive().region_counts()
    except IndexMissing as exc:
        return index_missing(exc)
    starts, contains = [], []
    for name, short, path, code in _suggest_table():
        if name.startswith(typed) or short.startswith(typed) or path.startswith(typed):
            starts.append((name, path, code))
        elif typed in name:
            contains.append((name, path, code))
    # names that start with the text first; within each group, regions with notices first
    picked = sorted(starts, key=lambda t: -counts.get(t[2], 0)) + sorted(contains, key=lambda t: -counts.get(t[2], 0))
    out = []
    for name, path, code in picked[:REGION_SUGGEST_LIMIT]:
        trail = [n for n in regions.names(code) if n and n not in FILLER_PLACES]
        value = unique_name(code, list(dict.fromkeys(trail)))
        out.append({"name": name, "path": path, "code": code, "value": value, "count": counts.get(code, 0)})
    return jsonify({"suggestions": out})


def valid_doc_id(doc_id: str) -> bool:
    return bool(DOC_ID_RE.match(doc_id or ""))


def related_notices(doc_id: str, code: str | None) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """Other notices of the same region, and that region's path and total.

    Optional decoration: a region code the division table no longer knows must not cost the
    reader the document, so search errors here give an empty list.
    """
    if not code:
        return [], None
    try:
        related = archive().same_region(doc_id)
        res = archive().search(SearchRequest(region=code, sort="date", per_page=1))
    except IndexMissing:
        raise
    except SearchError:
        log.warning("no related notices for %s (region %r)", doc_id, code)
        return [], None
    return related, {"trail": region_trail(res.region), "total": res.total, "code": code}


def doc_page(doc_id: str) -> tuple[str, int] | str:
    """One notice, highlighted when reached from a search (?q=...)."""
    if not valid_doc_id(doc_id):
        raise NotFound()
    params = read_params()
    q = params.get("q", "")[:MAX_Q] or None
    try:
        doc = archive().get(doc_id, q=q)
        if doc is None:
            raise NotFound()
        related, region_info = related_notices(doc_id, doc.get("region_code"))
        similar = similar_of(doc)
    except IndexMissing as exc:
        return index_missing(exc)
    doc["demo"] = is_demo(doc)
    return render_template(
        "doc.html",
        doc=doc,
        layout=official_layout(body_paragraphs(doc), doc.get("issuer"), doc.get("doc_number")),
        related=mark_demo(related),
        similar=mark_demo(similar),
        region_info=region_info,
        params=params,
        back=search_url(params, page=params.get("page")) if params else None,
        link=reader_link(doc),
        permalink=url_for("doc", doc_id=doc_id, _external=True),
    )


def similar_of(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Notices closest in content (reposts excluded); decoration, so failures give []."""
    try:
        return feeds.similar_notices(archive(), doc, limit=SIMILAR_LIMIT)
    except IndexMissing:
        raise
    except SearchError:
        log.warning("no similar notices for %s", doc.get("id"))
        return []


# -- feeds, exports, regions -------------------------------------------------------------


def filter_params() -> dict[str, str]:
    params = read_params()
    return {k: v for k, v in params.items() if k in FILTER_PARAMS}


def bad_request_text(message: str) -> Response:
    """400 as plain text: feed readers and download managers show text, not our HTML."""
    return Response(f"无法完成请求：{message}\n", status=400, mimetype="text/plain")


def external_url(endpoint: str, params: dict[str, str]) -> str:
    return url_for(endpoint, _external=True, **{k: params[k] for k in SEARCH_PARAMS if k in params})


def feed_title_of(params: dict[str, str], data: dict[str, Any] | None) -> str:
    region = (data or {}).get("region") or {}
    trail = region_trail(region)
    return feeds.feed_title(params.get("q"), trail[-1]["name"] if trail else region.get("name"),
                            params.get("type"), params.get("from"), params.get("to"))


def feed_atom() -> Response | tuple[str | Response, int]:
    """Atom 1.0 feed of the newest notices matching a search (the search page's filters)."""
    params = filter_params()
    try:
        req, _ = make_request({**params, "sort": "date"}, per_page=feeds.FEED_ENTRIES)
        data = archive().search(req).as_dict()
    except IndexMissing as exc:
        return index_missing(exc)
    except SearchError as exc:
        return bad_request_text(str(exc))
    body = feeds.atom_feed(
        data["hits"],
        title=feed_title_of(params, data),
        feed_id=external_url("feed_atom", params),
        self_url=external_url("feed_atom", params),
        alternate_url=external_url("search", {**params, "sort": "date"}),
        doc_url=lambda doc_id: url_for("doc", doc_id=doc_id, _external=True),
        now=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    )
    return Response(body, content_type="application/atom+xml; charset=utf-8")


def subscribe_page() -> tuple[str | Response, int] | str:
    """订阅: what a feed is and how to follow this search, with its address to copy and the
    newest notices it would deliver (readers need not see raw Atom XML)."""
    params = filter_params()
    try:
        req, _ = make_request({**params, "sort": "date"}, per_page=5)
        data = archive().search(req).as_dict()
        mark_demo(data["hits"])
    except IndexMissing as exc:
        return index_missing(exc)
    except SearchError as exc:
        return render_error(400, str(exc))
    return render_template("subscribe.html", params=params, data=data, feed_title=feed_title_of(params, data),
                           feed_url=external_url("feed_atom", params),
                           back=search_url(params))


def export_csv() -> Response | tuple[str | Response, int]:
    return export_response("csv")


def export_jsonl() -> Response | tuple[str | Response, int]:
    return export_response("jsonl")


def export_response(kind: str) -> Response | tuple[str | Response, int]:
    """Every matching notice (up to feeds.MAX_EXPORT_ROWS), streamed as it is read.

    The first page is searched before the response starts, so bad parameters are a 400;
    later failures can only be reported inside the file (see indexer.feeds).
    """
    params = read_params()
    params.pop("page", None)
    try:
        req, _ = make_request(params, per_page=feeds.EXPORT_PAGE)
        export = feeds.start_export(archive(), req)
    except IndexMissing as exc:
        return index_missing(exc)
    except SearchError as exc:
        return bad_request_text(str(exc))
    if kind == "csv" and request.args.get("for") == "excel":  # 导出 Excel: Chinese headers, links back
        doc_url = lambda doc_id: url_for("doc", doc_id=doc_id, _external=True)  # noqa: E731
        stream, content_type = feeds.excel_stream(export, doc_url), "text/csv; charset=utf-8"
    elif kind == "csv":
        stream, content_type = feeds.csv_stream(export), "text/csv; charset=utf-8"
    else:
        stream, content_type = feeds.jsonl_stream(export), "application/x-ndjson; charset=utf-8"
    resp = Response(stream_with_context(stream), content_type=content_type)
    region = export.first.region or {}
    resp.headers["Content-Disposition"] = feeds.content_disposition(
        [params.get("q"), region.get("name"), params.get("type"), params.get("from"), params.get("to")], kind)
    resp.headers["X-Total-Count"] = str(export.total)
    return resp


def regions_page() -> tuple[str | Response, int] | str:
    """地区索引: provinces -> cities -> districts with counts for the whole archive."""
    try:
        total, tree = feeds.region_tree(archive())
    except IndexMissing as exc:
        return index_missing(exc)
    placed = sum(n.count for n in tree)
    return render_template("regions.html", total=total, tree=tree, unplaced=total - placed)


def api_search() -> Response | tuple[Response, int]:
    """JSON twin of the search page."""
    params = read_params()
    try:
        data, messages = run_search(params)
    except IndexMissing as exc:
        return index_missing(exc)
    except SearchError as exc:
        return jsonify({"error": str(exc)}), 400
    data["messages"] = messages
    return jsonify(data)


def api_doc(doc_id: str) -> Response | tuple[Response, int]:
    """One notice as JSON, with its full cleaned text."""
    if not valid_doc_id(doc_id):
        return jsonify({"error": "未找到该公告"}), 404
    try:
        doc = archive().get(doc_id)
    except IndexMissing as exc:
        return index_missing(exc)
    if doc is None:
        return jsonify({"error": "未找到该公告"}), 404
    out = {k: v for k, v in doc.items() if not k.endswith("_html")}
    out["demo"] = is_demo(doc)
    return jsonify(out)


# -- errors and headers ------------------------------------------------------------------


INDEX_MISSING = "检索索引尚未建立或暂不可用。请先运行 python -m indexer build 建立索引（演示数据：make index）。"


def index_missing(exc: IndexMissing) -> tuple[str | Response, int]:
    """503 without the server's file paths (they go to the log)."""
    log.error("index unavailable: %s", exc)
    return render_error(503, INDEX_MISSING)


INDEX_UNREADABLE = ("检索索引的文件已损坏或无法读取，为避免给出错误结果，暂停检索服务。"
                    "管理员可运行 python -m indexer check 查看受损文件，"
                    "并用 python -m indexer build 源文件目录 --rebuild 从原始文件重建索引。")


def index_unreadable(exc: IndexUnreadable) -> tuple[str | Response, int]:
    """503 for a damaged index: never results from damaged files, never a traceback."""
    log.error("index unreadable: %s", exc)
    return render_error(503, INDEX_UNREADABLE)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def render_error(code: int, detail: str | None = None) -> tuple[str | Response, int]:
    title, default = HTTP_MESSAGES.get(code, (f"错误 {code}", "请求无法完成。"))
    message = detail or default
    if wants_json():
        return jsonify({"error": message}), code
    return render_template("error.html", code=code, title=title, message=message), code


def handle_http_error(exc: HTTPException) -> tuple[str | Response, int]:
    code = exc.code or 500
    return render_error(code)


def handle_unexpected(exc: Exception) -> tuple[str | Response, int]:
    if isinstance(exc, HTTPException):  # pragma: no cover - routed to handle_http_error
        return handle_http_error(exc)
    log.exception("unhandled error on %s", request.path)
    try:
        return render_error(500)
    except Exception:  # the error page itself failed: plain text, still no traceback
        log.exception("error page failed")
        body = '{"error": "服务器出错"}' if wants_json() else "服务器出错，请稍后再试。"
        mimetype = "application/json" if wants_json() else "text/plain"
        return Response(body, status=500, mimetype=mimetype), 500


def add_security_headers(resp: Response) -> Response:
    for key, value in SECURITY_HEADERS.items():
        resp.headers[key] = value
    return resp


GZIP_MIN_BYTES = 1024   # below this the gzip header costs more than it saves
GZIP_LEVEL = 6
GZIP_TYPES = ("text/", "application/json", "application/atom+xml", "image/svg+xml",
              "application/javascript", "application/x-ndjson")


def accepts_gzip(header: str | None) -> bool:
    """True when Accept-Encoding allows gzip (`gzip;q=0` refuses it)."""
    for part in (header or "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() in ("gzip", "*"):
            q = params.strip()
            if q.startswith("q="):
                try:
                    return float(q[2:]) > 0
                except ValueError:
                    return False
            return True
    return False


def compress_response(resp: Response) -> Response:
    """gzip text responses above GZIP_MIN_BYTES for clients that accept it.

    Pages are mostly CJK text and markup that compress 4-6x; one stdlib call, no new
    dependency. Streamed responses (exports) are left alone: compressing them would mean
    buffering every row, and they are downloads the client saves as they come.
    """
    resp.vary.add("Accept-Encoding")
    if (resp.status_code != 200 or resp.is_streamed and not resp.direct_passthrough
            or "Content-Encoding" in resp.headers or "Content-Range" in resp.headers
            or not resp.mimetype or not resp.mimetype.startswith(GZIP_TYPES)
            or not accepts_gzip(request.headers.get("Accept-Encoding"))):
        return resp
    if resp.direct_passthrough:  # static files: read the (small) file into memory
        resp.direct_passthrough = False
    data = resp.get_data()
    if len(data) < GZIP_MIN_BYTES:
        return resp
    resp.set_data(gzip.compress(data, GZIP_LEVEL, mtime=0))
    resp.headers["Content-Encoding"] = "gzip"
    etag, weak = resp.get_etag()
    if etag:  # the bytes differ from the identity encoding's
        resp.set_etag(etag, weak=True)
    return resp
