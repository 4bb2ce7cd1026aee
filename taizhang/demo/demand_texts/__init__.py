"""The demo's 12345 demand templates, by topic (the shape is taizhang/demo/demand_catalog.DemandText)."""

from __future__ import annotations

from ..demand_catalog import DemandText
from .services import SERVICES
from .trade import TRADE_AND_TRANSPORT
from .urban import URBAN

DEMANDS: tuple[DemandText, ...] = (*URBAN, *SERVICES, *TRADE_AND_TRANSPORT)
