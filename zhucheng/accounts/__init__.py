"""Accounts: staff and resident logins, SMS one-time codes. Roles and scope live in ``places``."""
