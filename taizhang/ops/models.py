"""What the web processes need to know about the scheduler, which runs in other processes."""

from __future__ import annotations

from django.db import models


class WorkerPass(models.Model):
    """The last complete pass of a scheduler process (`taizhang worker`), one row per worker name."""

    name = models.CharField("调度进程", max_length=200, primary_key=True)
    finished_at = models.DateTimeField("最近一次完成时间")
    written = models.PositiveIntegerField("写入记录数", default=0)

    class Meta:
        verbose_name = "调度运行记录"
        verbose_name_plural = "调度运行记录"

    def __str__(self) -> str:
        return f"{self.name} {self.finished_at:%Y-%m-%d %H:%M:%S}"
