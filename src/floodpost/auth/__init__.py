"""Accounts, roles, passwords, signed tokens and sign-in throttling."""
