//! Readers of the two standard raw corpora in their published layouts: the Free Spoken Digit
//! Dataset (a folder of `{digit}_{speaker}_{index}.wav`) and WikiQA (line-aligned `a.toks`,
//! `b.toks`, `sim.txt`, `id.txt` per split, as castorini/data publishes it). Bad records are
//! reported with the file and the reason and skipped; nothing here panics on bad input.

use std::fs;
use std::path::{Path, PathBuf};

/// One FSDD recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FsddClip {
    /// The spoken digit, the label.
    pub digit: u8,
    /// Speaker name.
    pub speaker: String,
    /// Recording index (0-49); the conventional split puts 0-4 in the test set.
    pub index: u32,
    /// The file.
    pub path: PathBuf,
}

/// The conventional FSDD split, plus a validation split carved from training for early
/// stopping: indices 0-4 test, 5-9 validation, the rest training.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FsddSplit {
    /// Indices 10 and up.
    Train,
    /// Indices 5-9.
    Valid,
    /// Indices 0-4.
    Test,
}

impl FsddClip {
    /// The split this recording belongs to.
    pub fn split(&self) -> FsddSplit {
        match self.index {
            0..=4 => FsddSplit::Test,
            5..=9 => FsddSplit::Valid,
            _ => FsddSplit::Train,
        }
    }
}

/// A file that was skipped, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub reason: String,
}

/// Parses `{digit}_{speaker}_{index}.wav`.
pub fn parse_fsdd_name(name: &str) -> Option<(u8, String, u32)> {
    let stem = name.strip_suffix(".wav")?;
    let mut parts = stem.split('_');
    let digit: u8 = parts.next()?.parse().ok()?;
    let speaker = parts.next()?.to_string();
    let index: u32 = parts.next()?.parse().ok()?;
    if parts.next().is_some() || digit > 9 || speaker.is_empty() {
        return None;
    }
    Some((digit, speaker, index))
}

/// The recordings of an FSDD folder, sorted by (digit, speaker, index), with the files whose
/// names do not follow the convention.
pub fn fsdd_clips(dir: &Path) -> std::io::Result<(Vec<FsddClip>, Vec<Skipped>)> {
    let mut clips = Vec::new();
    let mut skipped = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        match parse_fsdd_name(&name) {
            Some((digit, speaker, index)) => clips.push(FsddClip {
                digit,
                speaker,
                index,
                path,
            }),
            None => skipped.push(Skipped {
                path,
                reason: "name is not {digit}_{speaker}_{index}.wav".into(),
            }),
        }
    }
    clips.sort_by(|a, b| (a.digit, &a.speaker, a.index).cmp(&(b.digit, &b.speaker, b.index)));
    Ok((clips, skipped))
}

/// One WikiQA (question, candidate sentence) pair.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QaPair {
    /// The question's tokens, space-separated.
    pub question: String,
    /// The candidate sentence's tokens.
    pub answer: String,
    /// Whether the sentence answers the question.
    pub relevant: bool,
    /// Question id: all candidates of one question share it.
    pub question_id: u64,
}

/// Reads one WikiQA split folder. Lines with an empty question or answer, or a label or id
/// that does not parse, are skipped and reported; files of different lengths are an error.
pub fn wikiqa_split(dir: &Path) -> std::io::Result<(Vec<QaPair>, Vec<Skipped>)> {
    let read = |name: &str| -> std::io::Result<Vec<String>> {
        Ok(fs::read_to_string(dir.join(name))?
            .lines()
            .map(str::to_string)
            .collect())
    };
    let (a, b, sim, id) = (
        read("a.toks")?,
        read("b.toks")?,
        read("sim.txt")?,
        read("id.txt")?,
    );
    if a.len() != b.len() || a.len() != sim.len() || a.len() != id.len() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "{}: a.toks, b.toks, sim.txt, id.txt have {}, {}, {}, {} lines",
                dir.display(),
                a.len(),
                b.len(),
                sim.len(),
                id.len()
            ),
        ));
    }
    let mut pairs = Vec::with_capacity(a.len());
    let mut skipped = Vec::new();
    for (line, (((q, s), y), i)) in a.into_iter().zip(b).zip(sim).zip(id).enumerate() {
        let at = |reason: &str| Skipped {
            path: dir.join(format!("line {}", line + 1)),
            reason: reason.to_string(),
        };
        if q.trim().is_empty() || s.trim().is_empty() {
            skipped.push(at("empty question or answer"));
            continue;
        }
        let relevant = match y.trim() {
            "0" => false,
            "1" => true,
            _ => {
                skipped.push(at("label is not 0 or 1"));
                continue;
            }
        };
        let Ok(question_id) = i.trim().parse() else {
            skipped.push(at("question id is not a number"));
            continue;
        };
        pairs.push(QaPair {
            question: q,
            answer: s,
            relevant,
            question_id,
        });
    }
    Ok((pairs, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fsdd_names() {
        assert_eq!(
            parse_fsdd_name("7_theo_12.wav"),
            Some((7, "theo".into(), 12))
        );
        assert_eq!(parse_fsdd_name("7_theo_12.mp3"), None);
        assert_eq!(parse_fsdd_name("12_theo_1.wav"), None);
        assert_eq!(parse_fsdd_name("7_theo.wav"), None);
        assert_eq!(parse_fsdd_name("7_theo_1_x.wav"), None);
        let clip = |index| FsddClip {
            digit: 0,
            speaker: "x".into(),
            index,
            path: PathBuf::new(),
        };
        assert_eq!(clip(4).split(), FsddSplit::Test);
        assert_eq!(clip(5).split(), FsddSplit::Valid);
        assert_eq!(clip(10).split(), FsddSplit::Train);
    }

    #[test]
    fn wikiqa_bad_lines_are_skipped_with_reasons() {
        let dir = tempfile::tempdir().unwrap();
        let w = |n: &str, t: &str| fs::write(dir.path().join(n), t).unwrap();
        w("a.toks", "who ?\nwho ?\n\nwhat ?\n");
        w("b.toks", "me .\nyou .\nx\ny\n");
        w("sim.txt", "1\n0\n0\n2\n");
        w("id.txt", "1\n1\n2\n3\n");
        let (pairs, skipped) = wikiqa_split(dir.path()).unwrap();
        assert_eq!(pairs.len(), 2);
        assert_eq!(skipped.len(), 2);
        assert!(skipped[0].reason.contains("empty"));
        assert!(skipped[1].reason.contains("label"));
        w("id.txt", "1\n");
        assert!(wikiqa_split(dir.path()).is_err());
    }
}
