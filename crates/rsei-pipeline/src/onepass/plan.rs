//! The plan file of a pass: what the pass computes and how far it got, so that an interrupted
//! run continues where it stopped.
//!
//! ```text
//! { "software": "rsei 0.1.0", "band_rows_1km": 256,
//!   "groups": [ { "area": "tangshan", "years": [2019], "key": "…", "done": false,
//!                 "pass1": { "2019": { "dir": "tangshan/.pass1-2019", "bands": { "23": {qa…}, … } } },
//!                 "summaries": [] }, … ] }
//! ```
//!
//! A group is one area and its years (one year, or all years of a pooled PCA) with a key naming
//! its inputs and options (the study unit's key, or for `rsei compute` a hash of the options,
//! area, years and the inputs' names, sizes and times). Pass 1 of a year whose area spans several
//! bands writes its strips into temporary files; each band that reaches them is recorded here
//! with its QA counts, so a resumed pass skips it. A finished group records its summaries
//! (floats as bit patterns, so a resumed run writes the same tables). The file is written
//! atomically after every change and removed when the pass is over; work whose key changed is
//! never reused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rsei_core::qa::ValidityReport;
use serde::{Deserialize, Serialize};

use crate::compute::YearSummary;
use crate::error::{Context, Result};
use crate::outputs::SOFTWARE;

/// One band of a year's pass 1 that reached the temporary files.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BandRecord {
    /// QA of MOD09A1, MOD13A1 and MOD11A2 over the band's strip.
    pub qa: [ValidityReport; 3],
    /// Whether a cell inside the area has a valid MOD09A1 observation in the strip.
    pub any_valid_inside: bool,
}

/// Pass 1 of one year on disk.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Pass1Record {
    /// The folder of the temporary files, relative to the output folder.
    pub dir: PathBuf,
    /// Bands done (global band index → record).
    pub bands: BTreeMap<usize, BandRecord>,
}

/// One group of the plan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanGroup {
    /// Output folder of the area (its slug).
    pub area: String,
    /// Target years.
    pub years: Vec<i32>,
    /// The key of the group's inputs and options.
    pub key: String,
    /// Every year's outputs are written.
    pub done: bool,
    /// Pass 1 on disk, by year.
    #[serde(default)]
    pub pass1: BTreeMap<i32, Pass1Record>,
    /// The summaries of a finished group, exact (see [`exact`]).
    #[serde(default)]
    pub summaries: Vec<serde_json::Value>,
}

/// The plan file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PassPlan {
    /// Software that wrote it (another version's plan is not reused).
    pub software: String,
    /// Rows of the 1 km grid per band.
    pub band_rows_1km: usize,
    /// The groups.
    pub groups: Vec<PlanGroup>,
}

impl PassPlan {
    /// Reads a plan file; `None` when it is absent, unreadable or of another software version.
    pub fn load(path: &Path) -> Option<PassPlan> {
        let text = std::fs::read(path).ok()?;
        let p: PassPlan = serde_json::from_slice(&text).ok()?;
        (p.software == SOFTWARE).then_some(p)
    }

    /// Writes the plan atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(d) = path.parent() {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        }
        rsei_core::fsutil::write_atomic(path, &serde_json::to_vec_pretty(self)?).with_context(|| format!("writing the plan file {}", path.display()))
    }

    /// The group of `area` and `years` with `key`, if the plan holds it.
    pub fn find(&self, area: &str, years: &[i32], key: &str) -> Option<&PlanGroup> {
        self.groups.iter().find(|g| g.area == area && g.years == years && g.key == key)
    }
}

/// A value with every non-integer number replaced by `{"f64": bits}`, so that a round trip
/// through JSON text gives the same bits (JSON parsers may round the last digit).
pub fn exact(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) if n.is_f64() => serde_json::json!({ "f64": n.as_f64().map(f64::to_bits) }),
        Value::Array(a) => Value::Array(a.into_iter().map(exact).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, exact(v))).collect()),
        other => other,
    }
}

/// The value of [`exact`].
pub fn unexact(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(o) if o.len() == 1 && o.get("f64").is_some_and(Value::is_u64) => {
            let bits = o.get("f64").and_then(Value::as_u64).unwrap_or_default();
            serde_json::Number::from_f64(f64::from_bits(bits)).map_or(Value::Null, Value::Number)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(unexact).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, unexact(v))).collect()),
        other => other,
    }
}

/// Summaries for the plan file, exact.
pub fn encode_summaries(s: &[YearSummary]) -> Result<Vec<serde_json::Value>> {
    s.iter().map(|x| Ok(exact(serde_json::to_value(x)?))).collect()
}

/// The summaries of [`encode_summaries`].
pub fn decode_summaries(v: &[serde_json::Value]) -> Result<Vec<YearSummary>> {
    v.iter().map(|x| Ok(serde_json::from_value(unexact(x.clone()))?)).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn exact_values_survive_json_text() {
        let v = serde_json::json!({"a": [0.1f64, 1.0 / 3.0, 2.0, 7, -5], "b": {"c": 1e-300, "d": "text"}});
        let text = serde_json::to_string(&exact(v.clone())).unwrap();
        let back = unexact(serde_json::from_str(&text).unwrap());
        assert_eq!(back, v);
        let third = back["a"][1].as_f64().unwrap();
        assert_eq!(third.to_bits(), (1.0f64 / 3.0).to_bits());
    }
}
