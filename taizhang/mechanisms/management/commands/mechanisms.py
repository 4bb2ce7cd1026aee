"""`taizhang mechanisms check [FILE ...]` and `taizhang mechanisms list`."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from taizhang.mechanisms.errors import MechanismError
from taizhang.mechanisms.registry import load_directory
from taizhang.mechanisms.validate import validate_mechanism, validate_pack
from taizhang.mechanisms.yamlfile import read_lined_yaml


class Command(BaseCommand):
    help = "校验机制定义和规则包（错误指出文件、行号和字段）"
    requires_system_checks: list = []

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="校验机制文件；不给文件时校验整个机制目录")
        check.add_argument("files", nargs="*", type=Path)
        sub.add_parser("list", help="列出已加载的机制")

    def handle(self, *args, action: str, files: list[Path] | None = None, **options) -> None:
        directory = Path(settings.TAIZHANG_MECHANISM_DIR)
        if action == "list":
            registry = load_directory(directory)
            for m in registry.mechanisms.values():
                d = m.definition
                self.stdout.write(f"{m.code}\t{m.name}\tv{d.version}\t{len(d.states)} 个状态\t{len(d.transitions)} 个流转")
            return
        try:
            if not files:
                registry = load_directory(directory)
                self.stdout.write(self.style.SUCCESS(
                    f"机制定义无误：{len(registry.mechanisms)} 个机制，{len(registry.packs)} 个规则包（{directory}）"
                ))
                return
            known = {m.code: m.definition for m in load_directory(directory).mechanisms.values()}
            for path in files:
                lined = read_lined_yaml(path)
                if isinstance(lined.data, dict) and "pack" in lined.data:
                    validate_pack(lined, known)
                else:
                    known_def = validate_mechanism(lined)
                    known[known_def.code] = known_def
                self.stdout.write(self.style.SUCCESS(f"{path}：无误"))
        except MechanismError as exc:
            raise CommandError(f"机制定义有误：\n{exc}") from None
