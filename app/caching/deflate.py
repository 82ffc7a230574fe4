"""gzip for a cached page whose few fields change per reader, without compressing the page again.

A deflate stream is a run of blocks, and a block does not care which compressor wrote the one
before it once that one ended with a full flush (byte-aligned, no back-references across it). So
the fixed parts of a page are compressed once, when it is stored, each on its own; on a hit the
reader's fields go between them as stored (uncompressed) blocks, an empty final block closes
the stream, and the gzip trailer (CRC-32 and length of the whole page) is computed over the
parts. RFC 1951 (deflate) and RFC 1952 (gzip); any inflater reads it, browsers included.
"""
import struct
import zlib

HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # gzip, deflate, no name, mtime 0, OS unknown
FINAL = b"\x01\x00\x00\xff\xff"  # an empty stored block with BFINAL set
MAX_STORED = 0xFFFF


def segments(parts: list[bytes], level: int = 6) -> list[bytes]:
    """Each part compressed on its own, ending byte-aligned and not final."""
    out = []
    for part in parts:
        compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        out.append(compressor.compress(part) + compressor.flush(zlib.Z_FULL_FLUSH))
    return out


def stored(value: bytes) -> bytes:
    """`value` as stored blocks (not final)."""
    out = []
    for start in range(0, len(value), MAX_STORED):
        chunk = value[start:start + MAX_STORED]
        out.append(b"\x00" + struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF) + chunk)
    return b"".join(out)


def assemble(parts: list[bytes], compressed: list[bytes], fields: list[bytes]) -> bytes:
    """The gzip file of parts[0] + fields[0] + parts[1] + … from the parts' `segments()`."""
    out = [HEADER]
    crc = size = 0
    for index, (part, segment) in enumerate(zip(parts, compressed, strict=True)):
        out.append(segment)
        crc, size = zlib.crc32(part, crc), size + len(part)
        if index < len(fields):
            value = fields[index]
            out.append(stored(value))
            crc, size = zlib.crc32(value, crc), size + len(value)
    out.append(FINAL)
    out.append(struct.pack("<II", crc, size & 0xFFFFFFFF))
    return b"".join(out)
