// The names the editor completes besides the datasource's own: PromQL and LogQL functions, aggregations
// and keywords, each with its signature and a one-line description.

export interface FunctionInfo {
  name: string;
  /** Argument list as shown beside the name, e.g. `(v range-vector)`. */
  signature: string;
  info: string;
}

function list(entries: [string, string, string][]): FunctionInfo[] {
  return entries.map(([name, signature, info]) => ({ name, signature, info }));
}

export const PROMQL_FUNCTIONS: FunctionInfo[] = list([
  ['abs', '(v instant-vector)', 'Absolute value of every sample.'],
  ['absent', '(v instant-vector)', '1 when the vector has no elements, empty otherwise.'],
  ['absent_over_time', '(v range-vector)', '1 when the range has no samples, empty otherwise.'],
  ['acos', '(v instant-vector)', 'Arccosine of every sample.'],
  ['acosh', '(v instant-vector)', 'Inverse hyperbolic cosine of every sample.'],
  ['asin', '(v instant-vector)', 'Arcsine of every sample.'],
  ['asinh', '(v instant-vector)', 'Inverse hyperbolic sine of every sample.'],
  ['atan', '(v instant-vector)', 'Arctangent of every sample.'],
  ['atanh', '(v instant-vector)', 'Inverse hyperbolic tangent of every sample.'],
  ['avg_over_time', '(v range-vector)', 'Average of the samples in each series range.'],
  ['ceil', '(v instant-vector)', 'Rounds every sample up to an integer.'],
  ['changes', '(v range-vector)', 'How many times each series changed value in the range.'],
  ['clamp', '(v instant-vector, min scalar, max scalar)', 'Limits every sample to [min, max].'],
  ['clamp_max', '(v instant-vector, max scalar)', 'Limits every sample to at most max.'],
  ['clamp_min', '(v instant-vector, min scalar)', 'Limits every sample to at least min.'],
  ['cos', '(v instant-vector)', 'Cosine of every sample.'],
  ['cosh', '(v instant-vector)', 'Hyperbolic cosine of every sample.'],
  ['count_over_time', '(v range-vector)', 'Number of samples in each series range.'],
  ['day_of_month', '(v=vector(time()) instant-vector)', 'Day of the month (1-31) of each timestamp, UTC.'],
  [
    'day_of_week',
    '(v=vector(time()) instant-vector)',
    'Day of the week (0 = Sunday) of each timestamp, UTC.',
  ],
  ['day_of_year', '(v=vector(time()) instant-vector)', 'Day of the year (1-366) of each timestamp, UTC.'],
  [
    'days_in_month',
    '(v=vector(time()) instant-vector)',
    'Number of days in the month of each timestamp, UTC.',
  ],
  ['deg', '(v instant-vector)', 'Radians to degrees.'],
  [
    'delta',
    '(v range-vector)',
    'Difference between the first and last value of each gauge range, extrapolated.',
  ],
  ['deriv', '(v range-vector)', 'Per-second derivative of each gauge range, by linear regression.'],
  ['exp', '(v instant-vector)', 'e raised to every sample.'],
  ['floor', '(v instant-vector)', 'Rounds every sample down to an integer.'],
  ['histogram_avg', '(v instant-vector)', 'Average of the observations of native histograms.'],
  ['histogram_count', '(v instant-vector)', 'Count of observations of native histograms.'],
  [
    'histogram_fraction',
    '(lower scalar, upper scalar, v instant-vector)',
    'Fraction of observations between lower and upper.',
  ],
  [
    'histogram_quantile',
    '(φ scalar, b instant-vector)',
    'φ-quantile (0 ≤ φ ≤ 1) from histogram buckets (`le` label) or native histograms.',
  ],
  [
    'histogram_stddev',
    '(v instant-vector)',
    'Estimated standard deviation of native histogram observations.',
  ],
  ['histogram_stdvar', '(v instant-vector)', 'Estimated standard variance of native histogram observations.'],
  ['histogram_sum', '(v instant-vector)', 'Sum of observations of native histograms.'],
  [
    'double_exponential_smoothing',
    '(v range-vector, sf scalar, tf scalar)',
    'Smoothed value of each gauge range (smoothing and trend factors).',
  ],
  ['hour', '(v=vector(time()) instant-vector)', 'Hour of the day (0-23) of each timestamp, UTC.'],
  ['idelta', '(v range-vector)', 'Difference between the last two samples of each gauge range.'],
  [
    'increase',
    '(v range-vector)',
    'Increase of each counter over the range, extrapolated, with counter resets handled.',
  ],
  ['irate', '(v range-vector)', 'Per-second rate from the last two samples of each counter range.'],
  [
    'label_join',
    '(v instant-vector, dst string, separator string, src_1 string, ...)',
    'Joins the values of the src labels into dst.',
  ],
  [
    'label_replace',
    '(v instant-vector, dst string, replacement string, src string, regex string)',
    'Sets dst from a regex match on src.',
  ],
  ['last_over_time', '(v range-vector)', 'The most recent sample of each series range.'],
  ['ln', '(v instant-vector)', 'Natural logarithm of every sample.'],
  ['log10', '(v instant-vector)', 'Decimal logarithm of every sample.'],
  ['log2', '(v instant-vector)', 'Binary logarithm of every sample.'],
  ['mad_over_time', '(v range-vector)', 'Median absolute deviation of the samples in each series range.'],
  ['max_over_time', '(v range-vector)', 'Maximum of the samples in each series range.'],
  ['min_over_time', '(v range-vector)', 'Minimum of the samples in each series range.'],
  ['minute', '(v=vector(time()) instant-vector)', 'Minute of the hour (0-59) of each timestamp, UTC.'],
  ['month', '(v=vector(time()) instant-vector)', 'Month (1-12) of each timestamp, UTC.'],
  ['pi', '()', 'The number π.'],
  [
    'predict_linear',
    '(v range-vector, t scalar)',
    'Value of each gauge t seconds from now, by linear regression.',
  ],
  ['present_over_time', '(v range-vector)', '1 for every series with a sample in the range.'],
  ['quantile_over_time', '(φ scalar, v range-vector)', 'φ-quantile of the samples in each series range.'],
  ['rad', '(v instant-vector)', 'Degrees to radians.'],
  [
    'rate',
    '(v range-vector)',
    'Per-second average increase of each counter over the range, with counter resets handled.',
  ],
  ['resets', '(v range-vector)', 'Number of counter resets in each series range.'],
  [
    'round',
    '(v instant-vector, to_nearest=1 scalar)',
    'Rounds every sample to the nearest multiple of to_nearest.',
  ],
  ['scalar', '(v instant-vector)', 'The sample of a one-element vector as a scalar, NaN otherwise.'],
  ['sgn', '(v instant-vector)', 'Sign of every sample: 1, -1 or 0.'],
  ['sin', '(v instant-vector)', 'Sine of every sample.'],
  ['sinh', '(v instant-vector)', 'Hyperbolic sine of every sample.'],
  ['sort', '(v instant-vector)', 'Sorts by sample value, ascending (instant queries).'],
  ['sort_by_label', '(v instant-vector, label string, ...)', 'Sorts by the given labels, ascending.'],
  ['sort_by_label_desc', '(v instant-vector, label string, ...)', 'Sorts by the given labels, descending.'],
  ['sort_desc', '(v instant-vector)', 'Sorts by sample value, descending (instant queries).'],
  ['sqrt', '(v instant-vector)', 'Square root of every sample.'],
  [
    'stddev_over_time',
    '(v range-vector)',
    'Population standard deviation of the samples in each series range.',
  ],
  ['stdvar_over_time', '(v range-vector)', 'Population variance of the samples in each series range.'],
  ['sum_over_time', '(v range-vector)', 'Sum of the samples in each series range.'],
  ['tan', '(v instant-vector)', 'Tangent of every sample.'],
  ['tanh', '(v instant-vector)', 'Hyperbolic tangent of every sample.'],
  ['time', '()', 'Evaluation time in seconds since the epoch.'],
  ['timestamp', '(v instant-vector)', 'Timestamp of every sample, in seconds since the epoch.'],
  ['vector', '(s scalar)', 'The scalar as a one-element vector without labels.'],
  ['year', '(v=vector(time()) instant-vector)', 'Year of each timestamp, UTC.'],
]);

export const PROMQL_AGGREGATIONS: FunctionInfo[] = list([
  ['sum', '(v instant-vector)', 'Sum over dimensions.'],
  ['avg', '(v instant-vector)', 'Average over dimensions.'],
  ['min', '(v instant-vector)', 'Minimum over dimensions.'],
  ['max', '(v instant-vector)', 'Maximum over dimensions.'],
  ['count', '(v instant-vector)', 'Number of elements in the vector.'],
  ['group', '(v instant-vector)', '1 for every group.'],
  ['stddev', '(v instant-vector)', 'Population standard deviation over dimensions.'],
  ['stdvar', '(v instant-vector)', 'Population variance over dimensions.'],
  [
    'count_values',
    '(label string, v instant-vector)',
    'Number of elements with the same value, the value in label.',
  ],
  ['topk', '(k scalar, v instant-vector)', 'The k largest elements by sample value.'],
  ['bottomk', '(k scalar, v instant-vector)', 'The k smallest elements by sample value.'],
  ['quantile', '(φ scalar, v instant-vector)', 'φ-quantile (0 ≤ φ ≤ 1) over dimensions.'],
  ['limitk', '(k scalar, v instant-vector)', 'Some k elements (experimental).'],
  [
    'limit_ratio',
    '(ratio scalar, v instant-vector)',
    'A deterministic sample of the elements (experimental).',
  ],
]);

/** Keywords that may start or join an expression. */
export const PROMQL_KEYWORDS = [
  'by',
  'without',
  'offset',
  'and',
  'or',
  'unless',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'atan2',
];

export const LOGQL_RANGE_FUNCTIONS: FunctionInfo[] = list([
  ['count_over_time', '(log-range)', 'Number of log lines in each stream over the range.'],
  ['rate', '(log-range)', 'Log lines per second in each stream over the range.'],
  ['bytes_over_time', '(log-range)', 'Bytes of log lines in each stream over the range.'],
  ['bytes_rate', '(log-range)', 'Bytes of log lines per second over the range.'],
  ['absent_over_time', '(log-range)', '1 when the range has no log lines, empty otherwise.'],
  ['rate_counter', '(unwrapped-range)', 'Per-second rate of an unwrapped counter.'],
  ['avg_over_time', '(unwrapped-range)', 'Average of the unwrapped values over the range.'],
  ['sum_over_time', '(unwrapped-range)', 'Sum of the unwrapped values over the range.'],
  ['min_over_time', '(unwrapped-range)', 'Minimum of the unwrapped values over the range.'],
  ['max_over_time', '(unwrapped-range)', 'Maximum of the unwrapped values over the range.'],
  ['stddev_over_time', '(unwrapped-range)', 'Population standard deviation of the unwrapped values.'],
  ['stdvar_over_time', '(unwrapped-range)', 'Population variance of the unwrapped values.'],
  ['quantile_over_time', '(φ scalar, unwrapped-range)', 'φ-quantile of the unwrapped values over the range.'],
  ['first_over_time', '(unwrapped-range)', 'First unwrapped value of the range.'],
  ['last_over_time', '(unwrapped-range)', 'Last unwrapped value of the range.'],
]);

export const LOGQL_AGGREGATIONS: FunctionInfo[] = list([
  ['sum', '(v metric)', 'Sum over labels.'],
  ['avg', '(v metric)', 'Average over labels.'],
  ['min', '(v metric)', 'Minimum over labels.'],
  ['max', '(v metric)', 'Maximum over labels.'],
  ['count', '(v metric)', 'Number of elements.'],
  ['stddev', '(v metric)', 'Population standard deviation over labels.'],
  ['stdvar', '(v metric)', 'Population variance over labels.'],
  ['topk', '(k scalar, v metric)', 'The k largest elements.'],
  ['bottomk', '(k scalar, v metric)', 'The k smallest elements.'],
  ['sort', '(v metric)', 'Sorts by value, ascending.'],
  ['sort_desc', '(v metric)', 'Sorts by value, descending.'],
]);

export const LOGQL_OTHER_FUNCTIONS: FunctionInfo[] = list([
  ['vector', '(s scalar)', 'The scalar as a vector without labels.'],
  [
    'label_replace',
    '(v metric, dst string, replacement string, src string, regex string)',
    'Sets dst from a regex match on src.',
  ],
]);

/** What may follow `|` in a LogQL pipeline, with the text inserted. */
export interface PipelineStage {
  label: string;
  insert: string;
  info: string;
}

export const LOGQL_PIPELINE_STAGES: PipelineStage[] = [
  { label: 'json', insert: 'json', info: 'Extracts the JSON fields of each line as labels.' },
  { label: 'logfmt', insert: 'logfmt', info: 'Extracts logfmt key=value pairs as labels.' },
  {
    label: 'regexp',
    insert: 'regexp ""',
    info: 'Extracts the named groups of a regular expression as labels.',
  },
  {
    label: 'pattern',
    insert: 'pattern ""',
    info: 'Extracts labels with a pattern like `<ip> - - <_> "<method> <uri>"`.',
  },
  { label: 'unpack', insert: 'unpack', info: 'Unpacks lines packed by Promtail’s pack stage.' },
  { label: 'line_format', insert: 'line_format ""', info: 'Rewrites each line with a Go template.' },
  { label: 'label_format', insert: 'label_format ', info: 'Renames labels or sets them from a Go template.' },
  {
    label: 'unwrap',
    insert: 'unwrap ',
    info: 'Uses a label’s value as the sample value of a range aggregation.',
  },
  { label: 'decolorize', insert: 'decolorize', info: 'Removes ANSI colour codes from each line.' },
  { label: 'drop', insert: 'drop ', info: 'Drops the given labels.' },
  { label: 'keep', insert: 'keep ', info: 'Keeps only the given labels.' },
];

/** Range durations offered inside `[...]`, Grafana's variables first. */
export const DURATIONS = [
  '$__rate_interval',
  '$__interval',
  '$__range',
  '$__auto',
  '1m',
  '5m',
  '10m',
  '30m',
  '1h',
  '1d',
];
