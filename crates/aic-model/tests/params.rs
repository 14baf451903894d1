//! A job's parameter values checked against a manifest's schema, as the market does before
//! escrow.

use std::collections::BTreeMap;

use aic_model::{resolve_params, template, validate_params, ParamRule, ParamValue, Task};

fn values(v: serde_json::Value) -> BTreeMap<String, ParamValue> {
    serde_json::from_value(v).unwrap()
}

fn rule_of(v: serde_json::Value) -> Vec<ParamRule> {
    let m = template(Task::KeywordSpotting);
    validate_params(&m, &values(v))
        .unwrap_err()
        .into_iter()
        .map(|e| e.rule)
        .collect()
}

#[test]
fn good_values_pass_and_defaults_fill_the_rest() {
    let m = template(Task::KeywordSpotting);
    let v = values(serde_json::json!({"learning_rate": 1, "epochs": 5, "lr_schedule": "constant"}));
    let r = resolve_params(&m, &v).unwrap();
    assert_eq!(r["learning_rate"], ParamValue::Float(1.0));
    assert_eq!(r["epochs"], ParamValue::Int(5));
    assert_eq!(r["lr_schedule"], ParamValue::String("constant".into()));
    assert_eq!(r["channels"], ParamValue::Int(64));
    assert_eq!(r.len(), m.parameters.iter().count());
}

#[test]
fn each_param_rule_broken_once() {
    use ParamRule::*;
    assert_eq!(rule_of(serde_json::json!({"lr": 0.1})), [UnknownParam]);
    assert_eq!(rule_of(serde_json::json!({"epochs": 2.5})), [WrongType]);
    assert_eq!(rule_of(serde_json::json!({"lr_schedule": 3})), [WrongType]);
    assert_eq!(rule_of(serde_json::json!({"batch_size": 0})), [OutOfRange]);
    assert_eq!(
        rule_of(serde_json::json!({"learning_rate": 2.0})),
        [OutOfRange]
    );
    assert_eq!(
        rule_of(serde_json::json!({"lr_schedule": "lion"})),
        [NotAChoice]
    );
    let e = validate_params(
        &template(Task::KeywordSpotting),
        &values(serde_json::json!({"lr_schedule": "lion"})),
    )
    .unwrap_err();
    assert_eq!(
        e[0].to_string(),
        "lr_schedule: not-a-choice: \"lion\" is not one of \"cosine\", \"constant\""
    );
}

#[test]
fn every_error_is_reported() {
    let r = rule_of(serde_json::json!({"lr": 1, "epochs": 0, "lr_schedule": "lion"}));
    assert_eq!(r.len(), 3);
}

#[test]
fn values_read_from_toml_too() {
    let m = template(Task::TextMatching);
    let v: BTreeMap<String, ParamValue> =
        toml::from_str("embed = 64\nlearning_rate = 0.01\n").unwrap();
    assert_eq!(validate_params(&m, &v), Ok(()));
}
