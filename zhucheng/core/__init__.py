"""What every app shares: audit trail, encrypted personal fields, masking, calendar, scoping helpers."""
