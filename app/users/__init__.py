"""Staff accounts: creating them and setting passwords (admin pages follow with the moderation issue)."""
