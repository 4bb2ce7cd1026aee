"""Request and response bodies of the JSON API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema
from pydantic import ConfigDict


class ErrorEntry(Schema):
    field: str
    code: str
    message: str


class ErrorOut(Schema):
    code: str
    message: str
    errors: list[ErrorEntry] = []


class CaseIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt key is an error, not silently dropped

    mechanism: str = Field(..., max_length=40)
    title: str = Field(..., max_length=500)
    division: str = Field(..., description="区划编码")
    category: str
    description: str = ""
    grade: str = ""
    channel: str = ""
    address: str = Field("", max_length=300)
    lat: Decimal | None = None
    lon: Decimal | None = None
    fields: dict[str, Any] = {}
    attachments: list[int] = []
    external_id: str = Field("", max_length=100)


class TransitionIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt key is an error, not silently dropped

    code: str = Field(..., description="流转编码，如 assign、sign、rectified")
    opinion: str = ""
    fields: dict[str, Any] = {}
    params: dict[str, Any] = Field(
        {}, description="unit（单位编码）、grade、category、extend_by（如「5 工作日」）"
    )
    attachments: list[int] = []
    expected_version: int | None = Field(None, description="乐观锁：案件当前版本；不符时返回 409")


class DecisionIn(Schema):
    model_config = ConfigDict(extra="forbid")  # a misspelt key is an error, not silently dropped

    approve: bool
    opinion: str = ""
    expected_version: int | None = None


class LinkIn(Schema):
    """关联 another case by hand (`unlink`: end such a link)."""

    model_config = ConfigDict(extra="forbid")

    other: str  # the other case's number
    unlink: bool = False
    opinion: str = ""


class NodeOut(Schema):
    code: str
    name: str


class AttachmentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int
    sha256: str
    url: str


class HistoryOut(Schema):
    seq: int
    kind: str
    code: str
    name: str
    actor: str
    role: str
    from_state: str
    to_state: str
    opinion: str
    changes: dict[str, Any]
    due_at: datetime | None
    at: datetime
    hash: str
    attachments: list[AttachmentOut] = []


class ActionOut(Schema):
    code: str
    name: str
    role: str
    opinion: bool
    photos: int
    fields: list[str]
    params: list[str]
    approval: str | None


class TopicGuessOut(Schema):
    topic: str
    confidence: float


class SuggestionOut(Schema):
    """The classifier's suggestion made at intake (taizhang.insight.classify.intake)."""

    topic: str
    confidence: float
    unit: str | None = None
    unit_name: str | None = None
    model: str
    locality: str = ""
    threshold: float
    decision: str
    alternatives: list[TopicGuessOut] = []


class CaseOut(Schema):
    id: int
    number: str
    mechanism: str
    title: str
    description: str
    category: str
    category_name: str
    grade: str
    grade_name: str
    channel: str
    state: str
    state_name: str
    state_kind: str
    region: str
    division: NodeOut
    address: str
    lat: Decimal | None
    lon: Decimal | None
    unit: NodeOut | None
    reporter: str | None
    fields: dict[str, Any]
    due_at: datetime | None
    limit: str
    overdue: bool
    overdue_since: datetime | None
    supervision_level: int
    pending: dict[str, Any] | None
    suggestion: SuggestionOut | None = None
    version: int
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None


class LinkedCaseOut(Schema):
    number: str
    title: str
    mechanism: str
    mechanism_name: str
    state: str
    state_name: str
    state_kind: str
    kind: str  # the link's kind: subtask (子任务), derived (派生), related (关联)
    kind_name: str
    due_at: datetime | None
    overdue: bool


class ChildProgressOut(Schema):
    total: int
    by_state_kind: dict[str, int]  # open, waiting, controlled, parked, closed
    overdue: int


class LinksOut(Schema):
    """The linked cases the caller may see, and the progress of the children (子任务, 派生)."""

    parents: list[LinkedCaseOut]
    children: list[LinkedCaseOut]
    related: list[LinkedCaseOut]  # 关联 either way: no part of the progress
    progress: ChildProgressOut


class CaseDetailOut(CaseOut):
    history: list[HistoryOut]
    actions: list[ActionOut]
    links: LinksOut | None = None  # None in a reporter's public view


class CasePage(Schema):
    items: list[CaseOut]
    next_cursor: str | None
