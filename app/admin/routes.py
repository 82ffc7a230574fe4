"""Admin pages for staff accounts. Every route needs the MANAGE_USERS permission (admins only)."""
from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user
from sqlalchemy import func, select

from app import outbox
from app.admin.forms import UserCreateForm, UserEditForm, UserInviteForm
from app.auth.permissions import Permission, permission_required
from app.extensions import db
from app.models import Role, User
from app.users import two_factor
from app.users.mails import queue_invite
from app.users.service import (
    EMAIL,
    MIN_PASSWORD_LENGTH,
    UserError,
    audit,
    create_user,
    deactivate,
    generate_password,
    set_password,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")
manage_users = permission_required(Permission.MANAGE_USERS)


@bp.context_processor
def admin_labels():
    return {"min_password_length": MIN_PASSWORD_LENGTH}


@bp.get("/users")
@manage_users
def users():
    accounts = db.session.scalars(select(User).order_by(User.username)).all()
    return render_template("admin/users.html", accounts=accounts)


@bp.route("/users/new", methods=["GET", "POST"])
@manage_users
def new_user():
    form = UserCreateForm()
    message = None
    if form.validate_on_submit():
        password = generate_password() if form.generate.data else form.password.data
        try:
            user = create_user(form.username.data, email=form.email.data, role=form.role.data, password=password,
                               display_name=(form.display_name.data or "").strip() or None)
            db.session.commit()
        except UserError as exc:
            db.session.rollback()
            message = _("The account was not created: %(reason)s.", reason=str(exc))
        else:
            if form.generate.data:
                return _password_notice(user, password, _("Account %(name)s created.", name=user.username))
            flash(_("Account %(name)s created.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/user_new.html", form=form, message=message), status


@bp.route("/users/invite", methods=["GET", "POST"])
@manage_users
def invite_user():
    """Create an account without a password and mail its owner a link to choose one."""
    form = UserInviteForm()
    message = None
    if form.validate_on_submit():
        try:
            user = create_user(form.username.data, email=form.email.data, role=form.role.data, password=None,
                               display_name=(form.display_name.data or "").strip() or None)
            db.session.flush()  # the id goes into the link
        except UserError as exc:
            db.session.rollback()
            message = _("The account was not created: %(reason)s.", reason=str(exc))
        else:
            queue_invite(user, inviter=current_user)
            audit(user, "user.invite", actor=current_user, after={"email": user.email, "role": user.role})
            db.session.commit()
            outbox.settle()
            flash(_("Invitation sent to %(email)s. The link is valid for %(hours)s hours.", email=user.email,
                    hours=current_app.config["INVITE_HOURS"]), "success")
            return redirect(url_for("admin.users"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/user_invite.html", form=form, message=message), status


@bp.post("/users/<int:user_id>/invite")
@manage_users
def resend_invite(user_id: int):
    """Send the invitation again (a new link) to an account that has not chosen a password yet."""
    user = db.session.get(User, user_id) or abort(404)
    if user.password_hash is not None or not user.active or not user.email:
        flash(_("%(name)s has no open invitation: the account has a password already or is inactive.",
                name=user.username), "error")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    queue_invite(user, inviter=current_user)
    audit(user, "user.invite_resend", actor=current_user, after={"email": user.email})
    db.session.commit()
    outbox.settle()
    flash(_("Invitation sent again to %(email)s.", email=user.email), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/two-factor/reset")
@manage_users
def reset_two_factor(user_id: int):
    """Turn a member's two-factor sign-in off (a lost phone and no recovery codes); audited."""
    user = db.session.get(User, user_id) or abort(404)
    if not two_factor.enabled(user):
        flash(_("%(name)s does not use two-factor sign-in.", name=user.username), "info")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    note = (request.form.get("note") or "").strip()[:500]
    two_factor.disable(user, actor=current_user, action="user.2fa_reset", note=note)
    db.session.commit()
    flash(_("Two-factor sign-in of %(name)s is off. They sign in with their password and can turn it on again.",
            name=user.username), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@manage_users
def edit_user(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    form = UserEditForm(obj=user)
    message = None
    if form.validate_on_submit():
        try:
            password = _apply_changes(user, form)
            db.session.commit()
            if user.id == current_user.id:  # a new password ends other sessions, not this one
                login_user(user)
        except UserError as exc:
            db.session.rollback()
            message = str(exc)
        else:
            if password:
                return _password_notice(user, password, _("Account %(name)s saved.", name=user.username))
            flash(_("Account %(name)s saved.", name=user.username), "success")
            return redirect(url_for("admin.users"))
    status = 400 if form.is_submitted() else 200
    return render_template("admin/user_edit.html", form=form, user=user, message=message,
                           two_factor_on=two_factor.enabled(user)), status


def _apply_changes(user: User, form: UserEditForm) -> str | None:
    """Check every rule first, then change the account; returns a generated password (to show once)."""
    email = form.email.data.strip()
    role, active = form.role.data, bool(form.active.data)
    problem = change_problem(user, role=role, active=active, actor=current_user)
    if problem:
        raise UserError(problem)
    if not EMAIL.match(email):
        raise UserError(_("%(email)s is not an e-mail address.", email=email))
    taken = db.session.scalar(select(User.id).where(func.lower(User.email) == email.lower(), User.id != user.id))
    if taken is not None:
        raise UserError(_("The e-mail address is already used by another account."))
    generated = generate_password() if form.generate.data else None
    new_password = generated or form.new_password.data
    if new_password:
        try:
            set_password(user, new_password)
        except UserError as exc:
            raise UserError(_("The password was not changed: %(reason)s.", reason=str(exc))) from exc
        audit(user, "user.password_reset", actor=current_user, note="generated" if generated else "typed")
    user.display_name = form.display_name.data.strip()
    user.email = email
    user.role = role
    if user.active and not active:
        deactivate(user)  # its open sign-ins end with it
    user.active = active
    return generated


def change_problem(user: User, *, role: str, active: bool, actor) -> str | None:
    """Why this role/active change is refused, or None. Keeps at least one active admin, and admins can't lock
    themselves out."""
    if actor is not None and user.id == actor.id:
        if not active:
            return _("You cannot deactivate your own account.")
        if role != Role.ADMIN:
            return _("You cannot remove your own administrator role.")
    if user.role == Role.ADMIN and user.active and not (role == Role.ADMIN and active):
        others = db.session.scalar(select(func.count()).select_from(User).where(
            User.role == Role.ADMIN, User.active, User.id != user.id))
        if not others:
            return _("%(name)s is the last active administrator; make someone else an administrator first.",
                     name=user.username)
    return None


def _password_notice(user: User, password: str, headline: str):
    """Show a generated password once, on this response only: never stored in the session or a cache."""
    response = make_response(render_template("admin/password_notice.html", user=user, password=password,
                                             headline=headline))
    response.headers["Cache-Control"] = "no-store"
    return response
