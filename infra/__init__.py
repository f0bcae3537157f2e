"""What both sides of the server use and neither owns: rate limits, requests to other servers,
remote key sets, shared-cache stamps, health checks, and the hot paths' statements.

Nothing here imports `oauth` or `accounts`.
"""
