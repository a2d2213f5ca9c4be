"""Units (đơn vị): the tree nation → province → commune, plus departments."""
