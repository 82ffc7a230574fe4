"""The moderation queue and the actions on a comment. Every route needs the MODERATE permission."""
import re
from urllib.parse import parse_qsl, urlsplit

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app import markup
from app.auth.permissions import ROLE_PERMISSIONS, Permission, permission_required
from app.comments import service as comment_service
from app.comments.forms import REPORT_REASONS, is_id
from app.content import queries
from app.extensions import db
from app.i18n import site_timezone
from app.models import (
    CannedResponse,
    Comment,
    CommentRevision,
    ModerationEvent,
    Post,
    Report,
    ResponseStatus,
    StaffNote,
    Topic,
    User,
    utcnow,
)
from app.moderation import canned as canned_responses, queue as q, service
from app.moderation.forms import (
    ActionForm,
    AssignForm,
    BulkForm,
    EditForm,
    EscalateForm,
    NoteForm,
    ReplyForm,
    ResponseStatusForm,
    TopicForm,
    choices,
)
from app.search import index as search
from app.urls import internal_hosts, safe_next

bp = Blueprint("moderation", __name__, url_prefix="/moderation")
moderate = permission_required(Permission.MODERATE)

RESPONSE_LABELS = {
    ResponseStatus.NEEDS_ANSWER: _l("needs an answer"), ResponseStatus.ANSWERED: _l("answered"),
    ResponseStatus.NO_ANSWER_NEEDED: _l("no answer needed"), ResponseStatus.ESCALATED: _l("escalated"),
}
TOPIC_LABELS = {Topic.QUESTION: _l("Question"), Topic.BUG: _l("Bug"), Topic.WISH: _l("Wish"),
                Topic.COMPLAINT: _l("Complaint"), Topic.PRAISE: _l("Praise")}
STATUS_LABELS = service.STATUS_LABELS
RULE_LABELS = {"staff": _l("team member"), "trusted": _l("known address"), "new_author": _l("new address"),
               "too_many_links": _l("too many links"), "honeypot": _l("hidden bot field filled"),
               "too_fast": _l("sent too fast"), "blocklist": _l("blocked word"), "demo": _l("demo data"),
               "looks_like_team": _l("name looks like the team's"), "held_word": _l("word held for review"),
               "banned": _l("commenter banned"), "premoderated": _l("commenter pre-moderated"),
               "repeated": _l("same text sent repeatedly"), "history": _l("comments removed recently"),
               "classifier": _l("spam score above the threshold")}
ACTION_LABELS = {"approve": _l("Approve"), "reject": _l("Reject"), "spam": _l("Spam"), "delete": _l("Delete"),
                 "restore": _l("Restore")}
EVENT_LABELS = {
    "submit": _l("sent"), "approve": _l("approved"), "reject": _l("rejected"), "spam": _l("marked as spam"),
    "delete": _l("deleted"), "restore": _l("restored"), "reply": _l("answered officially"), "edit": _l("text edited"),
    "assign": _l("assigned"), "escalate": _l("escalated"), "response_status": _l("answer status changed"),
    "topic": _l("topic set"), "report": _l("reported by a reader"), "hide": _l("hidden after reports"),
    "dismiss_reports": _l("reports dismissed"), "erase": _l("erased (privacy request)"),
    "redact": _l("address removed"),
    "edit_submitted": _l("edited by the reader, waiting for review"), "edit_accepted": _l("edit published"),
    "edit_rejected": _l("edit discarded"),
    "undo": _l("decision undone"), "claim": _l("started answering"), "release": _l("stopped answering"),
    "note": _l("internal note added"), "import": _l("imported"),
}
VIEW_LABELS = {"pending": _l("Pending"), "needs_answer": _l("Needs answer"), "escalated": _l("Escalated"),
               "flagged": _l("Reported"), "spam": _l("Spam"), "rejected": _l("Rejected"), "all": _l("All")}


# What the system writes into the audit trail, said in the moderator's language (reasons typed by
# moderators are shown as typed).
SYSTEM_REASONS = {
    "approved from the command line": _l("approved from the command line"),
    "approved with an official answer": _l("approved with an official answer"),
    "deleted by its author": _l("deleted by its author"),
    "by its author": _l("by its author"),
    "link added": _l("a link was added"),
    "reports dismissed": _l("reports dismissed"),
    "official answer": _l("official answer"),
    "privacy erasure": _l("privacy request"),
    "privacy erasure: an e-mail address was removed from the text":
        _l("privacy request: an e-mail address was removed"),
    "privacy erasure: the name of the person answered was removed": _l("privacy request: the name was removed"),
}
_ANSWERED_IN = re.compile(r"answered in comment (\d+)$")
_HIDDEN_AFTER = re.compile(r"hidden after reports from (\d+) readers$")


@bp.app_template_global()
def reason_label(reason: str) -> str:
    """An audit reason as the moderator reads it: rule names and system notes translated."""
    if reason in RULE_LABELS:
        return str(RULE_LABELS[reason])
    if reason in SYSTEM_REASONS:
        return str(SYSTEM_REASONS[reason])
    if m := _ANSWERED_IN.match(reason or ""):
        return _("answered in comment %(id)s", id=m.group(1))
    if m := _HIDDEN_AFTER.match(reason or ""):
        return _("hidden after reports from %(n)s readers", n=m.group(1))
    return reason


@bp.app_context_processor
def moderation_labels():
    return {"text_version": service.text_version, "status_labels": STATUS_LABELS, "response_labels": RESPONSE_LABELS,
            "topic_labels": TOPIC_LABELS,
            "action_labels": ACTION_LABELS, "view_labels": VIEW_LABELS, "event_labels": EVENT_LABELS,
            "rule_labels": RULE_LABELS, "report_reasons": {c.value: c.label for c in REPORT_REASONS},
            "pending_undo": lambda: _pending_undo(utcnow())}


def _goals() -> q.Targets:
    return q.Targets.load(current_app.config, site_timezone())


def _comment_or_404(comment_id: int) -> Comment:
    return db.session.get(Comment, comment_id, options=[joinedload(Comment.post)]) or abort(404)


def _back(form_next: str | None, comment: Comment | None = None) -> str:
    fallback = url_for("moderation.comment", comment_id=comment.id) if comment else url_for("moderation.queue")
    return safe_next(form_next, fallback=fallback)


# --- the queue -------------------------------------------------------------------------------

def _filter(args) -> q.QueueFilter:
    return q.QueueFilter(view=args.get("view", "pending"), category=args.get("category", ""),
                         post=args.get("post", ""), assigned=args.get("assigned", ""),
                         breaching=args.get("breaching") == "1", q=args.get("q", ""), group=args.get("group") == "1")


@bp.get("/")
@moderate
def queue():
    f = _filter(request.args)
    now, goals = utcnow(), _goals()
    number = min(max(1, request.args.get("page", 1, type=int)), 1_000_000)
    pagination, items = q.page(f, current_user, number=number, per_page=current_app.config["QUEUE_PER_PAGE"],
                               now=now, goals=goals, claim_minutes=current_app.config["CLAIM_MINUTES"])
    groups, per_thread = [], {}
    if f.group:
        waiting = q.waiting_per_post({item.comment.post_id for item in items})
        per_thread = q.waiting_per_thread({item.comment.root_id for item in items})
        for item in items:
            if not groups or groups[-1]["post"].id != item.comment.post_id:
                groups.append({"post": item.comment.post, "waiting": waiting.get(item.comment.post_id, 0), "items": []})
            groups[-1]["items"].append(item)
    # The full-text index finds word forms (Störung/Störungen) across every status, pending included.
    staff_results = search.staff_search(f.q, page=1, per_page=10) if f.q else None
    bulk = BulkForm()
    bulk.action.choices = choices((a, ACTION_LABELS[a]) for a in service.ACTIONS)
    return render_template(
        "moderation/queue.html", f=f, items=items, pagination=pagination, counts=q.counts(current_user, now, goals),
        groups=groups, per_thread=per_thread, categories=queries.categories(), now=now,
        action_form=ActionForm(), reply_form=ReplyForm(), bulk_form=bulk, staff_results=staff_results,
        canned=canned_responses.responses(), cursor=q.last_event_id(),
        poll_seconds=current_app.config["QUEUE_POLL_SECONDS"], undo_seconds=service.undo_seconds(),
    )


@bp.get("/next")
@moderate
def next_item():
    """After a decision or an answer on a comment's page: the next comment of the view the
    moderator came from (`from`, a queue address), or that view when nothing is left."""
    view_url = _view_url(request.args.get("from"))
    after = request.args.get("after", "")
    f = _filter(dict(parse_qsl(urlsplit(view_url).query)))
    now = utcnow()
    _pagination, items = q.page(f, current_user, number=1, per_page=current_app.config["QUEUE_PER_PAGE"], now=now,
                                goals=_goals(), claim_minutes=current_app.config["CLAIM_MINUTES"])
    ids = [item.comment.id for item in items]
    # Still in the view (e.g. "all"): the one after it; else the first of what is left.
    ids = ids[ids.index(int(after)) + 1:] if is_id(after) and int(after) in ids else ids
    if not ids:
        flash(_("Nothing more in this view."), "success")
        return redirect(view_url)
    return redirect(url_for("moderation.comment", comment_id=ids[0], **{"from": view_url}))


def _view_url(sent: str | None) -> str:
    """A queue address the moderator came from (only the queue's own path counts)."""
    fallback = url_for("moderation.queue")
    target = safe_next(sent, fallback=fallback)
    return target if urlsplit(target).path == fallback else fallback


@bp.get("/updates")
@moderate
def updates():
    """What colleagues did since `since` (an audit-trail id): the open queue asks every few seconds
    (short polling: plain GETs that any proxy passes, no worker held open) and removes or marks
    the comments it shows. One query for the events, one for the counts."""
    since = request.args.get("since", "")
    now = utcnow()
    cursor = q.last_event_id()  # read first: an event committed meanwhile is in the next answer
    changes, read_up_to = q.changes_since(int(since), limit=200, now=now,
                                          claim_minutes=current_app.config["CLAIM_MINUTES"]) \
        if is_id(since) else ([], None)
    if read_up_to is not None:  # more than one answer's worth: go on from the last one read
        cursor = read_up_to
    return jsonify(cursor=cursor, changes=[
        {**c, "mine": c["actor_id"] == current_user.id, "actor_id": None,
         "text": _change_text(c)} for c in changes], counts=q.counts(current_user, now, _goals()))


def _change_text(change: dict) -> str:
    who = change["actor"] or _("a reader")
    if change["action"] == "claim":
        return _("%(name)s is answering", name=who)
    if change["action"] == "submit":
        return _("new comment")
    what = service.PAST.get(change["action"]) or EVENT_LABELS.get(change["action"]) or change["action"]
    return _("%(what)s by %(name)s", what=what, name=who)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"  # queue.js asks so; bodies are forms only


def _pending_undo(now):
    """The last decision of this browser that can still be undone (shown as a form without JavaScript)."""
    undo = session.get("undo")
    if not undo:
        return None
    if undo.get("until", 0) < now.timestamp():
        session.pop("undo", None)
        return None
    return undo


# --- decisions -------------------------------------------------------------------------------

@bp.post("/comments/<int:comment_id>/<action>")
@moderate
def act(comment_id: int, action: str):
    """approve | reject | spam | delete | restore, one POST each (tools and tests use these too).
    Asked for JSON (queue.js), it answers with the outcome, the undo and the new counts."""
    if action not in service.ACTIONS:
        abort(400, description=_("Unknown action."))
    comment = _comment_or_404(comment_id)
    form = ActionForm()
    if not form.validate():
        abort(400, description=_("The form was incomplete; please try again."))
    try:
        service.transition(comment, action, actor=current_user, reason=form.reason.data or "",
                           expected=form.expected.data or None, seen_version=_seen_version(request.form.get("version")),
                           undoable=True)
    except service.ModerationError as exc:
        if _wants_json():
            return jsonify(ok=False, message=str(exc.message), status=exc.comment.status), 409
        flash(str(exc.message), "warning")
        return redirect(_back(form.next.data or url_for("moderation.queue")))
    message = _("Comment by %(name)s: %(what)s.", name=comment.author_name, what=service.PAST[action])
    undo = _offer_undo(comment, action)
    if _wants_json():
        view = request.form.get("view", "")
        return jsonify(ok=True, message=message, status=comment.status, status_label=str(STATUS_LABELS[comment.status]),
                       undo=undo, in_view=view in q.VIEWS and q.in_view(comment.id, view),
                       counts=q.counts(current_user, utcnow(), _goals()))
    if undo is None:  # else the next page shows the message with its undo button
        flash(message, "success")
    return redirect(_back(form.next.data or url_for("moderation.queue")))


def _offer_undo(comment: Comment, action: str) -> dict | None:
    """The undo for a decision just made, also kept in the session for the next page without JavaScript."""
    if action not in service.UNDOABLE or not service.undo_seconds():
        return None
    event = service.last_event(comment, (action,))
    seconds = service.undo_seconds()
    undo = {"url": url_for("moderation.undo", comment_id=comment.id), "event": event.id, "seconds": seconds,
            "until": event.at.timestamp() + seconds, "comment": comment.id,
            "label": _("Comment by %(name)s: %(what)s.", name=comment.author_name, what=service.PAST[action])}
    session["undo"] = undo
    return undo


@bp.post("/comments/<int:comment_id>/undo")
@moderate
def undo(comment_id: int):
    """Take back one's own decision within the undo window: an audited transition like any other."""
    comment = _comment_or_404(comment_id)
    form = ActionForm()
    event_id = request.form.get("event", "")
    if not form.validate() or not is_id(event_id):
        abort(400, description=_("The form was incomplete; please try again."))
    session.pop("undo", None)
    try:
        event = service.undo(comment, current_user, int(event_id))
    except service.ModerationError as exc:
        if _wants_json():
            return jsonify(ok=False, message=str(exc.message), status=exc.comment.status), 409
        flash(str(exc.message), "warning")
        return redirect(_back(form.next.data or url_for("moderation.queue")))
    message = _("Undone: the comment by %(name)s is %(status)s again.", name=comment.author_name,
                status=STATUS_LABELS[event.from_status])
    if _wants_json():
        return jsonify(ok=True, message=message, status=comment.status,
                       counts=q.counts(current_user, utcnow(), _goals()))
    flash(message, "success")
    return redirect(_back(form.next.data or url_for("moderation.queue")))


@bp.post("/bulk")
@moderate
def bulk():
    form = BulkForm()
    action = form.action.data
    if action not in service.ACTIONS:
        abort(400, description=_("Unknown action."))
    if not form.validate():
        abort(400, description=_("The form was incomplete; please try again."))
    # Each box says "id:status:text version as shown", so a comment someone else handled (or its
    # author changed) meanwhile is skipped.
    seen = {}
    for value in request.form.getlist("ids"):
        comment_id, _sep, rest = value.partition(":")
        status, has_version, version = rest.partition(":")
        if is_id(comment_id):
            seen[int(comment_id)] = (status or None, _seen_version(version if has_version else None))
    if not seen:
        flash(_("Please select at least one comment."), "warning")
        return redirect(_back(form.next.data or url_for("moderation.queue")))
    comments = db.session.scalars(select(Comment).where(Comment.id.in_(seen)).order_by(Comment.id)).all()
    result = service.bulk([(c, *seen[c.id]) for c in comments], action, actor=current_user,
                          reason=form.reason.data or "")
    if result.done:
        flash(_("%(n)s comments: %(what)s.", n=len(result.done), what=service.PAST[action]), "success")
    for comment_id, message in result.skipped:
        flash(f"#{comment_id}: {message}", "warning")
    return redirect(_back(form.next.data or url_for("moderation.queue")))


# --- one comment -----------------------------------------------------------------------------

@bp.get("/comments/<int:comment_id>")
@moderate
def comment(comment_id: int):
    return _render_detail(_comment_or_404(comment_id))


def _next_after(comment: Comment, view_url: str | None) -> str:
    """Where a decision or an answer on a comment's page leads: the next comment of the view the
    moderator came from (the pending view when they came from elsewhere)."""
    return url_for("moderation.next_item", after=comment.id, **{"from": _view_url(view_url)})


def _render_detail(comment: Comment, status: int = 200, reply_form: ReplyForm | None = None,
                   preview: str | None = None, message: str | None = None):
    post = comment.post
    parent = db.session.get(Comment, comment.parent_id) if comment.parent_id else None
    replies = db.session.scalars(select(Comment).where(Comment.parent_id == comment.id).order_by(Comment.id)).all()
    events = db.session.scalars(select(ModerationEvent).options(joinedload(ModerationEvent.actor))
                                .where(ModerationEvent.comment_id == comment.id).order_by(ModerationEvent.id)).all()
    notes = db.session.scalars(select(StaffNote).options(joinedload(StaffNote.author))
                               .where(StaffNote.comment_id == comment.id).order_by(StaffNote.id)).all()
    reports = db.session.scalars(select(Report).where(Report.comment_id == comment.id).order_by(Report.id)).all()
    revisions = db.session.scalars(select(CommentRevision).options(joinedload(CommentRevision.actor))
                                   .where(CommentRevision.comment_id == comment.id).order_by(CommentRevision.id)).all()
    canned = db.session.scalars(select(CannedResponse).order_by(CannedResponse.lang != post.lang,
                                                                CannedResponse.title)).all()
    staff = _moderators()
    approved_before = comment_service.approved_count(comment.author_email, excluding=comment.id) \
        if comment.user_id is None else 0
    if reply_form is None:
        reply_form = ReplyForm(formdata=None)
        chosen = request.args.get("canned", "")
        if is_id(chosen):
            response = db.session.get(CannedResponse, chosen)
            if response:  # as written: the placeholders are filled in once, when it is previewed or sent
                reply_form.body.data = response.body_md
                try:
                    preview = preview or markup.render_comment(
                        canned_responses.fill(response.body_md, _placeholder_values(comment, post)), internal_hosts())
                except (canned_responses.PlaceholderError, markup.RenderError) as exc:
                    message = str(exc.message)
        reply_form.expect_unanswered.data = "1" if comment.answered_at is None else ""
    assign = AssignForm(formdata=None, assignee=str(comment.assigned_to_id or ""))
    assign.assignee.choices = choices([("", _("nobody"))] + [(u.id, u.display_name) for u in staff])
    status_form = ResponseStatusForm(formdata=None, response_status=comment.response_status or "")
    status_form.response_status.choices = choices(RESPONSE_LABELS.items())
    topic_form = TopicForm(formdata=None, topic=comment.topic or "")
    topic_form.topic.choices = choices([("", _("no topic")), *list(TOPIC_LABELS.items())])
    # Earlier questions like this one that the team already answered: link or reuse, don't rewrite.
    similar = search.similar_answered(comment.id) if comment.user_id is None else []
    holder_id = service.active_claim(comment, current_app.config["CLAIM_MINUTES"])
    holder = db.session.get(User, holder_id) if holder_id and holder_id != current_user.id else None
    return render_template(
        "moderation/comment.html", comment=comment, post=post, parent=parent, replies=replies, events=events,
        notes=notes, reports=reports, revisions=revisions, canned=canned, approved_before=approved_before,
        reply_form=reply_form,
        action_form=ActionForm(formdata=None), edit_form=EditForm(formdata=None, body=comment.body_md),
        note_form=NoteForm(formdata=None), escalate_form=EscalateForm(formdata=None), assign_form=assign,
        status_form=status_form, topic_form=topic_form, claim_holder=holder, preview=preview, message=message,
        teams=current_app.config["ESCALATION_TEAMS"], placeholders=canned_responses.PLACEHOLDERS, similar=similar,
        view_url=_view_url(request.values.get("from")), after_decision=_next_after(comment, request.values.get("from")),
    ), status


@bp.get("/comments/<int:comment_id>/similar")
@moderate
def similar(comment_id: int):
    """Earlier answered questions like this one, as a fragment the queue loads into an answer box."""
    comment = _comment_or_404(comment_id)
    found = search.similar_answered(comment.id) if comment.user_id is None else []
    return render_template("search/_similar.html", similar=found)


@bp.post("/comments/<int:comment_id>/reply")
@moderate
def reply(comment_id: int):
    """Approve (if pending) and answer officially in one step. Placeholders typed or inserted are
    filled in; an unknown one is refused with the known ones, the typed text kept."""
    question = _comment_or_404(comment_id)
    form = ReplyForm()
    if not form.validate():
        return _reply_refused(question, form, 400, _("The answer was not published. Please check the text."))
    try:
        body = canned_responses.fill(form.body.data, _placeholder_values(question, question.post))
    except canned_responses.PlaceholderError as exc:
        return _reply_refused(question, form, 400, str(exc.message))
    if form.preview.data:
        try:
            preview = markup.render_comment(body, internal_hosts())
        except markup.RenderError as exc:
            return _render_detail(question, 400, form, message=str(exc.message))
        return _render_detail(question, 200, form, preview=preview)
    try:
        service.reply(question, current_user, body, team_name=current_app.config["TEAM_NAME"],
                      as_team=form.as_team.data != "me", expect_unanswered=form.expect_unanswered.data == "1",
                      internal_hosts=internal_hosts(), seen_version=_seen_version(request.form.get("version")))
    except service.ModerationError as exc:
        form.expect_unanswered.data = ""  # sending again posts a follow-up answer on purpose
        return _reply_refused(question, form, 409, str(exc.message))
    message = _("Your answer to %(name)s is published.", name=question.author_name)
    if _wants_json():
        return jsonify(ok=True, message=message, status=question.status,
                       counts=q.counts(current_user, utcnow(), _goals()))
    flash(message, "success")
    target = form.next.data or _next_after(question, request.form.get("from"))
    return redirect(_back(target, question))


def _reply_refused(question: Comment, form: ReplyForm, status: int, message: str):
    if _wants_json():  # the inline box keeps the text and shows why
        return jsonify(ok=False, message=message, status=question.status), status
    return _render_detail(question, status, form, message=message)


def _placeholder_values(comment: Comment, post: Post) -> canned_responses.Values:
    return canned_responses.Values(name=comment.author_name, post_title=post.title,
                                   team=current_app.config["TEAM_NAME"], moderator=current_user.display_name)


@bp.post("/comments/<int:comment_id>/edit")
@moderate
def edit(comment_id: int):
    comment = _comment_or_404(comment_id)
    form = EditForm()
    if not form.validate():
        return _render_detail(comment, 400, message=_("The text was not changed: it cannot be empty."))
    try:
        service.edit(comment, current_user, form.body.data, reason=form.reason.data or "",
                     internal_hosts=internal_hosts())
    except service.ModerationError as exc:
        return _render_detail(comment, 400, message=str(exc.message))
    flash(_("The comment has been changed; the original text is kept."), "success")
    return redirect(url_for("moderation.comment", comment_id=comment.id))


@bp.post("/comments/<int:comment_id>/edit/<decision>")
@moderate
def decide_edit(comment_id: int, decision: str):
    """accept | reject a reader's edit of a published comment (the published text stays until then)."""
    if decision not in ("accept", "reject"):
        abort(404)
    comment = _comment_or_404(comment_id)
    form = ActionForm()
    if not form.validate():
        abort(400, description=_("The form was incomplete; please try again."))
    try:
        service.decide_edit(comment, current_user, accept=decision == "accept", seen=form.expected.data or "",
                            reason=form.reason.data or "")
        flash(_("Edit by %(name)s published.", name=comment.author_name) if decision == "accept"
              else _("Edit by %(name)s discarded; the published text stays.", name=comment.author_name), "success")
    except service.ModerationError as exc:
        flash(str(exc.message), "warning")
    return redirect(_back(form.next.data or url_for("moderation.queue")))


@bp.post("/comments/<int:comment_id>/note")
@moderate
def note(comment_id: int):
    comment = _comment_or_404(comment_id)
    form = NoteForm()
    if not form.validate():
        return _render_detail(comment, 400, message=_("The note was empty."))
    service.add_note(comment, current_user, form.body.data)
    flash(_("Note saved."), "success")
    return redirect(url_for("moderation.comment", comment_id=comment.id, _anchor="notes"))


@bp.post("/comments/<int:comment_id>/escalate")
@moderate
def escalate(comment_id: int):
    comment = _comment_or_404(comment_id)
    form = EscalateForm()
    if not form.validate():
        return _render_detail(comment, 400, message=_("Please say who takes over and add a note."))
    try:
        service.escalate(comment, current_user, form.to.data.strip(), form.note.data,
                         expected=request.form.get("expected"))
    except service.ModerationError as exc:
        return _render_detail(comment, 409, message=str(exc.message))
    flash(_("Handed over to %(to)s.", to=form.to.data.strip()), "success")
    return redirect(url_for("moderation.comment", comment_id=comment.id))


@bp.post("/comments/<int:comment_id>/assign")
@moderate
def assign(comment_id: int):
    comment = _comment_or_404(comment_id)
    form = AssignForm()
    if not form.validate():
        abort(400)
    assignee = None
    if form.assignee.data:
        assignee = db.session.get(User, int(form.assignee.data)) if is_id(form.assignee.data) else None
        if assignee is None or assignee not in _moderators():
            abort(400, description=_("Unknown colleague."))
    seen = request.form.get("expected")
    try:
        service.assign(comment, current_user, assignee,
                       expected="current" if seen is None else (int(seen) if is_id(seen) else None))
    except service.ModerationError as exc:
        flash(str(exc.message), "warning")
        return redirect(_back(request.form.get("next"), comment))
    flash(_("Assigned to %(name)s.", name=assignee.display_name) if assignee else _("Assignment removed."), "success")
    return redirect(_back(request.form.get("next"), comment))


@bp.post("/comments/<int:comment_id>/response-status")
@moderate
def response_status(comment_id: int):
    comment = _comment_or_404(comment_id)
    form = ResponseStatusForm()
    if not form.validate() or form.response_status.data not in set(ResponseStatus):
        abort(400, description=_("Unknown answer status."))
    try:
        service.set_response_status(comment, current_user, form.response_status.data,
                                    expected=request.form.get("expected"))
    except service.ModerationError as exc:
        flash(str(exc.message), "warning")
        return redirect(_back(request.form.get("next"), comment))
    flash(_("Answer status: %(status)s.", status=RESPONSE_LABELS[form.response_status.data]), "success")
    return redirect(_back(request.form.get("next"), comment))


@bp.post("/comments/<int:comment_id>/topic")
@moderate
def topic(comment_id: int):
    comment = _comment_or_404(comment_id)
    form = TopicForm()
    if not form.validate() or (form.topic.data and form.topic.data not in set(Topic)):
        abort(400, description=_("Unknown topic."))
    service.set_topic(comment, current_user, form.topic.data or None)
    return redirect(_back(request.form.get("next"), comment))


@bp.post("/comments/<int:comment_id>/dismiss-reports")
@moderate
def dismiss_reports(comment_id: int):
    comment = _comment_or_404(comment_id)
    if not ActionForm().validate():
        abort(400)
    service.dismiss_reports(comment, current_user)
    flash(_("Reports dismissed; the comment stays."), "success")
    return redirect(_back(request.form.get("next"), comment))


@bp.post("/comments/<int:comment_id>/claim")
@moderate
def claim(comment_id: int):
    """Opening the reply box claims the comment for a few minutes, so nobody answers twice."""
    comment = _comment_or_404(comment_id)
    if not ActionForm().validate():
        abort(400)
    result = service.claim(comment, current_user, minutes=current_app.config["CLAIM_MINUTES"])
    holder = result.holder.display_name if result.holder else None
    if _wants_json():
        return jsonify(ok=result.ok, holder=holder)
    if not result.ok:
        flash(_("%(name)s is answering this comment right now.", name=holder), "warning")
    return redirect(url_for("moderation.comment", comment_id=comment.id, _anchor="reply"))


@bp.post("/comments/<int:comment_id>/release")
@moderate
def release(comment_id: int):
    comment = _comment_or_404(comment_id)
    if not ActionForm().validate():
        abort(400)
    service.release(comment, current_user)
    return redirect(_back(request.form.get("next"), comment))


@bp.post("/preview")
@moderate
def preview():
    """Markdown preview for the reply box (the same pipeline as the published answer)."""
    if not ActionForm().validate():
        abort(400)
    body = request.form.get("body", "")
    answering = request.form.get("comment", "")
    try:
        if is_id(answering):  # placeholders filled in as they will be published
            question = db.session.get(Comment, int(answering), options=[joinedload(Comment.post)])
            if question is not None:
                body = canned_responses.fill(body, _placeholder_values(question, question.post))
        return jsonify(html=markup.render_comment(body, internal_hosts()))
    except canned_responses.PlaceholderError as exc:
        return jsonify(error=str(exc.message)), 400
    except markup.RenderError as exc:
        return jsonify(error=str(exc.message)), 400


# --- helpers ---------------------------------------------------------------------------------

def _seen_version(sent: str | None) -> str:
    """The text version the moderator's form says it showed. A form without one (a page from before
    versions, a tool) counts as having seen the original text, so an edited comment is not decided
    on its behalf."""
    return sent if sent is not None else ""


def _moderators() -> list[User]:
    roles = [role for role, perms in ROLE_PERMISSIONS.items() if Permission.MODERATE in perms]
    return list(db.session.scalars(select(User).where(User.role.in_(roles), User.active).order_by(User.display_name)))
