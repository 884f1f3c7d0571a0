"""GET /v1/models and /v1/models/{id}: only what the key and plan may use."""

from __future__ import annotations

import openai
import pytest

from tests.support.live import World


def test_it_lists_only_allowed_models(base_url: str, world: World) -> None:
    c = openai.OpenAI(base_url=base_url, api_key=world.secret, max_retries=0)
    ids = {m.id for m in c.models.list()}
    assert world.models["gpt"] in ids and world.models["embed"] in ids
    assert world.models["outsider"] not in ids
    model = c.models.retrieve(world.models["gpt"])
    assert model.id == world.models["gpt"] and model.object == "model"


def test_a_key_limited_to_models_sees_only_those(base_url: str, world: World) -> None:
    _, secret = world.new_key(allowed_models=[world.models["claude"]])
    c = openai.OpenAI(base_url=base_url, api_key=secret, max_retries=0)
    assert [m.id for m in c.models.list()] == [world.models["claude"]]
    with pytest.raises(openai.NotFoundError) as info:
        c.models.retrieve(world.models["gpt"])
    assert info.value.body["code"] == "model_not_found"  # type: ignore[index]


def test_unknown_and_outside_models_are_404(base_url: str, world: World) -> None:
    c = openai.OpenAI(base_url=base_url, api_key=world.secret, max_retries=0)
    for name in ("does-not-exist", world.models["outsider"]):
        with pytest.raises(openai.NotFoundError):
            c.models.retrieve(name)
