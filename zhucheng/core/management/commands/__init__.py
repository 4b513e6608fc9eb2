"""Commands: rotate_keys, audit_verify, load_holidays."""
