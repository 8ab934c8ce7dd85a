// Transient API failures (a 5xx while the API server restarts, 429 throttling, a reset connection)
// are retried a few times with backoff; everything else is reported at once.
export const isTransient = (error: unknown): boolean => {
  const e = error as { code?: unknown; cause?: { code?: unknown } };
  if (typeof e.code === 'number') return e.code >= 500 || e.code === 429;
  return e.code === 'ECONNRESET' || e.cause?.code === 'ECONNRESET';
};

export const withRetry = async <T>(
  fn: () => Promise<T>,
  options: { attempts?: number; baseDelayMs?: number } = {},
): Promise<T> => {
  const attempts = options.attempts ?? 4;
  const base = options.baseDelayMs ?? 200;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= attempts || !isTransient(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, base * 2 ** (attempt - 1)));
    }
  }
};
