"""Open311 keys (#12): their own kind, hashed, only for Open311; the X-API-Key header; idempotency that
expires (Open311 and the API's Idempotency-Key alike); request tokens random per request.

Each test fails on the code before the change: there api_key was a full API token, only a form or
query parameter, a retry was recognised forever, and the token was the SHA-256 of what was sent.
"""

# ruff: noqa: F811  (the fixtures imported from open311_support are parameters of the tests)

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import asdict
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command

from taizhang.cases.models import Case, IdempotencyKey
from taizhang.intake.models import Open311Key, Open311Request
from taizhang.intake.open311.actions import Open311Post
from taizhang.org.models import ApiToken, Membership
from taizhang.web.api.auth import issue_token
from tests.api.conftest import ApiClient, case_body
from tests.intake.open311_support import FROZEN_AT, api_key, frozen, intake_user, o311, report  # noqa: F401

pytestmark = pytest.mark.django_db


def command(*args: str) -> str:
    out = io.StringIO()
    call_command("open311", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def post_raw(o311, fmt: str = "json", headers: dict | None = None, **params):
    return o311.client.post(f"/open311/v2/requests.{fmt}", params, headers=headers or {})


# Keys of their own kind -------------------------------------------------------------------------------


def test_the_command_issues_a_hashed_key_lists_and_revokes_it(o311, report, intake_user, world):
    raw = command("key", "create", "shouli", "--name", "市12345平台")
    assert re.fullmatch(r"o311_[A-Za-z0-9_-]{43}", raw)
    row = Open311Key.objects.get(name="市12345平台")  # (the report fixture issued one too)
    assert row.user == intake_user and row.name == "市12345平台" and row.division is None
    assert row.key_hash == hashlib.sha256(raw.encode()).hexdigest()  # only the hash is kept
    assert not ApiToken.objects.exists()  # not an API token
    assert o311.post(**report(api_key=raw))
    listed = command("key", "list")
    assert f"#{row.pk}" in listed and "市12345平台" in listed and "shouli" in listed and raw not in listed
    command("key", "revoke", str(row.pk))
    assert "市12345平台" not in command("key", "list")
    assert "市12345平台  shouli  （受理员的区划）  最近使用" in command("key", "list", "--all")
    assert o311.error("requests", 403, method="POST", **report(api_key=raw, description="另一件"))


def test_the_command_refuses_a_person_without_the_intake_role(world):
    with pytest.raises(CommandError, match="不是任何区划的受理员"):
        command("key", "create", world.grid_worker.username)
    with pytest.raises(CommandError, match="不是潞州区的受理员"):
        command("key", "create", world.dispatcher.username, "--division", world.district.code)
    with pytest.raises(CommandError, match="没有用户名"):
        command("key", "create", "nobody")
    assert not Open311Key.objects.exists()


def test_a_full_api_token_is_refused_as_api_key(o311, report, intake_user):
    token = issue_token(intake_user, "接口令牌")
    [message] = o311.error("requests", 403, method="POST", **report(api_key=token))
    assert "台账接口令牌" in message and "taizhang open311 key create" in message
    assert Case.objects.count() == 0


def test_an_open311_key_is_not_a_bearer_token_for_the_api(api_key, world):
    client = ApiClient(api_key)
    assert client.get("/cases").status_code == 401
    assert client.create(world).status_code == 401
    assert Case.objects.count() == 0


def test_the_key_works_as_the_x_api_key_header_and_as_a_parameter(o311, report, api_key):
    by_header = post_raw(o311, headers={"X-API-Key": api_key}, **report(api_key=None))
    assert by_header.status_code == 201, by_header.content.decode()
    by_form = post_raw(o311, **report(description="路灯不亮"))
    assert by_form.status_code == 201
    same = post_raw(o311, headers={"X-API-Key": api_key}, **report(description="井盖缺失"))
    assert same.status_code == 201  # the same key twice is no conflict
    other = post_raw(o311, headers={"X-API-Key": "o311_other"}, **report(description="噪音"))
    assert other.status_code == 400
    assert "X-API-Key" in json.loads(other.content)[0]["description"]
    assert Case.objects.count() == 3


def test_a_key_limited_to_a_division_files_there_and_below_only(o311, report, intake_user, world):
    raw = command("key", "create", "shouli", "--division", world.street.code)
    data = o311.post(**report(api_key=raw, jurisdiction_id=None))
    assert Case.objects.get(number=data["service_request_id"]).division == world.street
    assert o311.post(**report(api_key=raw, jurisdiction_id=world.community.code, description="下级"))
    [message] = o311.error("requests", 403, method="POST", **report(api_key=raw, description="区里"))
    assert "只能用于五马街道" in message


def test_a_key_stops_working_when_its_person_loses_the_role(o311, report, intake_user):
    Membership.objects.filter(user=intake_user).delete()
    [message] = o311.error("requests", 403, method="POST", **report())
    assert "不是潞州区的受理员" in message


# Idempotency that expires -----------------------------------------------------------------------------


def test_an_open311_retry_within_the_window_files_nothing_and_after_it_files_anew(o311, report, frozen):
    first = o311.post(**report())
    frozen.move_to(FROZEN_AT + timedelta(hours=23, minutes=59))
    assert o311.post(status=200, **report()) == first
    frozen.move_to(FROZEN_AT + timedelta(hours=24))
    later = o311.post(status=201, **report())
    assert later["service_request_id"] != first["service_request_id"]
    assert later["token"] != first["token"]
    assert Case.objects.count() == 2
    assert IdempotencyKey.objects.count() == 1  # the expired row was deleted when the key came again
    assert o311.post(status=200, **report()) == later


def test_the_api_idempotency_key_expires_the_same_way(world, frozen, settings):
    settings.TAIZHANG_IDEMPOTENCY_HOURS = 2
    client = ApiClient(issue_token(world.grid_worker, "pad"))
    first = client.create(world, key="pad-0001")
    assert first.status_code == 201
    frozen.move_to(FROZEN_AT + timedelta(hours=1, minutes=59))
    assert client.create(world, key="pad-0001").status_code == 200
    assert client.create(world, key="pad-0001", title="另一个隐患").status_code == 409
    frozen.move_to(FROZEN_AT + timedelta(hours=2))
    other = client.create(world, key="pad-0001", title="另一个隐患")  # neither replayed nor refused
    assert other.status_code == 201 and other.json()["number"] != first.json()["number"]
    assert Case.objects.count() == 2 and IdempotencyKey.objects.get().case.title == "另一个隐患"


def test_the_worker_purges_expired_keys(world, frozen):
    from taizhang.clock.worker import run_once

    client = ApiClient(issue_token(world.grid_worker, "pad"))
    assert client.create(world, key="old").status_code == 201
    frozen.move_to(FROZEN_AT + timedelta(hours=20))
    assert client.create(world, key="young", title="消防栓被圈占").status_code == 201
    frozen.move_to(FROZEN_AT + timedelta(hours=24))
    run_once()
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["young"]
    assert Case.objects.count() == 2  # the cases stay; only their keys go


def test_a_resent_form_after_the_window_files_a_new_case(world, frozen, photo):
    from taizhang.cases.create import CaseInput
    from taizhang.intake.submit import attachments_of_key, do_submit_case

    data = CaseInput(**{**case_body(world), "attachments": [photo(world.grid_worker)]})
    case, created = do_submit_case(world.grid_worker, data, "draft-1")
    assert created and attachments_of_key(world.grid_worker, "draft-1") == data.attachments
    frozen.move_to(FROZEN_AT + timedelta(hours=24))
    assert attachments_of_key(world.grid_worker, "draft-1") is None


# Request tokens ----------------------------------------------------------------------------------------


def old_style_token(user, jurisdiction: str, params: dict) -> str:
    """What the token used to be: the SHA-256 of the person and what was sent — computable by anyone
    who reads the public request and guesses a small user id."""
    post = Open311Post(**{k: v for k, v in params.items() if not k.startswith("attribute[")})
    sent = {k: v for k, v in asdict(post).items() if k not in ("api_key", "jurisdiction_id", "lat", "long")}
    sent["point"] = [round(float(params["lat"]), 6), round(float(params["long"]), 6)]
    sent["attributes"] = {k[10:-1]: v for k, v in params.items() if k.startswith("attribute[")}
    blob = json.dumps([user.pk, jurisdiction, sent], sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def test_the_token_is_random_per_request_and_not_derived_from_what_was_sent(o311, report, intake_user, world):
    params = report()
    first = o311.post(**params)
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", first["token"])  # 32 random bytes
    guessed = old_style_token(intake_user, world.district.code, params)
    assert o311.error(f"tokens/{guessed}", 404)
    assert (
        o311.get(f"tokens/{first['token']}", "tokens")[0]["service_request_id"] == first["service_request_id"]
    )
    assert o311.post(status=200, **params)["token"] == first["token"]  # a retry: the same request
    tokens = {first["token"]} | {o311.post(**report(device_id=f"kiosk-{i}"))["token"] for i in range(5)}
    assert len(tokens) == 6
    stored = set(Open311Request.objects.values_list("token", flat=True))
    assert stored == tokens
    keys = set(IdempotencyKey.objects.values_list("key", flat=True))
    assert not any(t in k for t in tokens for k in keys)  # the retry key is not the token


def test_the_same_report_under_two_keys_gets_two_tokens(o311, report, api_key, intake_user):
    other = command("key", "create", "shouli", "--name", "第二个系统")
    one, two = o311.post(**report()), o311.post(**report(api_key=other))
    assert one["token"] != two["token"] and one["service_request_id"] != two["service_request_id"]
