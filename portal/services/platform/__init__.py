"""What every room stands on: accounts, sessions, passwords and throttling, API tokens, the audit log and its
chain, backup and restore, mail, file types and text checks, the request's principal.
"""
