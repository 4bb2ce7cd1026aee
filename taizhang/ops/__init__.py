"""Running Taizhang in production: configuration checks, `taizhang serve`, health and readiness, request
ids, JSON logs, the answer to an unexpected error, and Prometheus metrics (issue #12)."""
