use super::*;
use std::time::{Duration, Instant};

fn clean(s: &str) -> String {
    sanitize(s)
}

#[test]
fn scripts_handlers_and_forms_go() {
    let out = clean(
        "<p onclick=\"x()\">Hi<script>alert(1)</script></p><form action=/x><input name=a>\
         </form><iframe src=//evil></iframe><object data=x></object><embed src=x>\
         <a href=\"javascript:alert(1)\">j</a><svg onload=alert(1)><circle/></svg>\
         <math><mi>x</mi></math><base href=//evil/><meta http-equiv=refresh content=0>\
         <link rel=stylesheet href=//evil/x.css><style>@import url(//evil)</style>",
    );
    for bad in [
        "<script",
        "onclick",
        "alert",
        "<form",
        "<input",
        "<iframe",
        "<object",
        "<embed",
        "javascript:",
        "<svg",
        "<math",
        "<base",
        "<meta",
        "<link",
        "<style",
        "@import",
    ] {
        assert!(!out.contains(bad), "{bad} survived in {out}");
    }
    assert!(out.contains("<p>Hi</p>"), "{out}");
}

#[test]
fn links_open_outside_without_referrer() {
    let out = clean("<a href=\"https://example.com/x\" title=t target=_self>x</a>");
    assert!(out.contains("href=\"https://example.com/x\""), "{out}");
    assert!(out.contains("target=\"_blank\""), "{out}");
    assert!(
        out.contains("rel=\"noopener noreferrer nofollow\""),
        "{out}"
    );
    assert!(!out.contains("_self"));
}

#[test]
fn relative_and_odd_urls_are_dropped() {
    let out = clean(
        "<img src=\"/api/admin\"><img src=\"//evil.com/p.png\"><img src=\"data:image/png;base64,AA\">\
         <a href=\"#top\">t</a><a href=\"vbscript:x\">v</a><img src=\"cid:a@b\">",
    );
    assert!(!out.contains("/api/admin"), "{out}");
    assert!(!out.contains("evil.com"), "{out}");
    assert!(!out.contains("data:"), "{out}");
    assert!(!out.contains("vbscript"), "{out}");
    assert!(out.contains("src=\"cid:a@b\""), "{out}");
}

#[test]
fn styles_keep_only_harmless_properties() {
    let out = clean(
        "<p style=\"color: red; background-image: url(https://t/x.png); position: fixed; \
         font-weight: bold\">a</p><p style=\"color: u\\72l(https://t)\">b</p>\
         <p style=\"background-color: url('https://t/y')\">c</p><div style=\"display:none\">d</div>",
    );
    assert!(out.contains("color:red"), "{out}");
    assert!(out.contains("font-weight:bold"), "{out}");
    assert!(!out.contains("url("), "{out}");
    assert!(!out.contains("position"), "{out}");
    assert!(!out.contains("display"), "{out}");
    assert!(!out.contains("\\72"), "{out}");
}

#[test]
fn class_only_on_our_details() {
    let out = clean(
        "<p class=\"x\">a</p><details class=\"quoted evil\" open><summary>s</summary>b</details>",
    );
    assert!(!out.contains("class=\"x\""), "{out}");
    assert!(out.contains("<details class=\"quoted\">"), "{out}");
    assert!(!out.contains("open"), "{out}");
}

#[test]
fn gmail_quote_is_folded() {
    let html = "<div dir=\"ltr\">Thanks, that works!</div><br><div class=\"gmail_quote\">\
                <div dir=\"ltr\" class=\"gmail_attr\">On Mon, 3 Mar 2025 at 10:00, Ann &lt;a@x.com&gt; wrote:<br></div>\
                <blockquote class=\"gmail_quote\" style=\"margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204);padding-left:1ex\">\
                old text</blockquote></div>";
    let out = clean(html);
    let d = out
        .find("<details class=\"quoted\"><summary>Show quoted text</summary>")
        .expect(&out);
    assert!(out.find("Thanks").unwrap() < d);
    assert!(out.find("old text").unwrap() > d);
    assert!(out.find("wrote:").unwrap() > d);
}

#[test]
fn apple_thunderbird_yahoo_outlook_quotes_are_folded() {
    for html in [
        "<div>Sounds good.</div><div><br><blockquote type=\"cite\"><div>On 3 Mar, Ann wrote:</div>old</blockquote></div>",
        "<p>Yes.</p><div class=\"moz-cite-prefix\">On 03/03/2025 Ann wrote:<br></div><blockquote type=\"cite\">old</blockquote>",
        "<div>Ok</div><div class=\"yahoo_quoted\"><div>On Monday, Ann wrote:</div>old</div>",
        "<div>Done.</div><hr style=\"display:inline-block;width:98%\"><div id=\"divRplyFwdMsg\" dir=\"ltr\"><b>From:</b> Ann</div>old",
        "<p class=MsoNormal>Fine<o:p></o:p></p><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in'><p><b>From:</b> Ann</p></div>old",
    ] {
        let out = clean(html);
        let d = out.find("<details class=\"quoted\">").unwrap_or_else(|| panic!("no fold: {out}"));
        assert!(out.find("old").unwrap() > d, "{out}");
    }
}

#[test]
fn the_fold_takes_in_what_follows_a_wrapped_marker() {
    let html = "<div class=WordSection1><p>Hi Ann,</p><p>See below.</p><div><div style='border:none;border-top:solid #E1E1E1 1.0pt'>\
                <p><b>From:</b> Ann</p></div></div><p>Old text</p></div>";
    let out = clean(html);
    let d = out.find("<details").expect(&out);
    let end = out.find("</details>").expect(&out);
    let old = out.find("Old text").unwrap();
    assert!(d < old && old < end, "{out}");
    assert!(out.find("See below").unwrap() < d);
    // Not across a table cell.
    let out =
        clean("<table><tr><td>Reply<blockquote>q</blockquote></td><td>side</td></tr></table>");
    let end = out.find("</details>").expect(&out);
    assert!(out.find("side").unwrap() > end, "{out}");
}

#[test]
fn a_quote_at_the_start_is_not_folded() {
    for html in [
        "<blockquote>quoted first</blockquote><p>my answer below</p>",
        "  <div><br>&nbsp;</div><div class=\"gmail_quote\">all quote</div>",
    ] {
        let out = clean(html);
        assert!(!out.contains("<details"), "{out}");
    }
    // Gmail's indent is not a quote.
    let out = clean(
        "<p>a</p><blockquote style=\"margin:0 0 0 40px;border:none;padding:0px\">b</blockquote>",
    );
    assert!(!out.contains("<details"), "{out}");
}

#[test]
fn markers_in_comments_and_attributes_do_not_count() {
    let out = clean("<p>a</p><!-- <blockquote> --><p title=\"<blockquote>\">b</p>");
    assert!(!out.contains("<details"), "{out}");
}

#[test]
fn cid_images_are_rewritten_or_dropped() {
    let html = clean(
        "<p>x</p><img src=\"cid:part1.abc@example.com\" alt=\"logo\"><img src=\"cid:missing%40x\">",
    );
    let out = rewrite_cid(&html, &|cid| {
        (cid == "part1.abc@example.com").then(|| "/attachments/7?x=1&y=\"2\"".to_string())
    });
    assert!(
        out.contains("<img src=\"/attachments/7?x=1&amp;y=&quot;2&quot;\" alt=\"logo\">"),
        "{out}"
    );
    assert!(!out.contains("cid:"), "{out}");
    assert!(out.contains("<img>"), "{out}");
}

#[test]
fn frame_blocks_remote_images_unless_asked() {
    let body = clean(
        "<p>Hi</p><img src=\"https://t.example/p.gif\" alt=\"pixel\"><img src=\"HTTP://x\">\
         <img src=\" https://y\"><img src=\"cid:z\">",
    );
    let body = rewrite_cid(&body, &|_| Some("/attachments/1".into()));
    let f = render_frame(&body, false);
    assert_eq!(f.blocked_images, 3, "{}", f.html);
    assert!(
        !f.html.to_ascii_lowercase().contains("src=\"http"),
        "{}",
        f.html
    );
    assert!(!f.html.contains("src=\" http"), "{}", f.html);
    assert!(f.html.contains("alt=\"pixel\""));
    assert!(f.html.contains("src=\"/attachments/1\""));
    assert!(f.html.starts_with("<!doctype html>"));
    assert!(f.html.contains("<meta charset=\"utf-8\">"));
    assert!(f.html.contains("<base target=\"_blank\">"));
    let f = render_frame(&body, true);
    assert_eq!(f.blocked_images, 0);
    assert!(f.html.contains("src=\"https://t.example/p.gif\""));
}

#[test]
fn csp_is_well_formed() {
    let c = frame_csp(false);
    assert!(c.contains("img-src 'self' data:;"));
    assert!(!c.contains("https:"));
    assert!(frame_csp(true).contains("img-src 'self' data: https: http:;"));
    for d in c.split("; ") {
        let name = d.split(' ').next().unwrap();
        assert!(
            [
                "default-src",
                "img-src",
                "style-src",
                "font-src",
                "form-action",
                "base-uri",
                "frame-ancestors",
                "sandbox"
            ]
            .contains(&name),
            "{d}"
        );
    }
    assert!(!c.contains('\n') && !c.contains(";;"));
    assert!(!c.contains("allow-scripts"));
}

fn quick(html: &str) -> (String, Option<String>, Duration) {
    let t = Instant::now();
    let (out, note) = sanitize_with_note(html);
    (out, note, t.elapsed())
}

#[test]
fn pathological_markup_finishes_fast() {
    let cases = [
        "<div>".repeat(100_000),
        "<b><i>x</b></i>".repeat(50_000),
        format!(
            "<p>{}</p>{}",
            "<b id=1><b id=2><b id=3><b id=4>".repeat(2_000),
            "<div>x</div>".repeat(20_000)
        ),
        format!(
            "<p>{}",
            (0..5_000)
                .map(|i| format!("<b id={i}>"))
                .collect::<String>()
        ) + &"</p><p>x</p>".repeat(5_000),
        "<font><b><i><u><s><strike><em><strong><small><big>x</p>".repeat(10_000),
        "<table><tr><td>".repeat(20_000),
        format!("<select>{}", "<div>".repeat(50_000)),
        format!("<p>x</p>{}", "<div><!--x--!></div>-->".repeat(20_000)),
        "<a href=x>".repeat(30_000),
        "<".repeat(1_000_000),
        "<p title=\"".repeat(100_000),
    ];
    for html in &cases {
        let (out, _note, took) = quick(html);
        assert!(
            took < Duration::from_secs(3),
            "took {took:?} for {}",
            &html[..40.min(html.len())]
        );
        assert!(!out.contains("<script"));
    }
    let (_, note, _) = quick(&"<div>".repeat(100_000));
    assert!(note.unwrap().contains("plain text"));
}

#[test]
fn ordinary_sloppy_html_is_not_degraded() {
    // Unclosed <p>, <li>, <td>, <font> as old mail programs wrote them.
    let mut html =
        String::from("<html><head><title>T</title><style>p{color:red}</style></head><body>");
    for i in 0..3_000 {
        html.push_str(&format!(
            "<p>para {i}<font face=Arial><b>bold</b> <span>x</p>"
        ));
    }
    html.push_str("<table>");
    for i in 0..2_000 {
        html.push_str(&format!("<tr><td>{i}<td>y"));
    }
    html.push_str("</table><ul><li>a<li>b<li>c</ul></body></html>");
    let (out, note, _) = quick(&html);
    assert!(note.is_none(), "{note:?}");
    assert!(out.contains("<td>1999</td>"));
    assert!(!out.contains(">T<"), "title text shown");
    assert!(!out.contains("color:red}"));
}

#[test]
fn oversized_html_is_cut_with_a_note() {
    let html = format!("<p>start</p>{}", "<p>é</p>".repeat(MAX_HTML_BYTES / 8));
    let (out, note, _) = quick(&html);
    assert!(out.starts_with("<p>start</p>"));
    assert!(note.unwrap().contains("first"));
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    #[test]
    fn output_is_always_inert(html in "(<(script|svg|img|a|p|div|b|style|iframe|blockquote|details|math|table|td)( (src|href|onclick|onerror|style|class|id)(=(\"[^\"]{0,12}\"|'[^']{0,12}'|[a-z:/.()]{0,12}))?){0,3} ?/?>|</[a-z]{1,6}>|<!--|-->|--!>|<!\\[CDATA\\[|]]>|<\\?|javascript:|http://x/|cid:y|url\\(|[a-z &;]{0,6}|<|>|\"|'){0,40}") {
        let out = sanitize(&html);
        let lower = out.to_ascii_lowercase();
        for bad in ["<script", "<svg", "<iframe", "<style", "<math", "javascript:", "onclick", "onerror", "url("] {
            // Text may mention these only escaped: never inside a tag.
            for (i, _) in lower.match_indices(bad) {
                let before = &lower[..i];
                let in_tag = before.rfind('<') > before.rfind('>');
                proptest::prop_assert!(!in_tag || !bad.starts_with('<'), "{bad} in tag: {out}");
                proptest::prop_assert!(!bad.starts_with('<'), "{bad}: {out}");
                if bad == "onclick" || bad == "onerror" || bad == "javascript:" || bad == "url(" {
                    proptest::prop_assert!(!in_tag, "{bad} inside a tag: {out}");
                }
            }
        }
        let f = render_frame(&rewrite_cid(&out, &|_| Some("/attachments/1".into())), false);
        proptest::prop_assert!(!f.html.contains("src=\"http"), "{}", f.html);
        proptest::prop_assert!(!f.html.contains("src=\"//"), "{}", f.html);
    }
}

#[test]
fn lexer_handles_edge_cases_without_panicking() {
    for s in [
        "",
        "<",
        "</",
        "<!",
        "<!-",
        "<!--",
        "<!-->",
        "<!--->",
        "<a",
        "<a b",
        "<a b=",
        "<a b=\"",
        "<a b='x",
        "</a",
        "</>",
        "</ x>",
        "<?x",
        "<style>",
        "<style></style",
        "é<é>",
        "<a\u{0}b>",
        "<p/>",
        "<p / >",
        "<img src=x/>",
    ] {
        let _ = sanitize(s);
        let _ = rewrite_cid(s, &|_| None);
        let _ = render_frame(s, false);
    }
}
