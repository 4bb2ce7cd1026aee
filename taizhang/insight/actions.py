"""Actions of the insight app: similar open cases for a case, and a resident's "me too" (我也遇到)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q

from taizhang.cases.actions import case_lookup, get_case
from taizhang.cases.models import Case
from taizhang.cases.recording import Recorder
from taizhang.clock.now import now as clock_now
from taizhang.errors import ActionError, conflict, forbidden, not_found
from taizhang.intake.public import is_public, listed_in_ledger, public_cases
from taizhang.org.models import User
from taizhang.org.roles import Role
from taizhang.org.scopes import grants_of, self_only

from .models import CaseSupporter
from .similar import THRESHOLD, Suggestion, similar_cases, window_start

SUPPORT_ATTEMPTS = 3


def find_similar(
    user: User,
    case: Case | int | str,
    *,
    limit: int = 5,
    threshold: float = THRESHOLD,
    days: int | None = None,
) -> list[Suggestion]:
    """Open cases of the last N days that look like the same problem as `case`, best first.

    The case must be visible to the person (404 otherwise) and so must every suggestion: both go
    through `Case.objects.for_user`.
    """
    if not isinstance(case, Case):
        case = get_case(user, case)
    elif not Case.objects.for_user(user).filter(pk=case.pk).exists():
        raise not_found()
    since = window_start(clock_now(), days)
    return similar_cases(
        case, Case.objects.for_user(user, "view"), since=since, limit=limit, threshold=threshold
    )


def supported_q(user: User, case_field: str = "pk") -> Q:
    """Rows whose case the person supports ("me too"). Support grants no sight of a case: combine it
    with the public rule (`taizhang.intake.public`), never with `Case.objects.for_user`.

    `case_field` names the case id on the filtered model ("pk" on Case itself).
    """
    if user is None or not user.is_authenticated:
        return Q(pk__in=[])
    return Q(**{f"{case_field}__in": CaseSupporter.objects.filter(user=user).values("case_id")})


def supported_cases(user: User):
    """The public cases the person supports, for their list of 我的诉求 (shown as ledger entries)."""
    return public_cases().filter(supported_q(user))


def is_supporter_role(user: User) -> bool:
    return any(self_only(g.role) for g in grants_of(user))


def can_metoo(user: User, case: Case) -> bool:
    """Whether to offer 我也遇到 on this case to this person (`do_metoo` decides again)."""
    return (
        user.is_authenticated
        and is_supporter_role(user)
        and case.reporter_id != user.pk
        and case.state_kind != "closed"
        and is_public(case, ledger=True)
    )


def do_metoo(user: User, ref: int | str) -> tuple[CaseSupporter, int, bool]:
    """A resident says "me too" on an open item of the public ledger: (the supporter row, supporters
    now, created).

    Any resident may support an open public case (`taizhang.intake.public`: never a petition, an
    inspection finding or a self-check); it gives them no sight of the case beyond the public view.
    Any other case is 404 whether it is open or closed, exactly as a number that does not exist, so
    nothing is revealed. Supporting twice is not an error; supporting one's own case or a closed one is
    409. A new supporter is a change of the case: it gets a history row (`support`), written with the
    supporter in one transaction; when staff act on the case at the same moment, the support is
    retried on the case as they left it.
    """
    if not is_supporter_role(user):
        raise forbidden("role_not_allowed", "只有居民可以附议（我也遇到）")
    case = public_cases().filter(**case_lookup(ref)).first()
    if case is None or not listed_in_ledger(case.mechanism):
        raise not_found()
    if case.state_kind == "closed":
        raise conflict("case_closed", "该诉求已办结，不能再附议")
    if case.reporter_id == user.pk:
        raise conflict("own_case", "这是您本人上报的诉求")
    row = CaseSupporter.objects.filter(case=case, user=user).first()
    if row is not None:
        return row, CaseSupporter.objects.filter(case=case).count(), False
    for attempt in range(SUPPORT_ATTEMPTS):
        try:
            with transaction.atomic():
                row = record_support(case, user)
            break
        except IntegrityError:  # the same person twice at once: the other request won
            row = CaseSupporter.objects.get(case=case, user=user)
            return row, CaseSupporter.objects.filter(case=case).count(), False
        except ActionError as exc:  # someone acted on the case meanwhile: read it again and retry
            if exc.code != "stale_version" or attempt == SUPPORT_ATTEMPTS - 1:
                raise
            case = Case.objects.get(pk=case.pk)
            if case.state_kind == "closed":
                raise conflict("case_closed", "该诉求已办结，不能再附议") from None
    return row, CaseSupporter.objects.filter(case=case).count(), True


def record_support(case: Case, user: User) -> CaseSupporter:
    """The supporter row and the case's history row for it (in the caller's transaction)."""
    at = clock_now()
    row = CaseSupporter.objects.create(case=case, user=user, created_at=at)
    count = CaseSupporter.objects.filter(case=case).count()
    recorder = Recorder(case)
    recorder.add(
        kind="support",
        code="metoo",
        name="我也遇到（附议）",
        actor=user,
        role=Role.RESIDENT,
        from_state=case.state,
        to_state=case.state,
        at=at,
        changes={"supporters": [count - 1, count]},
    )
    recorder.commit()
    return row
