// Field config as a dashboard's JSON writes it (`fieldConfig.defaults` and
// `fieldConfig.overrides`), and the pieces panels read from it.

export type ThresholdsMode = 'absolute' | 'percentage';
export interface Threshold {
  /** null is the base step (-Infinity). */
  value: number | null;
  color: string;
}
export interface ThresholdsConfig {
  mode: ThresholdsMode;
  steps: Threshold[];
}

export type ColorMode =
  | 'thresholds'
  | 'fixed'
  | 'shades'
  | 'palette-classic'
  | 'palette-classic-by-name'
  | 'continuous-GrYlRd'
  | string;
export interface FieldColor {
  mode: ColorMode;
  fixedColor?: string;
  seriesBy?: 'last' | 'min' | 'max';
}

export type ValueMapping =
  | { type: 'value'; options: Record<string, MappingResult> }
  | { type: 'range'; options: { from: number | null; to: number | null; result: MappingResult } }
  | { type: 'regex'; options: { pattern: string; result: MappingResult } }
  | {
      type: 'special';
      options: {
        match: 'null' | 'nan' | 'null+nan' | 'true' | 'false' | 'empty';
        result: MappingResult;
      };
    };
export interface MappingResult {
  text?: string;
  color?: string;
  index?: number;
  icon?: string;
}

export interface FieldConfig {
  displayName?: string;
  displayNameFromDS?: string;
  unit?: string;
  decimals?: number | null;
  min?: number | null;
  max?: number | null;
  noValue?: string;
  thresholds?: ThresholdsConfig;
  color?: FieldColor;
  mappings?: ValueMapping[];
  links?: unknown[];
  /** The datasource's interval between points, ms (set on time fields). */
  interval?: number;
  /** Panel-type specific options (timeseries draw style, table cell options, ...). */
  custom?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface FieldMatcherConfig {
  /** 'byName' | 'byRegexp' | 'byNames' | 'byFrameRefID' | 'byType' | 'byValue' */
  id: string;
  options?: unknown;
}
export interface ConfigOverrideRule {
  matcher: FieldMatcherConfig;
  properties: { id: string; value?: unknown }[];
}
export interface FieldConfigSource {
  defaults: FieldConfig;
  overrides: ConfigOverrideRule[];
}
