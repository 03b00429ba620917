"""Large-text mode (长者模式): every page's text and controls at 1.5 times their size, on this device.

The choice is kept on the reader's device, never on the server: in localStorage by the page's script
(static/pages.js, which applies it before the page is drawn) and in a cookie, which the server
reads to put the class on <html> itself, so the switch works without JavaScript too. The switch is a
form (_text_size.html) whose GET comes here: the cookie is set and the reader goes back to the page.
Datasette already answers every page with `Vary: Cookie`, so a cache in front keeps the two apart.
"""

from __future__ import annotations

import re

from datasette import Response

from . import params

#: The cookie (and the localStorage key of static/pages.js): "large" or "normal".
COOKIE = "riskcatalog-text"
#: The class on <html> that the stylesheet enlarges (catalog.css, "large-text mode").
LARGE_CLASS = "large-text"
#: How long a device remembers the choice: a year, renewed at each switch.
REMEMBERED_SECONDS = 365 * 24 * 3600
#: A path of this site as the switch sends it (percent-encoded, so printable ASCII): one slash first,
#: not two nor a backslash, which browsers read as another host's address; no space or control
#: character, which they drop before reading it.
_LOCAL_PATH = re.compile(r"/(?![/\\])[\x21-\x5b\x5d-\x7e]*")


def is_large(request) -> bool:
    """Whether this reader chose large text (their cookie says so)."""
    return request is not None and request.cookies.get(COOKIE) == "large"


def page_class(request) -> str:
    """The class of <html>: large-text mode or nothing."""
    return LARGE_CLASS if is_large(request) else ""


def _local(datasette, target: str) -> str:
    """The page to go back to: a path of this site, never another host (an open redirect)."""
    home = datasette.urls.instance()
    return target if _LOCAL_PATH.fullmatch(target) and target.startswith(home) else home


async def switch(datasette, request):
    """/-/text-size?size=large&next=/path: remember the size on this device, then back to the page.
    Its parameters are read by the one parser (params.TEXT_SIZE): a size other than these is a 400."""
    given = params.read(request.args, params.TEXT_SIZE)
    response = Response.redirect(_local(datasette, given["next"]))
    if given["size"]:
        response.set_cookie(COOKIE, given["size"], max_age=REMEMBERED_SECONDS, path="/", samesite="lax")
    return response
