"""Pages. The full web application comes with its own issue; this is the front door."""

from django.shortcuts import render

from taizhang.cases.models import Case
from taizhang.mechanisms.registry import get_registry


def home(request):
    """Links to what exists, and the visitor's cases when signed in."""
    mine = []
    if request.user.is_authenticated:
        mine = list(Case.objects.for_user(request.user).select_related("division")[:20])
    return render(request, "web/home.html", {"mechanisms": get_registry().mechanisms.values(), "cases": mine})
