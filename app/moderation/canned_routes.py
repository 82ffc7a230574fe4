"""Canned responses: reusable answers the team manages and inserts into replies."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import CannedResponse
from app.moderation.canned import PLACEHOLDERS, PlaceholderError, check
from app.moderation.forms import ActionForm, CannedForm
from app.moderation.routes import bp, moderate


@bp.route("/canned", methods=["GET", "POST"])
@moderate
def canned():
    return _save_or_show(None)


@bp.route("/canned/<int:response_id>", methods=["GET", "POST"])
@moderate
def canned_edit(response_id: int):
    return _save_or_show(db.session.get(CannedResponse, response_id) or abort(404))


def _save_or_show(editing: CannedResponse | None):
    """The list with the form: a new response (editing None) or changes to `editing`."""
    form = CannedForm(obj=editing)
    if form.validate_on_submit() and _placeholders_known(form):
        response = editing or CannedResponse()
        form.populate_obj(response)
        response.title = response.title.strip()
        db.session.add(response)
        db.session.commit()
        flash(_("Canned response saved."), "success")
        return redirect(url_for("moderation.canned"))
    responses = db.session.scalars(select(CannedResponse).order_by(CannedResponse.lang, CannedResponse.title)).all()
    status = 400 if form.is_submitted() else 200
    return render_template("moderation/canned.html", form=form, responses=responses, editing=editing,
                           placeholders=PLACEHOLDERS, delete_form=ActionForm()), status


def _placeholders_known(form: CannedForm) -> bool:
    """A response with a placeholder we cannot fill would be published literally: refused, with the known ones."""
    try:
        check(form.body_md.data)
    except PlaceholderError as exc:
        form.body_md.errors = [*form.body_md.errors, str(exc.message)]
        return False
    return True


@bp.post("/canned/<int:response_id>/delete")
@moderate
def canned_delete(response_id: int):
    response = db.session.get(CannedResponse, response_id) or abort(404)
    if not ActionForm().validate():
        abort(400)
    db.session.delete(response)
    db.session.commit()
    flash(_("Canned response deleted."), "success")
    return redirect(url_for("moderation.canned"))
