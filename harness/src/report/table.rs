//! A table of text cells rendered as Markdown, LaTeX (booktabs) and CSV.

use std::fmt::Write as _;

/// A paper table: a caption, a header row, rows, and notes printed under it.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// File stem and LaTeX label, e.g. `kws_latency`.
    pub id: String,
    pub caption: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Footnotes: how a figure was obtained ("emulated, cycle model 1", "estimated").
    pub notes: Vec<String>,
}

impl Table {
    pub fn to_markdown(&self) -> String {
        let mut s = format!("**{}**\n\n", self.caption);
        let escape = |c: &str| c.replace('|', "\\|");
        let _ = writeln!(
            s,
            "| {} |",
            self.header
                .iter()
                .map(|h| escape(h))
                .collect::<Vec<_>>()
                .join(" | ")
        );
        let align: Vec<&str> = (0..self.header.len())
            .map(|i| if i == 0 { "---" } else { "---:" })
            .collect();
        let _ = writeln!(s, "| {} |", align.join(" | "));
        for row in &self.rows {
            let _ = writeln!(
                s,
                "| {} |",
                row.iter()
                    .map(|c| escape(c))
                    .collect::<Vec<_>>()
                    .join(" | ")
            );
        }
        for note in &self.notes {
            let _ = write!(s, "\n{note}");
        }
        if !self.notes.is_empty() {
            s.push('\n');
        }
        s
    }

    /// A booktabs table with a plain `tabular` (no siunitx), so it compiles anywhere.
    pub fn to_latex(&self) -> String {
        let mut s = String::new();
        let cols = format!("l{}", "r".repeat(self.header.len().saturating_sub(1)));
        let _ = writeln!(s, "% requires \\usepackage{{booktabs}}");
        let _ = writeln!(s, "\\begin{{table}}[htbp]");
        let _ = writeln!(s, "  \\centering");
        let _ = writeln!(s, "  \\caption{{{}}}", latex_escape(&self.caption));
        let _ = writeln!(s, "  \\label{{tab:{}}}", self.id);
        let _ = writeln!(s, "  \\begin{{tabular}}{{{cols}}}");
        let _ = writeln!(s, "    \\toprule");
        let _ = writeln!(s, "    {} \\\\", join_latex(&self.header));
        let _ = writeln!(s, "    \\midrule");
        for row in &self.rows {
            let _ = writeln!(s, "    {} \\\\", join_latex(row));
        }
        let _ = writeln!(s, "    \\bottomrule");
        let _ = writeln!(s, "  \\end{{tabular}}");
        for note in &self.notes {
            let _ = writeln!(s, "  \\par\\smallskip\\footnotesize {}", latex_escape(note));
        }
        let _ = writeln!(s, "\\end{{table}}");
        s
    }

    pub fn to_csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.header).expect("writing to memory");
        for row in &self.rows {
            w.write_record(row).expect("writing to memory");
        }
        w.into_inner().expect("writing to memory")
    }
}

fn join_latex(cells: &[String]) -> String {
    cells
        .iter()
        .map(|c| latex_escape(c))
        .collect::<Vec<_>>()
        .join(" & ")
}

/// Escapes the ten LaTeX special characters.
pub fn latex_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latex_special_characters_are_escaped() {
        assert_eq!(
            latex_escape(r"50% of a_b & {c} #1 $x ~ ^ \"),
            r"50\% of a\_b \& \{c\} \#1 \$x \textasciitilde{} \textasciicircum{} \textbackslash{}"
        );
    }
}
