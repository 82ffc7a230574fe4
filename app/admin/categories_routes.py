"""Categories in the browser: list, create, rename, describe, order, merge, first-answer targets
(the rules: app/content/categories.py)."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user

from app import outbox
from app.admin.backoffice import bp, target_label
from app.auth.permissions import Permission, permission_required
from app.content import categories as service
from app.converters import parse_int
from app.extensions import db
from app.models import Category

manage_site = permission_required(Permission.MANAGE_SITE)


def _typed() -> service.CategoryInput:
    form = request.form
    return service.CategoryInput(name=form.get("name", ""), slug=form.get("slug", ""),
                                 description=form.get("description", ""), target=form.get("target", ""),
                                 unit=form.get("unit", "hours"), business_hours=form.get("business_hours") == "1")


def _category_or_404(category_id: int) -> Category:
    return db.session.get(Category, category_id) or abort(404)


def _list(new: service.CategoryInput | None = None, errors: dict | None = None, status: int = 200):
    return render_template("admin/categories.html", rows=service.listing(), new=new or service.CategoryInput(),
                           errors=errors or {}, history=service.history()), status


def _edit(category: Category, values: service.CategoryInput | None = None, errors: dict | None = None,
          status: int = 200, merge_error: str | None = None):
    others = [c for c, _count in service.listing() if c.id != category.id]
    return render_template("admin/category_edit.html", category=category, values=values or service.input_from(category),
                           errors=errors or {}, others=others, merge_error=merge_error), status


@bp.context_processor
def category_labels():
    return {"target_label": target_label, "category_actions": {
        "category.create": _l("created"), "category.update": _l("changed"), "category.order": _l("order changed"),
        "category.merge": _l("merged")}}



@bp.get("/categories")
@manage_site
def categories():
    return _list()


@bp.post("/categories")
@manage_site
def create_category():
    data = _typed()
    try:
        category = service.create(data, current_user)
    except service.CategoryError as exc:
        db.session.rollback()
        return _list(data, exc.errors, 400)
    db.session.commit()
    flash(_("Category “%(name)s” created.", name=category.name), "success")
    return redirect(url_for("backoffice.categories"))


@bp.route("/categories/<int:category_id>", methods=["GET", "POST"])
@manage_site
def edit_category(category_id: int):
    category = _category_or_404(category_id)
    if request.method == "GET":
        return _edit(category)
    data = _typed()
    try:
        service.update(category, data, current_user)
    except service.CategoryError as exc:
        db.session.rollback()
        return _edit(_category_or_404(category_id), data, exc.errors, 400)
    db.session.commit()
    outbox.settle()
    flash(_("Category “%(name)s” saved.", name=category.name), "success")
    return redirect(url_for("backoffice.categories"))


@bp.post("/categories/<int:category_id>/move")
@manage_site
def move_category(category_id: int):
    category = _category_or_404(category_id)
    service.move(category, -1 if request.form.get("direction") == "up" else 1, current_user)
    db.session.commit()
    return redirect(url_for("backoffice.categories", _anchor=f"category-{category.id}"))


@bp.post("/categories/<int:category_id>/merge")
@manage_site
def merge_category(category_id: int):
    source = _category_or_404(category_id)
    target_id = parse_int(request.form.get("target"))
    target = db.session.get(Category, target_id) if target_id is not None else None
    if target is None:
        return _edit(source, status=400, merge_error=_("Please choose the category to merge into."))
    name, into = source.name, target.name
    try:
        moved = service.merge(source, target, current_user)
    except service.CategoryError as exc:
        db.session.rollback()
        return _edit(_category_or_404(category_id), status=400, merge_error=str(exc.errors.get("target", exc)))
    db.session.commit()
    outbox.settle()
    flash(_("“%(name)s” merged into “%(into)s”: %(n)s posts moved; the old address leads there.",
            name=name, into=into, n=moved), "success")
    return redirect(url_for("backoffice.categories"))

