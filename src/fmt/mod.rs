//! `simfleet fmt`: the canonical layout of a spec file, made by editing its text.
//!
//! The YAML library cannot keep comments, so formatting never goes through it: each line is
//! scanned (quote- and comment-aware), re-indented to two spaces per level and re-spaced
//! (`key: value`, `- item`, `{ a: b, c: [d, e] }` as Prettier writes them), ICCIDs and IMEIs are double-quoted, a size's
//! stray space (`500 MB`) is dropped, and trailing whitespace, blank-line runs and the final
//! newline are normalised. Comments, key order and every other value stay as written. A line
//! this cannot lay out safely (a multi-line plain or quoted scalar, a flow collection over
//! several lines, tabs) refuses the whole file with its line number. As a last guard the result
//! is parsed again and must mean the same YAML and carry the same comments, or the file is
//! refused unchanged.

mod error;
mod scan;
mod verify;

pub use error::FmtError;
use scan::{scan_line, split_key, Scanned};

/// Why a file was left as it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct Refusal {
    /// 1-based; 0 when the problem concerns the whole file.
    pub line: usize,
    pub message: String,
}

impl Refusal {
    fn new(line: usize, message: impl Into<String>) -> Refusal {
        Refusal {
            line,
            message: message.into(),
        }
    }
}

/// Keys whose values are strings of digits a YAML number would corrupt (`iccids`: a waiver's).
const DIGIT_KEYS: [&str; 7] = [
    "iccid",
    "iccids",
    "imei",
    "imsi",
    "msisdn",
    "prefix",
    "imei_lock",
];

/// Keys whose values are sizes (`500 MB` loses its space).
const SIZE_KEYS: [&str; 3] = [
    "monthly_data_limit",
    "monthly_data_volume",
    "previous_month_data_volume",
];

/// A check's operators: their values are the field's (`monthly_data_limit: { at_most: 1GB }`,
/// `imei: { not: "3569..." }`), so they are normalised for the key above them.
const OPERATOR_KEYS: [&str; 4] = ["at_most", "at_least", "not", "none_of"];

/// The key a value under `key` is normalised for: an operator's parent, else `key` itself.
fn value_key<'k>(key: &'k str, parent: Option<&'k str>) -> Option<&'k str> {
    if OPERATOR_KEYS.contains(&key) {
        parent
    } else {
        Some(key)
    }
}

/// One indentation level: the column it had and the column it gets, and the key that opened it.
#[derive(Debug, Clone)]
struct Level {
    orig: usize,
    new: usize,
    key: Option<String>,
    /// A block sequence written at its key's own column (`key:\n- item`).
    indentless: bool,
}

/// A `|` or `>` scalar being copied: its lines keep their relative indentation.
struct BlockScalar {
    /// The column of the key that opened it, as written.
    key_col: usize,
    /// How far that key moved.
    delta: isize,
    /// Where the content starts after formatting: two past the key.
    content_new: usize,
    /// The column of its first line as written.
    base: Option<usize>,
    /// An explicit indentation indicator (`|2`) fixes the columns: only shift them.
    explicit: bool,
}

/// Lines waiting for the next content line to decide their indentation.
enum Pending {
    Blank,
    Comment { orig: usize, text: String },
}

/// Formats one spec file's text.
pub fn format_text(text: &str) -> Result<String, Refusal> {
    let formatted = layout(text)?;
    verify::same_meaning(text, &formatted)?;
    Ok(formatted)
}

fn layout(text: &str) -> Result<String, Refusal> {
    let mut layout = Layout::new();
    for (index, raw_line) in text.lines().enumerate() {
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        layout.line(index + 1, line)?;
    }
    Ok(layout.finish())
}

/// The layout of one file, line by line: the lines written so far and what the next line needs
/// to know to be placed.
struct Layout {
    out: Vec<String>,
    stack: Vec<Level>,
    seen_content: bool,
    /// The last content line opened a block: `key:` or a bare `-`, with the key if any.
    opener: Option<Option<String>>,
    pending: Vec<Pending>,
    /// Inside a block scalar.
    block: Option<BlockScalar>,
}

/// A content line's shape, once its level is known.
struct Placed<'l> {
    /// Its column as written and after formatting.
    indent: usize,
    new_indent: usize,
    /// The key of the level it belongs to.
    context: Option<String>,
    dashes: scan::Dashes<'l>,
}

impl Layout {
    fn new() -> Layout {
        Layout {
            out: Vec::new(),
            stack: vec![Level {
                orig: 0,
                new: 0,
                key: None,
                indentless: false,
            }],
            seen_content: false,
            opener: None,
            pending: Vec::new(),
            block: None,
        }
    }

    /// Lays out line `number` (1-based), without its line break.
    fn line(&mut self, number: usize, line: &str) -> Result<(), Refusal> {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let content = &line[indent..];
        if self.block_scalar_line(indent, content) {
            return Ok(());
        }
        if content.trim().is_empty() {
            self.pending.push(Pending::Blank);
            return Ok(());
        }
        if content.starts_with('\t') {
            return Err(Refusal::new(
                number,
                "indented with a tab; YAML indents with spaces",
            ));
        }
        if content.starts_with('#') {
            self.pending.push(Pending::Comment {
                orig: indent,
                text: content.trim_end().to_string(),
            });
            return Ok(());
        }
        if indent == 0
            && (content.starts_with("---")
                || content.starts_with("...")
                || content.starts_with('%'))
        {
            self.document_marker(content);
            return Ok(());
        }
        let scanned = scan_line(content).map_err(|m| Refusal::new(number, m))?;
        let placed = self.place(number, indent, scanned.dashes())?;
        let rendered = self.render(&placed);
        push_with_comment(&mut self.out, rendered, &scanned, line);
        Ok(())
    }

    /// Copies a line of an open `|` or `>` scalar with its relative indentation; true when the
    /// line belonged to it (a line at or left of the key's column closes it).
    fn block_scalar_line(&mut self, indent: usize, content: &str) -> bool {
        let Some(b) = &mut self.block else {
            return false;
        };
        if content.trim().is_empty() {
            self.out.push(String::new());
            return true;
        }
        if indent > b.key_col {
            let base = *b.base.get_or_insert(indent);
            let column = if b.explicit || indent < base {
                (indent as isize + b.delta).max(0) as usize
            } else {
                b.content_new + (indent - base)
            };
            self.out.push(format!("{}{}", " ".repeat(column), content));
            return true;
        }
        self.block = None;
        false
    }

    /// `---`, `...` or a directive: copied as written; the next document starts afresh.
    fn document_marker(&mut self, content: &str) {
        flush(
            &mut self.out,
            &mut self.pending,
            &self.stack,
            None,
            self.seen_content,
        );
        self.out.push(content.trim_end().to_string());
        self.stack.truncate(1);
        self.stack[0].orig = 0;
        self.seen_content = false;
        self.opener = None;
    }

    /// Finds the level a content line belongs to (opening or closing levels), and writes the
    /// comments and blank lines waiting before it.
    fn place<'l>(
        &mut self,
        number: usize,
        indent: usize,
        dashes: scan::Dashes<'l>,
    ) -> Result<Placed<'l>, Refusal> {
        let stack = &mut self.stack;
        if !self.seen_content {
            stack[0].orig = indent;
        }
        match self.opener.take() {
            Some(key) if indent > top(stack).orig => {
                let new = top(stack).new + 2;
                stack.push(Level {
                    orig: indent,
                    new,
                    key,
                    indentless: false,
                });
            }
            Some(key) if indent == top(stack).orig && dashes.count > 0 => {
                let new = top(stack).new + 2;
                stack.push(Level {
                    orig: indent,
                    new,
                    key,
                    indentless: true,
                });
            }
            _ => {
                while stack.len() > 1
                    && (top(stack).orig > indent
                        || (top(stack).orig == indent
                            && top(stack).indentless
                            && dashes.count == 0))
                {
                    stack.pop();
                }
                if top(stack).orig != indent {
                    return Err(Refusal::new(
                        number,
                        "this line continues the value above (a multi-line scalar) or is indented inconsistently; put the value on one line, quoted if need be",
                    ));
                }
            }
        }
        self.seen_content = true;
        let new_indent = top(&self.stack).new;
        let context = top(&self.stack).key.clone();
        flush(
            &mut self.out,
            &mut self.pending,
            &self.stack,
            Some((indent, new_indent)),
            true,
        );
        Ok(Placed {
            indent,
            new_indent,
            context,
            dashes,
        })
    }

    /// The line at its new indentation: its `- ` markers, then its key and value re-spaced.
    fn render(&mut self, placed: &Placed<'_>) -> String {
        let dashes = &placed.dashes;
        let mut rendered = " ".repeat(placed.new_indent);
        rendered.push_str(&"- ".repeat(dashes.count));
        let rest = dashes.rest;
        let item_new = placed.new_indent + 2 * dashes.count;
        if dashes.count > 0 {
            if rest.is_empty() {
                // A bare `-`: the item's content follows on the next lines.
                rendered.truncate(rendered.trim_end().len());
                self.opener = Some(placed.context.clone());
            } else {
                self.stack.push(Level {
                    orig: placed.indent + dashes.width,
                    new: item_new,
                    key: None,
                    indentless: false,
                });
            }
        }
        match split_key(rest) {
            Some((key, value)) => self.render_key_value(&mut rendered, placed, key, value),
            None if !rest.is_empty() => {
                let value_context = if dashes.count > 0 {
                    placed.context.as_deref()
                } else {
                    None
                };
                rendered.push_str(&normalise_value(rest, value_context));
            }
            None => {}
        }
        rendered
    }

    /// `key: value` (or `key:` opening a block, or `key: |` opening a block scalar).
    fn render_key_value(
        &mut self,
        rendered: &mut String,
        placed: &Placed<'_>,
        key: &str,
        value: &str,
    ) {
        let dashes = &placed.dashes;
        let item_new = placed.new_indent + 2 * dashes.count;
        let key_text = if placed.context.as_deref() == Some("sims") && dashes.count == 0 {
            quote_digits(key)
        } else {
            key.to_string()
        };
        let bare_key = unquote(key);
        rendered.push_str(&key_text);
        rendered.push(':');
        if value.is_empty() {
            self.opener = Some(Some(bare_key));
        } else if is_block_scalar_indicator(value) {
            rendered.push(' ');
            rendered.push_str(value);
            let key_col = placed.indent + if dashes.count > 0 { dashes.width } else { 0 };
            self.block = Some(BlockScalar {
                key_col,
                delta: item_new as isize - key_col as isize,
                content_new: item_new + 2,
                base: None,
                explicit: value.bytes().any(|b| b.is_ascii_digit()),
            });
        } else {
            rendered.push(' ');
            let key = value_key(&bare_key, placed.context.as_deref());
            rendered.push_str(&normalise_value(value, key));
        }
    }

    /// The file's text: waiting comments written, trailing blank lines dropped, one final newline.
    fn finish(mut self) -> String {
        flush(
            &mut self.out,
            &mut self.pending,
            &self.stack,
            None,
            self.seen_content,
        );
        while self.out.last().is_some_and(|l| l.is_empty()) {
            self.out.pop();
        }
        if self.out.is_empty() {
            return String::new();
        }
        let mut text = self.out.join("\n");
        text.push('\n');
        text
    }
}

fn top(stack: &[Level]) -> &Level {
    &stack[stack.len() - 1]
}

/// Emits waiting comments and blank lines: a comment at the next line's column takes its new
/// column; one at the column of an open level takes that level's; others keep theirs. Runs of
/// blank lines become one, and none lead the file.
fn flush(
    out: &mut Vec<String>,
    pending: &mut Vec<Pending>,
    stack: &[Level],
    next: Option<(usize, usize)>,
    seen_content: bool,
) {
    for item in pending.drain(..) {
        match item {
            Pending::Blank => {
                if !out.is_empty() && out.last().is_some_and(|l| !l.is_empty()) {
                    out.push(String::new());
                }
            }
            Pending::Comment { orig, text } => {
                let column = match next {
                    Some((orig_next, new_next)) if orig == orig_next => new_next,
                    _ if orig == 0 => 0,
                    _ => match stack.iter().rev().find(|l| l.orig == orig) {
                        Some(level) if seen_content => level.new,
                        _ => next.map_or(orig, |(_, new_next)| new_next),
                    },
                };
                out.push(format!("{}{}", " ".repeat(column), text));
            }
        }
    }
}

/// Appends the line, with its inline comment kept at its column when there is room.
/// (`scanned.code` is trimmed, so the gap as written is the distance from its end.)
fn push_with_comment(out: &mut Vec<String>, mut rendered: String, scanned: &Scanned, line: &str) {
    if let Some(comment) = scanned.comment {
        let indent = line.len() - line.trim_start_matches(' ').len();
        let column = indent + scanned.comment_at;
        let written_gap = scanned.comment_at - scanned.code.len();
        // Keep the comment's column (aligned comments stay aligned), but never squeeze it
        // closer than it was written, up to two spaces.
        let gap = column
            .saturating_sub(rendered.len())
            .max(written_gap.min(2))
            .max(1);
        rendered.push_str(&" ".repeat(gap));
        rendered.push_str(comment.trim_end());
    }
    out.push(rendered);
}

fn is_block_scalar_indicator(value: &str) -> bool {
    let mut chars = value.chars();
    matches!(chars.next(), Some('|' | '>'))
        && chars.all(|c| c == '-' || c == '+' || c.is_ascii_digit())
}

/// A key or scalar without its quotes (for deciding what it is, never for output).
fn unquote(text: &str) -> String {
    let t = text.trim();
    if t.len() >= 2
        && ((t.starts_with('"') && t.ends_with('"')) || (t.starts_with('\'') && t.ends_with('\'')))
    {
        t[1..t.len() - 1].to_string()
    } else {
        t.to_string()
    }
}

/// `8949...` or `'8949...'` → `"8949..."`; anything else unchanged.
fn quote_digits(text: &str) -> String {
    let t = text.trim();
    let inner = if t.len() >= 2 && t.starts_with('\'') && t.ends_with('\'') {
        &t[1..t.len() - 1]
    } else {
        t
    };
    if !inner.is_empty() && inner.bytes().all(|b| b.is_ascii_digit()) {
        format!("\"{inner}\"")
    } else {
        t.to_string()
    }
}

/// A value in block or flow context, normalised for the key it belongs to.
fn normalise_value(value: &str, key: Option<&str>) -> String {
    let value = value.trim();
    if value.starts_with('{') || value.starts_with('[') {
        return scan::normalise_flow(value, key).unwrap_or_else(|| value.to_string());
    }
    normalise_scalar(value, key)
}

/// Quotes digit strings under ICCID/IMEI-like keys and drops the space in `500 MB`.
fn normalise_scalar(value: &str, key: Option<&str>) -> String {
    match key {
        Some(k) if DIGIT_KEYS.contains(&k) => quote_digits(value),
        Some(k) if SIZE_KEYS.contains(&k) => {
            let compact: String = value.split(' ').filter(|p| !p.is_empty()).collect();
            let is_size = value.contains(' ')
                && value.starts_with(|c: char| c.is_ascii_digit())
                && crate::spec::values::parse_size(&compact).is_ok()
                && !value.contains('#');
            if is_size {
                compact
            } else {
                value.to_string()
            }
        }
        _ => value.to_string(),
    }
}

#[cfg(test)]
mod tests;
