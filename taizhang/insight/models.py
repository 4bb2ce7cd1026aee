"""The similarity index of cases (words and places, an inverted index, document frequencies) and the
residents who said "me too" (我也遇到) on a case."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from taizhang.cases.models import Case


class CaseTokens(models.Model):
    """The words and places of one case, as `taizhang.insight.text` reads its title, description and address.

    `scope` is "<region>:<mechanism>": cases are compared only within one district and one mechanism.
    """

    case = models.OneToOneField(Case, primary_key=True, on_delete=models.CASCADE, related_name="tokens")
    scope = models.CharField(max_length=110)
    created_at = models.DateTimeField()
    terms = models.JSONField(default=dict)  # word -> count (title words count double)
    places = models.JSONField(default=list)

    class Meta:
        verbose_name = "案件词项"
        verbose_name_plural = "案件词项"


class CaseTerm(models.Model):
    """One posting of the inverted index: this word (or "@place") occurs in this case.

    The case's scope and creation time are copied here so that the lookup of a word's cases in the
    last N days is one range scan of the (scope, term, created_at) index.
    """

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="+", db_index=False)
    scope = models.CharField(max_length=110)
    term = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "倒排索引项"
        verbose_name_plural = "倒排索引项"
        indexes = [
            models.Index(fields=["scope", "term", "created_at"], name="insight_term_lookup"),
            models.Index(fields=["case"], name="insight_term_case"),
        ]


class TermCount(models.Model):
    """In how many cases of a scope a word occurs (its document frequency); term "" counts the cases.

    Only ever incremented, by one upsert per indexed case (see `similar.index_cases`), so weights are
    those of all cases ever indexed in the scope — the usual IDF, stable from day to day.
    """

    scope = models.CharField(max_length=110)
    term = models.CharField(max_length=64, blank=True)
    df = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "词频统计"
        verbose_name_plural = "词频统计"
        constraints = [models.UniqueConstraint(fields=["scope", "term"], name="insight_termcount_unique")]


class CaseSupporter(models.Model):
    """A resident who has the same problem (我也遇到) and follows an existing case instead of filing anew."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="supporters")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField()

    class Meta:
        verbose_name = "附议人"
        verbose_name_plural = "附议人"
        constraints = [models.UniqueConstraint(fields=["case", "user"], name="insight_supporter_unique")]
        indexes = [models.Index(fields=["user"], name="insight_supporter_user")]
