//! A strict reader of the Prometheus text format, for tests of what `/metrics` serves.

/// One sample line: metric name, labels in order, value.
pub(crate) type ParsedSample = (String, Vec<(String, String)>, f64);

/// A strict reader of the text format for tests: returns (name, labels, value) per sample and
/// fails unless every sample's metric has HELP and TYPE lines before it.
pub(crate) fn parse_exposition(text: &str) -> Result<Vec<ParsedSample>, String> {
    use std::collections::BTreeSet;
    let (mut help, mut typed) = (BTreeSet::new(), BTreeSet::new());
    let mut out = Vec::new();
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.chars().enumerate().all(|(i, c)| {
                c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit())
            })
    };
    for (no, l) in text.lines().enumerate() {
        let err = |m: &str| format!("line {}: {m}: {l:?}", no + 1);
        if let Some(rest) = l.strip_prefix("# HELP ") {
            let name = rest.split(' ').next().unwrap_or("");
            if !valid_name(name) || !help.insert(name.to_owned()) {
                return Err(err("bad or repeated HELP"));
            }
            continue;
        }
        if let Some(rest) = l.strip_prefix("# TYPE ") {
            let mut it = rest.split(' ');
            let (name, kind) = (it.next().unwrap_or(""), it.next().unwrap_or(""));
            if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind)
                || !typed.insert(name.to_owned())
            {
                return Err(err("bad or repeated TYPE"));
            }
            continue;
        }
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let name_end = l.find(['{', ' ']).ok_or_else(|| err("no value"))?;
        let name = &l[..name_end];
        if !valid_name(name) {
            return Err(err("bad name"));
        }
        if !help.contains(name) || !typed.contains(name) {
            return Err(err("sample before its HELP and TYPE"));
        }
        let mut rest = &l[name_end..];
        let mut labels = Vec::new();
        if let Some(body) = rest.strip_prefix('{') {
            let mut chars = body.char_indices().peekable();
            loop {
                let key: String = chars
                    .by_ref()
                    .take_while(|&(_, c)| c != '=')
                    .map(|(_, c)| c)
                    .collect();
                if !valid_name(&key) || chars.next().map(|(_, c)| c) != Some('"') {
                    return Err(err("bad label"));
                }
                let mut value = String::new();
                loop {
                    match chars.next().map(|(_, c)| c) {
                        Some('\\') => match chars.next().map(|(_, c)| c) {
                            Some('n') => value.push('\n'),
                            Some(c @ ('\\' | '"')) => value.push(c),
                            _ => return Err(err("bad escape")),
                        },
                        Some('"') => break,
                        Some(c) => value.push(c),
                        None => return Err(err("unterminated label value")),
                    }
                }
                labels.push((key, value));
                match chars.next() {
                    Some((_, ',')) => continue,
                    Some((i, '}')) => {
                        rest = &body[i + 1..];
                        break;
                    }
                    _ => return Err(err("bad label separator")),
                }
            }
        }
        let value = rest
            .strip_prefix(' ')
            .ok_or_else(|| err("no space before value"))?;
        let v: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().map_err(|_| err("bad value"))?,
        };
        out.push((name.to_owned(), labels, v));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checker_accepts_good_text_and_rejects_bad() {
        let good = "# HELP m A metric.\n# TYPE m gauge\nm{a=\"x\\\"y\\\\z\\n\",b=\"\"} 1.5\nm 2\n";
        let s = parse_exposition(good).unwrap();
        assert_eq!(
            s[0].1,
            [
                ("a".to_owned(), "x\"y\\z\n".to_owned()),
                ("b".to_owned(), String::new())
            ]
        );
        assert_eq!((s[0].2, s[1].2), (1.5, 2.0));
        for bad in [
            "m 1\n",                                  // no HELP or TYPE
            "# HELP m h\nm 1\n",                      // no TYPE
            "# HELP m h\n# TYPE m gauge\nm one\n",    // value
            "# HELP m h\n# TYPE m gauge\nm{a=x} 1\n", // unquoted label
            "# HELP m h\n# TYPE m gauge\nm{a=\"x} 1\n",
            "# HELP m h\n# TYPE m wrong\nm 1\n",
            "# HELP 1m h\n# TYPE 1m gauge\n1m 1\n",
        ] {
            assert!(parse_exposition(bad).is_err(), "{bad:?}");
        }
    }
}
