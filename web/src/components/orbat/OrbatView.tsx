import type { LiveStore } from '../../live';
import type { Labelled, Me } from '../../types';

export interface OrbatViewProps {
  live: LiveStore;
  me: Me;
  nodeId: string;
  visible: boolean;
  onScreenItems: (items: Labelled[]) => void;
}

/** Being built. */
export function OrbatView(_props: OrbatViewProps) {
  return <div className="view-body" data-testid="orbat-view" />;
}
