"""Content-Encoding and charset handling for pages the edge rewrites.

Compressed pages are decoded only to be rewritten, and re-encoded with the encoding the origin
chose (the origin picked it from the client's own Accept-Encoding, which the edge forwards).
"""

from __future__ import annotations

import functools
import re
import zlib

import brotli

from edge.errors import RewriteError

SUPPORTED = ("identity", "gzip", "x-gzip", "deflate", "br")

# Level 5 compresses a 100 KB page in well under a millisecond, within a few % of level 9's size.
GZIP_LEVEL = 5
BROTLI_QUALITY = 5


def normalise(content_encoding: str) -> str:
    value = content_encoding.strip().lower()
    return "identity" if value in ("", "identity") else value


def decode(body: bytes, encoding: str, limit: int) -> bytes:
    """Decode ``body``; refuse outputs over ``limit`` bytes (a decompression bomb)."""
    try:
        if encoding == "identity":
            return body
        if encoding in ("gzip", "x-gzip"):
            d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            out = d.decompress(body, limit + 1)
        elif encoding == "deflate":
            # RFC 9110 deflate is zlib-wrapped; some servers send raw deflate.
            try:
                d = zlib.decompressobj(zlib.MAX_WBITS)
                out = d.decompress(body, limit + 1)
            except zlib.error:
                d = zlib.decompressobj(-zlib.MAX_WBITS)
                out = d.decompress(body, limit + 1)
        elif encoding == "br":
            out = brotli.decompress(body)
        else:
            raise RewriteError(f"unsupported content-encoding {encoding!r}")
    except (zlib.error, brotli.error) as exc:
        raise RewriteError(f"could not decode {encoding} body: {exc}") from exc
    if len(out) > limit:
        raise RewriteError(f"decoded body is over {limit} bytes")
    return out


def encode(body: bytes, encoding: str) -> bytes:
    if encoding == "identity":
        return body
    if encoding in ("gzip", "x-gzip"):
        c = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        return c.compress(body) + c.flush()
    if encoding == "deflate":
        return zlib.compress(body, GZIP_LEVEL)
    if encoding == "br":
        return bytes(brotli.compress(body, quality=BROTLI_QUALITY))
    raise RewriteError(f"unsupported content-encoding {encoding!r}")


_CHARSET_PARAM = re.compile(r";\s*charset\s*=\s*\"?([A-Za-z0-9_.:-]+)", re.I)
# Encodings where HTML markup is not plain ASCII bytes: the edge does not rewrite those.
_NOT_ASCII_COMPATIBLE = re.compile(r"^(utf-?16|utf-?32|ucs-?2|utf-?7)", re.I)


@functools.lru_cache(maxsize=256)
def charset_from_content_type(content_type: str) -> str | None:
    m = _CHARSET_PARAM.search(content_type)
    return m.group(1).lower() if m else None


@functools.lru_cache(maxsize=64)
def usable_charset(name: str | None) -> str | None:
    """A Python codec name for ``name``, or None when unknown. Raises for non-ASCII-compatible."""
    if not name:
        return None
    if _NOT_ASCII_COMPATIBLE.match(name):
        raise RewriteError(f"charset {name} is not ASCII-compatible")
    import codecs

    try:
        return codecs.lookup(name).name
    except LookupError:
        return None
