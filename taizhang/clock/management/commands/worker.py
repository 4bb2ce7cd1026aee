"""`taizhang worker`: send 催办, mark overdue and escalate, as system transitions; remove unused uploads."""

from __future__ import annotations

import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from taizhang.cases.checkpoints import CheckpointSchedule
from taizhang.clock.now import now as clock_now
from taizhang.clock.worker import install_signal_handlers, run_forever, run_once, sweep_uploads
from taizhang.ops.heartbeat import record_pass


class Command(BaseCommand):
    help = (
        "运行时限调度：到期前催办、超期标记、逐级督办，并清理长期未使用的上传附件（可同时运行多个，互不重复）"
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="处理一次当前到期的事项后退出")
        parser.add_argument("--interval", type=float, default=None, help="轮询间隔（秒）")

    def handle(self, *args, once: bool, interval: float | None, **options) -> None:
        if once:
            written = run_once()
            removed = sweep_uploads()
            self.stdout.write(f"已处理，写入 {written} 条系统记录，清理 {removed} 个未使用的上传附件")
            record_pass(written)
            if CheckpointSchedule().tick(clock_now()):
                self.stdout.write("已签署审计检查点")
            return
        stop = threading.Event()
        install_signal_handlers(stop)
        every = interval if interval is not None else settings.TAIZHANG_WORKER_INTERVAL
        self.stdout.write(f"时限调度已启动，每 {every} 秒检查一次；SIGTERM 停止")
        run_forever(every, stop, lambda n: n and self.stdout.write(f"写入 {n} 条系统记录"))
        self.stdout.write("时限调度已停止")
