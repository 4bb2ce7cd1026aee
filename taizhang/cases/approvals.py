"""Approvals: a transition that needs one is filed as a request and taken when someone else approves."""

from __future__ import annotations

from django.db import transaction

from taizhang.clock.calendar import ClockError
from taizhang.clock.now import now as clock_now
from taizhang.errors import ActionError, FieldError, conflict, forbidden, invalid
from taizhang.mechanisms.registry import get_mechanism
from taizhang.org.models import User
from taizhang.text import normalise_text

from .actions import TransitionRequest, acting_for, check_content, execute, get_case, pick_role
from .links import link_effects
from .models import Attachment, Case
from .recording import Recorder


def do_decide(
    user: User, case_id: int | str, approve: bool, opinion: str = "", expected_version: int | None = None
) -> Case:
    """Approve or refuse the pending request of a case; the approver must not be the requester."""
    with transaction.atomic():
        case = get_case(user, case_id, "act")
        now = clock_now()
        if expected_version is not None and expected_version != case.version:
            raise conflict("stale_version", f"案件已更新（当前版本 {case.version}），请刷新后重试")
        pending = case.pending
        if not pending:
            raise conflict("no_pending_request", "该案件没有待审批的申请")
        mech = get_mechanism(case.mechanism)
        t = mech.transitions[pending["code"]]
        role = pick_role(user, case, t.approval.roles)
        if role is None:
            raise forbidden("role_not_allowed", f"您的岗位不能审批「{t.name}」")
        if pending["by"] == user.pk:
            raise forbidden("same_person", "不能审批本人提出的申请")
        opinion = normalise_text(opinion or "").strip()
        if not approve and not opinion:
            raise invalid([FieldError("opinion", "required", "不予批准须说明理由")])
        recorder = Recorder(case)
        requester = User.objects.get(pk=pending["by"])
        if approve:
            if case.state not in t.from_:
                raise conflict(
                    "transition_not_allowed", f"案件已是「{mech.state_name(case.state)}」，申请已失效"
                )
            acting = acting_for(requester, case, [pending["role"]])
            if acting is None:
                # The requester left the post (or the unit the case) since asking: the request no longer stands.
                raise conflict(
                    "requester_no_longer_entitled",
                    f"{requester}已不能以原岗位提出「{t.name}」，申请已失效，可不予批准",
                )
            req = TransitionRequest(t.code, pending["opinion"], pending["fields"], pending["params"])
            prior = Attachment.objects.filter(
                pk__in=pending["attachments"], content_type__startswith="image/"
            )
            plan = check_content(mech, case, t, pending["role"], req, requester, prior_photos=prior.count())
            plan.acting = acting  # the body the requester acts through supervises the cases a spawn opens
            try:
                # Linked cases now that it is granted: the children guard, then the cases `spawn` opens
                # (the requester is their reporter, as if the step had needed no approval).
                linked = link_effects(plan, pending["params"], requester, now)
                execute(
                    plan,
                    user,
                    role,
                    now,
                    recorder,
                    kind="approve",
                    opinion=opinion,
                    extra={"requested_by": [None, pending["by_name"]], **linked},
                )
            except ClockError as exc:
                raise ActionError(exc.code, exc.message, 422) from None
        else:
            case.pending = None
            recorder.add(
                kind="refuse",
                code=t.code,
                name=f"{t.name}（不予批准）",
                actor=user,
                role=role,
                from_state=case.state,
                to_state=case.state,
                at=now,
                opinion=opinion,
                changes={"pending": [t.code, None], "requested_by": [None, pending["by_name"]]},
                public=t.public,
            )
        recorder.commit()
    return case
