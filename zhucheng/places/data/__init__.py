"""Static reference data for the places app (name lists for the demo city)."""
