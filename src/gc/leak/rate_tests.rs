use super::*;

/// Inversions of every permutation of 0..n, counted by brute force.
fn inversion_counts(n: usize) -> Vec<u64> {
    fn rec(prefix: &mut Vec<usize>, used: &mut [bool], counts: &mut Vec<u64>) {
        let n = used.len();
        if prefix.len() == n {
            let mut inv = 0;
            for i in 0..n {
                for j in i + 1..n {
                    if prefix[i] > prefix[j] {
                        inv += 1;
                    }
                }
            }
            counts[inv] += 1;
            return;
        }
        for x in 0..n {
            if !used[x] {
                used[x] = true;
                prefix.push(x);
                rec(prefix, used, counts);
                prefix.pop();
                used[x] = false;
            }
        }
    }
    let mut counts = vec![0u64; n * (n - 1) / 2 + 1];
    rec(&mut Vec::new(), &mut vec![false; n], &mut counts);
    counts
}

#[test]
fn ranks_match_brute_force_permutations() {
    for confidence in [0.8, 0.9, 0.95, 0.99] {
        let ranks = SenRanks::new(confidence, 8);
        for n in 2..=8 {
            let counts = inversion_counts(n);
            let total: u64 = counts.iter().sum();
            let alpha = 1.0 - confidence;
            let mut k = 0;
            let mut cum = 0;
            for (m, c) in counts.iter().enumerate() {
                cum += c;
                if cum as f64 / total as f64 <= alpha + 1e-12 {
                    k = m + 1;
                } else {
                    break;
                }
            }
            assert_eq!(
                ranks.lower_rank(n).unwrap_or(0),
                k,
                "n {n} confidence {confidence}"
            );
        }
    }
}

#[test]
fn known_small_sample_ranks() {
    let r95 = SenRanks::new(0.95, MAX_POINTS);
    // 3 points: the best one-sided level is 5/6; 4 points all rising: 1/24.
    assert_eq!(r95.lower_rank(3), None);
    assert_eq!(r95.lower_rank(4), Some(1));
    let r99 = SenRanks::new(0.99, MAX_POINTS);
    assert_eq!(r99.lower_rank(4), None);
    assert_eq!(r99.lower_rank(5), Some(1));
    // n = 10, one-sided 5%: Kendall's S >= 21 is the critical region
    // (P = 0.036; S >= 19 has P = 0.054), so k = (N - 21)/2 + 1 = 13.
    assert_eq!(r95.lower_rank(10), Some(13));
    // Ranks grow with n and stay below half the pairs.
    let mut last = 0;
    for n in 4..=MAX_POINTS {
        let k = r95.lower_rank(n).unwrap();
        assert!(k >= last && k < n * (n - 1) / 4, "n {n} k {k}");
        last = k;
    }
}

#[test]
fn fit_of_a_clean_line_is_exact() {
    let pts: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, 5.0 + 2.0 * i as f64)).collect();
    let ranks = SenRanks::new(0.95, MAX_POINTS);
    let f = theil_sen(&pts, &ranks, &mut Vec::new()).unwrap();
    assert_eq!(
        (f.slope, f.low, f.high, f.intercept, f.n),
        (2.0, 2.0, 2.0, 5.0, 10)
    );
    assert_eq!(f.at(4.0), 13.0);
}

#[test]
fn fit_ignores_a_minority_of_wild_points() {
    // Every fourth point is 1000 too high: the slope does not move.
    let pts: Vec<(f64, f64)> = (0..24)
        .map(|i| {
            let wild = if i % 4 == 1 { 1000.0 } else { 0.0 };
            (i as f64, 3.0 * i as f64 + wild)
        })
        .collect();
    let ranks = SenRanks::new(0.95, MAX_POINTS);
    let f = theil_sen(&pts, &ranks, &mut Vec::new()).unwrap();
    assert!((f.slope - 3.0).abs() < 0.5, "{f:?}");
    assert!(f.low <= 3.0 && f.high >= 3.0, "{f:?}");
}

#[test]
fn too_few_points_have_no_bounds() {
    let ranks = SenRanks::new(0.95, MAX_POINTS);
    let mut s = Vec::new();
    assert!(theil_sen(&[], &ranks, &mut s).is_none());
    assert!(theil_sen(&[(0.0, 1.0)], &ranks, &mut s).is_none());
    assert!(theil_sen(&[(1.0, 1.0), (1.0, 5.0)], &ranks, &mut s).is_none());
    let f = theil_sen(&[(0.0, 0.0), (1.0, 1.0), (2.0, 2.0)], &ranks, &mut s).unwrap();
    assert_eq!(f.slope, 1.0);
    assert_eq!((f.low, f.high), (f64::NEG_INFINITY, f64::INFINITY));
    // Equal times in 4 points: the one pair with no slope lowers the rank
    // below 1, so no bound.
    let f = theil_sen(
        &[(0.0, 0.0), (1.0, 1.0), (1.0, 1.5), (2.0, 2.0)],
        &ranks,
        &mut s,
    )
    .unwrap();
    assert_eq!(f.low, f64::NEG_INFINITY);
}

/// A deterministic generator for the coverage check.
struct Rng(u64);
impl Rng {
    fn unit(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn lower_bound_covers_the_true_slope_at_its_confidence() {
    // Independent noise (uniform, then skewed): the one-sided 95% lower bound
    // lies above the true slope in about 5% of trials, never far more.
    let ranks = SenRanks::new(0.95, MAX_POINTS);
    let mut rng = Rng(42);
    let mut s = Vec::new();
    for skewed in [false, true] {
        for n in [5usize, 12, 32] {
            let trials = 4000;
            let mut above = 0;
            for _ in 0..trials {
                let pts: Vec<(f64, f64)> = (0..n)
                    .map(|i| {
                        let u = rng.unit();
                        let e = if skewed { -u.ln() } else { u };
                        (i as f64 + rng.unit() * 0.5, 0.7 * i as f64 + 3.0 * e)
                    })
                    .collect();
                let f = theil_sen(&pts, &ranks, &mut s).unwrap();
                if f.low > 0.7 {
                    above += 1;
                }
            }
            let rate = above as f64 / trials as f64;
            assert!(rate <= 0.065, "n {n} skewed {skewed}: {rate}");
        }
    }
}

#[test]
fn quantiles_by_nearest_rank() {
    let mut v = [5.0, 1.0, 4.0, 2.0, 3.0, 8.0, 7.0, 6.0];
    assert_eq!(quantile(&mut v, 0.75), 6.0);
    assert_eq!(quantile(&mut v, 0.0), 1.0);
    assert_eq!(quantile(&mut v, 1.0), 8.0);
    assert_eq!(quantile(&mut [], 0.5), 0.0);
}

#[test]
fn median_of_even_and_odd() {
    assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
    assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
    assert_eq!(median(&mut [7.0]), 7.0);
}

#[test]
fn the_suffix_minimum_of_pure_noise_looks_like_a_trend() {
    // Why the detector fits the bases, not their floor: the floor (lowest
    // value from each point on) of independent noise with no trend rises
    // toward its end, and Sen's interval, which assumes independent
    // residuals, often calls that a significant rise. The bases themselves
    // do not fool it.
    let ranks = SenRanks::new(0.95, MAX_POINTS);
    let mut rng = Rng(11);
    let mut s = Vec::new();
    let (mut floor_hits, mut base_hits) = (0, 0);
    let trials = 2000;
    for _ in 0..trials {
        let base: Vec<(f64, f64)> = (0..MAX_POINTS).map(|i| (i as f64, rng.unit())).collect();
        let mut floor = base.clone();
        for i in (0..floor.len() - 1).rev() {
            floor[i].1 = floor[i].1.min(floor[i + 1].1);
        }
        if theil_sen(&floor, &ranks, &mut s).unwrap().low > 0.0 {
            floor_hits += 1;
        }
        if theil_sen(&base, &ranks, &mut s).unwrap().low > 0.0 {
            base_hits += 1;
        }
    }
    println!("floor {floor_hits}/{trials}, bases {base_hits}/{trials}");
    assert!(floor_hits * 4 > trials, "floor: {floor_hits}/{trials}");
    assert!(base_hits * 100 < trials * 7, "bases: {base_hits}/{trials}");
}
