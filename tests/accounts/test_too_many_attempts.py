"""Beyond allauth's per-address limits a visitor gets a page in the site's look, with status
429, not a bare HTML string."""

from __future__ import annotations

from typing import Any

from django.test import Client


def test_it_answers_too_many_signups_with_the_site_page(db: Any) -> None:
    client = Client()
    statuses = [
        client.post("/accounts/signup/", {"email": "not-an-email"}).status_code for _ in range(21)
    ]

    assert statuses[:20] == [200] * 20  # the form with its errors
    assert statuses[20] == 429
    page = client.post("/accounts/signup/", {"email": "not-an-email"})
    assert page.status_code == 429
    assert b"Too many attempts" in page.content
    assert b"/static/css/site.css" in page.content
