"""Images for posts: checked by decoding them, re-encoded without metadata, stored under generated names.

The uploaded bytes are never stored as they came. Pillow decodes the whole image (so a script or an
SVG renamed `.jpg`, an empty or a truncated file is refused), the orientation in its EXIF data is
applied to the pixels, and the image is encoded again in its own format with nothing but the
pixels, transparency, palette, animation timing and colour profile: EXIF (GPS, camera, owner),
XMP, IPTC and comments are gone. The stored bytes' SHA-256 finds the same image uploaded again,
also when only its metadata differed. Animated GIFs stay animated GIFs (every frame re-encoded);
other animated formats are refused. Files are written to a temporary name and renamed into place,
so a reader never gets half a file.
"""
import hashlib
import io
import os
import re
import secrets
import struct
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import format_decimal, lazy_gettext as _l
from PIL import Image, ImageCms, ImageOps, ImageSequence, UnidentifiedImageError
from sqlalchemy import func, select

from app.extensions import db
from app.models import Page, Post, Upload

MAX_PIXELS = 40_000_000  # per image, all frames of an animation together: ~160 MB decoded at most
MAX_FRAMES = 300
MAX_ALT = 300
PER_PAGE = 24

# Pillow's own guard too, for every decoder it runs: above this it warns (made an error below), above
# twice this it raises. Our check of the declared size comes first and needs no decoding.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS

# Pillow format → (content type, file extension). Nothing else is accepted (SVG is not an image
# Pillow decodes, so it is refused as "not an image" like any other text file).
FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
    "GIF": ("image/gif", "gif"),
}
# Modes each format writes as they are; others are converted (to the first, or the last if transparent).
WRITABLE_MODES = {
    "JPEG": ("RGB", "L", "CMYK", "RGB"),
    "PNG": ("RGB", "1", "L", "LA", "P", "I", "I;16", "RGBA"),
    "WEBP": ("RGB", "RGBA"),
    "GIF": ("P", "L", "P"),
}
CONTENT_TYPES = {ext: content_type for content_type, ext in FORMATS.values()}
# A stored file's name: 32 hex digits, optionally a variant's width, one of our extensions.
NAME = re.compile(r"\A(?P<stem>[0-9a-f]{32})(?:-(?P<width>[1-9][0-9]{1,3})w)?\.(?P<ext>jpg|png|webp|gif)\Z")


class UploadError(ValueError):
    """The image was refused; `message` says why, in the uploader's language."""

    MESSAGES = {
        "empty": _l("The file is empty."),
        "too_large": _l("The file is larger than %(mb)s MB."),
        "not_an_image": _l("The file is not an image we can use. Please upload a JPEG, PNG, WebP or GIF."),
        "wrong_type": _l("This image type is not accepted. Please upload a JPEG, PNG, WebP or GIF."),
        "broken": _l("The image is damaged or incomplete. Please save it again and upload it anew."),
        "too_many_pixels": _l("The image has too many pixels (at most %(mp)s megapixels)."),
        "animated": _l("Animated images are accepted as GIF only."),
        "too_many_frames": _l("The animation has too many frames (at most %(n)s)."),
        "alt_missing": _l("Please describe the image for people who cannot see it (alternative text)."),
        "alt_too_long": _l("The alternative text is too long (at most %(n)s characters)."),
        "in_use": _l("The image is used in: %(titles)s. Remove it there first."),
    }

    def __init__(self, reason: str, **values):
        self.reason = reason
        message = self.MESSAGES[reason]
        self.message = message % values if values else message  # formatted in the current language
        super().__init__(reason)


@dataclass(frozen=True)
class LibraryPage:
    """One page of the library, newest first."""

    items: list[Upload]
    page: int
    pages: int
    total: int


def uploads_dir() -> Path:
    """Where the images live: `DATA_DIR/uploads/` (made on first use)."""
    path = Path(current_app.config["DATA_DIR"]) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def clean_alt(alt: str | None) -> str:
    """The alternative text on one line (it goes into Markdown), checked: required, at most MAX_ALT."""
    text = " ".join((alt or "").split())
    if not text:
        raise UploadError("alt_missing")
    if len(text) > MAX_ALT:
        raise UploadError("alt_too_long", n=MAX_ALT)
    return text


def store(file_bytes: bytes, original_name: str, alt: str, user) -> Upload:
    """Check, clean and store an uploaded image; the Upload (committed). An image already in the
    library (same stored bytes) is not stored twice: its Upload comes back with `reused` set."""
    alt = clean_alt(alt)
    limit = current_app.config["UPLOAD_MAX_BYTES"]
    if not file_bytes:
        raise UploadError("empty")
    if len(file_bytes) > limit:
        raise UploadError("too_large", mb=megabytes(limit))

    encoded = _reencode(file_bytes)
    digest = hashlib.sha256(encoded.data).hexdigest()
    existing = db.session.scalars(select(Upload).where(Upload.sha256 == digest).order_by(Upload.id)).first()
    if existing is not None and (uploads_dir() / existing.name).is_file():
        existing.reused = True
        return existing

    stem = secrets.token_hex(16)
    name = f"{stem}.{encoded.ext}"
    written = [_write(name, encoded.data)]
    try:
        widths = []
        for width, data in _variants(encoded):
            written.append(_write(f"{stem}-{width}w.{encoded.ext}", data))
            widths.append(width)
        upload = Upload(name=name, original_name=(original_name or "")[:255], content_type=encoded.content_type,
                        bytes=len(encoded.data), width=encoded.image.width, height=encoded.image.height,
                        sha256=digest, alt=alt, variants=widths, uploaded_by_id=getattr(user, "id", None))
        db.session.add(upload)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        for path in written:
            path.unlink(missing_ok=True)
        raise
    upload.reused = False
    return upload


def list_uploads(page: int = 1, per_page: int | None = None) -> LibraryPage:
    """A page of the library, newest first (a page past the end gives the last one)."""
    per_page = per_page or PER_PAGE
    total = db.session.scalar(select(func.count()).select_from(Upload)) or 0
    pages = max(1, -(-total // per_page))
    page = min(max(1, page), pages)
    items = list(db.session.scalars(select(Upload).order_by(Upload.created_at.desc(), Upload.id.desc())
                                    .offset((page - 1) * per_page).limit(per_page)))
    return LibraryPage(items=items, page=page, pages=pages, total=total)


def get(upload_id: int) -> Upload | None:
    return db.session.get(Upload, upload_id)


def update_alt(upload: Upload, alt: str) -> Upload:
    """Change the alternative text the library suggests (posts keep the text they were written with)."""
    upload.alt = clean_alt(alt)
    db.session.commit()
    return upload


def used_in(upload: Upload) -> list[str]:
    """Titles of the posts (any status) and pages whose current text shows the image or one of its sizes."""
    pattern = f"%/uploads/{upload.name.rsplit('.', 1)[0]}%"
    titles = []
    for model in (Post, Page):
        titles += db.session.scalars(select(model.title).where(model.body_md.like(pattern)).order_by(model.title))
    return titles


def delete(upload: Upload) -> None:
    """Remove an image and its sizes, unless a post or page still shows it (UploadError "in_use").
    Older revisions are not searched: restoring one that showed the image leaves a broken image."""
    titles = used_in(upload)
    if titles:
        raise UploadError("in_use", titles="; ".join(titles[:5]) + (" …" if len(titles) > 5 else ""))
    names = [upload.name, *(variant_name(upload, width) for width in upload.variants or [])]
    db.session.delete(upload)
    db.session.commit()
    folder = uploads_dir()
    for name in names:
        (folder / name).unlink(missing_ok=True)


def variant_name(upload: Upload, width: int) -> str:
    stem, ext = upload.name.rsplit(".", 1)
    return f"{stem}-{width}w.{ext}"


# An image of the library in sanitised post HTML (attributes as bleach writes them: quoted, no `>` inside).
_LIBRARY_IMG = re.compile(r'<img\b[^>]*?\bsrc="/uploads/([0-9a-f]{32}\.(?:jpg|png|webp|gif))"[^>]*>')
POST_IMAGE_SIZES = "(max-width: 760px) 100vw, 760px"  # the post column: at most 70ch (site.css --measure)


def responsive(html: str) -> str:
    """Give the library's images in a post their size (no layout shift) and a `srcset` of the smaller
    copies, at save time (one query). Only our own numbers are added; the HTML is sanitised already."""
    names = set(_LIBRARY_IMG.findall(html))
    if not names:
        return html
    known = {u.name: u for u in db.session.scalars(select(Upload).where(Upload.name.in_(names)))}

    def enrich(match: re.Match) -> str:
        tag, upload = match.group(0), known.get(match.group(1))
        if upload is None or " width=" in tag or " srcset=" in tag:
            return tag
        extra = f' width="{upload.width}" height="{upload.height}"'
        if upload.variants:
            widths = [(variant_name(upload, w), w) for w in sorted(upload.variants)] + [(upload.name, upload.width)]
            extra += f' srcset="{", ".join(f"/uploads/{n} {w}w" for n, w in widths)}" sizes="{POST_IMAGE_SIZES}"'
        end = len(tag) - (2 if tag.endswith("/>") else 1)
        return tag[:end].rstrip() + extra + tag[end:]

    return _LIBRARY_IMG.sub(enrich, html)


def markdown_snippet(upload: Upload) -> str:
    """What the editor inserts: `![alt](/uploads/<name>)`, brackets and backslashes in the alt escaped."""
    alt = re.sub(r"([\\\[\]])", r"\\\1", upload.alt)
    return f"![{alt}](/uploads/{upload.name})"


def file_path(name: str) -> Path | None:
    """The stored file for a public URL's name, or None: only names we generate are looked up."""
    if not NAME.match(name or ""):
        return None
    path = uploads_dir() / name
    return path if path.is_file() else None


def content_type_of(name: str) -> str:
    return CONTENT_TYPES[name.rsplit(".", 1)[1]]


# --- decoding and encoding ------------------------------------------------------------------------

@dataclass
class _Encoded:
    image: Image.Image  # the clean, upright image (first frame of an animation)
    data: bytes
    format: str
    content_type: str
    ext: str
    animated: bool


def _reencode(file_bytes: bytes) -> _Encoded:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            return _decode_and_encode(file_bytes)
        except UploadError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise UploadError("too_many_pixels", mp=MAX_PIXELS // 1_000_000) from None
        except UnidentifiedImageError:
            raise UploadError("not_an_image") from None
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError, struct.error):
            # Pillow's decoders report truncated or corrupt data through any of these.
            raise UploadError("broken") from None


def _decode_and_encode(file_bytes: bytes) -> _Encoded:
    source = Image.open(io.BytesIO(file_bytes))  # reads the header only
    if source.format not in FORMATS:
        raise UploadError("wrong_type")
    width, height = source.size
    frames = getattr(source, "n_frames", 1) if source.format == "GIF" else 1
    if source.format != "GIF" and getattr(source, "is_animated", False):
        raise UploadError("animated")
    if frames > MAX_FRAMES:
        raise UploadError("too_many_frames", n=MAX_FRAMES)
    if width * height * frames > MAX_PIXELS:
        raise UploadError("too_many_pixels", mp=MAX_PIXELS // 1_000_000)
    content_type, ext = FORMATS[source.format]
    out = io.BytesIO()
    if frames > 1:
        image = _save_animation(source, out)
    else:
        source.load()  # decodes everything: truncated data fails here
        image = ImageOps.exif_transpose(source)
        image = _clean(image, source.format)
        _save(image, source.format, out)
    return _Encoded(image=image, data=out.getvalue(), format=source.format, content_type=content_type, ext=ext,
                    animated=frames > 1)


def _clean(image: Image.Image, fmt: str) -> Image.Image:
    """A copy in a mode the format can write, carrying no metadata. A colour profile is applied (the
    pixels converted to sRGB, what browsers assume) rather than kept: a profile is bytes of the
    uploader's choosing, and a stored file must hold nothing but pixels."""
    image = _to_srgb(image)
    if image.mode not in WRITABLE_MODES[fmt]:
        image = image.convert(WRITABLE_MODES[fmt][-1] if _has_alpha(image) else WRITABLE_MODES[fmt][0])
    image = image.copy()
    image.info = {key: image.info[key] for key in ("transparency",) if key in image.info}
    return image


def _to_srgb(image: Image.Image) -> Image.Image:
    profile = image.info.get("icc_profile")
    if not profile or image.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        mode = "RGBA" if image.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=mode)
    except (ImageCms.PyCMSError, OSError, ValueError):  # not a profile we can apply: the pixels as they are
        return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _save(image: Image.Image, fmt: str, out) -> None:
    options = {"exif": b"", "icc_profile": None}  # never an EXIF block or a profile, whatever Pillow would carry over
    if "transparency" in image.info:
        options["transparency"] = image.info["transparency"]
    if fmt == "JPEG":
        options.update(quality=85, optimize=True, progressive=True)
    elif fmt == "WEBP":
        options.update(quality=85, method=4)
    elif fmt == "PNG":
        options.update(optimize=True)
    elif fmt == "GIF":
        options.pop("exif")
    image.save(out, fmt, **options)


def _save_animation(source: Image.Image, out) -> Image.Image:
    """Every frame decoded and written again as a GIF; only timing, loop and transparency kept."""
    frames, durations = [], []
    for frame in ImageSequence.Iterator(source):
        frame.load()
        durations.append(frame.info.get("duration", 100))
        frame = frame.convert("RGBA")
        frame.info = {}  # comments and application extensions (XMP) stay behind
        frames.append(frame)
    first = frames[0]
    first.save(out, "GIF", save_all=True, append_images=frames[1:], duration=durations,
               loop=source.info.get("loop", 0), disposal=2, optimize=False)
    return first


def _variants(encoded: _Encoded):
    """(width, bytes) of the smaller copies for UPLOAD_WIDTHS (none for animations)."""
    if encoded.animated:
        return
    image = encoded.image
    for width in sorted(set(current_app.config["UPLOAD_WIDTHS"])):
        if not 0 < width < image.width:
            continue
        height = max(1, round(image.height * width / image.width))
        resized = image.resize((width, height), Image.Resampling.LANCZOS) if image.mode not in ("P", "1") \
            else image.convert("RGBA").resize((width, height), Image.Resampling.LANCZOS)
        if encoded.format in ("GIF",):
            resized = resized.convert("P")
        resized.info = {key: image.info[key] for key in ("icc_profile",) if key in image.info}
        out = io.BytesIO()
        _save(resized, encoded.format, out)
        yield width, out.getvalue()


def _write(name: str, data: bytes) -> Path:
    """Write atomically: a temporary file in the same folder, flushed, then renamed into place."""
    folder = uploads_dir()
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        target = folder / name
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def megabytes(n: int) -> str:
    """A byte limit in MB as the reader writes numbers ("5", "2,5")."""
    return format_decimal(round(n / (1024 * 1024), 2))

