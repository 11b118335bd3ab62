// What the editor's server accepts, in one place (the README and /api/info show the same numbers).

export const LIMITS = Object.freeze({
  /** An uploaded label or instance map (PNG bytes). */
  maxUploadBytes: 8 * 1024 * 1024,
  /** A JSON request body: a 2048×1024 label and instance map as base64 uint16 take 11.2 MiB. */
  maxJsonBytes: 12 * 1024 * 1024,
  /** Largest map: the paper's 2048×1024. */
  maxWidth: 2048,
  maxHeight: 1024,
  /** Waiting synthesis requests beyond those the workers are running; more are refused with 503. */
  defaultQueue: 8,
  /** Seconds a request may take to arrive. */
  bodyTimeoutS: 30,
});

/**
 * Smallest side a run takes: twice G's size multiple, so that G's bottleneck keeps at least 2×2
 * pixels for its reflection padding (64 for the official local generator).
 */
export function minSide(multiple: number): number {
  return 2 * multiple;
}

/** An error that becomes an HTTP response: a status, a message the page shows, and headers. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}
