"""Shared fixtures: a small org tree on the source documents' places and one persona per role."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
from django.utils import translation
from hypothesis import settings as hypothesis_settings

from taizhang.clock.clock import reset_clock

# Time is no property of these tests (speed is measured by bench/, never asserted): no per-example deadline,
# which a loaded CI machine would otherwise turn into flaky failures.
hypothesis_settings.register_profile("taizhang", deadline=None)
hypothesis_settings.load_profile("taizhang")

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fresh_clock(settings, tmp_path):
    """Every test starts with the clock built from its own settings; media goes to a temp dir."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.TAIZHANG_MODEL_DIR = tmp_path / "models"  # no topic model unless a test trains one
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast personas
    reset_clock()
    translation.deactivate()  # a request in an earlier test may have left English active in this thread
    yield
    reset_clock()
    translation.deactivate()


@dataclass
class World:
    city: object
    district: object
    street: object
    other_street: object
    community: object
    grid: object
    other_grid: object
    safety_bureau: object
    housing_bureau: object
    enforcement_bureau: object
    enterprise: object
    workshop: object
    other_unit: object
    grid_worker: object
    dispatcher: object
    handler: object
    verifier: object
    leader: object
    inspector: object
    resident: object
    outsider: object
    enterprise_officer: object
    other_handler: object

    def personas(self) -> dict[str, object]:
        return {
            name: getattr(self, name)
            for name in (
                "grid_worker",
                "dispatcher",
                "handler",
                "verifier",
                "leader",
                "inspector",
                "resident",
                "outsider",
                "enterprise_officer",
            )
        }


def build_world() -> World:
    from taizhang.org.models import Division, Membership, Unit, User

    def div(code, name, level, parent=None):
        return Division.objects.create(code=code, name=name, level=level, parent=parent)

    def unit(code, name, kind, division, parent=None, enforcement=False):
        return Unit.objects.create(
            code=code, name=name, kind=kind, division=division, parent=parent, enforcement=enforcement
        )

    def person(username, name, role, division=None, unit=None):
        user = User.objects.create_user(username=username, password="pw-" + username, display_name=name)
        Membership.objects.create(user=user, role=role, division=division, unit=unit)
        return user

    city = div("CZS", "长治市", "city")
    district = div("LZQ", "潞州区", "district", city)
    street = div("WMJD", "五马街道", "street", district)
    other_street = div("XBTZ", "西白兔镇", "street", district)
    community = div("WMJD-HX", "和心社区", "community", street)
    grid = div("WMJD-HX-01", "和心社区第一网格", "grid", community)
    other_community = div("XBTZ-BT", "白兔村", "community", other_street)
    other_grid = div("XBTZ-BT-01", "白兔村第一网格", "grid", other_community)
    safety = unit("LZQ-YJJ", "潞州区应急管理局", "department", district)
    housing = unit("LZQ-ZJJ", "潞州区住房和城乡建设局", "department", district)
    enforcement = unit("LZQ-ZFJ", "潞州区综合行政执法局", "department", district, enforcement=True)
    enterprise = unit("QY-JRHG", "晋瑞精细化工有限公司", "enterprise", other_street)
    workshop = unit("QY-JRHG-01", "合成车间", "workshop", other_street, parent=enterprise)
    other_unit = unit("LZQ-SWJ", "潞州区水务局", "department", district)
    return World(
        city=city,
        district=district,
        street=street,
        other_street=other_street,
        community=community,
        grid=grid,
        other_grid=other_grid,
        safety_bureau=safety,
        housing_bureau=housing,
        enforcement_bureau=enforcement,
        enterprise=enterprise,
        workshop=workshop,
        other_unit=other_unit,
        grid_worker=person("wangge", "韩晓晴", "grid_worker", division=grid),
        dispatcher=person("paiqian", "贾文博", "dispatcher", division=street),
        handler=person("chuzhi", "牛志远", "handler", unit=safety),
        verifier=person("hecha", "田慧敏", "verifier", division=street),
        leader=person("lingdao", "常建国", "leader", division=district),
        inspector=person("jiwei", "申立行", "inspector", division=district),
        resident=person("jumin", "郝小雨", "resident"),
        outsider=person("waiwei", "秦路遥", "grid_worker", division=other_grid),
        enterprise_officer=person("anquan", "武清源", "enterprise_officer", unit=enterprise),
        other_handler=person("shuiwu", "李泽川", "handler", unit=other_unit),
    )


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture
def photo(world):
    """An uploaded photo factory: photo(user) -> Attachment id."""
    import io

    from PIL import Image

    from taizhang.cases.attachments import do_upload_attachment

    def make(user, color=(200, 40, 40)) -> int:
        buf = io.BytesIO()
        Image.new("RGB", (8, 8), color).save(buf, "JPEG")
        data = buf.getvalue()
        return do_upload_attachment(user, "现场.jpg", io.BytesIO(data), len(data)).pk

    return make
