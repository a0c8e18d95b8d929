//! MODIS quality-assurance decoding and configurable validity rules (METHOD §1).
//!
//! Three products, three rule sets, each a plain serde value whose `Default` is the METHOD default:
//!
//! | product | layers | rules |
//! |---|---|---|
//! | MOD09A1 | `sur_refl_qc_500m` (u32), `sur_refl_state_500m` (u16) | [`Mod09Rules`] (+ [`ReflectanceRange`], which is a value check, not QA) |
//! | MOD11A2 | `QC_Day` (u8), `LST_Day_1km` (u16 DN) | [`Mod11Rules`] |
//! | MOD13A1 | `500m 16 days pixel reliability` (i8) | [`Mod13Rules`] |
//!
//! Each rule set can say *why* an observation was refused ([`Rejections`], one bit per [`QaRule`]),
//! and a [`ValidityReport`] counts, over any number of observations, how many each rule rejected —
//! the answer to "why is my composite empty?". Counts of different rules overlap: an observation
//! that is cloudy *and* snowy is counted under both.
//!
//! Fill values (`sur_refl_qc_500m` 4294967295, `sur_refl_state_500m` 65535, `LST_Day_1km` 0,
//! reliability −1) are never valid, whatever the rules say.
//!
//! ```
//! use rsei_core::qa::{Mod09Rules, StateFlags};
//! let rules = Mod09Rules::default();
//! // state 0b0000_0000_0000_1000: cloud state 0 (clear), land/water class 1 (land)
//! assert_eq!(StateFlags::decode(0x0008).land_water, 1);
//! assert!(rules.is_valid(0, 0x0008));
//! // state 0x0009: cloud state 1 (cloudy) → refused
//! assert!(!rules.is_valid(0, 0x0009));
//! ```

use serde::{Deserialize, Serialize};

use crate::accum::Accumulator;
use crate::error::{CoreError, Result};

/// Fill value of `sur_refl_qc_500m`.
pub const MOD09_QC_FILL: u32 = u32::MAX;
/// Fill value of `sur_refl_state_500m`.
pub const MOD09_STATE_FILL: u16 = u16::MAX;
/// Fill value of `LST_Day_1km` (DN).
pub const MOD11_LST_FILL: u16 = 0;
/// Fill value of the MOD13A1 pixel reliability.
pub const MOD13_RELIABILITY_FILL: i8 = -1;

/// The bit fields of `sur_refl_state_500m` (MOD09A1 500 m state flags).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateFlags {
    /// Bits 0–1: 0 clear, 1 cloudy, 2 mixed, 3 not set (assumed clear).
    pub cloud_state: u8,
    /// Bit 2: cloud shadow.
    pub cloud_shadow: bool,
    /// Bits 3–5: 0 shallow ocean, 1 land, 2 coastline/lake shore, 3 shallow inland water,
    /// 4 ephemeral water, 5 deep inland water, 6 moderate ocean, 7 deep ocean.
    pub land_water: u8,
    /// Bits 6–7: aerosol quantity (0 climatology, 1 low, 2 average, 3 high).
    pub aerosol: u8,
    /// Bits 8–9: cirrus (0 none, 1 small, 2 average, 3 high).
    pub cirrus: u8,
    /// Bit 10: internal cloud algorithm flag.
    pub internal_cloud: bool,
    /// Bit 11: internal fire algorithm flag.
    pub fire: bool,
    /// Bit 12: MOD35 snow/ice flag.
    pub mod35_snow: bool,
    /// Bit 13: pixel adjacent to cloud.
    pub adjacent_cloud: bool,
    /// Bit 14: BRDF correction performed.
    pub brdf_corrected: bool,
    /// Bit 15: internal snow mask.
    pub internal_snow: bool,
}

impl StateFlags {
    /// Splits a `sur_refl_state_500m` value into its fields (bit layout in the field docs).
    pub const fn decode(s: u16) -> Self {
        Self {
            cloud_state: (s & 0b11) as u8,
            cloud_shadow: s & (1 << 2) != 0,
            land_water: ((s >> 3) & 0b111) as u8,
            aerosol: ((s >> 6) & 0b11) as u8,
            cirrus: ((s >> 8) & 0b11) as u8,
            internal_cloud: s & (1 << 10) != 0,
            fire: s & (1 << 11) != 0,
            mod35_snow: s & (1 << 12) != 0,
            adjacent_cloud: s & (1 << 13) != 0,
            brdf_corrected: s & (1 << 14) != 0,
            internal_snow: s & (1 << 15) != 0,
        }
    }
}

/// The bit fields of `sur_refl_qc_500m` (MOD09A1 500 m reflectance QC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QcFlags {
    /// Bits 0–1 MODLAND QA: 0 ideal, 1 less than ideal, 2 not produced (cloud), 3 not produced (other).
    pub modland: u8,
    /// 4-bit quality of bands 1..7 (band k at bits 2+4(k−1) .. 5+4(k−1)); 0 = highest quality.
    pub band_quality: [u8; 7],
    /// Bit 30: atmospheric correction performed.
    pub atmospheric_correction: bool,
    /// Bit 31: adjacency correction performed.
    pub adjacency_correction: bool,
}

impl QcFlags {
    /// Splits a `sur_refl_qc_500m` value into its fields.
    pub const fn decode(q: u32) -> Self {
        let mut band_quality = [0u8; 7];
        let mut k = 0;
        while k < 7 {
            band_quality[k] = ((q >> (2 + 4 * k)) & 0xF) as u8;
            k += 1;
        }
        Self {
            modland: (q & 0b11) as u8,
            band_quality,
            atmospheric_correction: q & (1 << 30) != 0,
            adjacency_correction: q & (1 << 31) != 0,
        }
    }
}

/// One validity rule; the reason an observation can be refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[repr(u8)]
pub enum QaRule {
    /// A QA layer holds its fill value (no observation).
    Fill = 0,
    /// MOD09 cloud state not in the accepted set.
    CloudState,
    /// MOD09 cloud shadow.
    CloudShadow,
    /// MOD09 internal cloud flag.
    InternalCloud,
    /// MOD09 adjacent to cloud.
    AdjacentCloud,
    /// MOD09 cirrus above the accepted level.
    Cirrus,
    /// MOD09 internal snow mask.
    InternalSnow,
    /// MOD09 MOD35 snow/ice flag.
    Mod35Snow,
    /// MOD09 fire flag.
    Fire,
    /// MOD09 land/water class not in the accepted set.
    LandWater,
    /// MOD09 aerosol quantity above the accepted level.
    Aerosol,
    /// MOD09 MODLAND QA not in the accepted set.
    Modland,
    /// MOD09 per-band quality worse than the accepted level.
    BandQuality,
    /// MOD09 atmospheric correction required but not performed.
    AtmosphericCorrection,
    /// MOD09 adjacency correction required but not performed.
    AdjacencyCorrection,
    /// A reflectance outside its valid range (or NaN).
    ReflectanceRange,
    /// MOD11 mandatory QA (`QC_Day` bits 0–1) not in the accepted set.
    LstMandatoryQa,
    /// MOD11 LST error (bits 6–7) above the accepted level.
    LstError,
    /// MOD11 emissivity error (bits 4–5) above the accepted level.
    EmissivityError,
    /// MOD11 LST DN below the minimum valid DN.
    LstRange,
    /// MOD13 pixel reliability not in the accepted set.
    Reliability,
}

impl QaRule {
    /// Number of rules.
    pub const COUNT: usize = 21;
    /// Every rule, in declaration order.
    pub const ALL: [QaRule; Self::COUNT] = [
        QaRule::Fill,
        QaRule::CloudState,
        QaRule::CloudShadow,
        QaRule::InternalCloud,
        QaRule::AdjacentCloud,
        QaRule::Cirrus,
        QaRule::InternalSnow,
        QaRule::Mod35Snow,
        QaRule::Fire,
        QaRule::LandWater,
        QaRule::Aerosol,
        QaRule::Modland,
        QaRule::BandQuality,
        QaRule::AtmosphericCorrection,
        QaRule::AdjacencyCorrection,
        QaRule::ReflectanceRange,
        QaRule::LstMandatoryQa,
        QaRule::LstError,
        QaRule::EmissivityError,
        QaRule::LstRange,
        QaRule::Reliability,
    ];
    /// A short snake_case name for reports.
    pub const fn name(self) -> &'static str {
        match self {
            QaRule::Fill => "fill",
            QaRule::CloudState => "cloud_state",
            QaRule::CloudShadow => "cloud_shadow",
            QaRule::InternalCloud => "internal_cloud",
            QaRule::AdjacentCloud => "adjacent_cloud",
            QaRule::Cirrus => "cirrus",
            QaRule::InternalSnow => "internal_snow",
            QaRule::Mod35Snow => "mod35_snow",
            QaRule::Fire => "fire",
            QaRule::LandWater => "land_water",
            QaRule::Aerosol => "aerosol",
            QaRule::Modland => "modland_qa",
            QaRule::BandQuality => "band_quality",
            QaRule::AtmosphericCorrection => "atmospheric_correction",
            QaRule::AdjacencyCorrection => "adjacency_correction",
            QaRule::ReflectanceRange => "reflectance_range",
            QaRule::LstMandatoryQa => "lst_mandatory_qa",
            QaRule::LstError => "lst_error",
            QaRule::EmissivityError => "emissivity_error",
            QaRule::LstRange => "lst_range",
            QaRule::Reliability => "pixel_reliability",
        }
    }
    /// The bit of this rule in a [`Rejections`] set.
    pub const fn bit(self) -> u32 {
        1 << (self as u8)
    }
}

/// The set of rules an observation failed (one bit per [`QaRule`]); empty = valid.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rejections(pub u32);

impl Rejections {
    /// No rule failed.
    pub const NONE: Rejections = Rejections(0);
    /// True when no rule failed.
    #[inline]
    pub const fn is_valid(self) -> bool {
        self.0 == 0
    }
    /// True when `rule` failed.
    #[inline]
    pub const fn contains(self, rule: QaRule) -> bool {
        self.0 & rule.bit() != 0
    }
    /// Adds `rule` when `failed` is true.
    #[inline]
    pub fn set_if(&mut self, rule: QaRule, failed: bool) {
        self.0 |= (failed as u32) << (rule as u8);
    }
    /// The failed rules, in declaration order.
    pub fn rules(self) -> impl Iterator<Item = QaRule> {
        QaRule::ALL.into_iter().filter(move |r| self.contains(*r))
    }
}

/// Mergeable counters: how many observations were seen, how many were valid, and how many each
/// rule rejected (an observation failing several rules is counted under each of them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidityReport {
    /// Observations examined.
    pub total: u64,
    /// Observations that passed every rule.
    pub valid: u64,
    /// Rejections per rule, indexed by `QaRule as usize`.
    pub rejected: [u64; QaRule::COUNT],
}

impl Default for ValidityReport {
    fn default() -> Self {
        Self { total: 0, valid: 0, rejected: [0; QaRule::COUNT] }
    }
}

impl ValidityReport {
    /// Records the outcome of one observation.
    #[inline]
    pub fn record(&mut self, r: Rejections) {
        self.total += 1;
        if r.is_valid() {
            self.valid += 1;
        } else {
            let mut bits = r.0;
            while bits != 0 {
                let k = bits.trailing_zeros() as usize;
                self.rejected[k] += 1;
                bits &= bits - 1;
            }
        }
    }
    /// How many observations `rule` rejected.
    pub fn rejected_by(&self, rule: QaRule) -> u64 {
        self.rejected[rule as usize]
    }
    /// The rules that rejected at least one observation, with their counts, in declaration order.
    pub fn nonzero(&self) -> Vec<(QaRule, u64)> {
        QaRule::ALL.iter().map(|&r| (r, self.rejected_by(r))).filter(|&(_, n)| n > 0).collect()
    }
    /// One line for logs, e.g. `1000 observations, 250 valid; rejected: cloud_state 600, cirrus 300`.
    pub fn summary(&self) -> String {
        let mut s = format!("{} observations, {} valid", self.total, self.valid);
        let nz = self.nonzero();
        if !nz.is_empty() {
            s.push_str("; rejected:");
            for (i, (r, n)) in nz.iter().enumerate() {
                s.push_str(if i == 0 { " " } else { ", " });
                s.push_str(&format!("{} {}", r.name(), n));
            }
        }
        s
    }
}

impl Accumulator for ValidityReport {
    type Output = ValidityReport;
    fn merge(&mut self, o: &Self) {
        self.total += o.total;
        self.valid += o.valid;
        for (a, b) in self.rejected.iter_mut().zip(o.rejected.iter()) {
            *a += *b;
        }
    }
    fn finish(&self) -> Self::Output {
        *self
    }
}

fn check_set(name: &str, set: &[u8], max: u8) -> Result<()> {
    if let Some(v) = set.iter().find(|&&v| v > max) {
        return Err(CoreError::InvalidOption { name: name.into(), reason: format!("value {v} is outside 0..={max}") });
    }
    Ok(())
}

fn check_max(name: &str, v: u8, max: u8) -> Result<()> {
    if v > max {
        return Err(CoreError::InvalidOption { name: name.into(), reason: format!("value {v} is outside 0..={max}") });
    }
    Ok(())
}

fn lens_match(what: &str, expected: usize, got: usize) -> Result<()> {
    if expected != got {
        return Err(CoreError::InvalidOption {
            name: what.into(),
            reason: format!("has {got} values where {expected} were expected (all layers of one observation must have the same size)"),
        });
    }
    Ok(())
}

/// MOD09A1 validity rules on `sur_refl_qc_500m` and `sur_refl_state_500m`.
///
/// Defaults (METHOD §1): cloud state ∈ {0, 3}, no cloud shadow, no internal cloud, not adjacent to
/// cloud, cirrus ≤ 1, no internal snow, MODLAND QA ∈ {0, 1}. Off by default: MOD35 snow, fire,
/// land/water class, aerosol, per-band quality, correction flags.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mod09Rules {
    /// Accepted cloud states (0 clear, 1 cloudy, 2 mixed, 3 not set).
    pub cloud_states: Vec<u8>,
    /// Refuse cloud shadow (state bit 2).
    pub reject_cloud_shadow: bool,
    /// Refuse the internal cloud flag (bit 10).
    pub reject_internal_cloud: bool,
    /// Refuse pixels adjacent to cloud (bit 13).
    pub reject_adjacent_cloud: bool,
    /// Highest accepted cirrus level (0..=3; 3 accepts everything).
    pub max_cirrus: u8,
    /// Refuse the internal snow mask (bit 15).
    pub reject_internal_snow: bool,
    /// Refuse the MOD35 snow/ice flag (bit 12).
    pub reject_mod35_snow: bool,
    /// Refuse the fire flag (bit 11).
    pub reject_fire: bool,
    /// Accepted land/water classes (0..=7); `None` accepts all.
    pub land_water_classes: Option<Vec<u8>>,
    /// Highest accepted aerosol quantity (0..=3); `None` accepts all.
    pub max_aerosol: Option<u8>,
    /// Accepted MODLAND QA values (0..=3).
    pub modland: Vec<u8>,
    /// Highest accepted 4-bit quality of each of the seven bands (0 best); `None` does not look.
    pub max_band_quality: Option<u8>,
    /// Require the atmospheric-correction bit (qc bit 30).
    pub require_atmospheric_correction: bool,
    /// Require the adjacency-correction bit (qc bit 31).
    pub require_adjacency_correction: bool,
}

impl Default for Mod09Rules {
    fn default() -> Self {
        Self {
            cloud_states: vec![0, 3],
            reject_cloud_shadow: true,
            reject_internal_cloud: true,
            reject_adjacent_cloud: true,
            max_cirrus: 1,
            reject_internal_snow: true,
            reject_mod35_snow: false,
            reject_fire: false,
            land_water_classes: None,
            max_aerosol: None,
            modland: vec![0, 1],
            max_band_quality: None,
            require_atmospheric_correction: false,
            require_adjacency_correction: false,
        }
    }
}

impl Mod09Rules {
    /// Checks that every value is inside its bit field's range.
    pub fn validate(&self) -> Result<()> {
        check_set("mod09.cloud_states", &self.cloud_states, 3)?;
        check_max("mod09.max_cirrus", self.max_cirrus, 3)?;
        if let Some(c) = &self.land_water_classes {
            check_set("mod09.land_water_classes", c, 7)?;
        }
        if let Some(a) = self.max_aerosol {
            check_max("mod09.max_aerosol", a, 3)?;
        }
        check_set("mod09.modland", &self.modland, 3)?;
        if let Some(q) = self.max_band_quality {
            check_max("mod09.max_band_quality", q, 15)?;
        }
        Ok(())
    }

    /// The rules a state value fails (QC not looked at). The fill value 65535 fails [`QaRule::Fill`].
    pub fn check_state(&self, state: u16) -> Rejections {
        let mut r = Rejections::NONE;
        if state == MOD09_STATE_FILL {
            r.set_if(QaRule::Fill, true);
            return r;
        }
        let s = StateFlags::decode(state);
        r.set_if(QaRule::CloudState, !self.cloud_states.contains(&s.cloud_state));
        r.set_if(QaRule::CloudShadow, self.reject_cloud_shadow && s.cloud_shadow);
        r.set_if(QaRule::InternalCloud, self.reject_internal_cloud && s.internal_cloud);
        r.set_if(QaRule::AdjacentCloud, self.reject_adjacent_cloud && s.adjacent_cloud);
        r.set_if(QaRule::Cirrus, s.cirrus > self.max_cirrus);
        r.set_if(QaRule::InternalSnow, self.reject_internal_snow && s.internal_snow);
        r.set_if(QaRule::Mod35Snow, self.reject_mod35_snow && s.mod35_snow);
        r.set_if(QaRule::Fire, self.reject_fire && s.fire);
        if let Some(c) = &self.land_water_classes {
            r.set_if(QaRule::LandWater, !c.contains(&s.land_water));
        }
        if let Some(a) = self.max_aerosol {
            r.set_if(QaRule::Aerosol, s.aerosol > a);
        }
        r
    }

    /// The rules a QC value fails (state not looked at). The fill value 4294967295 fails [`QaRule::Fill`].
    pub fn check_qc(&self, qc: u32) -> Rejections {
        let mut r = Rejections::NONE;
        if qc == MOD09_QC_FILL {
            r.set_if(QaRule::Fill, true);
            return r;
        }
        let q = QcFlags::decode(qc);
        r.set_if(QaRule::Modland, !self.modland.contains(&q.modland));
        if let Some(m) = self.max_band_quality {
            r.set_if(QaRule::BandQuality, q.band_quality.iter().any(|&b| b > m));
        }
        r.set_if(QaRule::AtmosphericCorrection, self.require_atmospheric_correction && !q.atmospheric_correction);
        r.set_if(QaRule::AdjacencyCorrection, self.require_adjacency_correction && !q.adjacency_correction);
        r
    }

    /// Every rule the observation fails (empty set = valid).
    #[inline]
    pub fn check(&self, qc: u32, state: u16) -> Rejections {
        Rejections(self.check_qc(qc).0 | self.check_state(state).0)
    }

    /// True when the observation passes every QA rule. Reflectance range is a separate check
    /// ([`ReflectanceRange`]).
    #[inline]
    pub fn is_valid(&self, qc: u32, state: u16) -> bool {
        self.check(qc, state).is_valid()
    }

    /// A fast checker for slices: the state rules are tabulated once (64 Ki entries), so compile
    /// once and reuse it when checking many small slices.
    pub fn compile(&self) -> Result<Mod09Checker> {
        self.validate()?;
        let state_table: Vec<u32> = (0..=u16::MAX).map(|s| self.check_state(s).0).collect();
        Ok(Mod09Checker { rules: self.clone(), state_table })
    }

    /// Writes `valid[i] = is_valid(qc[i], state[i])` for a whole slice (lengths must agree).
    pub fn validity_mask(&self, qc: &[u32], state: &[u16], valid: &mut [bool]) -> Result<()> {
        self.compile()?.validity_mask(qc, state, valid, None)
    }
}

/// [`Mod09Rules`] prepared for slices (state rules looked up in a table). Built by [`Mod09Rules::compile`].
#[derive(Clone, Debug)]
pub struct Mod09Checker {
    rules: Mod09Rules,
    state_table: Vec<u32>,
}

impl Mod09Checker {
    /// The rules this checker applies.
    pub fn rules(&self) -> &Mod09Rules {
        &self.rules
    }
    /// Same as [`Mod09Rules::check`].
    #[inline]
    pub fn check(&self, qc: u32, state: u16) -> Rejections {
        Rejections(self.rules.check_qc(qc).0 | self.state_table[state as usize])
    }
    /// Writes the validity of each observation into `valid` and, when given, records every outcome
    /// in `report`. All three slices must have the same length.
    pub fn validity_mask(&self, qc: &[u32], state: &[u16], valid: &mut [bool], mut report: Option<&mut ValidityReport>) -> Result<()> {
        lens_match("sur_refl_state_500m", qc.len(), state.len())?;
        lens_match("validity mask", qc.len(), valid.len())?;
        for ((v, &q), &s) in valid.iter_mut().zip(qc).zip(state) {
            let r = self.check(q, s);
            *v = r.is_valid();
            if let Some(rep) = report.as_deref_mut() {
                rep.record(r);
            }
        }
        Ok(())
    }
}

/// The valid range of MOD09 surface reflectance: DN −100..=16000 (scale 0.0001), fill −28672.
///
/// This is a value check, separate from the QA bits. Scaled floats are compared with half a DN of
/// tolerance (−100 × 0.0001 is not exact in f32); NaN is invalid.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReflectanceRange {
    /// Smallest valid DN.
    pub min_dn: i32,
    /// Largest valid DN.
    pub max_dn: i32,
    /// Scale factor from DN to reflectance.
    pub scale: f64,
}

impl Default for ReflectanceRange {
    fn default() -> Self {
        Self { min_dn: -100, max_dn: 16000, scale: 1e-4 }
    }
}

impl ReflectanceRange {
    /// True when a raw DN is inside the valid range.
    #[inline]
    pub fn contains_dn(&self, dn: i32) -> bool {
        dn >= self.min_dn && dn <= self.max_dn
    }
    /// Bounds on scaled values, widened by half a DN: `((min_dn − 0.5)·scale, (max_dn + 0.5)·scale)`.
    pub fn scaled_bounds(&self) -> (f32, f32) {
        (((f64::from(self.min_dn) - 0.5) * self.scale) as f32, ((f64::from(self.max_dn) + 0.5) * self.scale) as f32)
    }
    /// True when a scaled reflectance is inside the valid range (NaN → false).
    #[inline]
    pub fn contains_scaled(&self, rho: f32) -> bool {
        let (lo, hi) = self.scaled_bounds();
        rho >= lo && rho <= hi
    }
    /// True when all seven scaled reflectances of one observation are valid.
    pub fn all_valid(&self, rho: &[f32; 7]) -> bool {
        let (lo, hi) = self.scaled_bounds();
        rho.iter().all(|&v| v >= lo && v <= hi)
    }
    /// ANDs the range check of all seven bands into `valid` (`valid[i] &= every band i in range`).
    /// Every slice must have the length of `valid`. When `report` is given, pixels that were valid
    /// before and fail here are counted under [`QaRule::ReflectanceRange`] (and `valid` is lowered);
    /// the report's `total` is not changed (the QA check already counted the observation).
    pub fn and_mask(&self, bands: [&[f32]; 7], valid: &mut [bool], report: Option<&mut ValidityReport>) -> Result<()> {
        for (k, b) in bands.iter().enumerate() {
            lens_match(&format!("sur_refl_b0{}", k + 1), valid.len(), b.len())?;
        }
        let (lo, hi) = self.scaled_bounds();
        let mut failed = 0u64;
        for (i, v) in valid.iter_mut().enumerate() {
            let ok = bands.iter().all(|b| {
                let x = b[i];
                x >= lo && x <= hi
            });
            if *v && !ok {
                failed += 1;
            }
            *v &= ok;
        }
        if let Some(rep) = report {
            rep.rejected[QaRule::ReflectanceRange as usize] += failed;
            rep.valid -= failed.min(rep.valid);
        }
        Ok(())
    }
}

/// MOD11A2 / MOD11A1 validity rules on `QC_Day` and the `LST_Day_1km` DN.
///
/// Defaults (METHOD §1): mandatory QA (bits 0–1) ∈ {0, 1}, LST error (bits 6–7) ≤ 1 (≤ 2 K),
/// DN ≥ 7500 (150 K). DN 0 is the fill value and never valid.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mod11Rules {
    /// Accepted mandatory QA values (0 good, 1 produced/other quality, 2 not produced: cloud, 3 not produced: other).
    pub mandatory_qa: Vec<u8>,
    /// Highest accepted LST error class (bits 6–7: 0 ≤ 1 K, 1 ≤ 2 K, 2 ≤ 3 K, 3 > 3 K).
    pub max_lst_error: u8,
    /// Highest accepted emissivity error class (bits 4–5); `None` does not look.
    pub max_emissivity_error: Option<u8>,
    /// Smallest valid DN (K = DN × 0.02).
    pub min_dn: u16,
}

impl Default for Mod11Rules {
    fn default() -> Self {
        Self { mandatory_qa: vec![0, 1], max_lst_error: 1, max_emissivity_error: None, min_dn: 7500 }
    }
}

impl Mod11Rules {
    /// Checks that every value is inside its bit field's range.
    pub fn validate(&self) -> Result<()> {
        check_set("mod11.mandatory_qa", &self.mandatory_qa, 3)?;
        check_max("mod11.max_lst_error", self.max_lst_error, 3)?;
        if let Some(e) = self.max_emissivity_error {
            check_max("mod11.max_emissivity_error", e, 3)?;
        }
        Ok(())
    }
    /// Every rule the observation fails.
    pub fn check(&self, qc: u8, dn: u16) -> Rejections {
        let mut r = Rejections::NONE;
        if dn == MOD11_LST_FILL {
            r.set_if(QaRule::Fill, true);
            return r;
        }
        r.set_if(QaRule::LstMandatoryQa, !self.mandatory_qa.contains(&(qc & 0b11)));
        r.set_if(QaRule::LstError, (qc >> 6) & 0b11 > self.max_lst_error);
        if let Some(e) = self.max_emissivity_error {
            r.set_if(QaRule::EmissivityError, (qc >> 4) & 0b11 > e);
        }
        r.set_if(QaRule::LstRange, dn < self.min_dn);
        r
    }
    /// True when the observation passes every rule.
    #[inline]
    pub fn is_valid(&self, qc: u8, dn: u16) -> bool {
        self.check(qc, dn).is_valid()
    }
    /// Writes the validity of each observation into `valid`, recording outcomes in `report` if given.
    pub fn validity_mask(&self, qc: &[u8], dn: &[u16], valid: &mut [bool], mut report: Option<&mut ValidityReport>) -> Result<()> {
        self.validate()?;
        lens_match("LST_Day_1km", qc.len(), dn.len())?;
        lens_match("validity mask", qc.len(), valid.len())?;
        for ((v, &q), &d) in valid.iter_mut().zip(qc).zip(dn) {
            let r = self.check(q, d);
            *v = r.is_valid();
            if let Some(rep) = report.as_deref_mut() {
                rep.record(r);
            }
        }
        Ok(())
    }
}

/// MOD13A1 validity rule on the pixel reliability layer (−1 fill, 0 good, 1 marginal, 2 snow/ice, 3 cloudy).
/// Default (METHOD §1): reliability ∈ {0, 1}.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Mod13Rules {
    /// Accepted reliability values.
    pub reliability: Vec<i8>,
}

impl Default for Mod13Rules {
    fn default() -> Self {
        Self { reliability: vec![0, 1] }
    }
}

impl Mod13Rules {
    /// Checks that the accepted values are inside 0..=3.
    pub fn validate(&self) -> Result<()> {
        if let Some(v) = self.reliability.iter().find(|&&v| !(0..=3).contains(&v)) {
            return Err(CoreError::InvalidOption { name: "mod13.reliability".into(), reason: format!("value {v} is outside 0..=3") });
        }
        Ok(())
    }
    /// Every rule the observation fails.
    pub fn check(&self, reliability: i8) -> Rejections {
        let mut r = Rejections::NONE;
        if reliability == MOD13_RELIABILITY_FILL {
            r.set_if(QaRule::Fill, true);
        } else {
            r.set_if(QaRule::Reliability, !self.reliability.contains(&reliability));
        }
        r
    }
    /// True when the observation passes.
    #[inline]
    pub fn is_valid(&self, reliability: i8) -> bool {
        self.check(reliability).is_valid()
    }
    /// Writes the validity of each observation into `valid`, recording outcomes in `report` if given.
    pub fn validity_mask(&self, reliability: &[i8], valid: &mut [bool], mut report: Option<&mut ValidityReport>) -> Result<()> {
        self.validate()?;
        lens_match("validity mask", reliability.len(), valid.len())?;
        for (v, &r) in valid.iter_mut().zip(reliability) {
            let c = self.check(r);
            *v = c.is_valid();
            if let Some(rep) = report.as_deref_mut() {
                rep.record(c);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop, clippy::too_many_arguments, clippy::field_reassign_with_default)]
mod tests {
    use super::*;

    /// Builds a state value from its fields (inverse of decode, written independently with shifts).
    fn state(cloud: u16, shadow: u16, lw: u16, aer: u16, cirrus: u16, icl: u16, fire: u16, snow35: u16, adj: u16, brdf: u16, isnow: u16) -> u16 {
        cloud | shadow << 2 | lw << 3 | aer << 6 | cirrus << 8 | icl << 10 | fire << 11 | snow35 << 12 | adj << 13 | brdf << 14 | isnow << 15
    }

    #[test]
    fn decode_state_every_field() {
        // 0b1010_1001_1110_1010: bits 0-1 = 0b10 = 2 (mixed); bit 2 = 0; bits 3-5 = 0b101 = 5;
        // bits 6-7 = 0b11 = 3; bits 8-9 = 0b01 = 1; bit 10 = 0; bit 11 = 1; bit 12 = 0; bit 13 = 1; bit 14 = 0; bit 15 = 1
        let f = StateFlags::decode(0b1010_1001_1110_1010);
        assert_eq!(f.cloud_state, 2);
        assert!(!f.cloud_shadow);
        assert_eq!(f.land_water, 5);
        assert_eq!(f.aerosol, 3);
        assert_eq!(f.cirrus, 1);
        assert!(!f.internal_cloud);
        assert!(f.fire);
        assert!(!f.mod35_snow);
        assert!(f.adjacent_cloud);
        assert!(!f.brdf_corrected);
        assert!(f.internal_snow);
        // the complement pattern 0b0101_0110_0001_0101 flips every flag
        let g = StateFlags::decode(0b0101_0110_0001_0101);
        assert_eq!(g.cloud_state, 1);
        assert!(g.cloud_shadow);
        assert_eq!(g.land_water, 2);
        assert_eq!(g.aerosol, 0);
        assert_eq!(g.cirrus, 2);
        assert!(g.internal_cloud && !g.fire && g.mod35_snow && !g.adjacent_cloud && g.brdf_corrected && !g.internal_snow);
    }

    #[test]
    fn decode_qc_every_field() {
        // MODLAND 1, b1 = 0x3 (bits 2-5), b2 = 0x0, b3 = 0xF, b4 = 0x8, b5 = 0x1, b6 = 0x7, b7 = 0xC, bit 30 set, bit 31 clear:
        // 1 + 3<<2 + 15<<10 + 8<<14 + 1<<18 + 7<<22 + 12<<26 + 1<<30
        let q: u32 = 1 | 3 << 2 | 15 << 10 | 8 << 14 | 1 << 18 | 7 << 22 | 12 << 26 | 1 << 30;
        let f = QcFlags::decode(q);
        assert_eq!(f.modland, 1);
        assert_eq!(f.band_quality, [3, 0, 15, 8, 1, 7, 12]);
        assert!(f.atmospheric_correction);
        assert!(!f.adjacency_correction);
        assert!(QcFlags::decode(1 << 31).adjacency_correction);
    }

    #[test]
    fn mod09_default_rules_one_by_one() {
        let r = Mod09Rules::default();
        let clear_land = state(0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0); // = 0b0100_1000 = 72
        assert_eq!(clear_land, 72);
        assert!(r.is_valid(0, clear_land));
        // cloud states: 0 ok, 1 no, 2 no, 3 ok
        assert!(r.is_valid(0, 72 | 3));
        assert_eq!(r.check(0, 72 | 1), Rejections(QaRule::CloudState.bit()));
        assert_eq!(r.check(0, 72 | 2), Rejections(QaRule::CloudState.bit()));
        // shadow bit 2 = 4
        assert_eq!(r.check(0, 72 | 4), Rejections(QaRule::CloudShadow.bit()));
        // cirrus 1 (256) ok, 2 (512) and 3 (768) refused
        assert!(r.is_valid(0, 72 | 256));
        assert_eq!(r.check(0, 72 | 512), Rejections(QaRule::Cirrus.bit()));
        assert_eq!(r.check(0, 72 | 768), Rejections(QaRule::Cirrus.bit()));
        // internal cloud bit 10 = 1024, adjacent bit 13 = 8192, internal snow bit 15 = 32768
        assert_eq!(r.check(0, 72 | 1024), Rejections(QaRule::InternalCloud.bit()));
        assert_eq!(r.check(0, 72 | 8192), Rejections(QaRule::AdjacentCloud.bit()));
        assert_eq!(r.check(0, 72 | 32768), Rejections(QaRule::InternalSnow.bit()));
        // off by default: fire (2048), MOD35 snow (4096), BRDF (16384), any land/water class, aerosol 3
        assert!(r.is_valid(0, 72 | 2048 | 4096 | 16384));
        assert!(r.is_valid(0, state(0, 0, 7, 3, 0, 0, 0, 0, 0, 0, 0)));
        // MODLAND: 0 and 1 ok, 2 and 3 refused
        assert!(r.is_valid(1, 72));
        assert_eq!(r.check(2, 72), Rejections(QaRule::Modland.bit()));
        assert_eq!(r.check(3, 72), Rejections(QaRule::Modland.bit()));
        // per-band quality not looked at by default: all bands at 15
        assert!(r.is_valid(0x3FFF_FFFC, 72));
        // several failures at once are all reported
        let c = r.check(2, 72 | 1 | 4);
        assert!(c.contains(QaRule::Modland) && c.contains(QaRule::CloudState) && c.contains(QaRule::CloudShadow));
        assert_eq!(c.rules().count(), 3);
    }

    #[test]
    fn mod09_fill_values_never_valid() {
        let mut lax = Mod09Rules::default();
        lax.cloud_states = vec![0, 1, 2, 3];
        lax.reject_cloud_shadow = false;
        lax.reject_internal_cloud = false;
        lax.reject_adjacent_cloud = false;
        lax.reject_internal_snow = false;
        lax.max_cirrus = 3;
        lax.modland = vec![0, 1, 2, 3];
        // 65535 would pass every lax bit rule: only the fill check refuses it
        assert_eq!(lax.check(0, 65535), Rejections(QaRule::Fill.bit()));
        assert_eq!(lax.check(u32::MAX, 0), Rejections(QaRule::Fill.bit()));
        assert!(lax.is_valid(0xFFFF_FFFE, 65534));
        assert!(!Mod09Rules::default().is_valid(u32::MAX, 65535));
    }

    #[test]
    fn mod09_optional_rules() {
        let r = Mod09Rules {
            reject_mod35_snow: true,
            reject_fire: true,
            land_water_classes: Some(vec![1]),
            max_aerosol: Some(2),
            max_band_quality: Some(0),
            require_atmospheric_correction: true,
            require_adjacency_correction: true,
            ..Mod09Rules::default()
        };
        let ok_qc: u32 = 3 << 30; // both corrections, MODLAND 0, all bands quality 0
        let land = state(0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0); // 8
        assert!(r.is_valid(ok_qc, land));
        assert_eq!(r.check(ok_qc, land | 4096), Rejections(QaRule::Mod35Snow.bit()));
        assert_eq!(r.check(ok_qc, land | 2048), Rejections(QaRule::Fire.bit()));
        // class 5 (deep inland water) = 5 << 3 = 40
        assert_eq!(r.check(ok_qc, 40), Rejections(QaRule::LandWater.bit()));
        // aerosol 3 = 3 << 6 = 192
        assert_eq!(r.check(ok_qc, land | 192), Rejections(QaRule::Aerosol.bit()));
        // band 7 quality 1 (bit 26)
        assert_eq!(r.check(ok_qc | 1 << 26, land), Rejections(QaRule::BandQuality.bit()));
        assert_eq!(r.check(1 << 31, land), Rejections(QaRule::AtmosphericCorrection.bit()));
        assert_eq!(r.check(1 << 30, land), Rejections(QaRule::AdjacencyCorrection.bit()));
    }

    #[test]
    fn mod09_rules_are_validated_and_serde_defaults() {
        let bad = Mod09Rules { cloud_states: vec![4], ..Default::default() };
        assert!(matches!(bad.validate(), Err(CoreError::InvalidOption { ref name, .. }) if name == "mod09.cloud_states"));
        assert!(bad.compile().is_err());
        assert!(Mod09Rules { max_band_quality: Some(16), ..Default::default() }.validate().is_err());
        assert!(Mod09Rules::default().validate().is_ok());
        // a config names only what it changes; the rest keeps the METHOD defaults
        let r: Mod09Rules = serde_json::from_str(r#"{"max_cirrus": 0, "reject_fire": true}"#).unwrap();
        assert_eq!(r, Mod09Rules { max_cirrus: 0, reject_fire: true, ..Default::default() });
        assert!(serde_json::from_str::<Mod09Rules>(r#"{"max_cirus": 0}"#).is_err(), "misspelt keys are refused");
        let m: Mod11Rules = serde_json::from_str("{}").unwrap();
        assert_eq!(m, Mod11Rules::default());
    }

    #[test]
    fn mod09_slice_mask_and_report() {
        let r = Mod09Rules::default();
        let qc = [0u32, 0, 2, u32::MAX, 1];
        let st = [8u16, 9, 8 | 4, 8, 8 | 512 | 1];
        let mut valid = [false; 5];
        let checker = r.compile().unwrap();
        let mut rep = ValidityReport::default();
        checker.validity_mask(&qc, &st, &mut valid, Some(&mut rep)).unwrap();
        assert_eq!(valid, [true, false, false, false, false]);
        assert_eq!(rep.total, 5);
        assert_eq!(rep.valid, 1);
        // obs 1: cloud state 1; obs 2: modland 2 + shadow; obs 3: fill; obs 4: cirrus 2 + cloudy
        assert_eq!(rep.rejected_by(QaRule::CloudState), 2);
        assert_eq!(rep.rejected_by(QaRule::Modland), 1);
        assert_eq!(rep.rejected_by(QaRule::CloudShadow), 1);
        assert_eq!(rep.rejected_by(QaRule::Fill), 1);
        assert_eq!(rep.rejected_by(QaRule::Cirrus), 1);
        assert_eq!(rep.summary(), "5 observations, 1 valid; rejected: fill 1, cloud_state 2, cloud_shadow 1, cirrus 1, modland_qa 1");
        // the table agrees with the direct rules for every state value
        for s in (0..=u16::MAX).step_by(7) {
            assert_eq!(checker.check(0, s), r.check(0, s));
        }
        let mut v2 = [false; 5];
        r.validity_mask(&qc, &st, &mut v2).unwrap();
        assert_eq!(v2, valid);
        assert!(r.validity_mask(&qc, &st[..4], &mut v2).is_err());
        // reports merge by addition
        let mut m = rep;
        m.merge(&rep);
        assert_eq!(m.total, 10);
        assert_eq!(m.rejected_by(QaRule::CloudState), 4);
    }

    #[test]
    fn reflectance_range() {
        let rr = ReflectanceRange::default();
        // DN bounds: −100 and 16000 are valid, −101 and 16001 are not
        assert!(rr.contains_dn(-100) && rr.contains_dn(16000) && !rr.contains_dn(-101) && !rr.contains_dn(16001));
        // scaled the way a reader does it: DN as f32 × 0.0001f32
        let s = |dn: i16| f32::from(dn) * 1e-4_f32;
        assert!(rr.contains_scaled(s(-100)) && rr.contains_scaled(s(16000)));
        assert!(!rr.contains_scaled(s(-101)) && !rr.contains_scaled(s(16001)));
        assert!(!rr.contains_scaled(s(-28672))); // fill
        assert!(!rr.contains_scaled(f32::NAN));
        let mut rho = [0.05f32; 7];
        assert!(rr.all_valid(&rho));
        rho[6] = f32::NAN;
        assert!(!rr.all_valid(&rho));
        // slice version ANDs into the mask and counts what it lowered
        let good = [0.1f32, 0.2, 0.3];
        let bad = [0.1f32, 1.7, f32::NAN];
        let mut valid = [true, true, false];
        let mut rep = ValidityReport { total: 3, valid: 2, ..Default::default() };
        rr.and_mask([&good, &good, &good, &good, &good, &bad, &good], &mut valid, Some(&mut rep)).unwrap();
        assert_eq!(valid, [true, false, false]);
        assert_eq!(rep.valid, 1);
        assert_eq!(rep.rejected_by(QaRule::ReflectanceRange), 1);
        assert!(rr.and_mask([&good, &good, &good, &good, &good, &good[..2], &good], &mut valid, None).is_err());
    }

    #[test]
    fn mod11_rules() {
        let r = Mod11Rules::default();
        // qc 0, DN 15000 (300 K) valid
        assert!(r.is_valid(0, 15000));
        // mandatory QA 1 ok; 2 (= 0b10) and 3 refused
        assert!(r.is_valid(1, 15000));
        assert_eq!(r.check(2, 15000), Rejections(QaRule::LstMandatoryQa.bit()));
        assert_eq!(r.check(3, 15000), Rejections(QaRule::LstMandatoryQa.bit()));
        // LST error bits 6-7: 1 (= 64) ok, 2 (= 128) and 3 (= 192) refused
        assert!(r.is_valid(64, 15000));
        assert_eq!(r.check(128, 15000), Rejections(QaRule::LstError.bit()));
        assert_eq!(r.check(192 | 1, 15000), Rejections(QaRule::LstError.bit()));
        // emissivity error (bits 4-5 = 48) not looked at by default
        assert!(r.is_valid(48, 15000));
        let strict = Mod11Rules { max_emissivity_error: Some(1), ..Default::default() };
        assert_eq!(strict.check(48, 15000), Rejections(QaRule::EmissivityError.bit()));
        // DN range: 7500 ok, 7499 refused, 0 is fill
        assert!(r.is_valid(0, 7500));
        assert_eq!(r.check(0, 7499), Rejections(QaRule::LstRange.bit()));
        assert_eq!(r.check(0, 0), Rejections(QaRule::Fill.bit()));
        let mut v = [false; 3];
        let mut rep = ValidityReport::default();
        r.validity_mask(&[0, 2, 0], &[15000, 15000, 0], &mut v, Some(&mut rep)).unwrap();
        assert_eq!(v, [true, false, false]);
        assert_eq!((rep.total, rep.valid, rep.rejected_by(QaRule::Fill)), (3, 1, 1));
        assert!(Mod11Rules { max_lst_error: 4, ..Default::default() }.validate().is_err());
    }

    #[test]
    fn mod13_rules() {
        let r = Mod13Rules::default();
        assert!(r.is_valid(0) && r.is_valid(1));
        assert_eq!(r.check(2), Rejections(QaRule::Reliability.bit()));
        assert_eq!(r.check(3), Rejections(QaRule::Reliability.bit()));
        assert_eq!(r.check(-1), Rejections(QaRule::Fill.bit()));
        let lax = Mod13Rules { reliability: vec![0, 1, 2, 3] };
        assert!(lax.is_valid(3) && !lax.is_valid(-1));
        assert!(Mod13Rules { reliability: vec![-1] }.validate().is_err());
        let mut v = [true; 2];
        r.validity_mask(&[0, 3], &mut v, None).unwrap();
        assert_eq!(v, [true, false]);
    }
}
