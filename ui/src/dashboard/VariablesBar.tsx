// The variables bar: one picker per shown variable (a drop-down with search,
// checkboxes for multi-value and All; an input for textbox). Hidden variables
// (hide: 2) and constants are not shown; hide: 1 hides the label only.
import { useEffect, useRef, useState } from 'preact/hooks';
import { ALL_TEXT, ALL_VALUE, type VariableState, type VariableValue, variableText } from './variables';

interface VariablesBarProps {
  variables: readonly VariableState[];
  onChange: (name: string, value: VariableValue) => void;
}

export function VariablesBar({ variables, onChange }: VariablesBarProps) {
  const shown = variables.filter((v) => v.hide !== 2 && v.type !== 'constant');
  if (shown.length === 0) return <div class="variables-bar" />;
  return (
    <div class="variables-bar">
      {shown.map((v) => (
        <div class="variable" key={v.name} data-variable={v.name} data-testid="variable" data-name={v.name}>
          {v.hide !== 1 && (
            <label class="variable-label" for={`var-${v.name}`}>
              {v.label || v.name}
            </label>
          )}
          {v.type === 'textbox' ? (
            <TextboxVariable variable={v} onChange={(text) => onChange(v.name, text)} />
          ) : v.type === 'adhoc' ? (
            <span class="variable-value muted">ad hoc filters</span>
          ) : (
            <VariablePicker variable={v} onChange={(value) => onChange(v.name, value)} />
          )}
          {v.error && (
            <span class="variable-error" title={v.error} role="img" aria-label={`Error: ${v.error}`}>
              !
            </span>
          )}
        </div>
      ))}
    </div>
  );
}

/** A variable's value as a list. */
export function valuesOf(v: Pick<VariableState, 'value'>): string[] {
  return Array.isArray(v.value) ? v.value : [v.value];
}

function TextboxVariable({
  variable,
  onChange,
}: {
  variable: VariableState;
  onChange: (text: string) => void;
}) {
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

/** Toggles `value` in a multi-value selection: All and the other values exclude each other. */
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
  variable: VariableState;
  onChange: (value: VariableValue) => void;
}) {
  const [open, setOpen] = useState(false);
  const [filter, setFilter] = useState('');
  const [selected, setSelected] = useState<string[]>([]);
  const ref = useRef<HTMLDivElement>(null);
  const multi = variable.multi;

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

  const options = variable.includeAll
    ? [{ text: ALL_TEXT, value: ALL_VALUE }, ...variable.options]
    : variable.options;
  const q = filter.trim().toLowerCase();
  const shown = options.filter((o) => q === '' || o.text.toLowerCase().includes(q));
  const pick = (value: string) => {
    if (multi) setSelected(toggleSelection(selected, value, variable.includeAll));
    else {
      setOpen(false);
      if (value !== valuesOf(variable)[0]) onChange(value);
    }
  };
  const current = multi ? selected : valuesOf(variable);

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
        <span class="variable-text">{variableText(variable) || 'None'}</span>
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
                if (!multi && shown[0]) pick(shown[0].value);
                else close(true);
              }
            }}
          />
          <div class="variable-options" role="listbox" aria-multiselectable={multi}>
            {shown.length === 0 && <div class="muted variable-none">No options found</div>}
            {shown.map((o) => {
              const isSel = current.includes(o.value);
              return (
                <button
                  type="button"
                  role="option"
                  key={o.value}
                  aria-selected={isSel}
                  class={`variable-option${isSel ? ' selected' : ''}`}
                  onClick={() => pick(o.value)}
                >
                  {multi && <span class={`checkbox${isSel ? ' checked' : ''}`} aria-hidden="true" />}
                  {o.text}
                </button>
              );
            })}
          </div>
        </div>
      )}
    </div>
  );
}
