//! Problems found in a scenario, and how they are shown to the user.
//!
//! A [`Problem`] names the file, line and column, the YAML path, what is wrong,
//! what was expected and, for a misspelt name, the closest valid one. Rendering
//! shows the offending source line with a caret, like rustc.

use std::fmt::Write as _;

use super::node::YamlPath;

/// Where something was written: a file (or `--set`), a line and a column (1-based; 0 = unknown).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Location {
    pub source: String,
    pub line: usize,
    pub column: usize,
}

impl Location {
    pub fn file(source: &str) -> Location {
        Location {
            source: source.to_string(),
            line: 0,
            column: 0,
        }
    }
}

/// One thing wrong with a scenario.
#[derive(Clone, Debug)]
pub struct Problem {
    pub location: Location,
    pub path: YamlPath,
    pub message: String,
    pub expected: Option<String>,
    pub help: Option<String>,
}

impl Problem {
    pub fn new(path: YamlPath, message: impl Into<String>) -> Problem {
        Problem {
            location: Location::default(),
            path,
            message: message.into(),
            expected: None,
            help: None,
        }
    }
    pub fn at(mut self, location: Location) -> Problem {
        self.location = location;
        self
    }
    pub fn expected(mut self, e: impl Into<String>) -> Problem {
        self.expected = Some(e.into());
        self
    }
    pub fn help(mut self, h: impl Into<String>) -> Problem {
        self.help = Some(h.into());
        self
    }
    /// Adds "did you mean 'x'?" when a candidate is close enough to `wrong`.
    pub fn suggest<'a>(
        self,
        wrong: &str,
        candidates: impl IntoIterator<Item = &'a str>,
    ) -> Problem {
        match closest(wrong, candidates) {
            Some(best) => self.help(format!("did you mean '{best}'?")),
            None => self,
        }
    }

    /// The problem as the user sees it, with the source line when `text` is given.
    pub fn render(&self, text: Option<&str>) -> String {
        self.render_as("error", text)
    }

    /// [`Problem::render`] as a warning: something that loads, but is likely
    /// not what was meant.
    pub fn render_warning(&self, text: Option<&str>) -> String {
        self.render_as("warning", text)
    }

    fn render_as(&self, severity: &str, text: Option<&str>) -> String {
        let l = &self.location;
        let mut out = String::new();
        let mut place = match (l.line, l.column) {
            (0, _) => l.source.clone(),
            (line, col) => format!("{}:{line}:{col}", l.source),
        };
        if !self.path.0.is_empty() || place.is_empty() {
            place = [place, self.path.to_string()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(": ");
        }
        let _ = writeln!(out, "{severity}: {place}: {}", self.message);
        if let Some(source_line) = text.and_then(|t| t.lines().nth(l.line.wrapping_sub(1))) {
            let n = l.line.to_string();
            let pad = " ".repeat(n.len());
            let (shown, col) = excerpt(source_line, l.column.saturating_sub(1));
            let caret = " ".repeat(col);
            let _ = writeln!(out, "{pad} |\n{n} | {shown}\n{pad} | {caret}^");
        }
        if let Some(e) = &self.expected {
            let _ = writeln!(out, "  = expected: {e}");
        }
        if let Some(h) = &self.help {
            let _ = writeln!(out, "  = help: {h}");
        }
        out
    }
}

/// The most problems shown at once; the rest are counted.
pub const SHOWN_PROBLEMS: usize = 30;

/// At most this many characters of a source line are quoted under a problem.
const SHOWN_LINE: usize = 120;

/// A long source line cut to about [`SHOWN_LINE`] characters around `col`
/// (0-based, in characters), and the caret's column in the cut line.
fn excerpt(line: &str, col: usize) -> (String, usize) {
    let n = line.chars().count();
    if n <= SHOWN_LINE {
        return (line.to_string(), col);
    }
    let start = col.saturating_sub(SHOWN_LINE / 2).min(n - SHOWN_LINE);
    let body: String = line.chars().skip(start).take(SHOWN_LINE).collect();
    let head = if start > 0 { "…" } else { "" };
    let tail = if start + SHOWN_LINE < n { "…" } else { "" };
    (
        format!("{head}{body}{tail}"),
        col - start + head.chars().count(),
    )
}

/// Every problem of a scenario, rendered (the first few dozen, then how many
/// more), with a closing count.
pub fn render_all(problems: &[Problem], text: Option<&str>) -> String {
    let mut out: String = problems
        .iter()
        .take(SHOWN_PROBLEMS)
        .map(|p| p.render(text) + "\n")
        .collect();
    let n = problems.len();
    if n > SHOWN_PROBLEMS {
        let _ = writeln!(out, "… and {} more.\n", n - SHOWN_PROBLEMS);
    }
    let _ = writeln!(
        out,
        "{n} problem{} found; nothing was simulated.",
        if n == 1 { "" } else { "s" }
    );
    out
}

/// The candidate with the smallest edit distance, if it is close enough to be a typo.
pub fn closest<'a>(wrong: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (wrong.chars().count() / 3).max(1) + 1;
    candidates
        .into_iter()
        .map(|c| (levenshtein(&wrong.to_lowercase(), &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, c)| (*d, *c))
        .map(|(_, c)| c)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let names = ["inventory", "orders", "payments"];
        assert_eq!(closest("inventry", names), Some("inventory"));
        assert_eq!(closest("order", names), Some("orders"));
        assert_eq!(closest("zzz", names), None);
        assert_eq!(levenshtein("kitten", "sitting"), 3);
    }
}
