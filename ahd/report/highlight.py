"""Python syntax highlighting for the operators' code, inline in the page.

Pygments comes with ``rich`` (a dependency of ahd), so it is normally there; without it the
code is shown escaped and unhighlighted rather than not at all.
"""

from __future__ import annotations

from html import escape

CSS_CLASS = "hl"


def highlight_python(source: str) -> str:
    """``source`` as an HTML ``<div class="hl"><pre>`` block, highlighted when possible."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return f'<div class="{CSS_CLASS}"><pre>{escape(source)}</pre></div>'
    return highlight(source, PythonLexer(), HtmlFormatter(cssclass=CSS_CLASS))


def highlight_css() -> str:
    """The style sheet for :func:`highlight_python`'s classes (empty without pygments)."""
    try:
        from pygments.formatters import HtmlFormatter
    except ImportError:
        return ""
    return HtmlFormatter(style="friendly").get_style_defs(f".{CSS_CLASS}")
