"""The administrative hierarchy and grids (四级联动、网格化), departments and who works where."""
