//! Canned responses (saved replies): the rules for their shortcut, title and body, the
//! placeholders a body may hold and how the composer fills them, and which responses the
//! composer's picker offers for what the agent typed after `/`.

/// Longest shortcut, in characters.
pub const MAX_SHORTCUT_CHARS: usize = 32;
/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 80;
/// Longest body, in characters.
pub const MAX_BODY_CHARS: usize = 5000;
/// Most responses the picker offers at once.
pub const PICKER_SIZE: usize = 8;

/// The placeholders a body may hold, as written between `{{` and `}}`.
pub const PLACEHOLDERS: [&str; 5] = [
    "customer.name",
    "customer.first_name",
    "customer.identifier",
    "agent.name",
    "agent.first_name",
];

/// A shortcut as kept (trimmed, lower-case, without a leading `/`), or why it cannot be one.
pub fn clean_shortcut(raw: &str) -> Result<String, String> {
    let s = raw.trim();
    let s = s.strip_prefix('/').unwrap_or(s).to_lowercase();
    if s.is_empty() {
        return Err("A response needs a shortcut: the word typed after / in the reply.".into());
    }
    if s.chars().count() > MAX_SHORTCUT_CHARS {
        return Err(format!(
            "A shortcut has at most {MAX_SHORTCUT_CHARS} characters."
        ));
    }
    if !s.chars().all(is_shortcut_char) {
        return Err(
            "A shortcut holds only letters a to z, digits, - and _ (no spaces or accents).".into(),
        );
    }
    Ok(s)
}

fn is_shortcut_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'
}

/// A title as kept (trimmed, inner spaces collapsed), or why it cannot be one.
pub fn clean_title(raw: &str) -> Result<String, String> {
    let t = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if t.is_empty() {
        return Err("A response needs a title.".into());
    }
    if t.chars().count() > MAX_TITLE_CHARS {
        return Err(format!("A title has at most {MAX_TITLE_CHARS} characters."));
    }
    if t.chars().any(char::is_control) {
        return Err("A title cannot hold control characters.".into());
    }
    Ok(t)
}

/// A body as kept (line ends as `\n`, trimmed), or why it cannot be one: empty, too long, or
/// holding a placeholder that does not exist.
pub fn clean_body(raw: &str) -> Result<String, String> {
    let b = raw.replace("\r\n", "\n").replace('\r', "\n");
    let b = b.trim();
    if b.is_empty() {
        return Err("A response needs a text.".into());
    }
    let n = b.chars().count();
    if n > MAX_BODY_CHARS {
        return Err(format!(
            "A response has at most 5,000 characters; this one has {}.",
            thousands(n)
        ));
    }
    check_placeholders(b)?;
    Ok(b.to_string())
}

fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The placeholders written in `body`: the byte range of each `{{…}}` and the name inside,
/// trimmed. Braces holding braces, a line end or more than 64 characters are plain text.
fn placeholders(body: &str) -> Vec<(std::ops::Range<usize>, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = body[from..].find("{{") {
        let start = from + i;
        let inner_start = start + 2;
        let Some(j) = body[inner_start..].find("}}") else {
            break;
        };
        let inner = &body[inner_start..inner_start + j];
        if inner.contains(['{', '}', '\n']) || inner.chars().count() > 64 || inner.trim().is_empty()
        {
            from = start + 1;
            continue;
        }
        let end = inner_start + j + 2;
        out.push((start..end, inner.trim()));
        from = end;
    }
    out
}

fn known(name: &str) -> Option<&'static str> {
    PLACEHOLDERS
        .iter()
        .copied()
        .find(|p| p.eq_ignore_ascii_case(name))
}

/// The placeholders of `body` that do not exist, as typed (`{{custmer.name}}`), each once.
pub fn unknown_placeholders(body: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for (range, name) in placeholders(body) {
        let typed = &body[range];
        if known(name).is_none() && !out.iter().any(|t| t == typed) {
            out.push(typed.to_string());
        }
    }
    out
}

/// Refuses a body with a placeholder that does not exist, in words naming the ones that do.
pub fn check_placeholders(body: &str) -> Result<(), String> {
    let unknown = unknown_placeholders(body);
    if unknown.is_empty() {
        return Ok(());
    }
    let known: Vec<String> = PLACEHOLDERS
        .iter()
        .map(|p| format!("{{{{{p}}}}}"))
        .collect();
    let (last, rest) = known.split_last().expect("placeholders");
    Err(format!(
        "Unknown placeholder{} {}: use {} or {last}.",
        if unknown.len() == 1 { "" } else { "s" },
        unknown.join(", "),
        rest.join(", ")
    ))
}

/// What the placeholders of a response are filled with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fill {
    pub customer_name: String,
    pub agent_name: String,
    /// The customer's identifier on the reply's channel ("+1 555 0100", an email address);
    /// none when no channel is chosen.
    pub identifier: Option<String>,
}

fn first_name(name: &str) -> &str {
    name.split_whitespace().next().unwrap_or("")
}

/// `body` with its known placeholders filled; unknown ones are left as typed, and a missing
/// identifier becomes nothing.
pub fn fill(body: &str, f: &Fill) -> String {
    let mut out = String::with_capacity(body.len());
    let mut at = 0;
    for (range, name) in placeholders(body) {
        let value = match known(name) {
            Some("customer.name") => f.customer_name.trim(),
            Some("customer.first_name") => first_name(&f.customer_name),
            Some("customer.identifier") => f.identifier.as_deref().unwrap_or(""),
            Some("agent.name") => f.agent_name.trim(),
            Some("agent.first_name") => first_name(&f.agent_name),
            _ => continue,
        };
        out.push_str(&body[at..range.start]);
        out.push_str(value);
        at = range.end;
    }
    out.push_str(&body[at..]);
    out
}

/// The word after `/` when the whole draft is `/` and a shortcut being typed (letters,
/// digits, `-` and `_`; any case), else none: the composer then offers responses.
pub fn typed_shortcut(draft: &str) -> Option<&str> {
    let word = draft.strip_prefix('/')?;
    word.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        .then_some(word)
}

/// What the picker needs to know of a response.
pub trait Entry {
    fn shortcut(&self) -> &str;
    fn title(&self) -> &str;
    /// The agent's own (it hides a shared response with the same shortcut).
    fn personal(&self) -> bool;
}

/// The responses to offer for `shortcut_typed` (with or without its `/`), at most
/// [`PICKER_SIZE`]: those whose shortcut starts with it, by shortcut, then those whose title
/// holds it, in the list's order; case does not matter. A personal response hides a shared
/// one with the same shortcut.
pub fn matches<'a, T: Entry>(shortcut_typed: &str, items: &'a [T]) -> Vec<&'a T> {
    let typed = shortcut_typed.trim();
    let typed = typed.strip_prefix('/').unwrap_or(typed).to_lowercase();
    let shown: Vec<&T> = items
        .iter()
        .filter(|i| {
            i.personal()
                || !items
                    .iter()
                    .any(|o| o.personal() && o.shortcut().eq_ignore_ascii_case(i.shortcut()))
        })
        .collect();
    let mut out: Vec<&T> = shown
        .iter()
        .copied()
        .filter(|i| i.shortcut().to_lowercase().starts_with(&typed))
        .collect();
    out.sort_by_key(|i| i.shortcut().to_lowercase());
    for i in shown {
        if out.len() >= PICKER_SIZE {
            break;
        }
        let by_title = !typed.is_empty() && i.title().to_lowercase().contains(&typed);
        if by_title && !out.iter().any(|o| std::ptr::eq(*o, i)) {
            out.push(i);
        }
    }
    out.truncate(PICKER_SIZE);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortcuts_are_cleaned_and_refused_in_words() {
        assert_eq!(clean_shortcut("  /Thanks ").unwrap(), "thanks");
        assert_eq!(clean_shortcut("order-status_2").unwrap(), "order-status_2");
        assert!(clean_shortcut(" ")
            .unwrap_err()
            .contains("needs a shortcut"));
        assert!(clean_shortcut("/")
            .unwrap_err()
            .contains("needs a shortcut"));
        assert!(clean_shortcut(&"a".repeat(32)).is_ok());
        assert!(clean_shortcut(&"a".repeat(33))
            .unwrap_err()
            .contains("at most 32"));
        for bad in ["two words", "café", "a/b", "x!"] {
            assert!(
                clean_shortcut(bad).unwrap_err().contains("only letters"),
                "{bad}"
            );
        }
    }

    #[test]
    fn titles_and_bodies_have_limits() {
        assert_eq!(clean_title("  Order   status ").unwrap(), "Order status");
        assert!(clean_title(" ").unwrap_err().contains("needs a title"));
        assert!(clean_title(&"t".repeat(80)).is_ok());
        assert!(clean_title(&"t".repeat(81))
            .unwrap_err()
            .contains("at most 80"));
        assert_eq!(clean_body(" Hi\r\nthere \n").unwrap(), "Hi\nthere");
        assert!(clean_body(" \n ").unwrap_err().contains("needs a text"));
        assert!(clean_body(&"b".repeat(5000)).is_ok());
        let e = clean_body(&"b".repeat(5001)).unwrap_err();
        assert!(e.contains("at most 5,000") && e.contains("5,001"), "{e}");
    }

    #[test]
    fn unknown_placeholders_are_named_with_the_known_ones() {
        assert!(unknown_placeholders("Hi {{customer.name}}, {{ agent.first_name }}").is_empty());
        assert_eq!(
            unknown_placeholders("Hi {{custmer.name}} {{x}} {{custmer.name}}"),
            vec!["{{custmer.name}}".to_string(), "{{x}}".to_string()]
        );
        let e = clean_body("Hi {{custmer.name}}").unwrap_err();
        assert_eq!(
            e,
            "Unknown placeholder {{custmer.name}}: use {{customer.name}}, \
             {{customer.first_name}}, {{customer.identifier}}, {{agent.name}} or \
             {{agent.first_name}}."
        );
        assert!(clean_body("{{a}} {{b}}")
            .unwrap_err()
            .starts_with("Unknown placeholders {{a}}, {{b}}:"));
        // Not placeholders: empty braces, a line end inside, unclosed.
        assert!(unknown_placeholders("{{}} {{ }} {{a\nb}} {{open").is_empty());
    }

    #[test]
    fn fill_replaces_known_placeholders_and_leaves_the_rest() {
        let f = Fill {
            customer_name: "Rita Alvarez".into(),
            agent_name: "Sam Lee".into(),
            identifier: Some("+1 555 0100".into()),
        };
        assert_eq!(
            fill(
                "Hi {{customer.first_name}} ({{ customer.name }}), we text {{customer.identifier}}. \
                 {{agent.name}} / {{Agent.First_Name}} {{unknown}} {{open",
                &f
            ),
            "Hi Rita (Rita Alvarez), we text +1 555 0100. Sam Lee / Sam {{unknown}} {{open"
        );
        let none = Fill {
            identifier: None,
            ..f.clone()
        };
        assert_eq!(fill("to {{customer.identifier}}.", &none), "to .");
        assert_eq!(fill("{{{customer.first_name}}}", &f), "{Rita}");
        assert_eq!(fill("no placeholders ✓", &f), "no placeholders ✓");
        let empty = Fill::default();
        assert_eq!(fill("Hi {{customer.first_name}}!", &empty), "Hi !");
    }

    #[test]
    fn the_picker_opens_on_a_slash_and_a_word() {
        assert_eq!(typed_shortcut("/"), Some(""));
        assert_eq!(typed_shortcut("/ref"), Some("ref"));
        assert_eq!(typed_shortcut("/Order-2_x"), Some("Order-2_x"));
        assert_eq!(typed_shortcut("/ref "), None);
        assert_eq!(typed_shortcut("hi /ref"), None);
        assert_eq!(typed_shortcut(""), None);
    }

    struct E(&'static str, &'static str, bool);
    impl Entry for E {
        fn shortcut(&self) -> &str {
            self.0
        }
        fn title(&self) -> &str {
            self.1
        }
        fn personal(&self) -> bool {
            self.2
        }
    }

    #[test]
    fn matches_prefer_shortcut_prefixes_then_titles() {
        let items = [
            E("thanks", "Thank you", false),
            E("refund", "Refund on its way", false),
            E("ref-policy", "Refund policy", false),
            E("hours", "Opening hours", false),
            E("late", "Refund is late", false),
            E("thanks", "My thanks", true),
        ];
        let got = |t: &str| {
            matches(t, &items)
                .iter()
                .map(|e| (e.0, e.2))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            got("/REF"),
            vec![("ref-policy", false), ("refund", false), ("late", false)]
        );
        // The personal /thanks hides the shared one.
        assert_eq!(got("than"), vec![("thanks", true)]);
        assert_eq!(got("hour"), vec![("hours", false)]);
        assert!(got("zzz").is_empty());
        // Everything (at most 8) for a bare slash.
        assert_eq!(got("/").len(), 5);
        let many: Vec<E> = (0..20).map(|_| E("x", "x", false)).collect();
        assert_eq!(matches("", &many).len(), PICKER_SIZE);
    }
}
