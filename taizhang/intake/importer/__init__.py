"""`taizhang import`: bulk import of other 12345 systems' exports (CSV, XLSX) as cases.

mapping.py — the mapping file (which column becomes what), checked with file/line/field errors;
readers.py — streaming CSV and XLSX readers; rows.py — a row → the case do_create_case would make, or
its problems; run.py — the batched, idempotent, crash-safe loop and the error file.
"""
