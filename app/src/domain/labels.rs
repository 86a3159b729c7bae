//! Labels: their names and the palette their colours come from (each colour is drawn with
//! text that passes WCAG AA contrast on it, in `style/main.css`).

/// Colour names an admin picks from, with how they read.
pub const PALETTE: [(&str, &str); 8] = [
    ("gray", "Gray"),
    ("red", "Red"),
    ("orange", "Orange"),
    ("yellow", "Yellow"),
    ("green", "Green"),
    ("teal", "Teal"),
    ("blue", "Blue"),
    ("purple", "Purple"),
];

/// Longest label name, in characters.
pub const MAX_NAME_CHARS: usize = 40;

/// A label name as kept (trimmed, inner spaces collapsed), or why it cannot be one.
pub fn clean_name(raw: &str) -> Result<String, String> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() {
        return Err("A label needs a name.".into());
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(format!(
            "A label name has at most {MAX_NAME_CHARS} characters."
        ));
    }
    if name.chars().any(|c| c.is_control() || c == '"') {
        return Err("A label name cannot hold quotes or control characters.".into());
    }
    Ok(name)
}

/// The key two names share when they are the same label ("VIP" and "vip").
pub fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Whether `colour` is one of the palette's.
pub fn is_colour(colour: &str) -> bool {
    PALETTE.iter().any(|(c, _)| *c == colour)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_refused_in_words() {
        assert_eq!(clean_name("  Key   account ").unwrap(), "Key account");
        assert_eq!(name_key(" Key  ACCOUNT"), "key account");
        assert!(clean_name("   ").unwrap_err().contains("needs a name"));
        assert!(clean_name(&"x".repeat(41))
            .unwrap_err()
            .contains("at most 40"));
        assert!(clean_name("a\"b").is_err());
        assert!(is_colour("teal") && !is_colour("#fff"));
    }
}
