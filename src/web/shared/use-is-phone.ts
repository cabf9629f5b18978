import { useSyncExternalStore } from 'react';

// antd's md breakpoint: below 768px the side menu becomes a drawer and tables become cards.
const QUERY = '(max-width: 767.98px)';

function subscribe(onChange: () => void): () => void {
  const mq = window.matchMedia(QUERY);
  mq.addEventListener('change', onChange);
  return () => mq.removeEventListener('change', onChange);
}

export function useIsPhone(): boolean {
  return useSyncExternalStore(
    subscribe,
    () => window.matchMedia(QUERY).matches,
    () => false,
  );
}
