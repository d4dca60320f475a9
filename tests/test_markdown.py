"""Comments as Markdown (incidents.markdown): what an analyst types cannot put markup,
scripts or dangerous links on the page; what Markdown means is kept."""

import pytest

from incidents.markdown import render

REL = 'rel="nofollow noopener noreferrer" target="_blank"'


def test_a_script_tag_is_shown_as_text():
    assert render("<script>alert(1)</script>") == "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>\n"


def test_raw_html_is_shown_as_text():
    html = render('Look: <b onclick="steal()">here</b>\n\n<div style="x">block</div>')
    assert "<b" not in html
    assert "<div" not in html
    assert "&lt;b onclick=&quot;steal()&quot;&gt;here&lt;/b&gt;" in html


def test_an_image_tag_with_onerror_is_shown_as_text():
    html = render('<img src="x" onerror="alert(1)">')
    assert "<img" not in html
    assert "&lt;img src=&quot;x&quot; onerror=&quot;alert(1)&quot;&gt;" in html


def test_markdown_images_are_not_loaded_but_linked():
    # An image would load from anywhere (a tracking pixel) and the CSP refuses it anyway.
    html = render("![chart](https://example.com/chart.png)")
    assert "<img" not in html
    assert f'<a href="https://example.com/chart.png" {REL}>chart</a>' in html


@pytest.mark.parametrize(
    "text",
    [
        "[click](javascript:alert(1))",
        "[click](JavaScript:alert(1))",
        "[click](java&#115;cript:alert(1))",
        "[click](  javascript:alert(1))",
        "[click](<javascript:alert(1)>)",
        "<javascript:alert(1)>",
        "[click][ref]\n\n[ref]: javascript:alert(1)",
        "[click](vbscript:msgbox(1))",
        "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[click](file:///etc/passwd)",
        "[click](ms-settings:privacy)",
        "![x](javascript:alert(1))",
    ],
)
def test_dangerous_links_are_not_links(text):
    html = render(text)
    assert "<a" not in html
    assert "href" not in html


@pytest.mark.parametrize(
    ("text", "href"),
    [
        ("[runbook](https://wiki.contoso.com/ransomware)", "https://wiki.contoso.com/ransomware"),
        ("<https://wiki.contoso.com/a>", "https://wiki.contoso.com/a"),
        ("[incident](/incidents/12/)", "/incidents/12/"),
        ("[mail](mailto:soc@contoso.com)", "mailto:soc@contoso.com"),
    ],
)
def test_links_open_apart_with_no_referrer(text, href):
    assert f'<a href="{href}" {REL}>' in render(text)


def test_bare_addresses_stay_text():
    assert render("see https://contoso.com") == "<p>see https://contoso.com</p>\n"


def test_line_breaks_are_kept():
    assert render("first line\nsecond line") == "<p>first line<br />\nsecond line</p>\n"


def test_markdown_formats():
    html = render("**host** isolated\n\n- step one\n- step two\n\n`cmd.exe /c whoami`")
    assert "<strong>host</strong>" in html
    assert "<ul>\n<li>step one</li>\n<li>step two</li>\n</ul>" in html
    assert "<code>cmd.exe /c whoami</code>" in html
