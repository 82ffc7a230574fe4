"""Each staff member's own mail settings (queue digest), on the auth blueprint."""
from app.auth.routes import bp  # noqa: F401
