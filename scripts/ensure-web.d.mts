/** Why the web UI needs building, or null when dist/web is up to date. */
export function staleReason(): string | null;
/** Build dist/web with Vite when it is missing or older than src/web. */
export function ensureWeb(options?: { force?: boolean; log?: (message: string) => void }): Promise<{ built: boolean }>;
