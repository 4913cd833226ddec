//! A few lines saying what was read: for debugging and the import's log.

use std::fmt::Write;

use super::span::{Kind, Spans, Status};

/// Spans, traces, the window they cover, spans per service and kind, errors,
/// and every note, e.g.
///
/// ```text
/// 7 spans in 2 traces over 0.0450 s from 1 file
/// services: gateway 3, orders 2, billing 1, emails 1
/// kinds: server 3, client 1, producer 1, consumer 2, internal 0; errors 1
/// note: parent not among the spans read (made a root): 1 (e.g. a.json: span … of trace …)
/// ```
pub fn summary(s: &Spans) -> String {
    let start = s.spans.iter().map(|x| x.start_ns).min().unwrap_or(0);
    let end = s.spans.iter().map(|x| x.end_ns).max().unwrap_or(0);
    let mut out = format!(
        "{} spans in {} traces over {:.4} s from {} file{}\n",
        s.spans.len(),
        s.trace_count(),
        end.saturating_sub(start) as f64 / 1e9,
        s.files.len(),
        if s.files.len() == 1 { "" } else { "s" }
    );
    let mut per_service = vec![0u64; s.names.len()];
    let mut kinds = [0u64; 5];
    for x in &s.spans {
        per_service[x.service as usize] += 1;
        kinds[x.kind as usize] += 1;
    }
    let services: Vec<String> = (0..s.names.len())
        .filter(|&n| per_service[n] > 0)
        .map(|n| format!("{} {}", s.names.get(n as u32), per_service[n]))
        .collect();
    let _ = writeln!(out, "services: {}", services.join(", "));
    let errors = s.spans.iter().filter(|x| x.status == Status::Error).count();
    let _ = writeln!(
        out,
        "kinds: server {}, client {}, producer {}, consumer {}, internal {}; errors {errors}",
        kinds[Kind::Server as usize],
        kinds[Kind::Client as usize],
        kinds[Kind::Producer as usize],
        kinds[Kind::Consumer as usize],
        kinds[Kind::Internal as usize],
    );
    for n in &s.notes {
        let _ = writeln!(out, "note: {}: {} (e.g. {})", n.what, n.count, n.example);
    }
    out
}
