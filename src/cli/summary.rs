//! The summary table `initlab experiment` prints when it is done.

use crate::experiment::record::{ClassSummaryRow, DataSplit, SummaryRow};

/// The summary as a table for the terminal: grouped by activation, best final loss first,
/// the best start (and `[grid]` axis point, one column per axis after `init`) of each
/// activation marked with `*`.
pub fn format_summary(rows: &[SummaryRow], target: Option<f64>) -> String {
    let pm = |p: Option<(f64, f64)>, pct: bool| match p {
        Some((m, s)) if pct => format!("{:.1} ± {:.1} %", 100.0 * m, 100.0 * s),
        Some((m, s)) => format!("{m:.4} ± {s:.4}"),
        None => "—".into(),
    };
    let has_test = rows.iter().any(|r| r.final_test_accuracy_mean.is_some());
    let has_acc = rows.iter().any(|r| r.final_train_accuracy_mean.is_some());
    let axes: Vec<&str> = rows
        .first()
        .map(|r| r.axes.iter().map(|(c, _)| c.as_str()).collect())
        .unwrap_or_default();
    let mut header = vec!["activation", "", "init"];
    header.extend(&axes);
    header.extend(["runs", "diverged", "final train loss"]);
    if has_acc {
        header.push("train accuracy");
    }
    if has_test {
        header.push("test accuracy");
    }
    let target_col = target.map(|t| format!("epochs to loss ≤ {t}"));
    if let Some(t) = &target_col {
        header.push(t);
    }
    let mut table: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    let mut activations: Vec<&str> = Vec::new();
    for r in rows {
        if !activations.contains(&r.activation.as_str()) {
            activations.push(&r.activation);
        }
    }
    for act in activations {
        let mut group: Vec<&SummaryRow> = rows.iter().filter(|r| r.activation == act).collect();
        let key = |r: &SummaryRow| r.final_train_loss_mean.unwrap_or(f64::INFINITY);
        group.sort_by(|a, b| key(a).total_cmp(&key(b)));
        for (i, r) in group.iter().enumerate() {
            let mut line = vec![
                if i == 0 {
                    act.to_string()
                } else {
                    String::new()
                },
                if i == 0 && r.final_train_loss_mean.is_some() {
                    "*".into()
                } else {
                    String::new()
                },
                r.init.clone(),
            ];
            line.extend(r.axes.iter().map(|(_, v)| v.clone()));
            line.extend([
                r.runs.to_string(),
                r.diverged.to_string(),
                pm(r.train_loss(), false),
            ]);
            if has_acc {
                line.push(pm(r.train_accuracy(), true));
            }
            if has_test {
                line.push(pm(r.test_accuracy(), true));
            }
            if target_col.is_some() {
                line.push(
                    r.epochs_to_target_median
                        .map_or("never".into(), |e| format!("{e}")),
                );
            }
            table.push(line);
        }
    }
    out_table(&table)
}

/// With a `[grid]` axis over `training.learning_rate` (two values or more): the best
/// learning rate (lowest mean final train loss over seeds; diverged runs never win) of each
/// start at each value of the other axes, e.g. per parametrization and width for
/// `lr-transfer`, with its log₂. `None` without such an axis.
pub fn format_best_learning_rates(rows: &[SummaryRow]) -> Option<String> {
    const LR: &str = "learning_rate";
    let first = rows.first()?;
    let mut rates: Vec<&str> = rows
        .iter()
        .filter_map(|r| crate::experiment::record::axis_value(&r.axes, LR))
        .collect();
    rates.sort_unstable();
    rates.dedup();
    if rates.len() < 2 {
        return None;
    }
    let others: Vec<&str> = first
        .axes
        .iter()
        .map(|(c, _)| c.as_str())
        .filter(|c| *c != LR)
        .collect();
    let mut header = vec!["activation", "init"];
    header.extend(&others);
    header.extend(["best learning_rate", "log2", "final train loss"]);
    let mut table: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    // Groups in the rows' own order (the axes' order of the grid).
    let group_of = |r: &SummaryRow| {
        let mut g = vec![r.activation.clone(), r.init.clone()];
        g.extend(
            r.axes
                .iter()
                .filter(|(c, _)| c != LR)
                .map(|(_, v)| v.clone()),
        );
        g
    };
    let mut groups: Vec<Vec<String>> = Vec::new();
    for r in rows {
        let g = group_of(r);
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    for g in groups {
        let best = rows
            .iter()
            .filter(|r| group_of(r) == g)
            .filter_map(|r| {
                let lr: f64 = crate::experiment::record::axis_value(&r.axes, LR)?
                    .parse()
                    .ok()?;
                Some((lr, r.final_train_loss_mean?))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1));
        let mut line = g.clone();
        match best {
            Some((lr, loss)) => line.extend([
                format!("{lr}"),
                format!("{:+.2}", lr.log2()),
                format!("{loss:.4}"),
            ]),
            None => line.extend([
                "— (every run diverged)".into(),
                String::new(),
                String::new(),
            ]),
        }
        table.push(line);
    }
    Some(format!(
        "\nbest learning rate of each start and setting (lowest mean final train loss):\n{}",
        out_table(&table)
    ))
}

/// The rows of a table, columns padded to their widest cell, a rule under the header.
fn out_table(table: &[Vec<String>]) -> String {
    use std::fmt::Write as _;
    let widths: Vec<usize> = (0..table[0].len())
        .map(|c| {
            table
                .iter()
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, row) in table.iter().enumerate() {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        let _ = writeln!(out, "{}", cells.join("  ").trim_end());
        if i == 0 {
            let total: usize = widths.iter().sum::<usize>() + 2 * (widths.len() - 1);
            let _ = writeln!(out, "{}", "─".repeat(total));
        }
    }
    out
}

/// The per-class table printed under the summary for data with named classes: for each
/// start × activation (in the summary's order), the final accuracy of every class on the
/// test set (the training set when there is no test set), mean ± std over the seeds that
/// did not diverge, as scikit-learn's `classification_report` gives a class's recall.
/// Empty when there are no per-class rows.
pub fn format_class_summary(rows: &[ClassSummaryRow]) -> String {
    let split = if rows.iter().any(|r| r.split == DataSplit::Test) {
        DataSplit::Test
    } else {
        DataSplit::Train
    };
    let rows: Vec<&ClassSummaryRow> = rows.iter().filter(|r| r.split == split).collect();
    // A start at a `[grid]` axis point is shown as `he-normal [norm=batchnorm]`.
    let who = |r: &ClassSummaryRow| crate::experiment::record::point_label(&r.init, &r.axes);
    let mut classes: Vec<&str> = Vec::new();
    let mut groups: Vec<(&str, String)> = Vec::new();
    for r in &rows {
        if !classes.contains(&r.class.as_str()) {
            classes.push(&r.class);
        }
        let group = (r.activation.as_str(), who(r));
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    let mut header = vec!["activation".to_string(), "init".to_string()];
    header.extend(classes.iter().map(|c| c.to_string()));
    let mut table = vec![header];
    // Grouped by activation, as the summary is.
    let mut activations: Vec<&str> = Vec::new();
    for (a, _) in &groups {
        if !activations.contains(a) {
            activations.push(a);
        }
    }
    for act in activations {
        for (i, (_, init)) in groups.iter().filter(|(a, _)| *a == act).enumerate() {
            let mut line = vec![
                if i == 0 {
                    act.to_string()
                } else {
                    String::new()
                },
                init.to_string(),
            ];
            for class in &classes {
                let cell = rows
                    .iter()
                    .find(|r| r.activation == act && who(r) == *init && r.class == *class)
                    .and_then(|r| Some((r.accuracy_mean?, r.accuracy_std?)))
                    .map_or("—".to_string(), |(m, s)| {
                        format!("{:.1} ± {:.1} %", 100.0 * m, 100.0 * s)
                    });
                line.push(cell);
            }
            table.push(line);
        }
    }
    format!(
        "final {} accuracy per class (classes.csv):\n{}",
        split.name(),
        out_table(&table)
    )
}

/// The line under the summary for data with named classes: `classes: 0 = setosa, 1 =
/// versicolor, 2 = virginica` (the order of the network's outputs).
pub fn format_classes(names: &[String]) -> String {
    // The same line as the report's header.
    format!("{}\n", crate::report::html::classes_line(names))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(init: &str, activation: &str, loss: Option<f64>) -> SummaryRow {
        SummaryRow {
            experiment: "x".into(),
            init: init.into(),
            activation: activation.into(),
            axes: Vec::new(),
            runs: 2,
            diverged: usize::from(loss.is_none()) * 2,
            final_train_loss_mean: loss,
            final_train_loss_std: loss.map(|_| 0.01),
            final_train_accuracy_mean: None,
            final_train_accuracy_std: None,
            final_test_loss_mean: None,
            final_test_loss_std: None,
            final_test_accuracy_mean: None,
            final_test_accuracy_std: None,
            epochs_to_target_median: loss.map(|_| 40.0),
            partial: false,
        }
    }

    #[test]
    fn best_start_first_per_activation_and_marked() {
        let rows = [
            row("zeros", "tanh", None),
            row("he-normal", "tanh", Some(0.2)),
            row("xavier-normal", "tanh", Some(0.1)),
            row("he-normal", "relu", Some(0.3)),
        ];
        let text = format_summary(&rows, Some(0.5));
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("activation") && lines[0].contains("epochs to loss ≤ 0.5"));
        assert!(
            lines[2].starts_with("tanh") && lines[2].contains("*  xavier-normal"),
            "{text}"
        );
        assert!(
            lines[2].contains("0.1000 ± 0.0100") && lines[2].ends_with("40"),
            "{text}"
        );
        assert!(
            lines[3].contains("he-normal") && !lines[3].contains('*'),
            "{text}"
        );
        assert!(
            lines[4].contains("zeros") && lines[4].contains('—') && lines[4].ends_with("never")
        );
        assert!(
            lines[5].starts_with("relu") && lines[5].contains("*  he-normal"),
            "{text}"
        );
    }
}
