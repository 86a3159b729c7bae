//! The preference center's HTML: one small self-contained page (no scripts, no outside
//! resources), mobile first, every control labelled, every word from `domain::pref_words`.

use app::domain::consent::Purpose;
use app::domain::pref_words::{fill, Lang, Words};
use app::domain::preferences::{hhmm, FREQUENCIES, ZONES};
use app::domain::text::escape_html as esc;
use app::service::preferences::Page;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

const STYLE: &str = "\
*{box-sizing:border-box}\
body{font-family:system-ui,-apple-system,sans-serif;margin:0;color:#1f2328;background:#f6f8fa;line-height:1.5}\
main{max-width:40rem;margin:0 auto;padding:1rem}\
h1{font-size:1.5rem;margin:.5rem 0}\
h2{font-size:1.1rem;margin:0 0 .5rem}\
section,fieldset{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:1rem;margin:0 0 1rem}\
fieldset legend{font-weight:600;padding:0 .25rem}\
.muted{color:#57606a;font-size:.95rem}\
.row{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;padding:.5rem 0;border-top:1px solid #eaeef2}\
.row:first-of-type{border-top:0}\
.addr{flex:1 1 12rem;font-weight:600;overflow-wrap:anywhere}\
.boxes{display:flex;flex-wrap:wrap;gap:0 1.25rem}\
.addr small{display:block;font-weight:400;color:#57606a}\
label{display:inline-flex;gap:.4rem;align-items:center;min-height:44px}\
.field{display:flex;flex-direction:column;gap:.25rem;margin:.5rem 0}\
.field label{min-height:0;font-weight:600}\
input[type=checkbox],input[type=radio]{width:1.25rem;height:1.25rem}\
input[type=text],input[type=email],input[type=tel],input[type=time],select{font:inherit;padding:.5rem;border:1px solid #8c959f;border-radius:6px;min-height:44px;max-width:100%}\
.times{display:flex;gap:1rem;flex-wrap:wrap}\
button{font:inherit;min-height:44px;padding:.5rem 1rem;border-radius:6px;border:1px solid #1f4bd8;background:#1f4bd8;color:#fff;cursor:pointer}\
button.secondary{background:#fff;color:#1f4bd8}\
:focus-visible{outline:3px solid #0969da;outline-offset:2px}\
.notice{padding:.75rem 1rem;border-radius:8px;margin:0 0 1rem;border:1px solid #1a7f37;background:#dafbe1}\
.notice.error{border-color:#cf222e;background:#ffebe9}\
nav{display:flex;gap:1rem;justify-content:flex-end;font-size:.9rem}\
nav a{color:#0550ae}\
";

/// Headers every page of the preference center carries: no scripts, not cached, no referrer
/// (the URL holds the token), not framed, not indexed.
pub fn html(status: StatusCode, lang: Lang, title: &str, body: &str) -> Response {
    let doc = format!(
        "<!doctype html><html lang=\"{l}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        l = lang.code(),
        t = esc(title)
    );
    let mut r = (status, doc).into_response();
    // same-origin, not no-referrer: with no-referrer a form POST carries `Origin: null`, which
    // the origin check must refuse. The page links nowhere else.
    crate::http::plain_pages::link_page_headers(r.headers_mut(), "same-origin");
    r.headers_mut().insert(
        header::CONTENT_LANGUAGE,
        HeaderValue::from_static(lang.code()),
    );
    r
}

/// A message alone (a refused or stale link), with an optional form (a fresh link).
pub fn message(
    status: StatusCode,
    lang: Lang,
    title: &str,
    text: &str,
    form: Option<&str>,
) -> Response {
    let body = format!(
        "<h1>{}</h1><p>{}</p>{}",
        esc(title),
        esc(text),
        form.unwrap_or("")
    );
    html(status, lang, title, &body)
}

/// The fresh-link button for `token`.
pub fn fresh_form(w: &Words, action: &str) -> String {
    format!(
        "<form method=\"post\" action=\"{a}\"><input type=\"hidden\" name=\"action\" value=\"fresh\">\
         <button type=\"submit\">{b}</button></form>",
        a = esc(action),
        b = esc(w.fresh_button)
    )
}

/// The whole page for `p`. `action` is the form's address; `notice` is (ok, words).
pub fn page(
    lang: Lang,
    p: &Page,
    action: &str,
    token: &str,
    notice: Option<(bool, String)>,
) -> String {
    let w = lang.words();
    let a = esc(action);
    let mut out = String::with_capacity(8192);
    // Languages: links to the same page in each.
    out.push_str(&format!("<nav aria-label=\"{}\">", esc(w.language)));
    for l in Lang::ALL {
        let name = match l {
            Lang::En => "English",
            Lang::Es => "Español",
        };
        if l == lang {
            out.push_str(&format!(
                "<span aria-current=\"true\" lang=\"{}\">{name}</span>",
                l.code()
            ));
        } else {
            out.push_str(&format!(
                "<a href=\"/p/{}?lang={c}\" lang=\"{c}\" hreflang=\"{c}\">{name}</a>",
                esc(token),
                c = l.code()
            ));
        }
    }
    out.push_str("</nav>");
    out.push_str(&format!(
        "<h1>{}</h1><p class=\"muted\">{}</p>",
        esc(w.title),
        esc(w.intro)
    ));
    if let Some((ok, text)) = notice {
        out.push_str(&format!(
            "<div class=\"notice{}\" role=\"{}\">{}</div>",
            if ok { "" } else { " error" },
            if ok { "status" } else { "alert" },
            esc(&text)
        ));
    }
    // The main form: channels per purpose, preferred channel, quiet hours, frequency.
    out.push_str(&format!(
        "<form method=\"post\" action=\"{a}\"><input type=\"hidden\" name=\"action\" value=\"save\">"
    ));
    out.push_str(&format!(
        "<fieldset><legend>{}</legend><p class=\"muted\">{}</p>",
        esc(w.channels_heading),
        esc(w.channels_help)
    ));
    for r in &p.rows {
        out.push_str(&format!(
            "<div class=\"row\"><div class=\"addr\">{}<small>{}</small></div>",
            esc(&r.masked),
            esc(w.channel(r.channel))
        ));
        if r.removal_asked {
            out.push_str(&format!(
                "<p class=\"muted\">{}</p></div>",
                esc(w.removal_asked)
            ));
            continue;
        }
        if r.stopped {
            out.push_str(&format!(
                "<p class=\"muted\">{}</p></div>",
                esc(w.texted_stop)
            ));
            continue;
        }
        out.push_str("<div class=\"boxes\">");
        for (purpose, on) in [
            (Purpose::Support, r.support),
            (Purpose::Marketing, r.marketing),
        ] {
            let letter = if purpose == Purpose::Support {
                "s"
            } else {
                "m"
            };
            out.push_str(&format!(
                "<label><input type=\"checkbox\" name=\"allow\" value=\"{id}:{letter}\"{checked} \
                 aria-label=\"{what}: {ch} {addr}\">{what}</label>",
                id = r.identifier_id,
                checked = if on { " checked" } else { "" },
                what = esc(w.purpose(purpose)),
                ch = esc(w.channel(r.channel)),
                addr = esc(&r.masked),
            ));
        }
        out.push_str("</div></div>");
    }
    out.push_str("</fieldset>");
    // Preferred channel.
    out.push_str(&format!(
        "<fieldset><legend>{}</legend>",
        esc(w.preferred_heading)
    ));
    let mut options = vec![(String::new(), w.preferred_none.to_string())];
    for c in p.channels() {
        options.push((c.as_str().to_string(), w.channel(c).to_string()));
    }
    let current = p
        .preferred
        .map(|c| c.as_str().to_string())
        .unwrap_or_default();
    for (value, label) in options {
        out.push_str(&format!(
            "<label><input type=\"radio\" name=\"preferred\" value=\"{v}\"{c}>{l}</label> ",
            v = esc(&value),
            c = if value == current { " checked" } else { "" },
            l = esc(&label)
        ));
    }
    out.push_str("</fieldset>");
    // Quiet hours and time zone.
    let (qf, qu) = p
        .chosen
        .quiet
        .map(|(f, u)| (hhmm(f), hhmm(u)))
        .unwrap_or_default();
    out.push_str(&format!(
        "<fieldset><legend>{h}</legend><p class=\"muted\">{help}</p><div class=\"times\">\
         <div class=\"field\"><label for=\"qf\">{from}</label><input type=\"time\" id=\"qf\" name=\"quiet_from\" value=\"{qf}\"></div>\
         <div class=\"field\"><label for=\"qu\">{until}</label><input type=\"time\" id=\"qu\" name=\"quiet_until\" value=\"{qu}\"></div></div>\
         <div class=\"field\"><label for=\"zone\">{zone}</label><select id=\"zone\" name=\"zone\">",
        h = esc(w.quiet_heading),
        help = esc(w.quiet_help),
        from = esc(w.quiet_from),
        until = esc(w.quiet_until),
        zone = esc(w.zone),
    ));
    // No zone is assumed for a customer who has chosen none: quiet hours in UTC would be hours
    // off for most people, so the list asks, and quiet hours need an answer.
    let current_zone = p.chosen.time_zone.clone().unwrap_or_default();
    if current_zone.is_empty() {
        out.push_str(&format!(
            "<option value=\"\" selected>{}</option>",
            esc(w.zone_unset)
        ));
    } else if !ZONES.contains(&current_zone.as_str()) {
        out.push_str(&format!(
            "<option value=\"{z}\" selected>{z}</option>",
            z = esc(&current_zone)
        ));
    }
    for z in ZONES {
        out.push_str(&format!(
            "<option value=\"{z}\"{s}>{label}</option>",
            s = if *z == current_zone { " selected" } else { "" },
            label = z.replace('_', " ")
        ));
    }
    out.push_str("</select></div></fieldset>");
    // Frequency.
    out.push_str(&format!(
        "<fieldset><legend>{}</legend>",
        esc(w.frequency_heading)
    ));
    let freq = p.chosen.frequency.unwrap_or((0, 0));
    for f in FREQUENCIES {
        out.push_str(&format!(
            "<label><input type=\"radio\" name=\"frequency\" value=\"{}/{}\"{}>{}</label> ",
            f.0,
            f.1,
            if f == freq { " checked" } else { "" },
            esc(w.frequency(f))
        ));
    }
    out.push_str(&format!(
        "</fieldset><p><button type=\"submit\">{}</button></p></form>",
        esc(w.save)
    ));
    // Add an address.
    out.push_str(&format!(
        "<section aria-labelledby=\"add-h\"><h2 id=\"add-h\">{h}</h2><p class=\"muted\">{help}</p>\
         <form method=\"post\" action=\"{a}\"><input type=\"hidden\" name=\"action\" value=\"code\">\
         <div class=\"field\"><label for=\"add-kind\">{kind_label}</label><select id=\"add-kind\" name=\"kind\">\
         <option value=\"email\">{email}</option><option value=\"phone\">{phone}</option></select></div>\
         <div class=\"field\"><label for=\"add-value\">{value}</label>\
         <input type=\"text\" id=\"add-value\" name=\"value\" maxlength=\"320\" autocomplete=\"off\" required></div>\
         <button type=\"submit\" class=\"secondary\">{send}</button></form>",
        h = esc(w.add_heading),
        help = esc(w.add_help),
        kind_label = esc(w.add_kind_label),
        email = esc(w.add_kind_email),
        phone = esc(w.add_kind_phone),
        value = esc(w.add_value),
        send = esc(w.send_code),
    ));
    if let Some(pending) = &p.pending {
        out.push_str(&format!(
            "<form method=\"post\" action=\"{a}\"><input type=\"hidden\" name=\"action\" value=\"confirm\">\
             <p class=\"muted\">{sent}</p>\
             <div class=\"field\"><label for=\"code\">{label}</label>\
             <input type=\"text\" id=\"code\" name=\"code\" inputmode=\"numeric\" autocomplete=\"one-time-code\" \
             pattern=\"[0-9]{{6}}\" maxlength=\"6\" required></div>\
             <button type=\"submit\">{confirm}</button></form>",
            sent = esc(&fill(w.code_waiting, pending)),
            label = esc(w.code_label),
            confirm = esc(w.confirm_code),
        ));
    }
    out.push_str("</section>");
    // Remove an address.
    let removable: Vec<_> = p.rows.iter().filter(|r| !r.removal_asked).collect();
    if removable.len() > 1 {
        out.push_str(&format!(
            "<section aria-labelledby=\"rm-h\"><h2 id=\"rm-h\">{}</h2><p class=\"muted\">{}</p>",
            esc(w.remove_heading),
            esc(w.remove_help)
        ));
        for r in removable {
            out.push_str(&format!(
                "<form method=\"post\" action=\"{a}\" class=\"row\"><input type=\"hidden\" name=\"action\" value=\"remove\">\
                 <input type=\"hidden\" name=\"target\" value=\"{id}\"><span class=\"addr\">{addr}<small>{ch}</small></span>\
                 <button type=\"submit\" class=\"secondary\" aria-label=\"{rm}: {addr}\">{rm}</button></form>",
                id = r.identifier_id,
                addr = esc(&r.masked),
                ch = esc(w.channel(r.channel)),
                rm = esc(w.remove_button),
            ));
        }
        out.push_str("</section>");
    }
    out
}
