//! Which representation layers a study asks for, resolved once against a model.
//!
//! Layers are numbered as in fair-esm: `0` is the embedding output, `n` the last of an `n`-layer
//! model (after the final layer norm), and negative indices count from the end (`-1` = `n`).

use std::fmt;
use std::str::FromStr;

/// A choice of representation layers, independent of any model until [`Layers::resolve`].
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Layers {
    /// The last layer (`n`).
    #[default]
    Last,
    /// One layer; negative counts from the end.
    Index(i64),
    /// Every representation layer, `0..=n`.
    All,
    /// Several layers, each as in [`Layers::Index`].
    List(Vec<i64>),
}

/// A layer outside the model, or text that names no layers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LayersError {
    /// The index does not exist in a model of this depth.
    #[error(
        "representation layer {layer} is out of range for a {num_layers}-layer model (valid: {} to {num_layers})",
        -(*num_layers as i64) - 1
    )]
    OutOfRange {
        /// The index asked for.
        layer: i64,
        /// The model's transformer layers.
        num_layers: usize,
    },
    /// An empty list.
    #[error("no layers given")]
    Empty,
    /// Unparsable text.
    #[error(
        "'{0}' is not a layer choice: use last, all, an index (negative from the end) or a comma list"
    )]
    Parse(String),
}

impl Layers {
    /// The layers in `0..=num_layers`, sorted and without repeats.
    pub fn resolve(&self, num_layers: usize) -> Result<Vec<usize>, LayersError> {
        let one = |layer: i64| {
            let n = num_layers as i64;
            if layer < -(n + 1) || layer > n {
                Err(LayersError::OutOfRange { layer, num_layers })
            } else {
                Ok(((layer + n + 1) % (n + 1)) as usize)
            }
        };
        let mut layers = match self {
            Self::Last => vec![num_layers],
            Self::All => (0..=num_layers).collect(),
            Self::Index(layer) => vec![one(*layer)?],
            Self::List(list) if list.is_empty() => return Err(LayersError::Empty),
            Self::List(list) => list.iter().map(|&l| one(l)).collect::<Result<_, _>>()?,
        };
        layers.sort_unstable();
        layers.dedup();
        Ok(layers)
    }

    /// The CLI's `--layers` values: none means the last, one an index, several a list.
    pub fn from_indices(indices: &[i64]) -> Self {
        match indices {
            [] => Self::Last,
            [one] => Self::Index(*one),
            many => Self::List(many.to_vec()),
        }
    }

    /// Whether this is every layer.
    pub fn is_all(&self) -> bool {
        matches!(self, Self::All)
    }
}

impl FromStr for Layers {
    type Err = LayersError;

    /// `last`, `all`, `-1`, `12`, or `0,6,-1`.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        match text.to_ascii_lowercase().as_str() {
            "last" => return Ok(Self::Last),
            "all" => return Ok(Self::All),
            _ => {}
        }
        let indices = text
            .split(',')
            .map(|part| part.trim().parse::<i64>())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| LayersError::Parse(text.to_owned()))?;
        Ok(Self::from_indices(&indices))
    }
}

impl fmt::Display for Layers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Last => write!(f, "last"),
            Self::All => write!(f, "all"),
            Self::Index(layer) => write!(f, "{layer}"),
            Self::List(list) => {
                let parts: Vec<String> = list.iter().map(i64::to_string).collect();
                write!(f, "{}", parts.join(","))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_against_the_model_depth() {
        assert_eq!(Layers::Last.resolve(33), Ok(vec![33]));
        assert_eq!(Layers::Index(-1).resolve(33), Ok(vec![33]));
        assert_eq!(Layers::Index(-34).resolve(33), Ok(vec![0]));
        assert_eq!(Layers::All.resolve(4), Ok(vec![0, 1, 2, 3, 4]));
        assert_eq!(Layers::List(vec![-1, 2, 4]).resolve(4), Ok(vec![2, 4]));
        assert_eq!(
            Layers::Index(5).resolve(4),
            Err(LayersError::OutOfRange {
                layer: 5,
                num_layers: 4
            })
        );
        assert!(Layers::Index(-6).resolve(4).is_err());
        assert_eq!(Layers::List(vec![]).resolve(4), Err(LayersError::Empty));
    }

    #[test]
    fn parses_and_prints_round_trip() {
        for text in ["last", "all", "-1", "12", "0,6,-1"] {
            let layers: Layers = text.parse().expect("parses");
            assert_eq!(layers.to_string(), text);
        }
        assert_eq!(" ALL ".parse::<Layers>(), Ok(Layers::All));
        assert!(matches!("x".parse::<Layers>(), Err(LayersError::Parse(_))));
        let message = Layers::Index(40)
            .resolve(33)
            .expect_err("out of range")
            .to_string();
        assert!(message.contains("-34 to 33"), "{message}");
    }
}
