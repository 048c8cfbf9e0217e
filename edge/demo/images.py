"""Inline SVG artwork for the demo shop: product placeholders, advisor avatars, the favicon.

Everything is generated from the data (no files, no external images), deterministically, so
the same product always gets the same picture.
"""

from __future__ import annotations

import hashlib
from html import escape
from typing import Any

# Fill colours for the product's colour attribute (Polish colour names from the catalog).
COLOR_HEX: dict[str, str] = {
    "czarny": "#2b2d31", "granatowy": "#1f3a5f", "czerwony": "#c0392b", "zielony": "#2e7d4f",
    "niebieski": "#2f80c8", "szary": "#7d8590", "pomarańczowy": "#e67e22", "żółty": "#e3b505",
    "oliwkowy": "#6b7038", "fioletowy": "#7b4fa0",
}

# One simple pictogram per top-level category, drawn on a 200x200 canvas.
_SHAPES: dict[str, str] = {
    "shoes": '<path d="M40 120 L60 80 L95 90 L110 110 L160 118 Q172 122 170 138 L40 138 Z"/>'
             '<rect x="40" y="138" width="130" height="10" rx="4" opacity=".55"/>',
    "jackets": '<path d="M70 50 L100 62 L130 50 L165 78 L150 100 L140 92 L140 160 L60 160 '
               'L60 92 L50 100 L35 78 Z"/><path d="M100 62 L100 160" stroke="#fff" '
               'stroke-width="3" opacity=".6"/>',
    "tents": '<path d="M100 45 L170 155 L30 155 Z"/><path d="M100 95 L122 155 L78 155 Z" '
             'fill="#fff" opacity=".45"/>',
    "backpacks": '<rect x="60" y="55" width="80" height="105" rx="22"/><rect x="75" y="110" '
                 'width="50" height="32" rx="8" fill="#fff" opacity=".4"/><path d="M80 55 Q100 '
                 '25 120 55" fill="none" stroke-width="8"/>',
    "sleeping": '<rect x="45" y="60" width="110" height="90" rx="40"/><circle cx="75" cy="95" '
                'r="16" fill="#fff" opacity=".5"/>',
    "climbing": '<path d="M80 45 Q55 45 55 80 L55 130 Q55 160 85 160 L115 160 Q145 160 145 130 '
                'L145 80 Q145 45 120 45 Z" fill="none" stroke-width="14"/>',
    "accessories": '<rect x="80" y="50" width="40" height="110" rx="12"/><rect x="84" y="40" '
                   'width="32" height="14" rx="4" opacity=".7"/>',
}


def _hue(text: str) -> int:
    return int(hashlib.sha1(text.encode()).hexdigest()[:4], 16) % 360


def product_svg(product: dict[str, Any]) -> str:
    """A 400x400 placeholder picture: pictogram in the product colour, brand and name."""
    attrs = product.get("attributes", {})
    fill = COLOR_HEX.get(str(attrs.get("color", "")), "#4a6b5d")
    top = str(product.get("category", "")).split("/")[0]
    shape = _SHAPES.get(top, '<circle cx="100" cy="100" r="55"/>')
    hue = _hue(str(product.get("sku", "")))
    name = escape(str(product.get("name", "")))
    brand = escape(str(attrs.get("brand", "")))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="400" viewBox="0 0 200 200" '
        f'role="img" aria-label="{name}">'
        f'<rect width="200" height="200" fill="hsl({hue},30%,94%)"/>'
        f'<circle cx="160" cy="35" r="60" fill="hsl({hue},35%,88%)"/>'
        f'<g fill="{fill}" stroke="{fill}" stroke-linejoin="round">{shape}</g>'
        '<text x="100" y="180" font-family="system-ui,sans-serif" font-size="10" '
        f'text-anchor="middle" fill="#333">{brand}</text>'
        '<text x="100" y="192" font-family="system-ui,sans-serif" font-size="7" '
        f'text-anchor="middle" fill="#666">{name}</text>'
        '</svg>'
    )


def avatar_svg(name: str) -> str:
    """A round avatar with the person's initials, coloured from their name."""
    initials = escape("".join(part[:1] for part in name.split()[:2]).upper())
    hue = _hue(name)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="128" height="128" viewBox="0 0 128 128" '
        f'role="img" aria-label="{escape(name)}">'
        f'<circle cx="64" cy="64" r="64" fill="hsl({hue},45%,42%)"/>'
        '<circle cx="64" cy="50" r="22" fill="#fff" opacity=".25"/>'
        '<path d="M24 112 Q64 72 104 112" fill="#fff" opacity=".25"/>'
        '<text x="64" y="76" font-family="system-ui,sans-serif" font-size="40" '
        f'font-weight="700" text-anchor="middle" fill="#fff">{initials}</text>'
        '</svg>'
    )


FAVICON_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">'
    '<rect width="64" height="64" rx="14" fill="#1d4d3a"/>'
    '<path d="M8 52 L26 20 L36 36 L42 28 L56 52 Z" fill="#f2f2ee"/>'
    '<path d="M26 20 L31 29 L21 29 Z" fill="#1d4d3a" opacity=".35"/>'
    '</svg>'
)


# Hero banners for the edge's banner widget: theme → (sky top, sky bottom, mountains, accent).
HERO_THEMES: dict[str, tuple[str, str, str, str]] = {
    "welcome": ("#f6d8a8", "#f3efe4", "#2e6b52", "#e2702d"),
    "running": ("#9fd3f0", "#e8f4fb", "#1f3a5f", "#c0392b"),
    "premium": ("#2b2d31", "#5b5f66", "#101214", "#d4af37"),
    "rain": ("#8fa3b0", "#d9e1e6", "#3c4f5c", "#2f80c8"),
    "winter": ("#cfe3f3", "#ffffff", "#5b7a99", "#7b4fa0"),
}


def hero_svg(theme: str) -> str:
    """A 1200x400 mountain landscape in the theme's colours (no text: the widget adds it)."""
    top, bottom, hills, accent = HERO_THEMES[theme]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="400" '
        'viewBox="0 0 1200 400" role="img" aria-label="">'
        f'<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" '
        f'stop-color="{top}"/><stop offset="1" stop-color="{bottom}"/></linearGradient></defs>'
        '<rect width="1200" height="400" fill="url(#sky)"/>'
        f'<circle cx="960" cy="110" r="54" fill="{accent}" opacity=".85"/>'
        f'<path d="M0 330 L180 170 L300 260 L470 90 L640 280 L780 180 L960 300 L1090 200 '
        f'L1200 260 L1200 400 L0 400 Z" fill="{hills}" opacity=".55"/>'
        f'<path d="M0 370 L220 240 L380 330 L560 200 L760 350 L920 260 L1200 360 L1200 400 '
        f'L0 400 Z" fill="{hills}"/>'
        '<path d="M470 90 L505 140 L480 132 L455 150 L440 128 Z" fill="#fff" opacity=".8"/>'
        '</svg>'
    )


# Image names the example rules use; browsers go by Content-Type, so SVG under them is fine.
HERO_ALIASES = {"hero-welcome.jpg": "welcome", "hero-running.jpg": "running",
                "hero-premium.jpg": "premium"}
SVG = "image/svg+xml"


def artwork(catalog: list[dict[str, Any]],
            people: list[dict[str, Any]]) -> dict[str, tuple[bytes, str]]:
    """Every picture the shop serves under /static/: path → (bytes, media type)."""
    files: dict[str, tuple[bytes, str]] = {"favicon.svg": (FAVICON_SVG.encode(), SVG)}
    for p in catalog:
        files[f"img/p/{p['sku']}.svg"] = (product_svg(p).encode(), SVG)
    for c in people:
        if c.get("advisor"):
            path = c["advisor"]["photo_url"].removeprefix("/static/")
            files[path] = (avatar_svg(c["advisor"]["name"]).encode(), SVG)
    for theme in HERO_THEMES:
        files[f"img/hero/{theme}.svg"] = (hero_svg(theme).encode(), SVG)
    for alias, theme in HERO_ALIASES.items():
        files[alias] = files[f"img/hero/{theme}.svg"]
    return files
