"""Reading pages the way a person does: visible text, links, form errors."""

from __future__ import annotations

from bs4 import BeautifulSoup
from werkzeug.test import TestResponse


def page(response: TestResponse) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text_of(response: TestResponse) -> str:
    soup = page(response)
    for hidden in soup.select("script, style"):
        hidden.decompose()
    return " ".join(soup.get_text(" ").split())


def error_summary(response: TestResponse) -> list[str]:
    return [li.get_text(" ", strip=True) for li in page(response).select(".nhsuk-error-summary li")]
