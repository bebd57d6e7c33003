"""Discussion text: plain text with a tiny Markdown subset, sanitised with nh3.

Supported: *emphasis* / _emphasis_, **strong**, bulleted (- or *) and numbered (1.) lists,
[links](https://...), bare https:// links, and item mentions such as #P7.
The text is HTML-escaped first, so nothing a person types becomes markup unless one of the
rules above made it; nh3 then removes anything outside a short allow-list, so script,
event-handler and `javascript:` payloads stay inert even if a rule has a hole.

Control characters are dropped first (`app.inputs.clean_text`, as on input, for rows stored
before input was cleaned), so the NUL-delimited placeholders used while rendering can never
come from the text itself. Should rendering fail all the same, the message is shown as
escaped plain text: one message never breaks a page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import nh3
from markupsafe import Markup, escape

from app.inputs import clean_text
from delphi.notifications import MENTION

log = logging.getLogger(__name__)

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a"}
ALLOWED_ATTRIBUTES = {"a": {"href", "class"}}
URL_SCHEMES = {"http", "https", "mailto"}

# No rule matches across a placeholder (\x00): a link never swallows another link.
_LINK = re.compile(r"\[([^\]\n\x00]{1,300})\]\(((?:https?://|mailto:)[^\s)\"<>\x00]{1,2000})\)")
_BARE_URL = re.compile(r"(?<![\"=>\w/])(https?://[^\s<>\"\x00]{1,2000}[^\s<>\".,;:!?)\]\x00])")
_STRONG = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_EM_STAR = re.compile(r"(?<![\*\w])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\*\w])")
_EM_UNDERSCORE = re.compile(r"(?<![_\w])_(?=\S)(.+?)(?<=\S)_(?![_\w])")
_BULLET = re.compile(r"^\s{0,3}[-*]\s+(.*)$")
_NUMBERED = re.compile(r"^\s{0,3}\d{1,3}[.)]\s+(.*)$")


def _inline(escaped: str, mention_url: Callable[[str], str | None]) -> str:
    placeholders: list[str] = []

    def keep(html: str) -> str:
        placeholders.append(html)
        return f"\x00{len(placeholders) - 1}\x00"

    escaped = _LINK.sub(lambda m: keep(f'<a href="{m.group(2)}">{m.group(1)}</a>'), escaped)
    escaped = _BARE_URL.sub(lambda m: keep(f'<a href="{m.group(1)}">{m.group(1)}</a>'), escaped)

    def mention(m: re.Match[str]) -> str:
        ref = m.group(1).upper()
        url = mention_url(ref)
        if url is None:
            return m.group(0)
        return keep(f'<a class="app-mention" href="{escape(url)}">#{ref}</a>')

    escaped = MENTION.sub(mention, escaped)
    escaped = _STRONG.sub(r"<strong>\1</strong>", escaped)
    escaped = _EM_STAR.sub(r"<em>\1</em>", escaped)
    escaped = _EM_UNDERSCORE.sub(r"<em>\1</em>", escaped)
    return re.sub("\x00(\\d+)\x00", lambda m: placeholders[int(m.group(1))], escaped)


def render(text: str, mention_url: Callable[[str], str | None] = lambda ref: None) -> Markup:
    """Safe HTML for a message body; never raises."""
    text = clean_text(text)
    try:
        return _render(text, mention_url)
    except Exception:  # noqa: BLE001 - a rule's bug must not take the page down
        log.exception("discussion text could not be rendered; shown as plain text")
        lines = "<br>".join(str(escape(line)) for line in text.split("\n"))
        return Markup(f"<p>{lines}</p>")  # noqa: S704 - every line escaped just above


def _render(text: str, mention_url: Callable[[str], str | None]) -> Markup:
    blocks: list[str] = []
    paragraph: list[str] = []
    list_kind: str | None = None
    items: list[str] = []

    def flush_paragraph() -> None:
        if paragraph:
            blocks.append("<p>" + "<br>".join(paragraph) + "</p>")
            paragraph.clear()

    def flush_list() -> None:
        nonlocal list_kind
        if list_kind:
            inner = "".join(f"<li>{i}</li>" for i in items)
            blocks.append(f"<{list_kind}>{inner}</{list_kind}>")
            items.clear()
            list_kind = None

    for raw in text.split("\n"):
        line = _inline(str(escape(raw)), mention_url)
        bullet, numbered = _BULLET.match(raw), _NUMBERED.match(raw)
        if bullet or numbered:
            kind = "ul" if bullet else "ol"
            flush_paragraph()
            if list_kind != kind:
                flush_list()
                list_kind = kind
            inner = (bullet or numbered).group(1)  # type: ignore[union-attr]
            items.append(_inline(str(escape(inner)), mention_url))
        elif not raw.strip():
            flush_paragraph()
            flush_list()
        else:
            flush_list()
            paragraph.append(line)
    flush_paragraph()
    flush_list()
    html = nh3.clean(
        "".join(blocks),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="nofollow noopener noreferrer",
    )
    return Markup(html)  # noqa: S704 - sanitised by nh3 just above


def excerpt(text: str, length: int = 140) -> str:
    """Plain text for a reply's quote: Markdown marks dropped, shortened at a word."""
    plain = re.sub(r"[*_]{1,2}", "", _LINK.sub(r"\1", clean_text(text)))
    plain = " ".join(plain.split())
    if len(plain) <= length:
        return plain
    return plain[:length].rsplit(" ", 1)[0] + "…"
