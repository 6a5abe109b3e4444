// The dashboard's shared crosshair (graphTooltip 1) and shared tooltip (2): a tiny pub/sub of the time under
// the pointer, so every time series panel shows a cursor at the same instant as the one being hovered.
export interface CrosshairEvent {
  /** Epoch ms under the pointer, or null when the pointer left the panel. */
  time: number | null;
  /** Id of the panel that published (it ignores its own events). */
  source: string;
}

type Listener = (e: CrosshairEvent) => void;

export class CrosshairBus {
  private listeners = new Set<Listener>();

  subscribe(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }

  publish(e: CrosshairEvent): void {
    for (const fn of [...this.listeners]) fn(e);
  }

  get size(): number {
    return this.listeners.size;
  }
}

/** The one bus of the page (one dashboard is shown at a time). */
export const crosshair = new CrosshairBus();
