"""Accounts: users, their memberships in organizations, API tokens, login throttling."""
