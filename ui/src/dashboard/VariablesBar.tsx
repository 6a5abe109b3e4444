// The variables bar: one picker per shown variable (a drop-down with search,
// checkboxes for multi-value and All; an input for textbox). Hidden variables
// (hide: 2) and constants are not shown; hide: 1 hides the label only.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ALL_VALUE } from '../_shims/variables';
import type { Variable, VariableOption } from './model';

interface VariablesBarProps {
  variables: Variable[];
  onChange: (name: string, values: string[]) => void;
}

export function VariablesBar({ variables, onChange }: VariablesBarProps) {
  const shown = variables.filter((v) => v.hide !== 2 && v.type !== 'constant');
  if (shown.length === 0) return <div class="variables-bar" />;
  return (
    <div class="variables-bar">
      {shown.map((v) => (
        <div class="variable" key={v.name} data-variable={v.name}>
          {v.hide !== 1 && (
            <label class="variable-label" for={`var-${v.name}`}>
              {v.label || v.name}
            </label>
          )}
          {v.type === 'textbox' ? (
            <TextboxVariable variable={v} onChange={(text) => onChange(v.name, [text])} />
          ) : v.type === 'adhoc' ? (
            <span class="variable-value muted">ad hoc filters</span>
          ) : (
            <VariablePicker variable={v} onChange={(values) => onChange(v.name, values)} />
          )}
        </div>
      ))}
    </div>
  );
}

function valuesOf(v: Variable): string[] {
  const value = v.current?.value;
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** The picker's button text: the selected texts joined with " + ", as Grafana shows them. */
export function selectionText(v: Variable): string {
  const text = v.current?.text;
  const values = valuesOf(v);
  if (values.includes(ALL_VALUE)) return 'All';
  const list = Array.isArray(text) ? text : text !== undefined ? [text] : values;
  const joined = list.map(String).join(' + ');
  return joined === '' ? 'None' : joined;
}

function TextboxVariable({ variable, onChange }: { variable: Variable; onChange: (text: string) => void }) {
  const current = valuesOf(variable)[0] ?? '';
  const [text, setText] = useState(current);
  useEffect(() => setText(current), [current]);
  const commit = () => {
    if (text !== current) onChange(text);
  };
  return (
    <input
      id={`var-${variable.name}`}
      class="input variable-input"
      value={text}
      onInput={(e) => setText(e.currentTarget.value)}
      onBlur={commit}
      onKeyDown={(e) => {
        if (e.key === 'Enter') commit();
      }}
    />
  );
}

/** Toggles `value` in a multi-value selection; All and the others exclude each other. */
export function toggleSelection(selected: string[], value: string, includeAll: boolean): string[] {
  if (value === ALL_VALUE) return [ALL_VALUE];
  const without = selected.filter((s) => s !== ALL_VALUE);
  const next = without.includes(value) ? without.filter((s) => s !== value) : [...without, value];
  if (next.length === 0 && includeAll) return [ALL_VALUE];
  return next;
}

function VariablePicker({
  variable,
  onChange,
}: {
  variable: Variable;
  onChange: (values: string[]) => void;
}) {
  const [open, setOpen] = useState(false);
  const [filter, setFilter] = useState('');
  const [selected, setSelected] = useState<string[]>([]);
  const ref = useRef<HTMLDivElement>(null);
  const multi = variable.multi === true;

  // A multi-value selection is applied when the drop-down closes, as in Grafana.
  const close = (apply: boolean) => {
    setOpen(false);
    if (apply && multi && selected.join('\u0000') !== valuesOf(variable).join('\u0000')) onChange(selected);
  };
  const closeRef = useRef(close);
  closeRef.current = close;

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) closeRef.current(true);
    };
    document.addEventListener('mousedown', onDown);
    return () => document.removeEventListener('mousedown', onDown);
  }, [open]);

  const toggleOpen = () => {
    if (open) return close(true);
    setSelected(valuesOf(variable));
    setFilter('');
    setOpen(true);
  };

  const options: VariableOption[] = variable.options ?? [];
  const q = filter.trim().toLowerCase();
  const shown = options.filter((o) => q === '' || String(o.text).toLowerCase().includes(q));
  const pick = (value: string) => {
    if (multi) setSelected(toggleSelection(selected, value, variable.includeAll === true));
    else {
      setOpen(false);
      if (value !== valuesOf(variable)[0]) onChange([value]);
    }
  };

  return (
    <div class="variable-picker" ref={ref}>
      <button
        id={`var-${variable.name}`}
        type="button"
        class="variable-value"
        aria-haspopup="listbox"
        aria-expanded={open}
        onClick={toggleOpen}
      >
        <span class="variable-text">{selectionText(variable)}</span>
        <span class="caret" aria-hidden="true">
          ▾
        </span>
      </button>
      {open && (
        <div class="variable-dropdown">
          <input
            class="input"
            placeholder="Search"
            aria-label={`Search ${variable.name}`}
            autofocus
            value={filter}
            onInput={(e) => setFilter(e.currentTarget.value)}
            onKeyDown={(e) => {
              if (e.key === 'Escape') close(false);
              if (e.key === 'Enter') {
                if (!multi && shown[0]) pick(String(shown[0].value));
                else close(true);
              }
            }}
          />
          <div class="variable-options" role="listbox" aria-multiselectable={multi}>
            {shown.length === 0 && <div class="muted variable-none">No options found</div>}
            {shown.map((o) => {
              const value = String(o.value);
              const isSel = (multi ? selected : valuesOf(variable)).includes(value);
              return (
                <div key={value}>
                  <button
                    type="button"
                    role="option"
                    aria-selected={isSel}
                    class={`variable-option${isSel ? ' selected' : ''}`}
                    onClick={() => pick(value)}
                  >
                    {multi && <span class={`checkbox${isSel ? ' checked' : ''}`} aria-hidden="true" />}
                    {String(o.text)}
                  </button>
                </div>
              );
            })}
          </div>
        </div>
      )}
    </div>
  );
}
