import type { LiveStore } from '../../live';
import type { Labelled, Me } from '../../types';

export interface FacilitiesViewProps {
  live: LiveStore;
  me: Me;
  nodeId: string;
  visible: boolean;
  onScreenItems: (items: Labelled[]) => void;
}

/** Being built. */
export function FacilitiesView(_props: FacilitiesViewProps) {
  return <div className="view-body" data-testid="facilities-view" />;
}
