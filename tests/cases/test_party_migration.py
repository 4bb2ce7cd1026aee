"""Migrating a database made before parties existed (cases 0008–0009) keeps the record provable and
gives every case the parties its history says it has.

`fixtures/pre_parties.json.gz` was written by the code before parties (commit cc004c9) with
`fixtures/make_pre_parties.py.txt`: closed hazards, a 联合执法 that (then) took the case away from the
enterprise, a 退回 and 交办 again, a demand with a 协办 unit, a petition in 复查 and a self-check report.
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
import time_machine
from django.apps import apps
from django.core.management import call_command
from django.core.serializers.python import Deserializer as PythonDeserializer
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from taizhang.cases.models import Case, CaseParty
from taizhang.cases.party_rebuild import rebuild_parties
from taizhang.org.models import Division, Membership, Unit
from tests.cases.helpers import act, at, report
from tests.cases.test_parties import hazard_at_the_enterprise

FIXTURE = Path(__file__).parent / "fixtures" / "pre_parties.json.gz"
BEFORE = "0007_audit_checkpoint_history_delete_trigger"
MODELS = {
    "Case": Case,
    "Transition": Case.transitions.rel.related_model,
    "CaseParty": CaseParty,
    "Membership": Membership,
    "Division": Division,
    "Unit": Unit,
}


def load_as_migrated(fixture: Path) -> None:
    """`loaddata` through the models of the migrations applied now, as the code of that time would load it:
    today's models have columns (added later) the old tables lack."""
    loader = MigrationExecutor(connection).loader
    old_apps = loader.project_state(list(loader.applied_migrations)).apps
    old_apps.get_model("org", "User").USERNAME_FIELD = "username"  # natural keys of the history's actors

    def model_of(identifier: str):
        return (old_apps if identifier.startswith("cases.") else apps).get_model(identifier)

    with mock.patch.object(PythonDeserializer, "_get_model_from_node", staticmethod(model_of)):
        call_command("loaddata", str(fixture), verbosity=0)


def parties(case: Case) -> set[tuple[str, str]]:
    return set(case.parties.values_list("kind", "path"))


@pytest.mark.django_db(transaction=True)
def test_a_database_from_before_parties_migrates_and_still_verifies():
    call_command("migrate", "cases", BEFORE, verbosity=0)
    try:
        load_as_migrated(FIXTURE)
        call_command("migrate", verbosity=0)
    finally:
        call_command("migrate", verbosity=0)  # leave the schema whole for the tests after this one
    call_command("audit", "verify", "--skip-files", verbosity=0)  # raises CommandError on any problem
    by_title = {c.title: c for c in Case.objects.all()}
    assert all(c.parties.filter(kind="place").count() == 1 for c in by_title.values())
    closed = by_title["楼道堆物"]
    assert ("lead", "u/LZQ-YJJ/") in parties(closed)
    assert ("supervisor", "d/CZS/LZQ/WMJD/") in parties(closed)  # the street's dispatcher handed it over
    enforced = by_title["企业拒不整改"]
    # Before parties, 联合执法 made the bureau the lead unit: the history says so and stays as it is; the
    # bureau is the enforcement party too, and the enterprise keeps read access as an earlier lead.
    assert {("lead", "u/LZQ-ZFJ/"), ("enforcement", "u/LZQ-ZFJ/"), ("former", "u/QY-JRHG/")} <= parties(
        enforced
    )
    returned = by_title["井盖缺失"]
    assert {("lead", "u/LZQ-ZJJ/"), ("former", "u/LZQ-YJJ/")} <= parties(returned)
    assert ("co", "u/LZQ-SWJ/") in parties(by_title["小区路灯不亮"])
    petition = by_title["加装电梯补贴未兑现"]
    assert {("lead", "u/LZQ-ZF/"), ("former", "u/LZQ-ZF/LZQ-YJJ/")} <= parties(petition) or {
        ("lead", "u/LZQ-ZF/"),
        ("former", "u/LZQ-YJJ/"),
    } <= parties(petition)
    self_check = by_title["企业自查"]
    assert {("lead", "u/QY-JRHG/"), ("supervisor", "d/CZS/LZQ/XBTZ/")} <= parties(self_check)


def test_rebuilding_from_the_history_gives_the_parties_the_engine_kept(world, photo):
    """The rows the engine keeps are those its history rows imply (the migration's rebuild)."""
    with time_machine.travel(at(2026, 3, 10, 9, 30), tick=False):
        enforced = hazard_at_the_enterprise(world, photo)
        act(world.dispatcher, enforced, "refuse", params={"unit": world.enforcement_bureau.code})
        moved = report(world, title="井盖缺失")
        act(world.leader, moved, "register")
        act(
            world.leader, moved, "assign", params={"unit": world.safety_bureau.code}
        )  # the district supervises
        act(world.handler, moved, "return", opinion="不属于本单位")
        act(world.dispatcher, moved, "assign", params={"unit": world.housing_bureau.code})  # now the street
        report(world, user=world.enterprise_officer, division=world.other_grid.code, title="企业自查")
    kept = {c.pk: parties(c) for c in Case.objects.all()}
    assert ("former", "d/CZS/LZQ/") in kept[moved.pk]  # the district handed it over first
    CaseParty.objects.all().delete()
    assert rebuild_parties(MODELS) == len(kept)
    assert {c.pk: parties(c) for c in Case.objects.all()} == kept
