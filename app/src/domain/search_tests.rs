use super::*;

fn p(s: &str) -> Vec<String> {
    s.split(' ').map(str::to_string).collect()
}

#[test]
fn words_are_anded_and_lower_cased() {
    let q = parse("Refund  DELAYED");
    assert_eq!(q.all, vec![vec![p("refund")], vec![p("delayed")]]);
    assert_eq!(q.fts5().unwrap(), "\"refund\" AND \"delayed\"");
    assert_eq!(q.websearch().unwrap(), "refund delayed");
    assert!(q.ignored.is_empty() && q.notices.is_empty());
}

#[test]
fn phrases_or_and_not() {
    let q = parse("\"late parcel\" refund OR return -spam");
    assert_eq!(
        q.all,
        vec![vec![p("late parcel")], vec![p("refund"), p("return")]]
    );
    assert_eq!(q.not, vec![p("spam")]);
    assert_eq!(
        q.fts5().unwrap(),
        "\"late parcel\" AND (\"refund\" OR \"return\") NOT \"spam\""
    );
    assert_eq!(
        q.websearch().unwrap(),
        "\"late parcel\" refund or return -spam"
    );
}

#[test]
fn operators_typed_by_people_stay_words() {
    // FTS5's own operators and syntax inside words are quoted, never run.
    let q = parse("NEAR(a b) AND title:x* ^start");
    let fts = q.fts5().unwrap();
    assert_eq!(fts, "\"near a\" AND \"b\" AND \"and\" AND \"start\"");
    assert_eq!(q.ignored, vec!["title:x*".to_string()]);
    // "or" in lower case is neither an operator nor a word.
    assert_eq!(parse("this or that").websearch().unwrap(), "this that");
}

#[test]
fn filters_are_read_and_unknown_ones_listed() {
    let q = parse(
        "channel:sms status:open assignee:me label:\"key account\" from:customer \
         after:2026-01-31 before:2026/02/10 has:attachment colour:red refund",
    );
    let f = &q.filters;
    assert_eq!(f.channel, Some(ChannelKind::Sms));
    assert_eq!(f.status, Some(Status::Open));
    assert_eq!(f.assignee.as_deref(), Some("me"));
    assert_eq!(f.label.as_deref(), Some("key account"));
    assert_eq!(f.from, Some(From::Customer));
    assert_eq!(f.after, Some((2026, 1, 31)));
    assert_eq!(f.before, Some((2026, 2, 10)));
    assert!(f.has_attachment);
    assert_eq!(q.ignored, vec!["colour:red".to_string()]);
    assert_eq!(q.all, vec![vec![p("refund")]]);
    assert!(f.on_messages());
    assert_eq!(q.described_filters().len(), 8);
}

#[test]
fn bad_filter_values_are_ignored_not_errors() {
    let q = parse("after:2026-02-30 channel:fax status:gone is:note");
    assert_eq!(
        q.ignored,
        vec!["after:2026-02-30", "channel:fax", "status:gone"]
    );
    assert_eq!(q.filters.from, Some(From::Note));
    assert!(q.all.is_empty());
}

#[test]
fn links_are_searched_as_words() {
    let q = parse("https://shop.example.com/orders");
    assert!(q.ignored.is_empty());
    assert_eq!(q.all, vec![vec![p("https shop example com orders")]]);
}

#[test]
fn phone_numbers_in_any_written_form_name_a_customer() {
    for typed in [
        "+1 555 010 0101",
        "(555) 010-0101",
        "555.010.0101",
        "+15550100101",
        "555 010 0101",
    ] {
        let q = parse(typed);
        assert_eq!(q.who, vec![Who::Phone(typed.to_string())], "{typed}");
        assert!(q.all.is_empty(), "{typed}");
    }
    let q = parse("refund +44 20 7946 0958 late");
    assert_eq!(q.who, vec![Who::Phone("+44 20 7946 0958".into())]);
    assert_eq!(q.all, vec![vec![p("refund")], vec![p("late")]]);
    assert_eq!(
        Who::Phone("+1 555 010 0101".into()).as_phrase(),
        p("555 010 0101")
    );
    // Short numbers are words: a year, an order number.
    assert_eq!(parse("2026").all, vec![vec![p("2026")]]);
    assert!(parse("order 123456").who.is_empty());
}

#[test]
fn email_addresses_name_a_customer() {
    let q = parse("Rita.Alvarez@Example.com invoice");
    assert_eq!(q.who, vec![Who::Email("rita.alvarez@example.com".into())]);
    assert_eq!(q.all, vec![vec![p("invoice")]]);
    assert_eq!(q.who[0].as_phrase(), p("rita alvarez example com"));
    assert!(parse("@handle").who.is_empty());
}

#[test]
fn bad_input_always_reads() {
    // Empty, blank, lone quotes, operators only.
    for s in [
        "", "   ", "\"", "\"\"", "-", "- -", "OR", "OR OR |", "AND", "*", ":", "a:", ":b",
    ] {
        let q = parse(s);
        assert!(q.all.iter().flatten().all(|ph| !ph.is_empty()), "{s:?}");
    }
    assert!(parse("").is_empty());
    assert!(parse("OR | -").is_empty());
    let q = parse("\"unclosed phrase here");
    assert_eq!(q.all, vec![vec![p("unclosed phrase here")]]);
    assert_eq!(q.notices.len(), 1);
    let q = parse("-spam");
    assert!(q.is_empty());
    assert!(q.notices[0].contains("leave out"));
}

#[test]
fn long_queries_are_cut_with_a_notice() {
    let long = "word ".repeat(2_000);
    let q = parse(&long);
    assert_eq!(q.all.len(), MAX_TERMS);
    assert_eq!(q.notices.len(), 2, "{:?}", q.notices);
    let huge = "x".repeat(10_000);
    let q = parse(&huge);
    assert_eq!(q.all[0][0][0].len(), MAX_WORD_CHARS);
}

#[test]
fn doc_ids_sort_by_time_then_id() {
    let a = doc_id(1_700_000_000_123, 5, false);
    let b = doc_id(1_700_000_000_999, 4, false);
    let c = doc_id(1_700_000_001_000, 1, false);
    assert!(a > b, "same second: by id");
    assert!(c > a && c > b);
    assert_eq!(
        doc_id(1_700_000_000_000, 7, true),
        doc_id(1_700_000_000_000, 7, false) + 1
    );
    assert!(first_id_at(1_700_000_000_500) <= b);
    assert!(profile_key(1_700_000_000_500) > a);
    assert!(profile_key(1_700_000_000_500) < c);
}

#[test]
fn snippets_split_on_their_marks() {
    let s = format!("a {MARK_START}refund{MARK_END} was\nsent\u{7}");
    assert_eq!(
        snippet_runs(&s),
        vec![
            ("a ".to_string(), false),
            ("refund".to_string(), true),
            (" was sent".to_string(), false)
        ]
    );
    assert_eq!(
        mark_words("Rita Alvarez", &["alv".to_string()]),
        vec![
            ("Rita ".to_string(), false),
            ("Alv".to_string(), true),
            ("arez".to_string(), false)
        ]
    );
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any text reads, and what reaches an engine is only quoted letters and digits.
        #[test]
        fn any_input_reads_into_safe_queries(s in ".{0,300}") {
            let q = parse(&s);
            if let Some(f) = q.fts5() {
                // Between the quotes: only letters, digits and spaces.
                for (i, part) in f.split('"').enumerate() {
                    if i % 2 == 1 {
                        prop_assert!(part.chars().all(|c| c.is_alphanumeric() || c == ' '), "{f}");
                    } else {
                        prop_assert!(part.chars().all(|c| " ANDORT()".contains(c)), "{f}");
                    }
                }
            }
            if let Some(w) = q.websearch() {
                prop_assert!(w.chars().all(|c| c.is_alphanumeric() || " \"-".contains(c)), "{w}");
            }
            prop_assert!(q.all.len() <= MAX_TERMS);
        }
    }
}
