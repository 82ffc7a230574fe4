"""Privacy requests: export and erase what is stored about a commenter (routes on the moderation blueprint)."""
from app.moderation.routes import bp, moderate  # noqa: F401
