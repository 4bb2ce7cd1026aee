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


class HotSpot(models.Model):
    """A hot spot (热点): two or more demands about the same problem at the same place within a window.

    Kept up to date as demands arrive (`taizhang.insight.hotspot_index`); `state` holds what grouping
    and naming need (member counts of words, places, masked areas, divisions, the founding title).
    `rank_key` orders groups by heat at any moment (see `taizhang.insight.hotspots`).
    """

    scope = models.CharField(max_length=110)  # "<region>:<mechanism>", as the similarity index
    name = models.CharField("名称", max_length=200)
    place = models.CharField("地点", max_length=100, blank=True)
    problem = models.CharField("问题", max_length=100, blank=True)
    division = models.ForeignKey(
        "org.Division", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    count = models.PositiveIntegerField("诉求数", default=0)
    reporters = models.PositiveIntegerField("反映人数", default=0)
    support = models.PositiveIntegerField("附议数", default=0)
    first_at = models.DateTimeField("首次反映")
    last_at = models.DateTimeField("最近反映")
    mass = models.FloatField("热度（不计衰减）", default=0.0)
    rank_key = models.FloatField(default=0.0)
    state = models.JSONField(default=dict)
    updated_at = models.DateTimeField()

    class Meta:
        verbose_name = "热点"
        verbose_name_plural = "热点"
        indexes = [
            models.Index(fields=["scope", "last_at"], name="insight_hotspot_recent"),
            models.Index(fields=["scope", "rank_key"], name="insight_hotspot_rank"),
        ]


class HotSpotMember(models.Model):
    """A demand of a hot spot (a case belongs to at most one), with what the heat index counts."""

    case = models.OneToOneField(
        Case, primary_key=True, on_delete=models.CASCADE, related_name="hotspot_member"
    )
    hotspot = models.ForeignKey(HotSpot, on_delete=models.CASCADE, related_name="members")
    created_at = models.DateTimeField()
    # Who reported it: the reporter's account, or for a hotline call taken by an operator the caller's phone.
    reporter_key = models.CharField(max_length=80, blank=True)
    support = models.PositiveIntegerField(default=0)
    score = models.FloatField(default=1.0)  # the score with which it joined

    class Meta:
        verbose_name = "热点诉求"
        verbose_name_plural = "热点诉求"
        indexes = [models.Index(fields=["hotspot", "created_at"], name="insight_hsmember_spot")]


class ReplyQuality(models.Model):
    """The quality scores of one answer (答复), computed when its transition row is written."""

    transition = models.OneToOneField(
        "cases.Transition", primary_key=True, on_delete=models.CASCADE, related_name="+"
    )
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="reply_scores")
    unit = models.ForeignKey("org.Unit", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    replied_at = models.DateTimeField("答复时间")
    due_at = models.DateTimeField("答复时限", null=True, blank=True)
    relevance = models.FloatField("相关性")
    completeness = models.FloatField("完整性")
    interpretability = models.FloatField("可解释性")
    timeliness = models.FloatField("及时性", null=True, blank=True)
    overall = models.FloatField("综合分")
    weak = models.BooleanField("弱答复", default=False)
    reasons = models.JSONField(default=list)
    points = models.PositiveSmallIntegerField(default=0)  # asked points found in the demand
    addressed = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = "答复质量"
        verbose_name_plural = "答复质量"
        indexes = [
            models.Index(fields=["replied_at"], name="insight_reply_time"),
            models.Index(fields=["weak", "replied_at"], name="insight_reply_weak"),
        ]
