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
        let l = &self.location;
        let mut out = String::new();
        let place = match (l.line, l.column) {
            (0, _) => l.source.clone(),
            (line, col) => format!("{}:{line}:{col}", l.source),
        };
        let _ = writeln!(out, "error: {place}: {}: {}", self.path, self.message);
        if let Some(source_line) = text.and_then(|t| t.lines().nth(l.line.wrapping_sub(1))) {
            let n = l.line.to_string();
            let pad = " ".repeat(n.len());
            let caret = " ".repeat(l.column.saturating_sub(1));
            let _ = writeln!(out, "{pad} |\n{n} | {source_line}\n{pad} | {caret}^");
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

/// Every problem of a scenario, rendered, with a closing count.
pub fn render_all(problems: &[Problem], text: Option<&str>) -> String {
    let mut out: String = problems.iter().map(|p| p.render(text) + "\n").collect();
    let n = problems.len();
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
