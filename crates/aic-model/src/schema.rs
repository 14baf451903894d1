//! The JSON Schema of `aicmodel.toml`, generated from the manifest types. The committed copy,
//! `docs/model-standard.schema.json`, is checked against it by a test, so the two cannot drift.

use crate::manifest::Manifest;

/// The JSON Schema (draft 2020-12) of a manifest, as pretty-printed JSON with a final newline.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(Manifest);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    /// Set `AIC_BLESS=1` to rewrite the committed copy after changing the manifest types.
    #[test]
    fn the_committed_schema_is_the_generated_one() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/model-standard.schema.json"
        );
        let generated = super::json_schema();
        if std::env::var_os("AIC_BLESS").is_some() {
            std::fs::write(path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        // Compared as JSON values: key order depends on serde_json's features, which differ
        // between a build of this crate alone and of the whole workspace.
        let parse = |s: &str| serde_json::from_str::<serde_json::Value>(s).ok();
        assert!(
            parse(&committed).is_some() && parse(&committed) == parse(&generated),
            "docs/model-standard.schema.json is stale: run `AIC_BLESS=1 cargo test -p aic-model schema`"
        );
    }
}
