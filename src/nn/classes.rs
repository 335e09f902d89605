//! Per-class counts of one evaluation pass, as scikit-learn's `classification_report`
//! reads them: how many rows of each class a split holds (its support), how many of those
//! the network classified correctly (the class's recall, which we call its accuracy), and
//! the sum of their per-row losses.
//!
//! A [`ClassTally`] is filled at logged epochs from the logits the evaluation pass already
//! computes, row by row in data order; it is made once per run, so measuring allocates
//! nothing. Not a confusion matrix: only what the per-class rows of `classes.csv` need.

use ndarray::{ArrayView2, s};

use super::float::Float;
use super::loss::{Loss, TargetsView};

/// One class's counts in one pass.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ClassCount {
    /// Rows whose label is this class.
    pub rows: usize,
    /// Of those, rows predicted as this class.
    pub correct: usize,
    /// Sum of those rows' losses (each as the loss computes it for a batch of one row).
    pub loss_sum: f64,
}

impl ClassCount {
    /// Fraction of the class's rows classified correctly; `None` for a class with no rows.
    pub fn accuracy(&self) -> Option<f64> {
        (self.rows > 0).then(|| self.correct as f64 / self.rows as f64)
    }

    /// Mean loss over the class's rows; `None` for a class with no rows.
    pub fn mean_loss(&self) -> Option<f64> {
        (self.rows > 0).then(|| self.loss_sum / self.rows as f64)
    }
}

/// The counts of every class of one split in one pass; class `i` is `classes[i]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ClassTally {
    /// One count per class, in class order.
    pub classes: Vec<ClassCount>,
}

impl ClassTally {
    /// Zero counts for a network with `outputs` outputs: that many classes, or two for a
    /// single output (a binary problem read at the output's midpoint).
    pub fn for_outputs(outputs: usize) -> Self {
        ClassTally {
            classes: vec![ClassCount::default(); outputs.max(2)],
        }
    }

    /// Sets every count back to zero (keeps the buffer).
    pub fn clear(&mut self) {
        self.classes.fill(ClassCount::default());
    }

    /// Adds a batch: `logits` (rows, outputs) and the rows' labels. A row is correct when
    /// its predicted class ([`Loss::predicted_class`], as the overall accuracy counts it)
    /// is its label; its loss is `loss` evaluated on that row alone.
    ///
    /// # Panics
    /// If a label is not a class of the tally (labels are checked when data are loaded).
    pub fn add<T: Float>(&mut self, loss: Loss, logits: ArrayView2<T>, labels: &[usize]) {
        for (r, &label) in labels.iter().enumerate() {
            let z = logits.slice(s![r..r + 1, ..]);
            let count = &mut self.classes[label];
            count.rows += 1;
            count.correct += usize::from(loss.predicted_class(z.row(0)) == label);
            count.loss_sum += loss.evaluate(z, TargetsView::Classes(&labels[r..r + 1]), None, 1.0);
        }
    }

    /// Rows counted over every class.
    pub fn rows(&self) -> usize {
        self.classes.iter().map(|c| c.rows).sum()
    }

    /// Correct rows over every class.
    pub fn correct(&self) -> usize {
        self.classes.iter().map(|c| c.correct).sum()
    }
}

/// One chunk of an evaluation pass, the body both engines' `evaluate_by_class` loops share:
/// the chunk's summed loss and (class labels only) its correct count, each row also added to
/// `classes` when given.
pub(crate) fn score_chunk<T: Float>(
    loss: Loss,
    logits: ArrayView2<T>,
    targets: TargetsView<T>,
    classes: Option<&mut ClassTally>,
) -> (f64, usize) {
    let loss_sum = loss.evaluate(logits, targets, None, 1.0);
    let mut correct = 0;
    if let TargetsView::Classes(labels) = targets {
        correct = loss.count_correct(logits, labels);
        if let Some(tally) = classes {
            tally.add(loss, logits, labels);
        }
    }
    (loss_sum, correct)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Three rows of three classes, the arg-max right for two of them: counts, accuracy
    /// and each class's loss by hand (ln(1 + 2e^-1) for a logit 1 above two zeros).
    #[test]
    fn counts_accuracy_and_loss_by_hand() {
        let logits = array![[1.0_f64, 0.0, 0.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]];
        let mut tally = ClassTally::for_outputs(3);
        tally.add(Loss::SoftmaxCrossEntropy, logits.view(), &[0, 1, 2]);
        let right = (1.0 + 2.0 * (-1.0f64).exp()).ln();
        let wrong = 1.0 + right;
        assert_eq!(tally.rows(), 3);
        assert_eq!(tally.correct(), 2);
        assert_eq!(tally.classes[0].accuracy(), Some(1.0));
        assert_eq!(tally.classes[2].accuracy(), Some(0.0));
        assert!((tally.classes[1].mean_loss().unwrap() - right).abs() < 1e-15);
        assert!((tally.classes[2].mean_loss().unwrap() - wrong).abs() < 1e-15);
        tally.clear();
        assert_eq!(tally.rows(), 0);
        assert_eq!(tally.classes[0].accuracy(), None);
    }

    /// One output: class 1 past the midpoint, as `count_correct` reads it.
    #[test]
    fn one_output_is_two_classes() {
        let logits = array![[2.0_f32], [-1.0], [0.5]];
        let mut tally = ClassTally::for_outputs(1);
        tally.add(Loss::BinaryCrossEntropy, logits.view(), &[1, 1, 0]);
        assert_eq!(tally.classes.len(), 2);
        assert_eq!((tally.classes[0].rows, tally.classes[0].correct), (1, 0));
        assert_eq!((tally.classes[1].rows, tally.classes[1].correct), (2, 1));
        assert_eq!(
            tally.correct(),
            Loss::BinaryCrossEntropy.count_correct(logits.view(), &[1, 1, 0])
        );
    }
}
