//! Robust slope estimation for the leak detector: the Theil–Sen estimator
//! (the median of all pairwise slopes) with Sen's distribution-free
//! confidence interval, whose ranks come from the exact null distribution of
//! Kendall's S (the number of permutations of n items with k inversions).
//!
//! Why this estimator (see docs/leak-detector.md): it ignores up to ~29% of
//! wild points (a GC that landed while a batch job held memory), it needs no
//! assumption about the shape of the scatter, its interval is exact for any
//! n (no normal approximation on 4 or 5 points), and with n bounded (at most
//! [`MAX_POINTS`]) it costs O(n²) per fit: under 500 slopes.

#![forbid(unsafe_code)]

/// The most points one fit uses; longer spans are binned down to this.
pub const MAX_POINTS: usize = 32;

/// Ranks of Sen's lower confidence bound for each number of points, at one
/// one-sided confidence level.
#[derive(Debug, Clone)]
pub struct SenRanks {
    /// `rank[n]`: the 1-based rank k of the pairwise slope that is the lower
    /// bound for n points; 0 when n points cannot reach the confidence.
    rank: Vec<usize>,
}

impl SenRanks {
    /// Ranks for `confidence` (one-sided, e.g. 0.95) and up to `max_n` points.
    ///
    /// For n points with distinct times and N = n(n-1)/2 pairwise slopes
    /// sorted ascending, P(true slope < slope_(k)) = P(I <= k-1), where I is
    /// the number of inversions of a uniformly random permutation of n items
    /// (the null distribution of Kendall's S = N - 2I). k is the largest rank
    /// with P(I <= k-1) <= 1 - confidence. By symmetry slope_(N+1-k) is the
    /// upper bound at the same confidence.
    pub fn new(confidence: f64, max_n: usize) -> SenRanks {
        let alpha = (1.0 - confidence).clamp(0.0, 1.0);
        let mut rank = vec![0usize; max_n + 1];
        // dist[m] = P(I = m) for the current n; starts at n = 1.
        let mut dist: Vec<f64> = vec![1.0];
        for n in 2..=max_n {
            // Adding the n-th item adds 0..n-1 inversions, uniformly.
            let len = dist.len() + n - 1;
            let mut next = vec![0.0f64; len];
            // Sliding-window sum of the previous distribution.
            let mut window = 0.0;
            for (m, slot) in next.iter_mut().enumerate() {
                if m < dist.len() {
                    window += dist[m];
                }
                if m >= n && m - n < dist.len() {
                    window -= dist[m - n];
                }
                *slot = window.max(0.0) / n as f64;
            }
            dist = next;
            let mut cumulative = 0.0;
            let mut k = 0;
            for (m, p) in dist.iter().enumerate() {
                cumulative += p;
                // Small slack for rounding in the running sums.
                if cumulative <= alpha * (1.0 + 1e-9) {
                    k = m + 1; // P(I <= m) <= alpha, so rank m + 1 qualifies
                } else {
                    break;
                }
            }
            rank[n] = k;
        }
        SenRanks { rank }
    }

    /// The 1-based rank of the lower bound for `n` points, if `n` points can
    /// reach the confidence.
    pub fn lower_rank(&self, n: usize) -> Option<usize> {
        match self.rank.get(n) {
            Some(&k) if k > 0 => Some(k),
            _ => None,
        }
    }
}

/// A straight line fitted through points `(t, y)` with `t` relative to the
/// first point, with bounds on its slope.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// Theil–Sen slope (y units per t unit).
    pub slope: f64,
    /// Sen's lower bound on the slope, or `-inf` when the points are too few.
    pub low: f64,
    /// Sen's upper bound on the slope, or `+inf` when the points are too few.
    pub high: f64,
    /// Median intercept: the line is `intercept + slope * (t - t0)`.
    pub intercept: f64,
    /// Points used.
    pub n: usize,
}

impl Fit {
    /// The line's value at `t` (same time origin as the points' `t`).
    pub fn at(&self, t_rel: f64) -> f64 {
        self.intercept + self.slope * t_rel
    }
}

/// The k-th smallest (1-based) of `v` (reorders `v`).
fn kth(v: &mut [f64], k: usize) -> f64 {
    let i = k.clamp(1, v.len()) - 1;
    let (_, x, _) = v.select_nth_unstable_by(i, f64::total_cmp);
    *x
}

/// The median of `v` (reorders `v`); the mean of the two middle values when
/// the length is even. `v` must not be empty.
pub fn median(v: &mut [f64]) -> f64 {
    let n = v.len();
    let hi = kth(v, n / 2 + 1);
    if n % 2 == 1 {
        hi
    } else {
        // The lower middle is the largest of the lower half.
        let lo = v[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lo + hi) / 2.0
    }
}

/// The `q` quantile (0 to 1, nearest rank) of `v` (reorders `v`); 0 for an
/// empty slice.
pub fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let k = ((q.clamp(0.0, 1.0) * v.len() as f64).ceil() as usize).max(1);
    kth(v, k)
}

/// Theil–Sen fit of `pts` (`t` ascending, relative to the first point) with
/// Sen's bounds at the rank `ranks` gives for `pts.len()` points. Pairs with
/// equal `t` carry no slope and are skipped (the lower rank is lowered by as
/// many, which only widens the interval). `scratch` is reused storage.
/// Returns `None` with fewer than 2 points or no pair of distinct times.
#[cfg(test)]
pub fn theil_sen(pts: &[(f64, f64)], ranks: &SenRanks, scratch: &mut Vec<f64>) -> Option<Fit> {
    theil_sen2(pts, ranks, ranks, scratch).map(|(f, _)| f)
}

/// [`theil_sen`], plus the bounds at a second confidence (`weak`) from the
/// same pairwise slopes.
pub fn theil_sen2(
    pts: &[(f64, f64)],
    ranks: &SenRanks,
    weak: &SenRanks,
    scratch: &mut Vec<f64>,
) -> Option<(Fit, (f64, f64))> {
    let n = pts.len();
    if n < 2 {
        return None;
    }
    scratch.clear();
    for i in 0..n {
        for j in i + 1..n {
            let dt = pts[j].0 - pts[i].0;
            if dt > 0.0 {
                let s = (pts[j].1 - pts[i].1) / dt;
                if s.is_finite() {
                    scratch.push(s);
                }
            }
        }
    }
    let pairs = scratch.len();
    if pairs == 0 {
        return None;
    }
    let skipped = n * (n - 1) / 2 - pairs;
    let slope = median(scratch);
    let lower = |r: &SenRanks, v: &mut [f64]| match r.lower_rank(n) {
        Some(k) if k > skipped => {
            let k = k - skipped;
            (kth(v, k), kth(v, pairs + 1 - k))
        }
        _ => (f64::NEG_INFINITY, f64::INFINITY),
    };
    let (low, high) = lower(ranks, scratch);
    let weak_bounds = lower(weak, scratch);
    scratch.clear();
    scratch.extend(pts.iter().map(|&(t, y)| y - slope * t));
    let intercept = median(scratch);
    Some((
        Fit {
            slope,
            low,
            high,
            intercept,
            n,
        },
        weak_bounds,
    ))
}

#[cfg(test)]
#[path = "rate_tests.rs"]
mod tests;
