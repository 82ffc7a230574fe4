"""Staff accounts signing in: login, logout, password change; permissions per role."""
