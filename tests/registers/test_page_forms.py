"""The item page's forms clear a field left empty and untick a box, as the API does with null and false;
an untouched form changes nothing, and a required field emptied is the API's error."""

from __future__ import annotations

from django.test import Client

from taizhang.registers.models import RegisterItem

from .helpers import ours, theirs

CHANGE_SHOWN = ["credit_code", "legal_person", "safety_officer", "phone", "employees", "major_hazard_source"]


def change_form(item, **fields) -> dict:
    """What the change form posts: every attribute, every field input shown (boxes only when ticked)."""
    data = item.data
    post = {
        "version": str(item.version),
        "name": item.name,
        "category": item.category,
        "division": item.division.code if item.division_id else "",
        "unit": item.unit.code if item.unit_id else "",
        "address": item.address,
        "lat": str(item.lat),
        "lon": str(item.lon),
        "shown": [f"field-{n}" for n in CHANGE_SHOWN],
    }
    for name in CHANGE_SHOWN:
        value = fields.get(name, data.get(name))
        if name == "major_hazard_source":
            if value:
                post[f"field-{name}"] = "on"
        elif value not in (None, ""):
            post[f"field-{name}"] = str(value)
    return post


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_change_form_renders_a_shown_marker_for_each_field(world):
    a = ours(world)
    page = client_of(world.dispatcher).get(f"/registers/items/{a.number}/").content.decode()
    assert 'name="shown" value="field-phone"' in page
    assert 'name="shown" value="field-risk_level"' in page  # the assessment's form too


def test_the_change_form_clears_a_field_and_unticks_a_box(world):
    b = theirs(world)  # major_hazard_source ticked
    b = RegisterItem.objects.select_related("division", "unit").get(pk=b.pk)
    post = change_form(b, major_hazard_source=False)
    response = client_of(world.leader).post(f"/registers/items/{b.number}/change/", post)
    assert response.status_code == 302, response.content.decode()[:2000]
    stored = RegisterItem.objects.get(pk=b.pk)
    assert stored.data["major_hazard_source"] is False
    event = stored.events.order_by("-seq").first()
    assert event.changes == {"fields.major_hazard_source": [True, False]}


def test_an_emptied_text_field_is_cleared(world):
    a = ours(world)
    a = RegisterItem.objects.select_related("division", "unit").get(pk=a.pk)
    post = change_form(a)
    del post["field-phone"]
    post["field-phone"] = ""
    assert client_of(world.dispatcher).post(f"/registers/items/{a.number}/change/", post).status_code == 302
    stored = RegisterItem.objects.get(pk=a.pk)
    assert "phone" not in stored.data
    assert stored.events.order_by("-seq").first().changes == {"fields.phone": ["13912345678", None]}


def test_an_untouched_form_changes_nothing(world):
    a = ours(world)
    a = RegisterItem.objects.select_related("division", "unit").get(pk=a.pk)
    response = client_of(world.dispatcher).post(f"/registers/items/{a.number}/change/", change_form(a))
    assert response.status_code == 422 and "没有任何改动" in response.content.decode()


def test_an_emptied_required_field_is_the_apis_error(world):
    a = ours(world)
    a = RegisterItem.objects.select_related("division", "unit").get(pk=a.pk)
    post = change_form(a)
    post["field-credit_code"] = ""
    response = client_of(world.dispatcher).post(f"/registers/items/{a.number}/change/", post)
    assert response.status_code == 422 and "请填写统一社会信用代码" in response.content.decode()
    api = client_of(world.dispatcher).post(
        f"/api/v1/register-items/{a.number}/changes",
        {"fields": {"credit_code": None}},
        content_type="application/json",
    )
    assert api.status_code == 422 and api.json()["errors"][0]["field"] == "fields.credit_code"
    assert RegisterItem.objects.get(pk=a.pk).data["credit_code"] == "91140400MA0K1234X1"


def test_the_assessment_form_clears_an_assessed_field(world):
    b = theirs(world)
    post = {
        "version": str(b.version),
        "shown": ["field-risk_level", "field-method", "field-assessed_on"],
        "field-risk_level": "general",
        "field-assessed_on": "2026-03-01",
        "opinion": "复评：方法待定",
    }
    response = client_of(world.leader).post(f"/registers/items/{b.number}/assess/", post)
    assert response.status_code == 302
    stored = RegisterItem.objects.get(pk=b.pk)
    assert "method" not in stored.data and stored.data["risk_level"] == "general"
