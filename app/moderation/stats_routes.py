"""The customer pulse: /moderation/stats and the CSV export (routes on the moderation blueprint)."""
from app.moderation.routes import bp, moderate  # noqa: F401
