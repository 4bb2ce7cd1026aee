"""Append-only rows (a case's history, a register item's history): written once; neither a queryset's
update or delete nor a row's save or delete may change them (database triggers refuse it too)."""

from __future__ import annotations

from django.db import models


def refusal(model: type[models.Model], verb: str) -> str:
    return f"{model._meta.verbose_name}只能追加，不能{verb}"


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError(refusal(self.model, "修改"))

    def delete(self):
        raise PermissionError(refusal(self.model, "删除"))


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None:
            raise PermissionError(refusal(type(self), "修改"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError(refusal(type(self), "删除"))
