"""Ready-to-paste code for a new key: curl and the `openai` SDK against this site's /v1."""

from __future__ import annotations

import json
from dataclasses import dataclass

from apps.catalog.models import ModelPrice, ModelRoute
from apps.tenants.models import Tenant


@dataclass(frozen=True)
class Snippet:
    id: str  # the element id a copy button points at
    title: str
    code: str


def sample_model(tenant: Tenant) -> str | None:
    """The first chat model the workspace's plan allows and that has a current price (the
    gateway refuses an unpriced one to a budgeted tenant): a snippet that works as pasted.
    None when the workspace has no plan or its plan allows no such model."""
    if tenant.product_id is None:
        return None
    return (
        ModelRoute.objects.filter(
            products=tenant.product_id, is_active=True, mode=ModelRoute.Mode.CHAT
        )
        .filter(id__in=ModelPrice.objects.in_force().values("route_id"))
        .order_by("public_name")
        .values_list("public_name", flat=True)
        .first()
    )


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def snippets(*, base_url: str, secret: str, model: str) -> list[Snippet]:
    """`base_url` is the site's root (scheme and host, no trailing slash)."""
    body = json.dumps({"model": model, "messages": [{"role": "user", "content": "Hello!"}]})
    curl = (
        f"curl {base_url}/v1/chat/completions \\\n"
        f'  -H "Authorization: Bearer {secret}" \\\n'
        '  -H "Content-Type: application/json" \\\n'
        f"  -d {_shell_quote(body)}"
    )
    python = (
        "from openai import OpenAI\n\n"
        "client = OpenAI(\n"
        f"    base_url={json.dumps(base_url + '/v1')},\n"
        f"    api_key={json.dumps(secret)},\n"
        ")\n"
        "reply = client.chat.completions.create(\n"
        f"    model={json.dumps(model)},\n"
        '    messages=[{"role": "user", "content": "Hello!"}],\n'
        ")\n"
        "print(reply.choices[0].message.content)"
    )
    return [
        Snippet("snippet-curl", "curl", curl),
        Snippet("snippet-python", "Python (openai SDK)", python),
    ]
