//! The line scanner behind `fmt`: where a line's comment starts, its `- ` markers, its key, and
//! the canonical spacing of a one-line flow collection.
//!
//! Quotes are honoured the way YAML does: a quote opens a quoted scalar only where a token can
//! start, so `it's` stays plain text and `"a # b"` is not a comment. Anything the scanner is not
//! sure of is reported (so the file is refused) or left exactly as written.

/// One line's content split into code and inline comment.
pub(super) struct Scanned<'a> {
    /// The content without its comment and trailing spaces.
    pub code: &'a str,
    /// `# ...`, if any.
    pub comment: Option<&'a str>,
    /// Byte offset of the comment in the content.
    pub comment_at: usize,
}

/// The `- ` markers that open a line.
pub(super) struct Dashes<'a> {
    pub count: usize,
    /// Bytes the markers take as written (`-   ` is 4).
    pub width: usize,
    pub rest: &'a str,
}

impl<'a> Scanned<'a> {
    pub fn dashes(&self) -> Dashes<'a> {
        let code = self.code;
        let bytes = code.as_bytes();
        let mut pos = 0;
        let mut count = 0;
        while pos < bytes.len()
            && bytes[pos] == b'-'
            && (pos + 1 == bytes.len() || bytes[pos + 1] == b' ')
        {
            count += 1;
            pos += 1;
            while pos < bytes.len() && bytes[pos] == b' ' {
                pos += 1;
            }
        }
        Dashes {
            count,
            width: pos,
            rest: &code[pos..],
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Quote {
    Double,
    Single,
}

/// One character inside a quoted scalar: the quote still open after it (`None` once it closes).
/// A backslash escapes the next character in double quotes; `''` is a quote in single quotes.
fn close_quote(
    open: Quote,
    c: char,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
) -> Option<Quote> {
    match (open, c) {
        (Quote::Double, '\\') => {
            chars.next();
            Some(open)
        }
        (Quote::Double, '"') => None,
        (Quote::Single, '\'') if chars.peek().is_some_and(|(_, n)| *n == '\'') => {
            chars.next();
            Some(open)
        }
        (Quote::Single, '\'') => None,
        _ => Some(open),
    }
}

fn token_start(prev: Option<char>, depth: usize) -> bool {
    match prev {
        None => true,
        Some(c) if c.is_whitespace() => true,
        Some('[' | '{' | ',') => true,
        Some(':') => depth > 0,
        _ => false,
    }
}

/// Splits off the comment; fails on a quoted scalar or flow collection left open at the end of
/// the line (fmt only lays out what fits on one line).
pub(super) fn scan_line(content: &str) -> Result<Scanned<'_>, String> {
    let mut quote: Option<Quote> = None;
    let mut depth = 0usize;
    let mut prev: Option<char> = None;
    let mut chars = content.char_indices().peekable();
    let mut comment_at = None;
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(open) => quote = close_quote(open, c, &mut chars),
            None => match c {
                '#' if prev.is_none_or(char::is_whitespace) => {
                    comment_at = Some(i);
                    break;
                }
                '"' if token_start(prev, depth) => quote = Some(Quote::Double),
                '\'' if token_start(prev, depth) => quote = Some(Quote::Single),
                '[' | '{' if depth > 0 || token_start(prev, depth) => depth += 1,
                ']' | '}' if depth > 0 => depth -= 1,
                _ => {}
            },
        }
        prev = Some(c);
    }
    if quote.is_some() {
        return Err(
            "a quoted value continues on the next line; fmt only lays out quoted values that fit on one line"
                .to_string(),
        );
    }
    if depth > 0 {
        return Err(
            "a flow collection ([...] or {...}) continues on the next line; write it on one line"
                .to_string(),
        );
    }
    let end = comment_at.unwrap_or(content.len());
    Ok(Scanned {
        code: content[..end].trim_end(),
        comment: comment_at.map(|i| &content[i..]),
        comment_at: end,
    })
}

/// `key: value` → `(key, value)`; `key:` → `(key, "")`; a plain scalar → `None`.
pub(super) fn split_key(rest: &str) -> Option<(&str, &str)> {
    if rest.starts_with(['[', '{', '?', '&', '*', '!', '|', '>']) {
        return None;
    }
    let mut quote: Option<Quote> = None;
    let mut depth = 0usize;
    let mut prev: Option<char> = None;
    let mut chars = rest.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match quote {
            Some(open) => quote = close_quote(open, c, &mut chars),
            None => match c {
                '"' if token_start(prev, depth) => quote = Some(Quote::Double),
                '\'' if token_start(prev, depth) => quote = Some(Quote::Single),
                '[' | '{' if depth > 0 || token_start(prev, depth) => depth += 1,
                ']' | '}' if depth > 0 => depth -= 1,
                ':' if depth == 0 && chars.peek().is_none_or(|(_, n)| *n == ' ') => {
                    let key = rest[..i].trim_end();
                    if key.is_empty() {
                        return None;
                    }
                    return Some((key, rest[i + 1..].trim()));
                }
                _ => {}
            },
        }
        prev = Some(c);
    }
    None
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open(char),
    Close(char),
    Comma,
    Colon,
    Scalar(String),
}

fn tokenize(text: &str) -> Option<Vec<Token>> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            c if c.is_whitespace() => i += 1,
            '{' | '[' => {
                tokens.push(Token::Open(c));
                i += 1;
            }
            '}' | ']' => {
                tokens.push(Token::Close(c));
                i += 1;
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            ':' => {
                tokens.push(Token::Colon);
                i += 1;
            }
            '"' | '\'' => {
                let start = i;
                i += 1;
                loop {
                    let d = *chars.get(i)?;
                    if c == '"' && d == '\\' {
                        i += 2;
                        continue;
                    }
                    if d == c {
                        if c == '\'' && chars.get(i + 1) == Some(&'\'') {
                            i += 2;
                            continue;
                        }
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                tokens.push(Token::Scalar(chars[start..i].iter().collect()));
            }
            '?' | '&' | '*' | '!' | '|' | '>' | '#' | '@' | '`' => return None,
            _ => {
                let start = i;
                while i < chars.len() {
                    let d = chars[i];
                    if matches!(d, ',' | '[' | ']' | '{' | '}') {
                        break;
                    }
                    if d == ':'
                        && chars
                            .get(i + 1)
                            .is_none_or(|n| n.is_whitespace() || matches!(n, ',' | ']' | '}'))
                    {
                        break;
                    }
                    i += 1;
                }
                let scalar: String = chars[start..i].iter().collect();
                tokens.push(Token::Scalar(scalar.trim_end().to_string()));
            }
        }
    }
    Some(tokens)
}

/// `{a:b ,c: [ d,e ]}` → `{ a: b, c: [d, e] }` (Prettier's spacing), with scalars normalised for their keys; `None`
/// when the text is not one flow collection the formatter understands.
pub(super) fn normalise_flow(text: &str, key: Option<&str>) -> Option<String> {
    let tokens = tokenize(text)?;
    let mut pos = 0;
    let out = node(&tokens, &mut pos, key)?;
    (pos == tokens.len()).then_some(out)
}

fn node(tokens: &[Token], pos: &mut usize, key: Option<&str>) -> Option<String> {
    match tokens.get(*pos)? {
        Token::Scalar(s) => {
            *pos += 1;
            Some(super::normalise_scalar(s, key))
        }
        Token::Open('{') => {
            *pos += 1;
            let mut items = Vec::new();
            loop {
                match tokens.get(*pos)? {
                    Token::Close('}') => {
                        *pos += 1;
                        break;
                    }
                    Token::Scalar(k) => {
                        *pos += 1;
                        let bare = super::unquote(k);
                        let shown = if key == Some("sims") {
                            super::quote_digits(k)
                        } else {
                            k.clone()
                        };
                        if tokens.get(*pos) == Some(&Token::Colon) {
                            *pos += 1;
                            let value = match tokens.get(*pos)? {
                                Token::Comma | Token::Close('}') => String::new(),
                                _ => node(tokens, pos, super::value_key(&bare, key))?,
                            };
                            if value.is_empty() {
                                items.push(format!("{shown}:"));
                            } else {
                                items.push(format!("{shown}: {value}"));
                            }
                        } else {
                            items.push(shown);
                        }
                    }
                    _ => return None,
                }
                match tokens.get(*pos)? {
                    Token::Comma => *pos += 1,
                    Token::Close('}') => {}
                    _ => return None,
                }
            }
            if items.is_empty() {
                Some("{}".to_string())
            } else {
                Some(format!("{{ {} }}", items.join(", ")))
            }
        }
        Token::Open('[') => {
            *pos += 1;
            let mut items = Vec::new();
            loop {
                if tokens.get(*pos)? == &Token::Close(']') {
                    *pos += 1;
                    break;
                }
                items.push(node(tokens, pos, key)?);
                match tokens.get(*pos)? {
                    Token::Comma => *pos += 1,
                    Token::Close(']') => {}
                    _ => return None,
                }
            }
            Some(format!("[{}]", items.join(", ")))
        }
        _ => None,
    }
}
