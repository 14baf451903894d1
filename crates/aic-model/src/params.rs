//! Parameters a job may set: their schema in the manifest (type, default, range or choices),
//! and the check of a job's values against it, which the market runs before escrow.

use std::collections::BTreeMap;
use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::validate::{ManifestError, Rule};

/// The manifest's `[parameters]`: two tables of named parameters. Names are unique across
/// both, so a job sets them in one flat map.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Parameters {
    /// Hyperparameters of the architecture (`channels`, `embedding_dim`).
    #[serde(default)]
    pub architecture: BTreeMap<String, ParamSpec>,
    /// Training parameters (`learning_rate`, `batch_size`, `epochs`, `seed`).
    #[serde(default)]
    pub training: BTreeMap<String, ParamSpec>,
}

impl Parameters {
    /// Every parameter with the name of its table, in table then name order.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &String, &ParamSpec)> {
        let a = self
            .architecture
            .iter()
            .map(|(k, v)| ("architecture", k, v));
        let t = self.training.iter().map(|(k, v)| ("training", k, v));
        a.chain(t)
    }

    /// The parameter called `name`, in either table.
    pub fn get(&self, name: &str) -> Option<&ParamSpec> {
        self.architecture
            .get(name)
            .or_else(|| self.training.get(name))
    }
}

/// The type of a parameter's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ParamType {
    /// `true` or `false`.
    Bool,
    /// A 64-bit signed integer.
    Int,
    /// A finite 64-bit float; integers are accepted.
    Float,
    /// A string.
    String,
}

impl fmt::Display for ParamType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Bool => "bool",
            Self::Int => "int",
            Self::Float => "float",
            Self::String => "string",
        })
    }
}

/// A parameter value, as TOML or JSON writes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ParamValue {
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    String(String),
}

impl ParamValue {
    /// Whether the value is of type `t` (an integer is a float too).
    pub fn is(&self, t: ParamType) -> bool {
        matches!(
            (self, t),
            (Self::Bool(_), ParamType::Bool)
                | (Self::Int(_), ParamType::Int | ParamType::Float)
                | (Self::Float(_), ParamType::Float)
                | (Self::String(_), ParamType::String)
        )
    }

    /// The value as a number, for range checks.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Int(i) => Some(*i as f64),
            Self::Float(x) => Some(*x),
            _ => None,
        }
    }

    /// Equality as the parameter's type sees it (`1` equals `1.0` for a float).
    fn same(&self, other: &ParamValue) -> bool {
        match (self.as_f64(), other.as_f64()) {
            (Some(a), Some(b)) => a == b,
            _ => self == other,
        }
    }
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bool(b) => write!(f, "{b}"),
            Self::Int(i) => write!(f, "{i}"),
            Self::Float(x) => write!(f, "{x:?}"),
            Self::String(s) => write!(f, "{s:?}"),
        }
    }
}

/// One parameter's schema (after MLflow's parameter schema, with ranges and choices).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// Type of its values.
    #[serde(rename = "type")]
    pub kind: ParamType,
    /// Value used when a job does not set it.
    pub default: ParamValue,
    /// Least value (numbers only, inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Greatest value (numbers only, inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The only values allowed, when set (not empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<ParamValue>>,
    /// What it does, for people.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

impl ParamSpec {
    fn in_range(&self, v: &ParamValue) -> bool {
        let Some(x) = v.as_f64() else { return true };
        self.min.is_none_or(|m| x >= m) && self.max.is_none_or(|m| x <= m)
    }

    fn range_text(&self) -> String {
        let lo = self.min.map_or("-inf".to_string(), |m| m.to_string());
        let hi = self.max.map_or("inf".to_string(), |m| m.to_string());
        format!("[{lo}, {hi}]")
    }

    fn is_choice(&self, v: &ParamValue) -> bool {
        self.choices
            .as_ref()
            .is_none_or(|c| c.iter().any(|x| x.same(v)))
    }
}

/// Checks every parameter schema of a manifest (part of [`crate::validate`]).
pub(crate) fn check_specs(p: &Parameters, errors: &mut Vec<ManifestError>) {
    let mut err = |path: String, rule: Rule, message: String| {
        errors.push(ManifestError {
            path,
            rule,
            message,
        })
    };
    for (table, name, spec) in p.iter() {
        let at = format!("parameters.{table}.{name}");
        if !crate::validate::is_name(name) {
            err(at.clone(), Rule::BadName, crate::validate::NAME_RULE.into());
        }
        if table == "training" && p.architecture.contains_key(name) {
            err(
                at.clone(),
                Rule::DuplicateParamName,
                format!("`{name}` is also an architecture parameter; names are unique across both tables"),
            );
        }
        let numeric = matches!(spec.kind, ParamType::Int | ParamType::Float);
        if !spec.default.is(spec.kind) {
            err(
                format!("{at}.default"),
                Rule::ParamTypeMismatch,
                format!("default {} is not of type {}", spec.default, spec.kind),
            );
        } else if let ParamValue::Float(x) = spec.default {
            if !x.is_finite() {
                err(
                    format!("{at}.default"),
                    Rule::ParamNotFinite,
                    format!("default {x} is not finite"),
                );
            }
        }
        for (key, bound) in [("min", spec.min), ("max", spec.max)] {
            let Some(b) = bound else { continue };
            if !numeric {
                err(
                    format!("{at}.{key}"),
                    Rule::ParamRangeNotNumeric,
                    format!("a {} parameter has no range", spec.kind),
                );
            } else if !b.is_finite() {
                err(
                    format!("{at}.{key}"),
                    Rule::ParamNotFinite,
                    format!("{key} {b} is not finite"),
                );
            } else if spec.kind == ParamType::Int && b.fract() != 0.0 {
                err(
                    format!("{at}.{key}"),
                    Rule::ParamTypeMismatch,
                    format!("{key} {b} of an int parameter is not an integer"),
                );
            }
        }
        if let (Some(lo), Some(hi)) = (spec.min, spec.max) {
            if lo > hi {
                err(
                    format!("{at}.min"),
                    Rule::ParamRangeInverted,
                    format!("min {lo} is greater than max {hi}"),
                );
            }
        }
        if let Some(choices) = &spec.choices {
            if choices.is_empty() {
                err(
                    format!("{at}.choices"),
                    Rule::ParamChoicesEmpty,
                    "choices, when given, list at least one value".into(),
                );
            }
            for (i, c) in choices.iter().enumerate() {
                if !c.is(spec.kind) {
                    err(
                        format!("{at}.choices[{i}]"),
                        Rule::ParamTypeMismatch,
                        format!("choice {c} is not of type {}", spec.kind),
                    );
                } else if !spec.in_range(c) {
                    err(
                        format!("{at}.choices[{i}]"),
                        Rule::ParamDefaultOutOfRange,
                        format!("choice {c} is outside {}", spec.range_text()),
                    );
                }
            }
        }
        if spec.default.is(spec.kind) {
            if !spec.in_range(&spec.default) {
                err(
                    format!("{at}.default"),
                    Rule::ParamDefaultOutOfRange,
                    format!("default {} is outside {}", spec.default, spec.range_text()),
                );
            }
            if !spec.choices.as_ref().is_some_and(Vec::is_empty) && !spec.is_choice(&spec.default) {
                err(
                    format!("{at}.default"),
                    Rule::ParamDefaultNotAChoice,
                    format!("default {} is not one of the choices", spec.default),
                );
            }
        }
    }
}

/// Why a job's parameter value was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum ParamRule {
    /// The manifest declares no parameter of that name.
    UnknownParam,
    /// The value is not of the parameter's type.
    WrongType,
    /// The value is outside `[min, max]`, or is not finite.
    OutOfRange,
    /// The value is not one of the parameter's choices.
    NotAChoice,
}

/// A job's parameter value the manifest's schema refuses.
#[derive(Clone, Debug, PartialEq, Serialize, thiserror::Error)]
#[error("{name}: {}: {message}", crate::validate::kebab(&format!("{rule:?}")))]
pub struct ParamError {
    /// The parameter's name, as the job wrote it.
    pub name: String,
    /// The rule broken.
    pub rule: ParamRule,
    /// What is wrong, with the offending value.
    pub message: String,
}

/// Checks a job's parameter values against the manifest's schema: every name declared, every
/// value of the declared type, in range and one of the choices. Returns every error.
pub fn validate_params(
    manifest: &crate::Manifest,
    values: &BTreeMap<String, ParamValue>,
) -> Result<(), Vec<ParamError>> {
    let mut errors = Vec::new();
    for (name, v) in values {
        let e = |rule, message| ParamError {
            name: name.clone(),
            rule,
            message,
        };
        let Some(spec) = manifest.parameters.get(name) else {
            errors.push(e(
                ParamRule::UnknownParam,
                format!("the model declares no parameter `{name}`"),
            ));
            continue;
        };
        if !v.is(spec.kind) {
            errors.push(e(
                ParamRule::WrongType,
                format!("{v} is not of type {}", spec.kind),
            ));
        } else if v.as_f64().is_some_and(|x| !x.is_finite()) || !spec.in_range(v) {
            errors.push(e(
                ParamRule::OutOfRange,
                format!("{v} is outside {}", spec.range_text()),
            ));
        } else if !spec.is_choice(v) {
            let choices: Vec<String> = spec
                .choices
                .iter()
                .flatten()
                .map(ToString::to_string)
                .collect();
            errors.push(e(
                ParamRule::NotAChoice,
                format!("{v} is not one of {}", choices.join(", ")),
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Validates a job's values ([`validate_params`]) and returns every declared parameter with
/// its value: the job's, else the default. Integers given for float parameters become floats.
pub fn resolve_params(
    manifest: &crate::Manifest,
    values: &BTreeMap<String, ParamValue>,
) -> Result<BTreeMap<String, ParamValue>, Vec<ParamError>> {
    validate_params(manifest, values)?;
    Ok(manifest
        .parameters
        .iter()
        .map(|(_, name, spec)| {
            let v = values.get(name).unwrap_or(&spec.default).clone();
            let v = match (spec.kind, v) {
                (ParamType::Float, ParamValue::Int(i)) => ParamValue::Float(i as f64),
                (_, v) => v,
            };
            (name.clone(), v)
        })
        .collect())
}
