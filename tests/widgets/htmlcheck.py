"""Parsing rendered fragments with a spec parser (html5lib) and checking they are inert."""

from __future__ import annotations

import re
from xml.etree.ElementTree import Element

import html5lib

URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "poster", "srcset", "data",
             "background", "cite", "ping"}
DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "base", "frame", "frameset", "meta",
                  "link", "form", "svg", "math"}
_BAD_SCHEME = re.compile(r"^(javascript|data|vbscript|file):")
_STRIPPED = re.compile(r"[\x00-\x20]")


def parse(html: str) -> Element:
    fragment: Element = html5lib.parseFragment(html, treebuilder="etree",
                                               namespaceHTMLElements=False)
    return fragment


def elements(html: str) -> list[Element]:
    return [el for el in parse(html).iter() if isinstance(el.tag, str)]


def text_of(el: Element) -> str:
    return "".join(el.itertext())


def problems(html: str) -> list[str]:
    """Everything in ``html`` that could run script; empty when the fragment is inert."""
    found = []
    for el in elements(html):
        tag = el.tag.lower()
        if tag in DANGEROUS_TAGS:
            found.append(f"<{tag}> element")
        if tag == "style" and el.get("data-edge-css") != "1":
            found.append("a <style> element that is not the widget stylesheet")
        for name, value in el.attrib.items():
            lname = name.lower()
            if lname.startswith("on"):
                found.append(f"event handler {name}={value!r} on <{tag}>")
            if lname == "style":
                found.append(f"style attribute on <{tag}>")
            if lname in URL_ATTRS and _BAD_SCHEME.match(_STRIPPED.sub("", value).lower()):
                found.append(f"{name}={value!r} on <{tag}>")
    return found


def assert_inert(html: str | None) -> None:
    if html is None:
        return
    issues = problems(html)
    assert not issues, f"{issues}\n---\n{html}"


def root(html: str) -> Element:
    """The placement's root element (the first element carrying data-edge-widget)."""
    for el in elements(html):
        if el.get("data-edge-widget") is not None:
            return el
    raise AssertionError(f"no placement root in:\n{html}")
