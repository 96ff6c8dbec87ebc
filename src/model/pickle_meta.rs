//! Reads hyperparameters (`args` / `cfg`) from the pickle inside a fair-esm `.pt` file.
//!
//! fair-esm stores ESM-1/1b hyperparameters as an `argparse.Namespace` under `args` and ESM-2's as
//! a `Namespace` (or plain dict) under `cfg["model"]`. candle's pickle reader gives us the raw
//! object tree; this module turns such objects into a flat name → value map.

use candle_core::pickle::Object;
use std::collections::HashMap;

/// A scalar hyperparameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaValue {
    /// Python int.
    Int(i64),
    /// Python float.
    Float(f64),
    /// Python bool.
    Bool(bool),
    /// Python str.
    Str(String),
    /// `None`, or a value we do not interpret (lists, nested objects).
    Other,
}

impl MetaValue {
    /// The value as a non-negative integer, if it is one.
    pub fn as_usize(&self) -> Option<usize> {
        match self {
            Self::Int(i) if *i >= 0 => Some(*i as usize),
            _ => None,
        }
    }

    /// The value as a bool (Python truthiness for ints).
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            Self::Int(i) => Some(*i != 0),
            _ => None,
        }
    }
}

/// Flat attribute map of a Namespace/dict.
pub type Attributes = HashMap<String, MetaValue>;

/// The top level of a torch checkpoint's decoded pickle: key → object (tensors left as raw
/// objects).
pub fn top_level(root: &Object) -> Result<Vec<(&str, &Object)>, String> {
    match root {
        Object::Dict(entries) => Ok(entries
            .iter()
            .filter_map(|(k, v)| match k {
                Object::Unicode(k) => Some((k.as_str(), v)),
                _ => None,
            })
            .collect()),
        other => Err(format!(
            "the checkpoint's top level is not a dict but {}",
            describe(other)
        )),
    }
}

/// Flattens an `argparse.Namespace`, a dict, or an omegaconf `DictConfig` into attributes.
pub fn attributes(obj: &Object) -> Option<Attributes> {
    match obj {
        Object::Dict(entries) => {
            // omegaconf keeps its values under `_content`.
            if let Some((_, content)) = entries
                .iter()
                .find(|(k, _)| matches!(k, Object::Unicode(s) if s == "_content"))
            {
                return attributes(content);
            }
            Some(
                entries
                    .iter()
                    .filter_map(|(k, v)| match k {
                        Object::Unicode(k) => Some((k.clone(), scalar(v))),
                        _ => None,
                    })
                    .collect(),
            )
        }
        // Namespace: NEWOBJ/REDUCE of the class, then BUILD with its `__dict__`.
        Object::Build { args, .. } => attributes(args),
        _ => None,
    }
}

/// Looks up `key` in a Namespace/dict object and returns it unflattened (e.g. `cfg["model"]`).
pub fn child<'a>(obj: &'a Object, key: &str) -> Option<&'a Object> {
    match obj {
        Object::Dict(entries) => entries
            .iter()
            .find(|(k, _)| matches!(k, Object::Unicode(s) if s == key))
            .map(|(_, v)| v)
            .or_else(|| {
                entries
                    .iter()
                    .find(|(k, _)| matches!(k, Object::Unicode(s) if s == "_content"))
                    .and_then(|(_, content)| child(content, key))
            }),
        Object::Build { args, .. } => child(args, key),
        _ => None,
    }
}

fn scalar(obj: &Object) -> MetaValue {
    match obj {
        Object::Int(i) => MetaValue::Int(i64::from(*i)),
        Object::Long(i) => MetaValue::Int(*i),
        Object::Float(f) => MetaValue::Float(*f),
        Object::Bool(b) => MetaValue::Bool(*b),
        Object::Unicode(s) => MetaValue::Str(s.clone()),
        // omegaconf AnyNode: BUILD with a state dict holding `_val`.
        Object::Build { args, .. } => match args.as_ref() {
            Object::Dict(entries) => entries
                .iter()
                .find(|(k, _)| matches!(k, Object::Unicode(s) if s == "_val"))
                .map_or(MetaValue::Other, |(_, v)| scalar(v)),
            _ => MetaValue::Other,
        },
        _ => MetaValue::Other,
    }
}

/// A short description of an object for error messages.
pub fn describe(obj: &Object) -> String {
    match obj {
        Object::Class {
            module_name,
            class_name,
        } => format!("{module_name}.{class_name}"),
        Object::Reduce { callable, .. } | Object::Build { callable, .. } => describe(callable),
        Object::Dict(_) => "dict".into(),
        Object::List(_) => "list".into(),
        Object::Tuple(_) => "tuple".into(),
        other => format!("{other:?}").chars().take(40).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn namespace(fields: Vec<(&str, Object)>) -> Object {
        Object::Build {
            callable: Box::new(Object::Reduce {
                callable: Box::new(Object::Class {
                    module_name: "argparse".into(),
                    class_name: "Namespace".into(),
                }),
                args: Box::new(Object::Tuple(vec![])),
            }),
            args: Box::new(Object::Dict(
                fields
                    .into_iter()
                    .map(|(k, v)| (Object::Unicode(k.into()), v))
                    .collect(),
            )),
        }
    }

    #[test]
    fn namespace_attributes_are_flattened() {
        let ns = namespace(vec![
            ("encoder_layers", Object::Int(33)),
            ("arch", Object::Unicode("roberta_large".into())),
            ("token_dropout", Object::Bool(true)),
        ]);
        let attrs = attributes(&ns).expect("a namespace has attributes");
        assert_eq!(attrs["encoder_layers"].as_usize(), Some(33));
        assert_eq!(attrs["arch"], MetaValue::Str("roberta_large".into()));
        assert_eq!(attrs["token_dropout"].as_bool(), Some(true));
    }

    #[test]
    fn cfg_model_child_is_found() {
        let cfg = Object::Dict(vec![(
            Object::Unicode("model".into()),
            namespace(vec![("encoder_embed_dim", Object::Int(320))]),
        )]);
        let model = child(&cfg, "model").expect("cfg has model");
        assert_eq!(
            attributes(model).expect("attrs")["encoder_embed_dim"].as_usize(),
            Some(320)
        );
    }
}
