"""群众点菜 (participation)."""
