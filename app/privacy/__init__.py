"""Privacy requests (GDPR art. 15 and 17): export and erasure of what is stored about an address.

`service.py` finds, exports and erases; `mails.py` handles mails that quote an erased person;
`routes.py` is the moderators' page at /moderation/privacy.
"""
from flask import Blueprint

bp = Blueprint("privacy", __name__, url_prefix="/moderation/privacy")
