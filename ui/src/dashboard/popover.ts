// A drop-down's open state that closes on a click outside it (and on Escape when asked), shared by the
// dashboard's pickers, menus and link lists.
import type { RefObject } from 'preact';
import { type StateUpdater, useEffect, useRef, useState } from 'preact/hooks';

/** `[open, setOpen, ref]`: put `ref` on the element that holds the trigger and the drop-down. */
export function usePopover(
  closeOnEscape = false,
): [boolean, (value: StateUpdater<boolean>) => void, RefObject<HTMLDivElement>] {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    const esc = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    document.addEventListener('mousedown', close);
    if (closeOnEscape) document.addEventListener('keydown', esc);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', esc);
    };
  }, [open, closeOnEscape]);
  return [open, setOpen, ref];
}
