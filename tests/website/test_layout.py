"""templates/base.html: the navigation for visitors, customers and staff, on both hosts."""

from __future__ import annotations

from typing import Any

from django.test import Client

from tests.support import factories
from tests.website.conftest import HOST


def test_a_visitor_is_offered_sign_in_and_sign_up(db: Any, client: Client) -> None:
    html = client.get("/docs/", HTTP_HOST=HOST).content.decode()
    assert 'class="skip-link" href="#main"' in html and '<main id="main"' in html
    assert 'href="/docs/" aria-current="page"' in html
    for link in ("/models/", "/pricing/", "/api/docs/", "/accounts/login/", "/accounts/signup/"):
        assert f'href="{link}"' in html
    assert "Sign out" not in html and "Dashboard" not in html
    assert '<script src="/static/js/site.js" defer></script>' in html
    assert "<script>" not in html and " onclick=" not in html


def test_a_customer_sees_the_dashboard_and_signs_out_with_a_post(db: Any, client: Client) -> None:
    user = factories.user()
    client.force_login(user)
    html = client.get("/", HTTP_HOST=HOST).content.decode()
    assert 'href="/app/"' in html and user.email in html
    assert 'method="post" action="/accounts/logout/"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'href="/admin/"' not in html and 'href="/accounts/signup/"' not in html


def test_signing_out_works(db: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(factories.user())
    page = client.get("/", HTTP_HOST=HOST)
    token = page.content.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    response = client.post("/accounts/logout/", {"csrfmiddlewaretoken": token}, HTTP_HOST=HOST)
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_staff_see_the_admin_link(db: Any, client: Client) -> None:
    client.force_login(factories.user(is_staff=True))
    assert 'href="/admin/"' in client.get("/", HTTP_HOST=HOST).content.decode()


def test_a_workspace_host_links_only_to_its_own_pages(db: Any, client: Client) -> None:
    tenant = factories.tenant(product=factories.product())
    response = client.get("/accounts/login/", HTTP_HOST=tenant.get_primary_domain().domain)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'href="/models/"' not in html and 'href="/docs/"' not in html
    assert 'href="/accounts/signup/"' in html
