"""`taizhang insight train|evaluate|models|activate|check`: the topic classifier of automatic dispatch."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from taizhang.errors import ActionError
from taizhang.insight.classify.data import read_cases, read_csv
from taizhang.insight.classify.metrics import report
from taizhang.insight.classify.routing import FILENAME, load_routing, routing_path
from taizhang.insight.classify.store import (
    activate,
    active_version,
    load_model,
    model_root,
    read_manifest,
    versions,
)
from taizhang.insight.classify.training import do_train, evaluate_model
from taizhang.mechanisms.errors import MechanismError


class Command(BaseCommand):
    help = "自动派单的问题领域分类模型：训练、评估、查看与切换版本、校验派单规则"
    requires_system_checks: list = []

    def add_arguments(self, parser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        train = sub.add_parser("train", help="从带标签的 CSV 或已办结案件训练模型，存为新版本")
        source = train.add_mutually_exclusive_group(required=True)
        source.add_argument("--data", type=Path, metavar="FILE", help="带标签的 CSV（UTF-8）")
        source.add_argument("--from-cases", action="store_true", help="用本平台已办结的案件训练")
        train.add_argument("--mechanism", default="demand", help="--from-cases 时的机制（默认 demand）")
        train.add_argument("--field", default="topic", help="--from-cases 时作标签的字段（默认 topic）")
        train.add_argument("--output", type=Path, metavar="DIR", help="模型根目录（默认 TAIZHANG_MODEL_DIR）")
        train.add_argument("--text-column", default="content", help="文本列，多列用逗号分隔（默认 content）")
        train.add_argument("--label-column", default="一级标签", help="标签列（默认 一级标签）")
        train.add_argument(
            "--holdout", type=float, default=0.2, help="留出评估的比例，按近似重复分组（默认 0.2；0 不留出）"
        )
        train.add_argument("--no-activate", action="store_true", help="只保存，不设为当前模型")
        evaluate = sub.add_parser("evaluate", help="在带标签的 CSV 上评估模型：宏平均 F1、各类指标、混淆矩阵")
        evaluate.add_argument("--data", type=Path, metavar="FILE", required=True)
        evaluate.add_argument(
            "--model", type=Path, metavar="DIR", help="模型版本目录或模型根目录（默认当前模型）"
        )
        evaluate.add_argument("--text-column", default="content")
        evaluate.add_argument("--label-column", default="一级标签")
        evaluate.add_argument("--json", dest="as_json", action="store_true", help="以 JSON 输出")
        models = sub.add_parser("models", help="列出模型版本")
        models.add_argument(
            "--output", type=Path, metavar="DIR", help="模型根目录（默认 TAIZHANG_MODEL_DIR）"
        )
        switch = sub.add_parser("activate", help="把某个版本设为当前模型")
        switch.add_argument("version")
        switch.add_argument(
            "--output", type=Path, metavar="DIR", help="模型根目录（默认 TAIZHANG_MODEL_DIR）"
        )
        check = sub.add_parser("check", help=f"校验自动派单规则（mechanisms/insight/{FILENAME}）")
        check.add_argument("file", nargs="?", type=Path, metavar="FILE")

    def handle(self, *args, action: str, **options) -> None:
        try:
            getattr(self, action)(**options)
        except ActionError as exc:
            raise CommandError(f"{exc.message}（{exc.code}）") from None

    def train(
        self, data, from_cases, mechanism, field, output, text_column, label_column, holdout, no_activate, **_
    ):
        examples = read_cases(mechanism, field) if from_cases else read_csv(data, text_column, label_column)
        self.stdout.write(
            f"训练数据：{examples.source}，{len(examples.texts)} 条（跳过 {examples.skipped} 条空行）"
        )
        root = output or model_root()
        result = do_train(examples, root, holdout, make_active=not no_activate)
        stored = result.model
        self.stdout.write(f"用时 {result.seconds:.1f} 秒；模型版本 {stored.version}（{stored.path}）")
        if result.holdout is not None:
            self.stdout.write(f"留出 {holdout:.0%}（按近似重复分组）的评估：")
            self.stdout.write(report(result.holdout))
        state = "已设为当前模型" if result.activated else "未设为当前模型（taizhang insight activate 版本号）"
        self.stdout.write(self.style.SUCCESS(f"模型 {stored.version} {state}"))

    def evaluate(self, data, model, text_column, label_column, as_json: bool = False, **_):
        stored = load_model(model or model_root())
        examples = read_csv(data, text_column, label_column)
        result = evaluate_model(stored, examples)
        if as_json:
            self.stdout.write(dumps({"model": stored.version, **result.as_dict(), "matrix": result.matrix}))
            return
        self.stdout.write(f"模型 {stored.version}；数据 {examples.source}，{len(examples.texts)} 条")
        self.stdout.write(report(result))

    def models(self, output, **_):
        root = output or model_root()
        current = active_version(root)
        found = versions(root)
        if not found:
            self.stdout.write(f"{root} 中还没有模型（taizhang insight train）")
            return
        for version in found:
            mark = "*" if version == current else " "
            try:
                manifest = read_manifest(root / version)
                holdout = (manifest.get("metrics") or {}).get("holdout") or {}
                training = manifest.get("training") or {}
                figure = f"留出 macro-F1 {holdout['macro_f1']:.4f}" if "macro_f1" in holdout else "未留出评估"
                self.stdout.write(
                    f"{mark} {version}\t{training.get('rows', '?')} 条\t{figure}\t{training.get('source', '')}"
                )
            except ActionError as exc:
                self.stdout.write(f"{mark} {version}\t不可用：{exc.message}")

    def activate(self, version, output, **_):
        root = output or model_root()
        activate(root, version)
        self.stdout.write(self.style.SUCCESS(f"当前模型：{version}（{root}）"))

    def check(self, file=None, **_):
        path = file or routing_path()
        try:
            routing = load_routing(path, str(path))
        except MechanismError as exc:
            raise CommandError(f"自动派单规则有误（{len(exc.problems)} 处）：\n{exc}") from None
        names = "、".join(routing.localities) or "无"
        self.stdout.write(self.style.SUCCESS(f"{path}：无误（区域：{names}）"))


def dumps(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2)
