"""`taizhang audit verify` over every chain."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from .helpers import report, to_rectifying


def test_verify_reports_intact_chains(world, capsys):
    to_rectifying(world, report(world))
    report(world)
    call_command("audit", "verify")
    assert "2 个案件，5 条流转记录" in capsys.readouterr().out


def test_verify_names_the_first_broken_link(world):
    case = to_rectifying(world, report(world))
    with connection.cursor() as cursor:
        cursor.execute(
            "DROP TRIGGER IF EXISTS cases_transition_append_only"
            + (" ON cases_transition" if connection.vendor == "postgresql" else "")
        )
        cursor.execute(
            "UPDATE cases_transition SET opinion = '伪造' WHERE case_id = %s AND seq = 3", [case.pk]
        )
    with pytest.raises(CommandError, match=f"{case.number} 第 3 条"):
        call_command("audit", "verify")


def test_verify_unknown_case_number(world):
    with pytest.raises(CommandError, match="没有编号为 YH-1 的案件"):
        call_command("audit", "verify", "--case", "YH-1")
