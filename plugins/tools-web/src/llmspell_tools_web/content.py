"""HTML handling shared by ``web_fetch`` and ``web_scrape``: parsing, junk removal, Markdown and
text conversion, titles and links. Everything here is blocking (run it in a worker thread) and
imports bs4/markdownify only when called."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

#: Elements that never carry page content.
JUNK_TAGS = (
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "canvas",
    "nav", "footer", "aside", "form", "button", "input", "select", "textarea", "dialog", "link",
    "meta",
)
#: ARIA roles of navigation and page furniture.
JUNK_ROLES = frozenset({
    "navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alertdialog",
    "menu", "menubar",
})
#: id/class words of page furniture (matched as whole words of the attribute).
_JUNK_WORDS = re.compile(
    r"(?:^|[\s_-])(?:cookie|cookies|consent|gdpr|sidebar|breadcrumbs?|advert|advertisement|ads"
    r"|promo|newsletter|share|social|popup|modal|skip-link|skiplink)(?:$|[\s_-])",
    re.I,
)
_NEVER_JUNK = frozenset({"html", "body", "main", "article"})
_BLANK_LINES = re.compile(r"\n[ \t]*(?:\n[ \t]*)+\n")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


def parse_html(content: bytes, charset: str | None) -> Any:
    """A BeautifulSoup tree (Python's html.parser) of ``content``; the header's ``charset``
    is preferred, else bs4 detects the encoding."""
    import warnings

    from bs4 import BeautifulSoup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # bs4's "looks like a URL/XML" guesses
        return BeautifulSoup(content, "html.parser", from_encoding=charset)


def collapse(text: str) -> str:
    """Whitespace runs to single spaces, trimmed."""
    return " ".join(text.split())


def page_title(soup: Any) -> str | None:
    """``<title>``, else ``og:title``, else the first ``<h1>``."""
    if soup.title is not None and soup.title.get_text(strip=True):
        return collapse(soup.title.get_text())
    meta = soup.find("meta", attrs={"property": "og:title"})
    if meta is not None and meta.get("content"):
        return collapse(str(meta["content"]))
    h1 = soup.find("h1")
    if h1 is not None and h1.get_text(strip=True):
        return collapse(h1.get_text(" "))
    return None


def page_description(soup: Any) -> str | None:
    """``<meta name=description>`` or ``og:description``."""
    for attrs in ({"name": "description"}, {"property": "og:description"}):
        meta = soup.find("meta", attrs=attrs)
        if meta is not None and meta.get("content"):
            return collapse(str(meta["content"]))
    return None


def base_url(soup: Any, url: str) -> str:
    """The URL relative links resolve against: an http(s) ``<base href>``, else ``url``."""
    base = soup.find("base", href=True)
    if base is not None:
        joined = urljoin(url, str(base["href"]).strip())
        if urlsplit(joined).scheme in ("http", "https"):
            return joined
    return url


def absolute(base: str, href: str) -> str | None:
    """``href`` resolved against ``base`` if the result is an http(s) URL, else ``None``."""
    try:
        joined = urljoin(base, href.strip())
        scheme = urlsplit(joined).scheme
    except ValueError:
        return None
    return joined if scheme in ("http", "https") else None


def links(soup: Any, base: str, limit: int) -> list[dict[str, str]]:
    """The page's http(s) links ``[{"text", "url"}]``, absolute, first occurrence of each URL
    (fragment removed), at most ``limit``."""
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    for a in soup.find_all("a", href=True):
        url = absolute(base, str(a["href"]))
        if url is None:
            continue
        url = url.split("#", 1)[0]
        if url in seen:
            continue
        seen.add(url)
        out.append({"text": collapse(a.get_text(" "))[:300], "url": url})
        if len(out) >= limit:
            break
    return out


def _is_junk(tag: Any) -> bool:
    attrs = getattr(tag, "attrs", None)
    if not attrs or tag.name in _NEVER_JUNK:
        return False
    if str(attrs.get("role", "")).lower() in JUNK_ROLES:
        return True
    if str(attrs.get("aria-hidden", "")).lower() == "true" or "hidden" in attrs:
        return True
    words = " ".join([str(attrs.get("id", "")), *[str(c) for c in attrs.get("class", [])]])
    return bool(words.strip()) and bool(_JUNK_WORDS.search(words))


def clean(soup: Any) -> None:
    """Remove scripts, styles, navigation, forms, hidden elements, cookie banners and other
    page furniture (a site ``<header>`` outside ``<main>``/``<article>`` too), in place."""
    from bs4 import Comment

    doomed = list(soup.find_all(JUNK_TAGS))
    doomed += [t for t in soup.find_all("header") if t.find_parent(["main", "article"]) is None]
    doomed += [t for t in soup.find_all(True) if _is_junk(t)]
    for tag in doomed:
        if not tag.decomposed:
            tag.decompose()
    for comment in soup.find_all(string=lambda s: isinstance(s, Comment)):
        comment.extract()


def main_root(soup: Any) -> Any:
    """The element holding the page's main content: ``<main>`` (or ``role=main``), else the
    only ``<article>``, else ``<body>`` (else the whole document)."""
    for candidate in (soup.find("main"), soup.find(attrs={"role": "main"})):
        if candidate is not None and candidate.get_text(strip=True):
            return candidate
    articles = soup.find_all("article")
    if len(articles) == 1 and articles[0].get_text(strip=True):
        return articles[0]
    return soup.body or soup


def absolutize(root: Any, base: str) -> None:
    """Make ``a[href]`` and ``img[src]`` absolute; unwrap links that are not http(s) and drop
    images that are not (``data:`` URLs would flood the output)."""
    for a in root.find_all("a", href=True):
        url = absolute(base, str(a["href"]))
        if url is None:
            a.unwrap()
        else:
            a["href"] = url
    for img in root.find_all("img"):
        url = absolute(base, str(img.get("src", "")))
        if url is None:
            img.decompose()
        else:
            img["src"] = url


def to_markdown(root: Any) -> str:
    """Markdown of ``root`` (ATX headings, ``-`` bullets), blank-line runs collapsed."""
    from markdownify import MarkdownConverter

    converter = MarkdownConverter(heading_style="ATX", bullets="-", escape_misc=False)
    text = converter.convert_soup(root)
    lines = [line.rstrip() for line in text.splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


_BLOCKS = (
    "p", "div", "section", "article", "main", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5",
    "h6", "tr", "table", "pre", "blockquote", "br", "hr", "dd", "dt", "dl", "figure",
    "figcaption", "header", "address", "details", "summary",
)


def to_text(root: Any) -> str:
    """Plain text of ``root``: one line per block element (table cells separated by
    `` | ``), spaces collapsed, no blank lines."""
    for tag in root.find_all(_BLOCKS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    for cell in root.find_all(["td", "th"]):
        if cell.find_previous_sibling(["td", "th"]) is not None:
            cell.insert_before(" | ")
    lines = (_SPACES.sub(" ", line).strip() for line in root.get_text().splitlines())
    return "\n".join(line for line in lines if line)


def html_to_text(fragment: str) -> str:
    """Text of an HTML fragment (a feed summary, a search snippet), whitespace collapsed."""
    if "<" not in fragment and "&" not in fragment:
        return collapse(fragment)
    import warnings

    from bs4 import BeautifulSoup

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        soup = BeautifulSoup(fragment, "html.parser")
    for tag in soup.find_all(_BLOCKS):
        tag.insert_before(" ")
        tag.insert_after(" ")
    return collapse(soup.get_text())


def truncate(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters (and whether it was cut)."""
    return (text, False) if len(text) <= limit else (text[:limit], True)
