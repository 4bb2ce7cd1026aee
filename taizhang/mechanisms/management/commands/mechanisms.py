"""`taizhang mechanisms check [FILE ...]` and `taizhang mechanisms list`."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from taizhang.mechanisms.errors import MechanismError, Problem
from taizhang.mechanisms.register import is_register
from taizhang.mechanisms.registry import load_directory, yaml_files
from taizhang.mechanisms.schema import MechanismDef
from taizhang.mechanisms.validate import validate_mechanism
from taizhang.mechanisms.validate_pack import validate_pack
from taizhang.mechanisms.validate_register import validate_register
from taizhang.mechanisms.yamlfile import LinedData, read_lined_yaml


def is_pack(path: Path, lined: LinedData) -> bool:
    """A rule pack lives in a `packs/` folder or has a top-level `pack:` key."""
    return path.parent.name == "packs" or (isinstance(lined.data, dict) and "pack" in lined.data)


class Command(BaseCommand):
    help = "校验机制定义和规则包（错误指出文件、行号和字段）"
    requires_system_checks: list = []

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        check = sub.add_parser("check", help="校验机制文件或规则包；不给文件时校验整个机制目录")
        check.add_argument("files", nargs="*", type=Path, metavar="FILE")
        sub.add_parser("list", help="列出已加载的机制和规则包")

    def handle(self, *args, action: str, files: list[Path] | None = None, **options) -> None:
        directory = Path(settings.TAIZHANG_MECHANISM_DIR)
        try:
            if action == "list":
                self.list_all(directory)
            elif files:
                self.check_files(directory, files)
            else:
                registry = load_directory(directory)
                self.stdout.write(
                    self.style.SUCCESS(
                        f"机制定义无误：{len(registry.mechanisms)} 个机制，{len(registry.packs)} 个规则包（{directory}）"
                    )
                )
        except MechanismError as exc:
            count = len(exc.problems)
            raise CommandError(f"机制定义有误（{count} 处）：\n{exc}") from None

    def list_all(self, directory: Path) -> None:
        registry = load_directory(directory)
        for m in registry.mechanisms.values():
            d = m.definition
            self.stdout.write(
                f"{m.code}\t{m.name}\tv{d.version}\t{len(d.states)} 个状态\t{len(d.transitions)} 个流转\t{m.file}"
            )
        for pack in registry.packs:
            divisions = "、".join(pack.divisions)
            self.stdout.write(
                f"规则包 {pack.pack}\t{pack.name}\t区划：{divisions}\t机制：{'、'.join(pack.mechanisms)}"
            )

    def check_files(self, directory: Path, files: list[Path]) -> None:
        """Check the given files; packs are checked against the directory's mechanisms and the given ones.

        Every file is checked and every problem reported, not only the first file's.
        """
        given = {path.resolve() for path in files}
        known: dict[str, MechanismDef] = {}
        if directory.is_dir():
            for path in yaml_files(directory):
                if path.resolve() in given:
                    continue
                try:
                    lined = read_lined_yaml(path)
                    if is_register(lined):
                        continue
                    mech = validate_mechanism(lined)
                except MechanismError:
                    continue  # a broken mechanism that was not asked about: `check` without files reports it
                known[mech.code] = mech
        problems: list[Problem] = []
        readable: list[tuple[Path, LinedData]] = []
        for path in files:
            try:
                readable.append((path, read_lined_yaml(path, str(path))))
            except MechanismError as exc:
                problems.extend(exc.problems)
        # Mechanisms first, so that a pack may name a mechanism checked in the same run.
        readable.sort(key=lambda item: is_pack(*item))
        for path, lined in readable:
            try:
                if is_pack(path, lined):
                    validate_pack(lined, known)
                elif is_register(lined):
                    validate_register(lined)
                else:
                    mech = validate_mechanism(lined)
                    known[mech.code] = mech
            except MechanismError as exc:
                problems.extend(exc.problems)
                continue
            self.stdout.write(self.style.SUCCESS(f"{path}：无误"))
        if problems:
            raise MechanismError(problems)
