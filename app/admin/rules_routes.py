"""Comment rules in the browser: blocked words, held words, the link limit, closing after N days,
the report threshold (the rules themselves: app/moderation/rules.py)."""
from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from app.admin.backoffice import bp
from app.auth.permissions import Permission, permission_required
from app.comments import browser_state as reader
from app.comments.policy import matching_words
from app.extensions import db
from app.moderation import rules as comment_rules

manage_site = permission_required(Permission.MANAGE_SITE)
FIELDS = ("blocklist", "held_words", "max_links", "close_after_days", "report_threshold")
RULE_NAMES = {
    "comments.blocklist": _l("Blocked words"), "comments.held_words": _l("Words that hold a comment for review"),
    "comments.max_links": _l("Link limit"), "comments.close_after_days": _l("Close comments after (days)"),
    "comments.report_threshold": _l("Report threshold"),
}


def _typed(rules: comment_rules.CommentRules) -> dict[str, str]:
    """The form's values for rules (words one per line)."""
    return {"blocklist": "\n".join(rules.blocklist), "held_words": "\n".join(rules.held_words),
            "max_links": str(rules.max_links), "close_after_days": str(rules.close_after_days or ""),
            "report_threshold": str(rules.report_threshold)}


def _page(values: dict[str, str], errors: dict | None = None, status: int = 200):
    config = current_app.config
    return render_template(
        "admin/rules.html", values=values, errors=errors or {}, defaults=comment_rules.defaults(config),
        stored=comment_rules.stored(), history=comment_rules.history(), keys=comment_rules.KEYS,
        rule_names=RULE_NAMES, max_words=comment_rules.MAX_WORDS, max_word_length=comment_rules.MAX_WORD_LENGTH,
    ), status


@bp.get("/rules")
@manage_site
def rules():
    return _page(_typed(comment_rules.load(current_app.config)))


@bp.post("/rules")
@manage_site
def save_rules():
    values = {name: request.form.get(name, "") for name in FIELDS}
    try:
        new = comment_rules.parse(values)
    except comment_rules.RulesError as exc:
        flash(_("Nothing was saved. Please check the marked fields."), "warning")
        return _page(values, exc.errors, 400)
    events = comment_rules.save(current_app.config, new, current_user)
    db.session.commit()
    reader.forget_rules()
    flash(_("Comment rules saved; new comments follow them at once.") if events else _("Nothing changed."),
          "success" if events else "info")
    return redirect(url_for("backoffice.rules"))


@bp.post("/rules/reset")
@manage_site
def reset_rules():
    events = comment_rules.reset(current_app.config, current_user)
    db.session.commit()
    reader.forget_rules()
    flash(_("The comment rules are back to the defaults.") if events else _("Nothing changed."),
          "success" if events else "info")
    return redirect(url_for("backoffice.rules"))


@bp.app_template_global()
def held_words_in(text: str) -> list[str]:
    """The held words a comment contains (the queue names them next to the rule)."""
    return matching_words(text, reader.rules().policy.held_words)
