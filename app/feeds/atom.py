"""Atom feeds of posts, built with feedgen."""
from collections.abc import Iterable

from feedgen.feed import FeedGenerator

from app.models import Post, utcnow


def posts_feed(*, feed_id: str, title: str, subtitle: str, self_url: str, site_url: str, lang: str,
               posts: Iterable[Post], post_url) -> bytes:
    """An Atom document listing `posts` (newest first), each with its full HTML."""
    posts = list(posts)
    fg = FeedGenerator()
    fg.id(feed_id)
    fg.title(title)
    fg.subtitle(subtitle or title)
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.link(href=site_url, rel="alternate", type="text/html")
    fg.language(lang)
    fg.updated(max((p.updated_at for p in posts), default=None) or utcnow())
    fg.generator("Dialog")
    for post in posts:
        url = post_url(post)
        entry = fg.add_entry(order="append")
        entry.id(url)
        entry.title(post.title)
        entry.link(href=url, rel="alternate", type="text/html")
        entry.published(post.published_at)
        entry.updated(max(post.updated_at, post.published_at) if post.published_at else post.updated_at)
        entry.author(name=post.author.display_name)
        if post.summary:
            entry.summary(post.summary)
        entry.content(post.body_html, type="html")
        if post.category:
            entry.category(term=post.category.slug, label=post.category.name)
    return fg.atom_str(pretty=True)




def comments_feed(*, post: Post, title: str, self_url: str, post_url: str, lang: str, comments, comment_url) -> bytes:
    """An Atom document of a post's approved comments, newest first."""
    comments = list(comments)
    fg = FeedGenerator()
    fg.id(self_url)
    fg.title(title)
    fg.link(href=self_url, rel="self", type="application/atom+xml")
    fg.link(href=post_url, rel="alternate", type="text/html")
    fg.language(lang)
    fg.updated(max((c.approved_at or c.created_at for c in comments), default=None) or post.updated_at)
    fg.generator("Dialog")
    for comment in comments:
        url = comment_url(comment)
        entry = fg.add_entry(order="append")
        entry.id(url)
        entry.title(f"{comment.author_name}: {post.title}")
        entry.link(href=url, rel="alternate", type="text/html")
        entry.published(comment.created_at)
        entry.updated(comment.edited_at or comment.created_at)
        entry.author(name=comment.author_name)
        entry.content(comment.body_html, type="html")
    return fg.atom_str(pretty=True)
