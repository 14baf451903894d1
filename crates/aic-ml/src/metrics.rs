//! Standard metrics of the built-in tasks: accuracy, macro-F1 and the confusion matrix for
//! classification (keyword spotting), MAP and MRR over each question's candidates for answer
//! selection.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Classification results over `classes` labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// Fraction of examples whose predicted class is the true class.
    pub accuracy: f64,
    /// Unweighted mean over classes of F1 (a class with no examples and no predictions is left
    /// out of the mean).
    pub macro_f1: f64,
    /// `confusion[true][predicted]` counts.
    pub confusion: Vec<Vec<u64>>,
    /// Number of examples.
    pub count: u64,
}

/// Scores predictions against labels. Labels and predictions at or above `classes` are a
/// caller bug and panic.
pub fn classification(
    labels: &[usize],
    predictions: &[usize],
    classes: usize,
) -> ClassificationReport {
    assert_eq!(labels.len(), predictions.len(), "one prediction per label");
    let mut confusion = vec![vec![0u64; classes]; classes];
    for (&y, &p) in labels.iter().zip(predictions) {
        confusion[y][p] += 1;
    }
    let correct: u64 = (0..classes).map(|c| confusion[c][c]).sum();
    let count = labels.len() as u64;
    let mut f1s = Vec::new();
    for c in 0..classes {
        let tp = confusion[c][c] as f64;
        let actual: u64 = confusion[c].iter().sum();
        let predicted: u64 = confusion.iter().map(|row| row[c]).sum();
        if actual == 0 && predicted == 0 {
            continue;
        }
        let denom = (actual + predicted) as f64;
        f1s.push(if denom == 0.0 { 0.0 } else { 2.0 * tp / denom });
    }
    ClassificationReport {
        accuracy: if count == 0 {
            0.0
        } else {
            correct as f64 / count as f64
        },
        macro_f1: if f1s.is_empty() {
            0.0
        } else {
            f1s.iter().sum::<f64>() / f1s.len() as f64
        },
        confusion,
        count,
    }
}

/// Ranking results over the questions that have at least one correct candidate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RankingReport {
    /// Mean average precision.
    pub map: f64,
    /// Mean reciprocal rank of the first correct candidate.
    pub mrr: f64,
    /// Questions scored (those with a correct candidate).
    pub questions: u64,
    /// Questions left out because none of their candidates is correct.
    pub questions_without_answer: u64,
}

/// MAP and MRR. Candidates are grouped by `group` (the question id); within a group they are
/// ranked by descending score, ties broken by the candidate's index in the input so the result
/// is deterministic. (The models never see that index; only this tie-break does.)
pub fn ranking(groups: &[u64], scores: &[f32], relevant: &[bool]) -> RankingReport {
    assert!(groups.len() == scores.len() && scores.len() == relevant.len());
    let mut by_group: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
    for (i, &g) in groups.iter().enumerate() {
        by_group.entry(g).or_default().push(i);
    }
    let (mut ap_sum, mut rr_sum, mut n, mut skipped) = (0.0, 0.0, 0u64, 0u64);
    for (_, mut idx) in by_group {
        if !idx.iter().any(|&i| relevant[i]) {
            skipped += 1;
            continue;
        }
        idx.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let (mut hits, mut ap, mut rr) = (0u64, 0.0, 0.0);
        for (rank, &i) in idx.iter().enumerate() {
            if relevant[i] {
                hits += 1;
                ap += hits as f64 / (rank + 1) as f64;
                if rr == 0.0 {
                    rr = 1.0 / (rank + 1) as f64;
                }
            }
        }
        ap_sum += ap / hits as f64;
        rr_sum += rr;
        n += 1;
    }
    RankingReport {
        map: if n == 0 { 0.0 } else { ap_sum / n as f64 },
        mrr: if n == 0 { 0.0 } else { rr_sum / n as f64 },
        questions: n,
        questions_without_answer: skipped,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_counts() {
        let r = classification(&[0, 0, 1, 1, 2], &[0, 1, 1, 1, 0], 3);
        assert_eq!(
            r.confusion,
            vec![vec![1, 1, 0], vec![0, 2, 0], vec![1, 0, 0]]
        );
        assert!((r.accuracy - 0.6).abs() < 1e-12);
        // F1: class 0: 2*1/(2+2)=0.5; class 1: 2*2/(2+3)=0.8; class 2: 0.
        assert!((r.macro_f1 - (0.5 + 0.8 + 0.0) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn ranking_by_hand() {
        // q1: ranks [rel, -, rel] -> AP (1/1 + 2/3)/2, RR 1. q2: [-, rel] -> AP 1/2, RR 1/2.
        // q3: no relevant -> left out.
        let groups = [1, 1, 1, 2, 2, 3];
        let scores = [0.9, 0.5, 0.1, 0.8, 0.3, 0.4];
        let rel = [true, false, true, false, true, false];
        let r = ranking(&groups, &scores, &rel);
        let map = ((1.0 + 2.0 / 3.0) / 2.0 + 0.5) / 2.0;
        assert!((r.map - map).abs() < 1e-12);
        assert!((r.mrr - 0.75).abs() < 1e-12);
        assert_eq!((r.questions, r.questions_without_answer), (2, 1));
    }

    #[test]
    fn ranking_ties_are_broken_by_input_order() {
        let r = ranking(&[1, 1], &[0.5, 0.5], &[false, true]);
        assert!((r.map - 0.5).abs() < 1e-12);
    }
}
