"""The image library of the editor (upload, alt text, delete) and the public `/uploads/<name>` files.

Its own blueprint (`images`), so it stands without the editor's. The work is done by
`app.content.uploads`; these views only read the form and answer.
"""
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from app.auth.permissions import Permission, can, permission_required
from app.content import uploads
from app.content.uploads import UploadError
from app.converters import parse_int

bp = Blueprint("images", __name__)

FORM_OVERHEAD = 64 * 1024  # the alt text, the CSRF token and the multipart framing around the file
YEAR = 365 * 24 * 3600
# An image opened on its own becomes the browser's image document, which styles itself inline; it
# may do that and nothing else (sandbox: no scripts, no forms, an origin of its own).
IMAGE_POLICY = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"


def _body_limit() -> int:
    return current_app.config["UPLOAD_MAX_BYTES"] + FORM_OVERHEAD


def _picking() -> bool:
    # From the query string only: a 413 must be answered without reading the (refused) body.
    return request.args.get("pick") == "1"


def _page_arg() -> int:
    return parse_int(request.args.get("page"), max_digits=6) or 1


def _library(message=None, alt="", status=200, edit_id=None, edit_alt=None, edit_message=None):
    page = uploads.list_uploads(_page_arg())
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    return render_template(
        "editor/images.html", library=page, pick=_picking(), message=message, alt=alt,
        max_bytes=limit, max_mb=uploads.megabytes(limit), max_alt=uploads.MAX_ALT,
        snippet=uploads.markdown_snippet, thumb=_thumbnail,
        edit_id=edit_id, edit_alt=edit_alt, edit_message=edit_message,
    ), status


def _thumbnail(upload) -> str:
    """The smallest stored size that still fills a library tile (480 px), else the original."""
    widths = sorted(upload.variants or [])
    name = uploads.variant_name(upload, widths[0]) if widths else upload.name
    return url_for("images.file", name=name)


@bp.get("/editor/images")
@permission_required(Permission.WRITE_POSTS)
def library():
    return _library()


@bp.post("/editor/images")
@permission_required(Permission.WRITE_POSTS)
def upload():
    alt = request.form.get("alt", "")
    file = request.files.get("image")
    if file is None or not file.filename:
        return _library(_("Please choose an image file."), alt=alt, status=400)
    data = file.read(current_app.config["UPLOAD_MAX_BYTES"] + 1)  # one byte more tells "too large"
    try:
        stored = uploads.store(data, file.filename, alt, current_user)
    except UploadError as error:
        return _library(error.message, alt=alt, status=400)
    if stored.reused:
        flash(_("This image is already in the library; it is shown below with its alternative text."), "info")
    else:
        flash(_("The image was uploaded."), "success")
    return redirect(url_for("images.library", pick="1" if _picking() else None, _anchor=f"image-{stored.id}"))


upload.body_limit = _body_limit  # read by app.errors before anything reads the body: files up to the limit
upload.takes_files = True  # the only view that does


def may_change(item) -> bool:
    """The library is shared for reading and inserting; changing or deleting an image is for whoever
    uploaded it and for those who edit every post."""
    return item.uploaded_by_id == current_user.id or can(current_user, Permission.EDIT_ALL_POSTS)


@bp.app_context_processor
def _library_rights():
    return {"may_change_image": may_change}


def _changeable(upload_id: int):
    item = uploads.get(upload_id) or abort(404)
    if not may_change(item):
        abort(403)
    return item


@bp.post("/editor/images/<int:upload_id>/alt")
@permission_required(Permission.WRITE_POSTS)
def update_alt(upload_id: int):
    item = _changeable(upload_id)
    alt = request.form.get("alt", "")
    try:
        uploads.update_alt(item, alt)
    except UploadError as error:
        return _library(edit_id=item.id, edit_alt=alt, edit_message=error.message, status=400)
    flash(_("The alternative text was saved."), "success")
    return redirect(url_for("images.library", pick="1" if _picking() else None, page=_page_arg(),
                            _anchor=f"image-{item.id}"))


@bp.post("/editor/images/<int:upload_id>/delete")
@permission_required(Permission.WRITE_POSTS)
def delete(upload_id: int):
    item = _changeable(upload_id)
    try:
        uploads.delete(item)
    except UploadError as error:
        flash(error.message, "error")
        return redirect(url_for("images.library", pick="1" if _picking() else None, page=_page_arg(),
                                _anchor=f"image-{item.id}"))
    flash(_("The image was deleted."), "success")
    return redirect(url_for("images.library", pick="1" if _picking() else None, page=_page_arg()))


@bp.get("/uploads/<name>")
def file(name: str):
    """An uploaded image for everybody: generated names only, the type from our own extension, cached
    for a year (a stored file never changes: a new image gets a new name)."""
    path = uploads.file_path(name)
    if path is None:
        abort(404)
    response = send_file(path, mimetype=uploads.content_type_of(name), max_age=YEAR, conditional=True, etag=True)
    response.cache_control.public = True
    response.cache_control.immutable = True
    response.headers["Content-Security-Policy"] = IMAGE_POLICY
    return response


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """A body over the limit was not read at all: say so on the library page (the alt text is lost with it)."""
    if request.endpoint == "images.upload" and can(current_user, Permission.WRITE_POSTS):
        limit = current_app.config["UPLOAD_MAX_BYTES"]
        message = _("The file is larger than %(mb)s MB.", mb=uploads.megabytes(limit))
        return _library(message, status=413)
    return render_template("errors/error.html", code=413, error=error), 413
