"""Taizhang (台账): one engine of closed loops for grassroots governance."""
