// A value with its unit's prefix and suffix, the affixes drawn smaller as Grafana's FormattedValueDisplay does.
import type { DisplayValue } from '../data/display';

export function FormattedValue(props: {
  value: DisplayValue;
  fontSize?: number;
  color?: string;
  weight?: number;
}) {
  const { value, fontSize } = props;
  const small = fontSize ? { fontSize: `${fontSize * 0.7}px` } : undefined;
  return (
    <span
      class="panel-formatted-value"
      style={{
        fontSize: fontSize ? `${fontSize}px` : undefined,
        color: props.color,
        fontWeight: props.weight,
      }}
    >
      {value.prefix && <span style={small}>{value.prefix}</span>}
      <span>{value.text}</span>
      {value.suffix && <span style={small}>{value.suffix}</span>}
    </span>
  );
}

export function displayText(v: DisplayValue): string {
  return `${v.prefix ?? ''}${v.text}${v.suffix ?? ''}`;
}
