"""`taizhang audit verify|keygen|checkpoint`: is the record what was written, and signed checkpoints of it.

Exit status: 0 when everything holds; 1 with the first problem named (every problem is listed on
stderr as it is found) or when a key or checkpoint cannot be used.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from taizhang.cases.audit_keys import AuditKeyError, keyring, read_private_key, write_keypair
from taizhang.cases.checkpoints import CheckpointError, make_checkpoint
from taizhang.cases.models import Case
from taizhang.cases.verify import Verifier
from taizhang.clock.now import now as clock_now
from taizhang.registers.checkpoint import covers_items
from taizhang.registers.verify import verify_registers


class Command(BaseCommand):
    help = "审计：校验记录（哈希链、案件表、附件文件、签名检查点）；生成签名密钥与检查点"

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="校验每个案件的记录，报告每一处问题")
        verify.add_argument("--case", help="只校验这个案件编号")
        verify.add_argument("--batch", type=int, default=500, help="每批读取的案件数（默认 500）")
        verify.add_argument("--skip-files", action="store_true", help="不重新计算附件文件的哈希")
        keygen = sub.add_parser("keygen", help="生成检查点签名用的 Ed25519 密钥对")
        keygen.add_argument("--private", required=True, help="私钥文件（权限 0600，不可放在数据库旁）")
        keygen.add_argument("--public", required=True, help="公钥文件（供 audit verify 使用）")
        checkpoint = sub.add_parser(
            "checkpoint", help="签署每个案件哈希链的链头（TAIZHANG_AUDIT_SIGNING_KEY）"
        )
        checkpoint.add_argument("--batch", type=int, default=1000, help="每批读取的案件数（默认 1000）")
        checkpoint.add_argument(
            "--first",
            action="store_true",
            help="开始检查点系列：仅当检查点日志为空时（首次，或恢复备份后换了新日志），须先核对记录",
        )

    def handle(self, *args, action: str, **options) -> None:
        if options.get("batch") is not None and options["batch"] < 1:
            raise CommandError("--batch 至少为 1")
        try:
            getattr(self, action)(**options)
        except AuditKeyError as exc:
            raise CommandError(str(exc)) from None

    def verify(self, case: str | None, batch: int, skip_files: bool, **_) -> None:
        cases = Case.objects.all()
        if case:
            cases = cases.filter(number=case)
            if not cases.exists():
                raise CommandError(f"没有编号为 {case} 的案件")
        verifier = Verifier(lambda text: self.stderr.write(text), files=not skip_files)
        if settings.TAIZHANG_AUDIT_VERIFY_KEY:
            verifier.use_checkpoints(keyring([Path(p) for p in settings.TAIZHANG_AUDIT_VERIFY_KEY]))
        else:
            verifier.summary.notes.append("未配置 TAIZHANG_AUDIT_VERIFY_KEY，未核对签名检查点")
        summary = verifier.run(cases, batch, whole=not case)
        if not case:  # the registers' items: their chains and rows (taizhang.registers.verify)
            signed = verifier.reader.checkpoint if verifier.reader else None
            items, events = verify_registers(verifier.problem, batch, signed)
            summary.notes.append(f"台账：{items} 个条目，{events} 条记录已校验")
            if signed is not None and not covers_items(signed):
                summary.notes.append(
                    f"检查点 #{signed.serial} 早于台账纳入检查点（格式 1），台账链头自下一个检查点起核对"
                )
        counts = f"{summary.cases} 个案件，{summary.rows} 条流转记录"
        if summary.problems:
            raise CommandError(
                f"记录有 {summary.problems} 处问题（已校验 {counts}）；第一处：{summary.first}"
            )
        if summary.checkpoint:
            summary.notes.append(f"与签名检查点 #{summary.checkpoint} 一致")
        files = "未校验附件文件" if skip_files else f"{summary.files} 个附件文件完好"
        self.stdout.write(self.style.SUCCESS(f"哈希链完好：{counts}；案件表与流转记录一致；{files}"))
        for note in summary.notes:
            self.stdout.write(note)

    def keygen(self, private: str, public: str, **_) -> None:
        kid = write_keypair(Path(private), Path(public))
        self.stdout.write(self.style.SUCCESS(f"已生成密钥对（公钥编号 {kid[:16]}…）"))
        self.stdout.write(
            f"私钥 {private}（权限 0600）：只放在生成检查点的机器上，设置 TAIZHANG_AUDIT_SIGNING_KEY；"
            "不要与数据库或其备份放在一起。\n"
            f"公钥 {public}：设置 TAIZHANG_AUDIT_VERIFY_KEY 供 taizhang audit verify 使用。"
        )

    def checkpoint(self, batch: int, first: bool, **_) -> None:
        if not settings.TAIZHANG_AUDIT_SIGNING_KEY:
            raise CommandError("未配置 TAIZHANG_AUDIT_SIGNING_KEY（签名私钥文件），无法生成检查点")
        private = read_private_key(Path(settings.TAIZHANG_AUDIT_SIGNING_KEY))
        keys = keyring([Path(p) for p in settings.TAIZHANG_AUDIT_VERIFY_KEY])
        try:
            made = make_checkpoint(private, keys, clock_now(), batch, first=first)
        except CheckpointError as exc:
            for text in exc.problems:
                self.stderr.write(text)
            raise CommandError(f"未生成检查点：{exc.problems[0]}") from None
        statement = made.statement
        self.stdout.write(self.style.SUCCESS(f"检查点 #{made.serial} 已签署：{statement}"))
