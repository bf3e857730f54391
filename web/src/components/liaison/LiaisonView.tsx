import type { LiveStore } from '../../live';
import type { Labelled, Me } from '../../types';

export interface LiaisonViewProps {
  live: LiveStore;
  me: Me;
  nodeId: string;
  visible: boolean;
  onScreenItems: (items: Labelled[]) => void;
}

/** Being built. */
export function LiaisonView(_props: LiaisonViewProps) {
  return <div className="view-body" data-testid="liaison-view" />;
}
