"""Intake from outside: other 12345 systems (Open311) and bulk imports of their exports."""
