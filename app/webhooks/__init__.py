"""Webhooks: JSON posts to URLs admins register per event (chat channels, helpdesks), signed with
HMAC-SHA256, written in the transaction of their cause and sent after the commit by the outbox's
drainer (`service.py`); the admin pages are `routes.py`."""
