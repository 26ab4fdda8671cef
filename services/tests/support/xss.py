"""Fifty known XSS payloads, each of which would set `window.__xss` (or open a dialog) if
any client ever treated user text as markup, a URL or a template.

Sent as usernames, room ids and messages by test_abuse_xss.py (what the server refuses,
and how it renders them back in its own HTML) and the browser tests (tests/e2e/test_xss*.py:
the web UI and the app's web export must show every one as text and run none).
Families: script tags, event handlers, javascript: and data: URLs, SVG and MathML,
CSS, markup breaking out of attributes and elements, parser confusion, template
injection, and Unicode tricks (RTL override, zero-width joiners, homoglyphs, full-width
forms, entities and percent-encoding).
"""

from __future__ import annotations

PAYLOADS: tuple[str, ...] = (
    # script tags
    "<script>window.__xss=1</script>",
    "<ScRiPt>window.__xss=2</sCrIpT>",
    "<scr<script>ipt>window.__xss=3</scr</script>ipt>",
    '<script src="data:text/javascript,window.__xss=4"></script>',
    "<svg><script>window.__xss=5</script></svg>",
    # event handlers
    '<img src=x onerror="window.__xss=6">',
    "<svg onload=window.__xss=7>",
    "<body onload=window.__xss=8>",
    "<input autofocus onfocus=window.__xss=9>",
    "<details open ontoggle=window.__xss=10>",
    "<marquee onstart=window.__xss=11>",
    '<video><source onerror="window.__xss=12"></video>',
    "<audio src=x onerror=window.__xss=13>",
    "<img src=x onerror=alert(14)>",
    # javascript: URLs
    '<a href="javascript:window.__xss=15">click</a>',
    "javascript:window.__xss=16",
    "JaVaScRiPt:window.__xss=17",
    '<iframe src="javascript:parent.__xss=18"></iframe>',
    '<form action="javascript:window.__xss=19"><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:window.__xss=20">',
    '<base href="javascript:window.__xss=21//">',
    # data: URLs
    "data:text/html,<script>window.__xss=22</script>",
    '<object data="data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX194c3M9MTU8L3NjcmlwdD4="></object>',
    '<img src="data:image/svg+xml;base64,'
    'PHN2ZyB4bWxucz0iaHR0cDovL3d3dy53My5vcmcvMjAwMC9zdmciIG9ubG9hZD0icGFyZW50Ll9feHNzPTEzIi8+">',
    # SVG and MathML
    '<svg><a href="javascript:window.__xss=25"><text x="20" y="20">x</text></a></svg>',
    "<svg><animate onbegin=window.__xss=26 attributeName=x dur=1s>",
    '<math href="javascript:window.__xss=27">click</math>',
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss=28>",
    # CSS
    '<div style="background:url(javascript:window.__xss=29)">x</div>',
    '<div style="width: expression(window.__xss=30)">x</div>',
    "<style>@import 'javascript:window.__xss=31';</style>",
    '<link rel=stylesheet href="javascript:window.__xss=32">',
    # breaking out of attributes, elements and comments
    '"><script>window.__xss=33</script>',
    "'><img src=x onerror=window.__xss=34>",
    "</textarea><script>window.__xss=35</script>",
    "</title><script>window.__xss=36</script>",
    '<!--<img src="--><img src=x onerror=window.__xss=37//">',
    'https://example.org/"onmouseover="window.__xss=38',
    "https://example.org/<img src=x onerror=window.__xss=39>",
    # template injection (Angular, Vue, template literals, Jinja)
    "{{constructor.constructor('window.__xss=40')()}}",
    "${window.__xss=41}",
    "{{7*7}}{% if 1 %}jinja{% endif %}",
    # Unicode tricks
    "\u202etxt.exe<img src=x onerror=window.__xss=43>",
    "<scr\u200dipt>window.__xss=44</scr\u200dipt>",
    "j\u0430vascript:window.__xss=45",  # Cyrillic а
    "\uff1cscript\uff1ewindow.__xss=46\uff1c/script\uff1e",  # full-width < >
    "&#106;avascript:window.__xss=47",
    "&lt;script&gt;window.__xss=48&lt;/script&gt;",
    "%3Cscript%3Ewindow.__xss=49%3C/script%3E",
    # passes the username rules (letters only): must simply show, as text
    "\u0455\u0441r\u0456\u0440t \u0430l\u0435rt",  # "ѕсrірt аlеrt" in Cyrillic look-alikes
)

assert len(PAYLOADS) == 50, len(PAYLOADS)
assert len(set(PAYLOADS)) == 50
