//! Min/max sketches of a job's curves, made as it emits its records, so
//! that the UI draws a curve of a million points without reading a million
//! records (W3 in BENCHMARKS.md).
//!
//! Under `djx run`, each metric (up to [`MAX_CURVES`] per attempt) is
//! followed from the values the job emits, on the job's own thread (the
//! record writer is the busier one), in a fixed number of buckets: every
//! point while there are at most [`BUCKETS`]; past that, buckets of 2, 4,
//! 8… consecutive points, each keeping its lowest and highest point (two
//! neighbours merge when the buckets fill, so memory stays at [`BUCKETS`]
//! per metric however long the job runs). When a job that streamed its
//! records (one that recorded [`CHUNK_RECORDS`] or more) ends, each sketch
//! is stored with its attempt ([`StoredCurve`]), in the same transaction:
//! the first and last point and every bucket's extremes, in x order. A
//! request then downsamples those 8,192 to 32,770 points as it would the
//! full curve ([`Curve::of`]): every spike survives, and a drawn bucket's
//! extremes are exact except where a stored bucket straddles two drawn
//! ones (a drawn bucket of a 5,000-point curve spans at least 3 stored
//! ones).
//!
//! A point is what a read of the stored records makes of the record
//! ([`CurveAxis`]), so a sketch draws the curve the records would. A
//! curve whose x goes back (a step that restarts) cannot be bucketed in
//! order: it is stored only while whole (sorted at the end, as a read
//! sorts it); past that, it is read from the records.
//!
//! [`CHUNK_RECORDS`]: crate::runtime::record_sink::CHUNK_RECORDS

use serde_json::{Map, Value};

use super::curve::Curve;
use super::curve_axis::{CurveAxis, Merged};

/// Buckets a sketch keeps; a curve of at most this many points is kept
/// whole.
pub const BUCKETS: usize = 16_384;

/// Metrics of one attempt that are sketched; the curves of any others are
/// read from the records.
pub const MAX_CURVES: usize = 32;

/// One point and its place in the curve.
#[derive(Clone, Copy, Debug)]
struct Point {
    at: u64,
    x: f64,
    y: f64,
}

/// Consecutive points: the lowest and the highest (the first of equals).
#[derive(Clone, Copy, Debug)]
struct Bucket {
    lo: Point,
    hi: Point,
}

impl Bucket {
    fn add(&mut self, p: Point) {
        if p.y < self.lo.y {
            self.lo = p;
        }
        if p.y > self.hi.y {
            self.hi = p;
        }
    }

    fn merge(self, next: Bucket) -> Bucket {
        Bucket {
            lo: if next.lo.y < self.lo.y {
                next.lo
            } else {
                self.lo
            },
            hi: if next.hi.y > self.hi.y {
                next.hi
            } else {
                self.hi
            },
        }
    }
}

/// One metric's curve, sketched as its records go by.
#[derive(Debug)]
struct Sketch {
    name: String,
    axis: CurveAxis,
    buckets: Vec<Bucket>,
    /// Points per bucket (a power of two).
    width: u64,
    /// Points seen.
    n: u64,
    first: Option<Point>,
    last: Option<Point>,
    /// Whether x never went back.
    sorted: bool,
}

impl Sketch {
    fn new(name: &str) -> Sketch {
        Sketch {
            name: name.to_owned(),
            axis: CurveAxis::new(None),
            buckets: Vec::new(),
            width: 1,
            n: 0,
            first: None,
            last: None,
            sorted: true,
        }
    }

    fn push(&mut self, (x, y): (f64, f64)) {
        let p = Point { at: self.n, x, y };
        if let Some(last) = self.last
            && last.x > x
        {
            self.sorted = false;
        }
        self.first.get_or_insert(p);
        self.last = Some(p);
        let mut b = (self.n / self.width) as usize;
        if b == BUCKETS {
            self.halve();
            b = (self.n / self.width) as usize;
        }
        match self.buckets.get_mut(b) {
            Some(bucket) => bucket.add(p),
            None => self.buckets.push(Bucket { lo: p, hi: p }),
        }
        self.n += 1;
    }

    /// Merges neighbouring buckets: half as many, twice as wide.
    fn halve(&mut self) {
        let merged: Vec<Bucket> = self
            .buckets
            .chunks(2)
            .filter_map(|pair| pair.iter().copied().reduce(Bucket::merge))
            .collect();
        self.buckets = merged;
        self.width *= 2;
    }

    /// What is stored; `None` when the curve went back in x and is no
    /// longer exact.
    fn finish(self) -> Option<StoredCurve> {
        let mut points: Vec<(f64, f64)>;
        if self.width == 1 {
            points = self.buckets.iter().map(|b| (b.lo.x, b.lo.y)).collect();
            if !self.sorted {
                points.sort_by(|a, b| a.0.total_cmp(&b.0));
            }
        } else {
            if !self.sorted {
                return None;
            }
            let (first, last) = (self.first?, self.last?);
            points = Vec::with_capacity(2 * self.buckets.len() + 2);
            points.push((first.x, first.y));
            for b in &self.buckets {
                let pair = match b.lo.at.cmp(&b.hi.at) {
                    std::cmp::Ordering::Equal => [Some(b.lo), None],
                    std::cmp::Ordering::Less => [Some(b.lo), Some(b.hi)],
                    std::cmp::Ordering::Greater => [Some(b.hi), Some(b.lo)],
                };
                for p in pair.into_iter().flatten() {
                    if p.at != first.at && p.at != last.at {
                        points.push((p.x, p.y));
                    }
                }
            }
            points.push((last.x, last.y));
        }
        Some(StoredCurve {
            name: self.name,
            x: self.axis.key().map(str::to_owned),
            total: self.axis.total(),
            points: self.n,
            sketch: points,
        })
    }
}

/// The sketches of every metric of one attempt, fed its records in order.
#[derive(Debug, Default)]
pub struct CurveSketches {
    sketches: Vec<Sketch>,
}

impl CurveSketches {
    /// Feeds the next record, as the job emits it: its own context merged
    /// over the bound one, and its metrics (a non-finite value is stored
    /// as `null`: not a point).
    pub fn add_record(
        &mut self,
        bound: &Map<String, Value>,
        own: &Map<String, Value>,
        metrics: &[(String, f64)],
    ) {
        for (name, y) in metrics {
            let at = match self.sketches.iter().position(|s| s.name == *name) {
                Some(at) => at,
                None if self.sketches.len() < MAX_CURVES => {
                    self.sketches.push(Sketch::new(name));
                    self.sketches.len() - 1
                }
                None => continue,
            };
            let sketch = &mut self.sketches[at];
            let y = y.is_finite().then_some(*y);
            if let Some(point) = sketch.axis.point(Merged { bound, own }, y) {
                sketch.push(point);
            }
        }
    }

    /// The sketches to store.
    pub fn finish(self) -> Vec<StoredCurve> {
        self.sketches
            .into_iter()
            .filter_map(Sketch::finish)
            .collect()
    }
}

/// A metric's curve in one attempt, as stored: its points, or a min/max
/// sketch of them.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredCurve {
    /// The metric.
    pub name: String,
    /// The context key on the x axis (`None`: the record's place).
    pub x: Option<String>,
    /// How many records carry the metric.
    pub total: u64,
    /// How many of them are points (a number at a numeric x).
    pub points: u64,
    /// `[x, y]` pairs by x: all the points, or the first and last and
    /// each bucket's extremes.
    pub sketch: Vec<(f64, f64)>,
}

impl StoredCurve {
    /// The curve as `job`'s, downsampled to at most `max_points`.
    pub fn curve(&self, job: i64, max_points: usize) -> Curve {
        Curve::of(
            job,
            &self.name,
            self.x.as_deref(),
            self.total,
            &self.sketch,
            self.points,
            max_points,
        )
    }

    /// The sketch's bytes: each pair as two little-endian f64.
    pub fn sketch_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.sketch.len() * 16);
        for (x, y) in &self.sketch {
            out.extend_from_slice(&x.to_le_bytes());
            out.extend_from_slice(&y.to_le_bytes());
        }
        out
    }

    /// The pairs of [`StoredCurve::sketch_bytes`]; `None` when `bytes` is
    /// not a whole number of pairs.
    pub fn sketch_of(bytes: &[u8]) -> Option<Vec<(f64, f64)>> {
        if !bytes.len().is_multiple_of(16) {
            return None;
        }
        let f = |b: &[u8]| f64::from_le_bytes(b.try_into().unwrap_or([0; 8]));
        Some(
            bytes
                .chunks_exact(16)
                .map(|p| (f(&p[..8]), f(&p[8..])))
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::records::Records;
    use crate::views::curve_axis::StepContext;
    use crate::views::downsample::min_max;
    use crate::views::json_scan::KeyPattern;

    fn object(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    fn sketch(points: &[(f64, f64)]) -> Option<StoredCurve> {
        let mut sketches = CurveSketches::default();
        let bound = object(json!({"phase": "train"}));
        for (x, y) in points {
            let own = object(json!({ "step": x }));
            sketches.add_record(&bound, &own, &[("loss".to_owned(), *y)]);
        }
        let mut curves = sketches.finish();
        assert!(curves.len() <= 1);
        curves.pop()
    }

    #[test]
    fn a_short_curve_is_kept_whole() {
        let points: Vec<(f64, f64)> = (0..BUCKETS).map(|i| (i as f64, (i % 13) as f64)).collect();
        let stored = sketch(&points).expect("a sketch");
        assert_eq!(stored.sketch, points);
        assert_eq!(
            (stored.total, stored.points),
            (BUCKETS as u64, BUCKETS as u64)
        );
        assert_eq!(stored.x.as_deref(), Some("step"));
        let drawn = stored.curve(1, 2000);
        let expected: Vec<[f64; 2]> = min_max(&points, 2000)
            .into_iter()
            .map(|(x, y)| [x, y])
            .collect();
        assert_eq!(drawn.points, expected, "drawn as from the records");
        assert!(drawn.downsampled);
    }

    #[test]
    fn a_million_points_keep_their_ends_and_spikes_in_bounded_space() {
        let mut points: Vec<(f64, f64)> = (0..1_000_000)
            .map(|i| (i as f64, (i as f64 / 1000.0).sin()))
            .collect();
        points[123_456].1 = 50.0;
        points[654_321].1 = -50.0;
        let stored = sketch(&points).expect("a sketch");
        assert!(
            stored.sketch.len() <= 2 * BUCKETS + 2,
            "{}",
            stored.sketch.len()
        );
        assert!(stored.sketch.len() > BUCKETS / 2, "{}", stored.sketch.len());
        assert_eq!(stored.points, 1_000_000);
        assert_eq!(stored.sketch.first(), points.first());
        assert_eq!(stored.sketch.last(), points.last());
        assert!(
            stored.sketch.windows(2).all(|w| w[0].0 < w[1].0),
            "by x, once each"
        );
        assert!(
            stored.sketch.iter().all(|p| points[p.0 as usize] == *p),
            "real points"
        );
        let drawn = stored.curve(1, 2000);
        assert!(drawn.points.len() <= 2000 && drawn.points.len() > 1500);
        assert!(drawn.points.contains(&[123_456.0, 50.0]), "the spike up");
        assert!(drawn.points.contains(&[654_321.0, -50.0]), "the spike down");
        // Each drawn bucket's extremes are those of the full curve, up to
        // one stored bucket (64 points here, over which the sine moves by
        // less than 0.064) at its edges.
        let buckets = 999;
        let bucket = |x: f64| ((x / 999_999.0 * buckets as f64) as usize).min(buckets - 1);
        let extremes = |pts: &mut dyn Iterator<Item = (f64, f64)>| {
            let mut e = vec![(f64::MAX, f64::MIN); buckets];
            for (x, y) in pts {
                let b = &mut e[bucket(x)];
                *b = (b.0.min(y), b.1.max(y));
            }
            e
        };
        let full = extremes(&mut points[1..points.len() - 1].iter().copied());
        let inner = &drawn.points[1..drawn.points.len() - 1];
        let seen = extremes(&mut inner.iter().map(|p| (p[0], p[1])));
        for (k, (f, s)) in full.iter().zip(&seen).enumerate() {
            assert!(
                (f.0 - s.0).abs() < 0.07 && (f.1 - s.1).abs() < 0.07,
                "bucket {k}: from the records {f:?}, drawn {s:?}"
            );
        }
    }

    #[test]
    fn halving_keeps_each_pair_extremes() {
        // A bucket's lowest point early and its highest late, and the
        // reverse, across every merge.
        let points: Vec<(f64, f64)> = (0..100_000)
            .map(|i| (i as f64, if i % 2 == 0 { -(i as f64) } else { i as f64 }))
            .collect();
        let stored = sketch(&points).expect("a sketch");
        let max = stored.sketch.iter().map(|p| p.1).fold(f64::MIN, f64::max);
        let min = stored.sketch.iter().map(|p| p.1).fold(f64::MAX, f64::min);
        assert_eq!((min, max), (-99_998.0, 99_999.0));
    }

    #[test]
    fn a_curve_that_goes_back_is_kept_only_while_whole() {
        let back = |n: usize| -> Vec<(f64, f64)> {
            (0..n).map(|i| ((i % 1000) as f64, i as f64)).collect()
        };
        let short = back(5000);
        let stored = sketch(&short).expect("kept whole");
        let mut sorted = short.clone();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(stored.sketch, sorted, "sorted as a read sorts it");
        assert_eq!(
            sketch(&back(40_000)),
            None,
            "past whole: read from the records"
        );
    }

    /// The sketch of records as emitted is the curve their stored text
    /// reads as: the same axis, totals and points.
    #[test]
    fn sketched_as_emitted_is_read_as_stored() {
        let bound = object(json!({"phase": "train", "epoch": 1}));
        let emitted: Vec<(Value, Vec<(String, f64)>)> = vec![
            (json!({"step": 0}), vec![("loss".into(), 1.0)]),
            (json!({"step": 1}), vec![("loss".into(), f64::NAN)]),
            (json!({"step": "warm"}), vec![("loss".into(), 3.0)]),
            (
                json!({"step": 3}),
                vec![("acc".into(), 0.5), ("loss".into(), 4.0)],
            ),
            (json!({"step": 4.5}), vec![("loss".into(), -0.0)]),
            (
                json!({}),
                vec![("acc".into(), f64::INFINITY), ("loss".into(), 5.0)],
            ),
        ];
        let mut sketches = CurveSketches::default();
        let mut records = Records::new();
        for (own, metrics) in &emitted {
            let own = object(own.clone());
            sketches.add_record(&bound, &own, metrics);
            records.push_merged("e", &bound, &own, metrics, &[]);
        }
        let curves = sketches.finish();
        for name in ["loss", "acc"] {
            let pattern = KeyPattern::new(name);
            let mut axis = CurveAxis::new(None);
            let mut points = Vec::new();
            for r in records.iter() {
                if let Some(y) = pattern.find(r.metrics) {
                    points.extend(axis.point(r.context, y.number()));
                }
            }
            let stored = curves.iter().find(|c| c.name == name).expect("sketched");
            assert_eq!(stored.x.as_deref(), axis.key(), "{name}");
            assert_eq!(stored.total, axis.total(), "{name}");
            assert_eq!(stored.sketch, points, "{name}");
        }
        let loss = curves.iter().find(|c| c.name == "loss").expect("loss");
        assert_eq!(loss.x.as_deref(), Some("step"));
        assert_eq!((loss.total, loss.points), (6, 3), "{loss:?}");
        // The first step-like key, as emitted and as stored (an own step
        // that is not a number gives way to the bound epoch).
        for ((own, _), r) in emitted.iter().zip(records.iter()) {
            let own = object(own.clone());
            let merged = Merged {
                bound: &bound,
                own: &own,
            };
            assert_eq!(merged.step_key(), r.context.step_key(), "{}", r.context);
        }
    }

    #[test]
    fn at_most_max_curves_metrics_are_sketched() {
        let metrics: Vec<(String, f64)> = (0..MAX_CURVES + 5)
            .map(|i| (format!("m{i:03}"), i as f64))
            .collect();
        let mut sketches = CurveSketches::default();
        sketches.add_record(&Map::new(), &Map::new(), &metrics);
        assert_eq!(sketches.finish().len(), MAX_CURVES);
    }

    #[test]
    fn sketch_bytes_round_trip() {
        let stored = sketch(&[(0.0, 1.5), (1.0, -2.25), (2.0, 1e300)]).expect("a sketch");
        let bytes = stored.sketch_bytes();
        assert_eq!(bytes.len(), 48);
        assert_eq!(StoredCurve::sketch_of(&bytes), Some(stored.sketch));
        assert_eq!(StoredCurve::sketch_of(&bytes[..47]), None);
    }
}
