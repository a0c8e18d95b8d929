//! The memory budget of a run (`--memory`, study key `[study] memory`).
//!
//! The budget bounds what an RSEI run holds at once: the height of the bands of the one-pass
//! sweep, the observations read ahead, the block cache of GDAL, and whether an area's layers are
//! kept in memory for the model (pass 2) or streamed from temporary files in strips. It never
//! changes a result: only how the work is cut.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::{Error, Result};

/// A number of bytes the run may use; parsed from `2GiB`, `1.5 GB`, `800M`, `512MiB` or bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct MemoryBudget(u64);

impl MemoryBudget {
    /// The default budget: 2 GiB.
    pub const DEFAULT: MemoryBudget = MemoryBudget(2 << 30);
    /// The smallest budget accepted: 64 MiB.
    pub const MIN: MemoryBudget = MemoryBudget(64 << 20);

    /// A budget of `bytes` (at least [`MemoryBudget::MIN`] for real runs; tests may go lower).
    pub const fn bytes(bytes: u64) -> MemoryBudget {
        MemoryBudget(bytes)
    }

    /// The budget in bytes.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// A fraction of the budget, in bytes.
    pub fn share(self, num: u64, den: u64) -> usize {
        usize::try_from(self.0 / den * num).unwrap_or(usize::MAX)
    }

    /// Parses `2GiB`, `2 GiB`, `1.5G`, `1.5GB`, `800M`, `800MB`, `512MiB`, `65536K`, `1000000`
    /// (bytes). Decimal (GB, MB, KB) and binary (GiB, MiB, KiB, and the bare G, M, K) units;
    /// at least 64 MiB.
    pub fn parse(text: &str) -> Result<MemoryBudget> {
        let t = text.trim();
        let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
        let (num, unit) = (t[..split].trim(), t[split..].trim());
        let bad = || Error::option("--memory", format!("memory budget {text:?}: use a size such as 2GiB, 1.5GB, 800MiB or 512M"));
        let value: f64 = num.parse().map_err(|_| bad())?;
        let factor: f64 = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1.0,
            "k" | "kib" => 1024.0,
            "kb" => 1e3,
            "m" | "mib" => 1024.0 * 1024.0,
            "mb" => 1e6,
            "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
            "gb" => 1e9,
            "t" | "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
            "tb" => 1e12,
            _ => return Err(bad()),
        };
        let bytes = value * factor;
        if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
            return Err(bad());
        }
        let b = MemoryBudget(bytes as u64);
        if b < MemoryBudget::MIN {
            return Err(Error::option("--memory", format!("memory budget {text:?} is below the minimum of {}", MemoryBudget::MIN)));
        }
        Ok(b)
    }
}

impl Default for MemoryBudget {
    fn default() -> Self {
        MemoryBudget::DEFAULT
    }
}

impl fmt::Display for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0 as f64;
        const GIB: f64 = (1u64 << 30) as f64;
        const MIB: f64 = (1u64 << 20) as f64;
        if b >= GIB && (b / GIB * 10.0).fract() == 0.0 {
            write!(f, "{} GiB", b / GIB)
        } else if b >= MIB && (b / MIB).fract() == 0.0 {
            write!(f, "{} MiB", b / MIB)
        } else {
            write!(f, "{} bytes", self.0)
        }
    }
}

impl Serialize for MemoryBudget {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for MemoryBudget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = MemoryBudget;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a size such as \"2GiB\", \"1.5GB\" or \"800MiB\", or a number of bytes")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<MemoryBudget, E> {
                MemoryBudget::parse(v).map_err(|e| E::custom(e.to_string()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> std::result::Result<MemoryBudget, E> {
                MemoryBudget::parse(&v.to_string()).map_err(|e| E::custom(e.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> std::result::Result<MemoryBudget, E> {
                MemoryBudget::parse(&v.to_string()).map_err(|e| E::custom(e.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_both_unit_systems() {
        assert_eq!(MemoryBudget::parse("2GiB").unwrap().get(), 2 * 1024 * 1024 * 1024);
        assert_eq!(MemoryBudget::parse("2 GiB").unwrap().get(), 2 * 1024 * 1024 * 1024);
        assert_eq!(MemoryBudget::parse("2G").unwrap().get(), 2 * 1024 * 1024 * 1024);
        assert_eq!(MemoryBudget::parse("1.5GB").unwrap().get(), 1_500_000_000);
        assert_eq!(MemoryBudget::parse("800MB").unwrap().get(), 800_000_000);
        assert_eq!(MemoryBudget::parse("512MiB").unwrap().get(), 512 * 1024 * 1024);
        assert_eq!(MemoryBudget::parse("100000000").unwrap().get(), 100_000_000);
        assert_eq!(MemoryBudget::DEFAULT.to_string(), "2 GiB");
        assert_eq!(MemoryBudget::parse("512MiB").unwrap().to_string(), "512 MiB");
    }

    #[test]
    fn nonsense_and_tiny_budgets_are_refused() {
        for bad in ["", "lots", "2 parsecs", "-1G", "1.2.3G", "10M"] {
            let e = MemoryBudget::parse(bad).unwrap_err().to_string();
            assert!(e.contains("memory budget"), "{bad}: {e}");
        }
    }
}
