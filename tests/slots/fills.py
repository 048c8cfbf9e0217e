"""Sample fills: the shapes of widget output, for tests that render pages."""

from __future__ import annotations

SLOT_FILL = '<div data-edge-injected=""><b>Ahoj</b> ☃ <ul><li>x</li></ul></div>'
# Shapes of widget output; each goes into every fillable slot and at the body end.
FILLS = [
    SLOT_FILL,
    "just text ☃ &amp; more",
    '<span data-edge-injected=""><b>b</b><i>i</i></span> tail text',
    '<form data-edge-injected=""><input name=q><button>Go</button></form>',
    '<table data-edge-injected=""><tr><td>1</td></tr></table>after',
    '<svg data-edge-injected="" viewBox="0 0 1 1"><path d="M0"/></svg>',
    '<h3 data-edge-injected="">T</h3><p data-edge-injected="">p</p>',
    '<script data-edge-injected="">var a = "<b>";</script>',
    '<select data-edge-injected=""><option>1</option></select>',
    '<a data-edge-injected="" href=#><div>block in link</div></a>',
]
