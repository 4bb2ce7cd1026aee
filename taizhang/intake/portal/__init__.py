"""The resident portal (群众服务): filing without an account, tracking codes, ratings, the public ledger."""
