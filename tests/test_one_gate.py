"""The house's main rule, enforced on the code: only the state machine writes a comment's
moderation status, response status or visibility (issue 9, "One gate")."""
import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1] / "app"
STATE_MACHINE = APP / "moderation" / "service.py"
# Bulk loading of generated demo data writes rows directly, for speed (it is not a code path of the site).
EXEMPT = {STATE_MACHINE} | set((APP / "demo").rglob("*.py"))

# What decides whether and how a comment is shown, and the team's bookkeeping around it.
GUARDED = {
    "status", "status_reason", "response_status", "approved_at", "moderated_at", "answered_at", "claimed_by_id",
    "claimed_at", "assigned_to_id", "escalated_to", "flag_count", "pending_body_md", "pending_body_html",
    "pending_since",
}
# Other models have a `status` of their own (posts: draft/published).
OTHER_MODELS = {"post", "page", "source"}


def _comment_update(node: ast.AST) -> bool:
    """`update(Comment)…` or `Comment.__table__.update()…` somewhere down this call chain."""
    while isinstance(node, (ast.Call, ast.Attribute)):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in ("update", "insert") and node.args and \
                    isinstance(node.args[0], ast.Name) and node.args[0].id == "Comment":
                return True
            if isinstance(func, ast.Attribute) and func.attr in ("update", "insert") and \
                    isinstance(func.value, ast.Attribute) and func.value.attr == "__table__" and \
                    isinstance(func.value.value, ast.Name) and func.value.value.id == "Comment":
                return True
            node = func
        else:
            node = node.value
    return False


def violations(source: str, name: str = "<code>") -> list[str]:
    """Every place in `source` that writes a guarded column of a comment."""
    found = []
    for node in ast.walk(ast.parse(source)):
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for target in targets:
            for each in (target.elts if isinstance(target, ast.Tuple) else [target]):
                if isinstance(each, ast.Attribute) and each.attr in GUARDED:
                    owner = ast.unparse(each.value)
                    if each.attr == "status" and owner.split(".")[-1] in OTHER_MODELS:
                        continue
                    found.append(f"{name}:{node.lineno}: {owner}.{each.attr} = …")
        if isinstance(node, ast.Call):
            keywords = {k.arg for k in node.keywords}
            if isinstance(node.func, ast.Name) and node.func.id == "Comment" and keywords & GUARDED:
                found.append(f"{name}:{node.lineno}: Comment({', '.join(sorted(keywords & GUARDED))}=…)")
            if isinstance(node.func, ast.Attribute) and node.func.attr == "values" and keywords & GUARDED \
                    and _comment_update(node.func.value):
                found.append(f"{name}:{node.lineno}: UPDATE comments SET {', '.join(sorted(keywords & GUARDED))}")
            if isinstance(node.func, ast.Name) and node.func.id == "setattr" and len(node.args) >= 2 and \
                    isinstance(node.args[1], ast.Constant) and node.args[1].value in GUARDED:
                found.append(f"{name}:{node.lineno}: setattr(…, {node.args[1].value!r}, …)")
    return found


def test_only_the_state_machine_writes_a_comments_status_or_visibility():
    found = []
    for path in sorted(APP.rglob("*.py")):
        if path not in EXEMPT:
            found += violations(path.read_text(encoding="utf-8"), str(path.relative_to(APP.parent)))
    assert found == [], "write these through app/moderation/service.py:\n" + "\n".join(found)


@pytest.mark.parametrize("code", [
    "comment.status = 'approved'",
    "c.response_status, c.escalated_to = 'answered', None",
    "question.flag_count += 1",
    "db.session.execute(update(Comment).where(Comment.id == 1).values(status='pending'))",
    "Comment.__table__.update().values(approved_at=now)",
    "Comment(post_id=1, status='approved')",
    "setattr(comment, 'pending_since', now)",
])
def test_the_scan_finds_each_way_of_writing(code):
    assert violations(code)


@pytest.mark.parametrize("code", [
    "post.status = 'draft'",
    "self.post.status = source.status",
    "comment.body_md = text",
    "db.session.execute(update(Report).values(resolved_at=now))",
    "Comment(post_id=1, body_md='x')",
])
def test_the_scan_leaves_other_writes_alone(code):
    assert violations(code) == []
