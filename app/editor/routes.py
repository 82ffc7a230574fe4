"""The editor's pages; thin: the form in, `app.content.editing` does the work, a page or a redirect out."""
from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import format_datetime, gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from app import markup
from app.auth.permissions import Permission, permission_required
from app.content import editing, posts_admin
from app.converters import parse_int
from app.editor import bp
from app.editor.forms import STATUS_LABELS, ActionForm, PostForm, PreviewForm
from app.i18n import site_timezone
from app.models import PostStatus, utcnow
from app.urls import absolute_url, internal_hosts

JUST_SAVED = "editor_just_saved"  # session: the post whose browser copy (autosave) can go
JUST_CREATED = "editor_just_created"  # session: … and it was new, so the copy kept as "new" can go too
IMAGES_PATH = "/editor/images"  # the image library (its own module)


def editing_settings() -> editing.Settings:
    """What a save needs from the app config (time zone, who may publish …); the post page uses it too."""
    config = current_app.config
    return editing.Settings(tz=site_timezone(), internal_hosts=internal_hosts(),
                            words_per_minute=config["WORDS_PER_MINUTE"],
                            authors_may_publish=bool(config["AUTHORS_MAY_PUBLISH"]))


def _own_post(post_id: int):
    """The post, if it exists (404) and the user may edit it (403)."""
    post = editing.get_post(post_id) or abort(404)
    if not posts_admin.may_edit(current_user, post):
        abort(403)
    return post




# --- the list ------------------------------------------------------------------------------------

@bp.get("/")
@permission_required(Permission.WRITE_POSTS)
def index():
    status = request.args.get("status", "")
    category_id = parse_int(request.args.get("category"))
    q = request.args.get("q", "")
    page = max(1, min(parse_int(request.args.get("page")) or 1, 100_000))
    pagination, rows = editing.list_posts(current_user, status=status, category_id=category_id, q=q, page=page)
    return render_template("editor/index.html", pagination=pagination, rows=rows, status=status,
                           category_id=category_id, q=q, categories=editing.categories(),
                           status_labels=STATUS_LABELS)


# --- writing ---------------------------------------------------------------------------------------

def _prepare(form: PostForm, post=None) -> None:
    settings = editing_settings()
    labels = dict(STATUS_LABELS)
    if not editing.may_publish(current_user, settings):
        labels[PostStatus.REVIEW] = _("Submit for review")
    form.status.choices = [SelectChoice(s, labels[s]) for s in editing.allowed_statuses(current_user, settings, post)]
    form.category.choices = [SelectChoice("", _("No category"))] + [SelectChoice(str(c.id), c.name)
                                                                   for c in editing.categories()]


def _fill(form: PostForm, post) -> None:
    form.title.data, form.slug.data, form.summary.data = post.title, post.slug, editing.typed_summary(post)
    form.category.data = str(post.category_id or "")
    form.tags.data = ", ".join(t.name for t in post.tags)
    form.lang.data, form.comments_open.data, form.status.data = post.lang, post.comments_open, post.status
    form.published_at.data = editing.local_datetime_value(post.published_at, site_timezone())
    form.body.data, form.version.data = post.body_md, str(post.version)


def _input(form: PostForm) -> tuple[editing.PostInput, dict]:
    """The typed values as service input; a date that cannot be read is an error of its own."""
    errors = {}
    try:
        published_at = editing.parse_local_datetime(form.published_at.data or "", site_timezone())
    except ValueError:
        published_at = None
        errors["published_at"] = _("“%(value)s” is not a date and time we can read. Please use the form "
                                   "31.12.2026 18:30 (or pick one).", value=(form.published_at.data or "")[:40])
    data = editing.PostInput(
        title=form.title.data or "", body_md=form.body.data or "", slug=(form.slug.data or "").strip(),
        summary=form.summary.data or "", category_id=parse_int(form.category.data),
        tags=editing.split_tags(form.tags.data or ""), lang=form.lang.data or "", status=form.status.data or "",
        comments_open=bool(form.comments_open.data), published_at=published_at,
    )
    return data, errors


def _show(form: PostForm, post=None, status: int = 200, **context):
    _prepare(form, post)
    just_saved = post is not None and session.pop(JUST_SAVED, None) == post.id
    just_created = just_saved and session.pop(JUST_CREATED, False)
    preview_url = absolute_url("blog.preview", token=post.preview_token) if post and post.preview_token else None
    return render_template(
        "editor/edit.html", form=form, post=post, tag_names=editing.tag_names(), images_url=IMAGES_PATH,
        autosave_key=f"dialog-editor:{post.id if post else 'new'}", just_saved=just_saved,
        just_created=just_created,
        preview_url=preview_url,
        status_labels=STATUS_LABELS, tz_name=site_timezone().key,
        may_publish=editing.may_publish(current_user, editing_settings()), **context,
    ), status


def _submit(form: PostForm, post=None):
    """Save, or (the "Preview" button) show the preview without saving; errors re-show the typed text."""
    data, errors = _input(form)
    if request.form.get("action") == "preview":
        html, problem = editing.preview_html(data.body_md, editing_settings())
        return _show(form, post, preview_html=html, preview_error=problem)
    if errors:
        _field_errors(form, errors)
        return _show(form, post, status=422)
    try:
        saved = editing.save(current_user, data, editing_settings(), now=utcnow(), post=post,
                             loaded_version=parse_int(form.version.data))
    except editing.EditError as exc:
        _field_errors(form, exc.errors)
        return _show(form, post, status=422)
    except editing.StaleEdit as exc:
        # Shown with the typed text; the form now carries their version, so saving again is a choice.
        form.version.data = str(exc.post.version)
        return _show(form, exc.post, status=409, stale=exc, stale_when=_when(exc.latest))
    session[JUST_SAVED] = saved.id
    if post is None:
        session[JUST_CREATED] = True
    flash(_saved_message(saved), "success")
    return redirect(url_for("editor.edit", post_id=saved.id))


def _field_errors(form: PostForm, errors: dict) -> None:
    names = {"body_md": "body", "category": "category"}
    for key, message in errors.items():
        field = getattr(form, names.get(key, key), None)
        if field is not None:
            field.errors = [*field.errors, str(message)] if isinstance(field.errors, list) else [str(message)]


def _when(revision) -> str:
    return format_datetime(revision.created_at, "short") if revision is not None else ""


def _saved_message(post) -> str:
    if post.status == PostStatus.SCHEDULED:
        return _("Saved. The post goes live on %(when)s.", when=format_datetime(post.published_at, "short"))
    if post.status == PostStatus.PUBLISHED:
        return _("Saved. The post is live.")
    if post.status == PostStatus.REVIEW:
        return _("Saved and submitted for review: an editor publishes it.")
    return _("Saved as a draft. Readers do not see it.")


@bp.route("/new", methods=["GET", "POST"])
@permission_required(Permission.WRITE_POSTS)
def new():
    form = PostForm()
    if request.method == "GET":
        form.lang.data, form.comments_open.data = "de", True
        return _show(form)
    return _submit(form)


@bp.route("/<int:post_id>", methods=["GET", "POST"])
@permission_required(Permission.WRITE_POSTS)
def edit(post_id: int):
    post = _own_post(post_id)
    form = PostForm()
    if request.method == "GET":
        _fill(form, post)
        return _show(form, post)
    return _submit(form, post)


@bp.post("/preview")
@permission_required(Permission.WRITE_POSTS)
def preview():
    """Markdown in, the sanitised fragment out (the published posts' pipeline); for the live preview."""
    form = PreviewForm()
    html, problem = editing.preview_html(form.body.data or "", editing_settings())
    return render_template("editor/_preview.html", preview_html=html, preview_error=problem), \
        422 if problem else 200


# --- revisions ---------------------------------------------------------------------------------------

@bp.get("/<int:post_id>/revisions")
@permission_required(Permission.WRITE_POSTS)
def revisions(post_id: int):
    post = _own_post(post_id)
    return render_template("editor/revisions.html", post=post, revisions=editing.revisions(post))


@bp.get("/<int:post_id>/diff")
@permission_required(Permission.WRITE_POSTS)
def diff(post_id: int):
    post = _own_post(post_id)
    history = editing.revisions(post)  # newest first
    if not history:
        abort(404)
    by_id = {r.id: r for r in history}
    b = by_id.get(request.args.get("b", type=int)) if request.args.get("b") else history[0]
    if b is None:
        abort(404)
    if request.args.get("a"):
        a = by_id.get(request.args.get("a", type=int)) or abort(404)
    else:
        older = [r for r in history if r.id < b.id]
        a = older[0] if older else b
    lines = editing.diff_lines(editing.text_of(a), editing.text_of(b))
    return render_template("editor/diff.html", post=post, a=a, b=b, lines=lines, revisions=history)


@bp.post("/<int:post_id>/revisions/<int:rev_id>/restore")
@permission_required(Permission.WRITE_POSTS)
def restore(post_id: int, rev_id: int):
    post = _own_post(post_id)
    revision = editing.get_revision(post, rev_id) or abort(404)
    form = ActionForm()
    try:
        editing.restore(post, revision, current_user, editing_settings(), now=utcnow(),
                        loaded_version=parse_int(form.version.data))
    except editing.StaleEdit:
        flash(_("Someone saved this post meanwhile. Please look at the revisions again before restoring."), "error")
        return redirect(url_for("editor.revisions", post_id=post_id))
    except editing.EditError as exc:
        flash(" ".join(str(m) for m in exc.errors.values()), "error")
        return redirect(url_for("editor.revisions", post_id=post_id))
    session[JUST_SAVED] = post_id
    flash(_("Revision %(version)s restored: it is now the newest revision.", version=revision.version), "success")
    return redirect(url_for("editor.edit", post_id=post_id))


# --- preview links and comments ------------------------------------------------------------------------

@bp.post("/<int:post_id>/preview-link")
@permission_required(Permission.WRITE_POSTS)
def create_preview_link(post_id: int):
    post = _own_post(post_id)
    ActionForm()  # CSRF is checked for every POST; the form has nothing else
    editing.create_preview_link(post)
    flash(_("Preview link created. Anyone who has it can read this post until you revoke it."), "success")
    return redirect(url_for("editor.edit", post_id=post_id, _anchor="preview-link"))


@bp.post("/<int:post_id>/preview-link/revoke")
@permission_required(Permission.WRITE_POSTS)
def revoke_preview_link(post_id: int):
    post = _own_post(post_id)
    editing.revoke_preview_link(post)
    flash(_("Preview link revoked: it no longer opens the post."), "success")
    return redirect(url_for("editor.edit", post_id=post_id, _anchor="preview-link"))


@bp.post("/<int:post_id>/comments")
@permission_required(Permission.WRITE_POSTS)
def toggle_comments(post_id: int):
    post = _own_post(post_id)
    form = ActionForm()
    is_open = request.form.get("open") == "1"
    try:
        editing.set_comments_open(post, current_user, is_open, editing_settings(), now=utcnow(),
                                  loaded_version=parse_int(form.version.data))
    except editing.StaleEdit:
        flash(_("Someone saved this post meanwhile; nothing was changed. Please try again."), "error")
    except editing.EditError as exc:
        flash(" ".join(str(m) for m in exc.errors.values()), "error")
    else:
        flash(_("Comments are open.") if is_open else _("Comments are closed."), "success")
    return redirect(url_for("editor.edit", post_id=post_id))


def _body_limit() -> int:
    """A post may hold LIMITS["post"] characters; sent as a form, each can take up to 6 bytes (%C3%A4 …).
    So a long text reaches the form and gets its message (the typed text kept) instead of a bare 413."""
    return 6 * markup.LIMITS["post"].max_length + 64 * 1024


for _view in (new, edit, preview):
    _view.body_limit = _body_limit  # read by app/errors.py before the body is parsed
