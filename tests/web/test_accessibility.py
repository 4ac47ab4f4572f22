"""What docs/server.md promises for accessibility, checked on what the dashboard actually serves: text colours
of its style sheet meet WCAG AA contrast (4.5:1) on the backgrounds they sit on, and every form control on every
page has an accessible label."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from importlib.resources import files

import pytest
from fastapi.testclient import TestClient

from api.fixtures import PASSWORD

STATIC = files("interdit").joinpath("server/web/static")
TEMPLATES = files("interdit").joinpath("server/web/templates")

# -- contrast ---------------------------------------------------------------------------------------------


def _luminance(colour: str) -> float:
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _ratio(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


Rule = tuple[str, dict[str, str]]  # one selector, its declarations


def _rules(css: str) -> list[Rule]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    assert "@media" not in css and "@supports" not in css, "nested blocks: teach this parser about them"
    out: list[Rule] = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        props = {k.strip().lower(): v.strip() for k, _, v in
                 (d.partition(":") for d in body.split(";") if ":" in d)}
        out += [(s.strip(), props) for s in selectors.split(",")]
    return out


def _colour(value: str | None, variables: dict[str, str]) -> str | None:
    """A declaration's colour as #rrggbb; None when it names none (or is transparent)."""
    if value is None:
        return None
    value = re.sub(r"var\((--[\w-]+)\)", lambda m: variables[m.group(1)], value)
    m = re.search(r"#([0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b", value)
    if m is None:
        assert value.split()[0] in ("transparent", "inherit", "none", "currentcolor"), value
        return None
    h = m.group(1).lower()
    return "#" + ("".join(c * 2 for c in h) if len(h) == 3 else h)


def _background(props: dict[str, str], variables: dict[str, str]) -> tuple[bool, str | None]:
    """(declares a background, its colour): a transparent background shows the one behind it."""
    for key in ("background", "background-color"):
        if key in props:
            return True, _colour(props[key], variables)
    return False, None


def _element(compound: str) -> str:
    m = re.match(r"[a-z][a-z0-9]*", compound)
    return m.group(0) if m else ""


def contrast_pairs(css: str, svg_text_classes: set[str]) -> list[tuple[str, str, str]]:
    """(selector, text colour, background colour) for every text colour the style sheet sets, on the background
    it sits on: its own, else its container's (a rule for its first compound selector), else every light
    surface the sheet paints (page, panels, message boxes)."""
    rules = _rules(css)
    variables = {k: v for s, props in rules if s == ":root" for k, v in props.items() if k.startswith("--")}
    own_colour = {s: _colour(p.get("color"), variables) for s, p in rules if "color" in p}
    painted = {s: _background(p, variables)[1] for s, p in rules if _background(p, variables)[1]}
    light = {c for c in painted.values() if c and _luminance(c) > 0.4}
    assert light, "the sheet paints its page"
    pairs: list[tuple[str, str, str]] = []
    for selector, props in rules:
        declares_bg, bg = _background(props, variables)
        text = _colour(props.get("color"), variables)
        if text is None and any(selector.endswith("." + c) for c in svg_text_classes):
            text = _colour(props.get("fill"), variables)  # SVG text is coloured by its fill
        if text is None and declares_bg:
            # a box that paints itself (a button in the header) keeps the text colour of its element's own rule
            text = own_colour.get(_element(selector.split()[-1]) or selector)
            if text is None and bg is not None:
                text = own_colour.get("body")
        if text is None:
            continue
        if bg is None:
            first = selector.split()[0]
            container = [c for s, c in painted.items()
                         if " " not in s and (s == first or (_element(first) and _element(s) == _element(first)
                                                              and " " in selector))]
            bg = container[0] if container else None
        for surface in ([bg] if bg else sorted(light)):
            pairs.append((selector, text, surface))
    return pairs


def _svg_text_classes() -> set[str]:
    found: set[str] = set()
    for item in TEMPLATES.iterdir():
        if item.name.endswith(".html"):
            found |= set(re.findall(r'<text[^>]*class="([\w-]+)"', item.read_text("utf-8")))
    return found


def test_dashboard_text_colours_have_enough_contrast() -> None:
    sheets = [i for i in STATIC.iterdir() if i.name.endswith(".css")]
    assert sheets, "the dashboard has a style sheet"
    checked = 0
    for sheet in sheets:
        pairs = contrast_pairs(sheet.read_text("utf-8"), _svg_text_classes())
        for selector, text, background in pairs:
            ratio = _ratio(text, background)
            assert ratio >= 4.5, f"{sheet.name}: {selector} {text} on {background} is {ratio:.2f}:1"
        checked += len(pairs)
        selectors = {s for s, _, _ in pairs}
        assert {"body", "a", "small", "header.top a", "header button", ".skip", "button", ".error",
                ".chart .axis", ".state-violation"} <= selectors, "the pairs that matter were found"
    assert checked > 30


def test_the_contrast_check_sees_a_bad_pair() -> None:
    css = (":root { --ink: #777777; --bg: #ffffff; } body { color: var(--ink); background: var(--bg); } "
           "header.top { background: #12263f; } header.top a { color: #2a3a4f; } .muted { color: #999; }")
    pairs = {(s, t, b) for s, t, b in contrast_pairs(css, set())}
    assert ("body", "#777777", "#ffffff") in pairs
    assert ("header.top a", "#2a3a4f", "#12263f") in pairs
    assert ("header.top a", "#2a3a4f", "#12263f") in pairs and ("header.top a", "#2a3a4f", "#ffffff") not in pairs
    assert (".muted", "#999999", "#ffffff") in pairs
    assert [p for p in pairs if _ratio(p[1], p[2]) < 4.5]


# -- labels ------------------------------------------------------------------------------------------------


class _Controls(HTMLParser):
    """Form controls and buttons, with what names them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.controls: list[dict[str, str]] = []
        self.label_for: set[str] = set()
        self.ids: set[str] = set()
        self.in_label = 0
        self.buttons: list[dict[str, str]] = []
        self.button_text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "label":
            self.in_label += 1
            if a.get("for"):
                self.label_for.add(a["for"])
        elif tag in ("input", "select", "textarea"):
            if tag == "input" and a.get("type", "text") in ("hidden", "submit", "button", "reset", "image"):
                return
            self.controls.append({"tag": tag, **a, "_wrapped": "1" if self.in_label else ""})
        elif tag == "button":
            self.buttons.append(a)
            self.button_text = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.in_label -= 1
        elif tag == "button" and self.button_text is not None:
            self.buttons[-1]["_text"] = "".join(self.button_text).strip()
            self.button_text = None

    def handle_data(self, data: str) -> None:
        if self.button_text is not None:
            self.button_text.append(data)


def unlabelled(html: str) -> list[str]:
    """Controls without an accessible name: label[for], a wrapping label, aria-label or aria-labelledby (naming
    elements that exist); buttons without text or aria-label."""
    p = _Controls()
    p.feed(html)
    bad = []
    for c in p.controls:
        named = (c.get("id") and c["id"] in p.label_for) or c["_wrapped"] or c.get("aria-label", "").strip()
        refs = c.get("aria-labelledby", "").split()
        named = named or (refs and all(r in p.ids for r in refs))
        if not named:
            bad.append(f"<{c['tag']} name={c.get('name')!r} id={c.get('id')!r}>")
    bad += [f"<button {b}>" for b in p.buttons if not (b.get("_text") or b.get("aria-label", "").strip())]
    return bad


def test_the_label_check_sees_an_unlabelled_control() -> None:
    html = ('<form><label for="a">A</label><input id="a"><input id="b" name="b"><label>C <select name="c">'
            '</select></label><input aria-labelledby="nope" name="d"><span id="e">E</span>'
            '<input aria-labelledby="e"><textarea aria-label="F"></textarea><input type="hidden" name="x">'
            '<button type="submit"></button><button>Go</button></form>')
    assert unlabelled(html) == ["<input name='b' id='b'>", "<input name='d' id=None>",
                                "<button {'type': 'submit', '_text': ''}>"]


def _sign_in(client: TestClient, user: str, lang: str) -> None:
    form = client.get("/login", headers={"accept-language": lang})
    assert not unlabelled(form.text), "the sign-in page"
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    assert token is not None
    r = client.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token.group(1),
                                    "next": "/"}, follow_redirects=False)
    assert r.status_code == 303


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_form_control_on_every_page_has_a_label(client: TestClient, lang: str) -> None:
    _sign_in(client, "admin", lang)  # the admin sees every form: grant, revoke, upload, filters
    finding = client.get("/api/v1/findings?state=violation&limit=1").json()["items"][0]
    directive = client.get("/api/v1/directives").json()
    directive_id = (directive[0] if isinstance(directive, list) else directive["items"][0])["id"]
    pages = ["/", "/violations", "/violations?state=excepted&family=tiktok", "/catalogue", "/exceptions",
             "/sightings", "/apks", "/audit", "/jobs", f"/devices/{finding['source']}/{finding['device_id']}",
             "/families/tiktok", f"/directives/{directive_id}", "/devices/mdm/NOPE"]
    controls = 0
    for path in pages:
        r = client.get(path, headers={"accept-language": lang})
        assert r.status_code in (200, 404), path
        assert not unlabelled(r.text), (path, unlabelled(r.text))
        controls += r.text.count("<select") + r.text.count("<textarea") + r.text.count("<input")
    assert controls > 15, "the pages had forms to check"
    bad = client.post("/exceptions", data={"csrf_token": re.findall(r'name="csrf_token" value="([^"]+)"',
                                                                    client.get("/exceptions").text)[0],
                                           "id": "X", "expires": "soon"})
    assert bad.status_code == 422 and not unlabelled(bad.text), "the form shown again with its errors"
