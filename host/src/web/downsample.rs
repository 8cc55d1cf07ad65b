//! Downsampling a curve for drawing: the x range is cut into buckets (one
//! per pixel column or two), and each bucket keeps its lowest and highest
//! point, in order. A curve drawn from what is kept looks like the full
//! one (every spike survives), and 1,000,000 points become a few
//! thousand.

/// At most `max_points` of `points` (sorted by x), keeping each bucket's
/// minimum and maximum and the first and last point. `max_points` below 4
/// counts as 4.
pub fn min_max(points: &[(f64, f64)], max_points: usize) -> Vec<(f64, f64)> {
    let max_points = max_points.max(4);
    if points.len() <= max_points {
        return points.to_vec();
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

    #[test]
    fn equal_x_buckets_by_position() {
        let points: Vec<(f64, f64)> = (0..1000).map(|i| (1.0, i as f64)).collect();
        let kept = min_max(&points, 100);
        assert!(kept.len() <= 100);
        assert_eq!(kept.last(), points.last());
    }
}
