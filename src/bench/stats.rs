//! Summaries of measured runs: latency percentiles over all rounds, throughput as the median round.

use std::time::Duration;

use super::loadgen::{keep_slowest, PreparedRequest, RunResult};

/// Latency percentiles of a set of answers.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Latencies {
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
    pub(crate) p999: Duration,
    pub(crate) max: Duration,
}

/// Returns the `quantile` (0..=1) of sorted samples by the nearest-rank method.
fn nearest_rank(sorted_nanos: &[u64], quantile: f64) -> Duration {
    if sorted_nanos.is_empty() {
        return Duration::ZERO;
    }
    let rank = (quantile * sorted_nanos.len() as f64).ceil() as usize;
    Duration::from_nanos(sorted_nanos[rank.clamp(1, sorted_nanos.len()) - 1])
}

impl Latencies {
    /// Computes the percentiles of `nanos` (sorted in place).
    pub(crate) fn from_samples(nanos: &mut [u64]) -> Latencies {
        nanos.sort_unstable();
        Latencies {
            p50: nearest_rank(nanos, 0.50),
            p99: nearest_rank(nanos, 0.99),
            p999: nearest_rank(nanos, 0.999),
            max: nanos.last().map(|&last| Duration::from_nanos(last)).unwrap_or_default(),
        }
    }
}

/// Several rounds of one side (measured API or baseline) of an A/B comparison.
#[derive(Debug, Clone, Default)]
pub(crate) struct Series {
    pub(crate) round_throughputs: Vec<f64>,
    pub(crate) errors: u64,
    pub(crate) first_error: Option<String>,
    /// The slowest answers over every round (latency in nanoseconds, request), slowest first.
    pub(crate) slowest: Vec<(u64, PreparedRequest)>,
    samples: Vec<u64>,
}

impl Series {
    /// Adds one round.
    pub(crate) fn add(&mut self, run: RunResult) {
        self.round_throughputs.push(run.throughput());
        self.errors += run.errors;
        if self.first_error.is_none() {
            self.first_error = run.first_error;
        }
        self.samples.extend(run.latencies_nanos);
        keep_slowest(&mut self.slowest, run.slowest);
    }

    /// Adds one round that has only a rate (the raw bcrypt baseline).
    pub(crate) fn add_rate(&mut self, per_second: f64) {
        self.round_throughputs.push(per_second);
    }

    /// Returns the median round throughput.
    pub(crate) fn throughput(&self) -> f64 {
        median(&self.round_throughputs)
    }

    /// Returns the latency percentiles over every round.
    pub(crate) fn latencies(&mut self) -> Latencies {
        Latencies::from_samples(&mut self.samples)
    }
}

/// Returns the median of `values` (the mean of the middle two for an even count).
pub(crate) fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

/// Formats a duration in milliseconds with a precision that suits its size.
pub(crate) fn format_millis(duration: Duration) -> String {
    let millis = duration.as_secs_f64() * 1000.0;
    if millis < 1.0 {
        format!("{millis:.3}")
    } else if millis < 100.0 {
        format!("{millis:.2}")
    } else {
        format!("{millis:.0}")
    }
}

/// Formats a rate with thousands separators.
pub(crate) fn format_rate(per_second: f64) -> String {
    if per_second < 100.0 {
        return format!("{per_second:.1}");
    }
    let whole = per_second.round() as u64;
    let digits = whole.to_string();
    let mut grouped = String::new();
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut samples: Vec<u64> = (1..=1000).rev().collect();
        let latencies = Latencies::from_samples(&mut samples);
        assert_eq!(latencies.p50, Duration::from_nanos(500));
        assert_eq!(latencies.p99, Duration::from_nanos(990));
        assert_eq!(latencies.p999, Duration::from_nanos(999));
        assert_eq!(latencies.max, Duration::from_nanos(1000));
        assert_eq!(Latencies::from_samples(&mut []), Latencies::default());
    }

    #[test]
    fn median_of_rounds() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert_eq!(median(&[]), 0.0);
    }

    #[test]
    fn rates_are_grouped() {
        assert_eq!(format_rate(1234567.4), "1,234,567");
        assert_eq!(format_rate(999.6), "1,000");
        assert_eq!(format_rate(31.25), "31.2");
        assert_eq!(format_millis(Duration::from_micros(250)), "0.250");
        assert_eq!(format_millis(Duration::from_micros(2500)), "2.50");
    }
}
