//! Ranking the drivers across cities (paper §4.4, Fig. 8).
//!
//! Within each city the drivers are ranked by %IncMSE, 1 = most important ([`rank_descending`]:
//! ties share the mean of the ranks they span, as R's `rank(ties.method = "average")`); a driver
//! that is not in a city's model (`NaN`, e.g. constant there) has no rank in that city. The
//! ranks are then averaged over the cities where the driver has one, and the drivers ordered by
//! that mean rank, ascending (smaller = more important; equal means keep the input order; drivers
//! ranked in no city come last).
//!
//! ```
//! use rsei_core::drivers::mean_ranks;
//! let names: Vec<String> = ["DEM", "GDP", "DisM"].iter().map(|s| s.to_string()).collect();
//! // city A: DisM 80 > DEM 50 > GDP 10 ⇒ ranks DEM 2, GDP 3, DisM 1
//! // city B: DEM 60 > DisM 40 > GDP 5  ⇒ ranks DEM 1, GDP 3, DisM 2
//! let r = mean_ranks(&names, &[vec![50.0, 10.0, 80.0], vec![60.0, 5.0, 40.0]]).unwrap();
//! assert_eq!(r[0].name, "DEM");  // (2 + 1) / 2 = 1.5, tie with DisM (1 + 2) / 2: input order
//! assert_eq!(r[1].name, "DisM");
//! assert_eq!((r[2].name.as_str(), r[2].mean_rank), ("GDP", 3.0));
//! ```

use serde::{Deserialize, Serialize};

use crate::error::{CoreError, Result};

/// Ranks of `values`, 1 for the largest; ties get the mean of the ranks they span; `NaN` values
/// get a `NaN` rank and are not counted.
///
/// ```
/// use rsei_core::drivers::rank_descending;
/// let r = rank_descending(&[5.0, 9.0, 5.0, f64::NAN, 1.0]);
/// assert_eq!(&r[..3], &[2.5, 1.0, 2.5]); // the two 5s share ranks 2 and 3
/// assert!(r[3].is_nan());
/// assert_eq!(r[4], 4.0);
/// ```
pub fn rank_descending(values: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..values.len()).filter(|&i| !values[i].is_nan()).collect();
    idx.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    let mut ranks = vec![f64::NAN; values.len()];
    let mut k = 0;
    while k < idx.len() {
        let mut e = k;
        while e + 1 < idx.len() && values[idx[e + 1]] == values[idx[k]] {
            e += 1;
        }
        // positions k..=e hold ranks k+1..=e+1: their mean
        let mean = (k + 1 + e + 1) as f64 / 2.0;
        for &i in &idx[k..=e] {
            ranks[i] = mean;
        }
        k = e + 1;
    }
    ranks
}

/// One driver's place in the cross-city ranking.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriverRank {
    pub name: String,
    /// Mean of the within-city ranks (`NaN` when ranked in no city).
    pub mean_rank: f64,
    /// Rank in each city, in the order of the input (`NaN` where not ranked).
    pub ranks: Vec<f64>,
    /// Cities where the driver has a rank.
    pub cities: usize,
}

/// Ranks the drivers within each city by importance (`per_city[i][j]` = %IncMSE of driver `j` in
/// city `i`, `NaN` when absent) and orders them by mean rank (see the module documentation).
///
/// Errors: no city, or a city whose row does not have one value per driver.
pub fn mean_ranks(drivers: &[String], per_city: &[Vec<f64>]) -> Result<Vec<DriverRank>> {
    if per_city.is_empty() {
        return Err(CoreError::NoValidPixels("no city to rank the drivers in".into()));
    }
    if let Some((i, row)) = per_city.iter().enumerate().find(|(_, r)| r.len() != drivers.len()) {
        return Err(CoreError::InvalidOption {
            name: "importance table".into(),
            reason: format!("city {i} has {} values for {} drivers", row.len(), drivers.len()),
        });
    }
    let ranks: Vec<Vec<f64>> = per_city.iter().map(|row| rank_descending(row)).collect();
    let mut out: Vec<DriverRank> = drivers
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let r: Vec<f64> = ranks.iter().map(|row| row[j]).collect();
            let valid: Vec<f64> = r.iter().copied().filter(|v| !v.is_nan()).collect();
            let mean_rank = if valid.is_empty() { f64::NAN } else { valid.iter().sum::<f64>() / valid.len() as f64 };
            DriverRank { name: name.clone(), mean_rank, ranks: r, cities: valid.len() }
        })
        .collect();
    // stable sort: equal means keep the input order; NaN last
    out.sort_by(|a, b| match (a.mean_rank.is_nan(), b.mean_rank.is_nan()) {
        (false, false) => a.mean_rank.total_cmp(&b.mean_rank),
        (a_nan, b_nan) => a_nan.cmp(&b_nan),
    });
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::needless_range_loop, clippy::nonminimal_bool)]
mod tests {
    use super::*;

    #[test]
    fn paper_like_ranking_by_hand() {
        let names: Vec<String> = ["A", "B", "C", "D"].iter().map(|s| s.to_string()).collect();
        // city 1: ranks A 1, B 2, C 3, D 4; city 2: C 1, A 2, B 3, D NaN (constant there);
        // city 3: A and B tie for 1–2 (1.5 each), C 3, D 4
        // means: A (1 + 2 + 1.5)/3 = 1.5; B (2 + 3 + 1.5)/3 = 2.1667; C (3 + 1 + 3)/3 = 2.3333; D (4 + 4)/2 = 4
        let r = mean_ranks(
            &names,
            &[vec![90.0, 50.0, 20.0, 1.0], vec![30.0, 10.0, 40.0, f64::NAN], vec![70.0, 70.0, 10.0, 5.0]],
        )
        .unwrap();
        let order: Vec<&str> = r.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(order, ["A", "B", "C", "D"]);
        assert_eq!(r[0].mean_rank, 1.5);
        assert!((r[1].mean_rank - 6.5 / 3.0).abs() < 1e-12);
        assert!((r[2].mean_rank - 7.0 / 3.0).abs() < 1e-12);
        assert_eq!((r[3].mean_rank, r[3].cities), (4.0, 2));
        assert!(r[3].ranks[1].is_nan());
        // a driver never ranked comes last with a NaN mean
        let r = mean_ranks(&names[..2], &[vec![f64::NAN, 1.0]]).unwrap();
        assert_eq!(r[0].name, "B");
        assert!(r[1].mean_rank.is_nan());
        assert!(mean_ranks(&names, &[]).is_err());
        assert!(mean_ranks(&names, &[vec![1.0]]).is_err());
    }
}
