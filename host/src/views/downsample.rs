//! Downsampling a curve for drawing: the x range is cut into buckets (one
//! per pixel column or two), and each bucket keeps its lowest and highest
//! point, in order. A curve drawn from what is kept looks like the full
//! one (every spike survives), and 1,000,000 points become a few
//! thousand.

/// At most `max_points` of `points` (sorted by x), keeping each bucket's
/// minimum and maximum and the first and last point. Below 4 points there
/// is no room for a bucket: the first and last point are kept (the last
/// alone for 1).
pub fn min_max(points: &[(f64, f64)], max_points: usize) -> Vec<(f64, f64)> {
    if points.len() <= max_points {
        return points.to_vec();
    }
    if max_points < 4 {
        let ends = [points[0], points[points.len() - 1]];
        return ends[2 - max_points.min(2)..].to_vec();
    }
    let buckets = (max_points - 2) / 2;
    let (first, last) = (points[0], points[points.len() - 1]);
    let span = last.0 - first.0;
    // By x when the x range is usable; else by position.
    let bucket_of = |i: usize, x: f64| -> usize {
        let b = if span > 0.0 && span.is_finite() {
            ((x - first.0) / span * buckets as f64) as usize
        } else {
            i * buckets / points.len()
        };
        b.min(buckets - 1)
    };
    let mut out = Vec::with_capacity(max_points);
    out.push(first);
    let inner = &points[1..points.len() - 1];
    let mut i = 0;
    while i < inner.len() {
        let b = bucket_of(i + 1, inner[i].0);
        let (mut lo, mut hi) = (i, i);
        let mut j = i + 1;
        while j < inner.len() && bucket_of(j + 1, inner[j].0) == b {
            if inner[j].1 < inner[lo].1 {
                lo = j;
            }
            if inner[j].1 > inner[hi].1 {
                hi = j;
            }
            j += 1;
        }
        out.push(inner[lo.min(hi)]);
        if lo != hi {
            out.push(inner[lo.max(hi)]);
        }
        i = j;
    }
    out.push(last);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_curves_pass_unchanged() {
        let points: Vec<(f64, f64)> = (0..10).map(|i| (i as f64, i as f64)).collect();
        assert_eq!(min_max(&points, 100), points);
    }

    #[test]
    fn a_million_points_keep_their_extremes() {
        let mut points: Vec<(f64, f64)> = (0..1_000_000)
            .map(|i| (i as f64, (i as f64 / 1000.0).sin()))
            .collect();
        points[123_456].1 = 50.0;
        points[654_321].1 = -50.0;
        let kept = min_max(&points, 2000);
        assert!(kept.len() <= 2000, "{} points", kept.len());
        assert!(kept.len() > 1500, "{} points", kept.len());
        assert_eq!(kept.first(), points.first());
        assert_eq!(kept.last(), points.last());
        assert!(kept.contains(&points[123_456]), "the spike up survives");
        assert!(kept.contains(&points[654_321]), "the spike down survives");
        assert!(kept.windows(2).all(|w| w[0].0 < w[1].0), "in x order");
    }

    /// Issue 21: `points=2` returned 4 points.
    #[test]
    fn at_most_means_at_most() {
        let points: Vec<(f64, f64)> = (0..100).map(|i| (i as f64, (i % 7) as f64)).collect();
        for max in 0..8 {
            let kept = min_max(&points, max);
            assert!(kept.len() <= max, "{max}: {} points", kept.len());
            if max >= 1 {
                assert_eq!(kept.last(), points.last(), "{max}");
            }
            if max >= 2 {
                assert_eq!(kept.first(), points.first(), "{max}");
            }
        }
    }

    #[test]
    fn equal_x_buckets_by_position() {
        let points: Vec<(f64, f64)> = (0..1000).map(|i| (1.0, i as f64)).collect();
        let kept = min_max(&points, 100);
        assert!(kept.len() <= 100);
        assert_eq!(kept.last(), points.last());
    }
}
