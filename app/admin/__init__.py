"""Administration: staff accounts (admins only)."""
