/** The network store of a workspace: created once per push bus, attached while mounted. */
import { useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import type { LiveStore } from '../../live';
import { NetworkStore } from '../../network/store';

/** The store and whether this user may see the network (the node answered, not 403). */
export function useNetwork(live: LiveStore): { network: NetworkStore; networkAllowed: boolean } {
  const network = useMemo(() => new NetworkStore(), [live]);
  useEffect(() => network.attach(live), [network, live]);
  // Re-render the caller only when access changes, not on every push.
  const access = useSyncExternalStore(
    (l) => network.subscribe(l),
    () => network.access,
  );
  return { network, networkAllowed: access === 'allowed' };
}

/** Re-render with the store on every change. */
export function useNetworkVersion(store: NetworkStore): number {
  return useSyncExternalStore(
    (l) => store.subscribe(l),
    () => store.version,
  );
}

/** Date.now(), refreshed every ``ms`` (ages and durations count on between pushes). */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}
