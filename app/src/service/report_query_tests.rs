use super::*;

fn q(range: &str, from: &str, to: &str, group: &str) -> ReportQuery {
    ReportQuery {
        tab: String::new(),
        range: range.into(),
        from: from.into(),
        to: to.into(),
        group: group.into(),
        channel: String::new(),
        agent: String::new(),
    }
}

#[test]
fn dates_round_trip_and_bad_ones_are_refused() {
    for s in ["1970-01-01", "2024-02-29", "2026-12-05", "2000-03-01"] {
        assert_eq!(date(parse_date(s).unwrap()), s);
    }
    assert_eq!(parse_date("1970-01-02"), Some(1));
    for bad in [
        "2026-02-30",
        "2026-13-01",
        "26-1-1x",
        "",
        "2026-00-10",
        "yesterday",
    ] {
        assert_eq!(parse_date(bad), None, "{bad}");
    }
}

#[test]
fn ranges_end_today_and_custom_ranges_are_checked() {
    let today = parse_date("2026-12-05").unwrap();
    let c = check(&q("7", "", "", ""), today).unwrap();
    assert_eq!(
        (date(c.from), date(c.to)),
        ("2026-11-29".into(), "2026-12-05".into())
    );
    assert_eq!(c.group, Group::Day);
    let c = check(&q("", "", "", ""), today).unwrap();
    assert_eq!(c.to - c.from + 1, 30);
    assert_eq!(c.query.range, "30");
    let c = check(&q("90", "", "", ""), today).unwrap();
    assert_eq!((c.to - c.from + 1, c.group), (90, Group::Week));
    let c = check(&q("custom", "2025-01-01", "2025-12-31", "month"), today).unwrap();
    assert_eq!(
        (c.from, c.to),
        (
            parse_date("2025-01-01").unwrap(),
            parse_date("2025-12-31").unwrap()
        )
    );
    assert!(check(&q("custom", "2025-02-01", "2025-01-01", ""), today)
        .unwrap_err()
        .contains("ends before"));
    assert!(check(&q("custom", "2020-01-01", "2025-01-01", ""), today)
        .unwrap_err()
        .contains("at most"));
    assert!(check(&q("custom", "soon", "2025-01-01", ""), today)
        .unwrap_err()
        .contains("not a date"));
    assert!(check(&q("365", "", "", ""), today).is_err());
    assert!(check(&q("7", "", "", "hour"), today).is_err());
    let mut bad = q("7", "", "", "");
    bad.channel = "fax".into();
    assert!(check(&bad, today).is_err());
    bad.channel = "sms".into();
    bad.tab = "cross".into();
    let c = check(&bad, today).unwrap();
    assert_eq!((c.tab, c.channel), (Tab::Cross, Some(ChannelKind::Sms)));
    assert!(c.query.to_query_string(None).contains("channel=sms"));
}

#[test]
fn buckets_cover_the_range_exactly() {
    let from = parse_date("2026-09-29").unwrap(); // a Tuesday
    let to = parse_date("2026-11-03").unwrap();
    for group in [Group::Day, Group::Week, Group::Month] {
        let b = buckets(from, to, group);
        assert_eq!(b.first().unwrap().0, from);
        assert_eq!(b.last().unwrap().1, to);
        for w in b.windows(2) {
            assert_eq!(w[0].1 + 1, w[1].0, "{group:?}: contiguous");
        }
    }
    let weeks = buckets(from, to, Group::Week);
    // Tue 29 Sep – Sun 4 Oct, then Monday-to-Sunday weeks.
    assert_eq!(weeks[0].1, parse_date("2026-10-04").unwrap());
    assert_eq!(weeks[1].0, parse_date("2026-10-05").unwrap());
    let months = buckets(from, to, Group::Month);
    assert_eq!(months.len(), 3);
    assert_eq!(months[1].2, "Oct 2026");
    assert_eq!(buckets(from, to, Group::Day).len(), 36);
}

#[test]
fn numbers_read_as_people_write_them() {
    assert_eq!(duration(None), "–");
    assert_eq!(duration(Some(42)), "42 s");
    assert_eq!(duration(Some(4 * 60 + 59)), "4 min");
    assert_eq!(duration(Some(2 * 3600 + 5 * 60)), "2 h 05 min");
    assert_eq!(duration(Some(3 * 86_400 + 4 * 3600)), "3 d 4 h");
    assert_eq!(count(0), "0");
    assert_eq!(count(1_234_567), "1,234,567");
    assert_eq!(count(-1_000), "-1,000");
    assert_eq!(percent(1, 8), "12.5%");
    assert_eq!(percent(1, 0), "–");
    assert_eq!(
        period_label(
            parse_date("2026-09-08").unwrap(),
            parse_date("2026-12-06").unwrap()
        ),
        "8 Sep – 6 Dec 2026"
    );
    assert_eq!(
        period_label(
            parse_date("2025-12-30").unwrap(),
            parse_date("2026-01-02").unwrap()
        ),
        "30 Dec 2025 – 2 Jan 2026"
    );
    assert_eq!(
        period_label(
            parse_date("2026-09-08").unwrap(),
            parse_date("2026-09-14").unwrap()
        ),
        "8 – 14 Sep 2026"
    );
}

#[test]
fn changes_say_which_way_is_good() {
    assert_eq!(
        change(Some(110.0), Some(100.0), false),
        ("+10.0%".into(), Some(true))
    );
    assert_eq!(
        change(Some(90.0), Some(100.0), true),
        ("−10.0%".into(), Some(true))
    );
    assert_eq!(change(Some(90.0), Some(100.0), false).1, Some(false));
    assert_eq!(change(Some(5.0), Some(0.0), false), (String::new(), None));
    assert_eq!(change(Some(5.0), Some(5.0), false).0, "no change");
}

#[test]
fn csv_quotes_and_defuses_formulas() {
    let mut out = String::new();
    push_csv_row(
        &mut out,
        ["a,b", "say \"hi\"", "=SUM(A1)", "-12", "-x", "@me"].into_iter(),
    );
    assert_eq!(out, "\"a,b\",\"say \"\"hi\"\"\",'=SUM(A1),-12,'-x,'@me\r\n");
}
