//! The package archive: reproducible bytes and id, and refusal of anything tampered with.

use std::io::Read;

use aic_model::safetensors::write_tensors;
use aic_model::{
    fill_weights, pack, template, unpack, verify, PackError, PackageFiles, PackageId, Rule, Task,
    TensorDtype, WeightTensor,
};

fn weights(fill: u8) -> Vec<u8> {
    let w = WeightTensor {
        name: "classifier.weight".into(),
        dtype: TensorDtype::F32,
        shape: vec![10, 4],
    };
    let b = WeightTensor {
        name: "classifier.bias".into(),
        dtype: TensorDtype::F32,
        shape: vec![10],
    };
    write_tensors(&[(w, &[fill; 160]), (b, &[0u8; 40])]).unwrap()
}

fn files(weights: Vec<u8>) -> PackageFiles {
    let m = template(Task::KeywordSpotting);
    let text = format!("# a comment that stays\n{}", m.to_toml_string());
    let text = fill_weights(&text, &weights).unwrap();
    PackageFiles {
        manifest: text.into_bytes(),
        card: Some(aic_model::model_card(&m).into_bytes()),
        vocab: None,
        weights,
    }
}

fn rules(e: PackError) -> Vec<Rule> {
    match e {
        PackError::Invalid(v) => v.into_iter().map(|e| e.rule).collect(),
        other => panic!("expected rule errors, got {other}"),
    }
}

#[test]
fn same_files_give_the_same_bytes_and_id() {
    let a = pack(&files(weights(1))).unwrap();
    let b = pack(&files(weights(1))).unwrap();
    assert_eq!(a.bytes, b.bytes);
    assert_eq!(a.id, b.id);
    assert_eq!(a.id, PackageId::of(&a.bytes));
    assert_eq!(a.id.to_string().parse::<PackageId>().unwrap(), a.id);
}

#[test]
fn a_changed_weight_byte_changes_the_id() {
    let a = pack(&files(weights(1))).unwrap();
    let b = pack(&files(weights(2))).unwrap();
    assert_ne!(a.id, b.id);
}

#[test]
fn a_package_unpacks_to_its_files_and_verifies() {
    let f = files(weights(1));
    let p = pack(&f).unwrap();
    let u = verify(&p.bytes, &p.id).unwrap();
    assert_eq!(u.files, f);
    assert_eq!(u.id, p.id);
    assert_eq!(u.manifest.model.name, "kws-dscnn-fsdd");
    assert!(std::str::from_utf8(&f.manifest)
        .unwrap()
        .starts_with("# a comment that stays\n"));
}

#[test]
fn the_archive_is_plain_canonical_ustar() {
    let p = pack(&files(weights(1))).unwrap();
    let mut a = tar::Archive::new(p.bytes.as_slice());
    let mut names = Vec::new();
    for e in a.entries().unwrap() {
        let mut e = e.unwrap();
        let h = e.header();
        assert_eq!(h.mode().unwrap(), 0o644);
        assert_eq!(
            (h.uid().unwrap(), h.gid().unwrap(), h.mtime().unwrap()),
            (0, 0, 0)
        );
        assert_eq!(h.username().unwrap(), Some(""));
        names.push(e.path().unwrap().to_string_lossy().into_owned());
        let mut sink = Vec::new();
        e.read_to_end(&mut sink).unwrap();
    }
    assert_eq!(names, ["aicmodel.toml", "README.md", "weights.safetensors"]);
}

/// The offset of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).position(|w| w == needle).unwrap()
}

#[test]
fn a_tampered_package_is_refused() {
    let w = weights(1);
    let p = pack(&files(w.clone())).unwrap();

    // A byte of the weights: they no longer hash to the manifest's value.
    let mut bad = p.bytes.clone();
    let at = find(&bad, &w) + w.len() - 100;
    bad[at] ^= 0xff;
    assert_eq!(
        rules(unpack(&bad).unwrap_err()),
        [Rule::WeightsHashMismatch]
    );
    assert!(matches!(
        verify(&bad, &p.id),
        Err(PackError::IdMismatch { .. })
    ));

    // A header field (the mtime of the first entry, checksum fixed up): not canonical.
    let mut bad = p.bytes.clone();
    bad[136..147].copy_from_slice(b"00000000001");
    let mut h = tar::Header::new_old();
    h.as_mut_bytes().copy_from_slice(&bad[..512]);
    h.set_cksum();
    bad[..512].copy_from_slice(h.as_bytes());
    assert!(matches!(unpack(&bad), Err(PackError::Archive(_))), "mtime");

    // Bytes after the end.
    let mut bad = p.bytes.clone();
    bad.extend_from_slice(&[0u8; 512]);
    assert!(
        matches!(unpack(&bad), Err(PackError::Archive(_))),
        "trailing"
    );

    // Truncated.
    assert!(
        unpack(&p.bytes[..p.bytes.len() - 1024 - 1]).is_err(),
        "truncated"
    );

    // An extra file.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_ustar();
    h.set_path("run.sh").unwrap();
    h.set_size(2);
    h.set_cksum();
    b.append(&h, &b"hi"[..]).unwrap();
    let extra = b.into_inner().unwrap();
    assert!(
        matches!(unpack(&extra), Err(PackError::Archive(_))),
        "extra"
    );

    // Not an archive at all.
    assert!(unpack(b"hello").is_err());
}

#[test]
fn pack_refuses_weights_the_manifest_does_not_name() {
    let mut f = files(weights(1));
    f.weights = weights(2);
    assert_eq!(rules(pack(&f).unwrap_err()), [Rule::WeightsHashMismatch]);
    let mut f = files(weights(1));
    f.manifest = template(Task::KeywordSpotting)
        .to_toml_string()
        .into_bytes();
    assert_eq!(
        rules(pack(&f).unwrap_err()),
        [
            Rule::WeightsHashMissing,
            Rule::WeightsSizeMismatch,
            Rule::WeightsTensorMismatch
        ]
    );
}
