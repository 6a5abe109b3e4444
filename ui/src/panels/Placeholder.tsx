// What a panel of a type vigil does not draw shows: its type named, so the dashboard still renders.
import type { PanelProps } from './types';
import './panels.css';

export function Placeholder(props: PanelProps) {
  return (
    <div class="panel-unsupported" style={{ width: `${props.width}px`, height: `${props.height}px` }}>
      Panel type "{props.panel.type}" is not supported
    </div>
  );
}

export function NoData(props: { text?: string }) {
  return <div class="panel-nodata">{props.text ?? 'No data'}</div>;
}
