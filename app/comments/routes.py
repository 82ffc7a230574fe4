"""Routes for readers' comments: write, reply, edit or delete one's own, permalinks, subscriptions."""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import TooManyRequests

from app.blog.routes import render_post_page
from app.comments import service, threads
from app.comments.browser_state import (
    JUST_POSTED,
    form_timestamp,
    new_comment_form,
    own_comment_ids,
    proof,
    remember_address,
    remember_own,
    remember_written,
    report_threshold,
    rules,
    seconds_taken,
    submission_key,
)
from app.comments.forms import CommentForm, ConfirmForm, EditCommentForm, ReportForm
from app.comments.notifications import subscription_from_token
from app.content import queries
from app.extensions import csrf, db, limiter
from app.i18n import current_language
from app.imports.old_links import imported_comment
from app.models import Comment, utcnow
from app.moderation import service as moderation

bp = Blueprint("comments", __name__)

def _post_or_404(slug: str):
    return queries.visible_post(slug, utcnow()) or abort(404)


def _own_comment_or_404(post, comment_id: int) -> Comment:
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.post_id != post.id or comment_id not in own_comment_ids():
        abort(404)
    return comment


def _rate_limit() -> str:
    return current_app.config.get("COMMENT_RATE_LIMIT") or "1000000 per second"


# --- writing ---------------------------------------------------------------------------------

def _stored(response) -> bool:
    return response.status_code == 302


@bp.get("/posts/<slug>/comments")
def form_again(slug: str):
    """Reloading the page a form error was shown on (its address is the form's): back to the form."""
    return redirect(url_for("blog.post", slug=slug, _anchor="comment-form"))


@bp.post("/posts/<slug>/comments")
# Stored comments count against the reader's limit; a form sent back for a typo does not. Every
# attempt counts against a wider one, so nobody can send forms without end either.
@limiter.limit(_rate_limit, methods=["POST"], deduct_when=_stored,
               exempt_when=lambda: not current_app.config.get("COMMENT_RATE_LIMIT"))
@limiter.limit(lambda: current_app.config.get("COMMENT_ATTEMPT_LIMIT") or "1000000 per second", methods=["POST"],
               exempt_when=lambda: not current_app.config.get("COMMENT_ATTEMPT_LIMIT"))
def create(slug: str):
    post = queries.commentable_post(slug, utcnow()) or abort(404)  # the write path loads only the post
    form = CommentForm()
    if not form.validate():
        return render_post_page(_post_or_404(slug), form=form, status=400,
                                message=_("Your comment was not sent yet. Please check the marked fields."))
    data = service.CommentInput(
        name=form.name.data, email=form.email.data, body=form.body.data, website=form.website.data or "",
        notify=form.notify.data, parent_id=form.parent, honeypot=form.homepage.data or "",
        seconds_taken=seconds_taken(form.ts.data), submission_key=submission_key(form.ts.data),
    )
    client = service.Client(ip=request.remote_addr, lang=current_language(), proof=proof(),
                            user=current_user if current_user.is_authenticated else None)
    try:
        result = service.submit(post, data, client, rules())
    except service.CommentError as exc:
        if exc.existing is not None and exc.existing.id in own_comment_ids():
            # A second click on "send": this browser wrote it, so take the reader to it. Anyone
            # else sending the same words gets the message, never the comment (or its edit link).
            flash(str(exc.message), "info")
            return redirect(url_for("comments.permalink", slug=slug, comment_id=exc.existing.id))
        if exc.field:
            getattr(form, exc.field).errors.append(exc.message)
        return render_post_page(_post_or_404(slug), form=form, status=400, message=str(exc.message))
    comment_id = result.comment_id
    remember_own(comment_id)
    remember_written(comment_id)
    session[JUST_POSTED] = comment_id  # the thank-you shows at the comment, where the reader lands
    if result.decision.status == "approved":
        flash(_("Thank you! Your comment is published."), "success")
    else:  # pending, and spam alike: a bot must not tell the difference
        flash(_("Thank you! Your comment will appear once our team has looked at it."), "success")
    # The permalink finds the comment's thread page when the reader gets there (a count over the
    # post's threads, which the write path need not pay for).
    return redirect(url_for("comments.permalink", slug=slug, comment_id=comment_id))


@bp.get("/posts/<slug>/comments/<int:comment_id>")
def permalink(slug: str, comment_id: int):
    """A comment's lasting address: sends the reader to the thread page that shows it."""
    post = _post_or_404(slug)
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.post_id != post.id:
        abort(404)
    return redirect(_comment_url(slug, comment))


@bp.get("/posts/<slug>/comments/imported/<source_id>")
def imported(slug: str, source_id: str):
    """An old blog's `#comment-123` (WordPress's comment 123 of this post): sent on to where it is now."""
    post = _post_or_404(slug)
    comment = db.session.get(Comment, imported_comment(post.id, source_id) or 0)
    if comment is None or not (comment.is_visible or comment.id in own_comment_ids()):
        return redirect(url_for("blog.post", slug=slug), 302)
    return redirect(_comment_url(slug, comment))


@bp.get("/posts/<slug>/comments/<int:comment_id>/reply")
def reply(slug: str, comment_id: int):
    """Without JavaScript, "Reply" opens the post with the form set to answer this comment."""
    post = _post_or_404(slug)
    parent = db.session.get(Comment, comment_id)
    if parent is None or parent.post_id != post.id or not parent.is_visible:
        abort(404)
    return render_post_page(post, form=new_comment_form(parent_id=str(parent.id)), reply_to=parent)


@bp.route("/posts/<slug>/comments/<int:comment_id>/edit", methods=["GET", "POST"])
def edit(slug: str, comment_id: int):
    post = _post_or_404(slug)
    comment = _own_comment_or_404(post, comment_id)
    form = EditCommentForm(data={"body": comment.pending_body_md or comment.body_md})
    status = 200
    if form.validate_on_submit():
        try:
            service.edit_own(comment, form.body.data, own_comment_ids(), rules(), proof())
        except service.CommentError as exc:
            if exc.field:  # the text cannot be formatted: show it again with the reason
                form.body.errors.append(exc.message)
                return render_template("comments/edit.html", post=post, comment=comment, form=form), 400
            flash(str(exc.message), "error")
            return redirect(_comment_url(slug, comment))
        if comment.pending_since:
            flash(_("Thank you! Your change will appear once our team has looked at it; until then your "
                    "comment shows as it was."), "success")
        else:
            flash(_("Your comment has been changed."), "success")
        return redirect(_comment_url(slug, comment))
    if request.method == "POST":
        status = 400
    elif not service.can_modify(comment, own_comment_ids(), service.has_replies(comment), rules(), utcnow()):
        flash(_("This comment can no longer be changed."), "error")
        return redirect(_comment_url(slug, comment))
    return render_template("comments/edit.html", post=post, comment=comment, form=form), status


@bp.post("/posts/<slug>/comments/<int:comment_id>/delete")
def delete(slug: str, comment_id: int):
    post = _post_or_404(slug)
    comment = _own_comment_or_404(post, comment_id)
    try:
        service.delete_own(comment, own_comment_ids(), rules())
    except service.CommentError as exc:
        flash(str(exc.message), "error")
        return redirect(_comment_url(slug, comment))
    flash(_("Your comment has been deleted."), "success")
    return redirect(url_for("blog.post", slug=slug, _anchor="comments"))


def _comment_url(slug: str, comment: Comment) -> str:
    page = threads.page_of(comment, own_comment_ids(), current_app.config["COMMENT_THREADS_PER_PAGE"])
    return url_for("blog.post", slug=slug, cpage=page if page > 1 else None, _anchor=f"comment-{comment.id}")


# --- reports -----------------------------------------------------------------------------------

@bp.route("/posts/<slug>/comments/<int:comment_id>/report", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["REPORT_RATE_LIMIT"], methods=["POST"])
def report(slug: str, comment_id: int):
    """A reader tells the team about a problematic comment; it stays until enough reports hide it."""
    post = _post_or_404(slug)
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.post_id != post.id or not comment.is_visible:
        abort(404)
    form = ReportForm()
    if form.validate_on_submit():
        moderation.report(comment, reason=form.reason.data, details=form.details.data or "",
                          ip_hash=service.hash_ip(request.remote_addr, current_app.config["SECRET_KEY"]),
                          hide_after=report_threshold())
        flash(_("Thank you for telling us. Our team will look at this comment."), "success")
        return redirect(url_for("blog.post", slug=slug, _anchor="comments"))
    status = 400 if form.is_submitted() else 200
    return render_template("comments/report.html", post=post, comment=comment, form=form), status


# --- subscriptions (double opt-in, one-click unsubscribe) -------------------------------------

@bp.route("/subscriptions/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    subscription = subscription_from_token(token, "confirm") or abort(404)
    form = ConfirmForm()
    if form.validate_on_submit():
        if subscription.confirmed_at is None or subscription.unsubscribed_at is not None:
            subscription.confirmed_at = subscription.confirmed_at or utcnow()
            subscription.unsubscribed_at = None
            db.session.commit()
        remember_address(subscription.email)  # this browser opened a link mailed to the address
        return render_template("comments/subscription.html", state="confirmed")
    return render_template("comments/subscription.html", state="ask", form=form, token=token,
                           already=subscription.active)


@bp.route("/subscriptions/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the authorisation; mail clients POST here for one-click unsubscribe
def unsubscribe(token: str):
    subscription = subscription_from_token(token, "unsubscribe") or abort(404)
    if request.method != "POST":  # mail scanners open links: a GET only shows the one button
        return render_template("comments/subscription.html", state="ask_unsubscribe", token=token,
                               already=subscription.unsubscribed_at is not None)
    if subscription.unsubscribed_at is None:
        subscription.unsubscribed_at = utcnow()
        db.session.commit()
    if request.form.get("List-Unsubscribe") == "One-Click":  # RFC 8058, sent by the mail client
        return "", 204
    return render_template("comments/subscription.html", state="unsubscribed")


# --- errors on the comment form keep what the reader typed ------------------------------------

@bp.errorhandler(CSRFError)
def csrf_failed(error):
    post = _form_post()
    if post is not None:
        return render_post_page(post, form=_retyped_form(), status=400,
                                message=_("The form had expired. Your text is still here – please send it again."))
    return render_template("errors/error.html", code=400, error=error), 400


@bp.errorhandler(TooManyRequests)
def too_many(error):
    post = _form_post()
    if post is not None:
        return render_post_page(post, form=_retyped_form(), status=429,
                                message=_("You have sent several comments in a short time. Please wait a minute, "
                                          "then send this one again – your text is still here."))
    return render_template("errors/error.html", code=429, error=error), 429


def _form_post():
    """The post whose comment form failed, or None (another route, or no such post)."""
    # No abort(404) here: an exception raised inside an error handler would answer 500.
    if request.endpoint != "comments.create":
        return None
    return queries.visible_post(request.view_args["slug"], utcnow())


def _retyped_form() -> CommentForm:
    form = CommentForm()
    form.ts.data = form.ts.data or form_timestamp()
    return form
