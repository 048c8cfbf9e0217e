"""The Jinja2 environment for widgets: built once, autoescape on, shop overrides first.

A shop overrides any default template (``banner.html``, ``advisor.html``, ``recs.html``,
``_macros.html``) or the stylesheet (``edge.css``) by putting a file of the same name in its
``templates_dir``; everything else falls through to the templates shipped in
``widgets/templates``. Templates only ever receive view data that widgets already cleaned
(checked URLs, capped strings); escaping is left to autoescape.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    PackageLoader,
    StrictUndefined,
    Template,
)
from markupsafe import Markup

from edge.errors import WidgetError

STYLESHEET = "edge.css"


class Templates:
    """Holds the one :class:`jinja2.Environment` and compiled templates for all widgets."""

    def __init__(self, templates_dir: str | Path = "") -> None:
        loaders: list[BaseLoader] = []
        if templates_dir:
            path = Path(templates_dir)
            if not path.is_dir():
                raise WidgetError(f"templates_dir: {path} is not a directory")
            loaders.append(FileSystemLoader(str(path)))
        loaders.append(PackageLoader("widgets", "templates"))
        self.templates_dir = str(templates_dir or "")
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=True,  # every value is escaped unless a widget marks it safe itself
            undefined=StrictUndefined,  # a typo in a template fails loudly (→ slot default)
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # templates are read once; restart to pick up new ones
        )
        self._compiled: dict[str, Template] = {}

    def get(self, name: str) -> Template:
        template = self._compiled.get(name)
        if template is None:
            template = self.env.get_template(name)
            # Jinja keeps a template's globals as a ChainMap over the environment's, and copies
            # it into every render's context through Python-level lookups (a third of a small
            # template's render). Nothing changes the globals after start-up: flatten them once.
            template.globals = dict(template.globals)
            self._compiled[name] = template
        return template

    def render(self, template: str, /, **values: Any) -> str:
        return self.get(template).render(**values).strip()

    @cached_property
    def stylesheet(self) -> str:
        """The widgets' CSS as one ``<style>`` element (all rules scoped under ``.edge-w``)."""
        source, _, _ = self.env.loader.get_source(self.env, STYLESHEET)  # type: ignore[union-attr]
        # The CSS comes from the shop or from us, but still must not close its element early.
        css = source.replace("</", "<\\/").strip()
        return str(Markup('<style data-edge-css="1">{}</style>').format(Markup(css)))
